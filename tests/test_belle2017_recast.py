"""Belle 2017 B -> h nu nubar recast (analyses/belle_bhnunu_2017.py, registered as "belle2017")."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from particle import Particle
from scipy import integrate
from scipy import stats as sps

import evtgen
from analyses import belle_bhnunu_2017 as b17
from analyses import registry
from evtgen import constants as C
from evtgen.errors import PhiphiError
from evtgen.model import model_point

#: the published 90% CL limits as transcribed (arXiv:1702.03224 Tables I, II via flavio; combined K*
#: via the warpedflavor catalogue): a change of the data file must be deliberate
PUBLISHED = {"kstar0": 1.8e-5, "kstarplus": 6.1e-5, "kstar": 2.7e-5, "kplus": 1.9e-5, "kzero": 2.6e-5}
Z90, Z95, Z975 = sps.norm.ppf(0.90), sps.norm.ppf(0.95), sps.norm.ppf(0.975)


@pytest.fixture(scope="module")
def data():
    return registry.get("belle2017").data()


def _point(channel="b2kstarphiphi", mphi=1.0, c=1e-8):
    return model_point(channel=channel, mphi=mphi, couplings={b17.PARAMETERS[channel]: c})


def _independent_bkstar_phiphi_br(mphi: float, cp: float) -> float:
    """BR(B0 -> K*0 phi phi) from L > 1/2 C_P (sbar i gamma5 b) phi^2, coded here: <K*|sbar g5 b|B>
    = 2 m_K* (eps*.q) A0/(m_b + m_s), sum |eps*.q|^2 = lambda/(4 m_K*^2), identical phi's (1/2):
    dGamma/dq2 = C^2 lambda^3/2 beta A0^2 / (512 pi^3 M^3 (m_b + m_s)^2); A0 from the BSZ 2015 JSON."""
    M, m = Particle.from_pdgid(511).mass / 1e3, Particle.from_pdgid(313).mass / 1e3
    blk = C.load_yaml("constants.yaml")
    a = C.load_json(blk["bkstar_formfactors"]["file"])["central"]["A0"]
    pole = float(blk["bkstar_formfactors"]["pole_A0"]["value"])
    mq = C.value("quark_masses", "m_b") + C.value("quark_masses", "m_s")
    tp, tm = (M + m) ** 2, (M - m) ** 2
    t0 = tp * (1 - math.sqrt(1 - tm / tp))

    def z(t):
        return (math.sqrt(tp - t) - math.sqrt(tp - t0)) / (math.sqrt(tp - t) + math.sqrt(tp - t0))

    def a0(q2):
        dz = z(q2) - z(0.0)
        return (a["a0"] + a["a1"] * dz + a["a2"] * dz * dz) / (1 - q2 / pole**2)

    def dgdq2(q2):
        lam = M**4 + m**4 + q2**2 - 2 * (M * M * m * m + M * M * q2 + m * m * q2)
        beta = math.sqrt(max(1 - 4 * mphi * mphi / q2, 0.0))
        return cp**2 * max(lam, 0.0) ** 1.5 * beta * a0(q2) ** 2 / (512 * math.pi**3 * M**3 * mq**2)

    width, _ = integrate.quad(dgdq2, 4 * mphi * mphi, (M - m) ** 2, epsabs=0, epsrel=1e-10, limit=200)
    tau_s = Particle.from_pdgid(511).lifetime * 1e-9
    return width * tau_s / 6.582119569e-25


@pytest.mark.parametrize("mphi", [0.3, 1.0, 1.8])
def test_total_kstar_rate_against_an_independent_integral(mphi):
    """The K* limits are on the total B -> K* rate: kstar_total_br must be the total B0 -> K*0 phi phi
    BR. Fails if evtgen starts including BR(K*0 -> K+ pi-) without KSTAR_KPI_FRACTION_IN_EVTGEN_RATE
    being updated (or vice versa). 1e-6: evtgen's Gauss-Legendre panels against quad at 1e-10."""
    assert b17.KSTAR_KPI_FRACTION_IN_EVTGEN_RATE == 1.0
    rate = evtgen.rate("b2kstarphiphi", mphi=mphi, couplings={"CP_sb": 1e-8})
    assert rate.visible_fraction == pytest.approx(2.0 / 3.0, rel=1e-12, abs=0)  # stated, not applied to br
    ours = b17.kstar_total_br(mphi, 1e-8)
    assert ours == pytest.approx(_independent_bkstar_phiphi_br(mphi, 1e-8), rel=1e-6, abs=0)


