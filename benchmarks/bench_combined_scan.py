"""Benchmark: a combined (m_phi x C_S^sd) scan over the flavour analyses on Dask, points per second
with 1 and 2 workers, and the check that both give the same table.

    python benchmarks/bench_combined_scan.py --masses 40 --couplings 40 --workers 1,2

Analyses: every registered one that limits C_S^sd (na62, koto, ...), NA62 at --na62-events
emulated events per mass, one seed for every analysis (option mc_seed) so that an MC analysis
has one likelihood per mass: the scanner runs the points of one mass as one task
(analyses.combine.SCAN_GROUP), each analysis is recast once per mass and its likelihood
evaluated at mu(C) for the other couplings (analyses.combine.ProfileMemo). Prints wall time,
points/s, the CPU time of this process and the load average before and after each run (the
workers' CPU is not in this process's CPU time).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path

import machine
import numpy as np


def peer(grid: dict, opts: dict, k: int) -> None:
    """In this process, one mass and its first ``k`` couplings: every analysis recast at every
    point (the peer: what the scan did before the grouping) against one recast per analysis and
    mass with the likelihood reused (``run_group``), after one warm-up point (calibrations,
    numba caches); prints both rates and the largest difference of -2 Delta ln L."""
    from analyses.scanning import build_grid, run_group, run_point

    pts = build_grid("combined", {"mphi": grid["mphi"][:1], "CS_sd": grid["CS_sd"][:k]}, seed=1, options=opts)
    run_point("combined", pts[0])  # warm-up: per-process calibrations, numba caches
    t0 = time.perf_counter()
    single = [run_point("combined", p) for p in pts]
    t_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    grouped = run_group("combined", pts[0], pts)
    t_group = time.perf_counter() - t0
    diff = max(abs(a["twice_dnll_point"] - b["twice_dnll_point"]) for a, b in zip(single, grouped))
    print(
        json.dumps(
            {
                "in_process_points": len(pts),
                "point_by_point_points_per_second": round(len(pts) / t_single, 2),
                "grouped_points_per_second": round(len(pts) / t_group, 2),
                "max_abs_difference_twice_dnll": diff,
                "loadavg_1min": round(os.getloadavg()[0], 2),
            }
        ),
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--masses", type=int, default=40)
    ap.add_argument("--couplings", type=int, default=40)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--na62-events", type=int, default=20000)
    ap.add_argument("--analyses", default="na62,koto")
    ap.add_argument(
        "--peer-points", type=int, default=10, help="couplings of one mass timed in process, point by point vs grouped"
    )
    args = ap.parse_args()
    print(json.dumps({"machine": machine.describe()}), flush=True)

    from analyses.scanning import run_scan

    grid = {
        "mphi": [float(f"{m:.6g}") for m in np.linspace(0.01, 0.17, args.masses)],
        "CS_sd": [float(f"{c:.6g}") for c in np.geomspace(1e-12, 1e-9, args.couplings)],
    }
    opts = {
        "analyses": args.analyses,
        "analysis_options": f"na62.n_events={args.na62_events},na62.sm_n_events={2 * args.na62_events}",
        "mc_seed": 1,
    }
    n = args.masses * args.couplings
    if args.peer_points:
        peer(grid, opts, args.peer_points)
    tables = {}
    for w in [int(x) for x in args.workers.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            load0 = os.getloadavg()
            t0 = time.perf_counter()
            rows = run_scan("combined", grid, seed=1, options=opts, output=Path(d) / "s.csv",
                            cluster={"workers": w}, progress=False)  # fmt: skip
            dt = time.perf_counter() - t0
        tables[w] = [r.get("twice_dnll_point") for r in rows]
        print(
            json.dumps(
                {
                    "workers": w,
                    "points": n,
                    "seconds": round(dt, 1),
                    "points_per_second": round(n / dt, 2),
                    "loadavg_1min_before_after": [round(load0[0], 2), round(os.getloadavg()[0], 2)],
                }
            ),
            flush=True,
        )
    vals = list(tables.values())
    same = all(
        all((a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=0, abs_tol=1e-9))
            for a, b in zip(vals[0], v)) for v in vals[1:]
    )  # fmt: skip
    print(json.dumps({"same_table_for_all_worker_counts": same}))


if __name__ == "__main__":
    main()
