"""Recast of Belle's B -> h nu nubar search with semileptonic tagging (711 fb^-1, arXiv:1702.03224,
PRD 96 (2017) 091101) for B -> K* phi phi (|C_P^sb|, channel ``b2kstarphiphi``) and B -> K phi phi
(|C_S^sb|, ``b2kphiphi``). Registered as ``belle2017`` by ``analyses/data/belle_bhnunu_2017.yaml``;
entry point :func:`recast`. The same published-limit machinery serves ``babar2013``
(:mod:`analyses.babar_bknunu_2013`): :func:`published_limit_recast`, :func:`limits_vs_mass`,
:func:`plot_kstar_limits` are public for it.

Inputs. The published 90% CL upper limits on B(B -> K(*) nu nubar) per mode (B0 -> K*0,
B+ -> K*+, combined K*, B+ -> K+, B0 -> K0), transcribed from the papers' tables by flavio
(the data file names the source of each number). Neither paper's efficiency versus q2 (or s_B)
was found (the data files list where it was searched), so the limits are read by default with a
FLAT efficiency: the phi phi signal is assumed to be selected as efficiently as the SM signal the
limit was derived for. Option ``efficiency`` replaces it by a DERIVED proxy, the q2 shape of Belle
II's released B+ -> K+ nu nubar efficiency maps (hadronic tag ``belle2_hta_shape``, inclusive tag
``belle2_ita_shape``); :func:`efficiency_ratio_to_sm` folds it with the phi phi spectrum (or with the
q2 of generated events, ``n_events``) and with the SM spectrum. Every result gives the limit under
all three in ``extras["efficiency_bracket"]``. Option ``efficiency_ratio`` (default 1) multiplies
the model used; the coupling limit goes as (efficiency ratio)^-1/2.

Rates (the physics choices, each labelled in the result's provenance):

- ``b0_kstar0``: the TOTAL B0 -> K*0 phi phi branching ratio, all K*0 decays
  (:func:`kstar_total_br`): the experiments' K* limits are on B(B -> K* nu nubar), summed over
  the K* decays they reconstruct and corrected for their branching ratios. evtgen's rate for
  ``b2kstarphiphi`` states its ``br`` as the total rate and ``br_visible`` = 2/3 br (K*0 -> K+ pi-, the
  mode of every generated event); the total is used here (:data:`KSTAR_KPI_FRACTION_IN_EVTGEN_RATE`
  = 1: no K* branching fraction in ``br``; ``tests/test_belle2017_recast.py`` pins this against an
  independent integral and against the rate's ``visible_fraction``).
- ``bplus_kstarplus``: B+ -> K*+ phi phi by isospin: the same width as B0 -> K*0 phi phi (same
  b -> s current, spectator u instead of d), so BR = BR(B0 -> K*0 phi phi) tau_B+/tau_B0 (DERIVED;
  the lifetimes from ``particle``; the 4 MeV K* and 0.3 MeV B mass differences are neglected).
- ``bplus_kplus``: evtgen's ``b2kphiphi`` rate (B+ -> K+ phi phi).
- ``b0_kzero``: B0 -> K0 phi phi by isospin, BR(B+ -> K+ phi phi) tau_B0/tau_B+ (DERIVED).

Likelihood: :class:`analyses.stats.GaussianLimit` on the mode's published 90% CL limit,
-2lnL = (eps_ratio BR / sigma)^2 with sigma = UL90/Phi^-1(0.90); limits from
:func:`analyses.stats.fit` (one-sided Wilks by default: UL95 = 1.645/1.2816 UL90 in BR).

What the result depends on (``extras["spectra"]``): the phi phi spectrum starts at
q2 = 4 m_phi^2 while the SM B -> K* nu nubar spectrum (coded here from the BSZ 2015 form factors
V, A1, A12 of evtgen's data, for comparison only) peaks at low q2. The extras give the fraction
of each spectrum below s_B = q2/m_B^2 cuts and the factor by which the coupling limit would
weaken if the efficiency vanished above that cut (sqrt(F_SM/F_phiphi)): a what-if, not a
measured efficiency.

Integrals are numpy trapezoids on fixed grids (smooth spectra; checked against
scipy.integrate.quad in the tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import evtgen
from evtgen import constants as C
from evtgen import formfactors as FF
from evtgen.errors import PhiphiError, check_positive_int
from evtgen.model import ModelPoint, model_point

from . import stats
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "belle2017"
#: channel -> parameter it limits (the data files' headers say the same; checked in the tests)
PARAMETERS = {"b2kstarphiphi": "CP_sb", "b2kphiphi": "CS_sb"}
#: fraction BR(K*0 -> K+ pi-) that evtgen's b2kstarphiphi rate includes today (1: none, the rate is
#: the total B0 -> K*0 phi phi rate; evtgen states the K+ pi- part separately as br_visible). Would become
#: 2/3 only if evtgen applied the K* branching fraction to br itself.
KSTAR_KPI_FRACTION_IN_EVTGEN_RATE = 1.0
#: BSZ 2015 pole masses (GeV) of the B -> K* form factors used for the SM comparison spectrum
#: only (no limit depends on them): 1- (V) as evtgen's B -> K f+ pole; 1+ (A1, A12) from BSZ 2015
#: Table 3 as recalled, UNVERIFIED (changes the SM spectrum's shape by a few percent at most).
POLE_1MINUS = 5.415
POLE_1PLUS_UNVERIFIED = 5.829
S_B_CUTS = (0.2, 0.4, 0.6)
RATES = ("b0_kstar0", "bplus_kstarplus", "bplus_kplus", "b0_kzero")


# ---------------------------------------------------------------------------------------
# rates
# ---------------------------------------------------------------------------------------
def lifetime_ratio_bplus_b0() -> float:
    """tau(B+)/tau(B0) from the PDG lifetimes of ``particle`` (via evtgen.constants)."""
    return C.lifetime_s("B+") / C.lifetime_s("B0")


def kstar_total_br(mphi: float, cp_sb: float) -> float:
    """Total BR(B0 -> K*0 phi phi), summed over all K*0 decays, at |C_P^sb| = ``cp_sb`` (GeV^-1):
    evtgen's b2kstarphiphi rate divided by the K*0 -> K+ pi- fraction it includes
    (:data:`KSTAR_KPI_FRACTION_IN_EVTGEN_RATE`, 1 today)."""
    rate = evtgen.rate("b2kstarphiphi", mphi=mphi, couplings={"CP_sb": cp_sb})
    return rate.br / KSTAR_KPI_FRACTION_IN_EVTGEN_RATE


def mode_br(rate: str, mphi: float, coupling: float) -> float:
    """Branching ratio of the phi phi decay a published mode constrains (``rate`` as in the
    data files: b0_kstar0, bplus_kstarplus, bplus_kplus, b0_kzero; see the module docstring)."""
    if rate == "b0_kstar0":
        return kstar_total_br(mphi, coupling)
    if rate == "bplus_kstarplus":
        return kstar_total_br(mphi, coupling) * lifetime_ratio_bplus_b0()
    if rate == "bplus_kplus":
        return evtgen.rate("b2kphiphi", mphi=mphi, couplings={"CS_sb": coupling}).br
    if rate == "b0_kzero":
        return evtgen.rate("b2kphiphi", mphi=mphi, couplings={"CS_sb": coupling}).br / lifetime_ratio_bplus_b0()
    raise PhiphiError(f"rate {rate!r} of the data file is unknown; choose one of {', '.join(RATES)}")


RATE_LABELS = {
    "b0_kstar0": "total BR(B0 -> K*0 phi phi), all K*0 decays (evtgen b2kstarphiphi; BR(K*0 -> K+ pi-) not applied)",
    "bplus_kstarplus": "BR(B+ -> K*+ phi phi) = BR(B0 -> K*0 phi phi) tau_B+/tau_B0 (isospin; derived)",
    "bplus_kplus": "BR(B+ -> K+ phi phi) (evtgen b2kphiphi)",
    "b0_kzero": "BR(B0 -> K0 phi phi) = BR(B+ -> K+ phi phi) tau_B0/tau_B+ (isospin; derived)",
}


# ---------------------------------------------------------------------------------------
# spectra: what the flat-efficiency reading depends on
# ---------------------------------------------------------------------------------------
def _bsz(q2: np.ndarray, par: np.ndarray) -> np.ndarray:
    a = np.sqrt(par[1] - q2)
    dz = (a - par[2]) / (a + par[2]) - par[3]
    return (par[4] + par[5] * dz + par[6] * dz * dz) / (1.0 - q2 / (par[0] * par[0]))


def sm_kstar_nunu_shape(q2: np.ndarray) -> np.ndarray:
    """Unnormalised SM dGamma/dq2 of B0 -> K*0 nu nubar (massless neutrinos, left-handed current):
    sqrt(lambda) q2 (|H+|^2 + |H-|^2 + |H0|^2) with H+- = (M+m) A1 -+ sqrt(lambda) V/(M+m),
    H0 = 8 M m A12/sqrt(q2), BSZ 2015 central form factors (for comparison only)."""
    M, m = C.mass("B0"), C.mass("K*0")
    cen = C.load_json(C.load_yaml("constants.yaml")["bkstar_formfactors"]["file"])["central"]

    def ff(name: str, pole: float) -> np.ndarray:
        return _bsz(q2, FF.bsz_params(M, m, pole, [cen[name][k] for k in ("a0", "a1", "a2")]))

    q2 = np.asarray(q2, float)
    lam = np.maximum(C.kallen(M * M, m * m, q2), 0.0)
    v, a1, a12 = ff("V", POLE_1MINUS), ff("A1", POLE_1PLUS_UNVERIFIED), ff("A12", POLE_1PLUS_UNVERIFIED)
    transverse = 2.0 * (M + m) ** 2 * a1**2 + 2.0 * lam * v**2 / (M + m) ** 2
    return np.sqrt(lam) * (q2 * transverse + 64.0 * M * M * m * m * a12**2)


def spectrum_comparison(channel: str, mphi: float, s_cuts: Sequence[float] = S_B_CUTS, n: int = 4001) -> dict:
    """The phi phi spectrum against the SM nu nubar one in s_B = q2/m_B^2: q2 range, mean s_B,
    fraction of each below every cut, and sqrt(F_SM/F_phiphi) (the factor on the coupling limit if
    the efficiency vanished above the cut; None where the phi phi spectrum has nothing below)."""
    if channel not in PARAMETERS:
        raise PhiphiError(f"channel {channel!r}; choose one of {', '.join(PARAMETERS)}")
    ch = evtgen.channel(channel)
    parent = ch.parent
    mb = C.mass(parent)
    lo, hi = ch.q2_limits(mphi)
    q2_np = np.linspace(lo, hi, n)
    p_np = evtgen.spectrum(channel, q2_np, mphi=mphi, couplings={PARAMETERS[channel]: 1.0})
    q2_sm = np.linspace(1e-9, hi, n)
    if channel == "b2kstarphiphi":
        p_sm = sm_kstar_nunu_shape(q2_sm)
    else:
        p_sm = evtgen.spectrum("b2knunu", q2_sm)
    p_np, p_sm = p_np / np.trapezoid(p_np, q2_np), p_sm / np.trapezoid(p_sm, q2_sm)

    def below(q2, p, cut):
        sel = q2 <= cut * mb * mb
        return float(np.trapezoid(p[sel], q2[sel])) if sel.sum() > 1 else 0.0

    rows = []
    for s in s_cuts:
        f_np, f_sm = below(q2_np, p_np, s), below(q2_sm, p_sm, s)
        rows.append(
            {
                "s_B_cut": float(s),
                "fraction_phiphi": f_np,
                "fraction_sm": f_sm,
                "coupling_limit_factor_if_no_efficiency_above": math.sqrt(f_sm / f_np) if f_np > 1e-6 else None,
            }
        )
    return {
        "q2_range_phiphi_GeV2": [float(lo), float(hi)],
        "mean_s_B_phiphi": float(np.trapezoid(p_np * q2_np, q2_np) / mb**2),
        "mean_s_B_sm": float(np.trapezoid(p_sm * q2_sm, q2_sm) / mb**2),
        "below_cut": rows,
        "sm_spectrum": "B0 -> K*0 nu nubar, BSZ 2015 V, A1, A12 (this module)"
        if channel == "b2kstarphiphi"
        else "B+ -> K+ nu nubar (evtgen b2knunu)",
    }


# ---------------------------------------------------------------------------------------
# efficiency versus q2: the papers' curves were not found; a derived bracket
# ---------------------------------------------------------------------------------------
#: efficiency models: "flat" (assumed; the default) and two DERIVED proxies, the q2 shape of Belle II's
#: released B+ -> K+ nu nubar efficiency maps (arXiv:2311.14647; hadronic tag HTA and inclusive tag ITA,
#: summed over their signal-region bins, per true-q2 bin) applied to this search. Neither Belle 2017's
#: nor BaBar 2013's own efficiency versus q2 / s_B was available (the data files list what was searched).
EFFICIENCY_MODELS = {
    "flat": "flat in q2 (assumed): the phi phi signal selected as efficiently as the SM signal",
    "belle2_hta_shape": "derived proxy: q2 shape of Belle II's hadronic-tag (HTA) efficiency map, released with arXiv:2311.14647",
    "belle2_ita_shape": "derived proxy: q2 shape of Belle II's inclusive-tag (ITA) signal-region efficiency map, released with arXiv:2311.14647",
}


def efficiency_shape(model: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(q2 bin edges [GeV^2], relative efficiency per bin, max 1) of a derived efficiency model
    (:data:`EFFICIENCY_MODELS`); None for "flat". The Belle II maps come from
    :meth:`analyses.belle2_bknunu_2023.YieldMap.released` (events per unit BR in each true-q2 bin)."""
    if model not in EFFICIENCY_MODELS:
        raise PhiphiError(f"efficiency = {model!r}; choose one of {', '.join(EFFICIENCY_MODELS)}")
    if model == "flat":
        return None
    from .belle2_bknunu_2023 import YieldMap

    ymap = YieldMap.released()
    eps = (ymap.y_hta if model == "belle2_hta_shape" else ymap.y_ita).sum(axis=0)
    edges = np.concatenate([ymap.centres - 0.5 * ymap.width, [ymap.centres[-1] + 0.5 * ymap.width]])
    return edges, eps / eps.max()


