"""Unweighted monojet events: distributions, reproducibility, files (LHE, Parquet), bad input."""

from __future__ import annotations

import numpy as np
import pytest

from evtgen.errors import PhiphiError
from evtgen.monojet import generator as G
from evtgen.monojet import kernels as K
from evtgen.monojet.channel import PP2JS, PP2JPhiPhi

CPL = {"CG": 1e-6, "CS_uu": 2e-5}


def _chi2_compatible(h_unw, w_sum, w2_sum, n_unw):
    """Chi² of unweighted counts against the weighted prediction (both normalised to 1)."""
    p = w_sum / w_sum.sum()
    var_p = w2_sum / w_sum.sum() ** 2
    expected = n_unw * p
    var = expected + n_unw**2 * var_p
    ok = expected > 5
    chi2 = np.sum((h_unw[ok] - expected[ok]) ** 2 / var[ok])
    return chi2, int(ok.sum())


def test_unweighted_reproduce_weighted_distributions():
    """Jet p_T and m(φφ) of 20k unweighted events against 400k weighted points on the same grid.

    The weighted sample uses independent uniforms (numpy, other seed). A chi² per degree of
    freedom with p-value > 1e-3 is required (χ²_{0.999} ≈ ndf + 3.1√(2 ndf)).
    """
    ch = PP2JPhiPhi()
    setup, integ = ch._prepare(5.0, CPL, {})
    ev = ch.generate(20000, mass=5.0, couplings=CPL, seed=5)
    rand = np.random.default_rng(99).random((400_000, setup.ndim))
    wp = K.weighted_points(rand, integ.edges, setup.par, setup.pdf.arrays, setup.apar)
    w = wp[:, 0]
    # the weighted sample integrates to sigma
    assert w.mean() == pytest.approx(integ.sigma_pb, rel=5 * w.std() / w.mean() / np.sqrt(len(w)))
    for col, vals, edges in [
        (1, ev.j.pt.to_numpy(), np.array([150, 170, 200, 240, 300, 400, 550, 800, 1500.0])),
        (2, ev.m2_phiphi.to_numpy(), np.array([0, 1e4, 4e4, 1e5, 2.5e5, 5e5, 1e6, 3e6, 1e8])),
    ]:
        h = np.histogram(vals, edges)[0]
        ws = np.histogram(wp[:, col], edges, weights=w)[0]
        w2 = np.histogram(wp[:, col], edges, weights=w * w)[0]
        chi2, ndf = _chi2_compatible(h, ws, w2, len(vals))
        assert chi2 < ndf + 3.1 * np.sqrt(2 * ndf) + 3, (col, chi2, ndf)
    # the stored parton p_T and the jet four-vector agree; m(φφ) is stored consistently
    np.testing.assert_allclose(ev.j.pt.to_numpy(), ev.pt_parton.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose((ev.phi1 + ev.phi2).mass.to_numpy() ** 2, ev.m2_phiphi.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ev.phi1.mass.to_numpy(), 5.0, rtol=1e-6)
    assert np.all(ev.j.pt.to_numpy() > 150.0)


def test_momentum_conservation_and_shat():
    ev = PP2JS().generate(2000, mass=300.0, couplings={"CG": 1e-5}, seed=2)
    tot = ev.j + ev.S
    e = 6500.0 * (ev.x1.to_numpy() + ev.x2.to_numpy())
    pz = 6500.0 * (ev.x1.to_numpy() - ev.x2.to_numpy())
    np.testing.assert_allclose(tot.E.to_numpy(), e, rtol=1e-9)
    np.testing.assert_allclose(tot.pz.to_numpy(), pz, rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose(tot.mass.to_numpy() ** 2, ev.shat.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(ev.S.mass.to_numpy(), 300.0, rtol=1e-7)


def test_seed_reproducibility_independent_of_chunking():
    ch = PP2JPhiPhi()
    a = ch.generate(3000, mass=1.0, couplings=CPL, seed=7)
    b = ch.generate(3000, mass=1.0, couplings=CPL, seed=7, options={"trial_chunk": 4099})
    c = ch.generate(3000, mass=1.0, couplings=CPL, seed=8)
    np.testing.assert_array_equal(a.j.px.to_numpy(), b.j.px.to_numpy())
    np.testing.assert_array_equal(a.phi1.pz.to_numpy(), b.phi1.pz.to_numpy())
    np.testing.assert_array_equal(a.id1.to_numpy(), b.id1.to_numpy())
    assert not np.array_equal(a.j.px.to_numpy(), c.j.px.to_numpy())
    # the first events of a longer run are the same events
    d = ch.generate(1000, mass=1.0, couplings=CPL, seed=7)
    np.testing.assert_array_equal(d.j.px.to_numpy(), a.j.px.to_numpy()[:1000])


def test_all_partonic_channels_present():
    ev = PP2JPhiPhi().generate(20000, mass=1.0, couplings={"CG": 1e-6, "CS_uu": 1e-5, "CS_bb": 1e-5}, seed=3)
    pairs = set(zip(ev.id1.to_numpy().tolist(), ev.id2.to_numpy().tolist()))
    for p in [(21, 21), (2, 21), (21, 2), (-2, 21), (21, -2), (2, -2), (-2, 2), (5, 21), (21, -5), (1, 21)]:
        assert p in pairs, p


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(mass=6500.0), r"--mphi 6500 GeV: 2 m_phi = 13000 GeV is not below sqrt\(s\)"),
        (dict(mass=-1.0), "must not be negative"),
        (dict(mass=1.0, options={"ptj_min": -10.0}), "--ptj-min -10 GeV must be positive"),
        (dict(mass=1.0, options={"pdf": "NOT_A_SET"}), "unknown PDF set 'NOT_A_SET'"),
        (dict(mass=1.0, couplings={"CX": 1.0}), "unknown coupling 'CX'"),
        (dict(mass=1.0, couplings={"CG": 0.0}), "non-zero coupling"),
        (dict(mass=1.0, options={"scale": "weird"}), "--scale 'weird'"),
    ],
)
def test_bad_input_one_line_errors(kwargs, match):
    kw = dict(couplings=CPL, options={})
    kw.update(kwargs)
    with pytest.raises(PhiphiError, match=match) as exc:
        PP2JPhiPhi().rate(**kw)
    assert "\n" not in str(exc.value)


