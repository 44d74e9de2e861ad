"""Matrix elements, widths and matching of the UV-model LHC kernels against independent calculations.

* q g → X φ: the closed form of :func:`evtgen.vlq.kernels.me2_qg_xphi` against a numerical Dirac
  trace written here in numpy (Dirac basis, explicit s- and t-channel diagrams, −g_μν polarisation
  sum: one external gluon, gauge invariant).
* q g → q φφ through the heavy line: the production helicity amplitudes
  (:func:`evtgen.vlq.kernels.hel_amps_23`, Weyl spinors, chiral blocks of the heavy propagator)
  against the independent numerical Dirac traces of :mod:`evtgen.vlq.reference` (4×4 matrices,
  8×8 inverse), point by point, complex couplings and Q–D mixing, crossed channel too; the UV
  amplitude against the matched contact at amplitude level, which fixes the **sign** of C^{S,dd}
  (the model layer's −√2 y_q y_d y₁ v/(m_Q m_D)); the numerical contact mode against the analytic
  (q g → q S)(S → φφ) form; the decoupling of |M|².
* the generator's coupling/width tables are the model layer's (:mod:`evtgen.models.tchannel`).
"""

from __future__ import annotations

import numpy as np
import pytest

from evtgen.models import tchannel as T
from evtgen.vlq import generator as GEN
from evtgen.vlq import kernels as K
from evtgen.vlq import reference as R

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
    G = R.gammas()
    s, q2 = 1e6, 3e5
    p1, p2, p3, k1, k2 = _point_23(s, q2, 0.3)
    C = 1e-4
    num = R.amp2_qg_qphiphi(G, p1, p2, p3, k1, k2, np.eye(2), np.zeros(2), np.zeros(2), np.zeros(2), C) / 24.0
    t, u = dot(p1 - p3, p1 - p3), dot(p2 - p3, p2 - p3)
    assert num == pytest.approx(C * C * (t * t + q2 * q2) / (-s * u) / 6.0, rel=1e-10, abs=0)
    # crossed: q qbar -> g phi phi
    numx = -R.amp2_qg_qphiphi(G, p1, -p3, -p2, k1, k2, np.eye(2), np.zeros(2), np.zeros(2), np.zeros(2), C) / 9.0
    assert numx == pytest.approx(4.0 / 9.0 * C * C * (s * s + q2 * q2) / (t * u), rel=1e-10, abs=0)


UV_COMPLEX = dict(
    m_Q=2000.0, m_D=2600.0, m_phi=1.0, y_q=[[0.8, 0.3], 0.5, 0.2], y_d=[0.7, [0.1, -0.6], 0.3], y1=[0.9, 0.4],
    y2=[0.3, -0.2],
)  # fmt: skip


@pytest.mark.parametrize("s,q2,c", [(4e6, 5e5, 0.3), (2.5e7, 8e6, -0.8), (9e6, 1e4, 0.95)])
def test_helicity_amplitudes_equal_numerical_traces(s, q2, c):
    """Σ_h |y_in|²|y_out|² Σ_pol |hel_amps|² = the reference Tr[p̸₃ A p̸₁ Ā] for every flavour pair
    (d, s, b)², complex Yukawas, y₁, y₂ complex (Q–D mixing), zero widths (the reference puts
    widths on the gauge-basis diagonal, the production code on the mass eigenstates): the two are
    algebraically identical, so the tolerance is round-off (1e-10)."""
    uv = T.tchannel_point(**UV_COMPLEX)
    M = T.down_mass_matrix(uv)
    md, ul, ur = T.heavy_down_states(uv)
    G = R.gammas()
    p1, p2, p3, k1, k2 = _point_23(s, q2, c)
    buf, w = np.empty((2, 4), complex), np.empty(4)
    yq, yd = np.array(uv.y_q), np.array(uv.y_d)
    # q g -> q phi phi and the crossed q qbar -> g phi phi (reference: -Tr with p3 -> -p2)
    for p1_, pg, p3_, p3s, sign in [(p1, p2, p3, p3, 1.0), (p1, -p3, -p2, p2, -1.0)]:
        K.w_23(p1_, pg, p3_, p3s, k1, k2, ul, ur, md, np.zeros(2), buf, w)
        for a in range(3):
            for b in range(3):
                yin = np.array([np.conj(yq[a]), yd[a]])
                yout = np.array([yq[b], np.conj(yd[b])])
                ref = sign * R.amp2_qg_qphiphi(G, p1_, pg, p3_, k1, k2, M, np.zeros(2), yin, yout, 0.0)
                la, ra, lb, rb = abs(yq[a]) ** 2, abs(yd[a]) ** 2, abs(yq[b]) ** 2, abs(yd[b]) ** 2
                new = np.array([la * lb, la * rb, ra * rb, ra * lb]) @ w
                assert new == pytest.approx(ref, rel=1e-10, abs=0)


