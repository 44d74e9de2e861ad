"""Relic density of phi (thermal freeze-out) against Planck 2018: Omega h^2 = 0.120 +- 0.001.

Parameter: ``coupling_scale`` t, the overall factor of the point's couplings (couplings = t x the
point's; t = 1 is the point itself). The result gives:

- ``best_fit``: t_relic, the scale giving Omega h^2 = 0.120 (``extras['couplings_relic']`` has the
  couplings there, project's 1/2 convention, and ``couplings_relic_no_half``);
- ``interval_68`` / ``interval_95``: the t range where the prediction is within 1 / 1.96 sigma;
- ``value_at_point`` = 1 with ``twice_nll_point`` and ``excluded_95`` of the point itself;
- ``extras``: Omega h^2 at the point, x_f, the channel fractions at freeze-out and at recombination
  (s-wave), <sigma v> at freeze-out (GeV^-2 and cm^3/s).

Likelihood (``likelihood_form``): mode ``gaussian``: -2 ln L = ((Omega h^2 - 0.120)/sigma)^2 with
sigma^2 = 0.001^2 + (theory_rel x Omega h^2)^2; mode ``upper`` (overclosure only): the same for
Omega h^2 > 0.120 and 0 below. The combined fit can call :func:`twice_nll` with an Omega h^2.
Not a signal-strength likelihood (zero coupling overcloses the universe), so the engine's
upper-limit machinery does not apply; the intervals are the likelihood's own 1 / 1.96 sigma ranges.
"""

from __future__ import annotations

import math
from typing import Any

from evtgen import couplings as couplings_registry
from evtgen.errors import PhiphiError
from evtgen.model import ModelPoint

from .dm import annihilation as ann
from .dm import cmb as dm_cmb
from .dm import relic as dm_relic
from .result import Result

ANALYSIS = "relic"
PARAMETER = "coupling_scale"


def sigma_total(omega_h2: float, data: dict[str, Any], theory_rel: float) -> float:
    """Total uncertainty on Omega h^2: Planck's and the relative theory error in quadrature."""
    return math.hypot(float(data["omega_dm_h2"]["error"]), theory_rel * omega_h2)


def twice_nll(omega_h2: float, data: dict[str, Any], *, mode: str = "gaussian", theory_rel: float = 0.10) -> float:
    """-2 ln L of a predicted Omega h^2 (see the module docstring)."""
    target = float(data["omega_dm_h2"]["value"])
    if mode == "upper" and omega_h2 <= target:
        return 0.0
    return ((omega_h2 - target) / sigma_total(omega_h2, data, theory_rel)) ** 2


def _scale_at(model: dm_relic.RelicModel, omega: float) -> float | None:
    try:
        return dm_relic.scale_for_target(model, omega)
    except PhiphiError:
        return None