@pytest.mark.parametrize("mode", list(PUBLISHED))
def test_each_mode_reproduces_its_published_90cl_limit(data, mode):
    """Published-limit check: the likelihood's one-sided 90% CL crossing, -2lnL = Phi^-1(0.9)^2, lies
    at BR = the published limit, and the 95% limit is the half-Gaussian's z95/z90 of it."""
    channel = data["limits_90"]["modes"][mode]["channel"]
    assert data["limits_90"]["modes"][mode]["upper_limit"] == PUBLISHED[mode]
    r = registry.recast("belle2017", _point(channel), mode=mode)
    lik = r.likelihood
    mu90 = math.sqrt(Z90**2) * lik.sigma / lik.reference
    assert lik.twice_nll(mu90) == pytest.approx(Z90**2, rel=1e-12, abs=0)
    assert mu90 * lik.reference == pytest.approx(PUBLISHED[mode], rel=1e-12, abs=0)
    # the coupling limit in closed form: C95 = C_ref sqrt(UL90 z95/z90 / BR_ref); 1e-5 = engine root tolerance
    br = r.extras["br_at_reference"]
    assert r.upper_limit_95 == pytest.approx(1e-8 * math.sqrt(PUBLISHED[mode] * Z95 / Z90 / br), rel=1e-5, abs=0)
    assert r.extras["upper_limit_90"] == pytest.approx(1e-8 * math.sqrt(PUBLISHED[mode] / br), rel=1e-12, abs=0)
    assert r.parameter == b17.PARAMETERS[channel] and r.analysis == "belle2017"
    assert "GaussianLimit" in r.likelihood_form and "flat efficiency" in r.likelihood_form
    assert r.provenance["limit"]["status"] == "transcribed"
    cls = registry.recast("belle2017", _point(channel), mode=mode, method="cls")
    assert cls.upper_limit_95 == pytest.approx(1e-8 * math.sqrt(PUBLISHED[mode] * Z975 / Z90 / br), rel=1e-5, abs=0)


def test_isospin_modes_use_the_pdg_lifetime_ratio():
    """B+ -> K*+ and B0 -> K0 phi phi: the partner width by isospin, times the lifetime ratio (particle)."""
    ratio = Particle.from_pdgid(521).lifetime / Particle.from_pdgid(511).lifetime
    assert b17.lifetime_ratio_bplus_b0() == pytest.approx(ratio, rel=1e-12, abs=0)
    k0 = registry.recast("belle2017", _point(), mode="kstar0").extras["br_at_reference"]
    kp = registry.recast("belle2017", _point(), mode="kstarplus")
    assert kp.extras["br_at_reference"] == pytest.approx(k0 * ratio, rel=1e-12, abs=0)
    assert kp.provenance["lifetime_ratio_bplus_b0"]["status"] == "derived"
    kplus = evtgen.rate("b2kphiphi", mphi=1.0, couplings={"CS_sb": 1e-8}).br
    kz = registry.recast("belle2017", _point("b2kphiphi"), mode="kzero").extras["br_at_reference"]
    assert kz == pytest.approx(kplus / ratio, rel=1e-12, abs=0)


def test_defaults_and_the_efficiency_assumption():
    r = registry.recast("belle2017", _point())
    assert r.extras["mode"] == "kstar0" and r.extras["efficiency_ratio"] == 1.0
    assert registry.recast("belle2017", _point("b2kphiphi")).extras["mode"] == "kplus"
    assert "assumed" in r.provenance["efficiency"]
    # the coupling limit goes as efficiency_ratio^-1/2 (exact for the half-Gaussian; engine tolerance)
    q = registry.recast("belle2017", _point(), efficiency_ratio=0.25)
    assert q.upper_limit_95 == pytest.approx(2.0 * r.upper_limit_95, rel=1e-5, abs=0)
    # the result does not depend on the reference coupling
    s = registry.recast("belle2017", _point(c=3e-7))
    assert s.upper_limit_95 == pytest.approx(r.upper_limit_95, rel=1e-5, abs=0)
    json.dumps(r.as_dict())


def test_spectrum_comparison_is_normalised_and_bounded():
    sp = b17.spectrum_comparison("b2kstarphiphi", 1.0, s_cuts=(0.2, 1.0))
    assert sp["q2_range_phiphi_GeV2"][0] == pytest.approx(4.0, rel=1e-12, abs=0)
    # everything lies below s_B = 1 (q2_max = (M - m)^2 < M^2); 1e-6: trapezoid on 4001 points
    last = sp["below_cut"][-1]
    assert last["fraction_phiphi"] == pytest.approx(1.0, abs=1e-6) and last["fraction_sm"] == pytest.approx(
        1.0, abs=1e-6
    )
    # the phi phi spectrum starts at s_B = 4/m_B^2 = 0.14: less of it below 0.2 than of the SM one
    first = sp["below_cut"][0]
    assert 0 < first["fraction_phiphi"] < first["fraction_sm"] < 1
    assert first["coupling_limit_factor_if_no_efficiency_above"] > 1
    # above the cut's threshold there is no phi phi spectrum below it at all
    high = b17.spectrum_comparison("b2kstarphiphi", 1.5, s_cuts=(0.2,))
    assert high["below_cut"][0]["fraction_phiphi"] == 0.0
    assert high["below_cut"][0]["coupling_limit_factor_if_no_efficiency_above"] is None


