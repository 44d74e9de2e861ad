"""Recast of E949's K+ -> pi+ nothing interpretation (arXiv:0903.0030, PRD 79 (2009) 092004;
E787 + E949 data, PNN1 and PNN2 regions) for K+ -> pi+ X (branching ratio) and K+ -> pi+ phi phi
(coupling C_S^sd). Registered as ``e949`` by ``analyses/data/e949_kpinunu_2009.yaml``; entry
point :func:`recast`.

Inputs. The only mass-dependent input is E949's published 90% CL upper limit on BR(K+ -> pi+ X)
for a stable invisible X versus m_X, as a third-party digitisation of the published figure
(the data file and ``e949_kpinunu_2009_SOURCES.md`` say who digitised it and where). E949's
per-cell acceptances and backgrounds were not available, so there is no counting likelihood.

Method.

- ``k2pix``: the limit at m_X (log-linear interpolation inside the PNN1 and PNN2 ranges) is
  turned into the engine's :class:`analyses.stats.GaussianLimit`, -2lnL = (BR/sigma)^2 with
  sigma = UL90 / Phi^-1(0.90). Outside the ranges (the pi0 band, above PNN2): no sensitivity.
- ``k2piphiphi``: the two-body limit curve read as a sensitivity curve. If E949's limit at each
  m_X corresponds to the same number of signal events n, the expected yield per unit BR of a
  decay with normalised spectrum p(q2) is n * integral p(q2) / UL90(sqrt q2) dq2, so the
  spectrum's 90% CL limit is UL90_eff = 1 / integral p(q2) / UL90(sqrt q2) dq2 (a weighted
  harmonic mean). This is approximate (E949's candidates and backgrounds differ between PNN1,
  PNN2 and across cells, and the momentum resolution is folded into each two-body limit) and
  labelled so in every result. The spectrum is the package's dGamma/dq2 (:func:`evtgen.spectrum`).
- Limits: :func:`analyses.stats.fit` (one-sided Wilks by default, 95% CL = 1.645 sigma).

Where NA62 is blind. For K+ -> pi+ X, E949's PNN1 curve reaches m_X = 125 MeV and PNN2 starts at
150.5 MeV, so E949 constrains 110-125 and 150.5-154 MeV where NA62's Regions 1/2 do not reach.
For K+ -> pi+ phi phi the PNN2 upper edge (m_miss = 255 MeV digitised, 261 MeV kinematic) is the
same K+ -> pi+ pi+ pi- threshold as NA62's Region 2 (0.068 GeV^2 = (261 MeV)^2): E949 does not
reach m_phi above ~128 MeV either.

The integral is a trapezoid rule on a fixed grid in q2 (numpy): the integrand is a
tabulated, piecewise log-linear curve times a smooth spectrum, with kinks at the table nodes;
adaptive quadrature (scipy.integrate.quad) is used in the tests as the independent check.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

import evtgen
from evtgen import constants as C
from evtgen.errors import PhiphiError, check_positive_int
from evtgen.model import ModelPoint

from . import stats
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "e949"
#: channel -> (mass option, parameter, scaling of the rate in the parameter)
CHANNELS: dict[str, tuple[str, str, str]] = {
    "k2piphiphi": ("mphi", "CS_sd", "quadratic"),
    "k2pix": ("mx", "br", "linear"),
}
APPROXIMATION = (
    "k2piphiphi: effective limit 1/UL_eff = int p(q2)/UL90(sqrt q2) dq2 from E949's two-body K+ -> pi+ X limit "
    "curve (signal events at the limit assumed equal at every m_X; derived, approximate)"
)


@dataclass(frozen=True)
class LimitRange:
    """One mass range of E949's published K+ -> pi+ X limit: nodes m_X (GeV) and UL (at ``cl``)."""

    name: str
    mass: np.ndarray
    upper_limit: np.ndarray

    def contains(self, m: float) -> bool:
        """Whether m lies inside the tabulated range."""
        return bool(self.mass[0] <= m <= self.mass[-1])

    def at(self, m: np.ndarray) -> np.ndarray:
        """UL at masses ``m`` (log-linear interpolation; inf outside the range)."""
        m = np.asarray(m, float)
        out = np.exp(np.interp(m, self.mass, np.log(self.upper_limit)))
        return np.where((m >= self.mass[0]) & (m <= self.mass[-1]), out, np.inf)


