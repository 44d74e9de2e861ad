"""Small numba kernels for relativistic kinematics (four-vectors as (px, py, pz, E)).

Plain numba functions (error_model="numpy": no exception branch in a division) that LLVM
inlines into the sampler's loops."""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic


@nb.njit(cache=True, error_model="numpy")
def two_body_momentum(M, m1, m2):
    """Momentum of the daughters of M -> m1 m2 in the M rest frame."""
    lam = (M * M - (m1 + m2) ** 2) * (M * M - (m1 - m2) ** 2)
    return np.sqrt(max(lam, 0.0)) / (2.0 * M)


@nb.njit(cache=True, error_model="numpy")
def boost(px, py, pz, e, bx, by, bz):
    """Four-vector (px, py, pz, e) boosted by velocity (bx, by, bz); returns a 4-tuple."""
    b2 = bx * bx + by * by + bz * bz
    if b2 <= 0.0:
        return px, py, pz, e
    g = 1.0 / np.sqrt(1.0 - b2)
    bp = bx * px + by * py + bz * pz
    g2 = (g - 1.0) / b2
    f = g2 * bp + g * e
    return px + f * bx, py + f * by, pz + f * bz, g * (e + bp)


@nb.njit(cache=True, error_model="numpy")
def boost_with(px, py, pz, e, bx, by, bz, g, g2):
    """:func:`boost` with the gamma factors precomputed (several vectors, one velocity)."""
    bp = bx * px + by * py + bz * pz
    f = g2 * bp + g * e
    return px + f * bx, py + f * by, pz + f * bz, g * (e + bp)


@nb.njit(cache=True, error_model="numpy")
def cos_from_cos2(u):
    """cos(theta) distributed as cos^2(theta) on [-1, 1] from a uniform u (inverse CDF)."""
    return np.cbrt(2.0 * u - 1.0)


@nb.njit(cache=True, error_model="numpy")
def boost_from_rest(kx, ky, kz, k0, px, py, pz, p0, inv_m, inv_p0_plus_m):
    """Four-vector k given in the rest frame of a body of four-momentum p (mass m, rest frame
    reached from this frame by a pure boost) expressed in this frame; no sqrt or division:
    the caller passes 1/m and 1/(p0 + m). Returns a 4-tuple."""
    pk = px * kx + py * ky + pz * kz
    e = (p0 * k0 + pk) * inv_m
    f = (k0 + e) * inv_p0_plus_m
    return kx + f * px, ky + f * py, kz + f * pz, e


@nb.njit(cache=True, error_model="numpy")
def rotated_direction(n0, n1, n2, cos_t, cp, sp):
    """Unit vector at polar angle acos(cos_t) and azimuth (cp, sp) about axis n (basis: z x n, or
    x x n near the z axis; one division and selects instead of branches, so loops vectorise)."""
    near_z = abs(n2) >= 0.9
    ax = 0.0 if near_z else -n1
    ay = -n2 if near_z else n0
    az = n1 if near_z else 0.0
    inv = 1.0 / np.sqrt(ax * ax + ay * ay + az * az)
    ax = ax * inv
    ay = ay * inv
    az = az * inv
    bx = n1 * az - n2 * ay
    by = n2 * ax - n0 * az
    bz = n0 * ay - n1 * ax
    s2 = 1.0 - cos_t * cos_t
    s = np.sqrt(s2 if s2 > 0.0 else 0.0)  # a select: numba's max keeps loops scalar
    return (
        cos_t * n0 + s * (cp * ax + sp * bx),
        cos_t * n1 + s * (cp * ay + sp * by),
        cos_t * n2 + s * (cp * az + sp * bz),
    )


# --------------------------------------------------------------------------- elementary functions
# exp, log and cos(2 pi u) written out (fdlibm's polynomials, Sun Microsystems 1993, as in glibc
# and musl), branch-free with selects and the exponent handled by bit casts: libm's calls are
# opaque to LLVM, so a loop that calls them runs scalar, at 8-20 ns a call on this machine (the
# NA62 frame's Box-Muller and decay-vertex steps were ~80 ns of a kaon event). These are
# vectorised with the loop. Accuracy: <= 1 ulp on their documented domains (fdlibm's bound; the
# tests in tests/test_sampler_fastmath.py compare them with numpy on 10^6 points each).