def efficiency_at(q2: np.ndarray, model: str) -> np.ndarray:
    """Relative efficiency of ``model`` at true ``q2`` (piecewise constant in the map's bins, 0 outside;
    1 everywhere for "flat")."""
    q2 = np.asarray(q2, float)
    shape = efficiency_shape(model)
    if shape is None:
        return np.ones_like(q2)
    edges, eps = shape
    j = np.searchsorted(edges, q2, side="right") - 1
    inside = (j >= 0) & (j < len(eps))
    return np.where(inside, eps[np.clip(j, 0, len(eps) - 1)], 0.0)


def _sm_spectrum(channel: str, q2: np.ndarray) -> np.ndarray:
    return sm_kstar_nunu_shape(q2) if channel == "b2kstarphiphi" else evtgen.spectrum("b2knunu", q2)


def efficiency_ratio_to_sm(
    channel: str, mphi: float, model: str, *, n_events: int = 0, seed: int = 1, n: int = 20001
) -> dict[str, Any]:
    """<eps>_phiphi / <eps>_SM for efficiency ``model``: each spectrum folded with eps(q2). The phi phi
    average uses the analytic dGamma/dq2 (``n_events = 0``) or the q2_true of ``n_events`` generated
    events (seed ``seed``); the SM one the SM nu nubar spectrum of the mode (trapezoid on ``n`` points)."""
    if channel not in PARAMETERS:
        raise PhiphiError(f"channel {channel!r}; choose one of {', '.join(PARAMETERS)}")
    if model == "flat":
        return {"model": model, "ratio": 1.0, "mean_eps_phiphi": 1.0, "mean_eps_sm": 1.0, "source": "analytic"}
    lo, hi = evtgen.channel(channel).q2_limits(mphi)
    q2_sm = np.linspace(1e-9, hi, n)
    p_sm = _sm_spectrum(channel, q2_sm)
    mean_sm = float(np.trapezoid(p_sm * efficiency_at(q2_sm, model), q2_sm) / np.trapezoid(p_sm, q2_sm))
    if n_events:
        n_events = check_positive_int("n_events", n_events)
        events = evtgen.generate(channel, n_events, mphi=mphi, couplings={PARAMETERS[channel]: 1e-8}, seed=seed)
        eps = efficiency_at(np.asarray(events["q2_true"], float), model)
        mean_np, err_np, source = float(eps.mean()), float(eps.std(ddof=1) / math.sqrt(n_events)), "events"
    else:
        q2_np = np.linspace(lo, hi, n)
        p_np = evtgen.spectrum(channel, q2_np, mphi=mphi, couplings={PARAMETERS[channel]: 1.0})
        mean_np = float(np.trapezoid(p_np * efficiency_at(q2_np, model), q2_np) / np.trapezoid(p_np, q2_np))
        err_np, source = 0.0, "analytic"
    out = {
        "model": model,
        "ratio": mean_np / mean_sm,
        "mean_eps_phiphi": mean_np,
        "mean_eps_sm": mean_sm,
        "source": source,
    }
    if n_events:
        out["ratio_mc_error"] = err_np / mean_sm
    return out