def test_config_is_data():
    cfg = G.config()
    assert cfg["collider"]["sqrt_s"] == 13000.0 and "arXiv:2102.10874" in cfg["collider"]["source"]


def test_lhe_round_trip(tmp_path):
    pylhe = pytest.importorskip("pylhe")
    from evtgen.lhe import read_lhe, write_lhe

    ch = PP2JPhiPhi()
    ev = ch.generate(300, mass=10.0, couplings=CPL, seed=1)
    rate = ch.rate(mass=10.0, couplings=CPL, options={})
    path = tmp_path / "ev.lhe"
    write_lhe(path, [ev], {"rate": rate.as_dict(), "seed": 1})
    init, events = read_lhe(path)
    assert len(events) == 300
    assert init.procInfo[0].xSection == pytest.approx(rate.sigma_pb, rel=1e-7)
    e0 = events[0]
    ins = [p for p in e0.particles if p.status == -1]
    outs = [p for p in e0.particles if p.status == 1]
    assert len(ins) == 2 and len(outs) == 3
    for comp in ("px", "py", "pz", "e"):
        assert sum(getattr(p, comp) for p in ins) == pytest.approx(sum(getattr(p, comp) for p in outs), abs=1e-6)
    assert outs[0].px == pytest.approx(float(ev.j.px[0]), rel=1e-9)
    lhe = pylhe.LHEFile.fromfile(str(path))
    assert isinstance(lhe.init, pylhe.LHEInit)
    assert len(list(lhe.events)) == len(events)  # exhausting pylhe's lazy reader closes the file
    assert not list(tmp_path.glob(".phiphi-tmp-*"))


def test_cli_rate_json_and_errors(capsys):
    import json

    from evtgen.cli import main

    assert main(["rate", "pp2js", "--ms", "125", "--coupling", "CG=1e-5", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("sigma_pb", "sigma_err_pb", "scale_up_pb", "scale_down_pb", "pdf", "alphas_mz", "scale"):
        assert k in d
    assert main(["rate", "pp2jphiphi", "--mphi", "7000", "--coupling", "CG=1e-6"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "7000" in err
