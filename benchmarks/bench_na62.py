"""NA62 emulation throughput and recast scan time on this machine.

    python benchmarks/bench_na62.py [--n 2000000] [--repeat 3] [--points 50] [--cli] [--skip-emulation]

Prints, each line with the load average (``os.getloadavg()``) beside it:

* emulated events per second of ``detector.na62.reconstruct`` and ``simulate`` with 1 and 2
  numba threads (events already in memory);
* the per-process setup of the recast (imports excluded): the SM calibration sample (400k
  K+ -> pi+ nu nu events generated and emulated once per process) and the first point;
* the wall time of a ``points``-point m_phi scan of K+ -> pi+ phi phi (m_phi = 0.0025-0.125 GeV,
  default data set 2016-22, default statistics), one ``analyses.registry.recast("na62", point)``
  per point with the scanner's per-point seeds, in this process: the default acceptance
  (``signal_sample=reweight``: the calibration sample reweighted in q2) against the named peer
  ``signal_sample=generate`` (200k signal events generated and emulated per point, the
  pre-2026-12 method) measured in the same run; total and per-point times and their ratio;
* the same for a K+ -> pi+ X m_X scan (always generated: a two-body peak cannot be reweighted);
* with ``--cli``: the wall time of ``phiphi scan na62 --mphi 0.0025:0.125:0.0025 --workers 2``
  (Dask LocalCluster: worker start-up, imports and each worker's calibration included).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import machine
import numba
import numpy as np

import evtgen
from analyses import registry
from detector import na62
from evtgen.model import model_point
from evtgen.parallel import index_seed


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def best_rate(fn, n: int, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def scan(channel: str, opt: str, masses: np.ndarray, **options) -> tuple[float, int]:
    """Wall time of one recast per mass (the scanner's seeds) and the number of limits."""
    t = time.perf_counter()
    res = [
        registry.recast("na62", model_point(channel=channel, seed=index_seed(0, i), **{opt: float(m)}), **options)
        for i, m in enumerate(masses)
    ]
    dt = time.perf_counter() - t
    return dt, sum(r.upper_limit_95 is not None or r.expected_upper_limit_95 is not None for r in res)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--points", type=int, default=50)
    ap.add_argument("--cli", action="store_true", help="also time 'phiphi scan na62' on a 2-worker Dask cluster")
    ap.add_argument("--skip-emulation", action="store_true", help="skip the emulation throughput lines")
    args = ap.parse_args()
    print(machine.describe(), flush=True)

    if not args.skip_emulation:
        events = evtgen.generate("k2pinunu", args.n, seed=1)
        na62.reconstruct(events[:1000], seed=1)  # compile / load cache
        for threads in (1, 2):
            if threads > numba.config.NUMBA_NUM_THREADS:
                continue
            numba.set_num_threads(threads)
            r = best_rate(lambda: na62.reconstruct(events, seed=1), args.n, args.repeat)
            s = best_rate(lambda: na62.simulate(events, seed=1), args.n, args.repeat)
            print(
                f"na62 emulation, {threads} thread(s): reconstruct {r:.3e} events/s, "
                f"simulate (awkward out) {s:.3e} events/s  [{load()}]"
            )
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        del events

    t = time.perf_counter()
    registry.recast("na62", model_point(mphi=0.05, seed=1))
    print(
        f"na62 recast, per-process setup (SM calibration + first point, imports excluded): {time.perf_counter() - t:.2f} s  [{load()}]"
    )

    masses = np.linspace(0.0025, 0.125, args.points)
    times = {}
    for sample in ("reweight", "generate"):
        dt, n_lim = scan("k2piphiphi", "mphi", masses, signal_sample=sample)
        times[sample] = dt
        print(
            f"na62 scan k2piphiphi, signal_sample={sample}: {args.points} points in {dt:.2f} s "
            f"({1e3 * dt / args.points:.0f} ms/point, {n_lim} with a limit)  [{load()}]"
        )
    print(
        f"na62 scan k2piphiphi: reweight is {times['generate'] / times['reweight']:.1f}x the generate peer  [{load()}]"
    )
    dt, n_lim = scan("k2pix", "mx", np.linspace(0.0, 0.26, args.points), dataset="2016-18")
    print(
        f"na62 scan k2pix (2016-18, generated, 200k events/point): {args.points} points in {dt:.2f} s "
        f"({1e3 * dt / args.points:.0f} ms/point, {n_lim} with a limit)  [{load()}]"
    )

    if args.cli:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "scan.csv")
            cmd = ["phiphi", "scan", "na62", "--mphi", "0.0025:0.125:0.0025", "--workers", "2", "-o", out]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            dt = time.perf_counter() - t
        print(f"{' '.join(cmd[:-2])}: {dt:.1f} s wall (Dask start-up and per-worker setup included)  [{load()}]")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
