"""Belle II emulation throughput and recast scan time on this machine.

    python benchmarks/bench_belle2.py [--n 2000000] [--repeat 3] [--points 50] [--pyhf] [--dask-workers 2] [--peer]

Prints: emulated events per second of ``detector.belle2.emulate_columns`` (q2_rec in the c.m.
frame and the ITA/HTA bin draws; events already in memory) and of ``simulate`` (the same plus
attaching the fields to the awkward records); the time of one fit of the released workspace
with the project's likelihood (and, with ``--pyhf``, with pyhf's numpy + minuit for
comparison); then the wall time of a ``points``-point m_phi scan of B+ -> K+ phi phi and an
m_X scan of B+ -> K+ X (folded yields; best fit, 68%/95% intervals and CLs limit per point),
and of one event-level recast point (200k events generated, emulated and fitted).

``--dask-workers N``: the same m_phi scan through the package's scanner (``analyses.scanning.run_scan``,
what ``phiphi scan belle2 --mphi ...`` runs) on a LocalCluster of N workers: cluster start, the scan
on fresh workers (the likelihood built once here and shipped to them) and again on warm workers, with the workers' CPU
time. ``--peer``: the in-process m_phi scan also with the previous optimiser (Newton disabled:
TNC / L-BFGS-B / minuit warm-started from the nearest fitted mu), the peer of the speed-up, in
this run. Every timing line carries the 1-minute load average.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import awkward as ak
import machine
import numpy as np

import evtgen
from analyses import belle2_bknunu_2023 as b2a
from detector import belle2
from evtgen.model import model_point


def best_time(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def scan_timed(masses, channel: str) -> tuple[float, float, list]:
    """Wall and CPU seconds of the in-process scan (one shared likelihood)."""
    t0, c0 = time.perf_counter(), time.process_time()
    res = b2a.scan(masses, channel=channel)
    return time.perf_counter() - t0, time.process_time() - c0, res


def dask_scan(masses, workers: int) -> None:
    """The scanner on a LocalCluster: start, scan on fresh workers, scan on warm workers."""
    from analyses.scanning import run_scan
    from evtgen.parallel import dask_client

    grid = {"mphi": [float(f"{m:.6g}") for m in masses]}
    t0 = time.perf_counter()
    with dask_client(workers=workers) as c, tempfile.TemporaryDirectory() as d:
        print(f"dask: LocalCluster of {workers} workers started in {time.perf_counter() - t0:.1f} s ({load()})")
        for what in ("fresh workers (likelihood shipped from this process)", "warm workers"):
            cpu0 = sum(c.run(time.process_time).values())
            t0 = time.perf_counter()
            rows = run_scan("belle2", grid, output=Path(d) / f"{what[:5]}.csv", cluster={"client": c}, progress=False)
            dt = time.perf_counter() - t0
            cpu = sum(c.run(time.process_time).values()) - cpu0
            bad = sum(1 for r in rows if r.get("error"))
            print(
                f"dask scan b2kphiphi, {what}: {len(rows)} points in {dt:.2f} s = {len(rows) / dt:.1f} points/s; "
                f"workers' CPU {cpu:.2f} s ({cpu / len(rows) * 1e3:.0f} ms/point); {bad} failed ({load()})"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--points", type=int, default=50)
    ap.add_argument("--pyhf", action="store_true", help="also time pyhf's own fit of the released workspace (~20 s)")
    ap.add_argument("--dask-workers", type=int, default=0, help="also time the scan through the scanner on N workers")
    ap.add_argument("--peer", action="store_true", help="also time the scan with the previous optimiser (no Newton)")
    ap.add_argument("--scan-only", action="store_true", help="skip the emulation and event-level timings")
    args = ap.parse_args()
    print(machine.describe(), flush=True)
    print(f"start ({load()})")
    if args.scan_only:
        scans(args)
        return

    ev = evtgen.generate("b2kphiphi", args.n, mphi=1.0, seed=1)
    cols = [ak.to_numpy(x) for x in (ev.q2_true, ev.K.px, ev.K.py, ev.K.pz, ev.K.E)]
    belle2.emulate_columns(*(c[:1000] for c in cols), seed=1)  # compile / load the numba cache
    t = best_time(lambda: belle2.emulate_columns(*cols, seed=1), args.repeat)
    print(f"belle2 emulate_columns: {args.n / t:.3e} events/s ({args.n} events, best of {args.repeat})")
    t = best_time(lambda: belle2.simulate(ev, seed=1), args.repeat)
    print(f"belle2 simulate (awkward in/out): {args.n / t:.3e} events/s")

    t0 = time.perf_counter()
    r = b2a.fit_released()
    print(
        f"released workspace, fast likelihood: mu = {r['mu_hat']:.3f} +- {r['mu_err_hesse']:.3f}, fit + profile + Hessian {time.perf_counter() - t0:.2f} s"
    )
    if args.pyhf:
        import pyhf

        pyhf.set_backend("numpy", "minuit")
        ws = pyhf.Workspace(b2a.load_workspace())
        model = ws.model()
        t0 = time.perf_counter()
        pars = pyhf.infer.mle.fit(ws.data(model), model)
        print(
            f"released workspace, pyhf numpy+minuit: mu = {pars[model.config.poi_index]:.3f}, one fit {time.perf_counter() - t0:.2f} s"
        )

    scans(args)
    t0 = time.perf_counter()
    r = b2a.recast(model_point(channel="b2kphiphi", mphi=1.0, seed=1), method="events", n_events=200_000)
    print(
        f"event-level recast point (200k events): {time.perf_counter() - t0:.2f} s; best fit CS_sb = {r.best_fit:.3e}"
    )


def scans(args) -> None:
    """The recast scans: in process (and with the peer optimiser), then through the scanner on Dask."""
    t0 = time.perf_counter()
    b2a._default_likelihood()
    print(
        f"likelihood with the NP sample built (model + null fit + preconditioning): {time.perf_counter() - t0:.2f} s ({load()})"
    )
    masses = np.linspace(0.02, 2.35, args.points)
    for name, ms, fn in (
        ("m_phi scan b2kphiphi", masses, "b2kphiphi"),
        ("m_X scan b2kx", np.linspace(0.0, 4.7, args.points), "b2kx"),
    ):
        dt, cpu, res = scan_timed(ms, fn)
        ok = sum(r.sensitivity for r in res)
        print(
            f"{name}: {len(ms)} points in {dt:.2f} s ({dt / len(ms) * 1e3:.0f} ms/point, CPU {cpu / len(ms) * 1e3:.0f} ms/point;"
            f" {ok} with sensitivity) ({load()})"
        )
        if fn == "b2kphiphi":
            newton, cpu_newton = res, cpu
    if args.peer:
        from analyses.belle2_likelihood import FastLikelihood

        saved = FastLikelihood.newton_fit
        FastLikelihood.newton_fit = lambda self, *a, **k: None  # every profile fit by TNC/L-BFGS-B/minuit
        try:
            dt_p, cpu_p, res_p = scan_timed(masses, "b2kphiphi")
        finally:
            FastLikelihood.newton_fit = saved
        dev = max(
            abs(a.upper_limit_95 / b.upper_limit_95 - 1)
            for a, b in zip(newton, res_p)
            if a.upper_limit_95 and b.upper_limit_95
        )
        print(
            f"peer (previous optimiser, Newton off) m_phi scan: {len(masses)} points in {dt_p:.2f} s "
            f"({dt_p / len(masses) * 1e3:.0f} ms/point, CPU {cpu_p / len(masses) * 1e3:.0f} ms/point) ({load()}); "
            f"CPU ratio peer/now {cpu_p / cpu_newton:.1f}x; largest relative change of the 95% CL limit {dev:.1e}"
        )
    if args.dask_workers:
        dask_scan(masses, args.dask_workers)


if __name__ == "__main__":
    main()
