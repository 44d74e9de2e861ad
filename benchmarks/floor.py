"""Micro-kernels that price the elementary costs of a decay event on this machine.

The sampler (``evtgen.sampler.generate_kernel``) works on blocks of events: the first try of
every random step, dGamma/dq2 and the kinematics are loops over events that LLVM turns into
SIMD code (since 2026-12-02 also the loops that write the output: they index it unsigned, see
the sampler's docstring), while the envelope look-up of each q2 try and the retries of rejected
tries stay scalar; log, exp and cos are the sampler's own vectorised polynomials (evtgen.kinematics), no
libm call is left (libm's log, exp, cos and cbrt are still priced, for comparison). The
micro-kernels below price each of these the way the sampler executes them: SIMD loops over
arrays (a uniform at a fixed counter of an event stream, sqrt, division, log_vec, exp_vec,
cos_2pi), scalar loops (libm, the equal-area envelope look-up of a q2 candidate, a rejected
try in the retry loop), and streaming float64 writes into an already touched buffer ("warm":
a caller's decays.OutputPool reuses the released output memory of earlier results) and
into a freshly allocated one ("fresh": page faults and the kernel's zeroing of new pages
included, which a program that keeps every result pays).

:func:`floor_ns` prices a channel from its operation counts (``OP_COUNTS``, counted from
``generate_kernel`` and ``evtgen.spectra``; uniforms and retries per event follow from the
acceptance of each accept-reject step, see ``expected_uniforms``). It is a lower bound for
this algorithm: everything else (adds, multiplies, loads, stores to the block's scratch)
is assumed free and perfectly overlapped.

    python benchmarks/floor.py
"""

from __future__ import annotations

import math
import time

import numba as nb
import numpy as np

from evtgen import kinematics, rng, sampler


@nb.njit(cache=True, error_model="numpy")
def _states(key0, key1, out):
    for i in range(out.shape[0]):
        out[i] = rng.event_state(key0, key1, i)


@nb.njit(cache=True, error_model="numpy")
def _uniforms(s0, out):
    # 8 uniforms at fixed counters of each event's stream, SIMD across events
    for i in range(s0.shape[0]):
        s = s0[i]
        out[i] = (
            sampler.uniform_at(s, 1, 0)
            + sampler.uniform_at(s, 1, 1)
            + sampler.uniform_at(s, 2, 0)
            + sampler.uniform_at(s, 2, 1)
            + sampler.uniform_at(s, 3, 0)
            + sampler.uniform_at(s, 3, 1)
            + sampler.uniform_at(s, 6, 0)
            + sampler.uniform_at(s, 6, 1)
        )


@nb.njit(cache=True, error_model="numpy")
def _sin2_median_kernel(s0, out):
    # the sampler's sin^2 polar angle (median of 3 uniforms, SIMD across events), its 3 uniforms
    # included: compare with 3 x "uniform" (a closed-form inverse CDF would need acos and cos:
    # libm's acos is scalar, ~20 ns, so it cannot beat ~3 ns)
    for i in range(s0.shape[0]):
        out[i] = sampler.sin2_median(s0[i], 6)


