"""The monojet trial blocks (:func:`evtgen.monojet.kernels.weights_block`) against the one-trial
path (:func:`evtgen.monojet.kernels.trial_weight`, libm's exp and log) on the same points.

The block path is what generation and the cell scan use; ``trial_weight`` is the independent,
scalar statement of the same weight. On glibc >= 2.28 x86-64 with FMA (the project machine) the two
agree bit for bit (the block's exp/log copies equal libm there); elsewhere within 1e-13 relative:
the copies are within 0.51 ulp of exact against libm's own ~0.5 ulp, and a weight passes through
~6 exp/log evaluations and the PDF interpolation, a few 1e-16 each, so 1e-13 leaves a factor
~100 of room while a wrong term (a jacobian factor, a swapped x1/x2) is off by O(1).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest
from test_monojet_glibc_math import _glibc_with_fma

from evtgen.monojet import generator as G
from evtgen.monojet import kernels as K


@nb.njit(cache=True)
def _block_path(xs, par, g, apar):
    n = xs.shape[0]
    out = np.empty((4, n))
    tb, idx, state, cell, f1, f2, kf, work, ok = K.block_scratch()
    for lo in range(0, n, K.TB):
        m = min(K.TB, n - lo)
        for j in range(m):
            for k in range(4):
                tb[K.B_X0 + k, j] = xs[lo + j, k]
            tb[K.B_JV, j] = 1.0
        K.weights_block(m, par, g, apar, tb, f1, f2, kf, work, ok)
        for j in range(m):
            w = tb[K.B_W, j]
            out[0, lo + j] = w
            out[1, lo + j] = tb[K.B_X1, j] if w > 0.0 else 0.0
            out[2, lo + j] = tb[K.B_X2, j] if w > 0.0 else 0.0
            out[3, lo + j] = tb[K.B_AS, j] if w > 0.0 else 0.0
    return out


@nb.njit(cache=True)
def _trial_path(xs, par, g, apar):
    n = xs.shape[0]
    out = np.empty((4, n))
    x, r, f1, f2, work, kf = K.trial_scratch(4)
    for i in range(n):
        for k in range(4):
            x[k] = xs[i, k]
        w, x1, x2, shat, q2, t, mur2, norm, a_s = K.trial_weight(x, par, g, apar, f1, f2, work, kf)
        out[0, i] = w
        out[1, i] = x1 if w > 0.0 else 0.0
        out[2, i] = x2 if w > 0.0 else 0.0
        out[3, i] = a_s if w > 0.0 else 0.0
    return out


def _points(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xs = rng.random((n, 4))
    # the corners of the cube (p_T at its cut, |y| at its edge, x near 1): outside the phase space
    # or outside the PDF grid's fast region, where the block redoes lanes one by one
    xs[::17] = rng.choice([1e-12, 0.5, 1 - 1e-12], size=(len(xs[::17]), 4))
    if d < 4:
        xs[:, 3] = 0.5
    return xs


@pytest.mark.parametrize(
    ("mode", "mass", "couplings"),
    [("phiphi", 10.0, {"CG": 1e-6, "CS_uu": 3e-6}), ("S", 250.0, {"CG": 1e-5, "CS_uu": 1e-3})],
)
def test_weights_block_equals_trial_weight(mode, mass, couplings):
    setup = G.make_setup(mode, mass, couplings, {})
    xs = _points(20_000, setup.ndim, seed=5)
    got = _block_path(xs, setup.par, setup.pdf.arrays, setup.apar)
    ref = _trial_path(xs, setup.par, setup.pdf.arrays, setup.apar)
    inside = ref[0] > 0
    assert 0.3 < inside.mean() < 0.99  # both inside and outside the phase space are exercised
    np.testing.assert_array_equal(got[0] > 0, inside)
    if _glibc_with_fma():
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0)
