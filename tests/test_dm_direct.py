"""Spin-independent direct detection: sigma_SI against hand calculations and a published formula,
isospin weighting, the seed's R_-/R_s identity, limit interpolation (no extrapolation), the dd analysis."""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest
from scipy import integrate

from analyses import registry, stats
from analyses.dm import direct_detection as dd
from analyses.dm import nucleon as nme
from evtgen import constants as evc
from evtgen.errors import PhiphiError
from evtgen.model import model_point

# ---------------------------------------------------------------- inputs typed by hand for the hand calculations
M_P = 0.93827208816  # GeV, PDG 2022 (particle gives the same to 1e-9)
M_N = 0.93956542052  # GeV
GEV2_CM2 = 0.3893793721e-27
MU, MD, MS = 0.00216, 0.0047, 0.0935  # GeV (data file)
F_P = {"u": 0.0153, "d": 0.0191, "s": 0.0447}  # micrOMEGAs defaults
F_N = {"u": 0.0110, "d": 0.0273, "s": 0.0447}


def test_sigma_proton_neutron_hand_calculation():
    """sigma = mu^2/(4 pi m_phi^2) [m_N sum_q f_Tq C_q / m_q]^2 typed out by hand for one coupling set.
    Tolerance 1e-6: the only difference is the nucleon mass (particle vs the literal, < 1e-8 relative)."""
    mphi = 0.5
    c = {"CS_uu": 3e-6, "CS_dd": -1e-6, "CS_ss": 2e-5}
    for m_nuc, f, nuc in ((M_P, F_P, "p"), (M_N, F_N, "n")):
        f_eff = m_nuc * (f["u"] * 3e-6 / MU + f["d"] * (-1e-6) / MD + f["s"] * 2e-5 / MS)
        mu = mphi * m_nuc / (mphi + m_nuc)
        hand = mu**2 * f_eff**2 / (4 * math.pi * mphi**2) * GEV2_CM2
        assert float(dd.sigma_nucleon(mphi, c, nuc)) == pytest.approx(hand, rel=1e-6, abs=0)
    # the number itself, worked by hand in the doc: f_p = 2.509e-5 GeV^-1, mu = 0.3262 GeV -> 8.30e-39 cm^2
    assert float(dd.sigma_nucleon(mphi, c, "p")) == pytest.approx(8.305e-39, rel=1e-3, abs=0)


def test_sigma_from_amplitude_by_angular_integration():
    """Independent route: sigma = int dOmega |M|^2 / (64 pi^2 s) with M = c1 = 2 m_N f_N (distinguishable
    phi N -> phi N, one phi in the final state, no identical-particle factor), integrated with scipy."""
    mphi = 3.0
    c = {"CS_ss": 1e-5, "CG": 2e-7}
    amp = float(dd.c1("p", c))
    s = (mphi + M_P) ** 2
    val, _ = integrate.dblquad(lambda th, ph: amp**2 / (64 * math.pi**2 * s) * math.sin(th), 0, 2 * math.pi, 0, math.pi)
    assert float(dd.sigma_nucleon(mphi, c, "p")) == pytest.approx(val * GEV2_CM2, rel=1e-8, abs=0)


def test_gluon_term_hand_calculation():
    """f_N = -(16 pi m_N f_TG / (9 alpha_s)) C_G with f_TG = 1 - sum f_Tq (the seed's gluon term)."""
    cg = 1e-6
    f_tg = 1 - sum(F_P.values())
    hand = -16 * math.pi * M_P * f_tg / (9 * 0.1180) * cg
    assert float(dd.effective_coupling("p", {"CG": cg})) == pytest.approx(hand, rel=1e-8, abs=0)
    # alpha_s option: 1/alpha_s scaling
    assert float(dd.effective_coupling("p", {"CG": cg}, alpha_s=0.2)) == pytest.approx(hand * 0.118 / 0.2, rel=1e-12)


