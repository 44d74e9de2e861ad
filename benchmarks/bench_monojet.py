"""Benchmark: unweighted pp -> j + phi phi events per second vs Pythia 8's H + jet hard process.

    python benchmarks/bench_monojet.py [--events 500000] [--pythia-events 100000] [--threads 2]

Ours: numba with ``--threads`` threads (default 2), events after the (separately timed) VEGAS
integration and cell scan, in memory (no file writing).
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
import time


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
    t0 = time.perf_counter()
    for _ in range(n):
        py.next()
    q.put((n, time.perf_counter() - t0))


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
    }


def bench_ours(n: int, threads: int) -> dict:
    import numba

    numba.set_num_threads(threads)
    from evtgen.monojet.channel import PP2JPhiPhi

    ch = PP2JPhiPhi()
    cpl = {"CG": 1e-6}
    ch.generate(2000, mass=10.0, couplings=cpl, seed=0)  # compile + integrate (cached)
    from evtgen.monojet.channel import _integrate_cached

    _integrate_cached.cache_clear()
    t0 = time.perf_counter()
    ch.rate(mass=10.0, couplings=cpl, options={})
    t_int = time.perf_counter() - t0
    t0 = time.perf_counter()
    ev, rate, stats = ch.generate_with_stats(n, mass=10.0, couplings=cpl, seed=1)
    dt = time.perf_counter() - t0
    return {
        "threads": threads,
        "events": n,
        "seconds": dt,
        "rate": n / dt,
        "integration_seconds": t_int,
        "unweighting_efficiency": stats["efficiency"],
        "overweight_fraction": stats["overweight_fraction"],
        "sigma_pb": rate.sigma_pb,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--pythia-events", type=int, default=100_000, help="per Pythia process")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    out = {"load_average_start": os.getloadavg(), "cpus": os.cpu_count()}
    out["phiphi_pp2jphiphi"] = bench_ours(args.events, args.threads)
    out["pythia8_hj_hard_process"] = bench_pythia(args.pythia_events, args.threads)
    out["ratio_ours_over_pythia"] = out["phiphi_pp2jphiphi"]["rate"] / out["pythia8_hj_hard_process"]["rate_total"]
    out["target_ratio"] = 10.0
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