def limit_ranges(data: dict[str, Any]) -> tuple[float, tuple[LimitRange, ...]]:
    """(CL, ranges) of the data file's K+ -> pi+ X limit table, checked."""
    table = data["kpix_limits_90"]
    cl = float(table["cl"])
    out = []
    for name, block in table["ranges"].items():
        pts = np.asarray(block["points"], float)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2:
            raise PhiphiError(f"E949 limit range {name!r}: points must be [m_X, UL] pairs")
        if np.any(np.diff(pts[:, 0]) <= 0) or np.any(pts[:, 1] <= 0):
            raise PhiphiError(f"E949 limit range {name!r}: masses must increase and limits be positive")
        out.append(LimitRange(str(name), pts[:, 0], pts[:, 1]))
    return cl, tuple(out)


def p_pi_to_mx(p_pi: float) -> float:
    """Missing mass (GeV) of K+ -> pi+ X for a K+ at rest and pion momentum ``p_pi`` (GeV/c):
    m_X^2 = m_K^2 + m_pi^2 - 2 m_K E_pi (0 where that is negative, i.e. above the two-body endpoint)."""
    mk, mpi = C.mass("K+"), C.mass("pi+")
    m2 = mk * mk + mpi * mpi - 2.0 * mk * math.hypot(p_pi, mpi)
    return math.sqrt(m2) if m2 > 0 else 0.0


