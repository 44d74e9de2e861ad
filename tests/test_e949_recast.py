"""E949 K+ -> pi+ nothing recast (analyses/e949_kpinunu_2009.py, registered as "e949")."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

import evtgen
from analyses import e949_kpinunu_2009 as e949
from analyses import koto_klpi0nunu_2025 as koto
from analyses import registry
from evtgen import constants as C
from evtgen.errors import PhiphiError
from evtgen.model import model_point


@pytest.fixture(scope="module")
def data():
    return registry.get("e949").data()


def _nodes(data, name):
    return np.asarray(data["kpix_limits_90"]["ranges"][name]["points"], float)


def test_k2pix_reproduces_the_published_limit_at_a_node(data):
    m, ul90 = _nodes(data, "pnn1")[40]  # m_X = 0.100 GeV
    r = registry.recast("e949", model_point(channel="k2pix", mx=float(m)))
    assert r.extras["upper_limit_90_br"] == pytest.approx(ul90, rel=1e-9, abs=0)
    # half-Gaussian: the 95% one-sided limit is UL90 * z(0.95)/z(0.90) (scipy's normal
    # quantiles, independent of the engine); 1e-5 = the engine's root-finding tolerance
    assert r.upper_limit_95 == pytest.approx(ul90 * sps.norm.ppf(0.95) / sps.norm.ppf(0.90), rel=1e-5, abs=0)
    cls = registry.recast("e949", model_point(channel="k2pix", mx=float(m)), method="cls")
    # asymptotic CLs of a half-Gaussian at mu_hat = 0: CLs = 2 (1 - Phi(x/sigma)) = 0.05
    assert cls.upper_limit_95 == pytest.approx(ul90 * sps.norm.ppf(0.975) / sps.norm.ppf(0.90), rel=1e-5, abs=0)
    assert "GaussianLimit" in r.likelihood_form and r.provenance["kpix_limits"]["status"] == "digitised"
    json.dumps(r.as_dict(), allow_nan=False)


def test_k2pix_interpolation_is_log_linear_between_nodes(data):
    (m1, u1), (m2, u2) = _nodes(data, "pnn2")[10:12]
    mid = 0.5 * (m1 + m2)
    assert e949.kpix_limit_90(mid, data) == pytest.approx(math.sqrt(u1 * u2), rel=1e-9, abs=0)


def test_k2pix_reach_where_na62_is_blind_and_gaps(data):
    # NA62's Regions 1/2 stop at m_X = 110 MeV and restart at 154 MeV; E949's PNN1 curve
    # reaches 125 MeV and its PNN2 curve starts at 150.5 MeV
    for mx in (0.115, 0.152):
        r = registry.recast("e949", model_point(channel="k2pix", mx=mx))
        assert r.sensitivity and 1e-11 < r.upper_limit_95 < 1e-7
    for mx in (0.135, 0.258):  # the pi0 band; above the digitised PNN2 end
        r = registry.recast("e949", model_point(channel="k2pix", mx=mx))
        assert not r.sensitivity and r.sensitivity_reason.startswith("no acceptance")
        json.dumps(r.as_dict(), allow_nan=False)


def test_phiphi_effective_limit_against_adaptive_quadrature(data):
    # independent: KOTO module's own coding of dGamma/dq2(K -> pi phi phi) with the K+ and pi+
    # masses, integrated with scipy's adaptive quad (breakpoints at the table nodes), against
    # the module's trapezoid rule on evtgen's spectrum. 2e-3: trapezoid error at 4000 points.
    mphi = 0.04
    mk, mpi = evtgen.constants.mass("K+"), evtgen.constants.mass("pi+")
    lo, hi = 4 * mphi**2, (mk - mpi) ** 2

    def spec(q2):
        return koto.dgamma_dq2_phiphi(q2, mphi, 1.0, mk, mpi)

    total = integrate.quad(spec, lo, hi, limit=400, epsrel=1e-10)[0]
    inv = 0.0
    for name in ("pnn1", "pnn2"):
        nodes = _nodes(data, name)
        a, b = max(lo, nodes[0, 0] ** 2), min(hi, nodes[-1, 0] ** 2)
        pts = [x * x for x in nodes[:, 0] if a < x * x < b]
        inv += integrate.quad(
            lambda q2, n=name: spec(q2) / e949.kpix_limit_90(math.sqrt(q2), data), a, b, points=pts, limit=800
        )[0]
    expect_ul90 = total / inv
    r = registry.recast("e949", model_point(mphi=mphi, seed=1))
    assert r.extras["upper_limit_90_br"] == pytest.approx(expect_ul90, rel=2e-3, abs=0)
    # the coupling limit gives, through an independent rate call, the BR limit (quadratic in C)
    br_ul = evtgen.rate("k2piphiphi", mphi=mphi, couplings={"CS_sd": r.upper_limit_95}).br
    assert br_ul == pytest.approx(expect_ul90 * sps.norm.ppf(0.95) / sps.norm.ppf(0.90), rel=3e-3, abs=0)
    assert r.provenance["approximation"].startswith("k2piphiphi: effective limit")


def test_phiphi_reach_ends_at_the_pnn2_edge(data):
    ul = [registry.recast("e949", model_point(mphi=m)).upper_limit_95 for m in (0.05, 0.09, 0.12)]
    assert ul[0] < ul[1] < ul[2]  # the spectrum leaves PNN2 as 4 m_phi^2 approaches (255 MeV)^2
    r = registry.recast("e949", model_point(mphi=0.07))
    assert r.extras["ranges"]["pnn1"]["spectrum_fraction"] == 0.0  # 4 m^2 above PNN1's (125 MeV)^2
    assert 0 < r.extras["ranges"]["pnn2"]["spectrum_fraction"] < 1
    # (m_K - m_pi)/2 > m_phi > 254.9/2 MeV: kinematically allowed, outside E949's ranges (as for NA62)
    blind = registry.recast("e949", model_point(mphi=0.13))
    assert not blind.sensitivity and "outside E949" in blind.sensitivity_reason


@pytest.mark.parametrize(
    "point, options, match",
    [
        ({"mphi": 0.2}, {}, "kinematic limit"),
        ({"mphi": 0.1, "channel": "b2kphiphi"}, {}, "does not take channel"),
        ({"mphi": 0.1}, {"method": "bayes"}, "bayes"),
        ({"mx": 0.4, "channel": "k2pix"}, {}, "kinematic limit"),
    ],
)
def test_bad_inputs(point, options, match):
    with pytest.raises(PhiphiError, match=match) as exc:
        registry.recast("e949", model_point(**point), **options)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("mx", [0.0, 0.05, 0.1158, 0.152, 0.2, 0.26])
def test_p_pi_to_mx_inverts_two_body_kinematics(mx):
    """Independent two-body momentum p = lambda^1/2(m_K^2, m_pi^2, m_X^2)/(2 m_K), PDG masses from
    particle; 1e-9: double-precision round trip."""
    from particle import Particle

    mk, mpi = Particle.from_pdgid(321).mass / 1e3, Particle.from_pdgid(211).mass / 1e3
    lam = (mk**2 - (mpi + mx) ** 2) * (mk**2 - (mpi - mx) ** 2)
    p = math.sqrt(lam) / (2 * mk)
    assert e949.p_pi_to_mx(p) == pytest.approx(mx, abs=1e-9)
    assert e949.p_pi_to_mx(0.2365) == 0.0  # beyond the two-body endpoint (m_X = 0 at 0.2274 GeV/c)


def test_pnn_windows_against_the_digitised_ranges(data):
    """The check of the PNN1/PNN2 treatment against E949's momentum windows (PNN2 140-199 MeV/c:
    published, abstract of arXiv:0903.0030; PNN1 211-229 MeV/c: unverified): the digitised curves'
    m_X ranges lie within 10 MeV of the windows' kinematic edges (the curves include resolution
    tails), and the pi0 gap between them is where no window reaches."""
    w = e949.window_mass_ranges(data)
    assert w["pnn2"]["p_pi_window_status"] == "published" and w["pnn1"]["p_pi_window_status"] == "unverified"
    for name in ("pnn1", "pnn2"):
        (klo, khi), (dlo, dhi) = w[name]["mx_range_from_window_GeV"], w[name]["mx_range_digitised_GeV"]
        assert abs(dlo - klo) < 0.010 and abs(dhi - khi) < 0.010, name
    assert w["pnn2"]["mx_range_from_window_GeV"] == pytest.approx([0.152, 0.261], abs=1e-3)
    assert w["pnn1"]["mx_range_from_window_GeV"][1] < C.mass("pi0") < w["pnn2"]["mx_range_from_window_GeV"][0]
    r = registry.recast("e949", model_point(channel="k2pix", mx=0.1))
    assert r.provenance["kpix_limits"]["third_party"] is True and r.provenance["kpix_limits"]["status"] == "digitised"
    assert r.provenance["signal_regions"] == w