def test_higgs_portal_published_formula():
    """Normalisation check against a published formula. Scalar singlet S with V > 1/2 lambda_hs S^2 |H|^2:
    sigma_SI = lambda_hs^2 f_N^2 mu^2 m_N^2 / (4 pi m_h^4 m_S^2), f_N = sum_{u,d,s} f_Tq + 6/27 f_TG
    (Cline, Scott, Kainulainen, Weniger, arXiv:1306.4710). Integrating out h gives our couplings
    C_q = lambda m_q / m_h^2 for q = u, d, s, c, b and, for the top, C_G = -lambda alpha_s / (24 pi m_h^2).
    Agreement to 1e-10 checks the 1/2 convention and the absence of identical-particle factors."""
    lam, mh, ms_dm, a_s = 0.01, 125.0, 40.0, 0.118
    c = {f"CS_{q}{q}": lam * nme.quark_mass(q) / mh**2 for q in "udscb"}
    c["CG"] = -lam * a_s / (24 * math.pi * mh**2)
    me = nme.matrix_elements("micromegas")
    f_n = sum(F_P.values()) + 6.0 / 27.0 * me.f_TG("p")
    mu = ms_dm * M_P / (ms_dm + M_P)
    published = lam**2 * f_n**2 * mu**2 * M_P**2 / (4 * math.pi * mh**4 * ms_dm**2) * GEV2_CM2
    assert float(dd.sigma_nucleon(ms_dm, c, "p", alpha_s=a_s)) == pytest.approx(published, rel=1e-7, abs=0)


