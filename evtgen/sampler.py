"""Unweighted event generation for the decay channels (numba, parallel over events).

q2 is drawn from the exact dGamma/dq2 by accept-reject under a piecewise-constant
envelope of equal-area bins (above the largest of the same kernel at 3 points of each of 16 fine
cells per bin, 5% headroom; any point above the envelope is counted and reported, so a
too-tight envelope cannot pass silently). The decay angles
follow the physics README: isotropic phi phi (S-wave), sin^2 for nu nubar (P-wave),
cos^2 for the K* helicity angle (longitudinal K*). Each event has its own counter-based
random stream (``evtgen.rng``), so events do not depend on chunking or thread count.

Speed (issue 14): every random number sits at a fixed counter of its event's stream (see
"stream layout" below), so the kernel runs each step over a block of events: the first try
of every accept-reject step, dGamma/dq2 (``evtgen.spectra``, branch-free per kind) and the
kinematics are loops that LLVM vectorises (AVX-512/AVX2 across events); only the envelope
look-up (gathers are not emitted on this target) and the retries of rejected tries are scalar;
no libm call is left (log, exp and cos(2 pi u) of the NA62 frame and the K -> pi form factor
are ``evtgen.kinematics``' vectorisable fdlibm polynomials, 2026-12). The kinematics uses
boosts by four-momenta (``boost_from_rest``), energies from q2 instead of square roots, and
momentum conservation for the last daughter of each decay. This layout (2026-12) changed every event relative to the earlier sequential stream.

Angles without accept-reject (2026-12, second round): an isotropic direction is cos theta = 2u - 1
and an azimuth 2 pi v through ``kinematics.sincos_2pi`` (SIMD), not Marsaglia's point in the unit
disk, whose 21% rejected tries left a scalar retry pass with an unpredictable branch per event
(~8 ns of a B event); the azimuths take 32 bits each, two per 64-bit word
(``rng.open_unit_halves``: a grid of 1.5e-9 rad), polar angles and q2 keep 53-bit uniforms; a q2 try
takes its bin and its position in the bin from one uniform (``q2_bin``). B+ -> K+ phi phi needs
9.1 words per event instead of 13.8, and q2 is the only accept-reject step left. Stream changed
(every channel). The NA62 parent and vertex loop writes only the block scratch (written to
``out`` and ``vtx_out`` directly, that loop touched 8 arrays and LLVM left it scalar, with its
log and exp): the rows are copied out afterwards.

Output loops (2026-12-02): every loop that wrote ``out[..., lo + i]`` was scalar: numba wraps a
negative signed index with a select, which LLVM cannot analyse as a unit-stride address (checked in
the assembly: vsqrtsd/vdivsd only). The output is indexed with the unsigned ``ulo + i`` (no
wraparound), and the K* and nu nubar daughter loops (rotated_direction, two boosts, 8 output rows)
are split into a parent-frame half (to the block scratch) and a lab half, which LLVM otherwise left
scalar: all of them vectorise now. Events bit-identical (sha256 of every field, every channel,
lab and rest frame); kernel CPU ~10% (b2kphiphi) to ~20% (b2kstarphiphi, b2knunu, k2pinunu) less.
The sin^2 polar step is not worth replacing: :func:`sin2_median` costs ~3 ns with its 3 uniforms
against ~1.6 ns for one uniform alone, while the exact inverse CDF (c = 2 cos((acos(1 - 2u) + 4 pi)/3),
the root of c^3 - 3c + 2(2u - 1) = 0 in [-1, 1]) needs acos (libm, scalar): ~29-48 ns (measured,
``benchmarks/floor.py`` prices ``sin2_median``). The q2 envelopes accept 0.947-0.949 of the tries
for every channel (the 5% headroom caps it at 0.952): no retries left to save there.

Tried and dropped (2026-12-02, morning; bit-identical, no gain): streaming (non-temporal) stores of
the output rows from the block scratch through an llvmlite intrinsic: 2x slower with 32-byte
alignment (half-line writes), no better with 64-byte alignment in a 25-row micro-kernel of the
kernel's pattern, and slower in the kernel (b2kstarphiphi CPU per event, 2 threads, plain and
pool=). Blocks of 512-2048 events (longer runs per output row): within the noise in the kernel.
What a plain call spends beyond pool= is mostly the OS's system time zeroing the fresh output
pages (2 MB transparent huge pages: numpy advises them for arrays >= 4 MB; 4 kB pages cost ~4x
more on this VM): 15-33 ns an event on 2 threads of a 16-35 ns difference (every three-body
channel; ``benchmarks/bench_evtgen.py`` prints both); records and Python cost < 1 ns an event.

Compile time: :func:`generate_kernel` runs a kernel compiled for one (topology, spectrum kind,
frame) only (``_kernel``: the three are closure constants, numba caches each specialisation
under their values), so a channel compiles its own code in a few seconds instead of one ~100 s
compilation of every branch; the helpers are plain numba functions that LLVM inlines, not
numba's inline="always" (which copied their IR into each of ~40 call sites).
"""