@intrinsic
def f64_to_bits(typingctx, x):
    """The IEEE-754 bits of a float64 as uint64 (in numba code)."""
    # the IEEE-754 bits of a float64 as uint64 (an LLVM bitcast: one register move, vectorisable)
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@intrinsic
def bits_to_f64(typingctx, b):
    """The float64 with IEEE-754 bits b (uint64 or int64; in numba code)."""
    # the float64 with IEEE-754 bits b (uint64 or int64)
    if b not in (types.uint64, types.int64):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(b), codegen


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_EXP_P1 = 1.66666666666666019037e-01
_EXP_P2 = -2.77777777770155933842e-03
_EXP_P3 = 6.61375632143793436117e-05
_EXP_P4 = -1.65339022054652515390e-06
_EXP_P5 = 4.13813679705723846039e-08
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_TWO_PI = 6.283185307179586


@nb.njit(cache=True, error_model="numpy")
def exp_vec(x):
    """exp(x) for |x| <= 708 (fdlibm e_exp.c without its special cases; arguments outside are
    clamped to +-708, where exp is 3e-308 or 3e307: the callers' arguments never get there)."""
    x = x if x > -708.0 else -708.0
    x = x if x < 708.0 else 708.0
    k = np.floor(x * _INV_LN2 + 0.5)
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_EXP_P1 + t * (_EXP_P2 + t * (_EXP_P3 + t * (_EXP_P4 + t * _EXP_P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    return y * bits_to_f64((np.int64(k) + np.int64(1023)) << np.int64(52))


@nb.njit(cache=True, error_model="numpy")
def log_vec(x):
    """log(x) for finite normal x > 0 (fdlibm e_log.c without its special cases: zero, negative,
    subnormal, inf and nan arguments give meaningless numbers; the callers pass numbers in (0, 1])."""
    hx = f64_to_bits(x)
    # mantissa scaled into [sqrt(2)/2, sqrt(2)), k the matching exponent (fdlibm's 0x95f64 trick)
    hi = np.int64(hx >> np.uint64(32))
    i = ((hi & np.int64(0x000FFFFF)) + np.int64(0x95F64)) & np.int64(0x100000)
    k = ((hi >> np.int64(20)) - np.int64(1023)) + (i >> np.int64(20))
    mbits = (hx & np.uint64(0x000FFFFFFFFFFFFF)) | (np.uint64(i ^ np.int64(0x3FF00000)) << np.uint64(32))
    f = bits_to_f64(mbits) - 1.0
    dk = np.float64(k)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    hfsq = 0.5 * f * f
    return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)


@nb.njit(cache=True, error_model="numpy")
def _sincos_kernels(x):
    # fdlibm's __kernel_sin and __kernel_cos at x in [0, pi/4] (tail argument 0): (sin x, cos x)
    z = x * x
    w = z * z
    rc = z * (_C1 + z * (_C2 + z * _C3)) + w * w * (_C4 + z * (_C5 + z * _C6))
    hz = 0.5 * z
    v = 1.0 - hz
    c = v + (((1.0 - v) - hz) + z * rc)
    rs = _S2 + z * (_S3 + z * _S4) + z * w * (_S5 + z * _S6)
    return x + z * x * (_S1 + z * rs), c


@nb.njit(cache=True, error_model="numpy")
def sincos_2pi(u):
    """(cos(2 pi u), sin(2 pi u)) for u in [0, 1]: u reduced to [0, 1/8] by the symmetries of
    the circle (exact in u), then fdlibm's sin and cos kernels (an azimuth without libm, and
    without the 21% rejected tries of a point in the unit disk)."""
    r = u - np.floor(u + 0.5)  # [-1/2, 1/2]
    a = abs(r)
    flip = a > 0.25  # cos(2 pi a) = -cos(2 pi (1/2 - a)), sin(2 pi a) = sin(2 pi (1/2 - a))
    b = 0.5 - a if flip else a  # [0, 1/4]
    swap = b > 0.125  # cos(2 pi b) = sin(2 pi (1/4 - b)) and the other way round
    c = 0.25 - b if swap else b  # [0, 1/8]
    ks, kc = _sincos_kernels(c * _TWO_PI)
    cb = ks if swap else kc
    sb = kc if swap else ks
    return (-cb if flip else cb), (-sb if r < 0.0 else sb)


@nb.njit(cache=True, error_model="numpy")
def cos_2pi(u):
    """cos(2 pi u) for u in [0, 1] (see :func:`sincos_2pi`)."""
    c, _ = sincos_2pi(u)
    return c