def test_seed_r_identity_and_round_trip():
    """c1 = (2 m_N^2/m_s) f_Ts C_+ (r_+ + r_- R_- + R_s) equals the direct sum for random couplings."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        cu, cd, cs = rng.normal(size=3) * 1e-5
        c = {"CS_uu": cu, "CS_dd": cd, "CS_ss": cs}
        rm, rs = dd.isospin_ratios(c)
        for nuc in "pn":
            direct = float(dd.c1(nuc, c))
            assert float(dd.c1_from_ratios(nuc, cu + cd, rm, rs)) == pytest.approx(direct, rel=1e-10, abs=0)
        back = dd.couplings_from_ratios(cu + cd, rm, rs)
        for k in c:
            assert float(back[k]) == pytest.approx(c[k], rel=1e-10, abs=0)
    # r_+- by hand for the proton
    a, b = F_P["u"] * MS / (F_P["s"] * MU), F_P["d"] * MS / (F_P["s"] * MD)
    assert dd.r_pm("p") == pytest.approx((0.5 * (a + b), 0.5 * (a - b)), rel=1e-12)


def test_isospin_weighting_and_cancellation():
    """sigma_eff(Z, A) = mu_N^2/(4 pi m^2) [(Z f_p + (A-Z) f_n)/A]^2: check against f_p, f_n by hand and a
    coupling set tuned to the xenon cancellation (then sigma_eff(Xe) = 0 while sigma_p, sigma_n are not)."""
    mphi = 2.0
    xe = dd.target("Xe")
    assert (xe.Z, xe.A) == (54, 131.293)
    c = {"CS_uu": 1e-5, "CS_dd": -2e-5}
    fp, fn = float(dd.effective_coupling("p", c)), float(dd.effective_coupling("n", c))
    mn = 0.5 * (M_P + M_N)
    mu = mphi * mn / (mphi + mn)
    hand = mu**2 / (4 * math.pi * mphi**2) * ((54 * fp + (131.293 - 54) * fn) / 131.293) ** 2 * GEV2_CM2
    assert float(dd.sigma_per_nucleon(mphi, c, xe)) == pytest.approx(hand, rel=1e-7, abs=0)
    # tune C_dd so that 54 f_p + 77.293 f_n = 0
    wp, wn = dd.nucleon_weights("p"), dd.nucleon_weights("n")
    cd = -(54 * wp["CS_uu"] + 77.293 * wn["CS_uu"]) / (54 * wp["CS_dd"] + 77.293 * wn["CS_dd"]) * 1e-5
    tuned = {"CS_uu": 1e-5, "CS_dd": cd}
    assert float(dd.sigma_per_nucleon(mphi, tuned, xe)) < 1e-12 * float(dd.sigma_nucleon(mphi, tuned, "p"))
    # argon (different Z/A) still sees it
    assert float(dd.sigma_per_nucleon(mphi, tuned, dd.target("Ar"))) > 1e-4 * float(dd.sigma_nucleon(mphi, tuned, "p"))


def test_limit_interpolation_and_refusal():
    """Tabulated points exactly; midpoints in log m give the log-log interpolant; outside: PhiphiError."""
    curves = dd.limit_curves()
    assert {c.name for c in curves} >= {
        "PandaX-4T-Migdal",
        "DarkSide-50-Migdal",
        "XENON1T-Migdal",
        "LZ-2024",
        "CRESST-III",
        "DarkSide-50",
    }
    for c in curves:
        i = len(c.mass) // 2
        assert c(c.mass[i]) == pytest.approx(c.sigma[i], rel=1e-12, abs=0)
        m_mid = math.sqrt(c.mass[i] * c.mass[i + 1])
        assert c(m_mid) == pytest.approx(math.sqrt(c.sigma[i] * c.sigma[i + 1]), rel=1e-10, abs=0)
        assert c(c.m_min) == pytest.approx(c.sigma[0], rel=1e-12, abs=0)
        for bad in (c.m_min * (1 - 1e-9), c.m_max * (1 + 1e-9)):
            assert not c.covers(bad)
            with pytest.raises(PhiphiError, match="outside the .* range"):
                c(bad)


def test_strongest_limit_choice():
    """Isoscalar-like coupling: the strongest is the curve with the smallest limit among those covering m."""
    curves = dd.limit_curves()
    c = {"CS_ss": 1e-6}
    for m in (0.3, 1.0, 4.0, 7.0, 30.0, 1000.0):
        comps = dd.compare(m, c, curves)
        best = dd.strongest(comps)
        # f_Ts^p = f_Ts^n: sigma_eff is the same for every target up to (m_p - m_n) effects (< 1e-3)
        assert best.limit_cm2 == pytest.approx(min(x.limit_cm2 for x in comps), rel=2e-3)
    # sub-GeV: PandaX-4T's Migdal search (0.03-2 GeV) is the strongest at 0.3 GeV, DarkSide-50's at 1 GeV
    assert dd.strongest(dd.compare(0.3, c, curves)).experiment == "PandaX-4T-Migdal"
    assert dd.strongest(dd.compare(1.0, c, curves)).experiment == "DarkSide-50-Migdal"
    assert [x.experiment for x in dd.compare(0.035, c, curves)] == ["PandaX-4T-Migdal"]
    assert dd.compare(0.02, c, curves) == []


# DarkLim's own digitisation of the XENON1T Migdal figure (spice-herald/DarkLim,
# darklim/data/ExistingLimits/XENON1T_Migdal_2019.txt, commit 9e2818b): m [GeV], sigma [cm^2]
_DARKLIM_XENON1T_MIGDAL = [(0.2, 7.37224192334325e-37), (0.5, 3.71622754018e-38), (0.7, 4.30876204986e-39),
                           (1.0, 1.57540576941e-39), (2.0, 2.31748879958e-40)]  # fmt: skip


def test_darklim_digitisation_cross_check():
    """The PandaX-4T and DarkSide-50 Migdal curves come from DarkLim's digitisations; its digitisation of
    XENON1T-Migdal agrees with the DirectDetectionPlots one we use within 10% (two readings of one figure,
    steep curve: 10% in sigma is a few % in m)."""
    x1t = next(c for c in dd.limit_curves() if c.name == "XENON1T-Migdal")
    for m, sigma in _DARKLIM_XENON1T_MIGDAL:
        assert x1t(m) / sigma == pytest.approx(1.0, rel=0.10, abs=0)


def test_allowed_interval_against_scan():
    """The exact interval (others fixed) agrees with a brute-force scan of sigma_eff/limit <= 1."""
    curves = dd.limit_curves()
    mphi = 1.5
    others = {"CS_uu": 2e-6, "CS_dd": 1e-6}
    lo, hi = dd.allowed_interval(mphi, others, "CS_ss", curves)
    assert lo < hi < 0  # cancellation needs C_ss < 0 here
    grid = np.linspace(lo - (hi - lo), hi + (hi - lo), 200001)
    ratio = np.zeros_like(grid)
    for c in dd.applicable(curves, mphi):  # vectorised over the grid: sigma_eff / limit per curve
        sig = dd.sigma_per_nucleon(mphi, {**others, "CS_ss": grid}, c.target)
        ratio = np.maximum(ratio, sig / c(mphi))
    ok = grid[ratio <= 1.0]
    step = grid[1] - grid[0]
    assert min(ok) == pytest.approx(lo, abs=1.01 * step)
    assert max(ok) == pytest.approx(hi, abs=1.01 * step)


def test_nucleon_data_consistency():
    """Quark masses shared with evtgen agree; the DirectDM set is sigma/m_N; f_TG in (0, 1)."""
    for q in "dsb":
        assert nme.quark_mass(q) == evc.value("quark_masses", f"m_{q}")
    me = nme.matrix_elements("directdm")
    assert me.derived
    assert me.f("p", "u") == pytest.approx(0.017 / (0.5 * (M_P + M_N)), rel=1e-8, abs=0)
    for name in nme.set_names():
        for n in "pn":
            assert 0 < nme.matrix_elements(name).f_TG(n) < 1
    with pytest.raises(PhiphiError, match="unknown"):
        nme.matrix_elements("nope")


# ---------------------------------------------------------------------------------------------- the analysis


def test_dd_analysis_result():
    """dd at m_phi = 1 GeV, C_ss = 1e-4 GeV^-1 (the seed's relic-motivated size): excluded by DarkSide-50-Migdal;
    the 95% limit of the half-Gaussian likelihood is the 90% edge times sqrt(1.6449/1.2816)."""
    r = registry.recast("dd", model_point(mphi=1.0, couplings={"CS_ss": 1e-4}))
    assert r.parameter == "CS_ss" and r.sensitivity
    assert r.extras["strongest"]["experiment"] == "DarkSide-50-Migdal"
    assert r.extras["excluded_90_published"] and r.excluded_95
    lo, hi = r.extras["allowed_interval_90_published"]
    assert lo == pytest.approx(-hi, rel=1e-12)
    factor = math.sqrt(stats.Q_95_ONE_SIDED**0.5 / 1.2815515655446004)
    # brentq tolerance of the engine: 1e-7 relative in mu -> 5e-8 in C; 1e-6 is ample
    assert r.upper_limit_95 == pytest.approx(hi * factor, rel=1e-6, abs=0)
    assert r.extras["sigma_SI_p_cm2"] == pytest.approx(float(dd.sigma_nucleon(1.0, {"CS_ss": 1e-4}, "p")), rel=1e-12)
    assert "half-Gaussian" in r.likelihood_form
    assert r.as_dict()["no_half"]["upper_limit_95"] == pytest.approx(0.5 * r.upper_limit_95, rel=1e-12)


def test_dd_analysis_other_couplings_fixed():
    """With C_uu, C_dd fixed, the limit on C_ss runs towards the cancellation (negative C_ss)."""
    r = registry.recast("dd", model_point(mphi=1.5, couplings={"CS_uu": 2e-6, "CS_dd": 1e-6}), coefficient="CS_ss")
    lo, hi = r.extras["allowed_interval_90_published"]
    assert r.extras["upper_limit_95_sign"] == "-"
    assert lo < 0 and hi < 0
    assert r.excluded_95  # C_ss = 0 is excluded with these C_uu, C_dd
    assert r.upper_limit_95 > abs(lo)


def test_dd_outside_every_curve_is_no_sensitivity():
    r = registry.recast("dd", model_point(mphi=0.02, couplings={"CS_ss": 1e-4}))  # below PandaX-4T-Migdal
    assert not r.sensitivity and "outside every limit curve" in r.sensitivity_reason


def test_dd_bad_input():
    with pytest.raises(PhiphiError, match="needs --mphi"):
        registry.recast("dd", model_point(couplings={"CS_ss": 1e-4}))
    with pytest.raises(PhiphiError, match="not a phi coupling"):
        registry.recast("dd", model_point(mphi=1.0, couplings={"br": 1e-4}))
    with pytest.raises(PhiphiError, match="unknown"):
        registry.recast("dd", model_point(mphi=1.0, couplings={"CS_ss": 1e-4}), experiments="LUX")
    with pytest.raises(PhiphiError, match="alpha_s"):
        registry.recast("dd", model_point(mphi=1.0, couplings={"CG": 1e-6}), coefficient="CG", alpha_s=-1)
    # flavour-violating couplings are ignored and listed
    r = registry.recast("dd", model_point(mphi=1.0, couplings={"CS_ss": 1e-4, "CS_sb": 1e-7}))
    assert "CS_sb" in r.provenance["ignored_couplings"]


def _fake_relic(monkeypatch, omega):
    mod = types.ModuleType("analyses.dm.relic")
    calls = []

    def omega_h2(mphi, couplings):
        calls.append((mphi, dict(couplings)))
        return omega

    mod.omega_h2 = omega_h2
    monkeypatch.setitem(sys.modules, "analyses.dm.relic", mod)
    return calls


def test_relic_rescaling(monkeypatch):
    """Omega = Omega_obs/10 scales the rate by 0.1 (allowed coupling x sqrt(10)); Omega > Omega_obs: factor 1."""
    p = model_point(mphi=1.0, couplings={"CS_ss": 1e-5})
    base = registry.recast("dd", p)
    calls = _fake_relic(monkeypatch, 0.012)
    r = registry.recast("dd", p, rescale_relic=True)
    assert calls and calls[0][0] == 1.0 and calls[0][1] == {"CS_ss": 1e-5}
    assert r.extras["rate_scale"] == pytest.approx(0.1, rel=1e-12)
    assert r.extras["strongest"]["sigma_eff_cm2"] == pytest.approx(
        0.1 * base.extras["strongest"]["sigma_eff_cm2"], rel=1e-12
    )
    assert r.extras["allowed_interval_90_published"][1] == pytest.approx(
        math.sqrt(10) * base.extras["allowed_interval_90_published"][1], rel=1e-10
    )
    assert r.provenance["relic_rescaling"]["omega_h2"] == 0.012
    _fake_relic(monkeypatch, 0.5)
    assert registry.recast("dd", p, rescale_relic=True).extras["rate_scale"] == 1.0
    _fake_relic(monkeypatch, -1.0)
    with pytest.raises(PhiphiError, match="omega_h2"):
        registry.recast("dd", p, rescale_relic=True)


def test_isospin_plane_plot(tmp_path):
    """The Fig. 4-right plane: allowed points lie along the xenon cancellation line; the PNG is written."""
    from analyses.dm import figures_dd

    curves = [c for c in dd.limit_curves() if c.target.name == "Xe"]  # the xenon cancellation line
    mphi, cplus = 0.13, 1e-4
    rm = np.linspace(-3, 3, 7)
    me = nme.matrix_elements()
    xe = dd.target("Xe")
    w = dd.target_weights(xe)
    # R_s on the cancellation line, from the weights (independent of the plotting helper)
    rs_line = -(0.5 * (1 + rm) * w["CS_uu"] + 0.5 * (1 - rm) * w["CS_dd"]) / w["CS_ss"]
    ratio_on, names = figures_dd.max_ratio_grid(mphi, cplus, rm, rs_line, curves, me)
    ratio_off, _ = figures_dd.max_ratio_grid(mphi, cplus, rm, rs_line + 50.0, curves, me)
    assert names == ["PandaX-4T-Migdal", "XENON1T-Migdal"]
    assert np.all(ratio_on < 1e-20) and np.all(ratio_off > 1.0)
    out = figures_dd.plot_isospin_plane(
        mphi, cplus, tmp_path / "plane.png", curves=curves, point=(0.0, -11.0), n_grid=101
    )
    assert out.exists() and out.stat().st_size > 10000
    import analyses.direct_detection_si as dds

    pt = model_point(mphi=0.13, couplings={"CS_uu": 5e-5, "CS_dd": 5e-5, "CS_ss": -1.1e-3})
    r = registry.recast("dd", pt)
    dds.plot(r, tmp_path / "a.png", point=pt)
    assert (tmp_path / "a.png").exists()
