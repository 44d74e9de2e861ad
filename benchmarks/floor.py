"""Micro-kernels that price the elementary costs of a decay event on this machine.

The sampler's work per event is: random draws (SplitMix64 uniforms from ``evtgen.rng``),
square roots and divisions (kinematics, the matrix element), a few other transcendental
functions (log, exp, cbrt, cos), unpredictable branches (the accept-reject loops), and the
memory writes of the event record (17-25 float64). Each micro-kernel below times one of
these in a loop of independent operations (throughput, scalar code: the reductions are
not reassociated, so LLVM does not vectorise them), and the memory kernels time a streaming
write of float64 into an already touched buffer ("warm") and into a freshly allocated one
("fresh": page faults and the kernel's zeroing of new pages included, which every new
output array pays).

:func:`floor_ns` then prices a channel from its operation counts (``OP_COUNTS``, counted
from ``evtgen.sampler.generate_kernel``; the expected number of uniforms per event follows
from the acceptance of each accept-reject step, see ``expected_uniforms``). It is a lower
bound on the time of a scalar implementation: it assumes perfect overlap of everything
else (adds, multiplies, loads, branches that are predicted).

    python benchmarks/floor.py
"""

from __future__ import annotations

import math
import time

import numba as nb
import numpy as np

from evtgen import rng


@nb.njit(cache=True)
def _uniforms(key0, key1, n, k):
    s = 0.0
    for i in range(n):
        st = rng.event_state(key0, key1, i)
        s += np.float64(st >> np.uint64(11))
        for _ in range(k):
            u, st = rng.uniform(st)
            s += u
    return s


