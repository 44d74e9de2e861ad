"""Spin-independent phi-nucleon scattering and the published direct-detection limits.

Physics (derivation in ``docs/dark_matter_direct_detection.md``). With the project's convention
L > 1/2 C_q (qbar q) phi^2 + C_G G G phi^2 (C_q = CS_qq in GeV^-1, C_G = CG in GeV^-2) the nucleon-level
Lagrangian is L > 1/2 f_N phi^2 (Nbar N) with

    f_N = sum_{q=u,d,s} (m_N / m_q) f_Tq^(N) C_q + sum_{Q=c,b} (m_N / m_Q) (2/27) f_TG^(N) C_Q
          - (16 pi m_N f_TG^(N) / (9 alpha_s)) C_G                                   [GeV^-1]

(the last two terms from the trace anomaly). The phi N -> phi N amplitude at zero recoil is
c1^N = 2 m_N f_N (the seed's c1^N for quarks) and the cross section of distinguishable particles
(one phi in the final state: no identical-particle factor) is

    sigma_N = |c1^N|^2 / (16 pi (m_phi + m_N)^2) = mu_phiN^2 f_N^2 / (4 pi m_phi^2),

the seed's formula. For a nucleus (Z, A) the coherent amplitude is Z f_p + (A - Z) f_n; an experiment
quoting a per-nucleon cross section under f_p = f_n measures

    sigma_eff(Z, A) = mu_phiN^2 / (4 pi m_phi^2) [(Z f_p + (A - Z) f_n) / A]^2,   m_N = (m_p + m_n)/2,

which is what is compared with its curve. The same scaling holds for Migdal-effect limits (the Migdal
rate is proportional to the nuclear-recoil cross section).

Limit curves: 90% CL upper limits on sigma per nucleon (cm^2) versus mass, interpolated linearly in
(log m, log sigma) with ``numpy.interp`` and never extrapolated: a mass outside a curve's range is a
PhiphiError (``LimitCurve.__call__``); use ``LimitCurve.covers`` to select the applicable curves.
The few lines of interpolation are written here rather than with scipy's interpolators because the
refusal outside the range must be explicit and numpy.interp would silently clamp.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import yaml

from evtgen.errors import PhiphiError

from .. import stats
from . import nucleon as nucleon_me

#: couplings that contribute to spin-independent elastic scattering at tree level
SI_COUPLINGS = ("CS_uu", "CS_dd", "CS_ss", "CS_cc", "CS_bb", "CG")
_QUARK = {"CS_uu": "u", "CS_dd": "d", "CS_ss": "s", "CS_cc": "c", "CS_bb": "b"}
DATA_FILE = "direct_detection_si.yaml"
LIMIT_DIR = ("dm", "limits_SI")


@functools.cache
def _default_data() -> dict[str, Any]:
    with (resources.files("analyses") / "data" / DATA_FILE).open("r") as fh:
        return yaml.safe_load(fh)


def gev2_to_cm2(data: Mapping[str, Any] | None = None) -> float:
    """(hbar c)^2 in cm^2 GeV^2: multiply a cross section in GeV^-2 by this to get cm^2."""
    d = data if data is not None else _default_data()
    return float(d["gev2_to_cm2"]["value"])


# ----------------------------------------------------------------------------- nucleon couplings


def as_matrix_elements(me: nucleon_me.NucleonMatrixElements | str | None) -> nucleon_me.NucleonMatrixElements:
    """``me`` itself, or the named set (None: the default set)."""
    return me if isinstance(me, nucleon_me.NucleonMatrixElements) else nucleon_me.matrix_elements(me)


def nucleon_weights(
    nucleon: str, me: nucleon_me.NucleonMatrixElements | str | None = None, alpha_s: float | None = None
) -> dict[str, float]:
    """Weights w_k (GeV^-1 per unit coupling) with f_N = sum_k w_k C_k for k in :data:`SI_COUPLINGS`:
    w_q = m_N f_Tq^(N) / m_q, w_G = -16 pi m_N f_TG^(N) / (9 alpha_s) (times GeV for CG in GeV^-2)."""
    m = as_matrix_elements(me)
    a_s = nucleon_me.default_alpha_s() if alpha_s is None else float(alpha_s)
    if not (a_s > 0 and math.isfinite(a_s)):
        raise PhiphiError(f"alpha_s = {alpha_s!r} must be a positive number")
    m_n = nucleon_me.nucleon_mass(nucleon)
    w = {name: m_n * m.f(nucleon, q) / nucleon_me.quark_mass(q) for name, q in _QUARK.items()}
    w["CG"] = -16.0 * math.pi * m_n * m.f_TG(nucleon) / (9.0 * a_s)
    return w


def _check_couplings(couplings: Mapping[str, Any]) -> None:
    bad = [k for k in couplings if k not in SI_COUPLINGS]
    if bad:
        raise PhiphiError(
            f"coupling {bad[0]!r} does not enter spin-independent scattering; allowed: {', '.join(SI_COUPLINGS)}"
        )


def effective_coupling(
    nucleon: str,
    couplings: Mapping[str, Any],
    me: nucleon_me.NucleonMatrixElements | str | None = None,
    alpha_s: float | None = None,
):
    """f_N in GeV^-1 (L > 1/2 f_N phi^2 Nbar N) for the SI couplings given (numpy arrays broadcast)."""
    _check_couplings(couplings)
    w = nucleon_weights(nucleon, me, alpha_s)
    return sum((w[k] * np.asarray(v, dtype=float) for k, v in couplings.items()), np.float64(0.0))


def c1(nucleon: str, couplings: Mapping[str, Any], me=None, alpha_s: float | None = None):
    """The seed's c1^N = 2 m_N f_N (dimensionless): the phi N -> phi N amplitude at zero recoil."""
    return 2.0 * nucleon_me.nucleon_mass(nucleon) * effective_coupling(nucleon, couplings, me, alpha_s)


