"""Events per second of the decay samplers (1 and 2 numba threads) against `phasespace`
(zfit, TensorFlow) in the same run, and the floor of the sampler on this machine.

    python benchmarks/bench_evtgen.py [--n 2000000] [--repeat 5]
    python benchmarks/bench_evtgen.py --cold-compile      # first-call compile time, empty numba cache

Ours: ``evtgen.generate`` (unweighted, matrix element, Belle II / NA62 lab frame, awkward
records out; the rate is computed once per point and cached, as in any scan). Peer:
``phasespace`` B+ -> K+ phi phi, flat three-body phase space in the B rest frame, weighted
(strictly less work per event). phasespace is an optional extra: pip install "phiphi[benchmark]".

The machine is shared: the load average is printed at the start and the end, every rate is
the median of ``repeat`` timings with the spread (min-max) beside it, and the CPU time per
event (all threads of this process, so independent of how long other processes held the
cores) is printed next to the wall-clock rate. The floor: micro-kernels
(``benchmarks/floor.py``) price a uniform draw, sqrt, division, log/exp/cos/cbrt, a
rejected accept-reject try and a float64 written to warm or fresh memory, as the sampler executes
them (SIMD across events where it is, scalar where it is not); the sampler's operation counts
turn them into a lower bound per event, compared with the measured CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing

import floor  # noqa: E402
import machine  # noqa: E402

import evtgen  # noqa: E402
from evtgen import sampler, spectra  # noqa: E402
from evtgen.decays import DECAY_CHANNELS, OutputPool  # noqa: E402

MASSES = {
    "b2kphiphi": 1.0,
    "b2kstarphiphi": 1.0,
    "k2piphiphi": 0.1,
    "b2kx": 1.0,
    "k2pix": 0.135,
    "b2knunu": None,
    "k2pinunu": None,
}
TARGET_B2KPHIPHI_RATIO = 10.0
TARGET_OTHER_RATE = 2e7


def timings(fn, n: int, repeat: int, sys_ns: list[float] | None = None) -> tuple[list[float], list[float]]:
    """(wall rates, CPU ns per event) of ``repeat`` runs after a full-size warm-up (compiles,
    and makes the VM back the guest memory the timed runs touch, for us and the peer alike).
    ``sys_ns``: gets the system CPU ns per event of each run appended (the OS's share: page
    faults, zeroing of fresh pages, unmapping)."""
    fn(n)
    rates, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        s = resource.getrusage(resource.RUSAGE_SELF).ru_stime
        fn(n)
        rates.append(n / (time.perf_counter() - t))
        cpu.append((time.process_time() - c) / n * 1e9)
        if sys_ns is not None:
            sys_ns.append((resource.getrusage(resource.RUSAGE_SELF).ru_stime - s) / n * 1e9)
    return rates, cpu


def fmt(rates: list[float]) -> str:
    return f"{statistics.median(rates):.3e} [{min(rates):.2e}-{max(rates):.2e}]"


def ours(name: str, threads: int, frame: str = "lab", pool: OutputPool | None = None):
    """``evtgen.generate`` of ``name``, each result dropped before the next call. Without a pool
    every call writes fresh memory (page faults, as a plain call or a program keeping its events
    does); with the caller's ``OutputPool`` a call reuses the memory of the previous result (a
    loop over chunks that passes ``pool=``)."""
    ch = DECAY_CHANNELS[name]
    kw = {ch.mass_option: MASSES[name]} if ch.mass_option else {}
    if pool is not None:
        kw["pool"] = pool

    def run(n):
        numba.set_num_threads(threads)
        return evtgen.generate(name, n, seed=1, frame=frame, **kw)

    return run


def phasespace_peer():
    import phasespace

    from evtgen import constants as C

    gen = phasespace.nbody_decay(C.mass("B+"), [C.mass("K+"), 1.0, 1.0])

    def run(n):
        weights, particles = gen.generate(n_events=n)
        return float(np.asarray(weights)[0]), np.asarray(particles["p_0"])[0, 0]

    return run


def q2_efficiency(name: str) -> float:
    """Acceptance of the q2 accept-reject: integral of dGamma/dq2 over the envelope's area."""
    ch = DECAY_CHANNELS[name]
    if ch.topology == sampler.TWO_BODY:
        return 1.0
    m = MASSES[name]
    par = ch.spectrum_par(ch.check_mass(m), ch.resolve_couplings(None))
    lo, hi = ch.q2_limits(m)
    edges, heights = sampler.build_envelope(ch.kind, par, lo, hi)
    return spectra.integrate(ch.kind, par) / float(np.sum(heights * np.diff(edges)))


