"""NA62 emulation (detector/na62.py): resolutions, m2_miss, vertex, regions, streams, errors."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

import evtgen
from detector import na62
from evtgen.errors import PhiphiError

M_PI0 = evtgen.constants.mass("pi0")


def _core_sigma(x: np.ndarray) -> tuple[float, float]:
    """Mean and sigma of the Gaussian core: iterate a +-2 sigma window, correct the truncation."""
    c = float(np.median(x))
    s = float(np.std(x[np.abs(x - c) < 0.005]))
    for _ in range(10):
        w = x[np.abs(x - c) < 2.0 * s]
        c, s = float(w.mean()), float(w.std()) / 0.87962566  # std of a N(0,1) truncated at +-2
    return c, s


def _no_smearing_card() -> dict:
    card = na62.load_card()
    for block, key in [
        ("gtk", "momentum_rel_sigma"),
        ("gtk", "angle_sigma"),
        ("gtk", "position_sigma"),
        ("straw", "momentum_rel_const"),
        ("straw", "momentum_rel_slope"),
        ("straw", "angle_sigma_ref"),
        ("straw", "position_sigma"),
    ]:
        card[block][key]["value"] = 0.0
    return card


@pytest.fixture(scope="module")
def kpi2():
    return evtgen.generate("k2pix", 100_000, mx=M_PI0, seed=11)


def test_m2miss_resolution_at_kpi2_peak(kpi2):
    r = na62.reconstruct(kpi2, seed=5)
    mean, sigma = _core_sigma(r["m2_miss"][r["selected"]])
    target = na62.load_card()["validation"]["m2_miss_sigma_kpi2"]["value"]
    # NA62 quotes sigma ~ 1e-3 GeV^2 (one significant figure): accept +-20%. The MC error on the
    # core sigma with ~2e4 selected events is ~0.5%, so this tests the card, not the statistics.
    assert abs(sigma - target) < 0.2 * target
    # smearing is unbiased to first order: the peak sits at m_pi0^2 within a tenth of sigma
    assert abs(mean - M_PI0**2) < 1e-4


def test_without_smearing_m2miss_is_true_q2_and_vertex_is_true():
    ev = evtgen.generate("k2pinunu", 20_000, seed=3)
    r = na62.reconstruct(ev, seed=1, card=_no_smearing_card())
    # with exact momenta and the true pi+ mass, (P_K - P_pi)^2 = q2 of the nu nubar pair
    np.testing.assert_allclose(r["m2_miss"], ak.to_numpy(ev.q2_true), atol=2e-9)
    # independent check with scikit-hep vector on the true four-vectors
    m2 = ak.to_numpy((ev.K - ev.pi).mass2)
    np.testing.assert_allclose(r["m2_miss"], m2, atol=2e-9)
    # closest approach of exact tracks = the true decay point (mm precision; float rounding)
    np.testing.assert_allclose(r["vtx_z_rec"], ak.to_numpy(ev.vtx_z), atol=1e-3)


def test_straw_momentum_resolution_follows_card():
    ev = evtgen.generate("k2pinunu", 100_000, seed=4)
    card = na62.load_card()
    r = na62.reconstruct(ev, seed=2)
    p = ak.to_numpy(np.sqrt(ev.pi.px**2 + ev.pi.py**2 + ev.pi.pz**2))
    rel = r["p_pi_rec"] / p - 1.0
    a, b = card["straw"]["momentum_rel_const"]["value"], card["straw"]["momentum_rel_slope"]["value"]
    for lo, hi in ((15, 20), (40, 50)):
        w = (p > lo) & (p < hi)
        expect = np.sqrt(a**2 + (b * p[w]) ** 2).mean()
        # a Gaussian of known width: the sample std of >5e3 draws is within 3% (>= 4 sigma)
        assert abs(rel[w].std() / expect - 1.0) < 0.03


def test_selection_and_regions_are_consistent(kpi2):
    ev = evtgen.generate("k2piphiphi", 50_000, mphi=0.02, seed=8)
    r = na62.reconstruct(ev, seed=9)
    sel, reg, m2, p = r["selected"], r["region"], r["m2_miss"], r["p_pi_rec"]
    assert np.all((p[sel] > 15.0) & (p[sel] < 35.0))
    assert np.all((r["vtx_z_rec"][sel] > 115.0) & (r["vtx_z_rec"][sel] < 165.0))
    assert np.all(r["in_straw"][sel])
    assert np.all((m2[reg == 1] > 0.0) & (m2[reg == 1] <= 0.010))
    assert np.all((m2[reg == 2] > 0.026) & (m2[reg == 2] <= 0.068))
    assert np.all(reg[~sel] == 0)
    assert (reg == 1).sum() > 0 and (reg == 2).sum() > 0
    # K+ -> pi+ pi0 is masked: (almost) nothing in the signal regions (tails ~ 6 sigma away)
    rk = na62.reconstruct(kpi2, seed=5)["region"]
    assert np.count_nonzero(rk) < 1e-3 * len(rk)


def test_band_codes_at_boundaries():
    par, _ = na62.parameters()
    cases = {
        -0.001: -1,
        0.0: -1,
        0.005: 1,
        0.010: 1,
        0.012: 3,
        0.018: 4,
        0.024: 5,
        0.026: 5,
        0.03: 2,
        0.068: 2,
        0.07: 6,
    }
    for m2, code in cases.items():
        assert na62.m2_band(m2, par) == code, m2


def test_wider_momentum_window_increases_acceptance():
    ev = evtgen.generate("k2pinunu", 50_000, seed=12)
    a35 = np.count_nonzero(na62.reconstruct(ev, seed=1)["region"])
    a45 = np.count_nonzero(na62.reconstruct(ev, seed=1, p_pi_window=(15.0, 45.0))["region"])
    assert a45 > a35


def test_streams_are_reproducible_and_chunk_independent():
    ev = evtgen.generate("k2pinunu", 4000, seed=21)
    a = na62.reconstruct(ev, seed=7)
    b = na62.reconstruct(ev, seed=7)
    c = na62.reconstruct(ev, seed=8)
    part = na62.reconstruct(ev[1000:3000], seed=7, first=1000)
    np.testing.assert_array_equal(a["m2_miss"], b["m2_miss"])
    assert not np.array_equal(a["m2_miss"], c["m2_miss"])
    np.testing.assert_array_equal(a["m2_miss"][1000:3000], part["m2_miss"])
    # the detector key differs from the generator key of the same seed
    assert not np.array_equal(na62.detector_key(7), evtgen.rng.derive_key(7))


def test_simulate_adds_fields_and_file_roundtrip(tmp_path):
    import detector
    from evtgen.io import read_events, read_metadata, write_events

    ev = evtgen.generate("k2piphiphi", 2000, mphi=0.05, seed=1)
    out = na62.simulate(ev, seed=3)
    for f in ("m2_miss", "p_pi_rec", "region", "vtx_z_rec", "selected"):
        assert f in out.fields
    src = tmp_path / "ev.parquet"
    write_events(src, ev, {"channel": "k2piphiphi"})
    dst = detector.simulate_file(src, "na62", tmp_path / "sim.parquet", seed=3)
    back = read_events(dst)
    np.testing.assert_allclose(ak.to_numpy(back.m2_miss), ak.to_numpy(out.m2_miss))
    assert "na62_card.yaml" in read_metadata(dst)["detector_card"]


def test_bad_inputs_give_one_line_errors():
    ev = evtgen.generate("k2pinunu", 100, seed=1)
    with pytest.raises(PhiphiError, match="vtx_x"):
        na62.simulate(ev[["K", "pi", "q2_true"]], seed=0)
    with pytest.raises(PhiphiError, match="'pi'"):
        na62.simulate(ev[["K", "vtx_x", "vtx_y", "vtx_z"]], seed=0)
    cols = {k: np.array(v, copy=True) for k, v in evtgen.events.to_columns(ev).items()}
    cols["pi_px"][3] = np.nan
    with pytest.raises(PhiphiError, match="NaN"):
        na62.simulate(evtgen.events.to_awkward(cols), seed=0)
    with pytest.raises(PhiphiError, match="window"):
        na62.reconstruct(ev, seed=0, p_pi_window=(35.0, 15.0))
    rest = evtgen.generate("k2pinunu", 100, seed=1, frame="rest")
    with pytest.raises(PhiphiError) as exc:
        na62.simulate(rest, seed=0)
    assert "\n" not in str(exc.value)