def _prefactor_gev(mphi: float, m_nucleon: float):
    mphi = np.asarray(mphi, dtype=float)
    if np.any(~(mphi > 0)):
        raise PhiphiError(f"m_phi = {mphi} GeV must be positive for direct detection")
    mu = mphi * m_nucleon / (mphi + m_nucleon)
    return mu * mu / (4.0 * math.pi * mphi * mphi)


def sigma_nucleon(mphi: float, couplings: Mapping[str, Any], nucleon: str, me=None, alpha_s: float | None = None):
    """sigma_SI^N in cm^2 for N = p or n: mu_phiN^2 f_N^2 / (4 pi m_phi^2)."""
    f = effective_coupling(nucleon, couplings, me, alpha_s)
    return _prefactor_gev(mphi, nucleon_me.nucleon_mass(nucleon)) * f * f * gev2_to_cm2()


@dataclass(frozen=True)
class Target:
    """A detector nucleus for the isospin weighting: Z and (mean) A."""

    name: str
    Z: float
    A: float

    def __post_init__(self) -> None:
        if not (0 < self.Z < self.A):
            raise PhiphiError(f"target {self.name}: need 0 < Z < A (got Z = {self.Z}, A = {self.A})")


def target(name: str, data: Mapping[str, Any] | None = None) -> Target:
    """The target ``name`` (Xe, Ar, CaWO4_light) from the analysis data file."""
    d = (data if data is not None else _default_data())["targets"]
    if name not in d:
        raise PhiphiError(f"target {name!r} is unknown; choose one of {', '.join(d)}")
    return Target(name, float(d[name]["Z"]), float(d[name]["A"]))


def target_weights(tgt: Target, me=None, alpha_s: float | None = None) -> dict[str, float]:
    """Per-nucleon weights of the nucleus: [(Z w_k^p + (A - Z) w_k^n)/A] for each SI coupling."""
    wp, wn = nucleon_weights("p", me, alpha_s), nucleon_weights("n", me, alpha_s)
    return {k: (tgt.Z * wp[k] + (tgt.A - tgt.Z) * wn[k]) / tgt.A for k in SI_COUPLINGS}


