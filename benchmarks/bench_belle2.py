"""Belle II emulation throughput and recast scan time on this machine.

    python benchmarks/bench_belle2.py [--n 2000000] [--repeat 3] [--points 50] [--pyhf]

Prints: emulated events per second of ``detector.belle2.emulate_columns`` (q2_rec in the c.m.
frame and the ITA/HTA bin draws; events already in memory) and of ``simulate`` (the same plus
attaching the fields to the awkward records); the time of one fit of the released workspace
with the project's likelihood (and, with ``--pyhf``, with pyhf's numpy + minuit for
comparison); then the wall time of a ``points``-point m_phi scan of B+ -> K+ phi phi and an
m_X scan of B+ -> K+ X (folded yields; best fit, 68%/95% intervals and CLs limit per point),
and of one event-level recast point (200k events generated, emulated and fitted).
"""

from __future__ import annotations

import argparse
import time

import awkward as ak
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--points", type=int, default=50)
    ap.add_argument("--pyhf", action="store_true", help="also time pyhf's own fit of the released workspace (~20 s)")
    args = ap.parse_args()

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

    t0 = time.perf_counter()
    b2a._default_likelihood()
    print(f"likelihood with the NP sample built (model + null fit + preconditioning): {time.perf_counter() - t0:.2f} s")
    for name, masses, fn in (
        ("m_phi scan b2kphiphi", np.linspace(0.02, 2.35, args.points), "b2kphiphi"),
        ("m_X scan b2kx", np.linspace(0.0, 4.7, args.points), "b2kx"),
    ):
        t0 = time.perf_counter()
        res = b2a.scan(masses, channel=fn)
        dt = time.perf_counter() - t0
        ok = sum(r.sensitivity for r in res)
        print(f"{name}: {len(masses)} points in {dt:.1f} s ({dt / len(masses):.2f} s/point; {ok} with sensitivity)")
    t0 = time.perf_counter()
    r = b2a.recast(model_point(channel="b2kphiphi", mphi=1.0, seed=1), method="events", n_events=200_000)
    print(
        f"event-level recast point (200k events): {time.perf_counter() - t0:.2f} s; best fit CS_sb = {r.best_fit:.3e}"
    )


if __name__ == "__main__":
    main()
