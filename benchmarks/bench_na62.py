"""NA62 emulation throughput and recast scan time on this machine.

    python benchmarks/bench_na62.py [--n 2000000] [--repeat 3] [--points 50]

Prints: emulated events per second of ``detector.na62.reconstruct`` (smearing, vertex,
STRAW acceptance, m2_miss, regions; events already in memory) and of ``simulate`` (the same
plus attaching the fields to the awkward records), with 1 and 2 numba threads; then the wall
time of a ``points``-point m_phi scan of K+ -> pi+ phi phi and a m_X scan of K+ -> pi+ X with
the default statistics (200k signal events per mass, generation + emulation + fit), one
``analyses.registry.recast("na62", point)`` per point as the generic scanner does (the SM
calibration is computed once per process).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

import evtgen
from analyses import registry
from detector import na62
from evtgen.model import model_point


def best_rate(fn, n: int, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--points", type=int, default=50)
    args = ap.parse_args()

    events = evtgen.generate("k2pinunu", args.n, seed=1)
    na62.reconstruct(events[:1000], seed=1)  # compile / load cache
    for threads in (1, 2):
        if threads > numba.config.NUMBA_NUM_THREADS:
            continue
        numba.set_num_threads(threads)
        r = best_rate(lambda: na62.reconstruct(events, seed=1), args.n, args.repeat)
        s = best_rate(lambda: na62.simulate(events, seed=1), args.n, args.repeat)
        print(
            f"na62 emulation, {threads} thread(s): reconstruct {r:.3e} events/s, simulate (awkward out) {s:.3e} events/s"
        )
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

    for channel, opt, hi in (("k2piphiphi", "mphi", 0.175), ("k2pix", "mx", 0.35)):
        masses = np.linspace(0.0, hi, args.points)
        t = time.perf_counter()
        res = [registry.recast("na62", model_point(channel=channel, seed=1, **{opt: m})) for m in masses]
        dt = time.perf_counter() - t
        n_lim = sum(r.upper_limit_95 is not None or r.expected_upper_limit_95 is not None for r in res)
        print(
            f"na62 recast scan {channel}: {args.points} points in {dt:.1f} s ({n_lim} with a limit), 200000 events/point"
        )


if __name__ == "__main__":
    main()