# ---------------------------------------------------------------------------------------
# the recast
# ---------------------------------------------------------------------------------------
def _mode(data: dict[str, Any], channel: str, mode: str | None) -> tuple[str, dict[str, Any]]:
    table = data["limits_90"]
    mode = mode or table["default_mode"][channel]
    modes = table["modes"]
    if mode not in modes:
        raise PhiphiError(
            f"mode {mode!r} is not published by {data['analysis']['name']}; choose one of {', '.join(modes)}"
        )
    row = modes[mode]
    if row["channel"] != channel:
        fitting = [k for k, v in modes.items() if v["channel"] == channel]
        raise PhiphiError(
            f"mode {mode} ({row['decay']}) constrains {row['channel']}, not {channel}; for {channel} choose one of {', '.join(fitting)}"
        )
    return mode, row


def published_limit_recast(
    point: ModelPoint,
    *,
    data: dict[str, Any],
    analysis: str,
    mode: str | None = None,
    method: str | None = None,
    efficiency_ratio: float | None = None,
    efficiency: str | None = None,
    n_events: int | None = None,
) -> Result:
    """95% CL limit on |C_P^sb| (b2kstarphiphi) or |C_S^sb| (b2kphiphi) from one published 90% CL
    limit of the data file (``mode``; default per channel), read with the efficiency model
    ``efficiency`` (default flat; :data:`EFFICIENCY_MODELS`) times ``efficiency_ratio``; ``n_events``
    > 0 folds the model with the q2 of a generated sample instead of the analytic spectrum."""
    head = data["analysis"]
    channel = point.channel or head["default_channel"]
    if channel not in head["channels"]:
        raise PhiphiError(
            f"channel {channel!r} is not recast by {analysis}; choose one of {', '.join(head['channels'])}"
        )
    parameter = head["channels"][channel]
    defaults = {k: v.get("default") for k, v in head["options"].items()}
    method = str(method or defaults["method"])
    if method not in ("wilks", "cls"):
        raise PhiphiError(f"method {method!r}; choose wilks or cls")
    user_ratio = float(defaults["efficiency_ratio"] if efficiency_ratio is None else efficiency_ratio)
    if not (math.isfinite(user_ratio) and user_ratio > 0):
        raise PhiphiError(f"efficiency_ratio = {user_ratio:g} must be a positive number (1 = flat efficiency)")
    model = str(defaults.get("efficiency", "flat") if efficiency is None else efficiency)
    if model not in EFFICIENCY_MODELS:
        raise PhiphiError(f"efficiency = {model!r}; choose one of {', '.join(EFFICIENCY_MODELS)}")
    n_ev = int(defaults.get("n_events", 0) if n_events is None else n_events)
    if n_ev < 0:
        raise PhiphiError(f"n_events = {n_ev} must be >= 0 (0: fold with the analytic spectrum)")
    mphi = point.masses.get("mphi")
    if mphi is None:
        raise PhiphiError(f"channel {channel} needs --mphi")
    evtgen.channel(channel).check_mass(mphi)
    ref = float(point.couplings.get(parameter, 0.0))
    if ref == 0.0:
        raise PhiphiError(f"reference coupling {parameter} = 0: give a non-zero --coupling {parameter}=VALUE")
    mode, row = _mode(data, channel, mode)
    cl = float(data["limits_90"]["cl"])
    ul90 = float(row["upper_limit"])
    br = mode_br(row["rate"], mphi, ref)
    seed = point.seed if point.seed is not None else 1
    bracket = {m: efficiency_ratio_to_sm(channel, mphi, m, n_events=n_ev, seed=seed) for m in EFFICIENCY_MODELS}
    eff = user_ratio * bracket[model]["ratio"]
    if eff <= 0.0:
        return no_sensitivity(
            analysis=analysis,
            point=point,
            parameter=parameter,
            reason=f"no acceptance: efficiency model {model} vanishes over the phi phi spectrum (q2 >= {4 * mphi * mphi:.3g} GeV^2)",
            provenance={"efficiency": EFFICIENCY_MODELS[model], "mode": mode},
            extras={"efficiency_bracket": {m: {"ratio_to_sm": b["ratio"]} for m, b in bracket.items()}},
        )
    if not 0.0 < br <= 1.0:
        raise PhiphiError(
            f"BR = {br:g} of {RATE_LABELS[row['rate']]} at {parameter} = {ref:g} is not a branching ratio in (0, 1]"
        )
    lik = stats.GaussianLimit(upper_limit=ul90, cl=cl, reference=br * eff)
    fit = stats.fit(lik, mu_scale=ul90 / (br * eff), method=method)
    spectra = spectrum_comparison(channel, mphi)
    provenance: dict[str, Any] = {
        "limit": {
            "mode": mode,
            "decay": row["decay"],
            "upper_limit": ul90,
            "cl": cl,
            "status": row["status"],
            "source": row["source"],
        },
        "rate": RATE_LABELS[row["rate"]],
        "efficiency": (
            f"{EFFICIENCY_MODELS[model]}; ratio to the SM signal {bracket[model]['ratio']:.4g} x efficiency_ratio "
            f"{user_ratio:g} = {eff:.4g}. The paper's own efficiency: {data['efficiency']['treatment'].strip()}"
        ),
        "method": method,
    }
    if "note" in row:
        provenance["limit"]["note"] = row["note"]
    if row["rate"] in ("bplus_kstarplus", "b0_kzero"):
        provenance["lifetime_ratio_bplus_b0"] = {
            "value": lifetime_ratio_bplus_b0(),
            "status": "derived",
            "source": "PDG lifetimes (particle)",
        }
    extras: dict[str, Any] = {
        "mode": mode,
        "br_at_reference": br,
        "efficiency_ratio": eff,
        "efficiency_model": model,
        "upper_limit_90_br": ul90,
        "upper_limit_90": stats.to_parameter(ul90 / (br * eff), ref, "quadratic"),
        "spectra": spectra,
    }
    result = from_fit(
        lik,
        fit,
        analysis=analysis,
        point=point,
        parameter=parameter,
        reference=ref,
        scaling="quadratic",
        provenance=provenance,
        extras=extras,
        likelihood_form=f"GaussianLimit on {row['decay'].replace('nu nubar', 'phi phi')} ({RATE_LABELS[row['rate']]}): {lik.form}; "
        + ("flat efficiency" if model == "flat" else f"efficiency {model}")
        + f" x {eff:g} ({'assumed' if model == 'flat' else 'derived'})",
    )
    # the dependence on the efficiency assumption, at this point: UL95 scales as (eps_ratio)^-1/2 exactly
    if result.upper_limit_95 is not None:
        result.extras["efficiency_bracket"] = {
            m: {
                "status": "assumed" if m == "flat" else "derived",
                "ratio_to_sm": b["ratio"],
                "upper_limit_95": result.upper_limit_95 * math.sqrt(eff / (user_ratio * b["ratio"]))
                if b["ratio"] > 0
                else None,
                **({"ratio_mc_error": b["ratio_mc_error"]} if "ratio_mc_error" in b else {}),
            }
            for m, b in bracket.items()
        }
    return result


