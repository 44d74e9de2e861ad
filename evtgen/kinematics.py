"""Small numba kernels for relativistic kinematics (four-vectors as (px, py, pz, E))."""

from __future__ import annotations

import numba as nb
import numpy as np

from . import rng


@nb.njit(cache=True, inline="always")
def two_body_momentum(M, m1, m2):
    """Momentum of the daughters of M -> m1 m2 in the M rest frame."""
    lam = (M * M - (m1 + m2) ** 2) * (M * M - (m1 - m2) ** 2)
    return np.sqrt(max(lam, 0.0)) / (2.0 * M)


@nb.njit(cache=True, inline="always")
def isotropic(state):
    """Unit vector uniform on the sphere: (nx, ny, nz, state).

    Marsaglia (1972): (x1, x2) uniform in the unit disk, s = x1^2 + x2^2, then
    (2 x1 sqrt(1 - s), 2 x2 sqrt(1 - s), 1 - 2 s) is uniform on the sphere; no trigonometry.
    """
    while True:
        u1, state = rng.uniform(state)
        u2, state = rng.uniform(state)
        x1 = 2.0 * u1 - 1.0
        x2 = 2.0 * u2 - 1.0
        s = x1 * x1 + x2 * x2
        if s < 1.0:
            break
    r = 2.0 * np.sqrt(1.0 - s)
    return x1 * r, x2 * r, 1.0 - 2.0 * s, state


@nb.njit(cache=True, inline="always")
def unit_circle(state):
    """(cos phi, sin phi, state) with phi uniform in [0, 2 pi), by rejection in the unit
    disk and the double-angle formulas (no trigonometric calls)."""
    while True:
        u1, state = rng.uniform(state)
        u2, state = rng.uniform(state)
        x = 2.0 * u1 - 1.0
        y = 2.0 * u2 - 1.0
        r2 = x * x + y * y
        if 0.0 < r2 < 1.0:
            break
    return (x * x - y * y) / r2, 2.0 * x * y / r2, state


@nb.njit(cache=True, inline="always")
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


@nb.njit(cache=True, inline="always")
def gamma_factors(bx, by, bz):
    """(gamma, (gamma - 1)/beta^2) of velocity (bx, by, bz), for :func:`boost_with`."""
    b2 = bx * bx + by * by + bz * bz
    if b2 <= 0.0:
        return 1.0, 0.0
    g = 1.0 / np.sqrt(1.0 - b2)
    return g, (g - 1.0) / b2


@nb.njit(cache=True, inline="always")
def boost_with(px, py, pz, e, bx, by, bz, g, g2):
    """:func:`boost` with the gamma factors precomputed (several vectors, one velocity)."""
    bp = bx * px + by * py + bz * pz
    f = g2 * bp + g * e
    return px + f * bx, py + f * by, pz + f * bz, g * (e + bp)


@nb.njit(cache=True, inline="always")
def along(n0, n1, n2, p, m):
    """Four-vector (tuple) of mass ``m`` and momentum ``p`` along unit vector n."""
    return p * n0, p * n1, p * n2, np.sqrt(p * p + m * m)


@nb.njit(cache=True, inline="always")
def orthonormal_basis(n0, n1, n2):
    """Two unit vectors (a, b) with (a, b, n) right-handed and orthonormal."""
    if abs(n2) < 0.9:
        ax, ay, az = -n1, n0, 0.0  # z x n
    else:
        ax, ay, az = 0.0, -n2, n1  # x x n
    norm = np.sqrt(ax * ax + ay * ay + az * az)
    ax, ay, az = ax / norm, ay / norm, az / norm
    bx = n1 * az - n2 * ay
    by = n2 * ax - n0 * az
    bz = n0 * ay - n1 * ax
    return ax, ay, az, bx, by, bz


@nb.njit(cache=True, inline="always")
def direction_with_cos(n0, n1, n2, cos_t, cp, sp):
    """Unit vector at polar angle acos(cos_t) and azimuth (cos cp, sin sp) about axis n."""
    ax, ay, az, bx, by, bz = orthonormal_basis(n0, n1, n2)
    s2 = 1.0 - cos_t * cos_t
    s = np.sqrt(s2 if s2 > 0.0 else 0.0)  # a select: numba's max keeps inlined loops scalar
    return (
        cos_t * n0 + s * (cp * ax + sp * bx),
        cos_t * n1 + s * (cp * ay + sp * by),
        cos_t * n2 + s * (cp * az + sp * bz),
    )


@nb.njit(cache=True, inline="always")
def cos_from_cos2(u):
    """cos(theta) distributed as cos^2(theta) on [-1, 1] from a uniform u (inverse CDF)."""
    return np.cbrt(2.0 * u - 1.0)


@nb.njit(cache=True, inline="always")
def sample_sin2(state):
    """(cos theta, state) distributed as sin^2(theta) = 1 - c^2, by accept-reject
    (efficiency 2/3; cheaper than the closed-form inverse c = 2 sin(asin(2u - 1)/3))."""
    while True:
        u1, state = rng.uniform(state)
        u2, state = rng.uniform(state)
        c = 2.0 * u1 - 1.0
        if u2 < 1.0 - c * c:
            return c, state


@nb.njit(cache=True, inline="always")
def boost_from_rest(kx, ky, kz, k0, px, py, pz, p0, inv_m, inv_p0_plus_m):
    """Four-vector k given in the rest frame of a body of four-momentum p (mass m, rest frame
    reached from this frame by a pure boost) expressed in this frame; no sqrt or division:
    the caller passes 1/m and 1/(p0 + m). Returns a 4-tuple."""
    pk = px * kx + py * ky + pz * kz
    e = (p0 * k0 + pk) * inv_m
    f = (k0 + e) * inv_p0_plus_m
    return kx + f * px, ky + f * py, kz + f * pz, e


@nb.njit(cache=True, inline="always")
def rotated_direction(n0, n1, n2, cos_t, cp, sp):
    """:func:`direction_with_cos` with one division (the basis normalisation as a reciprocal)
    and selects instead of branches, so a loop over events vectorises."""
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
    s = np.sqrt(s2 if s2 > 0.0 else 0.0)  # a select: numba's max keeps inlined loops scalar
    return (
        cos_t * n0 + s * (cp * ax + sp * bx),
        cos_t * n1 + s * (cp * ay + sp * by),
        cos_t * n2 + s * (cp * az + sp * bz),
    )
