"""Small numba kernels for relativistic kinematics (four-vectors as (px, py, pz, E)).

Plain numba functions (error_model="numpy": no exception branch in a division) that LLVM
inlines into the sampler's loops."""

from __future__ import annotations

import numba as nb
import numpy as np


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