def recast(point: ModelPoint, *, data: dict[str, Any], **options: Any) -> Result:
    """Belle 2017 (semileptonic tag) recast at one model point; options ``mode``, ``method``,
    ``efficiency_ratio`` (see the data file's header)."""
    return published_limit_recast(point, data=data, analysis=ANALYSIS, **options)


# ---------------------------------------------------------------------------------------
# limits versus m_phi and the figures
# ---------------------------------------------------------------------------------------
def default_masses(channel: str, n: int = 45) -> np.ndarray:
    """m_phi grid (GeV) from 0 to just below the kinematic limit of ``channel``."""
    limit = evtgen.channel(channel).mass_limit()
    return np.linspace(0.0, limit * 0.995, n)


def limits_vs_mass(
    analysis: str, channel: str = "b2kstarphiphi", modes: Sequence[str] | None = None, masses=None, **options: Any
) -> dict[str, Any]:
    """95% CL limits on the channel's coupling versus m_phi for the published modes of ``analysis``
    (registry name): ``{"mphi": array, "parameter": name, "limits": {mode: array},
    "bracket": {mode: {efficiency model: array}}}`` (the limits under each efficiency model of
    :data:`EFFICIENCY_MODELS`, from the results' ``extras.efficiency_bracket``)."""
    from . import registry

    data = registry.get(analysis).data()
    if channel not in data["analysis"]["channels"]:
        raise PhiphiError(f"channel {channel!r} is not recast by {analysis}")
    masses = default_masses(channel) if masses is None else np.asarray(masses, float)
    parameter = data["analysis"]["channels"][channel]
    modes = list(modes or [k for k, v in data["limits_90"]["modes"].items() if v["channel"] == channel])
    out: dict[str, np.ndarray] = {}
    bracket: dict[str, dict[str, np.ndarray]] = {}
    for mode in modes:
        vals, rows = [], []
        for m in masses:
            p = model_point(channel=channel, mphi=float(m), couplings={parameter: 1e-8})
            r = registry.recast(analysis, p, mode=mode, **options)
            vals.append(math.nan if r.upper_limit_95 is None else r.upper_limit_95)
            rows.append(
                {
                    k: (math.nan if v.get("upper_limit_95") is None else v["upper_limit_95"])
                    for k, v in r.extras["efficiency_bracket"].items()
                }
            )
        out[mode] = np.array(vals, float)
        bracket[mode] = {k: np.array([row[k] for row in rows], float) for k in EFFICIENCY_MODELS}
    return {"mphi": masses, "parameter": parameter, "limits": out, "bracket": bracket}