_COLD = """
import os, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import evtgen
from evtgen.decays import DECAY_CHANNELS
masses = {masses!r}
print(f"  import evtgen {{time.perf_counter() - t0:6.1f}} s", flush=True)
for name in DECAY_CHANNELS:
    ch = DECAY_CHANNELS[name]
    kw = {{ch.mass_option: masses[name]}} if ch.mass_option else {{}}
    for frame in ("lab", "rest"):
        t, c = time.perf_counter(), time.process_time()
        evtgen.generate(name, 1000, seed=1, frame=frame, **kw)
        print(f"  {{name:<15}}{{frame:<6}}first call {{time.perf_counter() - t:6.1f}} s wall {{time.process_time() - c:6.1f}} s CPU",
              flush=True)
print(f"  all channels and frames: {{time.perf_counter() - t0:.1f}} s wall, {{time.process_time() - c0:.1f}} s CPU")
"""


def cold_compile() -> None:
    """First call of every channel and frame in a fresh process with an empty numba cache
    (each (topology, spectrum, frame) kernel compiles at its first use; later runs load it)."""
    print(f"cold compile, empty NUMBA_CACHE_DIR; load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        subprocess.run([sys.executable, "-c", _COLD.format(masses=MASSES)], env=env, check=True)
    print(f"load average at end: {os.getloadavg()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold-compile", action="store_true", help="time the first compilation instead (empty cache)")
    args = ap.parse_args()
    if args.cold_compile:
        cold_compile()
        return
    max_threads = numba.config.NUMBA_NUM_THREADS
    two = min(2, max_threads)
    print(machine.describe(), flush=True)
    print(f"load average at start: {os.getloadavg()}; cpus {os.cpu_count()}; numba threads {max_threads}")
    print(f"events per timing: {args.n:,}; median of {args.repeat} [min-max]")

    cost = floor.measure()
    print("\nfloor micro-kernels (one thread, CPU time):")
    for k, v in cost.items():
        print(f"  {k:<22}{v:8.3f} ns")

    print(
        f"\n{'channel':<15}{'1 thread ev/s':>32}{'CPU ns/ev':>10}{f'{two} threads ev/s':>34}{'CPU ns/ev':>10}"
        f"{f'{two} threads, pool= ev/s':>34}{'CPU ns/ev':>10}"
    )
    results, pooled, cpu1, cpu1_pool, sys_split = {}, {}, {}, {}, {}
    for name in DECAY_CHANNELS:
        s2, sp = [], []
        r1, c1 = timings(ours(name, 1), args.n, args.repeat)
        r2, c2 = timings(ours(name, two), args.n, args.repeat, s2)
        rp, cp = timings(ours(name, two, pool=OutputPool()), args.n, args.repeat, sp)
        # the floor table's measured column: the median of ``repeat`` runs like every other column (it was one run)
        _, c1p = timings(ours(name, 1, pool=OutputPool()), args.n, args.repeat)
        results[name], pooled[name], cpu1[name], cpu1_pool[name] = r2, rp, statistics.median(c1), statistics.median(c1p)
        sys_split[name] = (statistics.median(c2), statistics.median(s2), statistics.median(cp), statistics.median(sp))
        print(
            f"{name:<15}{fmt(r1):>32}{cpu1[name]:>10.1f}{fmt(r2):>34}{statistics.median(c2):>10.1f}"
            f"{fmt(rp):>34}{statistics.median(cp):>10.1f}"
        )
    rest, _ = timings(ours("b2kphiphi", two, "rest"), args.n, args.repeat)
    print(f"{'b2kphiphi rest':<15}{'':>42}{fmt(rest):>34}")
    print("  (without a pool each call writes fresh memory, with page faults: a plain evtgen.generate call;")
    print("   pool=: the caller's evtgen.decays.OutputPool, each result dropped before the next call, as a")
    print("   loop over chunks does: the memory of the previous result is reused)")
    print(f"\nplain call vs pool= ({two} threads, CPU ns/ev): the difference and the system (OS) time of each")
    for name, (c2, s2, cp, sp) in sys_split.items():
        print(f"  {name:<15}plain - pool {c2 - cp:6.1f}   system time: plain {s2:6.1f}, pool {sp:5.1f}")
    print("  (the system time of a plain call is the OS zeroing the fresh output pages, 2 MB transparent huge")
    print(
        "   pages: numpy advises them for arrays >= 4 MB; 4 kB pages cost ~4x more on the AMD EPYC host of 2026-12-02)"
    )

    print("\nfloor per event (ns, one core; reused (warm) output memory) vs the measured CPU time per event (pool=):")
    print(
        f"{'channel':<15}{'eps_q2':>7}{'u/ev':>6}{'rng':>7}{'sqrt,/':>8}{'log..':>7}{'scalar':>8}{'memory':>8}"
        f"{'floor':>7}{'measured':>10}{'ratio':>7}"
    )
    for name in DECAY_CHANNELS:
        eps = q2_efficiency(name)
        f = floor.floor_ns(name, cost, eps, fresh_memory=False)
        print(
            f"{name:<15}{eps:>7.3f}{f['uniforms_per_event']:>6.1f}{f['rng']:>7.1f}{f['sqrt_div']:>8.1f}"
            f"{f['other_transcendental']:>7.1f}{f['scalar']:>8.1f}{f['memory']:>8.1f}{f['total']:>7.1f}"
            f"{cpu1_pool[name]:>10.1f}{cpu1_pool[name] / f['total']:>7.2f}"
        )
    print(
        "  (floor: SIMD throughput of uniforms, sqrt, division and the own log/exp/cos; scalar cost of the q2 envelope"
    )
    print(
        f"   look-up ({cost['q2_lookup']:.1f} ns per try) and of each retry of a rejected try ({cost['rejection']:.1f} ns);"
    )
    print("   everything else overlapped for free)")

    for label, rates in (("plain calls", results), ("pool=", pooled)):
        low = [n for n in DECAY_CHANNELS if n != "b2kphiphi" and statistics.median(rates[n]) < TARGET_OTHER_RATE]
        print(f"channels below {TARGET_OTHER_RATE:.0e} ev/s on {two} threads ({label}): {', '.join(low) or 'none'}")
    try:
        peer, peer_cpu = timings(phasespace_peer(), args.n, args.repeat)
    except ImportError:
        print("phasespace not installed (pip install 'phiphi[benchmark]'): no peer comparison")
        return
    print(
        f"{'phasespace':<15}{'rest':<6}{fmt(peer):>36}   CPU {statistics.median(peer_cpu):.1f} ns/ev "
        "(flat phase space, weighted, TensorFlow CPU)"
    )
    for label, rates in (("plain calls", results), ("pool=", pooled)):
        ratios = [a / b for a, b in zip(rates["b2kphiphi"], peer)]
        print(
            f"ratio b2kphiphi lab / phasespace (wall, paired timings, {label}): median {statistics.median(ratios):.1f}x "
            f"[{min(ratios):.1f}-{max(ratios):.1f}] (target >= {TARGET_B2KPHIPHI_RATIO:.0f}x)"
        )
    print(f"ratio b2kphiphi rest / phasespace: {statistics.median(rest) / statistics.median(peer):.1f}x")
    print(
        f"ratio of CPU time per event, phasespace / b2kphiphi lab (1 thread): "
        f"{statistics.median(peer_cpu) / cpu1['b2kphiphi']:.1f}x"
    )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
