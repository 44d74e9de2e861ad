"""Spin-independent direct detection of phi: the published 90% CL limits on sigma_SI per nucleon
(LZ, XENONnT, PandaX-4T, DarkSide-50, CRESST-III, DEAP-3600; PandaX-4T-, DarkSide-50- and XENON1T-Migdal for the sub-GeV reach)
against the model's per-nucleon cross section, with isospin violation through each target's Z/A.

What the Result holds (common schema, :mod:`analyses.result`):

- ``parameter``: the coupling named by option ``coefficient`` (CS_uu, CS_dd, CS_ss, CS_cc, CS_bb, CG); the
  other couplings stay fixed at the point's values. ``upper_limit_95`` is the one-sided 95% CL limit
  on |C| along the sign of the point's value (or, when the point's value is 0, towards the cancellation
  if the other couplings are non-zero, else positive), from the approximate likelihood below.
- likelihood: each applicable published limit becomes :class:`analyses.stats.GaussianLimit`
  (-2 ln L = (sigma_eff / sigma_G)^2, sigma_G = UL90 / 1.2816); the point's -2 ln L is the maximum over
  the applicable experiments (continuous in the couplings). ``excluded_95`` is -2 ln L(point) > 2.706
  in that approximation; the headline verdict at the published CL is ``extras["excluded_90_published"]``
  (sigma_eff > UL90 of the strongest applicable experiment).
- ``extras``: sigma_SI^p, sigma_SI^n (cm^2), the effective per-nucleon sigma for each target, every
  applicable experiment's limit and ratio, the strongest one, the exact allowed interval of the chosen
  coupling at the published CL (others fixed), f_p, f_n, c1^p, c1^n, R_-, R_s, r_+-.

Option ``rescale_relic``: where Omega h^2 < Omega_obs h^2 the expected rate is multiplied by
Omega/Omega_obs (phi is then a sub-component of the dark matter), with Omega h^2 from
:func:`analyses.dm.relic.omega_h2` at the point; the factor is held fixed while the chosen coupling is
varied for its limit (stated in the Result).
"""

from __future__ import annotations

import math
from typing import Any

from evtgen import couplings as couplings_registry
from evtgen.errors import PhiphiError
from evtgen.model import ModelPoint

from . import stats
from .dm import direct_detection as dd
from .dm import nucleon as nucleon_me
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "dd"
#: couplings of the registry that do not enter SI elastic scattering at tree level (ignored, listed)
_NOT_SI_BUT_PHI = tuple(k for k, row in couplings_registry.COUPLINGS.items() if row.half and k not in dd.SI_COUPLINGS)


def _split_couplings(point: ModelPoint) -> tuple[dict[str, float], list[str]]:
    si, ignored = {}, []
    for k, v in point.couplings.items():
        if k in dd.SI_COUPLINGS:
            si[k] = float(v)
        elif k in _NOT_SI_BUT_PHI:
            ignored.append(k)
        else:
            raise PhiphiError(
                f"coupling {k!r} is not a phi coupling of direct detection; allowed: {', '.join(dd.SI_COUPLINGS)}"
            )
    return si, ignored


def relic_rescaling(mphi: float, couplings: dict[str, float], omega_obs: float) -> tuple[float, float]:
    """(Omega h^2 of the point, factor min(1, Omega/Omega_obs)) from :func:`analyses.dm.relic.omega_h2`."""
    from analyses.dm.relic import omega_h2  # written by the relic analysis; imported only when asked for

    omega = float(omega_h2(mphi, couplings))
    if not (math.isfinite(omega) and omega > 0):
        raise PhiphiError(f"omega_h2 = {omega!r} at m_phi = {mphi:g} GeV is not a positive number")
    return omega, min(1.0, omega / omega_obs)


class _CouplingLikelihood:
    """-2 ln L as a function of mu, with the chosen coupling C = reference * sqrt(mu), others fixed."""

    def __init__(self, mphi, couplings, parameter, reference, curves, me, alpha_s, rate_scale):
        self.args = (mphi, couplings, parameter, reference, curves, me, alpha_s, rate_scale)

    def twice_nll(self, mu: float) -> float:
        mphi, couplings, parameter, reference, curves, me, alpha_s, rate_scale = self.args
        c = dict(couplings)
        c[parameter] = reference * math.sqrt(max(mu, 0.0))
        return dd.twice_nll(mphi, c, curves, me, alpha_s, rate_scale)

    def twice_nll_asimov(self, mu: float) -> None:
        return None