MODE_STYLE = {
    "kstar0": ("B0 -> K*0", "-"),
    "kstarplus": ("B+ -> K*+", "--"),
    "kstar": ("K* combined", ":"),
    "kplus": ("B+ -> K+", "-"),
    "kzero": ("B0 -> K0", "--"),
    "k": ("K combined", ":"),
}
EXPERIMENT_LABEL = {"belle2017": ("Belle 2017 (SL tag)", "C0"), "babar2013": ("BaBar 2013 (had. tag)", "C1")}


def _draw(ax, curves: dict[str, dict[str, Any]], band_modes: Sequence[str] = ()) -> None:
    for analysis, cur in curves.items():
        label, colour = EXPERIMENT_LABEL.get(analysis, (analysis, "C2"))
        for mode, vals in cur["limits"].items():
            name, ls = MODE_STYLE.get(mode, (mode, "-"))
            ax.plot(cur["mphi"], vals, ls=ls, color=colour, label=f"{label}: {name}")
            if mode in band_modes and "bracket" in cur:
                b = np.vstack(list(cur["bracket"][mode].values()))
                ax.fill_between(
                    cur["mphi"],
                    np.nanmin(b, axis=0),
                    np.nanmax(np.where(np.isnan(b), 1e3 * np.nanmax(b), b), axis=0),
                    color=colour,
                    alpha=0.18,
                    lw=0,
                    label=f"{label}: {name}, efficiency bracket (derived)",
                )
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_\phi$ [GeV]")
    ax.legend(fontsize=9, loc="upper left")


