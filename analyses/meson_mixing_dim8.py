"""B_s - B_s-bar and B_d - B_d-bar mixing in the t-channel VLQ model: the seed talk's dim-8 box
ESTIMATE, an order-of-magnitude constraint (UV points only).

The slide ("other constraints satisfied") estimates the box with Q, D, phi and two Higgs vevs as

    C_NP (sbar P_R b)(sbar P_L b) ~ 3e-8 G_F (3 TeV/m)^4 [(y_q^s y_d^b)^2, (y_d^s* y_q^b*)^2, y_q^s y_d^s* y_q^b* y_d^b] y_{1,2}^2

against the SM 1.9e-6 G_F (sbar gamma_mu P_L b)^2. We read the bracket as the sum of the
magnitudes of the three structures, y_{1,2}^2 as |y1|^2 + |y2|^2 and m^4 as m_Q^2 m_D^2, and form
r = |C_NP / C_SM| (B_d: s -> d and C_SM scaled by |V_td/V_ts|^2, derived). The new-physics part of
the mass difference is r times Delta m_SM with the matrix-element ratio <O_LR>/<O_LL> set to 1,
exactly the slide's comparison: an O(1) underestimate for B mesons (the LR matrix element is
chirally enhanced). The number is therefore an order-of-magnitude statement, labelled so.

Likelihood: Delta m_exp / Delta m_SM - 1 = +-r, a Gaussian with the SM prediction's larger
(downward) error as sigma (the experimental error is negligible), for both signs of the
interference; the WEAKER limit is reported. K: the slide gives no SM reference for K mixing, so
``system=K`` reports the estimate in ``extras`` and no sensitivity. An EFT-only point is refused
(PhiphiError): the estimate needs the UV Yukawas and masses.
"""

from __future__ import annotations

import math
from typing import Any

from evtgen.model import ModelPoint
from evtgen.models import tchannel

from . import stats
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "mixing"
PARAMETER = "r_mixing"
#: (light, heavy) flavour of each system
SYSTEMS = {"Bs": ("s", "b"), "Bd": ("d", "b"), "K": ("d", "s")}


def coefficient_ratio(uv: tchannel.TChannelPoint, system: str, data: dict[str, Any]) -> tuple[float, float]:
    """(C_NP / G_F, r = |C_NP/C_SM|) of the slide's estimate for ``system`` (r = nan for K)."""
    i, j = (tchannel.DOWN.index(q) for q in SYSTEMS[system])
    yq, yd = uv.y_q, uv.y_d
    structures = abs(yq[i] * yd[j]) ** 2 + abs(yd[i] * yq[j]) ** 2 + abs(yq[i] * yd[i].conjugate() * yq[j] * yd[j])
    est = data["estimate"]
    m_ref = float(est["reference_mass"])
    c_np = (
        float(est["coefficient_GF"])
        * m_ref**4
        / (uv.m_Q**2 * uv.m_D**2)
        * structures
        * (abs(uv.y1) ** 2 + abs(uv.y2) ** 2)
    )
    if system == "K":
        return c_np, math.nan
    c_sm = float(data["sm_coefficient"]["Bs"]["value_GF"])
    if system == "Bd":
        v = tchannel.ckm()
        c_sm *= abs(v[2, 0] / v[2, 1]) ** 2
    return c_np, c_np / c_sm


def recast(point: ModelPoint, *, data: dict[str, Any], system: str = "Bs", **options: Any) -> Result:
    """The mixing estimate for ``system`` (Bs, Bd, K) at a UV point."""
    uv = tchannel.uv_from_model_point(point)
    c_np, r = coefficient_ratio(uv, system, data)
    prov = {
        "estimate": f"{data['estimate']['source']} [{data['estimate']['status']}]",
        "matrix_elements": data["matrix_elements"],
        "system": system,
    }
    extras: dict[str, Any] = {"C_NP_over_GF": c_np, "order_of_magnitude": True}
    if system == "K" or r == 0.0:
        reason = (
            "no SM reference coefficient for K mixing on the slide: the estimate is in extras only"
            if system == "K"
            else "the estimate vanishes at this point (no y_q^i y_d^j pair of this system, or y1 = y2 = 0)"
        )
        return no_sensitivity(
            analysis=ANALYSIS, point=point, parameter=PARAMETER, reason=reason, provenance=prov, extras=extras
        )
    dm = data["delta_m"][system]
    prov["delta_m_exp"] = dm["exp"]["source"]
    prov["delta_m_sm"] = dm["sm"]["source"]
    prov["sm_coefficient"] = str(data["sm_coefficient"][system])
    rho = float(dm["exp"]["value"]) / float(dm["sm"]["value"]) - 1.0
    sigma = math.hypot(max(float(dm["sm"]["error_up"]), float(dm["sm"]["error_down"])) / float(dm["sm"]["value"]),
                       float(dm["exp"]["error"]) / float(dm["exp"]["value"]))  # fmt: skip
    fits = {}
    for sign in (+1.0, -1.0):
        lik = stats.GaussianMeasurement(value=rho, sigma=sigma, reference=sign * r)
        fits[sign] = (lik, stats.fit(lik, mu_scale=1.0, method="wilks"))
    weaker = max(fits, key=lambda s: fits[s][1].upper_limit_95 or math.inf)
    lik, fit = fits[weaker]
    extras.update({"rho_measured": rho, "sigma": sigma, "interference_sign_used": weaker})
    res = from_fit(
        lik,
        fit,
        analysis=ANALYSIS,
        point=point,
        parameter=PARAMETER,
        reference=r,
        scaling="linear",
        unit="1",
        provenance=prov,
        extras=extras,
        likelihood_form=(
            "-2lnL = ((+-r - rho)/sigma)^2, rho = Dm_exp/Dm_SM - 1, sigma = SM error (+) exp error; "
            "r = |C_NP/C_SM| of the slide's order-of-magnitude estimate; weaker of the two signs"
        ),
        value_at_point=r,
    )
    return res
