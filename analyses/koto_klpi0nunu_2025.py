"""Recast of KOTO's K_L -> pi0 nu nu search (2021 data, arXiv:2411.11237) for
K_L -> pi0 phi phi (coupling C_S^sd) and K_L -> pi0 X (branching ratio). Optional companion
of the NA62 recast; a kinematic acceptance model, not a detector emulation.

Rate (Grossman-Nir-type relation). With L > 1/2 [C^sd (sbar d) + C^ds (dbar s)] phi^2,
C^ds = C^sd*, isospin <pi0|sbar d|K0> = -<pi+|sbar d|K+>/sqrt(2), CP|K0> = -|K0bar>,
K_L ~ (K0 + K0bar)/sqrt(2) (CP-odd) and the pi0 phi phi S-wave CP-odd: the transition is
CP-conserving and A(K_L -> pi0 phi phi) = sqrt(2) Re(C^sd) <pi0|sbar d|K0>, so
|A_L|^2 = (Re C / |C|)^2 |A(K+ -> pi+ phi phi)|^2. The width is the K+ formula with the K_L
and pi0 masses (isospin-limit f0 at the neutral kinematics) times (Re C/|C|)^2; here C is real.

Acceptance. The pi0 transverse momentum relative to the K_L flight direction is boost
invariant; KOTO's signal box requires P_T > pt_min, which for an isotropic decay with rest-frame
momentum p*(q2) keeps A(q2) = sqrt(1 - (pt_min/p*)^2). Everything else in KOTO's acceptance is
taken equal for K_L -> pi0 phi phi and K_L -> pi0 nu nu, so
s = BR x <A>_signal / (<A>_nunu x SES). The model is checked in the tests against KOTO's own
K_L -> pi0 X limit at m_X = 135 MeV.

Statistics: one Poisson count through the package's engine (:func:`analyses.stats.fit`,
asymptotic CLs by default). With n_obs = 0 the asymptotic CLs limit (2.08 signal events) is
below the exact Poisson CLs one (-ln 0.05 = 3.00 events): the asymptotic formulae are not
valid at zero counts; the tests pin both. Background and SES uncertainties are not profiled.
"""

from __future__ import annotations

import functools
import math
from importlib import resources
from typing import Any

import yaml
from scipy import integrate

from evtgen import constants as C
from evtgen import formfactors as FF
from evtgen.errors import PhiphiError, check_finite
from evtgen.model import ModelPoint

from . import stats
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "koto"
DATA_FILE = "koto_klpi0nunu_2025.yaml"
#: channel -> (mass option, parameter); aliases map the K+ channel names to the K_L ones
CHANNELS: dict[str, tuple[str, str]] = {"kl2pi0phiphi": ("mphi", "CS_sd"), "kl2pi0x": ("mx", "br")}
ALIASES = {"k2piphiphi": "kl2pi0phiphi", "k2pix": "kl2pi0x"}
DEFAULT_CHANNEL = "kl2pi0phiphi"
REFERENCE = {"CS_sd": 1e-11, "br": 1e-9}
KL_PDGID = 130


@functools.cache
def _data() -> dict[str, Any]:
    with (resources.files("analyses") / "data" / DATA_FILE).open("r") as fh:
        return yaml.safe_load(fh)


@functools.cache
def kl_mass_lifetime() -> tuple[float, float]:
    """(mass in GeV, lifetime in s) of the K_L from the PDG (``particle``)."""
    from particle import Particle

    p = Particle.from_pdgid(KL_PDGID)
    return p.mass / 1000.0, p.lifetime * 1e-9


def _kallen(a, b, c):
    return a * a + b * b + c * c - 2.0 * (a * b + a * c + b * c)