def test_sm_kstar_nunu_shape_vanishes_at_the_endpoint():
    """At q2_max lambda = 0: only H0 ~ A12/sqrt(q2) times sqrt(lambda) -> 0; positive inside."""
    M, m = C.mass("B0"), C.mass("K*0")
    q2 = np.array([0.5, 10.0, (M - m) ** 2])
    s = b17.sm_kstar_nunu_shape(q2)
    assert s[0] > 0 and s[1] > 0 and s[2] == pytest.approx(0.0, abs=1e-12 * s[1])


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"mode": "kplus"}, "constrains b2kphiphi"),
        ({"mode": "k"}, "mode = 'k'"),
        ({"efficiency_ratio": 0.0}, "efficiency_ratio"),
        ({"method": "bayes"}, "bayes"),
    ],
)
def test_bad_options_give_one_line_errors(kwargs, text):
    with pytest.raises(PhiphiError, match=text) as exc:
        registry.recast("belle2017", _point(), **kwargs)
    assert "\n" not in str(exc.value)


def test_bad_points():
    with pytest.raises(PhiphiError, match="CP_sb = 0"):
        b17.recast(_point(c=0.0), data=registry.get("belle2017").data())
    with pytest.raises(PhiphiError, match="kinematic limit"):
        registry.recast("belle2017", _point(mphi=2.3))
    with pytest.raises(PhiphiError, match="k2piphiphi"):
        registry.recast("belle2017", model_point(channel="k2piphiphi", mphi=0.1))


def test_header_parameters_match_the_module(data):
    assert data["analysis"]["channels"] == b17.PARAMETERS
    assert set(data["analysis"]["options"]["mode"]["choices"]) == set(data["limits_90"]["modes"])


def test_limits_vs_mass_and_plots(tmp_path):
    cur = b17.limits_vs_mass("belle2017", "b2kstarphiphi", modes=["kstar0"], masses=[0.2, 1.0, 2.0])
    lim = cur["limits"]["kstar0"]
    assert cur["parameter"] == "CP_sb" and np.all(np.diff(lim) > 0)  # phase space closes: weaker limits
    r = registry.recast("belle2017", _point())
    assert lim[1] == pytest.approx(r.upper_limit_95, rel=1e-12, abs=0)
    out = b17.plot(r, tmp_path / "b17.png")
    assert out.stat().st_size > 1000
    fig = b17.plot_kstar_limits(tmp_path / "kstar.png", masses=[0.0, 1.0, 2.0])
    assert fig.stat().st_size > 1000
    with pytest.raises(PhiphiError, match=r"\.png"):
        b17.plot_kstar_limits(tmp_path / "kstar.pdf", masses=[1.0])


# ---------------------------------------------------------------------------------------
# efficiency models (flat assumed; Belle II HTA / ITA q2 shapes, derived)
# ---------------------------------------------------------------------------------------
def _quad_fold(f, lo, hi, edges, eps):
    """int f eps dq2 / int f dq2 with eps piecewise constant on ``edges``: scipy quad per bin."""
    num = 0.0
    for a, b, e in zip(edges[:-1], edges[1:], eps, strict=True):
        a, b = max(a, lo), min(b, hi)
        if a < b and e > 0:
            num += e * integrate.quad(f, a, b, epsabs=0, epsrel=1e-9)[0]
    den = integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-9, limit=200)[0]
    return num / den


@pytest.mark.parametrize(("channel", "mphi"), [("b2kstarphiphi", 1.0), ("b2kphiphi", 1.0), ("b2kstarphiphi", 1.5)])
@pytest.mark.parametrize("model", ["belle2_hta_shape", "belle2_ita_shape"])
def test_efficiency_ratio_against_quad_per_bin(channel, mphi, model):
    """The fold <eps>_phiphi/<eps>_SM (trapezoid on 20001 points) against scipy quad bin by bin.
    2e-3: the trapezoid's error at the map's bin edges (grid step / bin width ~ 5e-3, edges alternate)."""
    edges, eps = b17.efficiency_shape(model)
    lo, hi = evtgen.channel(channel).q2_limits(mphi)

    def p_np(q2):
        return float(evtgen.spectrum(channel, np.array([q2]), mphi=mphi, couplings={b17.PARAMETERS[channel]: 1.0})[0])

    def p_sm(q2):
        a = np.array([q2])
        return float((b17.sm_kstar_nunu_shape(a) if channel == "b2kstarphiphi" else evtgen.spectrum("b2knunu", a))[0])

    expected = _quad_fold(p_np, lo, hi, edges, eps) / _quad_fold(p_sm, 1e-9, hi, edges, eps)
    got = b17.efficiency_ratio_to_sm(channel, mphi, model)
    assert got["ratio"] == pytest.approx(expected, rel=2e-3, abs=0)
    assert b17.efficiency_ratio_to_sm(channel, mphi, "flat")["ratio"] == 1.0


