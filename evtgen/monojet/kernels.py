"""Numba kernels of the LO monojet generator: |M|², the phase-space map, VEGAS sampling, unweighting.

Physics (``shared/physics/monojet_matrix_elements.md``): at LO the contact operators make
pp → j + φφ a 2→2 production of an off-shell scalar S* (m² = Q² = m²(φφ)) followed by S*→φφ:

    dσ(ab → j φφ)/dQ² = σ̂(ab → j S; m² = Q²) · β(Q²)/(32π²),   β = √(1 − 4m_φ²/Q²)

with y = C^{S,qq} (Yukawa of S to q̄q) and c = 2 C_Gφ/Λ² (L = c S G G). For pp → j S the
couplings are used as given (y = CS_qq, c = CG).

Spin/colour-averaged |M|² (massless quarks, g_s² = 4π α_s, s + t + u = m²,
t = (p₁ − p_j)², u = (p₂ − p_j)² in the partonic frame, parton 1 along +z):

    g g → g S : (3/2) g_s² c² (m⁸ + s⁴ + t⁴ + u⁴)/(s t u)
    q q̄ → g S : (16/9) g_s² c² (t² + u²)/s   +  (4/9) g_s² y_q² (s² + m⁴)/(t u)
    q g → q S : (2/3) g_s² c² (s² + u²)/(−t)  +  (1/6) g_s² y_q² (t² + m⁴)/(−s u)
    g q → q S : the same with t ↔ u.

The gluon and scalar-quark operators do not interfere for massless quarks (the Yukawa vertex
flips chirality, the gluon vertex does not), and different quark flavours have different
initial states, so |M|² is the sum of the squared pieces above.

Phase-space variables (unit hypercube u → physics; VEGAS adapts a grid on each u): p_T of the
jet (1/p_T linear), its rapidity y_j, Q² (φφ only) and the rapidity y_S of S within its exact
range (see :func:`phase_space`); dx₁ dx₂ dt̂ = x₁x₂ dy_j dy_S dp_T², so the p_T cut is a fixed
boundary and x₁, x₂ ≤ 1 hold by construction.

Unweighting: after the VEGAS grid is frozen, the u-cube is split into n_c^d equal cells and the
maximum weight of each cell is found from a scan (× a safety factor, 1.0 by default); trials pick
a cell with probability ∝ its maximum (Walker's alias table: O(1)) and give w/max_cell events on
average: 1 with probability w/max_cell, and an "overweight" trial (w > max_cell, ~0.5% of the
events, counted and reported) ⌊w/max_cell⌋ or ⌊w/max_cell⌋ + 1 events, each with its own channel,
azimuth and decay angles (:func:`_n_events`). The events are distributed ∝ w exactly, whatever the
maxima (an overweight only makes a few events share one phase-space point).

Scales (``scale_mode``): 0 = H_T/2 = (p_T + √(p_T² + Q²))/2 for μ_R = μ_F (the default);
1 = Pythia 8's 2→2 default, μ_F² = min(m_T,j², m_T,S²) = p_T², μ_R² = √(m_T,j² m_T,S²).
The 7-point variation multiplies μ_R, μ_F by (1,1), (2,2), (½,½), (2,1), (1,2), (½,1), (1,½).

Speed: a trial computes only the total weight, with the flavour sums of the luminosity in closed
form (:func:`lumi_total`) and the PDFs of both partons from the fast tables of
:func:`evtgen.pdf.build_fast_tables`; the split into the 31 partonic channels and the event
kinematics are computed for accepted trials only (:func:`channel_weights`, :func:`_record`,
:func:`records_to_columns`). The trials run :data:`TB` at a time (:func:`trial_block`,
:func:`weights_block`): each stage one loop over the block, the RNG, cell, VEGAS, phase-space and
logarithm stages vectorised (glibc's exp and log as vectorisable copies,
:mod:`evtgen.monojet.glibc_math`, so the numbers are those of the one-trial functions bit for
bit), the PDF grid unpacked once per block (:func:`evtgen.pdf.xfx_pair_block`: no array views
and reference counts per point).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evtgen import jit_notice, rng
from evtgen.kinematics import sincos_2pi
from evtgen.monojet.glibc_math import EXP_TAB, LOG_TAB, exp_glibc, exp_glibc_applies, log_glibc, log_glibc_applies
from evtgen.pdf import NPAD, alphas_lo, alphas_lo_l, xfx_all_w, xfx_pair_block, xfx_pair_fast, xfx_pair_trial

jit_notice.announce(__file__, "the pp -> j phi phi kernels (about a minute)")

# ---------------------------------------------------------------------- partonic channels
# type 0: g g -> g S; 1: q(1) qbar(2) -> g S; 2: q(1) g(2) -> q S; 3: g(1) q(2) -> q S


def _channel_table():
    rows = [(21, 21, 21, 0)]
    for q in range(1, 6):
        rows += [(q, -q, 21, 1), (-q, q, 21, 1)]
    for q in list(range(1, 6)) + list(range(-5, 0)):
        rows += [(q, 21, q, 2), (21, q, q, 3)]
    return np.array(rows, dtype=np.int64)


CHANNELS = _channel_table()  # (id1, id2, id_jet, type), immutable process structure
NCH = CHANNELS.shape[0]
assert NCH == 31  # the binary search of _record covers 2^5 - 1 channels

# parameter vector layout (float64 array ``par``)
P_SQRTS, P_PTMIN, P_M2MIN, P_MODE, P_SCALE, P_C2, P_Y2 = 0, 1, 2, 3, 4, 5, 6  # y² at 6..10
P_MPHI2, P_CONV, NPAR = 11, 12, 13

# (mu_R factor, mu_F factor) for the 7-point variation; index into the 3 mu_F PDF sets
VAR_R = np.array([1.0, 2.0, 0.5, 2.0, 1.0, 0.5, 1.0])
VAR_F = np.array([0, 1, 2, 0, 1, 0, 2], dtype=np.int64)  # mu_F factor 1, 2, 1/2
FAC_F = np.array([1.0, 2.0, 0.5])


@nb.njit(cache=True, inline="always")
def me2_factors(s, t, u, m4, c2):
    """The distinct kinematic factors of |M|²/g_s² (m4 = (m²)²; c2 = par[P_C2], the squared C_G term):
    (gg, qq̄ via C_G, qq̄ via the quark couplings (times y² of the flavour), qg via C_G and via the
    quark couplings with the quark from beam 1 (t_q = t), the same two from beam 2 (t_q = u))."""
    k_gg = 1.5 * c2 * (m4 * m4 + s**4 + t**4 + u**4) / (s * t * u)
    k_qqc = 16.0 / 9.0 * c2 * (t * t + u * u) / s
    k_qqy = 4.0 / 9.0 * (s * s + m4) / (t * u)
    k_qgc = 2.0 / 3.0 * c2 * (s * s + u * u) / (-t)
    k_qgy = 1.0 / 6.0 * (t * t + m4) / (-s * u)
    k_gqc = 2.0 / 3.0 * c2 * (s * s + t * t) / (-u)
    k_gqy = 1.0 / 6.0 * (u * u + m4) / (-s * t)
    return k_gg, k_qqc, k_qqy, k_qgc, k_qgy, k_gqc, k_gqy


@nb.njit(cache=True)
def me2_channels(s, t, u, m2, c2, y2, out):
    """Coupling-included |M|²/g_s² for every channel (spin/colour averaged)."""
    m4 = m2 * m2
    # the distinct kinematic factors, computed once
    k_gg, k_qqc, k_qqy, k_qgc, k_qgy, k_gqc, k_gqy = me2_factors(s, t, u, m4, c2)
    for k in range(NCH):
        typ = CHANNELS[k, 3]
        if typ == 0:
            out[k] = k_gg
        elif typ == 1:
            out[k] = k_qqc + k_qqy * y2[abs(CHANNELS[k, 0]) - 1]
        elif typ == 2:
            out[k] = k_qgc + k_qgy * y2[abs(CHANNELS[k, 0]) - 1]
        else:
            out[k] = k_gqc + k_gqy * y2[abs(CHANNELS[k, 1]) - 1]


@nb.njit(cache=True)
def _lumi_channels(f1, f2, me, out, scale):
    tot = 0.0
    for k in range(NCH):
        a = CHANNELS[k, 0]
        b = CHANNELS[k, 1]
        ia = 6 if a == 21 else a + 6
        ib = 6 if b == 21 else b + 6
        v = f1[ia] * f2[ib] * me[k] * scale
        out[k] = v
        tot += v
    return tot


@nb.njit(cache=True)
def phase_space(u, par):
    """Map u (hypercube) to (x1, x2, shat, Q², cosθ*, jac); see :func:`phase_space_pt`."""
    x1, x2, shat, q2, cth, pt, mt, jac = phase_space_pt(u, par)
    return x1, x2, shat, q2, cth, jac


@nb.njit(cache=True, inline="always")
def phase_space_pt(u, par):
    """Map u (hypercube) to (x1, x2, shat, Q², cosθ*, p_T, m_T, jac); jac = 0 outside the
    physical region (m_T = √(p_T² + Q²) of S).

    Variables: u0 → p_T (1/p_T linear on [p_T,min, √s/2]), u1 → jet rapidity y_j on
    [−acosh(√s/2p_T), +acosh(√s/2p_T)], u3 → Q² on [Q²_min, A·B − p_T²] (φφ only), u2 → rapidity of
    S on its exact range [ln(m_T/B), ln(A/m_T)], with A = √s − p_T e^{y_j}, B = √s − p_T e^{−y_j}
    (so that x₁, x₂ ≤ 1). x₁ = (p_T e^{y_j} + m_T e^{y_S})/√s, x₂ = (p_T e^{−y_j} + m_T e^{−y_S})/√s.
    dx₁ dx₂ dt̂ = x₁ x₂ dy_j dy_S dp_T²; the returned jac includes x₁ x₂ (the caller divides the
    x·f values by x₁ x₂).
    """
    sqrts = par[P_SQRTS]
    ptmin = par[P_PTMIN]
    m2min = par[P_M2MIN]
    phiphi = par[P_MODE] > 0.5
    ptmax = 0.5 * sqrts
    a = 1.0 / ptmin - 1.0 / ptmax
    pt = 1.0 / (1.0 / ptmin - u[0] * a)
    jac = 2.0 * pt * pt * pt * a  # dpT² = 2 pT dpT, dpT = pT² a du
    ymax = np.arccosh(max(sqrts / (2.0 * pt), 1.0))
    yj = (2.0 * u[1] - 1.0) * ymax
    jac *= 2.0 * ymax
    ea = np.exp(yj)
    A = sqrts - pt * ea
    B = sqrts - pt / ea
    if A <= 0.0 or B <= 0.0:
        return 0.5, 0.5, 0.0, m2min, 0.0, 0.0, 0.0, 0.0
    mt2max = A * B
    if phiphi:
        q2max = mt2max - pt * pt
        if q2max <= m2min:
            return 0.5, 0.5, 0.0, m2min, 0.0, 0.0, 0.0, 0.0
        q2 = m2min + (q2max - m2min) * u[3]
        jac *= q2max - m2min
    else:
        q2 = m2min
    mt2 = pt * pt + q2
    if mt2 >= mt2max:
        return 0.5, 0.5, 0.0, q2, 0.0, 0.0, 0.0, 0.0
    mt = np.sqrt(mt2)
    lo = np.log(mt / B)
    hi = np.log(A / mt)
    ys = lo + (hi - lo) * u[2]
    jac *= hi - lo
    es = np.exp(ys)
    x1 = (pt * ea + mt * es) / sqrts
    x2 = (pt / ea + mt / es) / sqrts
    shat = x1 * x2 * sqrts * sqrts
    t = -x1 * sqrts * pt / ea
    cth = 1.0 + 2.0 * t / (shat - q2)
    if cth > 1.0:
        cth = 1.0
    elif cth < -1.0:
        cth = -1.0
    jac *= x1 * x2
    return x1, x2, shat, q2, cth, pt, mt, jac


@nb.njit(cache=True)
def scales(par, shat, q2, cth):
    """(mu_R², mu_F², p_T) for the chosen scale mode."""
    p = (shat - q2) / (2.0 * np.sqrt(shat))
    pt = p * np.sqrt(max(0.0, 1.0 - cth * cth))
    if par[P_SCALE] > 0.5:
        mt2 = pt * pt + q2
        return np.sqrt(pt * pt * mt2), pt * pt, pt
    mu = 0.5 * (pt + np.sqrt(pt * pt + q2))
    return mu * mu, mu * mu, pt


NBUF = 2 * NCH + 2 * NPAD + 3


@nb.njit(cache=True)
def make_buffers():
    """Per-thread work space of :func:`point_weight` (no allocation in the inner loops)."""
    return np.empty(NBUF), np.empty((4, 13))


@nb.njit(cache=True)
def point_weight(u, par, g, apar, nvar, wvar, chw, buf, work):
    """Cross-section weight (pb) of point u; fills wvar[0:nvar] (scale variations); ``chw`` is
    not touched (kept for the signature; the channel split is :func:`channel_weights`).

    ``buf``/``work`` come from :func:`make_buffers`. Returns (w, x1, x2, shat, q2, cth, muR2).
    """
    x1, x2, shat, q2, cth, jac = phase_space(u, par)
    for i in range(nvar):
        wvar[i] = 0.0
    if jac <= 0.0:
        return 0.0, x1, x2, shat, q2, cth, 0.0
    f1 = buf[2 * NCH : 2 * NCH + NPAD]
    f2 = buf[2 * NCH + NPAD : 2 * NCH + 2 * NPAD]
    lum = buf[2 * NCH + 2 * NPAD : 2 * NCH + 2 * NPAD + 3]
    t = -0.5 * (shat - q2) * (1.0 - cth)
    uu = -0.5 * (shat - q2) * (1.0 + cth)
    mur2, muf2, pt = scales(par, shat, q2, cth)
    # common factor: g_s² = 4π α_s ; dσ/dt = |M|²/(16π s²); f = xf/x; jacobian; GeV^-2 -> pb
    common = jac / (16.0 * np.pi * shat * shat) / (x1 * x2) * par[P_CONV]
    if par[P_MODE] > 0.5:
        beta = np.sqrt(max(0.0, 1.0 - 4.0 * par[P_MPHI2] / q2))
        common *= beta / (32.0 * np.pi * np.pi)
    nf = 3 if nvar > 1 else 1
    for j in range(nf):
        mf2 = muf2 * FAC_F[j] * FAC_F[j]
        xfx_pair_fast(g, x1, x2, mf2, f1, f2, work)
        lum[j] = lumi_total(f1, f2, shat, t, uu, q2, par[P_C2], par[P_Y2 : P_Y2 + 5]) * common
    g2 = 4.0 * np.pi * alphas_lo(apar, mur2)
    w = g2 * lum[0]
    if nvar > 1:
        for i in range(nvar):
            fr = VAR_R[i]
            wvar[i] = 4.0 * np.pi * alphas_lo(apar, mur2 * fr * fr) * lum[VAR_F[i]]
    else:
        wvar[0] = w
    return w, x1, x2, shat, q2, cth, mur2


@nb.njit(cache=True, inline="always")
def _flavour_sums(f1, f2, y2):
    """The flavour sums of :func:`lumi_total` (x·f values, slot pid + 6; y2[q-1] = (C_S of quark
    q)²): (Σ_q f1_q + f1_q̄, the same weighted by y2, the same two for f2, Σ_q f1_q f2_q̄ + f1_q̄ f2_q,
    the same weighted by y2, f1_g, f2_g)."""
    s1 = 0.0
    s1y = 0.0
    s2 = 0.0
    s2y = 0.0
    qq = 0.0
    qqy = 0.0
    for q in range(1, 6):
        y = y2[q - 1]
        a1 = f1[6 + q] + f1[6 - q]
        a2 = f2[6 + q] + f2[6 - q]
        pq = f1[6 + q] * f2[6 - q] + f1[6 - q] * f2[6 + q]
        s1 += a1
        s1y += y * a1
        s2 += a2
        s2y += y * a2
        qq += pq
        qqy += y * pq
    return s1, s1y, s2, s2y, qq, qqy, f1[6], f2[6]


@nb.njit(cache=True, inline="always")
def lumi_total(f1, f2, s, t, u, m2, c2, y2):
    """Σ_channels f1[a] f2[b] |M|²_k/g_s² (x·f values), summed in closed form: the flavour sums
    are taken once per point, so this is Σ_k of :func:`_lumi_channels` without the 31 products."""
    m4 = m2 * m2
    k_gg, k_qqc, k_qqy, k_qgc, k_qgy, k_gqc, k_gqy = me2_factors(s, t, u, m4, c2)
    s1, s1y, s2, s2y, qq, qqy, g1, g2 = _flavour_sums(f1, f2, y2)
    return g1 * g2 * k_gg + qq * k_qqc + qqy * k_qqy + g2 * (s1 * k_qgc + s1y * k_qgy) + g1 * (s2 * k_gqc + s2y * k_gqy)


@nb.njit(cache=True, inline="always")
def phase_space_trial(u, par):
    """The map of :func:`phase_space_pt` (equal to rounding) for the unweighting trials, with
    fewer transcendental calls: ln(A/m_T) − ln(m_T/B) as one ln(A B/m_T²), e^{y_S} as
    (m_T/B) e^{u₂ (hi − lo)}, and t̂ = −x₁ √s p_T e^{−y_j} returned directly (cos θ* only for
    accepted trials, :func:`_cth`). Returns (x1, x2, shat, Q², t̂, p_T, m_T, jac)."""
    return phase_space_trial_u(u[0], u[1], u[2], u[3], par)


@nb.njit(cache=True, inline="always")
def phase_space_trial_u(u0, u1, u2, u3, par):
    """:func:`phase_space_trial` of the point (u0, u1, u2, u3) (u3 unused for pp2js)."""
    sqrts = par[P_SQRTS]
    ptmin = par[P_PTMIN]
    m2min = par[P_M2MIN]
    a = 1.0 / ptmin - 2.0 / sqrts
    ipt = 1.0 / ptmin - u0 * a
    pt = 1.0 / ipt
    jac = 2.0 * pt * pt * pt * a
    z = 0.5 * sqrts * ipt
    ymax = np.log(z + np.sqrt(max(z * z - 1.0, 0.0))) if z > 1.0 else 0.0
    yj = (2.0 * u1 - 1.0) * ymax
    jac *= 2.0 * ymax
    ea = np.exp(yj)
    iea = 1.0 / ea
    A = sqrts - pt * ea
    B = sqrts - pt * iea
    if A <= 0.0 or B <= 0.0:
        return 0.5, 0.5, 0.0, m2min, 0.0, 0.0, 0.0, 0.0
    mt2max = A * B
    q2 = m2min
    if par[P_MODE] > 0.5:
        q2max = mt2max - pt * pt
        if q2max <= m2min:
            return 0.5, 0.5, 0.0, m2min, 0.0, 0.0, 0.0, 0.0
        q2 = m2min + (q2max - m2min) * u3
        jac *= q2max - m2min
    mt2 = pt * pt + q2
    if mt2 >= mt2max:
        return 0.5, 0.5, 0.0, q2, 0.0, 0.0, 0.0, 0.0
    mt = np.sqrt(mt2)
    span = np.log(mt2max / mt2)
    jac *= span
    es = mt / B * np.exp(span * u2)
    isq = 1.0 / sqrts
    x1 = (pt * ea + mt * es) * isq
    x2 = (pt * iea + mt / es) * isq
    shat = x1 * x2 * sqrts * sqrts
    t = -x1 * sqrts * pt * iea
    jac *= x1 * x2
    return x1, x2, shat, q2, t, pt, mt, jac


@nb.njit(cache=True, inline="always")
def _cth(shat, q2, t):
    """cos θ* of t̂ (partonic frame, clamped to [−1, 1]) as :func:`phase_space_pt` has it."""
    cth = 1.0 + 2.0 * t / (shat - q2)
    if cth > 1.0:
        cth = 1.0
    elif cth < -1.0:
        cth = -1.0
    return cth


@nb.njit(cache=True, inline="always")
def _flavour_sums_row(f1, f2, r, par):
    """:func:`_flavour_sums` of rows r of the 2-D f1, f2 with y2 read from ``par`` (no array views:
    the trial blocks hold one PDF row per trial)."""
    s1 = 0.0
    s1y = 0.0
    s2 = 0.0
    s2y = 0.0
    qq = 0.0
    qqy = 0.0
    for q in range(1, 6):
        y = par[P_Y2 + q - 1]
        a1 = f1[r, 6 + q] + f1[r, 6 - q]
        a2 = f2[r, 6 + q] + f2[r, 6 - q]
        pq = f1[r, 6 + q] * f2[r, 6 - q] + f1[r, 6 - q] * f2[r, 6 + q]
        s1 += a1
        s1y += y * a1
        s2 += a2
        s2y += y * a2
        qq += pq
        qqy += y * pq
    return s1, s1y, s2, s2y, qq, qqy, f1[r, 6], f2[r, 6]


@nb.njit(cache=True, inline="always")
def lumi_total_trial(f1, f2, r, s, t, u, m2, par, kf):
    """:func:`lumi_total` (equal to rounding) of rows r of the 2-D f1, f2 with one division:
    1/(ŝ t̂ û) gives all the inverse Mandelstam products. Stores the factors of
    :func:`me2_factors` in kf[r, 0:7]."""
    m4 = m2 * m2
    c2 = par[P_C2]
    inv = 1.0 / (s * t * u)
    s2 = s * s
    t2 = t * t
    u2 = u * u
    k_gg = 1.5 * c2 * (m4 * m4 + s2 * s2 + t2 * t2 + u2 * u2) * inv
    k_qqc = 16.0 / 9.0 * c2 * (t2 + u2) * (t * u * inv)
    k_qqy = 4.0 / 9.0 * (s2 + m4) * (s * inv)
    k_qgc = -2.0 / 3.0 * c2 * (s2 + u2) * (s * u * inv)
    k_qgy = -1.0 / 6.0 * (t2 + m4) * (t * inv)
    k_gqc = -2.0 / 3.0 * c2 * (s2 + t2) * (s * t * inv)
    k_gqy = -1.0 / 6.0 * (u2 + m4) * (u * inv)
    s1, s1y, s2_, s2y, qq, qqy, g1, g2 = _flavour_sums_row(f1, f2, r, par)
    lum = g1 * g2 * k_gg + qq * k_qqc + qqy * k_qqy + g2 * (s1 * k_qgc + s1y * k_qgy) + g1 * (s2_ * k_gqc + s2y * k_gqy)
    kf[r, 0] = k_gg
    kf[r, 1] = k_qqc
    kf[r, 2] = k_qqy
    kf[r, 3] = k_qgc
    kf[r, 4] = k_qgy
    kf[r, 5] = k_gqc
    kf[r, 6] = k_gqy
    return lum


@nb.njit(cache=True, inline="always")
def trial_weight(x, par, g, apar, f1, f2, work, kf):
    """Cross-section weight (pb) of point x, as :func:`point_weight` with nvar = 1 (equal to
    rounding: :func:`phase_space_trial`, :func:`lumi_total_trial`, ln μ² shared by the PDFs and
    alpha_s), without the per-channel split (done for accepted points only).

    Returns (w, x1, x2, shat, q2, t̂, muR², norm, alpha_s(μ_R)) and fills kf[0:7] with the |M|²
    factors of :func:`me2_factors` at this point (for :func:`_channel_weights_fused`; not touched
    when w = 0 outside the phase space); norm = the factor turning
    f1[a] f2[b] |M|²_k/g_s² into channel weights; f1/f2 hold x·f at (x1, μ_F), (x2, μ_F) in the
    slots 1..11 (pid −5..5). ``apar`` from :func:`evtgen.pdf.alphas_params_logs`."""
    x1, x2, shat, q2, t, pt, mt, jac = phase_space_trial(x, par)
    if jac <= 0.0:
        return 0.0, x1, x2, shat, q2, 0.0, 0.0, 0.0, 0.0
    if par[P_SCALE] > 0.5:
        muf2 = pt * pt
        mur2 = pt * mt
    else:
        mu = 0.5 * (pt + mt)
        muf2 = mu * mu
        mur2 = muf2
    norm = jac * par[P_CONV] / (16.0 * np.pi * shat * shat * x1 * x2)
    if par[P_MODE] > 0.5:
        norm *= np.sqrt(max(0.0, 1.0 - 4.0 * par[P_MPHI2] / q2)) * (1.0 / (32.0 * np.pi * np.pi))
    uu = q2 - shat - t
    lq = np.log(muf2)
    xfx_pair_trial(g, x1, x2, muf2, lq, f1[0], f2[0], work)
    if par[P_SCALE] > 0.5:
        a_s = alphas_lo(apar, mur2)
    else:
        a_s = alphas_lo_l(apar, mur2, lq)
    norm *= 4.0 * np.pi * a_s
    lum = lumi_total_trial(f1, f2, 0, shat, t, uu, q2, par, kf)
    return lum * norm, x1, x2, shat, q2, t, mur2, norm, a_s


@nb.njit(cache=True)
def channel_weights(f1, f2, shat, q2, cth, norm, par, me, chw):
    """Per-channel weights chw (same normalisation as the trial weight) of an accepted point."""
    t = -0.5 * (shat - q2) * (1.0 - cth)
    uu = -0.5 * (shat - q2) * (1.0 + cth)
    me2_channels(shat, t, uu, q2, par[P_C2], par[P_Y2 : P_Y2 + 5], me)
    _lumi_channels(f1, f2, me, chw, norm)


# ---------------------------------------------------------------------- VEGAS map


@nb.njit(cache=True, inline="always")
def vegas_map(r, edges, x):
    """Map uniform r (d) through the VEGAS grid edges (d, nb+1) to x; return the jacobian."""
    d = edges.shape[0]
    nb_ = edges.shape[1] - 1
    jac = 1.0
    for k in range(d):
        yy = r[k] * nb_
        i = int(yy)
        if i >= nb_:
            i = nb_ - 1
        w = edges[k, i + 1] - edges[k, i]
        x[k] = edges[k, i] + (yy - i) * w
        jac *= nb_ * w
    return jac


NBLOCK = 64  # blocks per parallel loop (each with its own work space)


@nb.njit(cache=True, parallel=True)
def vegas_iteration(rand, edges, par, g, apar, nvar):
    """Evaluate one VEGAS iteration on the uniforms ``rand`` (n, d).

    Returns (f (n,), fvar (n, nvar), bins (n, d)) with f = weight × VEGAS jacobian.
    """
    n, d = rand.shape
    nb_ = edges.shape[1] - 1
    f = np.empty(n)
    fvar = np.empty((n, nvar))
    bins = np.empty((n, d), dtype=np.int64)
    for blk in nb.prange(NBLOCK):
        buf, work = make_buffers()
        x = np.empty(4)
        wv = np.empty(nvar)
        chw = np.empty(NCH)
        for i in range(blk * n // NBLOCK, (blk + 1) * n // NBLOCK):
            x[3] = 0.5
            r = rand[i]
            jv = vegas_map(r, edges, x)
            for k in range(d):
                b = int(r[k] * nb_)
                bins[i, k] = b if b < nb_ else nb_ - 1
            w, x1, x2, sh, q2, cth, mur2 = point_weight(x, par, g, apar, nvar, wv, chw, buf, work)
            f[i] = w * jv
            for j in range(nvar):
                fvar[i, j] = wv[j] * jv
    return f, fvar, bins


T_PROB, T_ALIAS, T_MAX, T_MAX_ALIAS = 0, 1, 2, 3  # columns of the cell table


@nb.njit(cache=True)
def cell_table(cmax, t):
    """Fills ``t`` (ncell, 4) with the cell proposal of the trials: column c's alias probability,
    its alias (an integer stored exactly as a double), cmax[c] and cmax[alias] (:func:`alias_table`
    of ``cmax``): a trial reads one 32-byte row (one cache line when ``t`` is 32-byte aligned),
    not three tables."""
    prob, alias = alias_table(cmax)
    for c in range(cmax.size):
        t[c, T_PROB] = prob[c]
        t[c, T_ALIAS] = alias[c]
        t[c, T_MAX] = cmax[c]
        t[c, T_MAX_ALIAS] = cmax[alias[c]]


@nb.njit(cache=True)
def alias_table(p):
    """Walker/Vose alias table (prob, alias) of the discrete distribution ∝ ``p``: column
    c = ⌊u n⌋ is kept if the fraction u n − c < prob[c], otherwise alias[c] is taken."""
    n = p.size
    q = p * (n / p.sum())
    prob = np.ones(n)
    alias = np.arange(n)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if q[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        sm = small[ns]
        nl -= 1
        lg = large[nl]
        prob[sm] = q[sm]
        alias[sm] = lg
        q[lg] = q[lg] + q[sm] - 1.0
        if q[lg] < 1.0:
            small[ns] = lg
            ns += 1
        else:
            large[nl] = lg
            nl += 1
    # leftovers (either list) have q = 1 up to rounding: prob stays 1
    return prob, alias


@nb.njit(cache=True, inline="always")
def _n_events(w, cmax_c, ua):
    """Events made by a trial of weight w in a cell of maximum cmax_c with acceptance uniform ua:
    1 with probability w/cmax_c when w <= cmax_c (accepted iff ua·cmax_c < w); an overweight
    trial (k = w/cmax_c > 1) gives ⌊k⌋ events plus one more with probability k − ⌊k⌋ (the same
    ua decides), so the expected number of events is w/cmax_c in every case: exact unweighting.
    Returns (number of events, overweight)."""
    if not (w > 0.0 and ua * cmax_c < w):
        return 0, False
    if w <= cmax_c:
        return 1, False
    k = w / cmax_c
    nk = int(k)
    if ua < k - nk:
        nk += 1
    return nk, True


@nb.njit(cache=True, inline="always")
def trial_scratch(d):
    """One thread's scratch of a trial (:func:`trial_weight`): (x (4,), r (d,), the two PDF slot
    rows f1, f2 (1, NPAD) zeroed, work (4, 13), kf (1, 8))."""
    return np.empty(4), np.empty(d), np.zeros((1, NPAD)), np.zeros((1, NPAD)), np.empty((4, 13)), np.empty((1, 8))


# ---------------------------------------------------------------------- trials a block at a time
TB = 64  # trials per block of :func:`trial_block` (its scratch, ~20 KB, stays in the L1 cache)
# float rows of the trial-block scratch tb[row, j] (field-major: the stage loops read and write
# contiguous rows)
B_X0, B_JV, B_CM, B_UA, B_X1, B_X2, B_SHAT, B_Q2, B_T, B_PT, B_MT, B_JAC = 0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14
B_MUF2, B_MUR2, B_LQ, B_LA, B_LB, B_W, B_NORM, B_AS, NTB = 15, 16, 17, 18, 19, 20, 21, 22, 23


@nb.njit(cache=True, inline="always")
def block_scratch():
    """One thread's scratch of :func:`trial_block`: (tb (NTB, TB), idx (TB,) int64, state (TB,)
    uint64, cell (TB,) int64, f1, f2 (TB, NPAD) zeroed, kf (TB, 8), work (4, 13), ok (TB,) bool)."""
    return (
        np.empty((NTB, TB)),
        np.empty(TB, dtype=np.int64),
        np.empty(TB, dtype=np.uint64),
        np.empty(TB, dtype=np.int64),
        np.zeros((TB, NPAD)),
        np.zeros((TB, NPAD)),
        np.empty((TB, 8)),
        np.empty((4, 13)),
        np.empty(TB, dtype=np.bool_),
    )


@nb.njit(cache=True, error_model="numpy")
def trial_block(m, key0, key1, edges, table, nbits, par, g, apar, tb, idx, state, cell, f1, f2, kf, work, ok):
    """Trials idx[0:m] (m <= TB) a stage at a time: the weights and everything the acceptance and
    the records need. Trial i's stream (key, i): uniform 1 picks the cell by Walker's alias method
    (integer part of u·ncell = column, fraction = the coin; :func:`cell_table`), uniforms 2..d+1
    place the point in the cell (cell digits in bits of the index, nbits per dimension) and go
    through the VEGAS grid, uniform d+2 is the acceptance draw; the weight is :func:`trial_weight`'s
    (w × VEGAS jacobian), bit for bit on glibc x86-64 (the exp and log of the phase space and of
    ln μ_F², ln x₁, ln x₂ are :mod:`evtgen.monojet.glibc_math`'s vectorisable copies of glibc's,
    libm itself for the few arguments where a copy does not apply).

    Stages (each a loop over the block; all but the PDF and |M|² stage are branch-free, so they
    vectorise): the stream start and the cell; the uniforms in the cell through the VEGAS grid;
    then :func:`weights_block`: the phase space (the arithmetic of :func:`phase_space_trial_u`,
    which redoes the lanes outside the physical region); scales and logarithms; the PDFs
    (:func:`evtgen.pdf.xfx_pair_block`, :func:`evtgen.pdf.xfx_all_w` outside its fast region),
    alpha_s and :func:`lumi_total_trial`. Writes tb[B_W] (the weight, 0 outside the phase space),
    tb[B_CM] (the cell maximum), tb[B_UA] (the acceptance uniform), the kinematics rows, f1[j],
    f2[j], kf[j] (as :func:`trial_weight` leaves them), and state[j] = the stream state after the
    acceptance draw (where the records of :func:`_record` continue)."""
    d = edges.shape[0]
    nb_ = edges.shape[1] - 1
    ncell = table.shape[0]
    mask = (1 << nbits) - 1
    inv = 1.0 / (1 << nbits)
    # cell by Walker's alias method (one uniform: column and coin): first the column and the coin
    # of every trial (the RNG), then the table rows in a loop of loads alone, so the block's cache
    # misses on the table (2 MB at 16^4 cells, beyond L2) overlap (~50 ns per trial less than
    # reading the row in the RNG loop)
    for j in range(m):
        st = rng.event_state(key0, key1, idx[j])
        uc, st = rng.uniform(st)
        yc = uc * ncell
        c = int(yc)
        c = c if c < ncell else ncell - 1
        cell[j] = c
        tb[B_CM, j] = yc - c  # the coin until the next loop
        tb[B_JV, j] = 1.0
        state[j] = st
    for j in range(m):
        c = cell[j]
        keep = tb[B_CM, j] < table[c, T_PROB]
        tb[B_CM, j] = table[c, T_MAX] if keep else table[c, T_MAX_ALIAS]
        cell[j] = c if keep else int(table[c, T_ALIAS])
    # uniforms inside the cell (cell digits in bits of the index) through the VEGAS grid
    for k in range(d):
        shift = k * nbits
        for j in range(m):
            u, st = rng.uniform(state[j])
            state[j] = st
            rr = (((cell[j] >> shift) & mask) + u) * inv
            yy = rr * nb_
            i = int(yy)
            i = i if i < nb_ else nb_ - 1
            w = edges[k, i + 1] - edges[k, i]
            tb[B_X0 + k, j] = edges[k, i] + (yy - i) * w
            tb[B_JV, j] *= nb_ * w
    if d < 4:
        for j in range(m):
            tb[B_X0 + 3, j] = 0.5
    for j in range(m):
        ua, st = rng.uniform(state[j])
        tb[B_UA, j] = ua
        state[j] = st
    weights_block(m, par, g, apar, tb, f1, f2, kf, work, ok)


@nb.njit(cache=True, error_model="numpy")
def weights_block(m, par, g, apar, tb, f1, f2, kf, work, ok):
    """The weights (× VEGAS jacobian) of the points tb[B_X0 .. B_X0 + 3, j < m] with their jacobians
    tb[B_JV]: the stages of :func:`trial_block` from the phase space on (its rows, f1, f2, kf
    written as it says), the numbers of :func:`trial_weight` bit for bit."""
    # phase space: the arithmetic of phase_space_trial_u branch-free, with glibc's exp and log as
    # vectorisable copies (glibc_math); lanes outside the physical region or where a copy does not
    # apply are redone by phase_space_trial_u itself, so every lane has its numbers bit for bit
    sqrts = par[P_SQRTS]
    ptmin = par[P_PTMIN]
    m2min = par[P_M2MIN]
    phiphi = par[P_MODE] > 0.5
    a = 1.0 / ptmin - 2.0 / sqrts
    isq = 1.0 / sqrts
    for j in range(m):
        ipt = 1.0 / ptmin - tb[B_X0, j] * a
        pt = 1.0 / ipt
        jac = 2.0 * pt * pt * pt * a
        z = 0.5 * sqrts * ipt
        arg = z + np.sqrt(max(z * z - 1.0, 0.0))
        big = z > 1.0
        ymax = log_glibc(arg, LOG_TAB) if big else 0.0
        yj = (2.0 * tb[B_X0 + 1, j] - 1.0) * ymax
        jac *= 2.0 * ymax
        ea = exp_glibc(yj, EXP_TAB)
        iea = 1.0 / ea
        A = sqrts - pt * ea
        B = sqrts - pt * iea
        mt2max = A * B
        q2max = mt2max - pt * pt
        q2 = m2min + (q2max - m2min) * tb[B_X0 + 3, j] if phiphi else m2min
        jac = jac * (q2max - m2min) if phiphi else jac
        mt2 = pt * pt + q2
        mt = np.sqrt(mt2)
        ratio = mt2max / mt2
        span = log_glibc(ratio, LOG_TAB)
        jac *= span
        eu = span * tb[B_X0 + 2, j]
        es = mt / B * exp_glibc(eu, EXP_TAB)
        x1 = (pt * ea + mt * es) * isq
        x2 = (pt * iea + mt / es) * isq
        tb[B_X1, j] = x1
        tb[B_X2, j] = x2
        tb[B_SHAT, j] = x1 * x2 * sqrts * sqrts
        tb[B_Q2, j] = q2
        tb[B_T, j] = -x1 * sqrts * pt * iea
        tb[B_PT, j] = pt
        tb[B_MT, j] = mt
        tb[B_JAC, j] = jac * (x1 * x2)
        inside = A > 0.0 and B > 0.0 and (q2max > m2min or not phiphi) and mt2 < mt2max
        copies = (log_glibc_applies(arg) or not big) and exp_glibc_applies(yj)
        copies = copies and log_glibc_applies(ratio) and exp_glibc_applies(eu)
        ok[j] = inside and copies
    for j in range(m):
        if not ok[j]:
            x1, x2, shat, q2, t, pt, mt, jac = phase_space_trial_u(
                tb[B_X0, j], tb[B_X0 + 1, j], tb[B_X0 + 2, j], tb[B_X0 + 3, j], par
            )
            tb[B_X1, j] = x1
            tb[B_X2, j] = x2
            tb[B_SHAT, j] = shat
            tb[B_Q2, j] = q2
            tb[B_T, j] = t
            tb[B_PT, j] = pt
            tb[B_MT, j] = mt
            tb[B_JAC, j] = jac
    # scales and the logarithms of the PDF step
    pythia = par[P_SCALE] > 0.5
    for j in range(m):
        pt = tb[B_PT, j]
        mt = tb[B_MT, j]
        mu = 0.5 * (pt + mt)
        muf2 = pt * pt if pythia else mu * mu
        tb[B_MUF2, j] = muf2
        tb[B_MUR2, j] = pt * mt if pythia else muf2
        x1 = tb[B_X1, j]
        x2 = tb[B_X2, j]
        tb[B_LQ, j] = log_glibc(muf2, LOG_TAB)
        tb[B_LA, j] = log_glibc(x1, LOG_TAB)
        tb[B_LB, j] = log_glibc(x2, LOG_TAB)
        ok[j] = log_glibc_applies(muf2) and log_glibc_applies(x1) and log_glibc_applies(x2)
    for j in range(m):
        if not ok[j] and tb[B_JAC, j] > 0.0:  # libm's log where the copy does not apply
            tb[B_LQ, j] = np.log(tb[B_MUF2, j])
            tb[B_LA, j] = np.log(tb[B_X1, j])
            tb[B_LB, j] = np.log(tb[B_X2, j])
    # PDFs: the fast region a block at a time, the rest one point at a time (xfx_pair_trial's split)
    xfx_pair_block(g, m, tb[B_JAC], tb[B_X1], tb[B_X2], tb[B_LA], tb[B_LB], tb[B_MUF2], tb[B_LQ], f1, f2, ok)
    for j in range(m):
        if tb[B_JAC, j] > 0.0 and not ok[j]:
            xfx_all_w(g, tb[B_X1, j], tb[B_MUF2, j], f1[j], work)
            xfx_all_w(g, tb[B_X2, j], tb[B_MUF2, j], f2[j], work)
    # alpha_s and |M|^2 (the arithmetic of trial_weight)
    for j in range(m):
        jac = tb[B_JAC, j]
        if not jac > 0.0:
            tb[B_W, j] = 0.0
            continue
        x1 = tb[B_X1, j]
        x2 = tb[B_X2, j]
        shat = tb[B_SHAT, j]
        q2 = tb[B_Q2, j]
        t = tb[B_T, j]
        mur2 = tb[B_MUR2, j]
        norm = jac * par[P_CONV] / (16.0 * np.pi * shat * shat * x1 * x2)
        if phiphi:
            norm *= np.sqrt(max(0.0, 1.0 - 4.0 * par[P_MPHI2] / q2)) * (1.0 / (32.0 * np.pi * np.pi))
        uu = q2 - shat - t
        if pythia:
            a_s = alphas_lo(apar, mur2)
        else:
            a_s = alphas_lo_l(apar, mur2, tb[B_LQ, j])
        norm *= 4.0 * np.pi * a_s
        lum = lumi_total_trial(f1, f2, j, shat, t, uu, q2, par, kf)
        tb[B_W, j] = lum * norm * tb[B_JV, j]
        tb[B_NORM, j] = norm
        tb[B_AS, j] = a_s


@nb.njit(cache=True, inline="always")
def _block_record(rec, b, jr, tb, j, st, chw):
    """:func:`_record` of trial j of a trial block into record jr of block b."""
    return _record(
        rec, b, jr, st, chw, tb[B_X1, j], tb[B_X2, j], tb[B_SHAT, j], tb[B_Q2, j],
        _cth(tb[B_SHAT, j], tb[B_Q2, j], tb[B_T, j]), tb[B_MUR2, j], tb[B_AS, j],
    )  # fmt: skip


@nb.njit(cache=True, parallel=True)
def accept_trials(first, ntrial, key0, key1, edges, table, nbits, par, g, apar):
    """First pass of the unweighting: (events per trial (n,) int64, overweight (n,) bool) for
    trials first..first+ntrial-1; trial i uses the counter-based RNG stream (key, i).

    Cell-wise unweighting (``table`` from :func:`cell_table`): a cell c is proposed with
    probability ∝ cmax[c] (its maximum weight; cells have equal volume in u), a point is drawn
    uniformly in it and makes w/cmax[c] events
    on average (:func:`_n_events`): the events are distributed ∝ w exactly, overweights included."""
    acc = np.zeros(ntrial, dtype=np.int64)
    over = np.zeros(ntrial, dtype=np.bool_)
    for blk in nb.prange(NBLOCK):
        tb, idx, state, cell, f1, f2, kf, work, ok = block_scratch()
        hi = (blk + 1) * ntrial // NBLOCK
        for lo in range(blk * ntrial // NBLOCK, hi, TB):
            m = min(TB, hi - lo)
            for j in range(m):
                idx[j] = first + lo + j
            trial_block(m, key0, key1, edges, table, nbits, par, g, apar, tb, idx, state, cell, f1, f2, kf, work, ok)
            for j in range(m):
                ne, ov = _n_events(tb[B_W, j], tb[B_CM, j], tb[B_UA, j])
                acc[lo + j] = ne
                over[lo + j] = ov
    return acc, over


# compact record of an accepted trial (what the event kinematics need), one row per event
# (stored field-major, rec[block, field, j], so the column step reads contiguous rows)
R_X1, R_X2, R_SHAT, R_Q2, R_CTH, R_MUR2, R_UPHI, R_UC2, R_UP2, R_CH, R_AS, NREC = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
# event columns (float64, column-major: out[c, i]): jet, S, phi1, phi2 four-vectors (px, py, pz, E),
# then ŝ, Q², x1, x2, scale = μ_R, parton p_T, alpha_s(μ_R). S columns are filled for pp2js,
# phi columns for pp2jphiphi.
C_J, C_S, C_PHI1, C_PHI2, C_SHAT, C_Q2, C_X1, C_X2, C_SCALE, C_PT, C_ALPHAS, NCOL = (
    0,
    4,
    8,
    12,
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
)


@nb.njit(cache=True, inline="always")
def _channel_weights_fused(f1, f2, r, kf, norm, par, chw):
    """The running sums chw[k] = Σ_{k' <= k} of the weights of :func:`channel_weights`, written
    out in the order of :data:`CHANNELS` without the table look-ups and type branches, from the
    |M|² factors kf[r, 0:7] the trial computed (rows r of the 2-D f1, f2, kf) (:func:`lumi_total_trial`; equal to rounding to
    :func:`me2_factors`, so no division is repeated)."""
    k_gg = kf[r, 0]
    k_qqc = kf[r, 1]
    k_qqy = kf[r, 2]
    k_qgc = kf[r, 3]
    k_qgy = kf[r, 4]
    k_gqc = kf[r, 5]
    k_gqy = kf[r, 6]
    g1 = f1[r, 6]
    g2 = f2[r, 6]
    run = 0.0 + g1 * g2 * k_gg * norm
    chw[0] = run
    for q in range(1, 6):
        y = par[P_Y2 + q - 1]
        mq = k_qqc + k_qqy * y
        run += f1[r, 6 + q] * f2[r, 6 - q] * mq * norm
        chw[2 * q - 1] = run
        run += f1[r, 6 - q] * f2[r, 6 + q] * mq * norm
        chw[2 * q] = run
    for j in range(10):
        q = j + 1 if j < 5 else j - 10  # 1..5, -5..-1 (the order of CHANNELS)
        y = par[P_Y2 + abs(q) - 1]
        run += f1[r, 6 + q] * g2 * (k_qgc + k_qgy * y) * norm
        chw[11 + 2 * j] = run
        run += g1 * f2[r, 6 + q] * (k_gqc + k_gqy * y) * norm
        chw[12 + 2 * j] = run


@nb.njit(cache=True, inline="always")
def _record(rec, b, j, st, chw, x1, x2, shat, q2, cth, mur2, a_s):
    """Choose the partonic channel (probability ∝ its weight; ``chw`` holds the running sums of
    :func:`_channel_weights_fused`) and draw the remaining uniforms of the event (azimuth, S*
    decay angles) from the trial's stream; store them in record j of block b (rec[b, field, j]).
    Draws 4 uniforms; returns the stream state after them (the next copy of an overweight trial
    continues from there)."""
    uc, st = rng.uniform(st)
    target = uc * chw[NCH - 1]  # > 0
    # the first channel whose running sum reaches the target (it has a non-zero weight, as the
    # sum before it is below the target): a branch-free binary search over the NCH = 31 sums
    pos = -1  # the last channel with a running sum below the target
    step = 16
    while step > 0:
        pos = pos + step if chw[pos + step] < target else pos
        step >>= 1
    kc = min(pos + 1, NCH - 1)
    uphi, st = rng.uniform(st)
    uc2, st = rng.uniform(st)
    up2, st = rng.uniform(st)
    rec[b, R_X1, j] = x1
    rec[b, R_X2, j] = x2
    rec[b, R_SHAT, j] = shat
    rec[b, R_Q2, j] = q2
    rec[b, R_CTH, j] = cth
    rec[b, R_MUR2, j] = mur2
    rec[b, R_UPHI, j] = uphi
    rec[b, R_UC2, j] = uc2
    rec[b, R_UP2, j] = up2
    rec[b, R_CH, j] = kc
    rec[b, R_AS, j] = a_s
    return st


@nb.njit(cache=True)
def block_buffers(cap):
    """The per-block record buffers of :func:`accept_and_build` with capacity ``cap`` records per
    block: index, copy, over (NBLOCK, cap) int64 and rec (NBLOCK, NREC, cap) float64.

    Allocated once per generation and reused by all its chunks. Allocated here, by numba, in 4 kB
    pages: numpy would advise 2 MB pages for them (arrays of 4 MB and more), whose first touch in a
    process cost 0.02-0.3 s per 120 MB on the VMs measured against 0.05 s for 4 kB pages
    (docs/performance.md, 2026-12-03)."""
    return (
        np.empty((NBLOCK, cap), dtype=np.int64),
        np.empty((NBLOCK, cap), dtype=np.int64),
        np.empty((NBLOCK, NREC, cap)),
        np.empty((NBLOCK, cap), dtype=np.int64),
    )


@nb.njit(cache=True, parallel=True)
def accept_and_build(first, ntrial, key0, key1, edges, table, nbits, par, g, apar, index, copy, rec, over):
    """One-pass unweighting: as :func:`accept_trials`, and the accepted trials are recorded at
    once (:func:`_record`) into the caller's per-block buffers ``index``, ``copy``, ``over``
    (NBLOCK, cap) and ``rec`` (NBLOCK, NREC, cap) (blocks cover contiguous trial ranges, so
    concatenating them keeps the trial order; the caller allocates them once per generation and
    reuses them for every chunk, :func:`block_buffers`). ``overflow`` > 0 means a block ran
    out of space and the caller must fall back to the two-pass path for this chunk. An overweight
    trial gives several records (:func:`_n_events`), copy j drawing its channel, azimuth and
    decay angles after those of copies 0..j-1.

    Fills, per block b and record j < count[b]: index (the trial), copy (which event of the
    trial), rec, over (0 for a normal trial, else the number of events of the overweight trial).
    Returns (count (NBLOCK,), overflow (NBLOCK,))."""
    cap = index.shape[1]
    count = np.zeros(NBLOCK, dtype=np.int64)
    overflow = np.zeros(NBLOCK, dtype=np.int64)
    for blk in nb.prange(NBLOCK):
        tb, idx, state, cell, f1, f2, kf, work, ok = block_scratch()
        chw = np.empty(NCH)
        n_here = 0
        hi = (blk + 1) * ntrial // NBLOCK
        for lo in range(blk * ntrial // NBLOCK, hi, TB):
            m = min(TB, hi - lo)
            for j in range(m):
                idx[j] = first + lo + j
            trial_block(m, key0, key1, edges, table, nbits, par, g, apar, tb, idx, state, cell, f1, f2, kf, work, ok)
            for j in range(m):
                ne, ov = _n_events(tb[B_W, j], tb[B_CM, j], tb[B_UA, j])
                if ne == 0:
                    continue
                if n_here + ne > cap:
                    overflow[blk] += 1
                    continue
                _channel_weights_fused(f1, f2, j, kf, tb[B_NORM, j], par, chw)
                st = state[j]
                for jc in range(ne):
                    jr = n_here
                    index[blk, jr] = idx[j]
                    copy[blk, jr] = jc
                    over[blk, jr] = ne if ov else 0
                    st = _block_record(rec, blk, jr, tb, j, st, chw)
                    n_here = jr + 1
        count[blk] = n_here
    return count, overflow


@nb.njit(cache=True, parallel=True)
def build_events(indices, copies, key0, key1, edges, table, nbits, par, g, apar):
    """Second pass: records (1, NREC, n) (one block) of copy ``copies[i]`` of the accepted trials
    ``indices`` (same RNG streams as :func:`accept_and_build`)."""
    n = indices.size
    rec = np.empty((1, NREC, n))
    for blk in nb.prange(NBLOCK):
        tb, idx, state, cell, f1, f2, kf, work, ok = block_scratch()
        chw = np.empty(NCH)
        hi = (blk + 1) * n // NBLOCK
        for lo in range(blk * n // NBLOCK, hi, TB):
            m = min(TB, hi - lo)
            for j in range(m):
                idx[j] = indices[lo + j]
            trial_block(m, key0, key1, edges, table, nbits, par, g, apar, tb, idx, state, cell, f1, f2, kf, work, ok)
            for j in range(m):
                i = lo + j
                _channel_weights_fused(f1, f2, j, kf, tb[B_NORM, j], par, chw)
                st = state[j]  # after the acceptance draw of the first pass
                for _ in range(copies[i]):  # the draws of the earlier copies
                    st = _block_record(rec, 0, i, tb, j, st, chw)
                _block_record(rec, 0, i, tb, j, st, chw)
    return rec


@nb.njit(cache=True, parallel=True)
def records_to_columns(count, rec, par, apar, out, ids, offset, nmax, skip):
    """Events from the per-block records ``rec`` (nblock, NREC, cap) with ``count`` records each,
    in block order without the first ``skip``, written to columns out[:, offset + k] and
    ids[:, offset + k] (at most ``nmax`` events). Returns the number written.

    One straight loop per block over contiguous records, branch-free (selects), with the
    vectorisable :func:`evtgen.kinematics.sincos_2pi` for the two azimuths, the lab boost along z
    from x₁, x₂ (γ = (x₁ + x₂)/(2√(x₁x₂)), no square root of 1 − β²), the S* → φφ boost from
    (E_S, p_S, m) and alpha_s(μ_R) recorded by the trial: the loops vectorise."""
    nblk = count.size
    start = np.zeros(nblk + 1, dtype=np.int64)
    for b in range(nblk):
        start[b + 1] = start[b] + count[b]
    total = min(start[nblk] - skip, nmax)
    phiphi = par[P_MODE] > 0.5
    mphi2x4 = 4.0 * par[P_MPHI2]
    sqrts = par[P_SQRTS]
    for b in nb.prange(nblk):
        jlo = max(skip - start[b], 0)
        jhi = min(count[b], total + skip - start[b])
        base = offset + start[b] - skip
        if phiphi:
            _columns_phiphi(rec[b], jlo, jhi, base, sqrts, mphi2x4, out, ids)
        else:
            _columns_js(rec[b], jlo, jhi, base, sqrts, out, ids)
    return max(total, 0)


@nb.njit(cache=True, error_model="numpy")
def _momentum_and_sin(shat, q2, cth):
    """(√ŝ, the partonic momentum p = (ŝ − Q²)/(2√ŝ), sin θ*) of a 2 -> 2 record."""
    rs = np.sqrt(shat)
    return rs, (shat - q2) * (0.5 / rs), np.sqrt(max(0.0, 1.0 - cth * cth))


@nb.njit(cache=True, error_model="numpy")
def _cm_and_boost(r, j, sqrts):
    """Partonic kinematics of record j (r = rec[block]): (p, cosθ*, sinθ*, cos φ, sin φ, γ, γβ of
    the boost along z)."""
    x1 = r[R_X1, j]
    x2 = r[R_X2, j]
    cth = r[R_CTH, j]
    rs, p, sth = _momentum_and_sin(r[R_SHAT, j], r[R_Q2, j], cth)
    cph, sph = sincos_2pi(r[R_UPHI, j])
    # boost of the partonic frame along z: β = (x1 − x2)/(x1 + x2), γ = (x1 + x2)/(2√(x1 x2)),
    # √(x1 x2) = √ŝ/√s
    h = 0.5 * sqrts / rs
    return p, cth, sth, cph, sph, (x1 + x2) * h, (x1 - x2) * h


@nb.njit(cache=True, error_model="numpy")
def _jet_and_recoil(r, j, i, sqrts, out):
    """Writes the lab jet of record j (r = rec[block]) to event i of ``out`` and returns (p, sinθ*,
    Q², the lab four-momentum (x, y, z, E) of the recoiling S* of mass √Q²)."""
    p, cth, sth, cph, sph, gam, gb = _cm_and_boost(r, j, sqrts)
    q2 = r[R_Q2, j]
    pt = p * sth
    px = pt * cph
    py = pt * sph
    pz = p * cth
    es = np.sqrt(p * p + q2)
    out[C_J, i] = px
    out[C_J + 1, i] = py
    out[C_J + 2, i] = gam * pz + gb * p
    out[C_J + 3, i] = gam * p + gb * pz
    return p, sth, q2, -px, -py, gam * (-pz) + gb * es, gam * es - gb * pz


@nb.njit(cache=True, error_model="numpy")
def _id_columns(r, jlo, jhi, base, ids):
    """The parton ids of events jlo..jhi-1 of one block from their channel numbers: a loop of its
    own (float -> int64 has no AVX2 instruction, so in the kinematics loop it kept that loop scalar)."""
    for jj in range(jlo, jhi):
        i = np.uint64(base + jj)
        kc = int(r[R_CH, jj])
        ids[0, i] = CHANNELS[kc, 0]
        ids[1, i] = CHANNELS[kc, 1]
        ids[2, i] = CHANNELS[kc, 2]


@nb.njit(cache=True, error_model="numpy")
def _common_columns(r, jlo, jhi, base, out):
    """ŝ, Q², x₁, x₂, μ_R, the partonic p_T and α_s of events jlo..jhi-1 (p_T recomputed from the
    record by :func:`_momentum_and_sin`, as for the jet: bit for bit the jet's)."""
    for jj in range(jlo, jhi):
        j = np.uint64(jj)
        i = np.uint64(base + jj)
        shat = r[R_SHAT, j]
        q2 = r[R_Q2, j]
        _, p, sth = _momentum_and_sin(shat, q2, r[R_CTH, j])
        out[C_SHAT, i] = shat
        out[C_Q2, i] = q2
        out[C_X1, i] = r[R_X1, j]
        out[C_X2, i] = r[R_X2, j]
        out[C_SCALE, i] = np.sqrt(r[R_MUR2, j])
        out[C_PT, i] = p * sth
        out[C_ALPHAS, i] = r[R_AS, j]


SUB = 256  # events per pass of the column loops (their rows stay in the L1 cache between passes)


@nb.njit(cache=True, error_model="numpy")
def _jet_and_s_columns(r, jlo, jhi, base, sqrts, out, cs):
    """The lab jet (rows C_J..) and the recoiling S* (rows cs..) of events jlo..jhi-1."""
    for jj in range(jlo, jhi):
        j = np.uint64(jj)
        i = np.uint64(base + jj)
        _, _, _, sx, sy, sz, se = _jet_and_recoil(r, j, i, sqrts, out)
        out[cs, i] = sx
        out[cs + 1, i] = sy
        out[cs + 2, i] = sz
        out[cs + 3, i] = se


@nb.njit(cache=True, error_model="numpy")
def _phi_columns(r, jlo, jhi, base, mphi2x4, out):
    """S* -> φφ for events jlo..jhi-1 whose S* four-momentum is in rows C_PHI2.. (left there by
    :func:`_jet_and_s_columns`): φ₁ to rows C_PHI1.., φ₂ = S* − φ₁ over rows C_PHI2..
    Isotropic in the S* rest frame: v = (m/2, p* n̂), p* = √(Q² − 4m_φ²)/2, boosted to the frame
    where S has (E, P): p' = v + P ((P·v)/(m (E + m)) + 1/2), E' = E/2 + (P·v)/m."""
    for jj in range(jlo, jhi):
        j = np.uint64(jj)
        i = np.uint64(base + jj)
        sx = out[C_PHI2, i]
        sy = out[C_PHI2 + 1, i]
        sz = out[C_PHI2 + 2, i]
        se = out[C_PHI2 + 3, i]
        q2 = r[R_Q2, j]
        m = np.sqrt(q2)
        pst = 0.5 * np.sqrt(max(0.0, q2 - mphi2x4))
        c2 = 2.0 * r[R_UC2, j] - 1.0
        s2 = np.sqrt(max(0.0, 1.0 - c2 * c2))
        cp2, sp2 = sincos_2pi(r[R_UP2, j])
        vx = pst * s2 * cp2
        vy = pst * s2 * sp2
        vz = pst * c2
        pv = sx * vx + sy * vy + sz * vz
        im = 1.0 / m
        k = pv * im / (se + m) + 0.5
        p1x = vx + k * sx
        p1y = vy + k * sy
        p1z = vz + k * sz
        p1e = 0.5 * se + pv * im
        out[C_PHI1, i] = p1x
        out[C_PHI1 + 1, i] = p1y
        out[C_PHI1 + 2, i] = p1z
        out[C_PHI1 + 3, i] = p1e
        out[C_PHI2, i] = sx - p1x
        out[C_PHI2 + 1, i] = sy - p1y
        out[C_PHI2 + 2, i] = sz - p1z
        out[C_PHI2 + 3, i] = se - p1e


@nb.njit(cache=True, error_model="numpy")
def _columns_phiphi(r, jlo, jhi, base, sqrts, mphi2x4, out, ids):
    """The columns of the pp2jphiphi events jlo..jhi-1 of one block (see :func:`records_to_columns`),
    :data:`SUB` events at a time, each stage a loop of its own that vectorises (<4 x double>):
    records and events are indexed unsigned (no negative-index wrap-around select per access);
    the helpers are inlined by LLVM, not by numba's ``inline="always"`` (whose inlined tuple
    returns kept the loop scalar); no loop writes more than 8 rows (more and LLVM gives up the
    run-time overlap checks between the rows: one loop writing all 19 stayed scalar); the integer
    ids, a float -> int64 conversion without an AVX2 instruction, go through :func:`_id_columns`."""
    for lo in range(jlo, jhi, SUB):
        hi = min(lo + SUB, jhi)
        _jet_and_s_columns(r, lo, hi, base, sqrts, out, C_PHI2)
        _phi_columns(r, lo, hi, base, mphi2x4, out)
        _common_columns(r, lo, hi, base, out)
        _id_columns(r, lo, hi, base, ids)


@nb.njit(cache=True, error_model="numpy")
def _columns_js(r, jlo, jhi, base, sqrts, out, ids):
    """The columns of the pp2js events jlo..jhi-1 of one block (see :func:`records_to_columns`;
    the loops as in :func:`_columns_phiphi`)."""
    for lo in range(jlo, jhi, SUB):
        hi = min(lo + SUB, jhi)
        _jet_and_s_columns(r, lo, hi, base, sqrts, out, C_S)
        _common_columns(r, lo, hi, base, out)
        _id_columns(r, lo, hi, base, ids)


@nb.njit(cache=True, parallel=True)
def scan_cells(per_cell, key0, key1, edges, nbits, par, g, apar):
    """Stratified scan of the frozen grid (counter RNG): ``per_cell`` uniform points in each of
    the (2^nbits)^d equal cells of the u-cube (point j of cell c is stream (key, c·per_cell + j),
    cell digits as in :func:`trial_block`); per-cell (max, sum, count) of the weight.
    Every cell gets the same number of points and the cells are split among the threads, so no
    per-thread copy of the per-cell arrays is needed (the scan's memory is the tables' own)."""
    d = edges.shape[0]
    ncell = 1 << (nbits * d)
    mask = (1 << nbits) - 1
    inv = 1.0 / (1 << nbits)
    cmax = np.zeros(ncell)
    csum = np.zeros(ncell)
    cnt = np.zeros(ncell, dtype=np.int64)
    for blk in nb.prange(NBLOCK):
        x, r, f1, f2, work, kf = trial_scratch(d)
        for c in range(blk * ncell // NBLOCK, (blk + 1) * ncell // NBLOCK):
            mx = 0.0
            sm = 0.0
            for j in range(per_cell):
                st = rng.event_state(key0, key1, c * per_cell + j)
                cc = c
                for k in range(d):
                    u, st = rng.uniform(st)
                    r[k] = ((cc & mask) + u) * inv
                    cc >>= nbits
                x[3] = 0.5
                jv = vegas_map(r, edges, x)
                w, x1, x2, shat, q2, t, mur2, norm, a_s = trial_weight(x, par, g, apar, f1, f2, work, kf)
                w *= jv
                if w > mx:
                    mx = w
                sm += w
            cmax[c] = mx
            csum[c] = sm
            cnt[c] = per_cell
    return cmax, csum, cnt


@nb.njit(cache=True)
def cell_of(r, nc):
    """Index of the unweighting cell of a point of the unit hypercube."""
    c = 0
    m = 1
    for k in range(r.size):
        j = int(r[k] * nc)
        if j >= nc:
            j = nc - 1
        c += j * m
        m *= nc
    return c


SCAN_BLOCKS = 8  # blocks of the cell scan (each holds per-cell arrays: kept few)


@nb.njit(cache=True, parallel=True)
def scan_cells_random(n, key0, key1, edges, nc, par, g, apar):
    """Uniform points on the frozen grid (counter RNG): per-cell (max, sum, count) of the weight
    (the scan of ``cell_scan: random``; :func:`scan_cells` is the stratified one)."""
    d = edges.shape[0]
    nb_ = edges.shape[1] - 1
    ncell = nc**d
    cmax = np.zeros((SCAN_BLOCKS, ncell))
    csum = np.zeros((SCAN_BLOCKS, ncell))
    cnt = np.zeros((SCAN_BLOCKS, ncell), dtype=np.int64)
    for blk in nb.prange(SCAN_BLOCKS):
        # a block of TB points at a time: uniforms of stream i, the cell (cell_of) and the VEGAS
        # map (vegas_map's arithmetic), then weights_block (trial_weight's numbers bit for bit)
        tb, idx, state, cell, f1, f2, kf, work, ok = block_scratch()
        hi = (blk + 1) * n // SCAN_BLOCKS
        for lo in range(blk * n // SCAN_BLOCKS, hi, TB):
            m = min(TB, hi - lo)
            for j in range(m):
                state[j] = rng.event_state(key0, key1, lo + j)
                cell[j] = 0
                tb[B_JV, j] = 1.0
            mult = 1
            for k in range(d):
                for j in range(m):
                    rk, st = rng.uniform(state[j])
                    state[j] = st
                    ck = int(rk * nc)
                    cell[j] += (ck if ck < nc else nc - 1) * mult
                    yy = rk * nb_
                    i = int(yy)
                    i = i if i < nb_ else nb_ - 1
                    w = edges[k, i + 1] - edges[k, i]
                    tb[B_X0 + k, j] = edges[k, i] + (yy - i) * w
                    tb[B_JV, j] *= nb_ * w
                mult *= nc
            if d < 4:
                for j in range(m):
                    tb[B_X0 + 3, j] = 0.5
            weights_block(m, par, g, apar, tb, f1, f2, kf, work, ok)
            for j in range(m):
                w = tb[B_W, j]
                c = cell[j]
                if w > cmax[blk, c]:
                    cmax[blk, c] = w
                csum[blk, c] += w
                cnt[blk, c] += 1
    mx = np.zeros(ncell)
    sm = np.zeros(ncell)
    ct = np.zeros(ncell, dtype=np.int64)
    for blk in range(SCAN_BLOCKS):
        for c in range(ncell):
            if cmax[blk, c] > mx[c]:
                mx[c] = cmax[blk, c]
            sm[c] += csum[blk, c]
            ct[c] += cnt[blk, c]
    return mx, sm, ct


@nb.njit(cache=True, parallel=True)
def weighted_points(rand, edges, par, g, apar):
    """Weighted sample on uniforms ``rand`` (n, d): columns (w, p_T, Q², ŝ) (for validation)."""
    n, d = rand.shape
    out = np.empty((n, 4))
    for blk in nb.prange(NBLOCK):
        buf, work = make_buffers()
        x = np.empty(4)
        wv = np.empty(1)
        chw = np.empty(NCH)
        for i in range(blk * n // NBLOCK, (blk + 1) * n // NBLOCK):
            x[3] = 0.5
            jv = vegas_map(rand[i], edges, x)
            w, x1, x2, shat, q2, cth, mur2 = point_weight(x, par, g, apar, 1, wv, chw, buf, work)
            p = (shat - q2) / (2.0 * np.sqrt(shat)) if shat > 0 else 0.0
            out[i, 0] = w * jv
            out[i, 1] = p * np.sqrt(max(0.0, 1.0 - cth * cth))
            out[i, 2] = q2
            out[i, 3] = shat
    return out
