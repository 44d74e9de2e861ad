"""detector.na62.acos: the branch-free arccos of the NA62 kernel (theta_kpi_rec) against exact values."""

from __future__ import annotations

import mpmath
import numba as nb
import numpy as np

from detector import na62


@nb.njit(cache=False)
def _acos_loop(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = na62.acos(x[i])
    return out


def test_acos_within_one_ulp_of_the_exact_value():
    g = np.random.default_rng(3)
    # all three branches, and cosines within 1e-16..1 of +-1 (small and large angles: NA62's theta ~ mrad)
    x = np.concatenate(
        [
            g.uniform(-1.0, 1.0, 20_000),
            1.0 - 10.0 ** g.uniform(-16, 0, 10_000),
            -1.0 + 10.0 ** g.uniform(-16, 0, 10_000),
            [0.5, -0.5, np.nextafter(0.5, 0.0), np.nextafter(-0.5, 0.0), 0.0, -0.0, np.nextafter(1.0, 0.0)],
        ]
    )
    got = _acos_loop(x)
    mpmath.mp.prec = 120
    exact = np.array([float(mpmath.acos(mpmath.mpf(float(v)))) for v in x])
    # fdlibm's algorithm is accurate to < 1 ulp: the double next to the exact value at worst
    assert np.all(np.abs(got - exact) <= np.spacing(exact)), np.max(np.abs(got - exact) / np.spacing(exact))
    # and agrees with the C library's acos (numpy) to 1 ulp (both are faithful, not always the same double)
    ref = np.arccos(x)
    assert np.all(np.abs(got - ref) <= np.spacing(ref))


def test_acos_end_points_and_outside():
    got = _acos_loop(np.array([1.0, -1.0, 1.0 + 2e-16, -1.0 - 3e-16, np.nan]))
    assert got[0] == 0.0 and got[1] == np.pi
    assert np.all(np.isnan(got[2:]))