def plot_kstar_limits(
    path,
    masses=None,
    analyses: Sequence[str] = ("belle2017", "babar2013"),
    band_modes: Sequence[str] = ("kstar0",),
    **options: Any,
):
    """Figure: the 95% CL limits on |C_P^sb| from the published B -> K* nu nubar limits of
    ``analyses`` versus m_phi (total K* rate; lines: flat efficiency; bands for ``band_modes``: the
    spread over the efficiency models of :data:`EFFICIENCY_MODELS`, derived); written to ``path`` (.png).
    ``python -m analyses.belle_bhnunu_2017 FIGURE.png`` makes ``docs/figures/bkstar_limits.png``."""
    from .plotting import check_png

    check_png(path)
    curves = {a: limits_vs_mass(a, "b2kstarphiphi", masses=masses, **options) for a in analyses}
    return _figure(
        curves,
        path,
        r"$|C_{d\phi}^{P,sb}|$ 95% CL [GeV$^{-1}$] (½ convention)",
        "B -> K* phi phi: published K* nu nubar limits (90% CL -> 95%), flat efficiency;\n"
        "bands: Belle II HTA / ITA efficiency shapes (derived proxies)",
        band_modes=band_modes,
    )


def _figure(curves, path, ylabel: str, title: str, band_modes: Sequence[str] = ()):
    from .plotting import hep_style, save_figure

    @hep_style
    def draw():
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 7))
        _draw(ax, curves, band_modes)
        ax.set_ylabel(ylabel, fontsize=16)
        ax.set_title(title, fontsize=12)
        return save_figure(fig, path)

    return draw()