from __future__ import annotations

import functools

import numba as nb
import numpy as np

from . import jit_notice, rng
from .kinematics import (
    boost_from_rest,
    boost_with,
    cos_2pi,
    exp_vec,
    log_vec,
    rotated_direction,
    sincos_2pi,
    two_body_momentum,
)
from .spectra import SCALAR_KPI, dgamma_dq2, dgamma_scalar_kpi_given_f0, kpi_f0_clamped

jit_notice.announce(__file__, "the decay sampler of each channel at its first use, 5-20 s each")

# topologies
TWO_BODY = 0  # P -> a X
SCALAR_PAIR = 1  # P -> a (phi phi), isotropic pair
NEUTRINO_PAIR = 2  # P -> a (nu nubar), sin^2 in the pair frame
KSTAR_PAIR = 3  # P -> K*(-> K pi) (phi phi)

# frames
REST = 0
BELLE2 = 1
NA62 = 2

N_ENVELOPE_BINS = 512
ENVELOPE_HEADROOM = 1.05


def build_envelope(kind: int, par: np.ndarray, lo: float, hi: float, nbins: int = N_ENVELOPE_BINS):
    """(edges, heights) of a piecewise-constant envelope above dGamma/dq2 on [lo, hi] whose bins
    all have the same area (at most ``nbins`` of them), so a bin is drawn as int(u * n): no
    alias table, no unpredictable branch (the alias look-up was ~10 ns of a q2 try).

    Cached per model point, so chunked productions build it once (treat as read-only)."""
    return _envelope(int(kind), np.asarray(par, dtype=np.float64).tobytes(), float(lo), float(hi), int(nbins))


@functools.lru_cache(maxsize=64)
def _envelope(kind: int, par_bytes: bytes, lo: float, hi: float, nbins: int):
    from .spectra import dgamma_dq2_array

    par = np.frombuffer(par_bytes, dtype=np.float64)
    # fine cells (16 per bin) with the largest of dGamma/dq2 at their edges and 2 inner points
    # (finer than the 8 points per bin of equal-width bins it replaced), times the headroom
    nfine, sub = 16 * nbins, 3
    f = dgamma_dq2_array(kind, np.linspace(lo, hi, nfine * sub + 1), par)
    fine_heights = np.maximum(f[:-1].reshape(nfine, sub).max(axis=1), f[sub::sub]) * ENVELOPE_HEADROOM
    fine_edges = np.linspace(lo, hi, nfine + 1)
    # the smallest bin area that covers [lo, hi] with at most nbins bins (bisection)
    a_lo = float(np.sum(fine_heights * np.diff(fine_edges))) / nbins
    a_hi = float(fine_heights.max()) * (hi - lo)
    edges = np.empty(nbins + 1)
    for _ in range(60):
        mid = 0.5 * (a_lo + a_hi)
        if _equal_area_edges(fine_edges, fine_heights, mid, nbins, edges) <= nbins:
            a_hi = mid
        else:
            a_lo = mid
    n = _equal_area_edges(fine_edges, fine_heights, a_hi, nbins, edges)
    edges = edges[: n + 1].copy()
    heights = a_hi / np.diff(edges)  # >= the fine heights under each bin (equal areas)
    for a in (edges, heights):
        a.flags.writeable = False
    return edges, heights


@nb.njit(cache=True)
def _equal_area_edges(x, g, area, nmax, edges):
    # greedy: each bin from its left edge a as far right as (b - a) * max(g over the cells it
    # overlaps) <= area allows; returns the number of bins (nmax + 1 when more are needed)
    nf = g.shape[0]
    a = x[0]
    j = 0  # the fine cell that holds a
    n = 0
    edges[0] = a
    while True:
        m = g[j]
        while True:
            b = a + area / m if m > 0.0 else np.inf
            if b <= x[j + 1]:
                break
            if j + 1 == nf:
                b = x[nf]
                break
            if g[j + 1] > m and a + area / g[j + 1] <= x[j + 1]:
                b = x[j + 1]  # the next cell is too tall for this bin to reach into it
                break
            j += 1
            m = g[j] if g[j] > m else m
        n += 1
        if n > nmax:
            return n
        if b >= x[nf]:
            edges[n] = x[nf]
            return n
        edges[n] = b
        a = b
        while j + 1 < nf and x[j + 1] <= a:
            j += 1


