"""Benchmark: the first touch of fresh memory, numpy's 2 MB pages against numba's 4 kB pages.

    python benchmarks/bench_first_touch.py [--mb 120] [--processes 3]

Each side runs in fresh processes (the first touch of a process is what a production pays once):
allocate an array of ``--mb`` MB (numpy ``np.empty``, which advises transparent huge pages for
arrays of 4 MB and more, or numba's ``np.empty`` inside an ``njit`` function, 4 kB pages), write
every element, free it; three times per process. Prints wall and system time and minor page faults
of each, and the machine's transparent-huge-page settings. The reason the monojet block buffers are
allocated by numba (:func:`evtgen.monojet.kernels.block_buffers`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import machine

_CHILD = r"""
import resource, sys, time
import numpy as np
import numba as nb

@nb.njit(cache=False)
def numba_touch(n):
    a = np.empty(n)
    a[:] = 1.0
    return a

def numpy_touch(n):
    a = np.empty(n)
    a[:] = 1.0
    return a

side, n = sys.argv[1], int(sys.argv[2])
fn = numba_touch if side == "numba" else numpy_touch
fn(16)  # compile (numba) outside the timing
out = []
for _ in range(3):
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    a = fn(n)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    out.append(f"{dt:7.4f} s (sys {r1.ru_stime - r0.ru_stime:6.3f}, {r1.ru_minflt - r0.ru_minflt:6d} faults)")
    del a
print(" | ".join(out))
"""


def _thp() -> str:
    base = Path("/sys/kernel/mm/transparent_hugepage")
    try:
        return f"enabled {(base / 'enabled').read_text().strip()}; defrag {(base / 'defrag').read_text().strip()}"
    except OSError:
        return "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=120.0)
    ap.add_argument("--processes", type=int, default=3)
    args = ap.parse_args(argv)
    print(machine.describe())
    print(f"transparent huge pages: {_thp()}; load average {os.getloadavg()}")
    n = int(args.mb * 1e6 / 8)
    print(f"{args.mb:g} MB, write every element; first / second / third allocation in one fresh process")
    for i in range(args.processes):
        for side in ("numpy", "numba"):
            r = subprocess.run([sys.executable, "-c", _CHILD, side, str(n)], capture_output=True, text=True, check=True)
            print(f"  process {i + 1} {side:5s}  {r.stdout.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