def dgamma_dq2_phiphi(q2: float, mphi: float, coupling: float, m_parent: float, m_pion: float) -> float:
    """dGamma/dq2 (GeV^-1) of K -> pi phi phi for masses (m_parent, m_pion), real coupling."""
    ffp = FF.kpi_f0_params()
    ffp[5], ffp[6] = (m_parent - m_pion) ** 2, m_parent**2 - m_pion**2
    lam = _kallen(m_parent**2, m_pion**2, q2)
    if lam <= 0.0 or q2 <= 4.0 * mphi * mphi:
        return 0.0
    beta = math.sqrt(1.0 - 4.0 * mphi * mphi / q2)
    mq = C.value("quark_masses", "m_s") - C.value("quark_masses", "m_d")
    f0 = FF.kpi_f0(q2, ffp)
    return (
        coupling**2
        * ((m_parent**2 - m_pion**2) / mq) ** 2
        * f0
        * f0
        * math.sqrt(lam)
        * beta
        / (512.0 * math.pi**3 * m_parent**3)
    )


def width_phiphi(mphi: float, coupling: float, m_parent: float, m_pion: float) -> float:
    """Gamma(K -> pi phi phi) in GeV (numerical integration over q2)."""
    lo, hi = 4.0 * mphi * mphi, (m_parent - m_pion) ** 2
    return integrate.quad(
        dgamma_dq2_phiphi, lo, hi, args=(mphi, coupling, m_parent, m_pion), epsabs=0.0, epsrel=1e-9, limit=200
    )[0]


def p_star(q2: float) -> float:
    """pi0 momentum in the K_L rest frame for invisible mass^2 q2 (GeV)."""
    mk, mpi = kl_mass_lifetime()[0], C.mass("pi0")
    lam = _kallen(mk * mk, mpi * mpi, q2)
    return math.sqrt(max(lam, 0.0)) / (2.0 * mk)


def acceptance_pt(q2: float, pt_min: float | None = None) -> float:
    """Fraction of isotropic decays with pi0 P_T > pt_min at invisible mass^2 q2."""
    pt_min = float(_data()["pt_min"]["value"]) if pt_min is None else pt_min
    p = p_star(q2)
    return math.sqrt(1.0 - (pt_min / p) ** 2) if p > pt_min else 0.0


def _mean_acceptance(spectrum, lo: float, hi: float) -> float:
    pt_min = float(_data()["pt_min"]["value"])
    # the acceptance vanishes below the q2 where p* = pt_min: split the integral there
    mk, mpi = kl_mass_lifetime()[0], C.mass("pi0")
    q2_cut = mk * mk + mpi * mpi - 2.0 * mk * math.sqrt(mpi * mpi + pt_min * pt_min)
    num = (
        integrate.quad(lambda q: spectrum(q) * acceptance_pt(q, pt_min), lo, min(hi, q2_cut), limit=200)[0]
        if q2_cut > lo
        else 0.0
    )
    den = integrate.quad(spectrum, lo, hi, limit=200)[0]
    return num / den


@functools.cache
def mean_acceptance_nunu() -> float:
    """<A> of K_L -> pi0 nu nu (dGamma/dq2 ~ lambda^3/2 f+^2, NA62's f+ shape)."""
    mk, mpi = kl_mass_lifetime()[0], C.mass("pi0")
    mpc2 = C.mass("pi+") ** 2
    l1, l2 = C.value("kpinunu_sm", "lambda_plus_1"), C.value("kpinunu_sm", "lambda_plus_2")

    def spec(q2):
        f = 1.0 + l1 * q2 / mpc2 + 0.5 * l2 * (q2 / mpc2) ** 2
        return max(_kallen(mk * mk, mpi * mpi, q2), 0.0) ** 1.5 * f * f

    return _mean_acceptance(spec, 0.0, (mk - mpi) ** 2)


