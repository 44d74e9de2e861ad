"""Belle II emulation (detector.belle2): SM template, maps, q2_rec, per-event bin draws."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
from scipy.integrate import quad

import evtgen
from detector import belle2
from evtgen import constants as C
from evtgen.errors import PhiphiError
from evtgen.frames import belle2_beams


@pytest.fixture(scope="module")
def resp():
    return belle2.response()


def test_sm_template_integral(resp):
    # Belle II's template integrates to 4.966e-6 (quoted to 4 digits: +-0.0005e-6 = 1e-4 relative)
    assert resp.br_sm_bins.sum() == pytest.approx(4.966e-6, rel=1.0e-4)
    # the per-bin Gauss-Legendre sums agree with adaptive quadrature (independent integrator)
    total, _ = quad(belle2.sm_template_dbr_dq2, 0.0, 22.885, limit=200, epsabs=0, epsrel=1e-10)
    assert resp.br_sm_bins.sum() == pytest.approx(total, rel=1e-8)
    j = 40
    part, _ = quad(belle2.sm_template_dbr_dq2, resp.q2_edges[j], resp.q2_edges[j + 1], epsabs=0, epsrel=1e-12)
    assert resp.br_sm_bins[j] == pytest.approx(part, rel=1e-10)


def test_maps_match_workspace_and_efficiency(resp):
    from analyses.belle2_bknunu_2023 import load_workspace

    spec = load_workspace()
    sig = {
        c["name"][:3]: next(s["data"] for s in c["samples"] if s["name"] in ("signal", "sgn_1_had"))
        for c in spec["channels"]
        if c["name"][:3] in ("A__", "B__", "sgn")
    }
    # row sums are the workspace's nominal signal yields, bin for bin (the released files agree
    # to 1e-6 for ITA and 2.3e-5 for HTA: rounding of the published numbers)
    np.testing.assert_allclose(resp.n_ita.sum(axis=1), np.concatenate([sig["A__"], sig["B__"]]), rtol=1e-5)
    np.testing.assert_allclose(resp.n_hta.sum(axis=1), sig["sgn"], rtol=5e-5)
    # README: "about 8% for ITA and 0.4% for HTA in total" (SM-weighted); the quoted figures
    # have one significant digit, hence the +-0.5% / +-0.05% windows
    w = resp.br_sm_bins / resp.br_sm_bins.sum()
    assert 0.075 < (resp.eps_ita.sum(axis=0) * w).sum() < 0.085
    assert 0.0035 < (resp.eps_hta.sum(axis=0) * w).sum() < 0.0045
    assert np.all(resp.eps_ita.sum(axis=0) <= 1) and np.all(resp.eps_ita >= 0)


def test_fold_of_sm_template_gives_sm_yields(resp):
    ita, hta = resp.fold(resp.br_sm_bins)
    # the j = 0 column (no valid generated q2) is not reachable from a spectrum: excluded
    np.testing.assert_allclose(ita, resp.n_ita[:, 1:].sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(hta, resp.n_hta[:, 1:].sum(axis=1), rtol=1e-12)


def _boost_columns(cols, b):
    from evtgen.kinematics import boost

    out = {}
    for p in ("B", "K"):
        px, py, pz, e = (cols[f"{p}_{c}"] for c in ("px", "py", "pz", "E"))
        r = [boost(px[i], py[i], pz[i], e[i], b[0], b[1], b[2]) for i in range(len(px))]
        for c, v in zip(("px", "py", "pz", "E"), np.array(r).T):
            out[f"{p}_{c}"] = v
    return out


def test_q2_rec_equals_q2_true_for_b_at_rest_in_cm():
    # analytic limit: for a B at rest in the c.m. frame E*_K = E_K^B = (m_B^2 + m_K^2 - q2)/(2 m_B),
    # so q2_rec = s/4 + m_K^2 - sqrt(s) E_K^B exactly (it equals q2_true only if sqrt(s) = 2 m_B);
    # this checks the boost to the c.m. frame and the formula (rounding-level tolerance)
    ev = evtgen.generate("b2kphiphi", 2000, mphi=0.5, seed=3, frame="rest")
    cols = evtgen.events.to_columns(ev)
    beams = belle2_beams()
    lab = _boost_columns(cols, beams.beta_cm)
    out = belle2.emulate_columns(cols["q2_true"], lab["K_px"], lab["K_py"], lab["K_pz"], lab["K_E"], seed=1)
    mb, mk, s = C.mass("B+"), C.mass("K+"), beams.sqrt_s**2
    e_k = (mb * mb + mk * mk - cols["q2_true"]) / (2 * mb)
    np.testing.assert_allclose(out["q2_rec"], s / 4 + mk * mk - np.sqrt(s) * e_k, atol=1e-9)


def test_q2_rec_b_motion_smearing():
    # E*_K = gamma (E_K^B + beta p_K^B cos), gamma = E*_B / m_B, E*_B = sqrt(s)/2; the K direction
    # in the B frame is isotropic, so averaged over it <q2_rec - q2_true> = p*^2 (1 - 2 E_K^B/m_B)
    # with p*^2 = s/4 - m_B^2 (derived). Tolerance: 5 sigma of the MC mean (40k events)
    ev = evtgen.generate("b2kphiphi", 40_000, mphi=0.3, seed=5)
    sim = belle2.simulate(ev, seed=2)
    q2, q2r = ak.to_numpy(sim.q2_true), ak.to_numpy(sim.q2_rec)
    beams = belle2_beams()
    mb, mk = C.mass("B+"), C.mass("K+")
    pstar2 = beams.sqrt_s**2 / 4 - mb * mb
    expect = pstar2 * (1 - (mb * mb + mk * mk - q2) / (mb * mb))
    d = q2r - q2
    assert abs(d.mean() - expect.mean()) < 5 * d.std() / np.sqrt(len(d))
    assert 0.2 < d.std() < 1.0  # the B motion (p* ~ 0.33 GeV) smears q2_rec by O(0.5) GeV^2


def test_bin_draws_follow_the_map(resp):
    # B+ -> K+ X at m_X = 2 GeV: all events in one generated-q2 bin; the ITA and HTA bin
    # frequencies must follow eps[:, j] (binomial, 5 sigma per bin, 200k events)
    n = 200_000
    ev = evtgen.generate("b2kx", n, mx=2.0, seed=11)
    sim = belle2.simulate(ev, seed=4)
    j = resp.q2_bin(4.0)
    for field, eps in (("ita_bin", resp.eps_ita[:, j]), ("hta_bin", resp.eps_hta[:, j])):
        b = ak.to_numpy(sim[field])
        freq = np.bincount(b[b >= 0], minlength=len(eps)) / n
        sig = np.sqrt(eps * (1 - eps) / n)
        assert np.all(np.abs(freq - eps) < 5 * sig + 1e-12), field
    # ITA and HTA are drawn independently: the joint selection factorises (5 sigma)
    ita, hta = ak.to_numpy(sim.ita_bin) >= 0, ak.to_numpy(sim.hta_bin) >= 0
    p_joint = np.mean(ita & hta)
    p_prod = ita.mean() * hta.mean()
    assert abs(p_joint - p_prod) < 5 * np.sqrt(p_prod / n)


def test_reproducible_and_chunk_independent():
    ev = evtgen.generate("b2kphiphi", 5000, mphi=1.0, seed=7)
    a = belle2.simulate(ev, seed=9)
    b = belle2.simulate(ev, seed=9)
    c = belle2.simulate(ev, seed=10)
    assert np.array_equal(ak.to_numpy(a.ita_bin), ak.to_numpy(b.ita_bin))
    assert not np.array_equal(ak.to_numpy(a.ita_bin), ak.to_numpy(c.ita_bin))
    cols = evtgen.events.to_columns(ev)
    parts = [
        belle2.emulate_columns(*(cols[k][lo:hi] for k in ("q2_true", "K_px", "K_py", "K_pz", "K_E")), seed=9, first=lo)
        for lo, hi in ((0, 1234), (1234, 5000))
    ]
    assert np.array_equal(np.concatenate([p["ita_bin"] for p in parts]), ak.to_numpy(a.ita_bin))
    assert np.array_equal(np.concatenate([p["hta_bin"] for p in parts]), ak.to_numpy(a.hta_bin))


def test_bad_maps(tmp_path):
    good = np.loadtxt(belle2._data_path("belle2/number_density_hta.csv"), delimiter=",")
    p = tmp_path / "short.csv"
    np.savetxt(p, good[:5], delimiter=",")
    with pytest.raises(PhiphiError, match="shape 5x101, expected 6x101"):
        belle2.load_response(hta=p)
    bad = good.copy()
    bad[2, 7] = np.nan
    np.savetxt(p, bad, delimiter=",")
    with pytest.raises(PhiphiError, match="NaN"):
        belle2.load_response(hta=p)
    p.write_text("not,a,number\n")
    with pytest.raises(PhiphiError) as exc:
        belle2.load_response(hta=p)
    assert "\n" not in str(exc.value)
    big = good * 1e4  # selection probability > 1
    np.savetxt(p, big, delimiter=",")
    with pytest.raises(PhiphiError, match="> 1"):
        belle2.load_response(hta=p)


def test_bad_events():
    ev = evtgen.generate("b2kphiphi", 10, mphi=1.0, seed=1, frame="rest")
    with pytest.raises(PhiphiError, match="rest frame"):
        belle2.simulate(ev, seed=1)
    ev = evtgen.generate("b2kstarphiphi", 10, mphi=1.0, seed=1)
    with pytest.raises(PhiphiError, match="K\\*0"):
        belle2.simulate(ev, seed=1)


def test_cli_simulate(tmp_path, capsys):
    from evtgen.cli import main
    from evtgen.io import read_events, read_metadata

    gen = tmp_path / "ev.parquet"
    out = tmp_path / "sim.parquet"
    assert main(["generate", "b2kphiphi", "-n", "3000", "--mphi", "1.0", "--seed", "1", "-o", str(gen)]) == 0
    assert main(["simulate", str(gen), "--detector", "belle2", "--seed", "2", "-o", str(out)]) == 0
    sim = read_events(out)
    assert {"q2_rec", "ita_bin", "hta_bin"} <= set(sim.fields)
    assert set(np.unique(ak.to_numpy(sim.ita_bin))) <= set(range(-1, 12))
    assert read_metadata(out)["detector"] == "belle2"
    assert json.dumps(read_metadata(out))