def test_efficiency_shapes_are_belle2_maps():
    """The shapes are the column sums of the released maps (normalised): HTA falls less steeply
    than ITA with q2 (values read off the maps: ITA < 0.1, HTA > 0.5 of their maxima at 15 GeV^2)."""
    from analyses.belle2_bknunu_2023 import YieldMap

    ymap = YieldMap.released()
    for model, y in (("belle2_hta_shape", ymap.y_hta), ("belle2_ita_shape", ymap.y_ita)):
        edges, eps = b17.efficiency_shape(model)
        col = y.sum(axis=0)
        np.testing.assert_allclose(eps, col / col.max(), rtol=1e-12, atol=0)
        assert len(edges) == len(eps) + 1
    assert b17.efficiency_at(np.array([15.0]), "belle2_ita_shape")[0] < 0.1
    assert b17.efficiency_at(np.array([15.0]), "belle2_hta_shape")[0] > 0.5
    assert b17.efficiency_at(np.array([30.0]), "belle2_hta_shape")[0] == 0.0
    with pytest.raises(PhiphiError, match="efficiency = 'bayes'"):
        b17.efficiency_shape("bayes")


def test_efficiency_from_generated_events_agrees_with_the_spectrum():
    """The same fold with the q2_true of 20k generated events (seed 3): within 4 MC standard errors."""
    a = b17.efficiency_ratio_to_sm("b2kstarphiphi", 1.2, "belle2_ita_shape")
    e = b17.efficiency_ratio_to_sm("b2kstarphiphi", 1.2, "belle2_ita_shape", n_events=20000, seed=3)
    assert e["source"] == "events" and 0 < e["ratio_mc_error"] < 0.02
    assert abs(e["ratio"] - a["ratio"]) < 4 * e["ratio_mc_error"]


def test_efficiency_option_and_bracket():
    """The limit under a model is the flat one / sqrt(ratio) (half-Gaussian: exact up to the engine's
    root tolerance 1e-5); every result carries the bracket with its status labels."""
    flat = registry.recast("belle2017", _point(mphi=1.5))
    br = flat.extras["efficiency_bracket"]
    assert br["flat"]["status"] == "assumed" and br["belle2_ita_shape"]["status"] == "derived"
    assert br["flat"]["upper_limit_95"] == pytest.approx(flat.upper_limit_95, rel=1e-12, abs=0)
    for model in ("belle2_hta_shape", "belle2_ita_shape"):
        r = registry.recast("belle2017", _point(mphi=1.5), efficiency=model)
        ratio = b17.efficiency_ratio_to_sm("b2kstarphiphi", 1.5, model)["ratio"]
        assert r.upper_limit_95 == pytest.approx(flat.upper_limit_95 / math.sqrt(ratio), rel=1e-5, abs=0)
        assert br[model]["upper_limit_95"] == pytest.approx(r.upper_limit_95, rel=1e-5, abs=0)
        assert "derived" in r.likelihood_form and r.extras["efficiency_model"] == model
    # at m_phi = 1.5 GeV the phi phi spectrum is harder than the SM one: both proxies weaken the limit
    assert br["belle2_ita_shape"]["upper_limit_95"] > br["belle2_hta_shape"]["upper_limit_95"] > flat.upper_limit_95


def test_no_sensitivity_where_the_efficiency_model_vanishes():
    """B -> K phi phi at m_phi = 2.35 GeV: q2 >= 22.1 GeV^2, where the ITA map is empty."""
    r = registry.recast("belle2017", _point("b2kphiphi", mphi=2.35), efficiency="belle2_ita_shape")
    assert r.upper_limit_95 is None and "no acceptance" in r.sensitivity_reason
    flat = registry.recast("belle2017", _point("b2kphiphi", mphi=2.35))
    assert flat.upper_limit_95 > 0 and flat.extras["efficiency_bracket"]["belle2_ita_shape"]["upper_limit_95"] is None
    with pytest.raises(PhiphiError, match="efficiency = 'steep'"):
        registry.recast("belle2017", _point(), efficiency="steep")
