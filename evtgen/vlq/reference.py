"""Reference (slow) numerical 2→3 amplitude of q g → q φφ through the heavy line: explicit 4×4
Dirac matrices (chiral basis), the heavy propagator as the 8×8 inverse of p̸ − 𝓜P_R − 𝓜†P_L in
(Q, D) space, all six diagrams, Σ|M|² = Σ_ε Tr[p̸₃ Γ_ε p̸₁ γ⁰Γ_ε†γ⁰].

This was the production kernel until the closed-form helicity amplitudes of
:func:`evtgen.vlq.kernels.hel_amps_23` replaced it (≈ 10³ × faster); it is kept as their
independent check (tests/test_vlq_me.py) and for the EFT contact mode (``ceft`` ≠ 0). Couplings:
``yin`` = (coupling of the incoming quark to Q at the vertex Q̄ P_L q, to D at D̄ P_R q), ``yout``
the same for the outgoing quark; the widths are added as +iΓ/2 on the gauge-basis diagonal.
Overall phase: the amplitude matrix here omits the common factor of the Feynman rules (i³ for
the UV diagrams against i for the contact vertex): only |M|² is meaningful.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evtgen.vlq.kernels import pol_vectors


@nb.njit(cache=True)
def gammas():
    """γ⁰..γ³ in the chiral basis, as complex (4, 4, 4)."""
    g = np.zeros((4, 4, 4), dtype=np.complex128)
    sig = np.zeros((3, 2, 2), dtype=np.complex128)
    sig[0, 0, 1] = 1.0
    sig[0, 1, 0] = 1.0
    sig[1, 0, 1] = -1j
    sig[1, 1, 0] = 1j
    sig[2, 0, 0] = 1.0
    sig[2, 1, 1] = -1.0
    for a in range(2):
        g[0, a, a + 2] = 1.0
        g[0, a + 2, a] = 1.0
    for k in range(3):
        for a in range(2):
            for b in range(2):
                g[k + 1, a, b + 2] = sig[k, a, b]
                g[k + 1, a + 2, b] = -sig[k, a, b]
    return g


@nb.njit(cache=True, inline="always")
def slash(G, p):
    """Feynman slash p_mu gamma^mu with metric (+,-,-,-); ``G`` the four Dirac matrices."""
    return p[0] * G[0] - p[1] * G[1] - p[2] * G[2] - p[3] * G[3]


@nb.njit(cache=True)
def heavy_prop(G, p, mm, width2):
    """(p̸ − 𝓜P_R − 𝓜†P_L + i Γ/2)⁻¹ as (2, 2, 4, 4) blocks [heavy i, heavy j] (8×8 inverse);
    𝓜 complex 2×2 (Q, D); ``width2`` = Γ/2 of each state (0 off)."""
    a = np.zeros((8, 8), dtype=np.complex128)
    ps = slash(G, p)
    for i in range(2):
        for j in range(2):
            for al in range(4):
                for be in range(4):
                    v = ps[al, be] if i == j else 0.0
                    if al == be:
                        # P_R = diag(0,0,1,1), P_L = diag(1,1,0,0) in the chiral basis
                        v -= mm[i, j] if al >= 2 else np.conj(mm[j, i])
                        if i == j:
                            v += 1j * width2[i]
                    a[4 * i + al, 4 * j + be] = v
    inv = np.linalg.inv(a)
    out = np.empty((2, 2, 4, 4), dtype=np.complex128)
    for i in range(2):
        for j in range(2):
            out[i, j] = inv[4 * i : 4 * i + 4, 4 * j : 4 * j + 4]
    return out


@nb.njit(cache=True, inline="always")
def _pl(m, right):
    """m P_R (right) or m P_L: keep the columns 2,3 or 0,1."""
    out = np.zeros((4, 4), dtype=np.complex128)
    lo = 2 if right else 0
    for a in range(4):
        for b in range(lo, lo + 2):
            out[a, b] = m[a, b]
    return out


@nb.njit(cache=True)
def chain(S, yin, yout):
    """Σ_ij Γ_out,i S_ij Γ_in,j for Γ_in = (y_Q P_L, y_D P_R), Γ_out = (y_Q P_R, y_D P_L) (4×4)."""
    out = np.zeros((4, 4), dtype=np.complex128)
    for i in range(2):
        for j in range(2):
            c = yout[i] * yin[j]
            if c == 0.0:
                continue
            m = S[i, j].copy()
            # right: Γ_in,j ; left: Γ_out,i (projectors act on rows from the left)
            m = _pl(m, j == 1)  # j = Q: P_L ; j = D: P_R
            rl = np.zeros((4, 4), dtype=np.complex128)
            lo = 2 if i == 0 else 0  # i = Q: P_R on the left ; i = D: P_L
            for a in range(lo, lo + 2):
                for b in range(4):
                    rl[a, b] = m[a, b]
            out += c * rl
    return out


@nb.njit(cache=True)
def chain_gluon(S2, S1, eps_sl, yin, yout):
    """Σ_ijk Γ_out,i S2_ik ε̸ S1_kj Γ_in,j (gluon on the heavy line)."""
    out = np.zeros((4, 4), dtype=np.complex128)
    for i in range(2):
        for j in range(2):
            c = yout[i] * yin[j]
            if c == 0.0:
                continue
            m = np.zeros((4, 4), dtype=np.complex128)
            for k in range(2):
                m += S2[i, k] @ eps_sl @ S1[k, j]
            m = _pl(m, j == 1)
            rl = np.zeros((4, 4), dtype=np.complex128)
            lo = 2 if i == 0 else 0
            for a in range(lo, lo + 2):
                for b in range(4):
                    rl[a, b] = m[a, b]
            out += c * rl
    return out


@nb.njit(cache=True)
def _light_prop(G, p):
    p2 = p[0] * p[0] - p[1] * p[1] - p[2] * p[2] - p[3] * p[3]
    return slash(G, p) / p2


@nb.njit(cache=True)
def amp2_qg_qphiphi(G, p1, pg, p3, k1, k2, mm, width2, yin, yout, ceft):
    """Σ_spins,pols |M|² / (g_s² × colour) of q(p1) g(pg) → q'(p3) φ(k1) φ(k2) (all momenta
    physical and outgoing-positive as written); UV amplitude (``ceft`` = 0) or the EFT contact
    ½ C (q̄q) φ² (``ceft`` = C, couplings unused). Colour: multiply by Tr(T^aT^a) = 4."""
    eps = pol_vectors(pg)
    p12 = p1 + pg
    p3g = p3 - pg
    S0a = _light_prop(G, p12)
    S0b = _light_prop(G, p3g)
    tot = 0.0
    if ceft != 0.0:
        for e in range(2):
            es = slash(G, eps[e])
            A = ceft * (S0a @ es + es @ S0b)
            tot += _trace_sq(G, A, p1, p3)
        return tot
    # heavy propagators for the two orderings: (a, b) = (k1, k2) and (k2, k1)
    SHt = (heavy_prop(G, p1 - k1, mm, width2), heavy_prop(G, p1 - k2, mm, width2))
    SHs = (heavy_prop(G, p3 + k2, mm, width2), heavy_prop(G, p3 + k1, mm, width2))
    Wt0 = chain(SHt[0], yin, yout)
    Wt1 = chain(SHt[1], yin, yout)
    Ws0 = chain(SHs[0], yin, yout)
    Ws1 = chain(SHs[1], yin, yout)
    for e in range(2):
        es = slash(G, eps[e])
        A = (Ws0 + Ws1) @ S0a @ es + es @ S0b @ (Wt0 + Wt1)
        A += chain_gluon(SHs[0], SHt[0], es, yin, yout) + chain_gluon(SHs[1], SHt[1], es, yin, yout)
        tot += _trace_sq(G, A, p1, p3)
    return tot


@nb.njit(cache=True, inline="always")
def _trace_sq(G, A, p1, p3):
    """Tr[p̸₃ A p̸₁ γ⁰ A† γ⁰] (spin sum of |ū(p3) A u(p1)|², massless)."""
    abar = G[0] @ A.conj().T @ G[0]
    m = slash(G, p3) @ A @ slash(G, p1) @ abar
    return (m[0, 0] + m[1, 1] + m[2, 2] + m[3, 3]).real