def recast(point: ModelPoint, *, data: dict[str, Any], **options: Any) -> Result:
    """KOTO limit on real C_S^sd (kl2pi0phiphi) or BR(K_L -> pi0 X) (kl2pi0x) at one point.

    The K+ channel names are accepted as aliases. The point's coupling (default C_S^sd = 1e-11
    GeV^-1, br = 1e-9) is the reference. Option ``method``: cls_exact (default: exact Poisson CLs, valid at zero observed events), cls or wilks."""
    channel = ALIASES.get(point.channel or DEFAULT_CHANNEL, point.channel or DEFAULT_CHANNEL)
    if channel not in CHANNELS:
        raise PhiphiError(f"channel {channel!r} is not recast by KOTO; choose one of {', '.join(CHANNELS)}")
    opt, parameter = CHANNELS[channel]
    other = "mx" if opt == "mphi" else "mphi"
    if point.masses.get(other) is not None:
        raise PhiphiError(f"channel {channel} takes --{opt}, not --{other}")
    mass = point.masses.get(opt)
    if mass is None:
        raise PhiphiError(f"channel {channel} needs --{opt}")
    mk, tau = kl_mass_lifetime()
    mpi = C.mass("pi0")
    limit = (mk - mpi) / 2.0 if opt == "mphi" else mk - mpi
    if mass >= limit:
        raise PhiphiError(f"{opt} = {mass:g} GeV is above the kinematic limit {limit:.5f} GeV for {channel}")
    unknown = set(point.couplings) - {parameter}
    if unknown:
        raise PhiphiError(f"unknown coupling {sorted(unknown)[0]!r} for channel {channel} (allowed: {parameter})")
    ref = check_finite(parameter, point.couplings.get(parameter, REFERENCE[parameter]))
    complex_c = (point.uv or {}).get("eft_complex", {}).get(parameter) if parameter == "CS_sd" else None
    if complex_c is not None:  # a matched UV point: the K_L rate goes as (Re C)^2 (CP-even part)
        real_part = float(complex_c[0])
        point = point.replace(couplings={parameter: real_part})
        ref = real_part if real_part != 0.0 else REFERENCE[parameter]
    if ref == 0.0:
        raise PhiphiError(f"reference coupling {parameter} = 0: give a non-zero value")
    method = options.get("method") or data["analysis"]["options"]["method"]["default"]
    d = data
    ses, n_obs, b = float(d["ses"]["value"]), int(d["observed"]["value"]), float(d["background"]["value"])
    if opt == "mphi":
        br = width_phiphi(mass, ref, mk, mpi) * tau / C.HBAR_GEV_S
        a_sig = _mean_acceptance(lambda q: dgamma_dq2_phiphi(q, mass, 1.0, mk, mpi), 4 * mass * mass, (mk - mpi) ** 2)
    else:
        br = ref
        a_sig = acceptance_pt(mass * mass)
    a_nunu = mean_acceptance_nunu()
    s_ref = br * a_sig / (a_nunu * ses)
    point = point.replace(channel=channel, couplings={parameter: point.couplings.get(parameter, ref)})
    provenance = {
        "ses": {"value": ses, "status": "published"},
        "acceptance_model": "P_T > pt_min only (status: approximate), ratio to K_L -> pi0 nu nu",
        "pt_min": d["pt_min"],
        "convention": "real C_S^sd; a complex C enters the K_L rate as (Re C)^2" if parameter == "CS_sd" else "",
    }
    extras = {
        "br_at_reference": br,
        "expected_events": s_ref,
        "acceptance_ratio": a_sig / a_nunu,
        "acceptance_signal": a_sig,
        "acceptance_nunu": a_nunu,
        "observed": n_obs,
        "background": b,
        "ses": ses,
    }
    if s_ref <= 0.0:
        return no_sensitivity(
            analysis=ANALYSIS,
            point=point,
            parameter=parameter,
            reason=f"no acceptance: the pi0 P_T is below KOTO's {d['pt_min']['value']} GeV box edge for every q2",
            provenance=provenance,
            extras=extras,
        )
    # background and SES errors are not profiled: with n_obs = 0 the limit does not depend on them
    lik = stats.PoissonCounts([n_obs], [b], [0.0], [s_ref])
    fit = stats.fit(lik, mu_scale=3.0 / s_ref, method=method)
    return from_fit(
        lik,
        fit,
        analysis=ANALYSIS,
        point=point,
        parameter=parameter,
        reference=ref,
        scaling="quadratic" if parameter == "CS_sd" else "linear",
        provenance=provenance,
        extras=extras,
        likelihood_form="one Poisson count (n_obs, b), no nuisances",
    )
