"""Matrix elements, widths and matching of the UV-model LHC kernels against independent calculations.

* q g → X φ: the closed form of :func:`evtgen.vlq.kernels.me2_qg_xphi` against a numerical Dirac
  trace written here in numpy (Dirac basis, explicit s- and t-channel diagrams, −g_μν polarisation
  sum: one external gluon, gauge invariant).
* q g → q φφ through the heavy line: the numerical amplitude against the analytic EFT |M|² of
  monojet_matrix_elements.md in the contact limit (M → ∞ with the matched C), and the contact mode
  of the same code against the analytic (q g → q S) · (S → φφ) form (exact).
* widths and the matched C against :mod:`evtgen.models.tchannel` (the model layer of issue 12).
"""

from __future__ import annotations

import numpy as np
import pytest

from evtgen.vlq import kernels as K
from evtgen.vlq.uv import matched_C, uv_point, vev, widths

# ---------------------------------------------------------------- numpy Dirac algebra (Dirac basis)
I2 = np.eye(2)
SIG = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
GAM = [np.block([[I2, 0 * I2], [0 * I2, -I2]]).astype(complex)] + [
    np.block([[0 * I2, s], [-s, 0 * I2]]).astype(complex) for s in SIG
]
G5 = np.block([[0 * I2, I2], [I2, 0 * I2]]).astype(complex)
PL = (np.eye(4) - G5) / 2
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def sl(p):
    return sum(METRIC[m, m] * p[m] * GAM[m] for m in range(4))


def dot(a, b):
    return a[0] * b[0] - a[1:] @ b[1:]


def bar(a):
    return GAM[0] @ a.conj().T @ GAM[0]


def numeric_qg_xphi(p1, pg, k, kphi, M):
    """Σ_spins Σ_pol |M|² / (g² y² · colour) of q(p1) g(pg) → X(k) φ(kphi), vertex X̄ P_L q φ."""
    s = dot(p1 + pg, p1 + pg)
    pt = p1 - kphi
    tq = dot(pt, pt)
    tot = 0.0
    for mu in range(4):
        e = np.zeros(4)
        e[mu] = 1.0  # basis vector; contraction with -g_{mu mu}
        es = sl(METRIC @ e)  # gamma_mu
        a = es @ (sl(pt) + M * np.eye(4)) @ PL / (tq - M * M) + PL @ sl(p1 + pg) @ es / s
        tr = np.trace((sl(k) + M * np.eye(4)) @ a @ sl(p1) @ bar(a)).real
        tot += -METRIC[mu, mu] * tr
    return tot


@pytest.mark.parametrize(
    "M,mphi,s,c", [(1500.0, 1.0, 5e6, 0.3), (3000.0, 200.0, 2.5e7, -0.7), (800.0, 50.0, 9e5, 0.95)]
)
def test_qg_to_xphi_closed_form_matches_numerical_trace(M, mphi, s, c):
    rs = np.sqrt(s)
    p1 = np.array([rs / 2, 0, 0, rs / 2])
    pg = np.array([rs / 2, 0, 0, -rs / 2])
    lam = (s - (M + mphi) ** 2) * (s - (M - mphi) ** 2)
    p = np.sqrt(lam) / (2 * rs)
    ek = (s + M * M - mphi * mphi) / (2 * rs)
    k = np.array([ek, p * np.sqrt(1 - c * c), 0.0, p * c])
    kphi = p1 + pg - k
    num = numeric_qg_xphi(p1, pg, k, kphi, M) / 24.0  # 1/4 spins, 1/24 colours, Tr(T^aT^a) = 4
    tg = dot(pg - k, pg - k)
    uq = dot(p1 - k, p1 - k)
    ana = K.me2_qg_xphi(s, tg, uq, M * M, mphi * mphi, 1.0, 1.0)
    assert ana == pytest.approx(num, rel=1e-10, abs=0)


