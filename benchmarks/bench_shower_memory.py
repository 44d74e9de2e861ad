"""Peak RSS of ``phiphi shower`` for 10^3 and 10^4 events (GitHub issue 9: memory flat in N).

Each size runs in its own process (ru_maxrss is per process). The LHE input is 50 generated
pp -> j phi phi events repeated (only the shower is measured). Usage:

    python benchmarks/bench_shower_memory.py [--mpi] [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine

SCRIPT = """
import resource, sys
from evtgen.shower import shower_lhe
shower_lhe(sys.argv[1], sys.argv[2], seed=1, mpi=sys.argv[3] == "1")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mpi", action="store_true", help="multiparton interactions on (slower)")
    ap.add_argument("--sizes", default="1000,10000")
    args = ap.parse_args()
    print(machine.describe(), flush=True)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_shower import make_lhe

    sizes = [int(float(x)) for x in args.sizes.split(",")]
    peaks = {}
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            src = make_lhe(Path(d) / f"ev{n}.lhe", n)
            t = time.perf_counter()
            r = subprocess.run(
                [sys.executable, "-c", SCRIPT, str(src), str(Path(d) / f"s{n}.parquet"), "1" if args.mpi else "0"],
                capture_output=True,
                text=True,
                check=True,
            )
            peaks[n] = int(r.stdout.strip().splitlines()[-1]) / 1024
            print(f"N = {n:>7}: peak RSS {peaks[n]:7.1f} MB, {time.perf_counter() - t:6.1f} s")
    lo, hi = peaks[sizes[0]], peaks[sizes[-1]]
    print(f"ratio {hi / lo:.3f} (issue 9 asks < 1.20)")
    return 0 if hi < 1.2 * lo else 1


if __name__ == "__main__":
    sys.exit(main())