def _contact_lr(p1, pg, p3, eps):
    """ū_R(p3) [S(p1+pg) ε̸ + ε̸ S(p3−pg)] u_L(p1) (Weyl form): the chirality-flip structure of the contact."""
    ul1, _ = K.weyl_spinors(p1)
    _, ur3 = K.weyl_spinors(p3)

    def sb(p):
        return np.array([[p[0] + p[3], p[1] - 1j * p[2]], [p[1] + 1j * p[2], p[0] - p[3]]])

    def sg(p):
        return np.array([[p[0] - p[3], -p[1] + 1j * p[2]], [-p[1] - 1j * p[2], p[0] + p[3]]])

    p12, p3g = p1 + pg, p3 - pg
    ul1, ur3 = np.array(ul1), np.array(ur3)
    return ur3.conj() @ (sg(p12) @ sb(eps) / dot(p12, p12) + sg(eps) @ sb(p3g) / dot(p3g, p3g)) @ ul1


@pytest.mark.parametrize("M", [3e4, 3e5])
def test_uv_helicity_amplitude_tends_to_matched_contact_with_sign(M):
    """The UV amplitude of q_L g → q'_R φφ (with the Feynman-rule phases: i³ for the Yukawa-Yukawa
    and heavy propagator, against i for the contact vertex) tends to the contact amplitude of
    ½ C (d̄d) φ² with C = (C^S − iC^P)^{ba} of :func:`evtgen.models.tchannel.match` — including the
    sign — as O(s/M²): |UV/contact − 1| < 10 s/M². With the opposite sign (the former vlq/uv.py's
    +√2 y y y₁ v/(m_Q m_D)) the ratio is −1. Complex Yukawas; flavours s → b."""
    s = 1e5
    p1, p2, p3, k1, k2 = _point_23(s, 3e4, 0.3)
    y = M / 3000.0
    uv = T.tchannel_point(
        m_Q=M, m_D=1.3 * M, m_phi=1.0, y_q=[0.0, [0.6 * y, 0.3 * y], 0.2 * y], y_d=[0.0, 0.4 * y, [0.5 * y, -0.7 * y]],
        y1=[0.8, 0.3],
    )  # fmt: skip
    md, ul, ur = T.heavy_down_states(uv)
    buf = np.empty((2, 4), complex)
    K.hel_amps_23(p1, p2, p3, p3, k1, k2, ul, ur, md, np.zeros(2), buf)
    m = T.match(uv)
    a, b = 1, 2  # incoming s_L, outgoing b_R
    yin, yout = np.conj(uv.y_q[a]), np.conj(uv.y_d[b])
    # coefficient of b̄ P_L s (x 2 for the two phi) from L_eff = A_ij d̄_Li d_Rj φ² + h.c.: 2 A_sb^*,
    # A_ij = y_q^i y_d^j (M^-1)_12 (the y1 v part of match(); its m_q terms come from the light-quark
    # equations of motion and are absent for the massless quarks of the LHC kernels)
    c = 2 * np.conj(uv.y_q[a] * uv.y_d[b] * np.linalg.inv(T.down_mass_matrix(uv))[0, 1])
    # match() adds the m_q terms, O(m_b / (|y1| v/sqrt2)) ~ 3% here
    assert abs(m.CS_d[b, a] - 1j * m.CP_d[b, a] - c) < 0.05 * abs(c)
    eps = K.pol_vectors(p2)
    for e in range(2):
        uvamp = yout * buf[e, 1] * yin
        ct = c * _contact_lr(p1, p2, p3, eps[e])
        assert abs(uvamp / ct - 1) < 10 * s / M**2, (uvamp, ct)


