"""Planck 2018 CMB bound on s-wave phi phi annihilation: p_ann = sum_i f_eff,i <sigma v>_i / m_phi
< 3.2e-28 cm^3 s^-1 GeV^-1 (95% CL).

Parameter: ``coupling_scale`` t (couplings = t x the point's; p_ann scales as t^2). Likelihood: the
engine's :class:`~analyses.stats.GaussianLimit` on p_ann (half-Gaussian matching the published
one-sided limit; its ``form`` is reported), limit by one-sided Wilks. ``extras`` gives p_ann at the
point, the f_eff per channel (derived, see analyses/dm/cmb.py), the s-wave fractions at recombination
and the channels left out for lack of an f_eff (the bound is then weaker than the truth).
"""

from __future__ import annotations

from evtgen.errors import PhiphiError
from evtgen.model import ModelPoint

from . import stats
from .dm import annihilation as ann
from .dm import cmb as dm_cmb
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "cmb"
PARAMETER = "coupling_scale"


def recast(point: ModelPoint, *, data: dict, m_switch: float | None = None) -> Result:
    """Upper limit on the coupling scale from the Planck p_ann bound."""
    if point.mphi is None:
        raise PhiphiError("the cmb analysis needs --mphi")
    cpl = {k: v for k, v in point.couplings.items() if k in ann.COUPLINGS and v != 0}
    if not cpl:
        raise PhiphiError(f"the cmb analysis needs at least one of {', '.join(ann.COUPLINGS)} non-zero")
    info = dm_cmb.p_ann(point.mphi, cpl, m_switch=m_switch)
    limit = float(data["p_ann_95"]["value"])
    prov = {
        "paper": "Planck 2018 VI, arXiv:1807.06209 Sec. 7.5",
        "f_eff": data.get("f_eff_source", ""),
        "derived": (
            "f_eff(pi0 pi0), f_eff(pi+ pi-) from Slatyer 2016 Fig. 3 and decay kinematics; the other channels "
            "(K K, eta eta, pi0 eta, q qbar, g g) from Slatyer 2016 Fig. 3 folded with Pythia 8 e+-/gamma spectra "
            "(analyses/data/dm/feff_derived_pythia.csv)"
        ),
        "m_switch_GeV": ann.m_switch_default() if m_switch is None else m_switch,
    }
    extras = {k: info[k] for k in info}
    extras["p_ann_95"] = limit
    if info["p_ann"] <= 0:
        why = (
            "no s-wave annihilation at recombination"
            if not info["sigma_v_swave_GeV-2"]
            else f"no f_eff available for the open channels {info['channels_without_f_eff']}"
        )
        res = no_sensitivity(
            analysis=ANALYSIS, point=point, parameter=PARAMETER, reason=why, provenance=prov, extras=extras
        )
        res.unit = "1"
        res.value_at_point = 1.0
        return res
    lik = stats.GaussianLimit(upper_limit=limit, cl=float(data["p_ann_95"]["cl"]), reference=info["p_ann"])
    fit = stats.fit(lik, mu_scale=limit / info["p_ann"], method="wilks")
    res = from_fit(
        lik,
        fit,
        analysis=ANALYSIS,
        point=point,
        parameter=PARAMETER,
        reference=1.0,
        scaling="quadratic",  # p_ann scales as the coupling scale squared
        unit="1",
        provenance=prov,
        extras={**extras, "p_ann_over_limit": info["p_ann"] / limit},
        likelihood_form=f"GaussianLimit on p_ann: {lik.form}",
        value_at_point=1.0,
    )
    res.channel = None
    return res