# --------------------------------------------------------------------------- stream layout
# Every random number of an event sits at a fixed counter of the event's SplitMix64 stream
# (``rng.event_state``): word k of step s is the output of state s0 + (s 2^32 + k + 1) gamma
# (``word_at``; ``uniform_at`` is its 53-bit uniform). An accept-reject step of w words per try
# uses k = w t + j on try t, so no step's numbers depend on how many tries another step needed.
# The first try of every step is then computed for a block of events in one branch-free loop
# (SIMD across events), and only the rejected events retry, in a scalar loop; q2 is the only
# accept-reject step left (2026-12: directions and azimuths are drawn directly, see below). Steps:
STEP_Q2 = 0  # 2 words per try: bin and position in the bin (one uniform, see _q2_candidate), accept test
STEP_DIRECTION = 1  # cos theta of the decay axis in the parent frame (isotropic: uniform on [-1, 1])
STEP_FRAME_POLAR = 2  # Belle II: cos of the B direction (sin^2: median of 3); NA62: Box-Muller radius
STEP_FRAME_AZIMUTH = 3  # NA62: the decay z (Belle II: unused since 2026-12, its azimuth is in STEP_AZIMUTHS)
STEP_KSTAR_POLAR = 4  # K* helicity angle: |cos| the largest of 3 uniforms, its sign the low bit of the 1st
STEP_PAIR_POLAR = 6  # phi phi: cos theta (uniform); nu nubar: sin^2 (median of 3)
STEP_AZIMUTHS = 7  # the azimuths, two per word (rng.open_unit_halves, 32 bits each):
# word 0 = (decay axis, frame: the Belle II B direction or the NA62 Box-Muller angle),
# word 1 = (pair: phi phi or nu nubar, K* helicity azimuth)
BLOCK = 256  # events per block (the scratch of a block stays in L1)

_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # the SplitMix64 increment of evtgen.rng


@nb.njit(cache=True, error_model="numpy")
def word_at(s0, step, k):
    """64-bit word ``k`` of step ``step`` of the event whose stream starts at ``s0``."""
    c = (np.uint64(step) << np.uint64(32)) + np.uint64(k)
    z, _ = rng.bits(s0 + c * _GAMMA)
    return z


@nb.njit(cache=True, error_model="numpy")
def uniform_at(s0, step, k):
    """Uniform number ``k`` of step ``step`` of the event whose stream starts at ``s0`` (the
    53-bit uniform of :func:`word_at`)."""
    return rng.open_unit(word_at(s0, step, k))


@nb.njit(cache=True, error_model="numpy")
def _pos(x):
    return x if x > 0.0 else 0.0  # a select: numba's max() keeps loops scalar


@nb.njit(cache=True, error_model="numpy")
def q2_bin(u, nbins):
    """(bin, position in the bin in [0, 1]) of an equal-area envelope from one uniform u: the bin
    int(u n) and the fraction of u n above it, which is uniform in the bin given the bin (u has 53
    bits, so the position keeps >= 44 of them: a grid of <= 2^-44 of a bin width). u n rounding to
    n is clamped by selects."""
    x = u * nbins
    b = np.uint64(x)
    b = b if b < np.uint64(nbins) else np.uint64(nbins - 1)
    f = x - np.float64(b)
    return b, (f if f < 1.0 else 1.0)


@nb.njit(cache=True, error_model="numpy")
def _q2_candidate(s0, t, edges, heights):
    """(q2, envelope height) of try ``t`` of the q2 accept-reject."""
    b, f = q2_bin(uniform_at(s0, STEP_Q2, 2 * t), heights.shape[0])
    return edges[b] + (edges[b + np.uint64(1)] - edges[b]) * f, heights[b]


@nb.njit(cache=True, error_model="numpy")
def _q2_test(s0, t, f, h):
    """(accepted, above the envelope) of try ``t`` with dGamma/dq2 = f under height h."""
    above = f > h
    return above or uniform_at(s0, STEP_Q2, 2 * t + 1) * h < f, above


