"""Belle II scans on Dask with the likelihood shipped from the client (issue 14), and the
linear algebra and form-factor shortcuts of the Belle II fits checked against direct
calculations.

One LocalCluster (2 worker processes, 1 thread each) serves the module.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from analyses import belle2_bknunu_2023 as A
from analyses import belle2_likelihood as L
from analyses import registry
from analyses.scanning import run_scan
from evtgen.model import model_point
from evtgen.parallel import dask_client

MASSES = [0.3, 1.1, 2.0]


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:  # LocalCluster: 2 processes x 1 thread
        yield c


def test_dask_scan_equals_in_process_recast_and_workers_build_nothing(client, tmp_path):
    rows = run_scan("belle2", {"mphi": MASSES}, output=tmp_path / "s.csv", cluster={"client": client}, progress=False)
    for row, m in zip(rows, MASSES):
        r = registry.recast("belle2", model_point(channel="b2kphiphi", mphi=m, seed=row["seed"]))
        # the workers fit with the client's own likelihood: the same numbers, bit for bit
        assert row["upper_limit_95"] == r.upper_limit_95
        assert row["expected_upper_limit_95"] == r.expected_upper_limit_95
        assert row["best_fit"] == r.best_fit
        assert row["interval_68_hi"] == r.interval_68[1]
    # they received it (no pyhf import, no workspace, no null fit there) and loaded no vector
    # (a lambda: pickled by value, the workers need not import this test module)
    loaded = client.run(lambda: [m for m in ("pyhf", "vector", "sympy") if m in __import__("sys").modules])
    assert all(v == [] for v in loaded.values()), loaded


def test_shipped_likelihood_has_no_pyhf_objects_and_gives_the_same_result():
    full = A._default_likelihood()
    light = pickle.loads(pickle.dumps(A.scan_shared([{}])["likelihood"]))
    assert light.model is None and light.spec is None and light.fast.model is None
    assert len(pickle.dumps(light)) < 1_000_000  # arrays only, 0.34 MB (with the pyhf model 3.4 MB)
    p = model_point(channel="b2kphiphi", mphi=0.8)
    a, b = A.recast(p, lik=full), A.recast(p, lik=light)
    assert (a.best_fit, a.upper_limit_95, a.interval_95) == (b.best_fit, b.upper_limit_95, b.interval_95)
    assert a.histograms.keys() == b.histograms.keys()
    for k in a.histograms:
        np.testing.assert_array_equal(a.histograms[k].view(), b.histograms[k].view())


def test_skyline_cholesky_and_solve_equal_numpy():
    # a symmetric positive definite matrix with the Belle II pattern: 6x6 blocks (gammas of
    # one bin) then dense rows; 1e-10 is rounding for entries of O(1) and n = 60
    rng = np.random.default_rng(3)
    n, nb = 60, 40
    m = rng.normal(size=(n, n))
    a = m @ m.T + n * np.eye(n)
    block = np.arange(nb) // 6
    a[:nb, :nb] *= block[:, None] == block[None, :]
    a = np.ascontiguousarray(a)
    b = rng.normal(size=n)
    fac, first, ok = L.cholesky_kernel(a, 0.0)
    assert ok and first[7] == 6 and first[nb] == 0
    np.testing.assert_allclose(fac, np.linalg.cholesky(a), rtol=0, atol=1e-10)
    np.testing.assert_allclose(L.cho_solve_kernel(fac, first, b), np.linalg.solve(a, b), rtol=1e-10, atol=0)
    shifted, _, ok = L.cholesky_kernel(a, 2.5)
    assert ok
    np.testing.assert_allclose(shifted, np.linalg.cholesky(a + 2.5 * np.eye(n)), rtol=0, atol=1e-10)
    assert not L.cholesky_kernel(-a, 0.0)[2]


@pytest.mark.parametrize("mphi", [0.0, 0.9, 2.3])
def test_formfactor_spread_equals_folding_every_draw(mphi):
    # the quadratic-form shortcut against folding each of the published draws one by one
    # (independent code path); they differ by rounding only (1e-12)
    from detector.belle2 import GL8, response
    from evtgen import channels, spectra

    ch = channels.get("b2kphiphi")
    cpl = ch.resolve_couplings(None)
    resp = response()
    nodes, weights = GL8
    e = resp.q2_edges
    half = 0.5 * (e[1:] - e[:-1])
    q2 = ((e[:-1] + e[1:])[:, None] * 0.5 + half[:, None] * nodes[None, :]).ravel()
    per_bin = (resp.n_ita[:, 1:].sum(axis=0) + resp.n_hta[:, 1:].sum(axis=0)) / resp.br_sm_bins

    def total(ff):
        f = spectra.dgamma_dq2_array(ch.kind, q2, ch.spectrum_par(mphi, cpl, ff)).reshape(len(half), -1)
        return float(per_bin @ ((f * weights).sum(axis=1) * half))

    draws, _ = A._ff_draw_tails("b2kphiphi")
    direct = np.std([total(ff) for ff in draws], ddof=1) / total(None)
    assert A.formfactor_rel_error("b2kphiphi", mphi) == pytest.approx(direct, rel=1e-12, abs=0)