@nb.njit(cache=True, error_model="numpy")
def _copy(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = (x[i] + r) * 1.5


@nb.njit(cache=True, error_model="numpy")
def _sqrt(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = np.sqrt(x[i] + r)


@nb.njit(cache=True, error_model="numpy")
def _div(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = 1.0 / (x[i] + r)


@nb.njit(cache=True, error_model="numpy")
def _log(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = np.log(x[i] + r)


@nb.njit(cache=True, error_model="numpy")
def _exp(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = np.exp(-(x[i] + r))


@nb.njit(cache=True, error_model="numpy")
def _cbrt(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = np.cbrt(x[i] + r)


@nb.njit(cache=True, error_model="numpy")
def _cos(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = np.cos(x[i] + r)


@nb.njit(cache=True, error_model="numpy")
def _lookup(ua, edges, heights, out):
    # the equal-area envelope look-up of a q2 candidate from its uniform (gathers: scalar on
    # this target; the uniform is priced separately, as the sampler draws it in SIMD)
    nbins = heights.shape[0]
    for i in range(ua.shape[0]):
        b, f = sampler.q2_bin(ua[i], nbins)
        out[i] = edges[b] + (edges[b + np.uint64(1)] - edges[b]) * f + heights[b]


@nb.njit(cache=True, error_model="numpy")
def _log_vec(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = kinematics.log_vec(x[i] + r)


@nb.njit(cache=True, error_model="numpy")
def _exp_vec(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = kinematics.exp_vec(-(x[i] + r))


@nb.njit(cache=True, error_model="numpy")
def _cos_2pi(x, out, reps):
    for r in range(reps):
        for i in range(x.shape[0]):
            out[i] = kinematics.cos_2pi(x[i] * 0.25 + r * 1e-4)


@nb.njit(cache=True, error_model="numpy")
def _retry(s0, out):
    # a retry loop of a rejected try (unpredictable branch per event; the q2 retries are of
    # this kind, the old disk-point directions were): returns the number of tries beyond the first
    tries = 0
    for i in range(s0.shape[0]):
        t = 1
        while True:
            x1 = 2.0 * sampler.uniform_at(s0[i], 1, 2 * t) - 1.0
            x2 = 2.0 * sampler.uniform_at(s0[i], 1, 2 * t + 1) - 1.0
            tries += 1
            t += 1
            if x1 * x1 + x2 * x2 < 1.0:
                out[i] = x1
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


def measure(repeat: int = 5, n: int = 1 << 20) -> dict[str, float]:
    """Nanoseconds per operation (best of ``repeat``, one thread) of each elementary cost.

    The arrays (8 MB at the default n) exceed L2, as the sampler's output does; the memory
    kernels use 16 n float64."""
    x = np.random.default_rng(1).uniform(0.5, 2.0, n)
    o = np.empty(n)
    xs, os_, reps = x[:2048].copy(), np.empty(2048), n // 2048  # arithmetic: operands in L1
    key = rng.derive_key(1)
    s0 = np.empty(n, dtype=np.uint64)
    out: dict[str, float] = {}
    out["event_state"] = _best(lambda: _states(key[0], key[1], s0), repeat) / n
    t_copy = _best(lambda: _copy(xs, os_, reps), repeat) / n  # load + add + store of each micro-kernel
    out["uniform"] = _best(lambda: _uniforms(s0, o), repeat) / n / 8
    out["sin2_median"] = _best(lambda: _sin2_median_kernel(s0, o), repeat) / n
    for name, fn in (
        ("sqrt", _sqrt),
        ("div", _div),
        ("log", _log),
        ("exp", _exp),
        ("cbrt", _cbrt),
        ("cos", _cos),
        ("log_vec", _log_vec),
        ("exp_vec", _exp_vec),
        ("cos_2pi", _cos_2pi),
    ):
        out[name] = max(_best(lambda fn=fn: fn(xs, os_, reps), repeat) / n - t_copy, 0.0)
    edges = np.linspace(4.0, 22.0, 513)
    heights = np.ones(512)
    ua = np.random.default_rng(2).uniform(size=n)
    out["q2_lookup"] = _best(lambda: _lookup(ua, edges, heights, o), repeat) / n
    tries = _retry(s0, o)
    t_retry = _best(lambda: _retry(s0, o), repeat)
    out["rejection"] = t_retry / tries  # one retry: its two uniforms (scalar), the test, the branch
    nw = 16 * n  # 128 MB at the default n: above every allocator's reuse threshold, like an event array
    buf = np.empty(nw)
    out["write_warm_per_byte"] = _best(lambda: _write(buf), repeat) / (8 * nw)
    buf = None  # release before the fresh-memory timing

    def fresh():
        b = np.empty(nw)
        _write(b)

    out["write_fresh_per_byte"] = _best(fresh, repeat) / (8 * nw)
    return {k: v * 1e9 for k, v in out.items()}


#: 64-bit words per angle (since 2026-12 no angle is an accept-reject step: cos theta from one
#: word, azimuths two per word, see evtgen.sampler "stream layout")
ISOTROPIC_U = 1  # cos theta (its azimuth is a half of a STEP_AZIMUTHS word, counted below)
SIN2_U = 3  # sin^2 theta: the median of 3 uniforms
AZIMUTH_WORDS_TWO_BODY = 1  # word 0: decay axis + frame
AZIMUTH_WORDS_PAIR = 2  # word 1: pair + K* (computed for every three-body topology)


def expected_uniforms(channel: str, q2_efficiency: float) -> float:
    """Expected 64-bit words (uniforms) per event of ``channel`` in the lab frame, for an envelope
    of acceptance ``q2_efficiency`` (two words per q2 try: bin and position, accept test)."""
    two_body = channel in ("b2kx", "k2pix")
    n = 0.0 if two_body else 2.0 / q2_efficiency
    n += ISOTROPIC_U + (AZIMUTH_WORDS_TWO_BODY if two_body else AZIMUTH_WORDS_PAIR)
    if channel.startswith("b2"):
        n += SIN2_U  # Upsilon(4S) -> B B polar angle (its azimuth: word 0)
    else:
        n += 2  # beam momentum (Box-Muller radius; its angle: word 0) + decay vertex
    if channel == "b2kstarphiphi":
        n += 3  # K* helicity angle (largest of 3 uniforms; the sign is a spare bit of the first)
    if channel in ("b2knunu", "k2pinunu"):
        n += SIN2_U
    elif not two_body:
        n += ISOTROPIC_U
    return n


#: per-event counts outside the q2 loop (sqrt, div, log, exp, cos, cbrt) and per q2 try (sqrt, div,
#: exp), counted from generate_kernel and evtgen.spectra (Belle II lab frame for B, NA62 for K).
#: Since 2026-12 the sampler calls no libm function: log, exp and cos are evtgen.kinematics'
#: vectorised log_vec, exp_vec, cos_2pi and are priced as such (SIMD); cbrt is no longer used.
#: "cos" counts the sincos_2pi of every azimuth (decay axis, B direction or Box-Muller angle,
#: K* and pair azimuths), priced as one cos_2pi (the same reduction and both polynomials).
OP_COUNTS = {
    # name: (sqrt, div, log, exp, cos, cbrt, sqrt per q2 try, div per q2 try, exp per q2 try)
    "b2kphiphi": (6, 2, 0, 0, 3, 0, 3, 3, 0),
    "b2kstarphiphi": (9, 4, 0, 0, 4, 0, 3, 3, 0),
    "k2piphiphi": (7, 3, 2, 1, 3, 0, 2, 3, 1),
    "b2kx": (3, 1, 0, 0, 2, 0, 0, 0, 0),
    "k2pix": (4, 2, 2, 1, 2, 0, 0, 0, 0),
    "b2knunu": (7, 3, 0, 0, 3, 0, 2, 2, 0),
    "k2pinunu": (8, 4, 2, 1, 3, 0, 1, 1, 0),
}

#: expected retries (rejected tries) per event outside q2: none since 2026-12 (directions and
#: azimuths are drawn directly; Marsaglia's disk had 4/pi - 1 retries per direction)
RETRIES = {name: 0.0 for name in OP_COUNTS}

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
        "other_transcendental": lg * cost["log_vec"]
        + (ex + eq * tries) * cost["exp_vec"]
        + cs * cost["cos_2pi"]
        + cb * cost["cbrt"],
        "scalar": tries * cost["q2_lookup"] + (RETRIES[channel] + max(tries - 1.0, 0.0)) * cost["rejection"],
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
