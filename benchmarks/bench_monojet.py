"""Benchmark: unweighted pp -> j + phi phi events per second vs Pythia 8's H + jet hard process.

    python benchmarks/bench_monojet.py [--events 500000] [--repeat 3] [--pythia-events 100000] [--threads 2] [--stratified-cells]

``--stratified-cells``: the unweighting cells of ``cell_scan: stratified`` with 32^4 cells and
16 points per cell (options cell_scan, cells_per_dim, vegas_wmax_points; efficiency 0.87 instead of
0.70, another event stream) instead of the monojet.yaml default.

Ours: numba with ``--threads`` threads (default 2), events after the (separately timed) VEGAS
integration (``vegas_seconds``: what ``rate`` needs) and cell scan of the unweighting
(``cell_scan_seconds``: done on the first request for events), in memory (no file writing);
``--repeat`` productions of ``--events`` events (seeds 1, 2, ...), the median is the rate. The
first production of a fresh process also pays the first touch of ~150 MB of memory (0.1–0.4 s of
system time on the VMs measured, printed per production): ``ratio_first_call_over_pythia`` is that
production alone — Pythia's init and first 1000 events are not timed either.
Pythia 8: HiggsSM:gg2Hg(l:t), qg2Hq(l:t), qqbar2Hg(l:t) at 13 TeV with p_T-hat > 150 GeV,
``PartonLevel:all = off``, ``HadronLevel:all = off`` (hard process + Higgs decay only), one
process per core run side by side (Pythia is single-threaded), rate = total events / wall time.
Both measured in the same run; the load average is printed because a shared machine distorts both.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

import machine

# runnable from a checkout without installing the package (the repository root on the path)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _pythia_worker(n: int, seed: int, q) -> None:
    import pythia8mc

    py = pythia8mc.Pythia("", False)
    for s in (
        "HiggsSM:gg2Hg(l:t) = on",
        "HiggsSM:qg2Hq(l:t) = on",
        "HiggsSM:qqbar2Hg(l:t) = on",
        "Beams:eCM = 13000",
        "PhaseSpace:pTHatMin = 150",
        "PartonLevel:all = off",
        "HadronLevel:all = off",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "Next:numberCount = 0",
        "Print:quiet = on",
    ):
        py.readString(s)
    py.init()
    for _ in range(1000):  # warm-up (maximum search is done in init)
        py.next()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        py.next()
    q.put((n, time.perf_counter() - t0, time.process_time() - c0))


def bench_pythia(n_per_proc: int, nproc: int) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_pythia_worker, args=(n_per_proc, 100 + i, q)) for i in range(nproc)]
    for p in procs:
        p.start()
    res = [q.get() for _ in procs]
    for p in procs:
        p.join()
    # processes run side by side: aggregate rate = sum of per-process rates
    return {
        "processes": nproc,
        "events": sum(r[0] for r in res),
        "rate_per_process": [r[0] / r[1] for r in res],
        "rate_total": sum(r[0] / r[1] for r in res),
        "cpu_ns_per_event": sum(r[2] for r in res) / sum(r[0] for r in res) * 1e9,
    }


def bench_ours(n: int, threads: int, opts: dict, repeat: int = 3) -> dict:
    import numba

    numba.set_num_threads(threads)
    from evtgen.monojet.channel import PP2JPhiPhi, _integrate_cached, _vegas_cached

    ch = PP2JPhiPhi()
    cpl = {"CG": 1e-6}
    ch.generate(2000, mass=10.0, couplings=cpl, seed=0, options=opts)  # compile + integrate (cached)
    _integrate_cached.cache_clear()
    _vegas_cached.cache_clear()
    # a model point from scratch: VEGAS (all a cross section needs), then the cell scan of the
    # unweighting (done on the first request for events)
    t0, c0 = time.perf_counter(), time.process_time()
    rate = ch.rate(mass=10.0, couplings=cpl, options=opts)
    t_int, c_int = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    ch._prepare(10.0, cpl, opts)
    t_scan, c_scan = time.perf_counter() - t0, time.process_time() - c0
    runs = []
    for rep in range(repeat):  # seeds 1, 2, ...: each a production of n events
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0, c0 = time.perf_counter(), time.process_time()
        ev, rate, stats = ch.generate_with_stats(n, mass=10.0, couplings=cpl, seed=1 + rep, options=opts)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        runs.append((dt, dc, stats["n_trials"], r1.ru_stime - r0.ru_stime, r1.ru_minflt - r0.ru_minflt))
        del ev
    dt, dc, ntrial, _, _ = sorted(runs)[len(runs) // 2]  # the median production
    return {
        "threads": threads,
        "events": n,
        "repeat": repeat,
        "seconds": dt,
        "rate": n / dt,
        "cpu_ns_per_event": dc / n * 1e9,
        "cpu_ns_per_trial": dc / ntrial * 1e9,  # trials = events / unweighting efficiency
        "first_call_rate": n / runs[0][0],
        "rates": [n / r[0] for r in runs],
        # kernel (system) time and minor page faults of each production: the first in a fresh
        # process pays the first touch of its memory, on a VM up to 0.4 s per 150 MB
        "sys_seconds": [r[3] for r in runs],
        "minor_page_faults": [r[4] for r in runs],
        "threading_layer": numba.threading_layer(),  # omp: idle workers spin a while, counted as CPU time
        "vegas_seconds": t_int,
        "vegas_cpu_seconds": c_int,
        "cell_scan_seconds": t_scan,
        "cell_scan_cpu_seconds": c_scan,
        "rate_counts_cell_scan": False,  # the rate is events / generation time (scan timed apart)
        "unweighting_efficiency": stats["efficiency"],  # events per trial
        "overweight_fraction": stats["overweight_fraction"],  # events from trials above their cell maximum (exact)
        "sigma_pb": rate.sigma_pb,
        "options": opts,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--pythia-events", type=int, default=100_000, help="per Pythia process")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="productions of --events each (seeds 1, 2, ...): median")
    ap.add_argument("--stratified-cells", action="store_true", help="32^4 cells, stratified scan (another stream)")
    args = ap.parse_args(argv)
    opts = (
        {"cell_scan": "stratified", "cells_per_dim": 32, "vegas_wmax_points": 1 << 24} if args.stratified_cells else {}
    )
    out = {"machine": machine.describe(), "load_average_start": os.getloadavg(), "cpus": os.cpu_count()}
    out["phiphi_pp2jphiphi"] = bench_ours(args.events, args.threads, opts, args.repeat)
    out["pythia8_hj_hard_process"] = bench_pythia(args.pythia_events, args.threads)
    out["ratio_ours_over_pythia"] = out["phiphi_pp2jphiphi"]["rate"] / out["pythia8_hj_hard_process"]["rate_total"]
    # the first production of the process alone (Pythia's init and first 1000 events are not timed)
    out["ratio_first_call_over_pythia"] = (
        out["phiphi_pp2jphiphi"]["first_call_rate"] / out["pythia8_hj_hard_process"]["rate_total"]
    )
    # CPU time per event (ours: all threads; Pythia: its processes) is the ratio least distorted by load
    out["cpu_ratio_pythia_over_ours"] = (
        out["pythia8_hj_hard_process"]["cpu_ns_per_event"] / out["phiphi_pp2jphiphi"]["cpu_ns_per_event"]
    )
    out["target_ratio"] = 25.0
    out["vegas_target_seconds"] = 1.0
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
