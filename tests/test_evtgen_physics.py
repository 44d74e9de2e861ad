"""Physics of the decay channels against independent calculations.

Independent means: the test re-implements the formula of the physics README in plain
Python/scipy (not through evtgen.spectra), or compares with a published number.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from scipy import integrate, stats

import evtgen
from evtgen import constants as C
from evtgen import formfactors as FF
from evtgen.decays import DECAY_CHANNELS
from evtgen.frames import belle2_beams

MASS = {
    "b2kphiphi": 1.0,
    "b2kstarphiphi": 0.8,
    "k2piphiphi": 0.08,
    "b2kx": 2.0,
    "k2pix": 0.135,
    "b2knunu": None,
    "k2pinunu": None,
}


def _kw(name):
    ch = DECAY_CHANNELS[name]
    return {ch.mass_option: MASS[name]} if ch.mass_option else {}


# --------------------------------------------------------------------------- form factors
def _bsz_reference(q2, mb, mp, pole, a):
    """BSZ z-expansion written out from the physics README, independently of evtgen."""
    tp, tm = (mb + mp) ** 2, (mb - mp) ** 2
    t0 = tp * (1 - math.sqrt(1 - tm / tp))

    def z(t):
        return (math.sqrt(tp - t) - math.sqrt(tp - t0)) / (math.sqrt(tp - t) + math.sqrt(tp - t0))

    dz = z(q2) - z(0.0)
    return (a[0] + a[1] * dz + a[2] * dz * dz) / (1 - q2 / pole**2)


def test_f0_bk_against_hpqcd2022_points():
    """GRvDV 2023 f0 at the HPQCD 2022 lattice points, within the lattice errors (1 sigma
    of the HPQCD covariance diagonal: the two are independent determinations that agree)."""
    with open(C.data_path("formfactors/HPQCD2022_BtoK_pseudodata.yaml")) as fh:
        blk = yaml.safe_load(fh)["B->K::f_0+f_++f_T@HPQCD:2022A"]
    par = FF.bk_params("f0")
    for idx in range(3):  # the f0 entries
        q2 = blk["kinematics"][idx]["q2"]
        ref, err = blk["means"][idx], math.sqrt(blk["covariance"][idx][idx])
        got = FF.bsz(q2, par)
        assert abs(got - ref) < err, (q2, got, ref, err)


def test_f0_equals_fplus_at_zero_and_matches_written_out_formula():
    f0 = FF.bk_params("f0")
    fp = FF.bk_params("f+")
    assert FF.bsz(0.0, f0) == pytest.approx(FF.bsz(0.0, fp), rel=1e-12, abs=0)
    vec = FF.grvdv2023_bk().mean
    for q2 in (0.0, 5.0, 15.0, 22.0):
        ref = _bsz_reference(q2, 5.279, 0.492, 5.630, [vec[0], vec[3], vec[4]])
        assert FF.bsz(q2, f0) == pytest.approx(ref, rel=1e-12, abs=0)


def test_kpi_f0_normalisation_and_closed_form():
    """f0(0) = f+(0) = 0.9698 (FLAG 2021), and f0(q2) equals the closed dispersive form of
    the physics README written out here from the data-file values."""
    par = FF.kpi_f0_params()
    assert FF.kpi_f0(0.0, par) == pytest.approx(0.9698, rel=1e-12, abs=0)
    v = FF._kpi_central()
    mk, mpi = C.mass("K+"), C.mass("pi+")
    delta, t0 = mk**2 - mpi**2, (mk - mpi) ** 2
    for q2 in (0.01, 0.05, 0.1):
        x = q2 / t0
        g = x * v["D"] + (1 - x) * v["d"] + x * (1 - x) * v["k"]
        assert FF.kpi_f0(q2, par) == pytest.approx(
            v["f_plus_0"] * math.exp(q2 / delta * (v["lnC"] - g)), rel=1e-12, abs=0
        )


# --------------------------------------------------------------------------- rates
def _width_reference(name, mass, coupling):
    """Gamma from scipy.quad of the README formula with independently coded pieces."""
    ch = DECAY_CHANNELS[name]
    M, m = ch.m_parent, ch.m_visible
    mb, ms, md = 4.18, 0.0935, 0.0047  # README section 2, PDG MS-bar masses

    def lam(q2):
        return M**4 + m**4 + q2**2 - 2 * (M * M * m * m + M * M * q2 + m * m * q2)

    if name == "b2kphiphi":
        vec = FF.grvdv2023_bk().mean

        def f(q2):
            return _bsz_reference(q2, 5.279, 0.492, 5.630, [vec[0], vec[3], vec[4]])

        def dg(q2):
            beta = math.sqrt(1 - 4 * mass**2 / q2)
            return (
                coupling**2
                * ((M * M - m * m) / (mb - ms)) ** 2
                * f(q2) ** 2
                * math.sqrt(lam(q2))
                * beta
                / (512 * math.pi**3 * M**3)
            )

        lo = 4 * mass**2
    elif name == "b2kstarphiphi":
        a = [0.369196, -1.36584, 0.128191]  # BSZ 2015 A0, README section 3

        def dg(q2):
            beta = math.sqrt(1 - 4 * mass**2 / q2)
            f = _bsz_reference(q2, M, m, 5.367, a)
            return coupling**2 * lam(q2) ** 1.5 * f * f * beta / (512 * math.pi**3 * M**3 * (mb + ms) ** 2)

        lo = 4 * mass**2
    elif name == "k2piphiphi":

        def dg(q2):
            beta = math.sqrt(1 - 4 * mass**2 / q2)
            x = q2 / (M - m) ** 2
            g = x * 0.0209 + (1 - x) * 0.0398 + x * (1 - x) * 0.0045
            f = 0.9698 * math.exp(q2 / (M * M - m * m) * (0.1998 - g))
            return (
                coupling**2
                * ((M * M - m * m) / (ms - md)) ** 2
                * f
                * f
                * math.sqrt(lam(q2))
                * beta
                / (512 * math.pi**3 * M**3)
            )

        lo = 4 * mass**2
    elif name == "b2knunu":
        vec = FF.grvdv2023_bk().mean
        pref = 1.1663787e-5**2 / 127.952**2 * 1.468**2 * 0.04185**2 / (32 * math.pi**5 * 0.23124**2)

        def dg(q2):
            pk = math.sqrt(lam(q2)) / (2 * M)
            f = _bsz_reference(q2, 5.279, 0.492, 5.415, vec[:3])
            return pref * pk**3 * f * f

        lo = 0.0
    else:
        raise AssertionError(name)
    val, err = integrate.quad(dg, lo, (M - m) ** 2, limit=200, epsabs=0, epsrel=1e-10)
    return val


@pytest.mark.parametrize(
    "name,mass,coupling",
    [
        ("b2kphiphi", 0.0, 1e-8),
        ("b2kphiphi", 1.0, 3e-8),
        ("b2kphiphi", 2.3, 1e-8),
        ("b2kstarphiphi", 0.5, 1e-8),
        ("k2piphiphi", 0.1, 1e-11),
        ("k2piphiphi", 0.17, 1e-11),
        ("b2knunu", None, None),
    ],
)
def test_width_against_scipy_quad(name, mass, coupling):
    """Gauss-Legendre width vs adaptive quadrature: both integrate smooth functions to
    ~1e-10, so 1e-6 relative is a loose bound that still catches any factor or sign slip."""
    ch = DECAY_CHANNELS[name]
    cpl = {next(iter(ch.couplings)): coupling} if ch.couplings else None
    r = evtgen.rate(name, couplings=cpl, **({ch.mass_option: mass} if ch.mass_option else {}))
    assert r.width == pytest.approx(_width_reference(name, mass, coupling), rel=1e-6, abs=0)
    assert r.br == pytest.approx(r.width / C.total_width(ch.parent), rel=1e-12, abs=0)


def test_bknunu_sm_against_belle2_template_and_prediction():
    """b2knunu (GRvDV f+) against Belle II's template (HPQCD 2022 f+, B = 4.966e-6, same
    formula): the form factors differ within their errors, so agree within 2 x the rate's
    form-factor error. Also consistent with the SM prediction (4.43 +- 0.31)e-6 within 2 sigma."""
    r = evtgen.rate("b2knunu")
    assert abs(r.br - 4.966e-6) < 2 * r.br_err
    assert abs(r.br - 4.43e-6) < 2 * math.hypot(0.31e-6, r.br_err)
    assert 0.02 < r.br_err / r.br < 0.06  # GRvDV f+ gives a ~3-4% rate uncertainty


def test_rate_scales_with_coupling_squared_and_vanishes_at_endpoint():
    r1 = evtgen.rate("b2kphiphi", mphi=1.0, couplings={"CS_sb": 1e-8})
    r2 = evtgen.rate("b2kphiphi", mphi=1.0, couplings={"CS_sb": 3e-8})
    assert r2.br == pytest.approx(9 * r1.br, rel=1e-12, abs=0)
    lim = DECAY_CHANNELS["b2kphiphi"].mass_limit()
    assert evtgen.rate("b2kphiphi", mphi=lim * (1 - 1e-6)).br < 1e-6 * r1.br


def test_kpinunu_rate_is_the_sm_prediction():
    r = evtgen.rate("k2pinunu")
    assert r.br == pytest.approx(8.4e-11, rel=1e-12, abs=0) and r.br_err == pytest.approx(1.0e-11, rel=1e-12, abs=0)


# --------------------------------------------------------------------------- sampling
def _chi2_q2(name, n=200_000, nbins=40, seed=11):
    ch = DECAY_CHANNELS[name]
    kw = _kw(name)
    ev = evtgen.generate(name, n, seed=seed, frame="rest", **kw)
    lo, hi = ch.q2_limits(kw.get(ch.mass_option))
    edges = np.linspace(lo, hi, nbins + 1)
    counts, _ = np.histogram(np.asarray(ev.q2_true), bins=edges)
    total = evtgen.rate(name, **kw).width
    from evtgen import spectra

    par = ch.spectrum_par(kw.get(ch.mass_option) or 0.0, ch.resolve_couplings(None))
    expected = np.array([spectra.integrate(ch.kind, par, a, b) for a, b in zip(edges[:-1], edges[1:])]) / total * n
    ok = expected > 5
    chi2 = float((((counts - expected) ** 2) / expected)[ok].sum())
    return chi2, int(ok.sum())


@pytest.mark.parametrize("name", ["b2kphiphi", "b2kstarphiphi", "k2piphiphi", "b2knunu", "k2pinunu"])
def test_q2_histogram_matches_integrated_spectrum(name):
    """Sampled q2 vs the bin integrals of the same dGamma/dq2: chi2 p-value > 0.001 (fixed seed)."""
    chi2, ndf = _chi2_q2(name)
    assert stats.chi2.sf(chi2, ndf) > 1e-3, (chi2, ndf)


def test_chi2_test_has_power():
    """The q2 test rejects a wrong spectrum: phi phi events compared with a different mass."""
    ch = DECAY_CHANNELS["b2kphiphi"]
    ev = evtgen.generate("b2kphiphi", 100_000, mphi=1.0, seed=3, frame="rest")
    edges = np.linspace(4.0, ch.q2_limits(1.0)[1], 31)
    counts, _ = np.histogram(np.asarray(ev.q2_true), bins=edges)
    wrong = evtgen.spectrum("b2kphiphi", 0.5 * (edges[1:] + edges[:-1]), mphi=0.9)
    wrong = wrong / wrong.sum() * counts.sum()
    assert stats.chisquare(counts, wrong).pvalue < 1e-6


@pytest.mark.parametrize("name", list(MASS))
@pytest.mark.parametrize("frame", ["rest", "lab"])
def test_four_momentum_conservation_and_masses(name, frame):
    ch = DECAY_CHANNELS[name]
    ev = evtgen.generate(name, 20_000, seed=5, frame=frame, **_kw(name))
    parent = ev[ch.particles[0]]
    if name == "b2kstarphiphi":
        finals = ["K", "pi", "phi1", "phi2"]
        kst = ev.K + ev.pi
        for c in ("px", "py", "pz", "E"):
            np.testing.assert_allclose(getattr(kst, c), getattr(ev.Kstar, c), atol=1e-9)
        np.testing.assert_allclose(ev.Kstar.mass, C.mass("K*0"), atol=1e-7)
    else:
        finals = list(ch.particles[1:])
    total = ev[finals[0]]
    for p in finals[1:]:
        total = total + ev[p]
    scale = float(np.max(np.asarray(parent.E)))
    for c in ("px", "py", "pz", "E"):
        np.testing.assert_allclose(
            np.asarray(getattr(total, c)), np.asarray(getattr(parent, c)), atol=1e-12 * scale * 100
        )
    np.testing.assert_allclose(parent.mass, ch.m_parent, rtol=1e-9)
    np.testing.assert_allclose(ev[ch.particles[1]].mass, ch.m_visible, rtol=1e-6)
    inv = [p for p in ch.particles if p in ("phi1", "phi2", "nu", "nubar", "X")]
    for p in inv:
        expect = 0.0 if p in ("nu", "nubar") else MASS[name]
        m2 = (
            np.asarray(ev[p].E) ** 2 - np.asarray(ev[p].px) ** 2 - np.asarray(ev[p].py) ** 2 - np.asarray(ev[p].pz) ** 2
        )
        np.testing.assert_allclose(m2, expect**2, atol=1e-9 * scale**2)
    # q2_true is the invariant mass squared of the invisible system
    sysinv = ev[inv[0]] if len(inv) == 1 else ev[inv[0]] + ev[inv[1]]
    q2 = (
        np.asarray(sysinv.E) ** 2 - np.asarray(sysinv.px) ** 2 - np.asarray(sysinv.py) ** 2 - np.asarray(sysinv.pz) ** 2
    )
    np.testing.assert_allclose(q2, np.asarray(ev.q2_true), atol=1e-8 * scale**2)


def test_q2_endpoints():
    for name, m in (("b2kphiphi", 1.0), ("k2piphiphi", 0.1)):
        ch = DECAY_CHANNELS[name]
        q2 = np.asarray(evtgen.generate(name, 50_000, mphi=m, seed=1, frame="rest").q2_true)
        assert q2.min() >= 4 * m * m
        assert q2.max() <= (ch.m_parent - ch.m_visible) ** 2
    q2 = np.asarray(evtgen.generate("b2kx", 100, mx=1.5, seed=1).q2_true)
    assert np.all(q2 == 1.5**2)


def test_belle2_frame():
    """sqrt(s) = 10.58 GeV (Upsilon(4S), PDG 10.5794 +- 0.0012 within the beam-energy
    precision of 1 MeV) and the B momentum in the c.m. frame is 0.33 GeV (p* = sqrt(s/4 - m_B^2))."""
    beams = belle2_beams()
    assert beams.sqrt_s == pytest.approx(10.58, abs=0.002)
    assert np.linalg.norm(beams.beta_cm) == pytest.approx(0.28, abs=0.01)  # Belle II beta*gamma = 0.287
    ev = evtgen.generate("b2kphiphi", 20_000, mphi=1.0, seed=2)
    b = -beams.beta_cm
    import vector

    boost = vector.obj(x=b[0], y=b[1], z=b[2])
    p_star = np.asarray(ev.B.boost_beta3(boost).p)
    assert np.allclose(p_star, math.sqrt(beams.sqrt_s**2 / 4 - C.mass("B+") ** 2), rtol=1e-9)
    assert np.mean(p_star) == pytest.approx(0.33, abs=0.01)
    # Upsilon(4S) -> B B is P-wave: <cos^2> = 1/5 about the beam axis (sin^2 distribution)
    axis = beams.beam_axis_cm()
    bst = ev.B.boost_beta3(boost)
    cos = (np.asarray(bst.px) * axis[0] + np.asarray(bst.py) * axis[1] + np.asarray(bst.pz) * axis[2]) / p_star
    assert np.mean(cos**2) == pytest.approx(0.2, abs=4 * math.sqrt(4 / 175 / 20_000))


def test_na62_beam_and_vertex():
    ev = evtgen.generate("k2pinunu", 50_000, seed=4)
    p = np.asarray(ev.K.p)
    assert np.mean(p) == pytest.approx(75.0, abs=0.02)  # 1% rms / sqrt(5e4) = 0.003 GeV
    assert np.std(p) / 75.0 == pytest.approx(0.01, rel=0.02, abs=0)
    z = np.asarray(ev.vtx_z)
    assert z.min() >= 105.0 and z.max() <= 180.0
    # exponential with beta*gamma*c*tau ~ 564 m: nearly flat, slightly falling
    n_first, n_last = np.sum(z < 142.5), np.sum(z >= 142.5)
    ratio = math.exp(37.5 / (75.0 / C.mass("K+") * C.ctau_m("K+")))
    assert n_first / n_last == pytest.approx(ratio, rel=0.03, abs=0)
    np.testing.assert_allclose(np.asarray(ev.K.px) / np.asarray(ev.K.pz), 0.0012, rtol=1e-9)


def _helicity_cos(parent_frame_daughter, mother, axis_from):
    """cos of the angle between the daughter (in the mother frame) and the mother direction."""
    d = parent_frame_daughter.boostCM_of_p4(mother)
    a = axis_from
    return (d.px * a.px + d.py * a.py + d.pz * a.pz) / (d.p * a.p)


def test_angular_distributions():
    """K* helicity angle ~ cos^2 (<c^2> = 3/5), nu nubar ~ sin^2 (<c^2> = 1/5), phi phi
    isotropic (<c^2> = 1/3). Tolerance: 4 standard errors of the mean of c^2."""
    n = 40_000
    ev = evtgen.generate("b2kstarphiphi", n, mphi=0.5, seed=9, frame="rest")
    c = np.asarray(_helicity_cos(ev.K, ev.Kstar, ev.Kstar))
    assert np.mean(c**2) == pytest.approx(0.6, abs=4 * math.sqrt(12 / 175 / n))
    ev = evtgen.generate("b2knunu", n, seed=9, frame="rest")
    pair = ev.nu + ev.nubar
    c = np.asarray(_helicity_cos(ev.nu, pair, pair))
    assert np.mean(c**2) == pytest.approx(0.2, abs=4 * math.sqrt(4 / 175 / n))
    ev = evtgen.generate("b2kphiphi", n, mphi=1.0, seed=9, frame="rest")
    pair = ev.phi1 + ev.phi2
    c = np.asarray(_helicity_cos(ev.phi1, pair, pair))
    assert np.mean(c**2) == pytest.approx(1 / 3, abs=4 * math.sqrt(4 / 45 / n))


def test_two_body_momentum_is_fixed():
    ev = evtgen.generate("k2pix", 1000, mx=C.mass("pi0"), seed=1, frame="rest")
    mk, mpi, m0 = C.mass("K+"), C.mass("pi+"), C.mass("pi0")
    p = math.sqrt((mk**2 - (mpi + m0) ** 2) * (mk**2 - (mpi - m0) ** 2)) / (2 * mk)
    np.testing.assert_allclose(np.asarray(ev.pi.p), p, rtol=1e-10)  # 205.14 MeV, K -> pi pi0
    assert p == pytest.approx(0.2051, abs=2e-4)


def test_convention_conversion_changes_rates_by_four():
    """Same number in the no-1/2 convention = twice the project coupling = 4x the rate."""
    from evtgen.conventions import from_no_half, to_no_half

    c_prime = 2e-8
    r_half = evtgen.rate("b2kphiphi", mphi=1.0, couplings={"CS_sb": c_prime})
    r_nohalf = evtgen.rate("b2kphiphi", mphi=1.0, couplings={"CS_sb": from_no_half(c_prime)})
    assert r_nohalf.br == pytest.approx(4 * r_half.br, rel=1e-12, abs=0)
    assert to_no_half(from_no_half(c_prime)) == c_prime