def recast(
    point: ModelPoint,
    *,
    data: dict,
    mode: str = "gaussian",
    theory_rel: float = 0.10,
    m_switch: float | None = None,
    eos: str | None = None,
) -> Result:
    """Omega h^2 at the point, the coupling scale for Omega h^2 = 0.120 and the likelihood."""
    if point.mphi is None:
        raise PhiphiError("the relic analysis needs --mphi")
    if mode not in ("gaussian", "upper"):
        raise PhiphiError(f"mode = {mode!r}; choose gaussian or upper")
    if not (0.0 <= theory_rel < 1.0):
        raise PhiphiError(f"theory_rel = {theory_rel!r} must be in [0, 1)")
    cpl = {k: v for k, v in point.couplings.items() if k in ann.COUPLINGS and v != 0}
    if not cpl:
        raise PhiphiError(f"the relic analysis needs at least one of {', '.join(ann.COUPLINGS)} non-zero")
    model = dm_relic.RelicModel(point.mphi, cpl, m_switch=m_switch, eos=eos)
    fo = model.solve(1.0)
    target = float(data["omega_dm_h2"]["value"])
    t_relic = dm_relic.scale_for_target(model, target)
    at_relic = model.solve(t_relic)
    # intervals in t: Omega(t) is decreasing; Omega = target +- k sigma (sigma at the target)
    sig = sigma_total(target, data, theory_rel)
    intervals = {}
    for name, k in (("68", 1.0), ("95", 1.959963984540054)):
        hi_om, lo_om = target - k * sig, target + k * sig
        t_hi = _scale_at(model, hi_om) if hi_om > 0 else None
        t_lo = _scale_at(model, lo_om)
        if mode == "upper":
            intervals[name] = (t_lo, math.inf) if t_lo is not None else None
        else:
            intervals[name] = (t_lo, t_hi if t_hi is not None else math.inf) if t_lo is not None else None
    nll_point = float(twice_nll(fo.omega_h2, data, mode=mode, theory_rel=theory_rel))
    excluded = bool(nll_point > (3.841458820694124 if mode == "gaussian" else 2.705543454095404))
    relic_couplings = {k: t_relic * v for k, v in cpl.items()}
    pa = dm_cmb.p_ann(point.mphi, relic_couplings, m_switch=m_switch)
    sv_f = {
        k: float(v)
        for k, v in ann.sigma_v_thermal(point.mphi, relic_couplings, at_relic.x_f, m_switch=m_switch).items()
    }
    sv_f_tot = sum(sv_f.values())
    form = (
        "-2lnL = ((Omega h^2 - 0.120)/sigma)^2, sigma^2 = 0.001^2 + (theory_rel Omega h^2)^2"
        + (" (upper: 0 for Omega h^2 <= 0.120, overclosure only)" if mode == "upper" else "")
        + f"; theory_rel = {theory_rel:g}"
    )
    return Result(
        analysis=ANALYSIS,
        channel=None,
        masses=point.masses,
        parameter=PARAMETER,
        unit="1",
        convention="half",
        best_fit=t_relic,
        interval_68=intervals["68"],
        interval_95=intervals["95"],
        twice_nll_best=0.0,
        twice_nll_null=None,
        value_at_point=1.0,
        twice_nll_point=nll_point,
        excluded_95=excluded,
        limit_method="likelihood ranges of Omega h^2 (not a signal-strength fit)",
        likelihood_form=form,
        provenance={
            "paper": "Planck 2018 VI, arXiv:1807.06209 (Omega_c h^2 = 0.120 +- 0.001)",
            "g_star": {
                "saikawa_shirai": "Saikawa & Shirai arXiv:1803.01038 App. C (analyses/data/dm/saikawa_shirai_2018.yaml)",
                "drees_hajkarim_schmitz": "Drees, Hajkarim, Schmitz arXiv:1503.03513 table (dm/gstar_drees_hajkarim_schmitz_2015.csv)",
                "laine_meyer": "Laine & Meyer arXiv:1503.04935 table (dm/gstar_laine_meyer_2015.csv)",
            }[model.eos],
            "eos": model.eos,
            "annihilation": "LO ChPT (m_phi < m_switch) / q qbar + g g; analyses/dm/annihilation.py",
            "m_switch_GeV": ann.m_switch_default() if m_switch is None else m_switch,
            "chiral_B_GeV": ann.chiral_B(),
            "alpha_s_hadronic": ann.alpha_s_hadronic(),
            "derived": "B = m_pi0^2/(m_u + m_d); alpha_s(2 GeV) one loop; f_eff of pi pi (see cmb)",
            "data_files": ["dm/relic_cmb_constants.yaml", "dm/saikawa_shirai_2018.yaml"],
        },
        extras={
            "omega_h2": float(fo.omega_h2),
            "x_f": fo.x_f,
            "omega_h2_sigma": sig,
            "mode": mode,
            "couplings_point": cpl,
            "couplings_relic": relic_couplings,
            "couplings_relic_no_half": {k: couplings_registry.to_no_half(k, v) for k, v in relic_couplings.items()},
            "x_f_relic": at_relic.x_f,
            "sigma_v_freeze_out_GeV-2": sv_f_tot,
            "sigma_v_freeze_out_cm3_s": ann.gev2_to_cm3_s(sv_f_tot),
            "fractions_freeze_out": {k: v / sv_f_tot for k, v in sv_f.items() if v > 1e-12 * sv_f_tot}
            if sv_f_tot > 0
            else {},
            "fractions_recombination": pa["fractions_recombination"],
            "sigma_v_swave_relic_GeV-2": pa["sigma_v_swave_GeV-2"],
        },
    )
