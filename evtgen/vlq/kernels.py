"""Numba kernels of the UV-model LHC generator: |M|², phase space, narrow-width decays, 2→3 amplitude.

Conventions: massless light quarks, g_s² = 4π α_s, heavy mass eigenstates X = 0 (U), 1 (D1), 2 (D2)
of :mod:`evtgen.models.tchannel` with chiral squared couplings ``YL[X, pid]``, ``YR[X, pid]``
(pid = 1..5; |a|², |b|² of q̄ (a P_R + b P_L) X φ; the 2→2 formulas below are written for one
chirality, y² → |a|² + |b|² for massless quarks except the identical-pair interference). For a 2→2 process a(p1) b(p2) →
3(k3) 4(k4), parton 1 along +z: t = (p1 − k3)², u = (p2 − k3)². Spin- and colour-averaged |M|²
(derived in docs/uv_lhc.md; the QCD pieces are Combridge, Nucl. Phys. B151 (1979) 429 /
Ellis–Stirling–Webber eq. (10.12); τ₁ = (M² − t)/s, τ₂ = (M² − u)/s, ρ = 4M²/s):

    g g → X X̄ :  g⁴ (1/(6τ₁τ₂) − 3/8)(τ₁² + τ₂² + ρ − ρ²/(4τ₁τ₂))
    q q̄ → X X̄ :  g⁴ (4/9)(τ₁² + τ₂² + ρ/2)                                      [s-channel gluon]
               + (4/9) g² y² [(M² − t)² + M² s] / (s (t − m_φ²))               [interference, < 0]
               + y⁴ (M² − t)² / (4 (t − m_φ²)²)                                 [t-channel φ]
    q_a q̄_b → X Ȳ (a ≠ b or X ≠ Y, t-channel φ only):
               y_Xa² y_Yb² (M_X² − t)(M_Y² − t) / (4 (t − m_φ²)²)
    q g → X φ :  g² y² /24 · 2[ s/(M² − t_g) + (M² − t_g)/s − 2 + 2(M² − u_q)(M² − m_φ²)/(s (M² − t_g))
                                − 2 M² (M² − m_φ²)/(M² − t_g)² ],  t_g = (p_g − k_X)², u_q = (p_q − k_X)²

(t = (p_q − k_X)² with p_q the incoming quark). The q g → X φ form reduces for M, m_φ → 0 to half
of the scalar-Yukawa q g → q S of monojet_matrix_elements.md (one chirality), and is checked against
a numerical Dirac trace in tests/test_vlq_me.py.

2→3 (the non-resonant t-channel pp → j φφ, :func:`hel_amps_23`): helicity amplitudes of
q(p1) g(p2) → q'(p3) φ(k1) φ(k2) with explicit Weyl spinors of the massless quarks. The heavy
propagator (p̸ − 𝓜P_R − 𝓜†P_L)⁻¹ in the (Q, D) flavour space is split by chirality into four 2×2
flavour matrices (:func:`heavy_blocks`: S P_L = P_R p̸ A_L + P_L B_L, S P_R = P_L p̸ A_R + P_R B_R,
A_L = (p² − 𝓜†𝓜)⁻¹, B_L = 𝓜 A_L, ...) built from the mass eigenstates (mixing U_L, U_R, masses,
Breit–Wigner widths), so the Q–D mixing and both chiralities are exact. A fixed pair of quark
helicities picks one flavour element (q_L ↔ Q, q_R ↔ D), hence helicities do not interfere and
Σ|M|² = Σ_h |y_in|²|y_out|² Σ_pol |A_h|²: one set of amplitudes per phase-space point and sector
serves every flavour row. Checked to 1e-14 against the former numerical 4×4 Dirac traces
(:mod:`evtgen.vlq.reference`) in tests/test_vlq_me.py.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evtgen import jit_notice, rng
from evtgen.monojet.kernels import phase_space_pt, vegas_map
from evtgen.pdf import NPAD, alphas_lo, xfx_pair_fast

jit_notice.announce(__file__, "the vector-like-quark kernels")

# ------------------------------------------------------------------ parameter vector
P_SQRTS, P_MPHI, P_SCALE, P_CONV, P_M3, P_M4, P_PTMIN, P_WINDOW, P_VEV, P_Y1, P_Y2, P_USEW, NPAR = range(13)
# 2->2 row types
T_GG, T_QQB, T_QBQ, T_TQQB, T_TQBQ, T_QG, T_GQ, T_QQ = 0, 1, 2, 3, 4, 5, 6, 7

VAR_R = np.array([1.0, 2.0, 0.5, 2.0, 1.0, 0.5, 1.0])
VAR_F = np.array([0, 1, 2, 0, 1, 0, 2], dtype=np.int64)
FAC_F = np.array([1.0, 2.0, 0.5])


@nb.njit(cache=True)
def me2_pair_qcd_gg(s, t, u, m2, g2):
    """g g → X X̄ (averaged), QCD."""
    t1 = (m2 - t) / s
    t2 = (m2 - u) / s
    rho = 4.0 * m2 / s
    return g2 * g2 * (1.0 / (6.0 * t1 * t2) - 0.375) * (t1 * t1 + t2 * t2 + rho - rho * rho / (4.0 * t1 * t2))


@nb.njit(cache=True)
def me2_pair_qqb(s, tq, uq, m2, mphi2, g2, y2):
    """q q̄ → X X̄ (averaged): s-channel gluon + t-channel φ (coupling y² = Y[X,q]²) + interference.
    ``tq`` = (p_q − k_X)²."""
    t1 = (m2 - tq) / s
    t2 = (m2 - uq) / s
    rho = 4.0 * m2 / s
    qcd = g2 * g2 * 4.0 / 9.0 * (t1 * t1 + t2 * t2 + 0.5 * rho)
    if y2 == 0.0:
        return qcd
    dt = tq - mphi2
    a = m2 - tq
    inter = 4.0 / 9.0 * g2 * y2 * (a * a + m2 * s) / (s * dt)
    tch = y2 * y2 * a * a / (4.0 * dt * dt)
    return qcd + inter + tch


@nb.njit(cache=True)
def me2_pair_tchannel(tq, m3sq, m4sq, mphi2, y2a, y2b):
    """q_a q̄_b → X Ȳ through t-channel φ only (averaged)."""
    dt = tq - mphi2
    return y2a * y2b * (m3sq - tq) * (m4sq - tq) / (4.0 * dt * dt)


@nb.njit(cache=True)
def me2_qq_xy(t, u, m3sq, m4sq, mphi2, lxa, rxa, lyb, ryb, lxb, rxb, lya, rya, identical):
    """q_a q_b → X Y (and q̄ q̄ → X̄ Ȳ) through t- and u-channel φ exchange (averaged); arguments
    are the chiral squared couplings l = |a|², r = |b|² of f̄ (a P_R + b P_L) X φ (X to flavour a ...).
    Distinct X, Y: (l+r)_Xa (l+r)_Yb (M_X² − t)(M_Y² − t)/(4(t − m²)²) + (a ↔ b, t → u) (different
    final states do not interfere). Identical X = Y (mass M): ½ [t² + u² terms + interference
    −(1/36)·2·3·I_tu/((t − m²)(u − m²))], I_tu = (l_a l_b + r_a r_b) T_tu + (l_a r_b + r_a l_b) M² s,
    T_tu = ½Tr[k̸₁p̸₁k̸₂p̸₂] = M² s − (M² − t)(M² − u) (colour 3, Fermi sign −1), the ½ for identical
    particles (integrated over all cos θ*)."""
    dt = t - mphi2
    du = u - mphi2
    if identical:
        y4 = (lxa + rxa) * (lxb + rxb)
        a = m3sq - t
        b = m3sq - u
        s = 2.0 * m3sq - t - u
        ttu = m3sq * s - a * b
        itu = (lxa * lxb + rxa * rxb) * ttu + (lxa * rxb + rxa * lxb) * m3sq * s
        return 0.5 * (y4 * a * a / (4.0 * dt * dt) + y4 * b * b / (4.0 * du * du) - itu / (6.0 * dt * du))
    m = (lxa + rxa) * (lyb + ryb) * (m3sq - t) * (m4sq - t) / (4.0 * dt * dt)
    m += (lxb + rxb) * (lya + rya) * (m3sq - u) * (m4sq - u) / (4.0 * du * du)
    return m


@nb.njit(cache=True)
def me2_qg_xphi(s, tg, uq, m2, mphi2, g2, y2):
    """q g → X φ (averaged, one chirality, massless q); tg = (p_g − k_X)², uq = (p_q − k_X)²."""
    a = m2 - tg
    d = m2 - mphi2
    spin = 2.0 * (s / a + a / s - 2.0 + 2.0 * (m2 - uq) * d / (s * a) - 2.0 * m2 * d / (a * a))
    return g2 * y2 * spin / 24.0


@nb.njit(cache=True, inline="always")
def _pdf_index(pid):
    return 6 if pid == 21 else pid + 6


@nb.njit(cache=True)
def me2_row(row, s, t, u, par, YL, YR, g2):
    """|M̄|² of one partonic row (id1, id2, type, X, Y) at (s, t, u); ``YL``/``YR`` [X, pid] the
    chiral squared couplings |a|², |b|² of q̄ (a P_R + b P_L) X φ (massless quarks: the pair and
    X φ formulas take their sum, the identical-pair interference both)."""
    typ = row[2]
    x = row[3]
    yy = row[4]
    mphi2 = par[P_MPHI] * par[P_MPHI]
    m3sq = par[P_M3] * par[P_M3]
    m4sq = par[P_M4] * par[P_M4]
    if typ == T_GG:
        return me2_pair_qcd_gg(s, t, u, m3sq, g2)
    if typ == T_QQB:
        q = abs(row[0])
        return me2_pair_qqb(s, t, u, m3sq, mphi2, g2, YL[x, q] + YR[x, q])
    if typ == T_QBQ:
        q = abs(row[1])
        return me2_pair_qqb(s, u, t, m3sq, mphi2, g2, YL[x, q] + YR[x, q])
    if typ == T_TQQB:
        qa = abs(row[0])
        qb = abs(row[1])
        return me2_pair_tchannel(t, m3sq, m4sq, mphi2, YL[x, qa] + YR[x, qa], YL[yy, qb] + YR[yy, qb])
    if typ == T_TQBQ:
        qa = abs(row[1])
        qb = abs(row[0])
        return me2_pair_tchannel(u, m3sq, m4sq, mphi2, YL[x, qa] + YR[x, qa], YL[yy, qb] + YR[yy, qb])
    if typ == T_QQ:
        a = abs(row[0])
        b = abs(row[1])
        return me2_qq_xy(
            t, u, m3sq, m4sq, mphi2, YL[x, a], YR[x, a], YL[yy, b], YR[yy, b], YL[x, b], YR[x, b], YL[yy, a],
            YR[yy, a], x == yy,
        )  # fmt: skip
    if typ == T_QG:
        q = abs(row[0])
        return me2_qg_xphi(s, u, t, m3sq, mphi2, g2, YL[x, q] + YR[x, q])
    q = abs(row[1])
    return me2_qg_xphi(s, t, u, m3sq, mphi2, g2, YL[x, q] + YR[x, q])


@nb.njit(cache=True, inline="always")
def phase_space_22(r, par):
    """u-cube (3) -> (x1, x2, s, cosθ*, jac) for a 2→2 with final masses m3, m4: ln τ linear on
    [ln τ_min, 0], rapidity of the pair linear on its range, cos θ* linear. jac = dx1 dx2 dcosθ."""
    sqrts = par[P_SQRTS]
    m3 = par[P_M3]
    m4 = par[P_M4]
    ltmin = 2.0 * np.log((m3 + m4) / sqrts)
    lt = ltmin * (1.0 - r[0])
    tau = np.exp(lt)
    jac = tau * (-ltmin)
    yr = -lt  # length of the rapidity range
    y = (r[1] - 0.5) * yr
    jac *= yr
    cth = 2.0 * r[2] - 1.0
    jac *= 2.0
    st = np.sqrt(tau)
    x1 = st * np.exp(y)
    x2 = st * np.exp(-y)
    return x1, x2, tau * sqrts * sqrts, cth, jac


@nb.njit(cache=True, inline="always")
def kin_22(s, cth, m3sq, m4sq):
    """(t, u, p, E3, λ^½) of a 2→2 at cos θ* of particle 3 relative to parton 1."""
    lam = (s - m3sq - m4sq) ** 2 - 4.0 * m3sq * m4sq
    sl = np.sqrt(max(lam, 0.0))
    rs = np.sqrt(s)
    p = sl / (2.0 * rs)
    e3 = (s + m3sq - m4sq) / (2.0 * rs)
    t = m3sq - rs * (e3 - p * cth)
    u = m3sq - rs * (e3 + p * cth)
    return t, u, p, e3, sl


@nb.njit(cache=True, inline="always")
def scales_22(par, s, cth, m3sq, m4sq):
    """(μ_R², μ_F²): mode 0 = (H_T/2)², H_T = m_T3 + m_T4; mode 1 = Pythia 8's 2→2 default
    (μ_F² = min(m_T3², m_T4²), μ_R² = m_T3 m_T4)."""
    t, u, p, e3, sl = kin_22(s, cth, m3sq, m4sq)
    pt2 = p * p * max(0.0, 1.0 - cth * cth)
    mt3 = np.sqrt(pt2 + m3sq)
    mt4 = np.sqrt(pt2 + m4sq)
    if par[P_SCALE] > 0.5:
        return mt3 * mt4, min(mt3, mt4) ** 2
    h = 0.5 * (mt3 + mt4)
    return h * h, h * h


@nb.njit(cache=True)
def weight_22(r, par, YL, YR, rows, g, apar, nvar, wvar, f1, f2, work):
    """σ weight (pb) of point r of a 2→2 group (rows with common final masses); fills
    wvar[0:nvar] (7-point scale variation when nvar = 7)."""
    x1, x2, s, cth, jac = phase_space_22(r, par)
    for i in range(nvar):
        wvar[i] = 0.0
    if x1 >= 1.0 or x2 >= 1.0:
        return 0.0
    m3sq = par[P_M3] ** 2
    m4sq = par[P_M4] ** 2
    t, u, p, e3, sl = kin_22(s, cth, m3sq, m4sq)
    mur2, muf2 = scales_22(par, s, cth, m3sq, m4sq)
    common = jac * sl / (32.0 * np.pi * s * s) / (x1 * x2) * par[P_CONV]
    nf = 3 if nvar > 1 else 1
    w0 = 0.0
    for j in range(nf):
        xfx_pair_fast(g, x1, x2, muf2 * FAC_F[j] * FAC_F[j], f1, f2, work)
        for iv in range(nvar):
            if VAR_F[iv] != j and nvar > 1:
                continue
            fr = VAR_R[iv] if nvar > 1 else 1.0
            g2 = 4.0 * np.pi * alphas_lo(apar, mur2 * fr * fr)
            tot = 0.0
            for k in range(rows.shape[0]):
                lum = f1[_pdf_index(rows[k, 0])] * f2[_pdf_index(rows[k, 1])]
                if lum != 0.0:
                    tot += lum * me2_row(rows[k], s, t, u, par, YL, YR, g2)
            wvar[iv] = tot * common
        if j == 0:
            w0 = wvar[0]
    return w0


@nb.njit(cache=True, parallel=True)
def weights_22(x, par, YL, YR, rows, g, apar, nvar):
    """Weights (n,) and variations (n, nvar) at points x (n, 3) of the u-cube."""
    n = x.shape[0]
    w = np.empty(n)
    wv = np.empty((n, nvar))
    for i in nb.prange(n):
        f1 = np.zeros(NPAD)
        f2 = np.zeros(NPAD)
        work = np.empty((4, 13))
        tmp = np.empty(nvar)
        w[i] = weight_22(x[i], par, YL, YR, rows, g, apar, nvar, tmp, f1, f2, work)
        for j in range(nvar):
            wv[i, j] = tmp[j]
    return w, wv


# ------------------------------------------------------------------ decays and boosts


@nb.njit(cache=True, inline="always")
def boost(px, py, pz, e, bx, by, bz):
    """Boost (px, py, pz, e) by velocity (bx, by, bz)."""
    b2 = bx * bx + by * by + bz * bz
    if b2 <= 0.0:
        return px, py, pz, e
    gam = 1.0 / np.sqrt(1.0 - b2)
    bp = bx * px + by * py + bz * pz
    g2 = (gam - 1.0) / b2
    return (
        px + g2 * bp * bx + gam * bx * e,
        py + g2 * bp * by + gam * by * e,
        pz + g2 * bp * bz + gam * bz * e,
        gam * (e + bp),
    )


@nb.njit(cache=True, inline="always")
def two_body(p, m, ma, mb, uc, uph, out_a, out_b):
    """Isotropic decay of p (4-vector, mass m) into a (mass ma) and b (mass mb), in the lab."""
    pst = np.sqrt(max(0.0, (m * m - (ma + mb) ** 2) * (m * m - (ma - mb) ** 2))) / (2.0 * m)
    c = 2.0 * uc - 1.0
    sn = np.sqrt(max(0.0, 1.0 - c * c))
    ph = 2.0 * np.pi * uph
    vx, vy, vz = pst * sn * np.cos(ph), pst * sn * np.sin(ph), pst * c
    ea = np.sqrt(pst * pst + ma * ma)
    eb = np.sqrt(pst * pst + mb * mb)
    bx, by, bz = p[0] / p[3], p[1] / p[3], p[2] / p[3]
    out_a[0], out_a[1], out_a[2], out_a[3] = boost(vx, vy, vz, ea, bx, by, bz)
    out_b[0], out_b[1], out_b[2], out_b[3] = boost(-vx, -vy, -vz, eb, bx, by, bz)


@nb.njit(cache=True, inline="always")
def choose(weights, u):
    """Index chosen with probability ∝ weights (last positive one on round-off)."""
    tot = 0.0
    for k in range(weights.size):
        tot += weights[k]
    target = u * tot
    run = 0.0
    last = 0
    for k in range(weights.size):
        if weights[k] > 0.0:
            last = k
            run += weights[k]
            if run >= target:
                return k
    return last


@nb.njit(cache=True, inline="always")
def decay_flavour(DW, x, u):
    """Quark pid of X → q φ, probability ∝ the partial width DW[X, pid] (pid 0..6)."""
    return choose(DW[x], u)


# event columns (float64, (NCOL, n)): k3, k4 (heavy or φ), decay products of 3 (q, φ) and of 4 (q, φ),
# then s, x1, x2, μ_R, α_s(μ_R)
C_K3, C_K4, C_Q3, C_F3, C_Q4, C_F4, C_SHAT, C_X1, C_X2, C_SCALE, C_ALPHAS, NCOL = (
    0,
    4,
    8,
    12,
    16,
    20,
    24,
    25,
    26,
    27,
    28,
    29,
)
# integer columns: id1, id2, row index, decay quark of 3, decay quark of 4 (0 if none)
I_ID1, I_ID2, I_ROW, I_Q3, I_Q4, NICOL = 0, 1, 2, 3, 4, 5


@nb.njit(cache=True, parallel=True)
def accept_22(first, n, key0, key1, edges, par, YL, YR, rows, g, apar, wmax):
    """Accept flags (n,) and overweight flags for trials first..first+n−1 (trial i uses the
    counter-based stream (key, i): 3 uniforms for the point, 1 for the acceptance)."""
    acc = np.zeros(n, dtype=np.bool_)
    over = np.zeros(n, dtype=np.bool_)
    d = edges.shape[0]
    for i in nb.prange(n):
        f1 = np.zeros(NPAD)
        f2 = np.zeros(NPAD)
        work = np.empty((4, 13))
        wv = np.empty(1)
        r = np.empty(d)
        x = np.empty(d)
        st = rng.event_state(key0, key1, first + i)
        for k in range(d):
            r[k], st = rng.uniform(st)
        jv = vegas_map(r, edges, x)
        w = weight_22(x, par, YL, YR, rows, g, apar, 1, wv, f1, f2, work) * jv
        ua, st = rng.uniform(st)
        if w > 0.0 and ua * wmax < w:
            acc[i] = True
            over[i] = w > wmax
    return acc, over


@nb.njit(cache=True, parallel=True)
def build_22(indices, key0, key1, edges, par, YL, YR, DW, qmass, rows, g, apar, decay3, decay4):
    """Event columns of the accepted trials ``indices`` (same streams as :func:`accept_22`):
    partonic channel ∝ its weight, 2→2 kinematics, azimuth, narrow-width decays X → q φ
    (isotropic in the X rest frame; ``decay3``/``decay4`` say whether particle 3/4 decays; flavour
    ∝ the partial widths ``DW[X, pid]``, quark masses ``qmass[pid]`` in the decay kinematics)."""
    n = indices.size
    d = edges.shape[0]
    out = np.zeros((NCOL, n))
    ids = np.zeros((NICOL, n), dtype=np.int64)
    nrow = rows.shape[0]
    for i in nb.prange(n):
        f1 = np.zeros(NPAD)
        f2 = np.zeros(NPAD)
        work = np.empty((4, 13))
        r = np.empty(d)
        x = np.empty(d)
        chw = np.empty(nrow)
        st = rng.event_state(key0, key1, indices[i])
        for k in range(d):
            r[k], st = rng.uniform(st)
        vegas_map(r, edges, x)
        ua, st = rng.uniform(st)
        x1, x2, s, cth, jac = phase_space_22(x, par)
        m3sq = par[P_M3] ** 2
        m4sq = par[P_M4] ** 2
        t, u, p, e3, sl = kin_22(s, cth, m3sq, m4sq)
        mur2, muf2 = scales_22(par, s, cth, m3sq, m4sq)
        xfx_pair_fast(g, x1, x2, muf2, f1, f2, work)
        g2 = 4.0 * np.pi * alphas_lo(apar, mur2)
        for k in range(nrow):
            lum = f1[_pdf_index(rows[k, 0])] * f2[_pdf_index(rows[k, 1])]
            chw[k] = lum * me2_row(rows[k], s, t, u, par, YL, YR, g2) if lum != 0.0 else 0.0
        uc, st = rng.uniform(st)
        kr = choose(chw, uc)
        uphi, st = rng.uniform(st)
        ph = 2.0 * np.pi * uphi
        sth = np.sqrt(max(0.0, 1.0 - cth * cth))
        bz = (x1 - x2) / (x1 + x2)
        k3 = np.empty(4)
        k4 = np.empty(4)
        k3[0], k3[1], k3[2], k3[3] = boost(p * sth * np.cos(ph), p * sth * np.sin(ph), p * cth, e3, 0.0, 0.0, bz)
        e4 = np.sqrt(s) - e3
        k4[0], k4[1], k4[2], k4[3] = boost(-p * sth * np.cos(ph), -p * sth * np.sin(ph), -p * cth, e4, 0.0, 0.0, bz)
        for c in range(4):
            out[C_K3 + c, i] = k3[c]
            out[C_K4 + c, i] = k4[c]
        qa = np.empty(4)
        fa = np.empty(4)
        mphi = par[P_MPHI]
        # decays: flavour, cos θ, azimuth (3 uniforms each, always drawn: fixed stream layout)
        for which in range(2):
            uf, st = rng.uniform(st)
            u1, st = rng.uniform(st)
            u2, st = rng.uniform(st)
            dec = decay3 if which == 0 else decay4
            if not dec:
                continue
            kk = k3 if which == 0 else k4
            sp = rows[kr, 3] if which == 0 else rows[kr, 4]
            m = np.sqrt(m3sq) if which == 0 else np.sqrt(m4sq)
            q = decay_flavour(DW, sp, uf)
            two_body(kk, m, qmass[q], mphi, u1, u2, qa, fa)
            base_q = C_Q3 if which == 0 else C_Q4
            base_f = C_F3 if which == 0 else C_F4
            for c in range(4):
                out[base_q + c, i] = qa[c]
                out[base_f + c, i] = fa[c]
            ids[I_Q3 if which == 0 else I_Q4, i] = q
        out[C_SHAT, i] = s
        out[C_X1, i] = x1
        out[C_X2, i] = x2
        out[C_SCALE, i] = np.sqrt(mur2)
        out[C_ALPHAS, i] = g2 / (4.0 * np.pi)
        ids[I_ID1, i] = rows[kr, 0]
        ids[I_ID2, i] = rows[kr, 1]
        ids[I_ROW, i] = kr
    return out, ids


# ------------------------------------------------------------------ 2 -> 3: helicity amplitudes


@nb.njit(cache=True)
def pol_vectors(k):
    """Two real transverse polarisation vectors of a massless vector with momentum k."""
    kx, ky, kz = k[1], k[2], k[3]
    kk = np.sqrt(kx * kx + ky * ky + kz * kz)
    nx, ny, nz = kx / kk, ky / kk, kz / kk
    # first: perpendicular to n in the plane with z (or x if n ∥ z)
    if abs(nz) < 0.9:
        ax, ay, az = 0.0, 0.0, 1.0
    else:
        ax, ay, az = 1.0, 0.0, 0.0
    e1x, e1y, e1z = ay * nz - az * ny, az * nx - ax * nz, ax * ny - ay * nx
    l1 = np.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
    e1x, e1y, e1z = e1x / l1, e1y / l1, e1z / l1
    e2x, e2y, e2z = ny * e1z - nz * e1y, nz * e1x - nx * e1z, nx * e1y - ny * e1x
    out = np.zeros((2, 4))
    out[0, 1], out[0, 2], out[0, 3] = e1x, e1y, e1z
    out[1, 1], out[1, 2], out[1, 3] = e2x, e2y, e2z
    return out


# Weyl-spinor helicity amplitudes (Peskin's chiral basis: γ^μ = [[0, σ^μ], [σ̄^μ, 0]], ψ = (ψ_L, ψ_R)).
# A slash a̸ maps a left-handed 2-spinor with a_μσ̄^μ = a⁰ + a⃗·σ⃗ (``_sb``) and a right-handed one with
# a_μσ^μ = a⁰ − a⃗·σ⃗ (``_sg``). 2-vectors and 2×2 matrices are tuples of complex (no heap arrays).


@nb.njit(cache=True, inline="always")
def _sb(p):
    """p⁰ + p⃗·σ⃗ as (m00, m01, m10, m11)."""
    return (complex(p[0] + p[3], 0.0), complex(p[1], -p[2]), complex(p[1], p[2]), complex(p[0] - p[3], 0.0))


@nb.njit(cache=True, inline="always")
def _sg(p):
    """p⁰ − p⃗·σ⃗ as (m00, m01, m10, m11)."""
    return (complex(p[0] - p[3], 0.0), complex(-p[1], p[2]), complex(-p[1], -p[2]), complex(p[0] + p[3], 0.0))


@nb.njit(cache=True, inline="always")
def _mv(m, v):
    return (m[0] * v[0] + m[1] * v[1], m[2] * v[0] + m[3] * v[1])


@nb.njit(cache=True, inline="always")
def _dot(a, b):
    """a† b."""
    return a[0].conjugate() * b[0] + a[1].conjugate() * b[1]


@nb.njit(cache=True, inline="always")
def _mm(a, b, i, j):
    """(a b)[i, j] of two 2×2 tuples."""
    return a[2 * i] * b[j] + a[2 * i + 1] * b[2 + j]


@nb.njit(cache=True, inline="always")
def weyl_spinors(p):
    """(u_L, u_R) of a massless positive-energy momentum p = (E, px, py, pz): √(2E) × the helicity
    −/+ eigenvectors of p̂·σ⃗ (phase convention irrelevant for |M|²)."""
    kk = np.sqrt(p[1] * p[1] + p[2] * p[2] + p[3] * p[3])
    nz = p[3] / kk
    c = np.sqrt(max(0.0, 0.5 * (1.0 + nz)))
    s = np.sqrt(max(0.0, 0.5 * (1.0 - nz)))
    r = np.sqrt(p[1] * p[1] + p[2] * p[2])
    ph = complex(p[1] / r, p[2] / r) if r > 1e-300 * kk else complex(1.0, 0.0)
    f = np.sqrt(2.0 * p[0])
    ul = (-ph.conjugate() * s * f, complex(c * f, 0.0))
    ur = (complex(c * f, 0.0), ph * s * f)
    return ul, ur


@nb.njit(cache=True, inline="always")
def heavy_blocks(q, UL, UR, m, gam):
    """The heavy propagator (p̸ − 𝓜P_R − 𝓜†P_L)⁻¹ at momentum q split by chirality in the
    (Q, D) gauge basis: S P_L = P_R q̸ A_L + P_L B_L, S P_R = P_L q̸ A_R + P_R B_R with
    A_L = U_R D U_R†, A_R = U_L D U_L†, B_L = U_L mD U_R†, B_R = U_R mD U_L†, D = diag(1/(q² − m_a²
    + i m_a Γ_a)) over the mass eigenstates (𝓜 = U_L diag(m) U_R†; Γ = 0: the exact inverse)."""
    q2 = q[0] * q[0] - q[1] * q[1] - q[2] * q[2] - q[3] * q[3]
    d0 = 1.0 / complex(q2 - m[0] * m[0], m[0] * gam[0])
    d1 = 1.0 / complex(q2 - m[1] * m[1], m[1] * gam[1])
    e0 = m[0] * d0
    e1 = m[1] * d1
    al = (
        UR[0, 0] * d0 * UR[0, 0].conjugate() + UR[0, 1] * d1 * UR[0, 1].conjugate(),
        UR[0, 0] * d0 * UR[1, 0].conjugate() + UR[0, 1] * d1 * UR[1, 1].conjugate(),
        UR[1, 0] * d0 * UR[0, 0].conjugate() + UR[1, 1] * d1 * UR[0, 1].conjugate(),
        UR[1, 0] * d0 * UR[1, 0].conjugate() + UR[1, 1] * d1 * UR[1, 1].conjugate(),
    )
    ar = (
        UL[0, 0] * d0 * UL[0, 0].conjugate() + UL[0, 1] * d1 * UL[0, 1].conjugate(),
        UL[0, 0] * d0 * UL[1, 0].conjugate() + UL[0, 1] * d1 * UL[1, 1].conjugate(),
        UL[1, 0] * d0 * UL[0, 0].conjugate() + UL[1, 1] * d1 * UL[0, 1].conjugate(),
        UL[1, 0] * d0 * UL[1, 0].conjugate() + UL[1, 1] * d1 * UL[1, 1].conjugate(),
    )
    bl = (
        UL[0, 0] * e0 * UR[0, 0].conjugate() + UL[0, 1] * e1 * UR[0, 1].conjugate(),
        UL[0, 0] * e0 * UR[1, 0].conjugate() + UL[0, 1] * e1 * UR[1, 1].conjugate(),
        UL[1, 0] * e0 * UR[0, 0].conjugate() + UL[1, 1] * e1 * UR[0, 1].conjugate(),
        UL[1, 0] * e0 * UR[1, 0].conjugate() + UL[1, 1] * e1 * UR[1, 1].conjugate(),
    )
    br = (
        UR[0, 0] * e0 * UL[0, 0].conjugate() + UR[0, 1] * e1 * UL[0, 1].conjugate(),
        UR[0, 0] * e0 * UL[1, 0].conjugate() + UR[0, 1] * e1 * UL[1, 1].conjugate(),
        UR[1, 0] * e0 * UL[0, 0].conjugate() + UR[1, 1] * e1 * UL[0, 1].conjugate(),
        UR[1, 0] * e0 * UL[1, 0].conjugate() + UR[1, 1] * e1 * UL[1, 1].conjugate(),
    )
    return al, ar, bl, br


@nb.njit(cache=True)
def hel_amps_23(p1, pg, p3, p3s, k1, k2, UL, UR, m, gam, out):
    """Helicity amplitudes of q(p1) g(pg) → q'(p3) φ(k1) φ(k2) through the heavy line, stripped of
    g_s T^a and of the Yukawas: ``out[e, h]`` for the gluon polarisation e (two real transverse
    vectors) and h = 0 (q_L → q'_L, via Q ... Q), 1 (q_L → q'_R, Q ... D), 2 (q_R → q'_R, D ... D),
    3 (q_R → q'_L, D ... Q); the Yukawa of the incoming (outgoing) quark multiplies as
    y_in · out · y_out with y_in = y_q^* (L) or y_d (R), y_out = y_q (L) or y_d^* (R).

    Six diagrams (gluon on the incoming quark, the outgoing quark, the heavy line; two φ
    orderings), written with the chiral blocks of :func:`heavy_blocks`. Normalised with the
    Feynman-rule phase so that the amplitude of the matched contact ½ C (q̄q) φ² (same gluon
    attachments) is + C: at low momentum out[:, 1] → the contact structure × (C^S − iC^P).
    ``p3s`` is the positive-energy momentum whose spinor is used for the quark line's end
    (= p3, or −p3 for the crossed q q̄ → g φφ; then Σ_h |out|² = Tr[p̸3s A p̸1 Ā])."""
    ul1, ur1 = weyl_spinors(p1)
    ul3, ur3 = weyl_spinors(p3s)
    p12 = p1 + pg
    p3g = p3 - pg
    s12 = p12[0] * p12[0] - p12[1] * p12[1] - p12[2] * p12[2] - p12[3] * p12[3]
    d3 = p3g[0] * p3g[0] - p3g[1] * p3g[1] - p3g[2] * p3g[2] - p3g[3] * p3g[3]
    eps = pol_vectors(pg)
    sb12, sg12 = _sb(p12), _sg(p12)
    sb3g, sg3g = _sb(p3g), _sg(p3g)
    for e in range(2):
        for h in range(4):
            out[e, h] = 0.0
    for o in range(2):
        hs = p3 + (k2 if o == 0 else k1)
        ht = p1 - (k1 if o == 0 else k2)
        als, ars, bls, brs = heavy_blocks(hs, UL, UR, m, gam)
        alt, art, blt, brt = heavy_blocks(ht, UL, UR, m, gam)
        sbs, sgs = _sb(hs), _sg(hs)
        sbt, sgt = _sb(ht), _sg(ht)
        # left vectors (a† M b = (M a)† b for hermitian M)
        l3_hs = _mv(sbs, ul3)  # uL3† Sb(hs)
        r3_hs = _mv(sgs, ur3)  # uR3† Sg(hs)
        vt_l = _mv(sbt, ul1)  # Sb(ht) uL1
        vt_r = _mv(sgt, ur1)  # Sg(ht) uR1
        for e in range(2):
            sbe, sge = _sb(eps[e]), _sg(eps[e])
            ve_l = _mv(sbe, ul1)  # Sb(e) uL1
            ve_r = _mv(sge, ur1)  # Sg(e) uR1
            # q_L -> q'_L  [Q, Q]
            a = _dot(l3_hs, _mv(sg12, ve_l)) * als[0] / s12
            a += _dot(ul3, _mv(sbe, _mv(sg3g, vt_l))) * alt[0] / d3
            a += _dot(l3_hs, _mv(sge, vt_l)) * _mm(als, alt, 0, 0) + _dot(ul3, ve_l) * _mm(brs, blt, 0, 0)
            out[e, 0] -= a
            # q_L -> q'_R  [D, Q]
            a = _dot(ur3, _mv(sg12, ve_l)) * bls[2] / s12
            a += _dot(ur3, _mv(sge, _mv(sb3g, ul1))) * blt[2] / d3
            a += _dot(ur3, _mv(sge, vt_l)) * _mm(bls, alt, 1, 0) + _dot(r3_hs, ve_l) * _mm(ars, blt, 1, 0)
            out[e, 1] -= a
            # q_R -> q'_R  [D, D]
            a = _dot(r3_hs, _mv(sb12, ve_r)) * ars[3] / s12
            a += _dot(ur3, _mv(sge, _mv(sb3g, vt_r))) * art[3] / d3
            a += _dot(r3_hs, _mv(sbe, vt_r)) * _mm(ars, art, 1, 1) + _dot(ur3, ve_r) * _mm(bls, brt, 1, 1)
            out[e, 2] -= a
            # q_R -> q'_L  [Q, D]
            a = _dot(ul3, _mv(sb12, ve_r)) * brs[1] / s12
            a += _dot(ul3, _mv(sbe, _mv(sg3g, ur1))) * brt[1] / d3
            a += _dot(ul3, _mv(sbe, vt_r)) * _mm(brs, art, 0, 1) + _dot(l3_hs, ve_r) * _mm(als, brt, 0, 1)
            out[e, 3] -= a


@nb.njit(cache=True)
def w_23(p1, pg, p3, p3s, k1, k2, UL, UR, m, gam, buf, w):
    """w[h] = Σ_pol |hel_amps_23[pol, h]|² (h as in :func:`hel_amps_23`)."""
    hel_amps_23(p1, pg, p3, p3s, k1, k2, UL, UR, m, gam, buf)
    for h in range(4):
        w[h] = abs(buf[0, h]) ** 2 + abs(buf[1, h]) ** 2


# 2->3 integrand: monojet phase space (jet p_T, y_j, y_S, Q²) + the φφ decay angles in the S* frame
NDIM3 = 6


@nb.njit(cache=True)
def momenta_23(x, par):
    """Lab momenta (p_a, p_b along ±z, jet, φ1, φ2) and (x1, x2, s, Q², p_T, m_T, jac) at point x."""
    mp = np.empty(4)
    mp[0] = par[P_SQRTS]
    x1, x2, s, q2, cth, pt, mt, jac = phase_space_pt(x, _ps_par(par))
    pa = np.zeros(4)
    pb = np.zeros(4)
    pj = np.zeros(4)
    f1 = np.zeros(4)
    f2 = np.zeros(4)
    if jac <= 0.0:
        return pa, pb, pj, f1, f2, x1, x2, s, q2, pt, mt, 0.0
    eb = 0.5 * par[P_SQRTS]
    pa[0], pa[3] = x1 * eb, x1 * eb
    pb[0], pb[3] = x2 * eb, -x2 * eb
    # jet in the partonic frame at cos θ*, azimuth 0, then boost along z
    rs = np.sqrt(s)
    p = (s - q2) / (2.0 * rs)
    sth = np.sqrt(max(0.0, 1.0 - cth * cth))
    bz = (x1 - x2) / (x1 + x2)
    pj[1], pj[2], pj[3], pj[0] = boost(p * sth, 0.0, p * cth, p, 0.0, 0.0, bz)
    sv = np.empty(4)
    sv[1], sv[2], sv[3], sv[0] = boost(-p * sth, 0.0, -p * cth, np.sqrt(p * p + q2), 0.0, 0.0, bz)
    sv4 = np.array([sv[1], sv[2], sv[3], sv[0]])
    a = np.empty(4)
    b = np.empty(4)
    two_body(sv4, np.sqrt(q2), par[P_MPHI], par[P_MPHI], x[4], x[5], a, b)
    f1[0], f1[1], f1[2], f1[3] = a[3], a[0], a[1], a[2]
    f2[0], f2[1], f2[2], f2[3] = b[3], b[0], b[1], b[2]
    return pa, pb, pj, f1, f2, x1, x2, s, q2, pt, mt, jac


@nb.njit(cache=True, inline="always")
def _ps_par(par):
    """Parameter vector of :func:`evtgen.monojet.kernels.phase_space_pt` (φφ mode)."""
    pp = np.zeros(13)
    pp[0] = par[P_SQRTS]
    pp[1] = par[P_PTMIN]
    pp[2] = 4.0 * par[P_MPHI] ** 2
    pp[3] = 1.0
    return pp


@nb.njit(cache=True, inline="always")
def _mass2(a, b):
    e = a[0] + b[0]
    x = a[1] + b[1]
    y = a[2] + b[2]
    z = a[3] + b[3]
    return e * e - x * x - y * y - z * z


@nb.njit(cache=True)
def weight_23(x, par, UL, UR, hm, hw, flav, cf, sect, g, apar, f1, f2, work, window, cw, buf, wh):
    """σ weight (pb) of pp → j φφ at point x (6 dims): q g, g q, q̄ g, g q̄, q q̄, q̄ q with
    incoming/outgoing quark flavours from ``flav`` rows (a, b); per-channel weights in ``cw``.
    Sector s = ``sect[r]`` (0 down: (Q_d, D) with mixing U_L = ``UL[0]``, U_R = ``UR[0]``, mass-eigenstate
    masses ``hm[0]``, widths ``hw[0]``; 1 up: U_Q alone) and ``cf[r, h]`` = |y_in|²|y_out|² of the
    helicity combination h of :func:`hel_amps_23`, so Σ|M|² = Σ_h cf[r, h] w_h (helicities do not
    interfere). ``window`` masses/widths: points with |m(jφ_i) − M_X| < P_WINDOW·Γ_X are removed
    (resonant region, covered by q g → X φ in the narrow-width approximation)."""
    for k in range(cw.size):
        cw[k] = 0.0
    pa, pb, pj, v1, v2, x1, x2, s, q2, pt, mt, jac = momenta_23(x, par)
    if jac <= 0.0:
        return 0.0
    if par[P_WINDOW] > 0.0:
        for k in range(window.shape[0]):
            mw, gw = window[k, 0], window[k, 1]
            if gw > 0.0:
                for v in (v1, v2):
                    m = np.sqrt(max(_mass2(pj, v), 0.0))
                    if abs(m - mw) < par[P_WINDOW] * gw:
                        return 0.0
    mu = 0.5 * (pt + mt)
    mu2 = mu * mu
    xfx_pair_fast(g, x1, x2, mu2, f1, f2, work)
    g2 = 4.0 * np.pi * alphas_lo(apar, mu2)
    beta = np.sqrt(max(0.0, 1.0 - 4.0 * par[P_MPHI] ** 2 / q2))
    # dσ = f f /(x1 x2) · |M|²/(2 s) dΦ3 with dΦ3 = dΦ2(j,S*) dQ²/2π dΦ2(φφ)/2; in the monojet
    # normalisation: jac/(16π s²) · β/(32π²) · ⟨|M|²⟩ (angles of φφ averaged by x[4], x[5])
    norm = jac / (16.0 * np.pi * s * s) / (x1 * x2) * par[P_CONV] * beta / (32.0 * np.pi * np.pi)
    # wh[sector, config, h]: configs 0 q(a) g(b) -> q, 1 g(a) q(b) -> q, 2 q(a) qbar(b) -> g,
    # 3 qbar(a) q(b) -> g (q q̄ -> g by crossing q(p1) g -> q(p3): p3 -> -p_qbar, pg -> -p_j; the
    # spinor of the line's end is the one of +p_qbar, so Σ|M|² = Tr[p̸_qbar A p̸1 Ā] > 0)
    mj = -pj
    for sc in range(2):
        need = False
        for r in range(flav.shape[0]):
            if sect[r] == sc:
                need = True
        if not need:
            continue
        w_23(pa, pb, pj, pj, v1, v2, UL[sc], UR[sc], hm[sc], hw[sc], buf, wh[sc, 0])
        w_23(pb, pa, pj, pj, v1, v2, UL[sc], UR[sc], hm[sc], hw[sc], buf, wh[sc, 1])
        w_23(pa, mj, -pb, pb, v1, v2, UL[sc], UR[sc], hm[sc], hw[sc], buf, wh[sc, 2])
        w_23(pb, mj, -pa, pa, v1, v2, UL[sc], UR[sc], hm[sc], hw[sc], buf, wh[sc, 3])
    tot = 0.0
    fac = g2 / 24.0 * norm
    for r in range(flav.shape[0]):
        a = flav[r, 0]
        b = flav[r, 1]
        sc = sect[r]
        mc0 = cf[r, 0] * wh[sc, 0, 0] + cf[r, 1] * wh[sc, 0, 1] + cf[r, 2] * wh[sc, 0, 2] + cf[r, 3] * wh[sc, 0, 3]
        mc1 = cf[r, 0] * wh[sc, 1, 0] + cf[r, 1] * wh[sc, 1, 1] + cf[r, 2] * wh[sc, 1, 2] + cf[r, 3] * wh[sc, 1, 3]
        mc2 = cf[r, 0] * wh[sc, 2, 0] + cf[r, 1] * wh[sc, 2, 1] + cf[r, 2] * wh[sc, 2, 2] + cf[r, 3] * wh[sc, 2, 3]
        mc3 = cf[r, 0] * wh[sc, 3, 0] + cf[r, 1] * wh[sc, 3, 1] + cf[r, 2] * wh[sc, 3, 2] + cf[r, 3] * wh[sc, 3, 3]
        # the 8 partonic channels of flavour row (a, b), in the order of :func:`channel_ids_23`:
        # q_a g, qbar_a g, g q_a, g qbar_a (-> q_b / qbar_b), q_a qbar_b, (unused), qbar_b q_a,
        # (unused) (-> g). Antiquark lines use the quark line's |M|² (CP; exact for real couplings
        # or zero widths). q q̄ -> g: average 1/4 · 1/9 · 4 instead of 1/4 · 1/24 · 4: factor 24/9.
        # Its CP conjugate q̄_a q_b is the own process of row (b, a), which is in ``flav`` too.
        base = 8 * r
        cw[base] = f1[6 + a] * f2[6] * mc0
        cw[base + 1] = f1[6 - a] * f2[6] * mc0
        cw[base + 2] = f1[6] * f2[6 + a] * mc1
        cw[base + 3] = f1[6] * f2[6 - a] * mc1
        cw[base + 4] = f1[6 + a] * f2[6 - b] * mc2 * (24.0 / 9.0)
        cw[base + 6] = f1[6 - b] * f2[6 + a] * mc3 * (24.0 / 9.0)
        for k in range(8):
            cw[base + k] *= fac
            tot += cw[base + k]
    return tot


def channel_ids_23(flav: np.ndarray) -> np.ndarray:
    """(id1, id2, id_jet) of the 8 channels of each flavour row (a, b) of :func:`weight_23`."""
    out = []
    for a, b in flav:
        a, b = int(a), int(b)
        out += [(a, 21, b), (-a, 21, -b), (21, a, b), (21, -a, -b), (a, -b, 21), (-a, b, 21), (-b, a, 21), (b, -a, 21)]
    return np.array(out, dtype=np.int64)


@nb.njit(cache=True, parallel=True)
def weights_23(x, par, UL, UR, hm, hw, flav, cf, sect, g, apar, window):
    """Weights (n,) of pp → j φφ (2→3, :func:`weight_23`) at points x (n, 6)."""
    n = x.shape[0]
    w = np.empty(n)
    for i in nb.prange(n):
        f1 = np.zeros(NPAD)
        f2 = np.zeros(NPAD)
        work = np.empty((4, 13))
        cw = np.empty(8 * flav.shape[0])
        buf = np.empty((2, 4), dtype=np.complex128)
        wh = np.zeros((2, 4, 4))
        w[i] = weight_23(x[i], par, UL, UR, hm, hw, flav, cf, sect, g, apar, f1, f2, work, window, cw, buf, wh)
    return w


C23_J, C23_F1, C23_F2, C23_SHAT, C23_X1, C23_X2, C23_SCALE, C23_ALPHAS, NCOL23 = 0, 4, 8, 12, 13, 14, 15, 16, 17


@nb.njit(cache=True, parallel=True)
def accept_23(first, n, key0, key1, edges, par, UL, UR, hm, hw, flav, cf, sect, g, apar, window, wmax):
    """As :func:`accept_22` for the 2→3 group (6 uniforms for the point, 1 for the acceptance)."""
    acc = np.zeros(n, dtype=np.bool_)
    over = np.zeros(n, dtype=np.bool_)
    d = edges.shape[0]
    for i in nb.prange(n):
        f1 = np.zeros(NPAD)
        f2 = np.zeros(NPAD)
        work = np.empty((4, 13))
        cw = np.empty(8 * flav.shape[0])
        buf = np.empty((2, 4), dtype=np.complex128)
        wh = np.zeros((2, 4, 4))
        r = np.empty(d)
        x = np.empty(d)
        st = rng.event_state(key0, key1, first + i)
        for k in range(d):
            r[k], st = rng.uniform(st)
        jv = vegas_map(r, edges, x)
        w = weight_23(x, par, UL, UR, hm, hw, flav, cf, sect, g, apar, f1, f2, work, window, cw, buf, wh) * jv
        ua, st = rng.uniform(st)
        if w > 0.0 and ua * wmax < w:
            acc[i] = True
            over[i] = w > wmax
    return acc, over


@nb.njit(cache=True, parallel=True)
def build_23(indices, key0, key1, edges, par, UL, UR, hm, hw, flav, cf, sect, g, apar, window, chids):
    """Event columns (NCOL23, n) and ids (3, n) of accepted 2→3 trials: channel ∝ its weight,
    a uniform azimuthal rotation of the final state."""
    n = indices.size
    d = edges.shape[0]
    out = np.zeros((NCOL23, n))
    ids = np.zeros((3, n), dtype=np.int64)
    for i in nb.prange(n):
        f1 = np.zeros(NPAD)
        f2 = np.zeros(NPAD)
        work = np.empty((4, 13))
        cw = np.empty(8 * flav.shape[0])
        buf = np.empty((2, 4), dtype=np.complex128)
        wh = np.zeros((2, 4, 4))
        r = np.empty(d)
        x = np.empty(d)
        st = rng.event_state(key0, key1, indices[i])
        for k in range(d):
            r[k], st = rng.uniform(st)
        vegas_map(r, edges, x)
        ua, st = rng.uniform(st)
        weight_23(x, par, UL, UR, hm, hw, flav, cf, sect, g, apar, f1, f2, work, window, cw, buf, wh)
        uc, st = rng.uniform(st)
        kc = choose(cw, uc)
        uphi, st = rng.uniform(st)
        ph = 2.0 * np.pi * uphi
        c, s_ = np.cos(ph), np.sin(ph)
        pa, pb, pj, v1, v2, x1, x2, s, q2, pt, mt, jac = momenta_23(x, par)
        for base, v in ((C23_J, pj), (C23_F1, v1), (C23_F2, v2)):
            out[base, i] = c * v[1] - s_ * v[2]
            out[base + 1, i] = s_ * v[1] + c * v[2]
            out[base + 2, i] = v[3]
            out[base + 3, i] = v[0]
        mu2 = (0.5 * (pt + mt)) ** 2
        out[C23_SHAT, i] = s
        out[C23_X1, i] = x1
        out[C23_X2, i] = x2
        out[C23_SCALE, i] = np.sqrt(mu2)
        out[C23_ALPHAS, i] = alphas_lo(apar, mu2)
        ids[0, i] = chids[kc, 0]
        ids[1, i] = chids[kc, 1]
        ids[2, i] = chids[kc, 2]
    return out, ids
