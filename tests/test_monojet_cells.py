"""The unweighting cells and the event columns of the monojet generator.

* the packed cell table proposes cell c with probability cmax_c / Σ cmax (Walker's alias method),
  and its rows carry the maximum of the cell a trial ends up in;
* the stratified scan puts the same number of points in every cell, and its efficiency estimate
  Σ mean_c / Σ max_c is the events-per-trial rate of the generation;
* the four-vectors of the branch-free column step: S* → φφ isotropic in the S* rest frame with the
  two-body momentum, four-momentum conserved against the beams (checked with ``vector``, an
  independent implementation of the boosts).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evtgen.monojet import generator as G
from evtgen.monojet import kernels as K
from evtgen.monojet.channel import PP2JPhiPhi

OPTS = {"vegas_points": 20000, "vegas_warmup_points": 20000, "vegas_wmax_points": 300_000}


def test_cell_table_proposal_is_proportional_to_the_cell_maxima():
    rng = np.random.default_rng(3)
    cmax = rng.exponential(1.0, 4096) ** 3
    cmax[rng.random(cmax.size) < 0.1] = 0.0  # empty cells are never proposed
    t = np.empty((cmax.size, 4))
    K.cell_table(cmax, t)
    prob, alias = t[:, K.T_PROB], t[:, K.T_ALIAS].astype(np.int64)
    assert np.array_equal(alias, t[:, K.T_ALIAS])  # the alias is an integer stored exactly
    np.testing.assert_array_equal(t[:, K.T_MAX], cmax)
    np.testing.assert_array_equal(t[:, K.T_MAX_ALIAS], cmax[alias])
    # column c (probability 1/n) keeps c with probability prob[c], else goes to alias[c]
    p = (prob + np.bincount(alias, weights=1.0 - prob, minlength=cmax.size)) / cmax.size
    # rounding of the alias construction only (a large column's remainder is updated up to n times:
    # ~n ε = 1e-12 relative); 1e-9 is above that and far below any bias that would matter
    np.testing.assert_allclose(p, cmax / cmax.sum(), rtol=1e-9, atol=0)
    assert np.all(p[cmax == 0] == 0)


def test_stratified_scan_and_its_efficiency_estimate():
    opts = {**OPTS, "cell_scan": "stratified"}
    setup = G.make_setup("S", 250.0, {"CG": 1e-5, "CS_uu": 1e-3}, opts)
    integ = G.add_unweighting(setup, G.integrate_vegas(setup, seed=4, options=opts), seed=4, options=opts)
    nc = integ.n_cells_per_dim
    assert integ.cell_max.size == nc**3 and integ.cell_table.shape == (nc**3, 4)
    assert integ.cell_table.ctypes.data % 64 == 0  # one cache line per row
    per_cell = 300_000 // nc**3
    key = np.array([1, 2], dtype=np.uint64)
    g, par, apar = setup.pdf.arrays, setup.par, setup.apar
    cmax, csum, cnt = K.scan_cells(per_cell, key[0], key[1], integ.edges, integ.cell_bits, par, g, apar)
    assert np.all(cnt == per_cell)
    # the scan's cell means integrate to sigma (equal cell volumes): MC error of 300k points of
    # VEGAS-flattened weights (relative spread < 1) is < 0.2%; 1% is 5 of them plus the VEGAS error
    assert (csum / cnt).mean() == pytest.approx(integ.sigma_pb, rel=0.01, abs=0)
    # events per trial: binomial error of 40k events (~0.3%) and the scan means' error: 5 of each
    n = 40000
    cols, st = G.generate(setup, integ, n, np.array([7, 7], dtype=np.uint64))
    assert st["efficiency"] == pytest.approx(integ.unweighting_efficiency, rel=5 * (1 / np.sqrt(n) + 0.002), abs=0)


def test_phiphi_columns_decay_isotropic_and_four_momentum_conserved():
    mphi = 10.0
    ch = PP2JPhiPhi()
    ev = ch.generate(20000, mass=mphi, couplings={"CG": 1e-6, "CS_uu": 2e-5}, seed=21)
    s = ev.phi1 + ev.phi2
    star = ev.phi1.boostCM_of_p4(s)  # φ1 in the S* rest frame (vector's own boost)
    q2 = ev.m2_phiphi.to_numpy()
    pst = 0.5 * np.sqrt(q2 - 4 * mphi**2)
    np.testing.assert_allclose(star.p.to_numpy(), pst, rtol=1e-7, atol=0)
    # isotropic: cos of the polar angle (to the S direction and to z) and the azimuth uniform
    cos_s = (star.to_Vector3D().dot(s.to_Vector3D()) / (star.p * s.p)).to_numpy()
    for u in (0.5 * (cos_s + 1), 0.5 * (star.costheta.to_numpy() + 1), (star.phi.to_numpy() / np.pi + 1) / 2):
        assert stats.kstest(u, "uniform").pvalue > 1e-3
    # beams: E = 6500 (x1 + x2), p_z = 6500 (x1 - x2), no transverse momentum; massless jet
    tot = ev.j + s
    x1, x2 = ev.x1.to_numpy(), ev.x2.to_numpy()
    e = tot.E.to_numpy()
    np.testing.assert_allclose(e, 6500.0 * (x1 + x2), rtol=1e-10, atol=0)
    np.testing.assert_allclose(tot.pz.to_numpy(), 6500.0 * (x1 - x2), rtol=0, atol=1e-9 * e.max())
    np.testing.assert_allclose(tot.px.to_numpy(), 0.0, rtol=0, atol=1e-9 * e.max())
    np.testing.assert_allclose(ev.j.E.to_numpy(), ev.j.p.to_numpy(), rtol=1e-9, atol=0)
    np.testing.assert_allclose(tot.mass.to_numpy() ** 2, ev.shat.to_numpy(), rtol=1e-7, atol=0)


@pytest.mark.parametrize(
    ("opts", "where", "value"),
    [
        ({"cell_scan": "grid"}, "given as options['cell_scan']", "'grid'"),
        ({"cells_per_dim": 12}, "given as options['cells_per_dim']", "12"),
        ({"cells_per_dim": "16"}, "given as options['cells_per_dim']", "'16'"),
    ],
)
def test_bad_cell_option_error_names_the_option_not_the_yaml(opts, where, value):
    """A bad cell_scan / cells_per_dim from the channel's options= gets one line naming the option
    (it used to say "in monojet.yaml" whatever the source)."""
    from evtgen.errors import PhiphiError

    with pytest.raises(PhiphiError) as err:
        PP2JPhiPhi().generate(10, mass=10.0, couplings={"CG": 1e-6}, seed=1, options={**OPTS, **opts})
    msg = str(err.value)
    assert "\n" not in msg and where in msg and value in msg and "monojet.yaml" not in msg


def test_bad_cell_setting_from_the_yaml_says_monojet_yaml(monkeypatch):
    """The same check on a value of the YAML file names the file."""
    from evtgen.errors import PhiphiError

    cfg = G.config()
    bad = {**cfg, "integration": {**cfg["integration"], "cell_scan": "grid"}}
    monkeypatch.setattr(G, "config", lambda: bad)
    setup = G.make_setup("S", 250.0, {"CG": 1e-5}, OPTS)
    integ = G.integrate_vegas(setup, seed=4, options=OPTS)
    with pytest.raises(PhiphiError, match=r"cell_scan 'grid' in evtgen/data/monojet.yaml is not one of"):
        G.add_unweighting(setup, integ, seed=4, options=OPTS)