def _reference(mphi, couplings, parameter, curves, me, alpha_s, rate_scale) -> float:
    """Signed reference value of the chosen coupling (its value at mu = 1): the size at which the chosen
    coupling alone would saturate the strongest applicable limit; the sign as documented in the module."""
    alone = dd.allowed_interval(mphi, {parameter: 0.0}, parameter, curves, me, alpha_s, rate_scale)
    scale = alone[1] if alone else 1.0
    at_point = couplings.get(parameter, 0.0)
    if at_point != 0.0:
        return math.copysign(scale, at_point)
    others = {k: v for k, v in couplings.items() if k != parameter}
    if any(v != 0.0 for v in others.values()):
        iv = dd.allowed_interval(mphi, others, parameter, curves, me, alpha_s, rate_scale)
        if iv is not None and 0.5 * (iv[0] + iv[1]) < 0:
            return -scale
    return scale


def recast(
    point: ModelPoint,
    *,
    data: dict,
    coefficient: str = "CS_ss",
    nucleon_set: str | None = None,
    alpha_s: float | None = None,
    experiments: str = "",
    rescale_relic: bool = False,
) -> Result:
    """Direct-detection constraint at the point's m_phi on coupling ``coupling`` (others fixed)."""
    mphi = point.mphi
    if mphi is None or not mphi > 0:
        raise PhiphiError("direct detection needs --mphi > 0 (GeV)")
    coupling = coefficient
    if coupling not in dd.SI_COUPLINGS:
        raise PhiphiError(f"coefficient = {coupling!r}; choose one of {', '.join(dd.SI_COUPLINGS)}")
    couplings, ignored = _split_couplings(point)
    me = nucleon_me.matrix_elements(nucleon_set or None)
    a_s = nucleon_me.default_alpha_s() if alpha_s is None else float(alpha_s)
    names = [n.strip() for n in experiments.split(",") if n.strip()] if experiments else None
    curves = dd.limit_curves(data, names)

    omega_obs = float(data["omega_obs_h2"]["value"])
    omega, rate_scale = (None, 1.0)
    if rescale_relic:
        omega, rate_scale = relic_rescaling(mphi, couplings, omega_obs)

    provenance: dict[str, Any] = {
        "convention": "half: L > 1/2 C_q (qbar q) phi^2 + C_G G G phi^2 (project's); C' = C/2 without the 1/2",
        "nucleon_matrix_elements": me.as_dict(),
        "quark_masses_GeV": {q: nucleon_me.quark_mass(q) for q in ("u", "d", "s", "c", "b")},
        "alpha_s": {
            "value": a_s,
            "status": "assumed scale (M_Z) for C_G" if alpha_s is None else "user option",
            "note": "the gluon term scales as 1/alpha_s",
        },
        "limit_curves": {c.name: {"file": f"analyses/data/dm/limits_SI/{c.file}", "paper": c.paper} for c in curves},
        "limits_sources": (
            "analyses/data/dm/limits_SI/SOURCES.md (digitised by cajohare/DirectDetectionPlots, commit 7d669ed; "
            "the PandaX-4T and DarkSide-50 Migdal curves by DarkLim)"
        ),
        "pandax_migdal": (
            "PandaX-4T Migdal (arXiv:2308.01540) and DarkSide-50 Migdal (arXiv:2207.11967): third-party digitisations "
            "of the papers' figures shipped by DarkLim (spice-herald/DarkLim); no table was published by the "
            "collaborations. Cross-check: DarkLim's XENON1T-Migdal digitisation agrees with ours within 10%"
        ),
        "halo": {k: v for k, v in data["halo"].items()},
        "targets": data["targets"],
        "isotopes": "mean A per element (isotope spread neglected; matters only near a cancellation f_p/f_n = -(A-Z)/Z)",
    }
    if ignored:
        provenance["ignored_couplings"] = f"{', '.join(ignored)}: no tree-level spin-independent elastic scattering"
    if rescale_relic:
        provenance["relic_rescaling"] = {
            "omega_h2": omega,
            "omega_obs_h2": omega_obs,
            "factor": rate_scale,
            "source": "analyses.dm.relic.omega_h2; Omega_obs: " + data["omega_obs_h2"]["source"],
            "note": "factor held fixed while the chosen coupling is varied",
        }

    def nucleon_block() -> dict[str, Any]:
        out: dict[str, Any] = {
            "sigma_SI_p_cm2": float(dd.sigma_nucleon(mphi, couplings, "p", me, a_s)),
            "sigma_SI_n_cm2": float(dd.sigma_nucleon(mphi, couplings, "n", me, a_s)),
            "f_p_GeV-1": float(dd.effective_coupling("p", couplings, me, a_s)),
            "f_n_GeV-1": float(dd.effective_coupling("n", couplings, me, a_s)),
            "c1_p": float(dd.c1("p", couplings, me, a_s)),
            "c1_n": float(dd.c1("n", couplings, me, a_s)),
            "sigma_per_nucleon_cm2": {
                t: float(dd.sigma_per_nucleon(mphi, couplings, dd.target(t, data), me, a_s)) for t in data["targets"]
            },
            "r_pm": {n: list(dd.r_pm(n, me)) for n in nucleon_me.NUCLEONS},
            "rate_scale": rate_scale,
        }
        try:
            out["R_minus"], out["R_s"] = dd.isospin_ratios(couplings)
        except PhiphiError:
            out["R_minus"] = out["R_s"] = None
        return out

    extras = nucleon_block()
    comps = dd.compare(mphi, couplings, curves, me, a_s, rate_scale)
    if not comps:
        ranges = ", ".join(f"{c.name} [{c.m_min:.3g}, {c.m_max:.3g}]" for c in curves)
        return no_sensitivity(
            analysis=ANALYSIS,
            point=point,
            parameter=coupling,
            reason=f"m_phi = {mphi:g} GeV is outside every limit curve's range (GeV): {ranges}; no extrapolation",
            provenance=provenance,
            extras=extras,
        )
    best = dd.strongest(comps)
    extras["experiments"] = [c.as_dict() for c in comps]
    extras["strongest"] = best.as_dict()
    extras["excluded_90_published"] = best.ratio > 1.0
    iv = dd.allowed_interval(mphi, couplings, coupling, curves, me, a_s, rate_scale)
    extras["allowed_interval_90_published"] = list(iv) if iv is not None else None
    extras["allowed_interval_note"] = (
        f"values of {coupling} allowed by every applicable curve at its published 90% CL, other couplings fixed"
    )

    reference = _reference(mphi, couplings, coupling, curves, me, a_s, rate_scale)
    lik = _CouplingLikelihood(mphi, couplings, coupling, reference, curves, me, a_s, rate_scale)
    fit = stats.fit(lik, mu_scale=1.0, method="wilks")
    form = (
        f"per experiment {stats.GaussianLimit.form}, on sigma_eff per nucleon (cm^2) x rate_scale; "
        "-2lnL = max over the applicable experiments; C = reference*sqrt(mu), other couplings fixed"
    )
    result = from_fit(
        lik,
        fit,
        analysis=ANALYSIS,
        point=point,
        parameter=coupling,
        reference=reference,
        scaling="quadratic",
        provenance=provenance,
        extras=extras,
        likelihood_form=form,
    )
    point_nll = dd.twice_nll(mphi, couplings, curves, me, a_s, rate_scale)
    result.value_at_point = couplings.get(coupling, 0.0)
    result.twice_nll_point = point_nll
    result.twice_nll_null = 0.0  # no phi-nucleon scattering (sigma = 0)
    result.excluded_95 = point_nll > stats.Q_95_ONE_SIDED
    result.extras["upper_limit_95_sign"] = "+" if reference > 0 else "-"
    return result


