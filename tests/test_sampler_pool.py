"""The caller's output pool of evtgen.generate (pool=): memory is reused only after every array
made from it is gone, and events from reused memory equal events from fresh memory bit for bit."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import evtgen
from evtgen.decays import OutputPool


def test_memory_is_reused_only_after_every_view_is_released():
    pool = OutputPool()
    a = pool.empty((2, 3), np.float64)
    a[:] = 1.0
    view = a[1]
    del a
    gc.collect()
    assert pool.free_bytes() == 0  # a view still holds the memory
    b = pool.empty((2, 3), np.float64)
    assert not np.shares_memory(b, view)
    del view
    gc.collect()
    assert pool.free_bytes() == 48
    c = pool.empty((2, 3), np.float64)
    assert pool.free_bytes() == 0 and c.flags.c_contiguous and c.flags.writeable
    assert pool.empty((3, 2), np.float64).shape == (3, 2)  # a different shape is not handed out


def test_the_pool_keeps_at_most_its_limit():
    pool = OutputPool(max_free_bytes=100)
    arrays = [pool.empty((8,), np.float64) for _ in range(3)]  # 64 bytes each
    del arrays
    gc.collect()
    assert pool.free_bytes() == 64


def test_events_from_reused_memory_equal_fresh_ones():
    pool = OutputPool()
    fresh = evtgen.generate("b2kphiphi", 3000, mphi=1.0, seed=5)  # no pool: numpy.empty
    first = evtgen.generate("b2kphiphi", 3000, mphi=1.0, seed=5, pool=pool)
    ref = {f: np.asarray(first[f].px if first[f].fields else first[f]).copy() for f in first.fields}
    del first
    gc.collect()  # its memory goes back to the pool and is reused (stale contents) by the next call
    released = pool.free_bytes()
    assert released > 3000 * 8 * 13  # the 12 momentum columns and q2
    again = evtgen.generate("b2kphiphi", 3000, mphi=1.0, seed=5, pool=pool)
    assert pool.free_bytes() == 3000 + 24  # only the kernel's flags and the unused vertex came back
    for f, v in ref.items():
        got = np.asarray(again[f].px if again[f].fields else again[f])
        assert np.array_equal(got, v)
        assert np.array_equal(np.asarray(fresh[f].px if fresh[f].fields else fresh[f]), v)
    k = evtgen.generate("k2pix", 3000, mx=0.135, seed=5, pool=pool)  # two-body: the violation flags are zeroed
    assert np.all(np.isfinite(np.asarray(k.vtx_z)))


def test_a_pool_is_for_decay_channels_only():
    with pytest.raises(evtgen.PhiphiError, match="pool= is for the decay channels only"):
        evtgen.generate("pp2jphiphi", 10, mphi=1.0, pool=OutputPool())
