"""detector.fastrandom: the ziggurat normal on per-event counter-based streams."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from detector import fastrandom
from evtgen import rng


def test_tables_close_every_layer_with_the_same_area():
    # independent of how zigset builds them: each rectangle x_i (f(x_{i-1}) - f(x_i)) and the
    # base strip (rectangle + tail) have the same area v; float rounding only (1e-12 relative)
    k, w, f = fastrandom.ziggurat_tables()
    r = fastrandom.ZIGGURAT_R
    v = r * math.exp(-0.5 * r * r) + math.sqrt(0.5 * math.pi) * math.erfc(r / math.sqrt(2.0))
    x = w * 2.0**52  # right edges x_i of the layers (x_0 is the base strip width v / f(r))
    areas = x[1:] * (f[:-1] - f[1:])
    np.testing.assert_allclose(areas, v, rtol=1e-9, atol=0)  # the top layer closes at f(0) = 1 only for the right R
    assert x[0] * f[-1] == pytest.approx(v, rel=1e-12, abs=0)
    assert x[-1] == pytest.approx(r, rel=1e-15, abs=0)
    # f[i] = exp(-x_i^2 / 2): the table values lie on the curve
    np.testing.assert_allclose(f[1:], np.exp(-0.5 * x[1:] ** 2), rtol=1e-12, atol=0)
    assert k[1] == 0 and np.all(k[2:] > 0)


def test_normal_distribution_against_exact_cdf():
    key = rng.derive_key(2024)
    x = fastrandom.normals(key[0], key[1], 0, 400_000, 5).ravel()
    # 2e6 draws: KS at the 1e-3 level (a 1% error in a table would give p ~ 0)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    # mean / variance within 5 standard errors
    assert abs(x.mean()) < 5 / math.sqrt(x.size)
    assert abs(x.var() - 1.0) < 5 * math.sqrt(2.0 / x.size)
    # the tail beyond the base radius (the slow path) and the wedges: counts within 5 sigma
    for c in (1.0, 2.5, fastrandom.ZIGGURAT_R, 4.2):
        p = 2.0 * stats.norm.sf(c)
        assert abs((np.abs(x) > c).mean() - p) < 5.0 * math.sqrt(p * (1 - p) / x.size) + 1e-12, c
    # symmetric
    assert abs((x > 0).mean() - 0.5) < 5 * 0.5 / math.sqrt(x.size)


def test_streams_are_per_event():
    key = rng.derive_key(7)
    whole = fastrandom.normals(key[0], key[1], 0, 1000, 10)
    part = fastrandom.normals(key[0], key[1], 300, 200, 10)
    np.testing.assert_array_equal(whole[300:500], part)
    other = fastrandom.normals(key[0] ^ np.uint64(1), key[1], 0, 1000, 10)
    assert not np.any(whole == other)
    # the 64-bit words are the ones evtgen.rng.uniform turns into doubles (same SplitMix64)
    s = np.uint64(0x1234567890ABCDEF)
    for _ in range(5):
        z, s1 = fastrandom.bits(s)
        u, s2 = rng.uniform(s)
        assert s1 == s2 and u == (float(z >> np.uint64(11)) + 0.5) * 2.0**-53
        s = s1