@pytest.mark.parametrize("M", [1e4, 1e5])
def test_uv_amplitude_decouples_to_matched_contact(M):
    """UV |M|² / EFT |M|² − 1 = O(s/M²) at fixed y²/M² (s = 1e5 GeV²): < 2 s/M² (reference code)."""
    G = R.gammas()
    s = 1e5
    p1, p2, p3, k1, k2 = _point_23(s, 3e4, 0.3)
    y = M / 3000.0
    uv = T.tchannel_point(m_Q=M, m_D=M, m_phi=1.0, y_q=(y, 0, 0), y_d=(y, 0, 0), y1=1.0)
    mm = T.down_mass_matrix(uv)
    yy = np.array([y, y])
    # C^{S,dd} of match() without its m_d (light-quark EOM) terms, absent for massless quarks
    C = 2 * (y * y * np.linalg.inv(T.down_mass_matrix(uv))[0, 1]).real
    assert C == pytest.approx(T.to_eft(uv)["CS_dd"], rel=1e-3, abs=0)
    uvm = R.amp2_qg_qphiphi(G, p1, p2, p3, k1, k2, mm, np.zeros(2), yy, yy, 0.0)
    ef = R.amp2_qg_qphiphi(G, p1, p2, p3, k1, k2, mm, np.zeros(2), yy, yy, C)
    assert abs(uvm / ef - 1) < 2 * s / M**2


def test_generator_tables_are_the_model_layers():
    """The generator takes masses, chiral couplings and widths of the mass eigenstates from
    evtgen.models.tchannel (no physics of its own): exact equality."""
    uv = T.tchannel_point(**UV_COMPLEX)
    sp = GEN.spectrum_arrays(uv)
    cpl, wid = T.couplings_to_light(uv), T.widths(uv)
    for x, st in enumerate(("U", "D1", "D2")):
        assert sp["mass"][x] == wid[st]["mass"] and sp["widths"][x] == wid[st]["total_q_phi"]
        for q, pid in zip(("d", "s", "b") if x else ("u", "c"), (1, 3, 5) if x else (2, 4)):
            assert sp["YL"][x, pid] == abs(cpl[st][q][0]) ** 2 and sp["YR"][x, pid] == abs(cpl[st][q][1]) ** 2
    assert sp["DW"][0, 6] == wid["U"]["t"]


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
    y2 = y * y
    me = K.me2_qq_xy(t, u, M * M, M * M, mphi**2, y2, 0.0, y2, 0.0, y2, 0.0, y2, 0.0, True)
    uu_ = np.trace((sl(k2) + M * one) @ PL @ sl(p1) @ PR).real * np.trace((sl(k1) + M * one) @ PL @ sl(p2) @ PR).real
    ref = (
        0.5
        / 36
        * y**4
        * (9 * tt / (t - mphi**2) ** 2 + 9 * uu_ / (u - mphi**2) ** 2 - 2 * 3 * tu / ((t - mphi**2) * (u - mphi**2)))
    )
    assert me == pytest.approx(ref, rel=1e-10, abs=0)
    # both chiralities (a mass eigenstate of the Q-D mixing): vertex Xbar (a* P_L + b* P_R) q phi for
    # the two quark lines (flavours 1, 2); the t-u interference trace with the general couplings
    ca, cb = (0.7 + 0.2j, -0.4 + 0.5j), (0.3 - 0.6j, 0.9 + 0.1j)
    gb = [np.conj(c[0]) * PL + np.conj(c[1]) * PR for c in (ca, cb)]  # Xbar Gamma-bar q
    gq = [c[0] * PR + c[1] * PL for c in (ca, cb)]  # qbar Gamma X
    tu2 = np.trace((sl(k1) + M * one) @ gb[0] @ sl(p1) @ gq[0] @ (sl(k2) + M * one) @ gb[1] @ sl(p2) @ gq[1]).real
    t1 = np.trace((sl(k1) + M * one) @ gb[0] @ sl(p1) @ gq[0]).real
    t2 = np.trace((sl(k2) + M * one) @ gb[1] @ sl(p2) @ gq[1]).real
    u1 = np.trace((sl(k2) + M * one) @ gb[0] @ sl(p1) @ gq[0]).real
    u2 = np.trace((sl(k1) + M * one) @ gb[1] @ sl(p2) @ gq[1]).real
    ref2 = 0.5 / 36 * (9 * t1 * t2 / (t - mphi**2) ** 2 + 9 * u1 * u2 / (u - mphi**2) ** 2)
    ref2 -= 0.5 / 36 * 2 * 3 * tu2 / ((t - mphi**2) * (u - mphi**2))
    la, ra, lb, rb = (abs(ca[0]) ** 2, abs(ca[1]) ** 2, abs(cb[0]) ** 2, abs(cb[1]) ** 2)
    me = K.me2_qq_xy(t, u, M * M, M * M, mphi**2, la, ra, lb, rb, lb, rb, la, ra, True)
    assert me == pytest.approx(ref2, rel=1e-10, abs=0)