def plot(result: Result, path, *, point: ModelPoint | None = None, **options: Any):
    """The limits of the result's analysis and channel versus m_phi (every published mode of that
    channel), the result's point marked (``phiphi recast belle2017 ... --plot FILE.png``)."""
    from .plotting import check_png

    check_png(path)
    channel = result.channel or "b2kstarphiphi"
    opts = {k: v for k, v in options.items() if k in ("method", "efficiency_ratio") and v is not None}
    curves = {result.analysis: limits_vs_mass(result.analysis, channel, masses=default_masses(channel, 30), **opts)}
    from .plotting import hep_style, save_figure

    @hep_style
    def draw():
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 6))
        _draw(ax, curves)
        mphi = result.masses.get("mphi")
        if result.upper_limit_95 is not None and mphi is not None:
            ax.plot([mphi], [result.upper_limit_95], "k*", ms=14, label=f"this point ({result.extras.get('mode')})")
            ax.legend(fontsize=11)
        ax.set_ylabel(f"{result.parameter} 95% CL [{result.unit}] (½ convention)", fontsize=16)
        ax.set_title(
            f"{result.analysis}: {channel}, flat efficiency x {result.extras.get('efficiency_ratio', 1.0):g}",
            fontsize=12,
        )
        return save_figure(fig, path)

    return draw()