@nb.njit(cache=True, error_model="numpy")
def _q2_first(s0, kind, par, edges, heights, q2_out, h_out, ok_out, above_out, u_a, u_b, t=0):
    """Try ``t`` of the q2 accept-reject for a block of events (the first try of every event, or
    try t of the events still rejected, gathered into ``s0``): its uniform (SIMD, into u_a), the
    table look-ups (gathers: scalar), then dGamma/dq2 and the test (SIMD; ``kind`` a constant at
    the call site)."""
    nbins = heights.shape[0]
    k0 = 2 * t
    for i in range(s0.shape[0]):
        u_a[i] = uniform_at(s0[i], STEP_Q2, k0)
    for i in range(s0.shape[0]):
        b, f = q2_bin(u_a[i], nbins)
        q2_out[i] = edges[b] + (edges[b + np.uint64(1)] - edges[b]) * f
        h_out[i] = heights[b]
    if kind == SCALAR_KPI:  # f0 in a loop of its own (see spectra.dgamma_scalar_kpi_given_f0)
        for i in range(s0.shape[0]):
            u_a[i] = kpi_f0_clamped(q2_out[i], par)
        for i in range(s0.shape[0]):
            f = dgamma_scalar_kpi_given_f0(q2_out[i], u_a[i], par)
            h = h_out[i]
            ok_out[i] = (f > h) | (uniform_at(s0[i], STEP_Q2, k0 + 1) * h < f)
            above_out[i] = f > h
    else:
        for i in range(s0.shape[0]):
            f = dgamma_dq2(kind, q2_out[i], par)  # kind is constant per call: branches fold away
            h = h_out[i]
            ok_out[i] = (f > h) | (uniform_at(s0[i], STEP_Q2, k0 + 1) * h < f)
            above_out[i] = f > h


@nb.njit(cache=True, error_model="numpy")
def _isotropic(c, u_azimuth):
    """Unit vector (nx, ny, nz) with nz = c (uniform on [-1, 1] for an isotropic direction) and
    azimuth 2 pi u_azimuth: drawn directly (sqrt and the own sincos polynomial, SIMD), no retries
    (Marsaglia's point in the unit disk, which it replaced in 2026-12, rejected 21% of its tries
    and left a scalar retry pass with an unpredictable branch per event)."""
    cp, sp = sincos_2pi(u_azimuth)
    s = np.sqrt(_pos(1.0 - c * c))
    return s * cp, s * sp, c


@nb.njit(cache=True, error_model="numpy")
def sin2_median(s0, step):
    """cos(theta) with density (3/4) sin^2(theta) on [-1, 1]: the median of three uniforms on
    [-1, 1] has exactly that density (6 F (1 - F) f). Branch-free, no retries (it replaced an
    accept-reject of acceptance 2/3 in 2026-12)."""
    a = 2.0 * uniform_at(s0, step, 0) - 1.0
    b = 2.0 * uniform_at(s0, step, 1) - 1.0
    c = 2.0 * uniform_at(s0, step, 2) - 1.0
    lo = a if a < b else b
    hi = b if a < b else a
    m = hi if hi < c else c
    return lo if lo > m else m


@nb.njit(cache=True, error_model="numpy")
def _cos2_polar(s0):
    """cos(theta) with density (3/2) cos^2(theta) on [-1, 1] (longitudinal K*): |cos| has the
    density 3 x^2 of the largest of three uniforms, the sign is the lowest bit of the first word
    (``rng.open_unit`` uses only its top 53 bits: an independent fair coin; a fourth uniform
    until 2026-12). Exact, no cbrt (libm's cbrt, scalar, took ~20% of a b2kstarphiphi event)."""
    z = word_at(s0, STEP_KSTAR_POLAR, 0)
    a = rng.open_unit(z)
    b = uniform_at(s0, STEP_KSTAR_POLAR, 1)
    c = uniform_at(s0, STEP_KSTAR_POLAR, 2)
    x = a if a > b else b
    x = x if x > c else c
    return x if (z & np.uint64(1)) == np.uint64(0) else -x


# scratch rows of a block
_Q2, _N0, _N1, _N2, _C0, _C1, _C2, _E0, _E1, _E2, _H0, _H1, _H2, _QX, _QY, _QZ, _QE, _IPM = range(18)
_P0 = 18  # the parent's four-momentum (rows _P0.._P0 + 3)
_V0 = _P0 + 4  # the NA62 decay vertex (3 rows)
_D0 = _V0 + 3  # a daughter in the parent frame (K or nu; 4 rows), between the two halves of a loop
_NSCRATCH = _D0 + 4


@nb.njit(cache=True, error_model="numpy")
def _put_rows(sc, r, i, v0, v1, v2, v3):
    sc[r, i] = v0
    sc[r + 1, i] = v1
    sc[r + 2, i] = v2
    sc[r + 3, i] = v3


@nb.njit(cache=True, error_model="numpy")
def _put(out, j, i, v0, v1, v2, v3):
    out[j, 0, i] = v0
    out[j, 1, i] = v1
    out[j, 2, i] = v2
    out[j, 3, i] = v3


