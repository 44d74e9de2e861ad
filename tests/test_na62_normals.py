"""detector.fastrandom.normal_at / fill_normals_at: the indexed ziggurat normals of the NA62 kernel."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest
from scipy import stats

from detector import fastrandom
from evtgen import rng

_GOLDEN = 0x9E3779B97F4A7C15


def _mix(z: int) -> int:
    """SplitMix64's output function in Python integers (independent of evtgen.rng)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)


@nb.njit(cache=False)
def _block(key0, key1, first, m, per_event):
    g = np.empty((per_event, m))
    s0 = np.empty(m, dtype=np.uint64)
    redo = np.empty(m, dtype=np.uint64)
    fastrandom.fill_normals_at(key0, key1, first, m, g, s0, redo)
    return g


def test_1024_layer_tables_close_every_layer_with_the_same_area():
    # as tests/test_detector_random.py for the 256 layers: with the derived R every rectangle
    # x_i (f(x_{i-1}) - f(x_i)) and the base strip have the same area v (float rounding: the
    # 1021-step recursion accumulates ~1e-11 relative), and a 1% wrong R breaks the closure
    r = fastrandom.ZIGGURAT_R_1024
    for radius, closes in ((r, True), (1.01 * r, False)):
        k, w, f = fastrandom.ziggurat_tables(radius, 1024)
        v = radius * math.exp(-0.5 * radius**2) + math.sqrt(0.5 * math.pi) * math.erfc(radius / math.sqrt(2.0))
        x = w * 2.0**52
        areas = x[1:] * (f[:-1] - f[1:])
        assert bool(np.all(np.abs(areas / v - 1.0) < 1e-10)) == closes
    k, w, f = fastrandom.ziggurat_tables(r, 1024)
    np.testing.assert_allclose(f[1:], np.exp(-0.5 * (w[1:] * 2.0**52) ** 2), rtol=1e-12, atol=0)
    assert k[1] == 0 and np.all(k[2:] > 0)
    # the fast path (rabs < k[idx]) takes 99.57% of the draws
    assert 1.0 - np.mean(k / 2.0**52) == pytest.approx(0.00428, rel=0.01, abs=0)


def test_normal_at_distribution_against_exact_cdf():
    key = rng.derive_key(2025)
    x = fastrandom.normals_at(key[0], key[1], 0, 2_500_000, 8).ravel()
    # 2e7 draws: KS at the 1e-3 level
    assert stats.kstest(x[:4_000_000], "norm").pvalue > 1e-3
    assert abs(x.mean()) < 5 / math.sqrt(x.size)
    assert abs(x.var() - 1.0) < 5 * math.sqrt(2.0 / x.size)
    # |x| in 400 bins of equal probability: chi2 (399 dof) at the 1e-4 level. Accepting the wedge
    # candidates without their test misplaces ~0.2% of the mass near every layer edge: chi2 ~ 1000
    edges = stats.halfnorm.ppf(np.linspace(0.0, 1.0, 401))
    counts = np.histogram(np.abs(x), bins=edges)[0]
    assert stats.chisquare(counts).pvalue > 1e-4
    # the tail beyond the base radius (the rejection sampling of the tail): counts within 5 sigma;
    # beyond 4.5 (136 expected) the tail of the base strip, not its rectangle
    for c in (0.05, 1.0, 2.5, fastrandom.ZIGGURAT_R_1024, 4.5):
        p = 2.0 * stats.norm.sf(c)
        assert abs((np.abs(x) > c).mean() - p) < 5.0 * math.sqrt(p * (1 - p) / x.size) + 1e-12, c
    # normals k and k + 1 of an event are independent (the rejection sub-streams are their own)
    y = x.reshape(-1, 8)
    assert abs(np.corrcoef(y[:, 2], y[:, 3])[0, 1]) < 5 / math.sqrt(y.shape[0])


def test_block_fill_equals_indexed_draws_whatever_the_block():
    key = rng.derive_key(8)
    ref = fastrandom.normals_at(key[0], key[1], 1000, 3000, 8)
    np.testing.assert_array_equal(_block(key[0], key[1], 1000, 3000, 8), ref.T)
    np.testing.assert_array_equal(_block(key[0], key[1], 1700, 555, 8), ref[700:1255].T)
    # normal k depends on (event, k) only: fewer normals per event give the first ones unchanged
    np.testing.assert_array_equal(_block(key[0], key[1], 1000, 3000, 5), ref[:, :5].T)
    # the fast-path candidate of normal k is the event stream's k-th word (independent decoding
    # here: 10 bits layer, 1 bit sign, 52 bits abscissa), and the rejected draws are exercised
    k_tab, w_tab, _ = fastrandom.ziggurat_tables(fastrandom.ZIGGURAT_R_1024, 1024)
    n_rejected = 0
    for i in range(600):
        s = _mix(int(key[0]) ^ _mix(((1000 + i) * _GOLDEN + int(key[1])) % 2**64))  # evtgen.rng.event_state
        for k in range(8):
            s = (s + _GOLDEN) % 2**64
            word = _mix(s)
            layer, abscissa = word & 0x3FF, (word >> 11) & ((1 << 52) - 1)
            if abscissa < int(k_tab[layer]):
                assert ref[i, k] == (-1.0 if (word >> 10) & 1 else 1.0) * float(abscissa) * w_tab[layer]
            else:
                n_rejected += 1
    assert 5 <= n_rejected <= 40  # 0.43% of 4800 draws: ~21
