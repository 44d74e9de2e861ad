"""detector.fastrandom.normal_at / fill_normals_at: the indexed ziggurat normals of the NA62 kernel."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import stats

from detector import fastrandom
from evtgen import rng


@nb.njit(cache=False)
def _block(key0, key1, first, m, per_event):
    g = np.empty((per_event, m))
    s0 = np.empty(m, dtype=np.uint64)
    redo = np.empty(m, dtype=np.uint64)
    fastrandom.fill_normals_at(key0, key1, first, m, g, s0, redo)
    return g


def test_normal_at_distribution_against_exact_cdf():
    key = rng.derive_key(2025)
    x = fastrandom.normals_at(key[0], key[1], 0, 250_000, 8).ravel()
    # 2e6 draws: KS at the 1e-3 level (a wrong wedge / tail continuation shows at the 1e-3 level)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    assert abs(x.mean()) < 5 / math.sqrt(x.size)
    assert abs(x.var() - 1.0) < 5 * math.sqrt(2.0 / x.size)
    # the tail beyond the base radius and the wedges (the rejected draws): counts within 5 sigma
    for c in (0.05, 1.0, 2.5, fastrandom.ZIGGURAT_R, 4.2):
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
    # the fast-path candidate is the event stream's k-th word, as for fastrandom.normal
    seq = fastrandom.normals(key[0], key[1], 1000, 3000, 8)
    same = np.all(seq == ref, axis=1)
    assert 0.8 < same.mean() < 0.95  # the events where no draw left the fast path (~89%)
