"""Peak memory of chunked B+ -> K+ phi phi productions versus N (issue 14: flat in N, < 1 GB).

    python benchmarks/bench_production_memory.py [--sizes 1e6,1e7,1e8] [--modes partitioned,dask,file]
        [--chunk 1000000] [--format parquet] [--dir /tmp] [--workers 2]

Each (mode, N) runs in a fresh process (``ru_maxrss`` is per process), writing into a
temporary directory that is deleted afterwards (10^8 events are ~13 GB of Parquet):

* ``partitioned``: ``evtgen.generate_to(..., chunk_size=--chunk)`` serially in the process
  (the Dask path runs the same ``write_part`` in each worker);
* ``dask``: the same on a LocalCluster of ``--workers`` processes (``evtgen.parallel.dask_client``);
  the peak RSS is the sum over the client process, the nannies and the workers (each
  process's own ``ru_maxrss``), with the largest worker beside it;
* ``file``: ``evtgen.production.generate_file`` to one file (chunks of ``DEFAULT_CHUNK``).

Printed per run: peak RSS (``ru_maxrss``), the RSS after the imports and after the first
part (the baseline of the process), wall time and events/s, and the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import machine

SCRIPT = r"""
import os, resource, sys, time
import psutil
mode, n, out, chunk, fmt, workers = sys.argv[1], int(float(sys.argv[2])), sys.argv[3], int(float(sys.argv[4])), sys.argv[5], int(sys.argv[6])
import evtgen
from evtgen.production import generate_file
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
def pid_peak():
    return os.getpid(), peak(), "vector" in sys.modules
rss0 = psutil.Process().memory_info().rss
extra = ""
t = time.perf_counter()
if mode == "partitioned":
    evtgen.generate_to("b2kphiphi", n, out, chunk_size=chunk, mphi=1.0, seed=1, format=fmt, progress=False)
elif mode == "dask":
    from evtgen.parallel import dask_client
    with dask_client(workers=workers) as c:
        evtgen.generate_to("b2kphiphi", n, out, chunk_size=chunk, mphi=1.0, seed=1, format=fmt, progress=False, client=c)
        w = list(c.run(pid_peak).values())
        nannies = {p: x for p, x, _ in c.run(pid_peak, nanny=True).values() if p != os.getpid()}  # in this process for a LocalCluster
    extra = (f"client {peak() / 2**20:.0f} MiB + other nanny processes {sum(nannies.values()) / 2**20:.0f} MiB + workers "
             + "/".join(f"{x / 2**20:.0f}" for _, x, _ in w) + " MiB (vector imported in " + str(sum(v for _, _, v in w)) + " workers)")
else:
    generate_file("b2kphiphi", n, out + "." + fmt, mphi=1.0, seed=1, progress=False)
dt = time.perf_counter() - t
total = peak() + (sum(x for _, x, _ in w) + sum(nannies.values()) if mode == "dask" else 0)
print(extra + "|", total, rss0, dt)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e6,1e7,3e7")
    ap.add_argument("--modes", default="partitioned,file")
    ap.add_argument("--chunk", default="1000000", help="part size of the partitioned production")
    ap.add_argument("--format", default="parquet", choices=("parquet", "root"))
    ap.add_argument("--dir", default=None, help="where the temporary output goes (default: the system temp dir)")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers of mode dask")
    args = ap.parse_args()
    print(machine.describe(), flush=True)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    peaks: dict[str, list[float]] = {}
    for mode in args.modes.split(","):
        for size in args.sizes.split(","):
            n = int(float(size))
            base = tempfile.mkdtemp(prefix="phiphi-mem-", dir=args.dir)
            try:
                r = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        SCRIPT,
                        mode,
                        str(n),
                        os.path.join(base, "out"),
                        args.chunk,
                        args.format,
                        str(args.workers),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if r.returncode:
                    print(f"{mode} N={n:.0e}: failed\n{r.stderr[-2000:]}", flush=True)
                    continue
                extra, numbers = r.stdout.rsplit("|", 1)
                peak, rss0, dt = numbers.split()[-3:]
                peak, rss0, dt = int(peak), int(rss0), float(dt)
                peaks.setdefault(mode, []).append(peak)
                print(
                    f"{mode:<12} {args.format} N = {n:.0e}: peak RSS {peak / 2**20:8.1f} MiB "
                    f"(after imports {rss0 / 2**20:6.1f} MiB), {dt:7.1f} s, {n / dt:.3g} events/s, "
                    f"load {os.getloadavg()[0]:.1f}" + (f"; {extra.strip().splitlines()[-1]}" if extra.strip() else ""),
                    flush=True,
                )
            finally:
                shutil.rmtree(base, ignore_errors=True)
    for mode, p in peaks.items():
        print(f"{mode}: peak at largest N / peak at smallest N = {p[-1] / p[0]:.3f}; largest {p[-1] / 1e9:.3f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
