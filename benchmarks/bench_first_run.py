"""First run on a fresh install: total time and the longest silence of commands with an empty numba cache.

    python benchmarks/bench_first_run.py [--only NAME ...]

Issue 14 asks for the README's main command in <= 20 s on a fresh install and no command
silent for more than 5 s. Each command runs in a new process with ``NUMBA_CACHE_DIR`` set to a
fresh empty directory (so every kernel it needs is compiled, as after ``pip install``), its
stdout and stderr through one pipe (no progress bar is drawn: the pessimistic case); every
output line is timestamped as it arrives. Printed per command: total wall time, exit status,
the longest gap between two lines (process start and exit included) and the line that ended
it, with the load average. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "readme": "phiphi fit examples/models/eft_belle2_bestfit.yaml",
    "rate-monojet": "phiphi rate pp2jphiphi --mphi 1 --coupling CG=1e-6",
    "generate-bkstar": "phiphi generate b2kstarphiphi --mphi 1 --coupling CP_sb=1e-7 -n 100000 -o {tmp}/events.parquet",
    "recast-na62": "phiphi recast na62 --mphi 0.1 --coupling CS_sd=1e-10",
    "scan-belle2": "phiphi scan belle2 --mphi 0.5,1,1.5,2 --coupling CS_sb=1e-7 --workers 2 -o {tmp}/scan.parquet",
}


def run(command: str) -> tuple[float, int, float, str]:
    """(total s, exit status, longest silence s, the line after it) of ``command`` on a cold cache."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONUNBUFFERED="1")
        argv = shlex.split(command.format(tmp=tmp))
        t0 = time.monotonic()
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, bufsize=1, cwd=ROOT
        )
        last, gap, after = t0, 0.0, ""
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.monotonic()
            if now - last > gap:
                gap, after = now - last, line.strip()
            last = now
        proc.wait()
        end = time.monotonic()
        if end - last > gap:
            gap, after = end - last, "<exit>"
        return end - t0, proc.returncode, gap, after


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=sorted(COMMANDS), help="run only these commands")
    args = ap.parse_args()
    print(machine.describe(), flush=True)
    print(f"load average at start: {os.getloadavg()}; cpus {os.cpu_count()}", flush=True)
    worst = 0.0
    for name in args.only or COMMANDS:
        total, rc, gap, after = run(COMMANDS[name])
        worst = max(worst, gap)
        print(
            f"{name:<16} total {total:6.1f} s  exit {rc}  longest silence {gap:4.1f} s (ended by {after[:70]!r})"
            f"  load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    print(f"longest silence over all commands: {worst:.1f} s (issue 14: <= 5 s)", file=sys.stdout)


if __name__ == "__main__":
    main()
