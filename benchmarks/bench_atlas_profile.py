"""Where the time of the ATLAS emulation goes: the Python/awkward work around the kernel
(jets_from_events, output allocation, record building) against the numba kernel, on the
inputs of ``benchmarks/bench_detector.py`` (parton-level and showered), with 1 and 2 threads.

    python benchmarks/bench_atlas_profile.py [--n 2000000] [--repeat 5] [--baseline OLD_ATLAS.py [--alternate 15]]

``--baseline``: a former detector/atlas.py (e.g. ``git show a9685a1:detector/atlas.py >
/tmp/atlas_before.py``; a path outside the repository: its numba cache goes beside it) timed in
the same run (kernel and simulate), for before/after ratios. Both modules are compiled into their
numba caches by a subprocess first and loaded from there (code compiled in the timing process
itself ran 4-20% slower than the same code from the cache, which biased earlier ratios).
``--alternate R``: with ``--baseline``, R rounds of old and new calls alternated one after the
other (kernel on warm outputs, 1 thread; plain ``simulate``, 1 and 2 threads): median CPU ns per event of
each and the median of the per-round ratios new/old (on a shared machine the paired ratio is the
number to quote: both sides of a round see the same load).

Every line: median wall events/s over ``--repeat`` runs and median CPU ns per event (the
machine is shared: compare lines of the same run; the load average is printed at start and
end). ``libm`` lines time the transcendental calls of the kernel alone on 2e6 arguments.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numba as nb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, when not installed
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_detector  # noqa: E402
from bench_detector import parton_jets, showered_jets  # noqa: E402

from detector import atlas  # noqa: E402


def timed(fn, n: int, repeat: int) -> tuple[float, float]:
    """(median events/s, median CPU ns per event) of ``repeat`` calls after one warm call."""
    rate, _, _, cpu = bench_detector.timed(fn, n, repeat)
    return rate, cpu


def show(label: str, r: tuple[float, float]) -> None:
    print(f"  {label:<62} {r[0]:10.3e} ev/s  {r[1]:7.1f} CPU ns/ev", flush=True)


@nb.njit(cache=True)
def _libm(x, which):
    s = 0.0
    for i in range(x.shape[0]):
        if which == 0:
            s += np.log1p(x[i])
        elif which == 1:
            s += np.exp(x[i])
        elif which == 2:
            s += np.sqrt(x[i])
        else:
            s += np.arcsinh(x[i])
    return s


def cpu_ns(fn, n: int) -> float:
    """CPU ns per event of one call."""
    c = time.process_time()
    fn()
    return 1e9 * (time.process_time() - c) / n


def alternate(base, partons, card, key, rounds: int) -> None:
    """Old (``base``) and new :mod:`detector.atlas` called alternately, ``rounds`` times: median CPU
    ns/event of each and the median paired ratio new/old, for the kernel on warm outputs (1 thread)
    and the plain ``simulate`` (1 and 2 threads)."""
    n = len(partons)
    cols = atlas.jets_from_events(partons, card)
    par, res, edges = atlas.parameters(card)
    flt, ints = np.empty((4, n)), np.empty((2, n), np.int16)
    flags, jets = np.empty((2, n), np.bool_), np.empty((4, 1, n))
    cases = []
    for tag, mod in (("old", base), ("new", atlas)):

        def kern(mod=mod):
            mod.emulate_kernel(*cols, par, res, edges, key[0], key[1], 0, flt, ints, flags, jets)

        cases.append((f"{tag} kernel, warm outputs, 1 thread", 1, kern))
    for t in (1, 2):
        for tag, mod in (("old", base), ("new", atlas)):
            cases.append(
                (f"{tag} simulate(events), plain call, {t} thread(s)", t, lambda mod=mod: mod.simulate(partons))
            )
    print(f"old/new alternated, {rounds} rounds of {n} parton-level events")
    for i in range(0, len(cases), 2):
        (l_old, t, f_old), (l_new, _, f_new) = cases[i], cases[i + 1]
        nb.set_num_threads(t)
        f_old(), f_new()  # warm
        old, new = [], []
        for _ in range(rounds):
            old.append(cpu_ns(f_old, n))
            new.append(cpu_ns(f_new, n))
        ratio = np.median(np.array(new) / np.array(old))
        print(f"  {l_old:<50} {np.median(old):7.1f} CPU ns/ev [{min(old):.1f}-{max(old):.1f}]", flush=True)
        print(f"  {l_new:<50} {np.median(new):7.1f} CPU ns/ev [{min(new):.1f}-{max(new):.1f}]", flush=True)
        print(
            f"  paired ratio new/old (median of {rounds}) {ratio:.3f}, ratio of the minima {min(new) / min(old):.3f}"
            f" (load only adds time: the minima are the least disturbed calls); load {os.getloadavg()}",
            flush=True,
        )


def warm_numba_cache(path: str | None) -> None:
    """Compile detector/atlas.py (``path`` None) or the file ``path`` into its numba cache in a
    subprocess: the same code compiled in the timing process ran 4-20% slower here than loaded
    from the cache (the identical file both ways, alternated), which would bias old/new ratios."""
    subprocess.run([sys.executable, __file__, "--compile-only", path or ""], check=True)


def baseline_module(path: str):
    """A former detector/atlas.py as a module named after the file (its numba cache beside the file)."""
    warm_numba_cache(path)
    return _file_module(path)


def _file_module(path: str):
    # the module of a file, named after it (numba's cache records the module name)
    import importlib.util

    name = Path(path).stem
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def compile_only(path: str) -> None:
    """Every signature the benchmark calls, on a few events (fills the numba cache)."""
    mod = _file_module(path) if path else atlas
    card = mod.packaged_card()
    par, res, edges = mod.parameters(card)
    key = mod.detector_key(1)
    for ev in (parton_jets(3000, 1), showered_jets(300, 2)):
        mod.simulate(ev)
        cols = mod.jets_from_events(ev, card)
        m, k_out = len(ev), min(mod.NJ, cols[0].shape[1])
        out = (np.empty((4, m)), np.empty((2, m), np.int16), np.empty((2, m), np.bool_), np.empty((4, k_out, m)))
        mod.emulate_kernel(*cols, par, res, edges, key[0], key[1], 0, *out)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--compile-only":
        compile_only(sys.argv[2])
        return
    warm_numba_cache(None)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", default=None, help="a former detector/atlas.py to time beside the current one")
    ap.add_argument("--alternate", type=int, default=0, help="rounds of old/new alternation (with --baseline)")
    args = ap.parse_args()
    n, rep = args.n, args.repeat
    print(f"load average at start: {os.getloadavg()}; numba threads {nb.config.NUMBA_NUM_THREADS}")
    partons = parton_jets(n, 1)
    showered = showered_jets(max(n // 10, 1), 2)
    card = atlas.packaged_card()
    par, res, edges = atlas.parameters(card)
    key = atlas.detector_key(1)
    x = np.random.default_rng(3).uniform(1e-4, 1e-2, n)
    mods = {"": atlas}
    if args.baseline:
        mods["baseline "] = baseline_module(args.baseline)
    if args.alternate and args.baseline:
        alternate(mods["baseline "], partons, card, key, args.alternate)
        print(f"load average at end: {os.getloadavg()}")
        return
    print("libm calls alone (1 thread, one per event)")
    for w, name in enumerate(("log1p", "exp", "sqrt", "arcsinh")):
        show(name, timed(lambda w=w: _libm(x, w), n, rep))
    for label, ev in (("parton-level", partons), ("showered 0-6 jets", showered)):
        m = len(ev)
        print(f"ATLAS {label}, {m} events")
        show("jets_from_events", timed(lambda ev=ev: atlas.jets_from_events(ev, card), m, rep))
        cols = atlas.jets_from_events(ev, card)
        k_out = min(atlas.NJ, cols[0].shape[1])
        flt, ints = np.empty((4, m)), np.empty((2, m), np.int16)
        flags, jets = np.empty((2, m), np.bool_), np.empty((4, k_out, m))
        for t in (1, 2):
            nb.set_num_threads(t)
            for tag, mod in mods.items():

                def kern(cols=cols, flt=flt, ints=ints, flags=flags, jets=jets, mod=mod):
                    mod.emulate_kernel(*cols, par, res, edges, key[0], key[1], 0, flt, ints, flags, jets)

                show(f"{tag}kernel on prepared columns, warm outputs, {t} thread(s)", timed(kern, m, rep))

                def kern_fresh(cols=cols, m=m, k_out=k_out, mod=mod):
                    f, i = np.empty((4, m)), np.empty((2, m), np.int16)
                    fl, j = np.empty((2, m), np.bool_), np.empty((4, k_out, m))
                    mod.emulate_kernel(*cols, par, res, edges, key[0], key[1], 0, f, i, fl, j)

                show(f"{tag}kernel, fresh np.empty outputs, {t} thread(s)", timed(kern_fresh, m, rep))
                show(f"{tag}simulate(events), {t} thread(s)", timed(lambda ev=ev, mod=mod: mod.simulate(ev), m, rep))
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
