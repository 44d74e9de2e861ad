"""B -> X_s gamma constraint on the t-channel vector-like-quark model (UV points only).

The model induces at one loop (phi - D_a loop, photon or gluon on D_a, chirality flip on the
heavy line, :func:`evtgen.models.tchannel.dipoles`) the dipoles
C_dgamma^{sb} (sbar sigma P_R b) F and C_dG^{sb} (sbar sigma T^A P_R b) g_s G. In the
normalisation L_eff > N C7 (e/16pi^2) m_b (sbar sigma P_R b) F, N = (4 G_F/sqrt2) V_ts* V_tb,

    dC7 = 16 pi^2 C_dgamma^{sb} / (e m_b N),     dC8 = 16 pi^2 C_dG^{sb} / (m_b N)

(primed: the same with C^{bs*}). For m_phi << m: dC7 = -Q_D A_sb / (4 m_b N) with A_sb the
tree-level coefficient of (sbar_L b_R) phi^2 — the dipole and C_dphi^{S,sb} share one coupling
structure, which is the slide's "roughly the same order" (here 1/12 of |A| in C~ = 16pi^2 C/e).

Likelihood: B(B -> X_s gamma) = B_SM + c7 dC7 + c8 dC8 (Misiak et al. 2015 numerical NP
dependence), a Gaussian measurement of B_exp - B_SM with the experimental and SM errors in
quadrature. The overall sign of the model's dC7 relative to the SM's depends on conventions (the
sign of e, of y1, the phase of y_q^s y_d^b y1 relative to V_ts* V_tb) that are not fixed here, so
the fit is done for both signs of the interference and the WEAKER limit is reported (never a false
exclusion); both are in ``extras``. Not included: QCD running of the dipoles from m_Q to 160 GeV
(LL factor ~0.7 at m_Q ~ 50 TeV), m_b(mu_0) in O_7 (see the data file), the quadratic primed terms.

An EFT-only point has no dipole (it needs the heavy states): the analysis refuses it with one
line (PhiphiError) rather than reporting a meaningless "no sensitivity".
"""

from __future__ import annotations

import math
from typing import Any

from evtgen import constants as C
from evtgen.model import ModelPoint
from evtgen.models import tchannel

from . import stats
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "bsgamma"
PARAMETER = "dC7_eff"


def normalisation() -> float:
    """N = (4 G_F / sqrt2) |V_ts* V_tb| in GeV^-2."""
    return 4.0 * C.value("bknunu_sm", "G_F") / math.sqrt(2.0) * C.value("bknunu_sm", "Vtb_Vts")


def wilson_shifts(uv: tchannel.TChannelPoint) -> dict[str, complex]:
    """dC7, dC8, dC7', dC8' (complex) of the UV point, and the dipole C_dgamma^{sb} (GeV^-1)."""
    dip = tchannel.dipoles(uv)
    s, b = tchannel.DOWN.index("s"), tchannel.DOWN.index("b")
    e = math.sqrt(4.0 * math.pi * tchannel.alpha_em())
    mb = C.value("quark_masses", "m_b")
    n = normalisation()
    k = 16.0 * math.pi**2 / (mb * n)
    return {
        "dC7": k * dip["photon"][s, b] / e,
        "dC8": k * dip["gluon"][s, b],
        "dC7p": k * complex(dip["photon"][b, s]).conjugate() / e,
        "dC8p": k * complex(dip["gluon"][b, s]).conjugate(),
        "C_dgamma_sb": complex(dip["photon"][s, b]),
        "Ctilde_dgamma_sb": 16.0 * math.pi**2 * complex(dip["photon"][s, b]) / e,
    }


def recast(point: ModelPoint, *, data: dict[str, Any], **options: Any) -> Result:
    """B -> X_s gamma at a UV point (``point.uv`` from a tchannel-vlq model file)."""
    uv = tchannel.uv_from_model_point(point)
    w = wilson_shifts(uv)
    c7, c8 = float(data["np_dependence"]["c7"]), float(data["np_dependence"]["c8"])
    # one real direction: the BR shift is c7 dC7 + c8 dC8; |.| with the sign left open (docstring)
    shift = c7 * w["dC7"] + c8 * w["dC8"]
    dc7_eff = abs(shift) / abs(c7)
    extras = {k: [v.real, v.imag] for k, v in w.items()}
    extras["slide_bound_ratio"] = abs(w["Ctilde_dgamma_sb"]) / float(data["slide_bound"]["value"])
    prov = {
        "br_exp": data["br_exp"]["source"],
        "br_sm": data["br_sm"]["source"],
        "np_dependence": f"{data['np_dependence']['source']} [{data['np_dependence']['status']}]",
        "m_b": data["normalisation"]["m_b"],
        "slide_bound": f"{data['slide_bound']['source']} [{data['slide_bound']['status']}]",
        "dipole": "one loop, chirally enhanced heavy-mass term only, no QCD running (evtgen.models.tchannel.dipoles)",
    }
    if dc7_eff == 0.0:
        return no_sensitivity(
            analysis=ANALYSIS,
            point=point,
            parameter=PARAMETER,
            reason="the chirally enhanced dipole vanishes at this point (needs y_q^s y_d^b or y_q^b y_d^s and Q-D mixing y1, y2)",
            provenance=prov,
            extras=extras,
        )
    diff = float(data["br_exp"]["value"]) - float(data["br_sm"]["value"])
    sigma = math.hypot(float(data["br_exp"]["error"]), float(data["br_sm"]["error"]))
    fits = {}
    for sign in (+1.0, -1.0):
        lik = stats.GaussianMeasurement(value=diff, sigma=sigma, reference=sign * abs(c7) * dc7_eff)
        fits[sign] = (lik, stats.fit(lik, mu_scale=1.0, method="wilks"))
    weaker = max(fits, key=lambda s: fits[s][1].upper_limit_95 or math.inf)
    lik, fit = fits[weaker]
    extras.update(
        {
            f"upper_limit_95_sign{'+' if s > 0 else '-'}": (f.upper_limit_95 or math.nan) * dc7_eff
            for s, (_, f) in fits.items()
        }
    )
    extras["br_shift_at_point"] = weaker * abs(c7) * dc7_eff
    res = from_fit(
        lik,
        fit,
        analysis=ANALYSIS,
        point=point,
        parameter=PARAMETER,
        reference=dc7_eff,
        scaling="linear",
        unit="1",
        provenance=prov,
        extras=extras,
        likelihood_form=(
            "-2lnL = ((B_SM + c7 dC7_eff - B_exp)/sigma)^2, sigma = sigma_exp (+) sigma_SM; "
            "dC7_eff = |c7 dC7 + c8 dC8|/|c7| at mu_0 = 160 GeV; weaker of the two interference signs"
        ),
        value_at_point=dc7_eff,
    )
    return res