@functools.cache
def _kernel(TOPOLOGY: int, KIND: int, FRAME: int):
    """The sampler compiled for one (topology, spectrum kind, frame): constants folded, so a
    channel compiles only its own code (numba caches each closure under its cell values)."""

    @nb.njit(cache=True, parallel=True, error_model="numpy")
    def kernel(par, masses, edges, heights, frame_par, key0, key1, first, n, out, q2_out, vtx_out, violations):
        """Fill ``out[n_particles, 4, n]`` (lab four-momenta), ``q2_out`` and ``vtx_out``.

        masses: [M_parent, m_a, m_inv, (m_K, m_pi for K*)]; particle order in ``out``:
        TWO_BODY [P, a, X]; SCALAR/NEUTRINO_PAIR [P, a, inv1, inv2]; KSTAR_PAIR [P, K*, K, pi, phi1, phi2].
        frame_par: BELLE2 [beta_cm(3), beam axis in cm (3), p_star, gamma_cm, (gamma_cm - 1)/beta_cm^2,
        two unit vectors orthogonal to the beam axis (6)]; NA62 [p0, rel_sigma, slope, zmin, zmax, ctau].
        Event ``first + i`` depends only on the run key and its index (not on n, blocks or threads).
        """
        M = masses[0]
        ma = masses[1]
        minv = masses[2]
        inv_m = 1.0 / M
        inv_2m = 0.5 / M
        m2, ma2 = M * M, ma * ma
        # constants of the frames and of the K* decay
        e_star = 0.0
        dir0 = dir2 = 0.0
        if FRAME == BELLE2:
            e_star = np.sqrt(frame_par[6] * frame_par[6] + m2)
        elif FRAME == NA62:
            nn = np.sqrt(1.0 + frame_par[2] * frame_par[2])
            dir0, dir2 = frame_par[2] / nn, 1.0 / nn
        mk = mpi = pk_star = ek_star = inv_ma = 0.0
        if TOPOLOGY == KSTAR_PAIR:
            mk, mpi = masses[3], masses[4]
            pk_star = two_body_momentum(ma, mk, mpi)
            ek_star = np.sqrt(pk_star * pk_star + mk * mk)
            inv_ma = 1.0 / ma
        j_inv = 4 if TOPOLOGY == KSTAR_PAIR else 2
        nblocks = (n + BLOCK - 1) // BLOCK
        for blk in nb.prange(nblocks):
            lo = blk * BLOCK
            # unsigned output index: numba wraps a negative signed index (a select per access), which
            # LLVM cannot analyse as a unit-stride address, so every loop writing out[..., lo + i]
            # stayed scalar; an unsigned index has no wraparound and those loops vectorise
            ulo = np.uint64(lo)
            m = min(BLOCK, n - lo)
            s0 = np.empty(m, dtype=np.uint64)
            sc = np.empty((_NSCRATCH, m))
            for i in range(m):
                s0[i] = rng.event_state(key0, key1, first + lo + i)
            # --- q2: first try for the block, then the rejected events ---
            if TOPOLOGY == TWO_BODY:
                for i in range(m):
                    sc[_Q2, i] = minv * minv
            else:
                qok = np.empty(m, dtype=np.bool_)
                _q2_first(
                    s0,
                    KIND,
                    par,
                    edges,
                    heights,
                    sc[_Q2],
                    sc[_H0],
                    qok,
                    violations[lo : lo + m],
                    sc[_C0],
                    sc[_C1],
                )
                # the rejected events: gathered (their indices and stream states), try t for all of
                # them in the same SIMD loops, scattered back; until none is left (a scalar retry
                # per event, with dGamma/dq2 scalar and an unpredictable loop exit, cost more)
                ridx = np.empty(m, dtype=np.int64)
                nrej = 0
                for i in range(m):
                    ridx[nrej] = i
                    nrej += 0 if qok[i] else 1
                t = 1
                while nrej > 0:
                    rs0 = np.empty(nrej, dtype=np.uint64)
                    rok = np.empty(nrej, dtype=np.bool_)
                    rabove = np.empty(nrej, dtype=np.int8)
                    for j in range(nrej):
                        rs0[j] = s0[ridx[j]]
                    _q2_first(rs0, KIND, par, edges, heights, sc[_N0], sc[_N1], rok, rabove, sc[_N2], sc[_E0], t)
                    left = 0
                    for j in range(nrej):
                        i = ridx[j]
                        sc[_Q2, i] = sc[_N0, j]
                        violations[lo + i] = rabove[j]
                        ridx[left] = i
                        left += 0 if rok[j] else 1
                    nrej = left
                    t += 1
            # --- angles: drawn directly (no retries); the azimuths two per word ---
            for i in range(m):
                u_axis, u_frame = rng.open_unit_halves(word_at(s0[i], STEP_AZIMUTHS, 0))
                a0, a1, a2 = _isotropic(2.0 * uniform_at(s0[i], STEP_DIRECTION, 0) - 1.0, u_axis)
                sc[_N0, i], sc[_N1, i], sc[_N2, i] = a0, a1, a2
                sc[_C2, i] = u_frame
            if TOPOLOGY != TWO_BODY:
                for i in range(m):
                    u_pair, u_kstar = rng.open_unit_halves(word_at(s0[i], STEP_AZIMUTHS, 1))
                    sc[_E1, i], sc[_H1, i] = u_pair, u_kstar
            if FRAME == BELLE2:
                for i in range(m):
                    c = sin2_median(s0[i], STEP_FRAME_POLAR)
                    cp, sp = sincos_2pi(sc[_C2, i])
                    sc[_C0, i], sc[_C1, i], sc[_C2, i] = c, cp, sp
            elif FRAME == NA62:
                for i in range(m):
                    u1 = uniform_at(s0[i], STEP_FRAME_POLAR, 0)
                    sc[_C0, i] = np.sqrt(-2.0 * log_vec(u1)) * cos_2pi(sc[_C2, i])  # Box-Muller (no libm: SIMD)
                    sc[_C1, i] = uniform_at(s0[i], STEP_FRAME_AZIMUTH, 0)
            if TOPOLOGY == KSTAR_PAIR:
                for i in range(m):
                    cp, sp = sincos_2pi(sc[_H1, i])
                    sc[_H0, i], sc[_H1, i], sc[_H2, i] = _cos2_polar(s0[i]), cp, sp
            if TOPOLOGY == NEUTRINO_PAIR:
                for i in range(m):
                    cp, sp = sincos_2pi(sc[_E1, i])
                    sc[_E0, i], sc[_E1, i], sc[_E2, i] = sin2_median(s0[i], STEP_PAIR_POLAR), cp, sp
            elif TOPOLOGY != TWO_BODY:
                for i in range(m):
                    a0, a1, a2 = _isotropic(2.0 * uniform_at(s0[i], STEP_PAIR_POLAR, 0) - 1.0, sc[_E1, i])
                    sc[_E0, i], sc[_E1, i], sc[_E2, i] = a0, a1, a2
            # --- the parent in the lab, and 1/(E + M) for boosts out of its rest frame ---
            if FRAME == BELLE2:
                for i in range(m):
                    ct, cp, sp = sc[_C0, i], sc[_C1, i], sc[_C2, i]
                    st = np.sqrt(_pos(1.0 - ct * ct))
                    d0 = ct * frame_par[3] + st * (cp * frame_par[9] + sp * frame_par[12])
                    d1 = ct * frame_par[4] + st * (cp * frame_par[10] + sp * frame_par[13])
                    d2 = ct * frame_par[5] + st * (cp * frame_par[11] + sp * frame_par[14])
                    ps = frame_par[6]
                    v = boost_with(
                        ps * d0,
                        ps * d1,
                        ps * d2,
                        e_star,
                        frame_par[0],
                        frame_par[1],
                        frame_par[2],
                        frame_par[7],
                        frame_par[8],
                    )
                    _put_rows(sc, _P0, i, v[0], v[1], v[2], v[3])
                    sc[_IPM, i] = 1.0 / (v[3] + M)
            elif FRAME == NA62:
                for i in range(m):
                    pk = frame_par[0] * (1.0 + frame_par[1] * sc[_C0, i])
                    e = np.sqrt(pk * pk + m2)
                    _put_rows(sc, _P0, i, pk * dir0, 0.0, pk * dir2, e)
                    sc[_IPM, i] = 1.0 / (e + M)
                    # decay z: exponential with decay length beta*gamma*c*tau, truncated to the fiducial volume
                    length = pk * inv_m * frame_par[5]
                    zmin, zmax = frame_par[3], frame_par[4]
                    z = zmin - length * log_vec(1.0 - sc[_C1, i] * (1.0 - exp_vec(-(zmax - zmin) / length)))
                    sc[_V0, i] = frame_par[2] * z
                    sc[_V0 + 1, i] = 0.0
                    sc[_V0 + 2, i] = z
            else:
                for i in range(m):
                    _put_rows(sc, _P0, i, 0.0, 0.0, 0.0, M)
                    sc[_IPM, i] = inv_2m
            # the parent and the vertex were written to the block scratch (with the three vertex
            # rows and the parent's row of ``out`` in the same loop, the NA62 loop stayed scalar);
            # one copy loop per row
            for c in range(4):
                for i in range(m):
                    out[0, c, ulo + np.uint64(i)] = sc[_P0 + c, i]
            if FRAME == NA62:
                for c in range(3):
                    for i in range(m):
                        vtx_out[c, ulo + np.uint64(i)] = sc[_V0 + c, i]
            # --- parent -> a Q in the parent frame, a to the lab, Q = P - a ---
            for i in range(m):
                q2 = sc[_Q2, i]
                q2_out[ulo + np.uint64(i)] = q2
                lam = (m2 - ma2 - q2) * (m2 - ma2 - q2) - 4.0 * ma2 * q2
                p = np.sqrt(_pos(lam)) * inv_2m
                ea = (m2 + ma2 - q2) * inv_2m
                px, py, pz, pe = sc[_P0, i], sc[_P0 + 1, i], sc[_P0 + 2, i], sc[_P0 + 3, i]
                a = boost_from_rest(
                    p * sc[_N0, i], p * sc[_N1, i], p * sc[_N2, i], ea, px, py, pz, pe, inv_m, sc[_IPM, i]
                )
                _put(out, 1, ulo + np.uint64(i), a[0], a[1], a[2], a[3])
                sc[_QX, i], sc[_QY, i], sc[_QZ, i], sc[_QE, i] = px - a[0], py - a[1], pz - a[2], pe - a[3]
            if TOPOLOGY == TWO_BODY:
                for i in range(m):
                    _put(out, 2, ulo + np.uint64(i), sc[_QX, i], sc[_QY, i], sc[_QZ, i], sc[_QE, i])
                continue
            if TOPOLOGY == KSTAR_PAIR:
                # K* -> K pi: cos^2 helicity angle about the K* direction in the parent frame;
                # K from the K* frame to the parent frame, then to the lab; pi = K* - K
                for i in range(m):
                    q2 = sc[_Q2, i]
                    lam = (m2 - ma2 - q2) * (m2 - ma2 - q2) - 4.0 * ma2 * q2
                    p = np.sqrt(_pos(lam)) * inv_2m
                    ea = (m2 + ma2 - q2) * inv_2m
                    n0, n1, n2 = sc[_N0, i], sc[_N1, i], sc[_N2, i]
                    d0, d1, d2 = rotated_direction(n0, n1, n2, sc[_H0, i], sc[_H1, i], sc[_H2, i])
                    kp = boost_from_rest(
                        pk_star * d0,
                        pk_star * d1,
                        pk_star * d2,
                        ek_star,
                        p * n0,
                        p * n1,
                        p * n2,
                        ea,
                        inv_ma,
                        1.0 / (ea + ma),
                    )
                    _put_rows(sc, _D0, i, kp[0], kp[1], kp[2], kp[3])
                # the lab half in a loop of its own: as one loop (rotated_direction, two boosts and
                # the 8 output rows) LLVM left it scalar (~40 ns of a b2kstarphiphi event)
                for i in range(m):
                    px, py, pz, pe = sc[_P0, i], sc[_P0 + 1, i], sc[_P0 + 2, i], sc[_P0 + 3, i]
                    k = boost_from_rest(
                        sc[_D0, i], sc[_D0 + 1, i], sc[_D0 + 2, i], sc[_D0 + 3, i], px, py, pz, pe, inv_m, sc[_IPM, i]
                    )
                    _put(out, 2, ulo + np.uint64(i), k[0], k[1], k[2], k[3])
                    _put(
                        out,
                        3,
                        ulo + np.uint64(i),
                        out[1, 0, ulo + np.uint64(i)] - k[0],
                        out[1, 1, ulo + np.uint64(i)] - k[1],
                        out[1, 2, ulo + np.uint64(i)] - k[2],
                        out[1, 3, ulo + np.uint64(i)] - k[3],
                    )
            if TOPOLOGY == NEUTRINO_PAIR:
                # sin^2 about the pair direction in the parent frame: nu from the pair frame to
                # the parent frame, then to the lab; nubar = Q - nu
                for i in range(m):
                    q2 = sc[_Q2, i]
                    mq = np.sqrt(q2)
                    lam = (m2 - ma2 - q2) * (m2 - ma2 - q2) - 4.0 * ma2 * q2
                    p = np.sqrt(_pos(lam)) * inv_2m
                    eq = (m2 - ma2 + q2) * inv_2m
                    n0, n1, n2 = -sc[_N0, i], -sc[_N1, i], -sc[_N2, i]
                    e0, e1, e2 = rotated_direction(n0, n1, n2, sc[_E0, i], sc[_E1, i], sc[_E2, i])
                    h = 0.5 * mq
                    d = 1.0 / (mq * (eq + mq))
                    f = boost_from_rest(h * e0, h * e1, h * e2, h, p * n0, p * n1, p * n2, eq, (eq + mq) * d, mq * d)
                    _put_rows(sc, _D0, i, f[0], f[1], f[2], f[3])
                # the lab half in a loop of its own (as one loop LLVM left it scalar, as for the K*)
                for i in range(m):
                    px, py, pz, pe = sc[_P0, i], sc[_P0 + 1, i], sc[_P0 + 2, i], sc[_P0 + 3, i]
                    v = boost_from_rest(
                        sc[_D0, i], sc[_D0 + 1, i], sc[_D0 + 2, i], sc[_D0 + 3, i], px, py, pz, pe, inv_m, sc[_IPM, i]
                    )
                    _put(out, j_inv, ulo + np.uint64(i), v[0], v[1], v[2], v[3])
                    _put(
                        out,
                        j_inv + 1,
                        ulo + np.uint64(i),
                        sc[_QX, i] - v[0],
                        sc[_QY, i] - v[1],
                        sc[_QZ, i] - v[2],
                        sc[_QE, i] - v[3],
                    )
            else:
                # isotropic S-wave pair: any rest frame of the pair will do (a Wigner rotation of
                # an isotropic distribution is isotropic), so boost once with its lab momentum
                for i in range(m):
                    q2 = sc[_Q2, i]
                    mq = np.sqrt(q2)
                    pf = np.sqrt(_pos(0.25 * q2 - minv * minv))
                    qx, qy, qz, qe = sc[_QX, i], sc[_QY, i], sc[_QZ, i], sc[_QE, i]
                    d = 1.0 / (mq * (qe + mq))
                    v = boost_from_rest(
                        pf * sc[_E0, i],
                        pf * sc[_E1, i],
                        pf * sc[_E2, i],
                        0.5 * mq,
                        qx,
                        qy,
                        qz,
                        qe,
                        (qe + mq) * d,
                        mq * d,
                    )
                    _put(out, j_inv, ulo + np.uint64(i), v[0], v[1], v[2], v[3])
                    _put(out, j_inv + 1, ulo + np.uint64(i), qx - v[0], qy - v[1], qz - v[2], qe - v[3])

    return kernel


