"""Fast counter-based random numbers for the detector kernels: raw 64-bit words and a
ziggurat standard normal on the per-event SplitMix64 streams of :mod:`evtgen.rng`.

Every event ``i`` of a run has its own stream, started by :func:`evtgen.rng.event_state` from
the run key and ``i``; the emulations draw from it in a fixed order, so an event's smearing
does not depend on the block size, the thread count or which events share a call.

:func:`normal` is the 256-layer ziggurat of Marsaglia & Tsang (J. Stat. Softw. 5 (2000) 8) in
the 64-bit form numpy uses (``numpy/random/src/distributions/distributions.c``): 8 bits pick
the layer, 1 bit the sign, 52 bits the abscissa; 99.3% of the draws cost one 64-bit word, a
multiplication and a compare (the Box-Muller of :func:`evtgen.rng.normal` costs two words, a
log, a cos and a sqrt). The tables are built here at import from the layer radius ``R``
(numpy does not expose its own), and ``tests/test_detector_random.py`` checks the normal
against the exact CDF. :func:`normal_at` (the NA62 emulation) is the indexed variant on a
1024-layer ziggurat: normal k of an event is a function of (event, k) only, so a block fills
its normals in vectorised passes and redraws only the rejected (event, k) pairs (0.43%);
``tests/test_na62_normals.py`` checks it. Neither numpy nor numba offers a normal usable inside a numba kernel
on a caller-defined counter-based stream (numba's ``np.random`` is one global per-thread
state, so the output would depend on the thread count), hence this module.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from evtgen import rng

#: radius of the base layer of the 256-layer ziggurat (Marsaglia & Tsang 2000; numpy's value)
ZIGGURAT_R = 3.6541528853610088


def ziggurat_tables(r: float = ZIGGURAT_R, layers: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k, w, f) tables of the ziggurat for f(x) = exp(-x^2/2) with 52-bit abscissae.

    Layer area v = r f(r) + int_r^inf f (the base strip includes the tail); the layer edges
    x_i follow from f(x_{i+1}) = f(x_i) + v / x_i (Marsaglia & Tsang's zigset)."""
    m = 2.0**52
    v = r * math.exp(-0.5 * r * r) + math.sqrt(0.5 * math.pi) * math.erfc(r / math.sqrt(2.0))
    k = np.zeros(layers, dtype=np.uint64)
    w = np.zeros(layers)
    f = np.zeros(layers)
    q = v / math.exp(-0.5 * r * r)
    k[0] = np.uint64((r / q) * m)
    k[1] = 0
    w[0] = q / m
    w[layers - 1] = r / m
    f[0] = 1.0
    f[layers - 1] = math.exp(-0.5 * r * r)
    dn = tn = r
    for i in range(layers - 2, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = np.uint64((dn / tn) * m)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / m
    return k, w, f


_ZK, _ZW, _ZF = ziggurat_tables()
_R = ZIGGURAT_R
_INV_R = 1.0 / ZIGGURAT_R
_MASK52 = np.uint64(0x000FFFFFFFFFFFFF)


#: the next 64-bit word of an event stream (re-exported: the normal below consumes whole words)
bits = rng.bits


@nb.njit(cache=True)
def _wedge_or_tail(idx, rabs, x, state, zf, r, inv_r):
    # rejected by the rectangle test: the wedge (idx > 0) or the tail beyond r (idx == 0), on
    # the tables zf of a ziggurat of base radius r
    if idx == 0:
        while True:
            u1, state = rng.uniform(state)
            u2, state = rng.uniform(state)
            xx = -inv_r * np.log(u1)
            yy = -np.log(u2)
            if yy + yy > xx * xx:
                t = r + xx
                return (-t if (rabs >> np.uint64(8)) & np.uint64(1) else t), True, state
    u, state = rng.uniform(state)
    if (zf[idx - 1] - zf[idx]) * u + zf[idx] < np.exp(-0.5 * x * x):
        return x, True, state
    return 0.0, False, state


@nb.njit(cache=True)
def _normal_slow(idx, rabs, x, state):
    return _wedge_or_tail(idx, rabs, x, state, _ZF, _R, _INV_R)


@nb.njit(cache=True, inline="always")
def normal(state):
    """(x, new_state) with x standard normal (256-layer ziggurat; see the module docstring)."""
    while True:
        r, state = bits(state)
        idx = np.int64(r & np.uint64(0xFF))
        r = r >> np.uint64(8)
        rabs = (r >> np.uint64(1)) & _MASK52
        x = np.float64(rabs) * _ZW[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < _ZK[idx]:
            return x, state
        x, ok, state = _normal_slow(idx, rabs, x, state)
        if ok:
            return x, state


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64 increment (as evtgen.rng)


@nb.njit(cache=True, inline="always")
def _fast_pass(key0, key1, first, m, g, s0, redo):
    # the fast-path passes of fill_normals: s0[i] = event i's stream, g[k, i] its fast-path normals,
    # redo[i] = 1 + the first k whose draw left the fast path (0: none); redo[:m] set here
    per_event = g.shape[0]
    for i in range(m):
        s0[i] = rng.event_state(key0, key1, first + i)
        redo[i] = 0
    for k in range(per_event):
        skip = np.uint64(k) * _GOLDEN  # the stream after k words
        mark = np.uint8(min(k + 1, 255))  # redrawing from an earlier k is exact too
        for i in range(m):
            w = rng.bits(s0[i] + skip)[0]
            idx = w & np.uint64(0xFF)
            rabs = (w >> np.uint64(9)) & _MASK52
            x = np.float64(rabs) * _ZW[idx]
            g[k, i] = -x if (w >> np.uint64(8)) & np.uint64(1) else x
            r = redo[i]
            redo[i] = mark if (r == 0) & (rabs >= _ZK[idx]) else r


@nb.njit(cache=True, inline="always")
def _redraw(i, g, s0, redo):
    # event i's normals from its first slow-path draw on, one by one with normal()
    k0 = np.int64(redo[i]) - 1
    s = s0[i] + np.uint64(k0) * _GOLDEN
    for k in range(k0, g.shape[0]):
        x, s = normal(s)
        g[k, i] = x


@nb.njit(cache=True, inline="always")
def fill_normals(key0, key1, first, m, g, s0, redo):
    """Normals g[k, i] (k < g.shape[0], i < m) of events first..first+m-1: the same numbers as
    ``g.shape[0]`` successive :func:`normal` calls on each event's stream, drawn block-wise.

    SplitMix64 is a counter: the j-th word of a stream started at s is mix(s + j * golden), so
    the k-th normal of an event is a function of its k-th word as long as the k-1 normals before
    it took the ziggurat's fast path (99.3% each). One vectorisable pass per k over the block
    takes the fast path for every event and records in redo[i] 1 + the first k whose draw left
    it (0: none; 7% of the events have one for 10 normals); those events are redrawn one by one
    with :func:`normal` from that k on (the normals before it and the stream up to it are the
    fast-path ones). s0 (uint64) and redo (uint8): scratch of length >= m."""
    _fast_pass(key0, key1, first, m, g, s0, redo)
    for i in range(m):
        if redo[i]:
            _redraw(i, g, s0, redo)


@nb.njit(cache=True, inline="always")
def fill_normals_scan8(key0, key1, first, m, g, s0, redo):
    """:func:`fill_normals` (the same numbers), with the redraw marks scanned 8 events at a time:
    redo (uint8, length a multiple of 8 and >= m) is read through a uint64 view, so the ~95% of
    8-event groups without a redraw (3 normals an event) cost one compare instead of 8 byte tests
    and branches (a scalar byte scan was ~1.5 ns an event of the ATLAS kernel)."""
    for i in range(m, redo.shape[0]):  # marks beyond m are read by the 8-wide scan: none
        redo[i] = 0
    _fast_pass(key0, key1, first, m, g, s0, redo)
    words = redo.view(np.uint64)
    for q in range((m + 7) // 8):
        if words[q]:
            for i in range(8 * q, min(8 * q + 8, m)):
                if redo[i]:
                    _redraw(i, g, s0, redo)


@nb.njit(cache=True, parallel=True)
def normals(key0, key1, first, n, per_event):
    """Array (n, per_event) of normals of events first..first+n-1 (tests, benchmarks)."""
    out = np.empty((n, per_event))
    for i in nb.prange(n):
        s = rng.event_state(key0, key1, first + i)
        for j in range(per_event):
            x, s = normal(s)
            out[i, j] = x
    return out


#: radius of the base layer of a 1024-layer ziggurat (the tables of :func:`normal_at`): derived
#: here, not published: the R for which the recursion of :func:`ziggurat_tables` closes the top
#: layer at f(0) = 1, solved by bisection to double precision (the same bisection returns
#: Marsaglia & Tsang's 3.442619855899 for 128 and numpy's :data:`ZIGGURAT_R` for 256 layers;
#: tests/test_na62_normals.py checks that every layer of these tables has the same area)
ZIGGURAT_R_1024 = 4.038849846109504

_ZK1, _ZW1, _ZF1 = ziggurat_tables(ZIGGURAT_R_1024, 1024)
_R1 = ZIGGURAT_R_1024
_INV_R1 = 1.0 / ZIGGURAT_R_1024
_MASK10 = np.uint64(0x3FF)
#: tag of the rejection sub-streams of :func:`normal_at` (distinct from the event streams)
_REJECT_TAG = np.uint64(0x7A1C_0E5D_2B94_F163)


@nb.njit(cache=True)
def _normal_slow1(idx, rabs, x, state):
    # as _normal_slow, on the 1024-layer tables
    return _wedge_or_tail(idx, rabs, x, state, _ZF1, _R1, _INV_R1)


@nb.njit(cache=True, inline="always")
def _candidate1(w):
    # (layer, 52-bit abscissa, signed x) of a 64-bit word: 10 bits layer, 1 bit sign, 52 bits abscissa
    idx = np.int64(w & _MASK10)
    rabs = (w >> np.uint64(11)) & _MASK52
    x = np.float64(rabs) * _ZW1[idx]
    return idx, rabs, (-x if (w >> np.uint64(10)) & np.uint64(1) else x)


@nb.njit(cache=True)
def _normal_rejected(w, state0, k):
    # the k-th normal of normal_at when its word w failed the rectangle test: the wedge / tail
    # test of the same candidate, then fresh candidates, on the sub-stream (state0, k)
    sub = rng.event_state(state0, _REJECT_TAG, k)
    idx, rabs, x = _candidate1(w)
    while True:
        x, ok, sub = _normal_slow1(idx, rabs, x, sub)
        if ok:
            return x
        w, sub = bits(sub)
        idx, rabs, x = _candidate1(w)
        if rabs < _ZK1[idx]:
            return x


@nb.njit(cache=True, inline="always")
def normal_at(state0, k):
    """The k-th standard normal (k = 0, 1, ...) of the stream started at ``state0``, indexed
    draws on a 1024-layer ziggurat (0.43% of the draws leave its fast path; 1.5% for the 256
    layers of :func:`normal`): the first candidate is the stream's k-th 64-bit word (10 bits
    layer, 1 bit sign, 52 bits abscissa); if it leaves the fast path, the rejection continues on
    a sub-stream of its own (``rng.event_state(state0, tag, k)``), so normal k depends on
    (state0, k) only, not on the draws before it. Each is an exact ziggurat normal, independent
    of the others."""
    w = rng.bits(state0 + np.uint64(k) * _GOLDEN)[0]
    idx, rabs, x = _candidate1(w)
    if rabs < _ZK1[idx]:
        return x
    return _normal_rejected(w, state0, k)


@nb.njit(cache=True, inline="always")
def fill_normals_at(key0, key1, first, m, g, s0, redo):
    """g[k, i] = :func:`normal_at` (state of event first + i, k) for k < g.shape[0] <= 64 and
    i < m, block-wise: one vectorisable pass per k with the fast path for every event, the
    rejected (event, k) pairs (0.43% each, marked in the bit mask redo[i]) redrawn one by one.
    s0 (uint64) and redo (uint64): scratch of length >= m."""
    per_event = g.shape[0]
    for i in range(m):
        s0[i] = rng.event_state(key0, key1, first + i)
        redo[i] = 0
    for k in range(per_event):
        skip = np.uint64(k) * _GOLDEN
        bit = np.uint64(1) << np.uint64(k)
        for i in range(m):
            w = rng.bits(s0[i] + skip)[0]
            idx = w & _MASK10
            rabs = (w >> np.uint64(11)) & _MASK52
            x = np.float64(rabs) * _ZW1[idx]
            g[k, i] = -x if (w >> np.uint64(10)) & np.uint64(1) else x
            redo[i] |= bit if rabs >= _ZK1[idx] else np.uint64(0)
    for i in range(m):
        if redo[i]:
            for k in range(per_event):
                if (redo[i] >> np.uint64(k)) & np.uint64(1):
                    w = rng.bits(s0[i] + np.uint64(k) * _GOLDEN)[0]
                    g[k, i] = _normal_rejected(w, s0[i], k)


@nb.njit(cache=True, parallel=True)
def normals_at(key0, key1, first, n, per_event):
    """Array (n, per_event) of :func:`normal_at` normals of events first..first+n-1 (tests)."""
    out = np.empty((n, per_event))
    for i in nb.prange(n):
        s = rng.event_state(key0, key1, first + i)
        for j in range(per_event):
            out[i, j] = normal_at(s, j)
    return out


@nb.njit(cache=True, inline="always")
def fill_8_normals_at(key0, key1, first, m, w, stride, s0, redo):
    """w[k * stride + i] = :func:`normal_at` (state of event first + i, k) for k < 8 and i < m
    (the numbers of :func:`fill_normals_at` with 8 rows): events in the outer loop and the 8
    draws unrolled inside it, so each event's state is computed once and its rejection mask
    kept in a register (one vectorised pass instead of 8; ~7 ns an event less for the NA62
    kernel). w: flat float64 with rows ``stride >= m`` apart (a constant stride after inlining
    lets LLVM see the rows do not overlap); s0 (uint64), redo (uint64): scratch of length >= m."""
    for i in range(m):
        s = rng.event_state(key0, key1, first + i)
        s0[i] = s
        mask = np.uint64(0)
        for k in range(8):
            x = rng.bits(s + np.uint64(k) * _GOLDEN)[0]
            idx = x & _MASK10
            rabs = (x >> np.uint64(11)) & _MASK52
            v = np.float64(rabs) * _ZW1[idx]
            w[k * stride + i] = -v if (x >> np.uint64(10)) & np.uint64(1) else v
            mask |= (np.uint64(1) << np.uint64(k)) if rabs >= _ZK1[idx] else np.uint64(0)
        redo[i] = mask
    for i in range(m):
        if redo[i]:
            for k in range(8):
                if (redo[i] >> np.uint64(k)) & np.uint64(1):
                    x = rng.bits(s0[i] + np.uint64(k) * _GOLDEN)[0]
                    w[k * stride + i] = _normal_rejected(x, s0[i], k)