def _point_23(s, q2, c):
    rs = np.sqrt(s)
    p1 = np.array([rs / 2, 0, 0, rs / 2])
    p2 = np.array([rs / 2, 0, 0, -rs / 2])
    p = (s - q2) / (2 * rs)
    sn = np.sqrt(1 - c * c)
    p3 = np.array([p, p * sn, 0.0, p * c])
    sv = p1 + p2 - p3
    a, b = np.empty(4), np.empty(4)
    K.two_body(np.array([sv[1], sv[2], sv[3], sv[0]]), np.sqrt(q2), 1.0, 1.0, 0.3, 0.7, a, b)
    return p1, p2, p3, np.array([a[3], *a[:3]]), np.array([b[3], *b[:3]])


def test_contact_mode_equals_analytic_eft():
    """The contact mode of the numerical 2→3 code is (q g → q S)(S → φφ) exactly."""
    G = K.gammas()
    s, q2 = 1e6, 3e5
    p1, p2, p3, k1, k2 = _point_23(s, q2, 0.3)
    C = 1e-4
    num = K.amp2_qg_qphiphi(G, p1, p2, p3, k1, k2, np.eye(2), np.zeros(2), np.zeros(2), np.zeros(2), C) / 24.0
    t, u = dot(p1 - p3, p1 - p3), dot(p2 - p3, p2 - p3)
    assert num == pytest.approx(C * C * (t * t + q2 * q2) / (-s * u) / 6.0, rel=1e-10, abs=0)
    # crossed: q qbar -> g phi phi
    numx = -K.amp2_qg_qphiphi(G, p1, -p3, -p2, k1, k2, np.eye(2), np.zeros(2), np.zeros(2), np.zeros(2), C) / 9.0
    assert numx == pytest.approx(4.0 / 9.0 * C * C * (s * s + q2 * q2) / (t * u), rel=1e-10, abs=0)


@pytest.mark.parametrize("M", [1e4, 1e5])
def test_uv_amplitude_decouples_to_matched_contact(M):
    """UV |M|² / EFT |M|² − 1 = O(s/M²) at fixed y²/M² (s = 1e5 GeV²): < 2 s/M²."""
    G = K.gammas()
    s = 1e5
    p1, p2, p3, k1, k2 = _point_23(s, 3e4, 0.3)
    y = M / 3000.0
    v = vev()
    mm = np.array([[M, v / np.sqrt(2)], [0.0, M]])
    yy = np.array([y, y])
    C = matched_C(uv_point({"mQ": M, "mD": M, "yq_d": y, "yd_d": y, "y1": 1.0}, 1.0))["CS_dd"]
    uv = K.amp2_qg_qphiphi(G, p1, p2, p3, k1, k2, mm, np.zeros(2), yy, yy, 0.0)
    ef = K.amp2_qg_qphiphi(G, p1, p2, p3, k1, k2, mm, np.zeros(2), yy, yy, C)
    assert abs(uv / ef - 1) < 2 * s / M**2


def test_widths_and_matching_agree_with_model_layer():
    """Local Γ(X → qφ) and C^{S,dd} against evtgen.models.tchannel at y1 = 0 (no mixing) and
    y1 = 1: the model layer has massive quarks and exact Q–D mixing, so agreement is to
    O(m_q²/M²) and O((y1 v/M)²) ≈ 3e-3 at M = 3 TeV."""
    tc = pytest.importorskip("evtgen.models.tchannel")
    for y1 in (0.0, 1.0):
        uv = uv_point({"mQ": 3000.0, "mD": 3200.0, "yq_d": 1.0, "yq_s": 0.5, "yd_d": 0.8, "yd_s": 0.3, "y1": y1}, 1.0)
        p = tc.tchannel_point(m_Q=3000.0, m_D=3200.0, m_phi=1.0, y_q=(1.0, 0.5, 0.0), y_d=(0.8, 0.3, 0.0), y1=y1)
        w = tc.widths(p)
        ours = widths(uv)
        assert ours[0] == pytest.approx(w["U"]["total_q_phi"], rel=1e-4, abs=0)
        tot_d = w["D1"]["total_q_phi"] + w["D2"]["total_q_phi"]
        assert ours[1] + ours[2] == pytest.approx(tot_d, rel=5e-3, abs=0)
        if y1:
            eft = tc.to_eft(p)
            # sign: the model layer has C = -sqrt2 y y y1 v/(mQ mD), the seed talk (and this module) +; rates
            # go as |C|^2 (the relative sign only matters against other operators): compare |C|
            assert abs(matched_C(uv)["CS_dd"]) == pytest.approx(abs(eft["CS_dd"]), rel=5e-3, abs=0)


