"""Counter-based random numbers for numba kernels.

Each event ``i`` gets its own stream, a SplitMix64 sequence started from a hash of the
run key and ``i``. Event ``i`` is therefore the same whatever the chunking, the thread
count or the number of workers; the run key comes from :class:`numpy.random.SeedSequence`.
SplitMix64 (Steele, Lea, Flood 2014) passes BigCrush; it is the seeding generator of
numpy's own bit generators.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_BELOW_ONE = 1.0 - _INV53  # the largest double below 1
_INV32 = 1.0 / 4294967296.0  # 2**-32
_LOW32 = np.uint64(0xFFFFFFFF)


def derive_key(seed: int | None) -> np.ndarray:
    """Two 64-bit words of run key from ``seed`` via :class:`numpy.random.SeedSequence`.

    ``seed=None`` draws fresh entropy (the chosen entropy is returned by
    :func:`resolve_seed`, so it can be written in the file metadata).
    """
    return np.random.SeedSequence(resolve_seed(seed)).generate_state(2, dtype=np.uint64)


def resolve_seed(seed: int | None) -> int:
    """An explicit integer seed (fresh OS entropy when ``seed`` is None)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    return int(seed)


@nb.njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def event_state(key0, key1, index):
    """Initial state of the stream of event ``index`` for run key (key0, key1)."""
    return _mix(key0 ^ _mix(np.uint64(index) * _GOLDEN + key1))


@nb.njit(cache=True, inline="always")
def bits(state):
    """(64-bit word, new_state): the next SplitMix64 output of an event stream (the word
    :func:`uniform` turns into a double; :mod:`detector.fastrandom` draws normals from it)."""
    state = state + _GOLDEN
    return _mix(state), state


@nb.njit(cache=True, inline="always")
def open_unit(z):
    """The double in the open interval (0, 1) of a 64-bit word: (its top 53 bits + 1/2) 2^-53.
    For the top word that sum rounds to 2^53, i.e. u = 1.0: it is mapped to 1 - 2^-53 (a select,
    so loops stay vectorised; every other word gives the same double as before)."""
    u = (np.float64(z >> np.uint64(11)) + 0.5) * _INV53
    return u if u < 1.0 else _BELOW_ONE


@nb.njit(cache=True, inline="always")
def open_unit_halves(z):
    """Two doubles in the open interval (0, 1) from one 64-bit word: (its top 32 bits + 1/2) 2^-32
    and (its low 32 bits + 1/2) 2^-32 (exact; both in [2^-33, 1 - 2^-33]). For angles only
    (azimuths): the grid step 2^-32 of u is 1.5e-9 rad of an azimuth 2 pi u, ~10^6 times finer
    than any detector's angular resolution, and a histogram of u with fewer than ~10^6 bins sees
    each bin hold the same number of grid points to 10^-3 relative (2^32 / bins points per bin,
    off by at most one): the two halves of a SplitMix64 output are independent and uniform
    (BigCrush tests all 64 bits). tests/test_sampler_halves.py checks exactness and uniformity."""
    hi = np.float64(z >> np.uint64(32))
    lo = np.float64(z & _LOW32)
    return (hi + 0.5) * _INV32, (lo + 0.5) * _INV32


@nb.njit(cache=True, inline="always")
def uniform(state):
    """(u, new_state) with u uniform in the open interval (0, 1)."""
    z, state = bits(state)
    return open_unit(z), state


@nb.njit(cache=True, inline="always")
def normal(state):
    """(x, new_state) with x standard normal (Box-Muller, one value per call)."""
    u1, state = uniform(state)
    u2, state = uniform(state)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2), state


@nb.njit(cache=True)
def uniforms(key0, key1, first, n, per_event):
    """Array (n, per_event) of uniforms for events first..first+n-1 (for tests)."""
    out = np.empty((n, per_event))
    for i in range(n):
        s = event_state(key0, key1, first + i)
        for j in range(per_event):
            u, s = uniform(s)
            out[i, j] = u
    return out
