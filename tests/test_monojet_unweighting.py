"""Cell-wise unweighting with exact overweights: a trial with w above its cell maximum gives
floor(w/max) or floor(w/max) + 1 events (mean w/max), so the events stay distributed as w for any
cell maxima, and a chunked run resumes inside such a trial (``next_trial``, ``next_copy``)."""

from __future__ import annotations

import numpy as np
import pytest

from evtgen.monojet import generator as G
from evtgen.monojet import kernels as K

CPL = {"CG": 1e-5, "CS_uu": 1e-3}
# small scans (speed): the cell maxima are then poor, which is what these tests want
OPTS = {"vegas_points": 20000, "vegas_warmup_points": 20000, "vegas_wmax_points": 300_000}


def _point(safety: float):
    setup = G.make_setup("S", 250.0, CPL, OPTS)
    integ = G.integrate_vegas(setup, seed=4, options=OPTS)
    return setup, G.add_unweighting(setup, integ, seed=4, options={**OPTS, "cell_max_safety": safety})


def test_event_count_per_trial_is_sigma_even_with_many_overweights():
    """Trials pick cell c with probability cmax_c / sum(cmax) and give w/cmax_c events on average,
    so (events / trials) * sum(cmax) / n_cells estimates sigma without bias whatever the maxima.
    With maxima halved a large share of the weight is above them: keeping one event per overweight
    trial (the old treatment) would be low by that share (checked: 38% here), far outside the
    tolerance, which is 5 standard deviations of the binomial-like count plus the VEGAS error."""
    setup, integ = _point(0.5)
    n = 60000
    cols, st = G.generate(setup, integ, n, np.array([3, 9], dtype=np.uint64))
    assert st["overweight_fraction"] > 0.05  # the test is about overweights: there must be many
    scale = integ.cell_max.sum() / integ.cell_max.size
    sigma_est = n / st["n_trials"] * scale
    rel = 5 / np.sqrt(n) + 5 * integ.sigma_err_pb / integ.sigma_pb
    assert sigma_est == pytest.approx(integ.sigma_pb, rel=rel, abs=0)


def test_overweight_events_follow_the_weighted_spectrum():
    """p_T spectrum of unweighted events with halved maxima (many overweights) against a weighted
    sample on independent uniforms (chi2 with p > 1e-3, as in test_monojet_events)."""
    setup, integ = _point(0.5)
    cols, st = G.generate(setup, integ, 30000, np.array([5, 1], dtype=np.uint64))
    pt = cols["cols"][K.C_PT]
    rand = np.random.default_rng(7).random((300_000, setup.ndim))
    wp = K.weighted_points(rand, integ.edges, setup.par, setup.pdf.arrays, setup.apar)
    edges = np.array([150, 165, 185, 210, 250, 300, 380, 500, 700, 1000, 5000.0])
    h = np.histogram(pt, edges)[0]
    ws = np.histogram(wp[:, 1], edges, weights=wp[:, 0])[0]
    w2 = np.histogram(wp[:, 1], edges, weights=wp[:, 0] ** 2)[0]
    p = ws / ws.sum()
    var = len(pt) * p + len(pt) ** 2 * w2 / ws.sum() ** 2
    ok = len(pt) * p > 5
    chi2 = float(np.sum((h[ok] - len(pt) * p[ok]) ** 2 / var[ok]))
    ndf = int(ok.sum())
    assert chi2 < ndf + 3.1 * np.sqrt(2 * ndf) + 3, (chi2, ndf)


def test_resume_inside_an_overweight_trial():
    setup, integ = _point(0.3)
    key = np.array([2, 8], dtype=np.uint64)
    full, st = G.generate(setup, integ, 600, key)
    # a split point that falls between two events of the same (overweight) trial
    for n1 in range(1, 600):
        a, sa = G.generate(setup, integ, n1, key)
        if sa["next_copy"] > 0:
            break
    else:
        pytest.fail("no overweight trial with several events in the first 600 events")
    b, sb = G.generate(setup, integ, 600 - n1, key, first_trial=sa["next_trial"], first_copy=sa["next_copy"])
    used = [r for r in range(K.NCOL) if not K.C_PHI1 <= r < K.C_PHI2 + 4]  # the phi rows are not filled for S
    np.testing.assert_array_equal(np.concatenate([a["cols"], b["cols"]], axis=1)[used], full["cols"][used])
    np.testing.assert_array_equal(np.concatenate([a["ids"], b["ids"]], axis=1), full["ids"])
    assert (sb["last_trial"], sb["last_copy"]) == (st["last_trial"], st["last_copy"])
    # the two events of the split trial share the point but not the azimuth
    i = n1 - 1
    assert full["cols"][K.C_SHAT, i] == full["cols"][K.C_SHAT, i + 1]
    assert full["cols"][K.C_J, i] != full["cols"][K.C_J, i + 1]


def test_trial_chunk_fallback_path_gives_the_same_overweight_events(monkeypatch):
    """The two-pass fallback (a block buffer overflowing) makes the same events, copies included."""
    setup, integ = _point(0.3)
    key = np.array([4, 4], dtype=np.uint64)
    ref, _ = G.generate(setup, integ, 3000, key)
    real = K.accept_and_build

    def tiny_cap(*args):
        return real(*args[:-4], *K.block_buffers(1))  # capacity 1 per block: every chunk overflows

    monkeypatch.setattr(K, "accept_and_build", tiny_cap)
    alt, _ = G.generate(setup, integ, 3000, key)
    np.testing.assert_array_equal(alt["ids"], ref["ids"])
    used = [r for r in range(K.NCOL) if not K.C_PHI1 <= r < K.C_PHI2 + 4]
    np.testing.assert_array_equal(alt["cols"][used], ref["cols"][used])
