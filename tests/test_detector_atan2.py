"""detector.atlas.atan2 (the emulation's arctan2) against numpy's, which calls the C library."""

from __future__ import annotations

import numba as nb
import numpy as np

from detector import atlas


@nb.njit  # not cached: atlas.atan2 is inlined, a cache would keep an old copy of it
def _many(y, x):
    out = np.empty(y.shape[0])
    for i in range(y.shape[0]):
        out[i] = atlas.atan2(y[i], x[i])
    return out


def test_atan2_within_two_ulp_of_numpy_everywhere():
    g = np.random.default_rng(11)
    n = 400_000
    # magnitudes over 20 decades and all four quadrants, plus the octant edges |y| = |x|,
    # |y| = tan(pi/8) |x| and the axes (where the reductions switch)
    y = g.standard_normal(n) * np.exp(g.uniform(-23, 23, n))
    x = g.standard_normal(n) * np.exp(g.uniform(-23, 23, n))
    t8 = np.tan(np.pi / 8)
    edges_x = np.repeat([1.0, -1.0, 3.5, -2e-3], 8)
    edges_y = edges_x * np.tile([1.0, -1.0, t8, -t8, 1 / t8, -1 / t8, 0.0, 1e-300], 4)
    y = np.concatenate([y, edges_y, edges_x, [0.0, -0.0, 0.0, -0.0]])
    x = np.concatenate([x, edges_x, edges_y * 0.0, [1.0, 1.0, -1.0, -1.0]])
    ours, ref = _many(y, x), np.arctan2(y, x)
    # numpy's (the C library's) atan2 is within 1 ulp of the exact value; ours is within 2 ulp
    # of it (Cephes' polynomial ~1 ulp plus one rounding in each octant reduction)
    ulp = np.abs(ours - ref) / np.spacing(np.abs(ref))
    assert ulp.max() <= 2.0, (y[ulp.argmax()], x[ulp.argmax()], ulp.max())
    assert np.array_equal(np.signbit(ours), np.signbit(ref))
    assert np.all(np.abs(ours) <= np.pi)


def test_atan2_non_finite_and_origin_as_numpy():
    y = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, np.inf])
    x = np.array([0.0, -0.0, 1.0, np.inf, 1.0, np.nan, -np.inf])
    np.testing.assert_array_equal(_many(y, x), np.arctan2(y, x))