def plot(result: Result, path, *, point: ModelPoint | None = None, **options: Any) -> None:
    """The R_- - R_s plane allowed at the point's m_phi (seed Fig. 4 right), C_uu + C_dd, C_G, C_cc, C_bb
    fixed at the point's values, the point marked (``phiphi recast dd ... --plot FILE.png``)."""
    from .dm.figures_dd import plot_isospin_plane

    if point is None or point.mphi is None:
        raise PhiphiError("plot: the R_- - R_s plane needs the model point (m_phi and couplings)")
    couplings, _ = _split_couplings(point)
    cplus = couplings.get("CS_uu", 0.0) + couplings.get("CS_dd", 0.0)
    if cplus == 0:
        raise PhiphiError("plot: the R_- - R_s plane needs C_uu + C_dd != 0 at the point")
    experiments = options.get("experiments") or ""
    names = [n.strip() for n in experiments.split(",") if n.strip()] or None
    extra = {k: v for k, v in couplings.items() if k not in ("CS_uu", "CS_dd", "CS_ss")}
    plot_isospin_plane(
        point.mphi,
        cplus,
        path,
        curves=dd.limit_curves(names=names),
        me=nucleon_me.matrix_elements(options.get("nucleon_set") or None),
        alpha_s=options.get("alpha_s"),
        other_couplings=extra,
        rate_scale=float(result.extras.get("rate_scale", 1.0)),
        point=dd.isospin_ratios(couplings),
    )
