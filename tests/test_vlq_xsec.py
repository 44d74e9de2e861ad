"""Cross sections of the UV model: q g → D φ against the ``vegas`` package, and decoupling to the EFT.

(a) σ(q g → D φ): an independent integration with the ``vegas`` package in its own variables
    (x1, x2 log-mapped on [τ_min, 1], cos θ* on [−1, 1]) and a numpy coding of the same |M|²
    (written again from docs/uv_lhc.md). Shared with the generator: the PDF grid and α_s only.
(b) Decoupling: for m_Q = m_D = M → ∞ at fixed y²/M² (y_q^d = y_d^d = M/3 TeV, y₁ = 1), the
    non-resonant σ(pp → j φφ) of the UV model approaches the EFT result (pp2jphiphi) for the
    matched C^{S,dd} = −√2 y_q y_d y₁ v/(m_Q m_D) (evtgen.models.tchannel; the rate goes as C²).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evtgen.pdf import gev2_to_pb, load_pdf
from evtgen.vlq.channel import PP2VLQ

SQRTS = 13000.0


def _me_qg(s, tg, uq, M2, m2, gs2, y2):
    a = M2 - tg
    d = M2 - m2
    return gs2 * y2 / 24.0 * 2.0 * (s / a + a / s - 2.0 + 2.0 * (M2 - uq) * d / (s * a) - 2.0 * M2 * d / a**2)


def reference_dphi(M, mphi, y_d, y_s, neval=20000, nitn=8):
    vegas = pytest.importorskip("vegas")
    pdf = load_pdf()
    conv = gev2_to_pb()
    S = SQRTS**2
    lmin = math.log((M + mphi) ** 2 / S)

    def f(u):
        x1 = np.exp(lmin * (1 - u[:, 0]))
        x2 = np.exp(lmin * (1 - u[:, 1]))
        jac = x1 * x2 * lmin**2 * 2.0
        cth = 2 * u[:, 2] - 1
        s = x1 * x2 * S
        ok = s > (M + mphi) ** 2
        s = np.where(ok, s, (M + mphi) ** 2 * 1.01)
        lam = (s - (M + mphi) ** 2) * (s - (M - mphi) ** 2)
        rs = np.sqrt(s)
        p = np.sqrt(lam) / (2 * rs)
        e3 = (s + M * M - mphi * mphi) / (2 * rs)
        t = M * M - rs * (e3 - p * cth)  # (p1 - k_D)^2
        uu = M * M - rs * (e3 + p * cth)
        pt = p * np.sqrt(1 - cth**2)
        mu = 0.5 * (np.sqrt(pt**2 + M * M) + np.sqrt(pt**2 + mphi**2))
        gs2 = 4 * np.pi * pdf.alphas(mu)
        a1 = pdf.xfx_flavours(x1, mu) / x1[:, None]
        a2 = pdf.xfx_flavours(x2, mu) / x2[:, None]
        tot = np.zeros_like(s)
        for q, y in ((1, y_d), (3, y_s)):
            qa1 = a1[:, 6 + q] + a1[:, 6 - q]
            qa2 = a2[:, 6 + q] + a2[:, 6 - q]
            # quark from beam 1: t_g = (p2 - k)^2 = uu, u_q = t ; from beam 2: t_g = t, u_q = uu
            tot += qa1 * a2[:, 6] * _me_qg(s, uu, t, M * M, mphi**2, gs2, y * y)
            tot += a1[:, 6] * qa2 * _me_qg(s, t, uu, M * M, mphi**2, gs2, y * y)
        dsig = tot * np.sqrt(lam) / (32 * np.pi * s * s) * jac * conv
        return np.where(ok, dsig, 0.0)

    integ = vegas.Integrator([[0, 1]] * 3)
    vf = vegas.lbatchintegrand(f)
    integ(vf, nitn=5, neval=neval)
    r = integ(vf, nitn=nitn, neval=neval)
    return r.mean, r.sdev


def test_qg_to_dphi_vs_vegas_package():
    """Both are unbiased MC estimates of the same integral: agreement within 4 combined σ."""
    M, mphi = 2000.0, 50.0
    r = PP2VLQ().rate(
        mass=mphi, couplings={"mQ": 2500.0, "mD": M, "yd_d": 1.0, "yd_s": 0.5}, options={"groups": "Dphi"}
    )
    # y1 = y2 = 0: no Q-D mixing, D1 = D (mass M); D2 = Q_d has no coupling (y_q = 0) and no group
    assert set(r.groups) == {"D1phi"} and r.extra["heavy_masses_GeV"]["D1"] == M
    ours, err = r.groups["D1phi"]["sigma_pb"], r.groups["D1phi"]["sigma_err_pb"]
    ref, rerr = reference_dphi(M, mphi, 1.0, 0.5)
    assert abs(ours - ref) < 4 * math.hypot(err, rerr), (ours, err, ref, rerr)
    # scale variation brackets the central value
    assert r.groups["D1phi"]["scale_down_pb"] < ours < r.groups["D1phi"]["scale_up_pb"]


def test_nonresonant_jphiphi_decouples_to_eft():
    """σ_UV/σ_EFT − 1 at fixed y²/M² shrinks with M (corrections ~ E³/(v M²) from the
    chirality-conserving y_q², y_d² pieces and ~ ŝ/M² from the propagators); at M = 30 TeV within
    3% + 4 combined MC σ."""
    from evtgen.monojet.channel import PP2JPhiPhi

    ratios = []
    for M in (6000.0, 30000.0):
        y = M / 3000.0
        r = PP2VLQ().rate(
            mass=1.0,
            couplings={"mQ": M, "mD": M, "yq_d": y, "yd_d": y, "y1": 1.0},
            options={"groups": "jphiphi", "widths_in_propagators": False, "window": 0.0, "vegas_points": 10000},
        )
        C = r.matched_eft["CS_dd"]
        e = PP2JPhiPhi().rate(mass=1.0, couplings={"CS_dd": C})
        rel = math.hypot(r.sigma_err_pb / r.sigma_pb, e.sigma_err_pb / e.sigma_pb)
        ratios.append((r.sigma_pb / e.sigma_pb, rel))
    (r6, e6), (r30, e30) = ratios
    assert abs(r30 - 1) < 0.03 + 4 * e30, ratios
    assert abs(r30 - 1) < abs(r6 - 1) + 4 * math.hypot(e6, e30), ratios
