"""detector.fastrandom.fill_8_normals_at (the NA62 kernel's block fill): the numbers of the
indexed draws normal_at (event, k) exactly, rejected draws included, whatever the block start and
length, with the rows at the given stride and nothing written outside rows 0-7 of the block."""

from __future__ import annotations

import numba as nb
import numpy as np

from detector import fastrandom


@nb.njit(cache=False)
def _fill(key0, key1, first, m, stride):
    w = np.full(9 * stride, -99.0)  # one row more than the fill writes: must stay untouched
    s0 = np.empty(m, dtype=np.uint64)
    redo = np.empty(m, dtype=np.uint64)
    fastrandom.fill_8_normals_at(key0, key1, first, m, w, stride, s0, redo)
    return w, redo


def test_fill_8_equals_the_indexed_draws_whatever_the_block():
    key0, key1 = np.uint64(0x1234_5678_9ABC_DEF0), np.uint64(77)
    first, n = 1000, 6000
    ref = fastrandom.normals_at(key0, key1, first, n, 8)  # (n, 8), event by event
    for lo, m, stride in ((0, n, n), (17, 511, 512), (3000, 3000, 3001)):
        w, redo = _fill(key0, key1, np.int64(first + lo), m, stride)
        rows = w.reshape(9, stride)
        np.testing.assert_array_equal(rows[:8, :m].T, ref[lo : lo + m])
        assert np.all(rows[:, m:] == -99.0) and np.all(rows[8] == -99.0)
        # 8 draws an event leave the fast path with probability 1 - 0.9957^8 = 3.4%: the
        # rejection branch is compared too (~100 of 3000 events; more than 30 by far)
        assert np.sum(redo != 0) > 0.01 * m