def _frozen(a: np.ndarray, dtype) -> np.ndarray:
    # one array type per input (read-only, contiguous), so each kernel has a single signature
    v = np.ascontiguousarray(a, dtype=dtype).view()
    v.flags.writeable = False
    return v


def generate_kernel(
    topology: int,
    kind: int,
    par: np.ndarray,
    masses: np.ndarray,
    edges: np.ndarray,
    heights: np.ndarray,
    frame: int,
    frame_par: np.ndarray,
    key0,
    key1,
    first: int,
    n: int,
    out: np.ndarray,
    q2_out: np.ndarray,
    vtx_out: np.ndarray,
    violations: np.ndarray,
) -> None:
    """Fill ``out[n_particles, 4, n]`` (lab four-momenta), ``q2_out`` and ``vtx_out``.

    masses: [M_parent, m_a, m_inv, (m_K, m_pi for K*)]; particle order in ``out``:
    TWO_BODY [P, a, X]; SCALAR/NEUTRINO_PAIR [P, a, inv1, inv2]; KSTAR_PAIR [P, K*, K, pi, phi1, phi2].
    frame_par: BELLE2 [beta_cm(3), beam axis in cm (3), p_star, gamma_cm, (gamma_cm - 1)/beta_cm^2,
    two unit vectors orthogonal to the beam axis (6)]; NA62 [p0, rel_sigma, slope, zmin, zmax, ctau].
    Event ``first + i`` depends only on the run key and its index (not on n, blocks or threads).
    Runs the kernel compiled for this (topology, kind, frame) only (compiled at its first use)."""
    topology, frame = int(topology), int(frame)
    kernel = _kernel(topology, 0 if topology == TWO_BODY else int(kind), frame)
    f64 = np.float64
    kernel(
        _frozen(par, f64),
        _frozen(masses, f64),
        _frozen(edges, f64),
        _frozen(heights, f64),
        _frozen(frame_par, f64),
        np.uint64(key0),
        np.uint64(key1),
        int(first),
        int(n),
        out,
        q2_out,
        vtx_out,
        violations,
    )