def sigma_per_nucleon(mphi: float, couplings: Mapping[str, Any], tgt: Target, me=None, alpha_s: float | None = None):
    """Effective per-nucleon sigma (cm^2) that an experiment with target ``tgt`` (assuming f_p = f_n)
    would infer: mu_phiN^2 / (4 pi m_phi^2) [(Z f_p + (A - Z) f_n)/A]^2 with m_N = (m_p + m_n)/2."""
    _check_couplings(couplings)
    w = target_weights(tgt, me, alpha_s)
    amp = sum((w[k] * np.asarray(v, dtype=float) for k, v in couplings.items()), np.float64(0.0))
    return _prefactor_gev(mphi, nucleon_me.average_nucleon_mass()) * amp * amp * gev2_to_cm2()


# ----------------------------------------------------------------------------- isospin ratios (seed)


def r_pm(nucleon: str, me=None) -> tuple[float, float]:
    """The seed's r_+^N, r_-^N = 1/2 [f_Tu m_s/(f_Ts m_u) +- f_Td m_s/(f_Ts m_d)]."""
    m = as_matrix_elements(me)
    ms, mu, md = (nucleon_me.quark_mass(q) for q in ("s", "u", "d"))
    a = m.f(nucleon, "u") * ms / (m.f(nucleon, "s") * mu)
    b = m.f(nucleon, "d") * ms / (m.f(nucleon, "s") * md)
    return 0.5 * (a + b), 0.5 * (a - b)


def isospin_ratios(couplings: Mapping[str, float]) -> tuple[float, float]:
    """(R_-, R_s) = ((C_uu - C_dd)/(C_uu + C_dd), C_ss/(C_uu + C_dd)).

    R_s is written C_ss/(C_uu + C_dd): the identity c1 = (2 m_N^2/m_s) f_Ts (C_uu + C_dd)(r_+ + r_- R_- + R_s)
    of the seed's kaon slide holds only with this R_s (the slide's text shows (C_uu + C_dd)/(C_uu + C_dd),
    a transcription error)."""
    cu, cd, cs = (float(couplings.get(k, 0.0)) for k in ("CS_uu", "CS_dd", "CS_ss"))
    if cu + cd == 0:
        raise PhiphiError("R_- and R_s need C_uu + C_dd != 0")
    return (cu - cd) / (cu + cd), cs / (cu + cd)


def couplings_from_ratios(c_plus, r_minus, r_s) -> dict[str, Any]:
    """C_uu, C_dd, C_ss from C_+ = C_uu + C_dd, R_- and R_s (numpy arrays broadcast)."""
    c_plus, r_minus, r_s = (np.asarray(x, dtype=float) for x in (c_plus, r_minus, r_s))
    return {"CS_uu": 0.5 * c_plus * (1.0 + r_minus), "CS_dd": 0.5 * c_plus * (1.0 - r_minus), "CS_ss": c_plus * r_s}


def c1_from_ratios(nucleon: str, c_plus, r_minus, r_s, me=None):
    """The seed's form c1^N = (2 m_N^2/m_s) f_Ts^(N) C_+ (r_+^N + r_-^N R_- + R_s) (quarks u, d, s only)."""
    m = as_matrix_elements(me)
    mn = nucleon_me.nucleon_mass(nucleon)
    rp, rm = r_pm(nucleon, m)
    return 2.0 * mn * mn / nucleon_me.quark_mass("s") * m.f(nucleon, "s") * c_plus * (rp + rm * r_minus + r_s)


# ----------------------------------------------------------------------------- limit curves