if __name__ == "__main__":
    # python -m analyses.belle_bhnunu_2017 [FIGURE.png] : headline numbers (docs/b_window.md) and the figure
    import sys

    from . import registry

    for name in ("belle2017", "babar2013"):
        for channel, modes in (("b2kstarphiphi", ("kstar0", "kstarplus", "kstar")), ("b2kphiphi", ("kplus", "kzero"))):
            par = PARAMETERS[channel]
            for mphi in (0.5, 1.0, 1.5):
                for mode in modes:
                    r = registry.recast(name, model_point(channel=channel, mphi=mphi, couplings={par: 1e-8}), mode=mode)
                    eb = r.extras["efficiency_bracket"]
                    print(
                        f"{name:9s} {channel:13s} {mode:9s} m_phi = {mphi:.1f} GeV: |{par}| < {r.upper_limit_95:.3e} GeV^-1 (95% CL; "
                        f"90% CL {r.extras['upper_limit_90']:.3e}; BR(1e-8) = {r.extras['br_at_reference']:.3e}); "
                        f"HTA shape {eb['belle2_hta_shape']['upper_limit_95']:.3e} (ratio {eb['belle2_hta_shape']['ratio_to_sm']:.3f}), "
                        f"ITA shape {eb['belle2_ita_shape']['upper_limit_95']:.3e} (ratio {eb['belle2_ita_shape']['ratio_to_sm']:.3f})"
                    )
    sp = spectrum_comparison("b2kstarphiphi", 1.0)
    print(
        f"m_phi = 1 GeV: mean s_B phi phi {sp['mean_s_B_phiphi']:.3f}, SM K* nu nu {sp['mean_s_B_sm']:.3f}; {sp['below_cut']}"
    )
    if len(sys.argv) > 1:
        print(plot_kstar_limits(sys.argv[1]))
