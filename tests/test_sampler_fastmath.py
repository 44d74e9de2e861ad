"""The sampler's own exp, log and cos(2 pi u) (evtgen.kinematics; libm calls keep a numba loop
scalar) against numpy and mpmath. Tolerances: fdlibm's polynomials are within 1 ulp of the exact
value, numpy's libm too, so the two agree to 2 ulp; against mpmath (120 bits) 2 ulp is allowed for
the reduction to [0, pi/4] (one rounding of 2 pi u)."""

from __future__ import annotations

import mpmath
import numba as nb
import numpy as np

from evtgen.kinematics import cos_2pi, exp_vec, log_vec, sincos_2pi


@nb.njit(cache=True)
def _apply(which, x):
    out = np.empty((2, x.shape[0]))
    for i in range(x.shape[0]):
        if which == 0:
            out[0, i] = exp_vec(x[i])
        elif which == 1:
            out[0, i] = log_vec(x[i])
        elif which == 2:
            out[0, i] = cos_2pi(x[i])
        else:
            out[0, i], out[1, i] = sincos_2pi(x[i])
    return out


def _ulps(got, ref):
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def test_exp_is_within_two_ulp_of_numpy():
    rg = np.random.default_rng(11)
    x = np.concatenate([rg.uniform(-708.0, 708.0, 200_000), rg.uniform(-1.0, 1.0, 200_000), [0.0, -1e-300, 1e-17]])
    assert np.max(_ulps(_apply(0, x)[0], np.exp(x))) <= 2.0


def test_log_is_within_two_ulp_of_numpy_on_the_unit_interval_and_beyond():
    rg = np.random.default_rng(12)
    x = np.concatenate(
        [
            rg.uniform(0.0, 1.0, 200_000),
            rg.uniform(1e-300, 1e-200, 10_000),
            1.0 - rg.uniform(0.0, 1e-6, 50_000),
            rg.uniform(1.0, 1e6, 50_000),
            [2.0**-53, 0.5, 2.0, 1.0 - 2.0**-53],
        ]
    )
    got = _apply(1, x)[0]
    assert np.max(_ulps(got, np.log(x))) <= 2.0
    assert _apply(1, np.array([1.0]))[0, 0] == 0.0


def test_cos_and_sin_of_two_pi_u_are_within_two_ulp_of_mpmath():
    mpmath.mp.prec = 120
    rg = np.random.default_rng(13)
    u = np.concatenate([rg.uniform(0.0, 1.0, 3000), np.arange(0.0, 1.0001, 1.0 / 64.0)])
    ref_c = np.array([float(mpmath.cos(2 * mpmath.pi * mpmath.mpf(float(v)))) for v in u])
    ref_s = np.array([float(mpmath.sin(2 * mpmath.pi * mpmath.mpf(float(v)))) for v in u])
    cs = _apply(3, u)
    assert np.array_equal(_apply(2, u)[0], cs[0])
    for got, ref in ((cs[0], ref_c), (cs[1], ref_s)):
        exact_zero = np.abs(ref) < 1e-30  # u = k/4: mpmath's 120-bit pi leaves ~1e-37
        assert np.all(got[exact_zero] == 0.0)  # the reduction is exact in u
        assert np.max(_ulps(got[~exact_zero], ref[~exact_zero])) <= 2.0