@dataclass(frozen=True, eq=False)
class LimitCurve:
    """A published upper limit on sigma_SI per nucleon (cm^2) versus m_DM (GeV)."""

    name: str
    paper: str
    target: Target
    cl: float
    mass: np.ndarray
    sigma: np.ndarray
    file: str
    migdal: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if self.mass.ndim != 1 or self.mass.shape != self.sigma.shape or len(self.mass) < 2:
            raise PhiphiError(f"limit curve {self.name}: need two columns of equal length >= 2")
        if np.any(np.diff(self.mass) <= 0) or np.any(self.mass <= 0) or np.any(self.sigma <= 0):
            raise PhiphiError(f"limit curve {self.name}: masses must increase and all values be positive")

    @property
    def m_min(self) -> float:
        """Lowest mass of the curve (GeV)."""
        return float(self.mass[0])

    @property
    def m_max(self) -> float:
        """Highest mass of the curve (GeV)."""
        return float(self.mass[-1])

    def covers(self, mphi: float) -> bool:
        """True when m_min <= mphi <= m_max."""
        return self.m_min <= mphi <= self.m_max

    def __call__(self, mphi: float) -> float:
        """The limit at ``mphi`` (log-log interpolation); PhiphiError outside the curve's range."""
        m = float(mphi)
        if not self.covers(m):
            raise PhiphiError(
                f"m_phi = {m:g} GeV is outside the {self.name} curve's range [{self.m_min:g}, {self.m_max:g}] GeV"
                " (limits are not extrapolated)"
            )
        return float(np.exp(np.interp(math.log(m), np.log(self.mass), np.log(self.sigma))))


def read_curve(path) -> tuple[np.ndarray, np.ndarray]:
    """Two columns (mass GeV, sigma cm^2) of a limit file; '#' lines are comments."""
    arr = np.loadtxt(path, comments="#", ndmin=2)
    return arr[:, 0].copy(), arr[:, 1].copy()


def limit_curves(data: Mapping[str, Any] | None = None, names: Iterable[str] | None = None) -> list[LimitCurve]:
    """The limit curves listed under ``experiments`` in the analysis data file (optionally only ``names``)."""
    d = data if data is not None else _default_data()
    exps = d["experiments"]
    wanted = list(exps) if names is None else list(names)
    unknown = [n for n in wanted if n not in exps]
    if unknown:
        raise PhiphiError(f"experiment {unknown[0]!r} is unknown; choose from {', '.join(exps)}")
    base = resources.files("analyses") / "data"
    for part in LIMIT_DIR:
        base = base / part
    out = []
    for n in wanted:
        e = exps[n]
        with resources.as_file(base / e["file"]) as p:
            mass, sigma = read_curve(p)
        out.append(
            LimitCurve(
                name=n,
                paper=str(e["paper"]),
                target=target(str(e["target"]), d),
                cl=float(e["cl"]),
                mass=mass,
                sigma=sigma,
                file=str(e["file"]),
                migdal=bool(e.get("migdal", False)),
                note=str(e.get("note", "")),
            )
        )
    return out


@dataclass(frozen=True)
class Comparison:
    """The model's effective sigma per nucleon against one experiment's limit at one mass."""

    experiment: str
    paper: str
    target: str
    cl: float
    sigma_eff_cm2: float
    limit_cm2: float
    migdal: bool

    @property
    def ratio(self) -> float:
        """sigma_eff / limit (> 1: excluded at the published CL)."""
        return self.sigma_eff_cm2 / self.limit_cm2

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "experiment": self.experiment,
            "paper": self.paper,
            "target": self.target,
            "cl": self.cl,
            "sigma_eff_cm2": self.sigma_eff_cm2,
            "limit_cm2": self.limit_cm2,
            "ratio": self.ratio,
            "migdal": self.migdal,
        }


def applicable(curves: Sequence[LimitCurve], mphi: float) -> list[LimitCurve]:
    """The curves whose mass range contains ``mphi``."""
    return [c for c in curves if c.covers(mphi)]