def window_mass_ranges(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per signal region (pnn1, pnn2): the pion-momentum window of the data file (with its status) and
    the m_X range it selects for a two-body decay (derived kinematics, K+ at rest), beside the m_X range
    of the digitised limit curve. The digitised curves extend a few MeV beyond the windows' kinematic
    edges (momentum resolution folded into E949's two-body limits)."""
    _, ranges = limit_ranges(data)
    out = {}
    for r in ranges:
        row = data["published"][f"p_pi_window_{r.name}"]
        lo_p, hi_p = (float(v) for v in row["value"])
        out[r.name] = {
            "p_pi_window_GeV": [lo_p, hi_p],
            "p_pi_window_status": row["status"],
            "mx_range_from_window_GeV": sorted([p_pi_to_mx(hi_p), p_pi_to_mx(lo_p)]),
            "mx_range_digitised_GeV": [float(r.mass[0]), float(r.mass[-1])],
        }
    return out


def kpix_limit_90(m_x: float, data: dict[str, Any]) -> float:
    """E949's published 90% CL limit on BR(K+ -> pi+ X) at m_X (GeV); inf where E949 has no reach."""
    _, ranges = limit_ranges(data)
    for r in ranges:
        if r.contains(m_x):
            return float(r.at(np.array([m_x]))[0])
    return math.inf


def effective_limit_90(mphi: float, data: dict[str, Any], *, q2_points: int = 4000) -> dict[str, Any]:
    """Effective 90% CL limit on BR(K+ -> pi+ phi phi) from the two-body curve (see the module
    docstring): ``ul90`` (inf without reach), and per range the fraction of the spectrum inside
    it and its share of the sensitivity."""
    q2_points = check_positive_int("q2_points", q2_points)
    mk, mpi = C.mass("K+"), C.mass("pi+")
    q2_lo, q2_hi = 4.0 * mphi * mphi, (mk - mpi) ** 2
    if not q2_lo < q2_hi:
        raise PhiphiError(f"mphi = {mphi:g} GeV is above the kinematic limit {(mk - mpi) / 2:.5f} GeV")
    spec = functools.partial(evtgen.spectrum, "k2piphiphi", mphi=mphi, couplings={"CS_sd": 1.0})
    grid = np.linspace(q2_lo, q2_hi, 20 * q2_points + 1)
    total = float(np.trapezoid(spec(grid), grid))
    _, ranges = limit_ranges(data)
    inv, parts = 0.0, {}
    for r in ranges:
        a, b = max(q2_lo, r.mass[0] ** 2), min(q2_hi, r.mass[-1] ** 2)
        if not a < b:
            parts[r.name] = {"spectrum_fraction": 0.0, "inverse_ul": 0.0}
            continue
        q2 = np.linspace(a, b, q2_points + 1)
        p = spec(q2) / total
        part = float(np.trapezoid(p / r.at(np.sqrt(q2)), q2))
        parts[r.name] = {"spectrum_fraction": float(np.trapezoid(p, q2)), "inverse_ul": part}
        inv += part
    return {"ul90": 1.0 / inv if inv > 0 else math.inf, "ranges": parts}


def recast(point: ModelPoint, *, data: dict[str, Any], **options: Any) -> Result:
    """95% CL limit on BR(K+ -> pi+ X) (k2pix) or |C_S^sd| (k2piphiphi) from E949's published
    K+ -> pi+ X limits. Options: ``method`` (wilks | cls), ``q2_points``."""
    channel = point.channel or data["analysis"]["default_channel"]
    if channel not in CHANNELS:
        raise PhiphiError(f"channel {channel!r} is not recast by E949; choose one of {', '.join(CHANNELS)}")
    opt, parameter, scaling = CHANNELS[channel]
    mass = point.masses.get(opt)
    if mass is None:
        raise PhiphiError(f"channel {channel} needs --{opt}")
    defaults = {k: v.get("default") for k, v in data["analysis"]["options"].items()}
    get = {k: (options[k] if options.get(k) is not None else defaults[k]) for k in defaults}
    method = str(get["method"])
    ref = float(point.couplings.get(parameter, 0.0))
    if ref == 0.0:
        raise PhiphiError(f"reference coupling {parameter} = 0: give a non-zero --coupling {parameter}=VALUE")
    cl, ranges = limit_ranges(data)
    table = data["kpix_limits_90"]
    rate = evtgen.rate(channel, **{opt: mass}, couplings={parameter: ref})  # also checks the kinematic limit
    provenance: dict[str, Any] = {
        "kpix_limits": {
            "status": table["status"],
            "third_party": table.get("third_party", True),
            "source": table["source"],
            "cl": cl,
        },
        "signal_regions": window_mass_ranges(data),
        "ranges_GeV": {r.name: [float(r.mass[0]), float(r.mass[-1])] for r in ranges},
        "method": method,
    }
    extras: dict[str, Any] = {"br_at_reference": rate.br}
    if channel == "k2pix":
        ul90 = kpix_limit_90(mass, data)
    else:
        eff = effective_limit_90(mass, data, q2_points=int(get["q2_points"]))
        ul90 = eff["ul90"]
        extras["ranges"] = eff["ranges"]
        provenance["approximation"] = APPROXIMATION
    extras["upper_limit_90_br"] = ul90 if math.isfinite(ul90) else None
    if not math.isfinite(ul90):
        span = ", ".join(f"{r.name} {r.mass[0]:.4f}-{r.mass[-1]:.4f}" for r in ranges)
        what = (
            f"m_X = {mass:g} GeV" if channel == "k2pix" else f"the phi phi spectrum (q2 >= {4 * mass * mass:.4f} GeV^2)"
        )
        return no_sensitivity(
            analysis=ANALYSIS,
            point=point,
            parameter=parameter,
            reason=f"no acceptance: {what} lies outside E949's published K+ -> pi+ X mass ranges ({span} GeV)",
            provenance=provenance,
            extras=extras,
        )
    lik = stats.GaussianLimit(upper_limit=ul90, cl=cl, reference=rate.br)
    fit = stats.fit(lik, mu_scale=ul90 / rate.br, method=method)
    extras["upper_limit_90"] = stats.to_parameter(ul90 / rate.br, ref, scaling)
    return from_fit(
        lik,
        fit,
        analysis=ANALYSIS,
        point=point,
        parameter=parameter,
        reference=ref,
        scaling=scaling,
        provenance=provenance,
        extras=extras,
        likelihood_form=f"GaussianLimit on BR(K+ -> pi+ {'X' if channel == 'k2pix' else 'phi phi'}): {lik.form}"
        + ("" if channel == "k2pix" else f"; {APPROXIMATION}"),
    )


def z_90_to_95(method: str = "wilks") -> float:
    """Ratio of the 95% CL limit to the published 90% one for the half-Gaussian likelihood:
    Phi^-1(0.95)/Phi^-1(0.90) (Wilks one-sided) or Phi^-1(0.975)/Phi^-1(0.90) (asymptotic CLs)."""
    if method not in ("wilks", "cls"):
        raise PhiphiError(f"method {method!r}; choose wilks or cls")
    return float(ndtri(0.95 if method == "wilks" else 0.975) / ndtri(0.90))