@nb.njit(cache=True)
def _sqrt(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.sqrt(x[i])
    return s


@nb.njit(cache=True)
def _div(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += 1.0 / x[i]
    return s


@nb.njit(cache=True)
def _log(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.log(x[i])
    return s


@nb.njit(cache=True)
def _exp(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.exp(-x[i])
    return s


@nb.njit(cache=True)
def _cbrt(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.cbrt(x[i])
    return s


@nb.njit(cache=True)
def _cos(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.cos(x[i])
    return s


@nb.njit(cache=True)
def _add(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return s


@nb.njit(cache=True)
def _reject(key0, n):
    # the isotropic-direction loop of evtgen.kinematics (acceptance pi/4, the branch on
    # each try is unpredictable): returns the number of tries
    tries = 0
    for i in range(n):
        st = rng.event_state(key0, key0, i)
        while True:
            u1, st = rng.uniform(st)
            u2, st = rng.uniform(st)
            tries += 1
            x1 = 2.0 * u1 - 1.0
            x2 = 2.0 * u2 - 1.0
            if x1 * x1 + x2 * x2 < 1.0:
                break
    return tries


@nb.njit(cache=True)
def _write(out):
    for i in range(out.shape[0]):
        out[i] = i * 0.5


def _best(fn, repeat: int) -> float:
    # CPU time of this thread (the kernels are single-threaded): on a shared machine the
    # wall time also counts the time other processes held the core
    fn()
    best = math.inf
    for _ in range(repeat):
        t = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t)
    return best


def measure(repeat: int = 5, n: int = 4_000_000) -> dict[str, float]:
    """Nanoseconds per operation (best of ``repeat``, one thread) of each elementary cost."""
    x = np.random.default_rng(1).uniform(0.5, 2.0, n)
    key = rng.derive_key(1)
    out: dict[str, float] = {}
    t_base = _best(lambda: _add(x), repeat) / n
    ne = n // 16
    t_state = _best(lambda: _uniforms(key[0], key[1], ne, 0), repeat) / ne
    t_u16 = _best(lambda: _uniforms(key[0], key[1], ne, 16), repeat) / ne
    out["event_state"] = t_state
    out["uniform"] = (t_u16 - t_state) / 16
    for name, fn in (("sqrt", _sqrt), ("div", _div), ("log", _log), ("exp", _exp), ("cbrt", _cbrt), ("cos", _cos)):
        out[name] = max(_best(lambda fn=fn: fn(x), repeat) / n - t_base, 0.0)
    # unpredictable branch: time of the rejection loop minus its uniforms
    tries = _reject(key[0], ne)
    t_rej = _best(lambda: _reject(key[0], ne), repeat)
    out["rejection"] = max((t_rej - ne * t_state - 2 * tries * out["uniform"]) / max(tries - ne, 1), 0.0)
    nw = 4 * n  # 128 MB at the default n: above every allocator's reuse threshold, like an event array
    buf = np.empty(nw)
    out["write_warm_per_byte"] = _best(lambda: _write(buf), repeat) / (8 * nw)
    buf = None  # release before the fresh-memory timing

    def fresh():
        b = np.empty(nw)
        _write(b)

    out["write_fresh_per_byte"] = _best(fresh, repeat) / (8 * nw)
    return {k: v * 1e9 for k, v in out.items()}


#: expected number of uniforms of each accept-reject step (1/acceptance x uniforms per try)
ISOTROPIC_U = 2 * 4 / math.pi  # Marsaglia: (u1, u2) in the unit disk
CIRCLE_U = 2 * 4 / math.pi  # (cos phi, sin phi) by rejection in the unit disk
SIN2_U = 2 * 1.5  # sin^2 theta by accept-reject, acceptance 2/3
NORMAL_U = 2  # Box-Muller


def expected_uniforms(channel: str, q2_efficiency: float) -> float:
    """Expected uniforms per event of ``channel`` in the lab frame, for an envelope of
    acceptance ``q2_efficiency`` (three uniforms per q2 try: bin, alias + position, test)."""
    q2 = 0.0 if channel in ("b2kx", "k2pix") else 3.0 / q2_efficiency
    n = q2 + ISOTROPIC_U
    if channel.startswith("b2"):
        n += SIN2_U + CIRCLE_U  # Upsilon(4S) -> B B direction
    else:
        n += NORMAL_U + 1  # beam momentum + decay vertex
    if channel == "b2kstarphiphi":
        n += 1 + CIRCLE_U  # K* helicity angle (cbrt) + azimuth
    if channel in ("b2knunu", "k2pinunu"):
        n += SIN2_U + CIRCLE_U
    elif channel not in ("b2kx", "k2pix"):
        n += ISOTROPIC_U
    return n


#: per-event counts of sqrt, div and other transcendentals outside the q2 loop, and per q2 try
#: (counted from generate_kernel and spectra.dgamma_dq2; Belle II lab frame for B, NA62 for K)
OP_COUNTS = {
    # name: (sqrt, div, log, exp, cos, cbrt, sqrt per q2 try, div per q2 try, exp per q2 try)
    "b2kphiphi": (13, 20, 0, 0, 0, 0, 3, 3, 0),
    "b2kstarphiphi": (17, 27, 0, 0, 0, 1, 3, 3, 0),
    "k2piphiphi": (12, 19, 2, 1, 1, 0, 2, 4, 1),
    "b2kx": (9, 14, 0, 0, 0, 0, 0, 0, 0),
    "k2pix": (8, 13, 2, 1, 1, 0, 0, 0, 0),
    "b2knunu": (13, 20, 0, 0, 0, 0, 2, 2, 0),
    "k2pinunu": (12, 19, 2, 1, 1, 0, 1, 2, 0),
}

#: float64 written per event (four-momenta, q2, vertex for kaons in the lab)
WORDS = {
    "b2kphiphi": 17,
    "b2kstarphiphi": 25,
    "k2piphiphi": 20,
    "b2kx": 13,
    "k2pix": 16,
    "b2knunu": 17,
    "k2pinunu": 20,
}


def floor_ns(channel: str, cost: dict[str, float], q2_efficiency: float, fresh_memory: bool = True) -> dict:
    """Lower bound (ns per event, one core) of ``channel`` and its parts, from ``cost``."""
    s, d, lg, ex, cs, cb, sq, dq, eq = OP_COUNTS[channel]
    tries = 0.0 if channel in ("b2kx", "k2pix") else 1.0 / q2_efficiency
    n_u = expected_uniforms(channel, q2_efficiency)
    parts = {
        "rng": cost["event_state"] + n_u * cost["uniform"],
        "sqrt_div": (s + sq * tries) * cost["sqrt"] + (d + dq * tries) * cost["div"],
        "other_transcendental": lg * cost["log"]
        + (ex + eq * tries) * cost["exp"]
        + cs * cost["cos"]
        + cb * cost["cbrt"],
        "memory": 8 * WORDS[channel] * cost["write_fresh_per_byte" if fresh_memory else "write_warm_per_byte"],
    }
    parts["total"] = sum(parts.values())
    parts["uniforms_per_event"] = n_u
    return parts


def main() -> None:
    import os

    print(f"load average {os.getloadavg()}")
    for k, v in measure().items():
        print(f"{k:<22} {v:8.3f} ns")


if __name__ == "__main__":
    main()