def compare(
    mphi: float,
    couplings: Mapping[str, float],
    curves: Sequence[LimitCurve],
    me=None,
    alpha_s: float | None = None,
    rate_scale: float = 1.0,
) -> list[Comparison]:
    """One :class:`Comparison` per curve covering ``mphi`` (the expected rate times ``rate_scale``)."""
    out = []
    for c in applicable(curves, mphi):
        s = float(sigma_per_nucleon(mphi, couplings, c.target, me, alpha_s)) * rate_scale
        out.append(Comparison(c.name, c.paper, c.target.name, c.cl, s, c(mphi), c.migdal))
    return out


def strongest(comparisons: Sequence[Comparison]) -> Comparison | None:
    """The most constraining comparison: largest sigma_eff/limit (smallest limit on a tie, e.g. all zero)."""
    if not comparisons:
        return None
    return max(comparisons, key=lambda c: (c.ratio, -c.limit_cm2))


def twice_nll(
    mphi: float,
    couplings: Mapping[str, float],
    curves: Sequence[LimitCurve],
    me=None,
    alpha_s: float | None = None,
    rate_scale: float = 1.0,
) -> float:
    """Approximate -2 ln L of the point for a combined fit: max over the applicable curves of the
    :class:`analyses.stats.GaussianLimit` form (sigma_eff / sigma_G)^2, sigma_G = UL / Phi^-1(CL).
    (The maximum of continuous functions: continuous in the couplings; 0 where no curve applies.)"""
    best = 0.0
    for c in compare(mphi, couplings, curves, me, alpha_s, rate_scale):
        lik = stats.GaussianLimit(upper_limit=c.limit_cm2, cl=c.cl, reference=c.sigma_eff_cm2)
        best = max(best, lik.twice_nll(1.0))
    return best


def allowed_interval(
    mphi: float,
    couplings: Mapping[str, float],
    parameter: str,
    curves: Sequence[LimitCurve],
    me=None,
    alpha_s: float | None = None,
    rate_scale: float = 1.0,
) -> tuple[float, float] | None:
    """Values of coupling ``parameter`` allowed by every applicable curve at its published CL, the other
    couplings fixed at their values in ``couplings``. The amplitude is linear, a C + b, so each curve allows
    |a C + b| <= s and the answer is an interval (None if the curves allow no value at all; (-inf, inf) if
    no curve applies). Exact: no statistics beyond the published limits."""
    if parameter not in SI_COUPLINGS:
        raise PhiphiError(f"parameter {parameter!r}; choose one of {', '.join(SI_COUPLINGS)}")
    _check_couplings(couplings)
    lo, hi = -math.inf, math.inf
    others = {k: float(v) for k, v in couplings.items() if k != parameter}
    pref = _prefactor_gev(mphi, nucleon_me.average_nucleon_mass()) * gev2_to_cm2() * rate_scale
    for c in applicable(curves, mphi):
        w = target_weights(c.target, me, alpha_s)
        a = w[parameter]
        b = sum(w[k] * v for k, v in others.items())
        s = math.sqrt(c(mphi) / pref)
        if a == 0:
            if abs(b) > s:
                return None
            continue
        x1, x2 = sorted(((-b - s) / a, (-b + s) / a))
        lo, hi = max(lo, x1), min(hi, x2)
    return (lo, hi) if lo <= hi else None


def coupling_limit_vs_mass(
    masses: Iterable[float],
    couplings: Mapping[str, float],
    parameter: str,
    curves: Sequence[LimitCurve] | None = None,
    me=None,
    alpha_s: float | None = None,
) -> list[dict[str, Any]]:
    """For each mass: the allowed interval of ``parameter`` (others fixed) and the curve setting the
    strongest limit on ``parameter`` alone; masses no curve covers give ``interval = None``, ``experiment = None``."""
    curves = limit_curves() if curves is None else curves
    out = []
    for m in masses:
        m = float(m)
        if not applicable(curves, m):
            out.append({"mphi": m, "interval": None, "experiment": None})
            continue
        iv = allowed_interval(m, couplings, parameter, curves, me, alpha_s)
        one = strongest(compare(m, {parameter: 1.0}, curves, me, alpha_s))
        out.append({"mphi": m, "interval": iv, "experiment": one.experiment if one else None})
    return out