def _pair_point(M, s, c):
    rs = np.sqrt(s)
    p1 = np.array([rs / 2, 0, 0, rs / 2])
    p2 = np.array([rs / 2, 0, 0, -rs / 2])
    p = np.sqrt(s / 4 - M * M)
    k1 = np.array([rs / 2, p * np.sqrt(1 - c * c), 0.0, p * c])
    k2 = p1 + p2 - k1
    return p1, p2, k1, k2


@pytest.mark.parametrize("c", [-0.6, 0.2, 0.9])
def test_four_fermion_traces(c):
    """The traces behind the q q̄ → X X̄ interference and q q → X X (identical) formulas, numerically.
    (The relative Fermi signs of the diagrams are argued in docs/uv_lhc.md, not tested here.)"""
    M, s, mphi = 1500.0, 1.2e7, 1.0
    p1, p2, k1, k2 = _pair_point(M, s, c)
    t, u = dot(p1 - k1, p1 - k1), dot(p2 - k1, p2 - k1)
    PR = np.eye(4) - PL
    one = np.eye(4)
    # q qbar -> X Xbar: Σ_spins M_s M_t^* ∝ Tr[(k1 + M) γ^μ (k2 − M) P_L p2 γ_μ p1 P_R] = 2(M² − t)² + 2M² s
    tr = sum(
        METRIC[m, m] * np.trace((sl(k1) + M * one) @ GAM[m] @ (sl(k2) - M * one) @ PL @ sl(p2) @ GAM[m] @ sl(p1) @ PR)
        for m in range(4)
    ).real
    assert tr == pytest.approx(2 * (M * M - t) ** 2 + 2 * M * M * s, rel=1e-9, abs=0)
    g2, y2 = 1.3, 0.7
    me = K.me2_pair_qqb(s, t, u, M * M, mphi**2, g2, y2)
    qcd = g2 * g2 * 4 / 9 * (((M * M - t) ** 2 + (M * M - u) ** 2 + 2 * M * M * s) / s**2)
    inter = (1 / 36) * 2 * 4 * g2 * y2 * tr / (s * (t - mphi**2))
    tch = (1 / 36) * 9 * y2 * y2 * (M * M - t) ** 2 / (t - mphi**2) ** 2
    assert me == pytest.approx(qcd + inter + tch, rel=1e-10, abs=0)
    # q q -> X X: |t|², |u|² and the t-u interference trace
    tt = np.trace((sl(k1) + M * one) @ PL @ sl(p1) @ PR).real * np.trace((sl(k2) + M * one) @ PL @ sl(p2) @ PR).real
    assert tt == pytest.approx((M * M - t) ** 2, rel=1e-9, abs=0)
    tu = np.trace((sl(k1) + M * one) @ PL @ sl(p1) @ PR @ (sl(k2) + M * one) @ PL @ sl(p2) @ PR).real
    assert tu == pytest.approx(M * M * s - (M * M - t) * (M * M - u), rel=1e-9, abs=0)
    y = 0.9
    me = K.me2_qq_xy(t, u, M * M, M * M, mphi**2, y, y, y, y, True)
    uu_ = np.trace((sl(k2) + M * one) @ PL @ sl(p1) @ PR).real * np.trace((sl(k1) + M * one) @ PL @ sl(p2) @ PR).real
    ref = (
        0.5
        / 36
        * y**4
        * (9 * tt / (t - mphi**2) ** 2 + 9 * uu_ / (u - mphi**2) ** 2 - 2 * 3 * tu / ((t - mphi**2) * (u - mphi**2)))
    )
    assert me == pytest.approx(ref, rel=1e-10, abs=0)
