"""Benchmark: UV-model (pp2vlq) events per second per group family next to the EFT generator's
(pp2jphiphi), in the same run, with the load average beside every number.

    python benchmarks/bench_vlq.py [-n N]

All after a warm-up (numba compiled, integration done): the time of ``generate_with_stats`` for
N parton-level events per group family at the seed's benchmark
(m_Q = m_D = 3 TeV, y_q^{d,s} = y_d^{d,s} = 1, y₁ = 1, m_φ = 1 GeV; EFT with the matched C^{S,dd},
C^{S,ss} of the same point), and, for the 2→3 |M|², the closed-form helicity amplitudes
(:func:`evtgen.vlq.kernels.w_23`, production) against the former numerical Dirac traces
(:func:`evtgen.vlq.reference.amp2_qg_qphiphi`) on the same phase-space points (single thread).
"""

from __future__ import annotations

import argparse
import os
import time

import machine
import numba as nb
import numpy as np

from evtgen.models.tchannel import tchannel_point, to_eft
from evtgen.monojet.channel import PP2JPhiPhi
from evtgen.vlq import kernels as K
from evtgen.vlq import reference as R
from evtgen.vlq.channel import PP2VLQ
from evtgen.vlq.generator import GROUPS

UV = tchannel_point(m_Q=3000.0, m_D=3000.0, m_phi=1.0, y_q=(1.0, 1.0, 0.0), y_d=(1.0, 1.0, 0.0), y1=1.0)


def _load() -> str:
    a, b, c = os.getloadavg()
    return f"load {a:.2f} {b:.2f} {c:.2f}"


@nb.njit(cache=True)
def _loop_new(n, p1, pg, p3, k1, k2, ul, ur, m, gam):
    buf = np.empty((2, 4), dtype=np.complex128)
    w = np.empty(4)
    acc = 0.0
    for _ in range(n):
        K.w_23(p1, pg, p3, p3, k1, k2, ul, ur, m, gam, buf, w)
        acc += w[0] + w[1] + w[2] + w[3]
    return acc


@nb.njit(cache=True)
def _loop_ref(n, p1, pg, p3, k1, k2, mm, yin, yout):
    G = R.gammas()
    acc = 0.0
    for _ in range(n):
        acc += R.amp2_qg_qphiphi(G, p1, pg, p3, k1, k2, mm, np.zeros(2), yin, yout, 0.0)
    return acc


def kernel_speed(n: int = 20000) -> tuple[float, float]:
    """(helicity-amplitude sets/s, reference Dirac-trace |M|²/s) at one 2→3 point, one thread.
    One helicity set serves every flavour row of a sector; the reference needs one call per row."""
    from evtgen.models.tchannel import down_mass_matrix, heavy_down_states

    p1 = np.array([1000.0, 0, 0, 1000.0])
    pg = np.array([1000.0, 0, 0, -1000.0])
    p3 = np.array([800.0, 300.0, 0.0, np.sqrt(800.0**2 - 300.0**2)])
    k1 = np.array([600.0, -200.0, 100.0, -500.0])
    k1[0] = np.sqrt(1.0 + (k1[1:] ** 2).sum())
    k2 = p1 + pg - p3 - k1
    m, ul, ur = heavy_down_states(UV)
    mm = down_mass_matrix(UV)
    y = np.array([1.0 + 0j, 1.0 + 0j])
    _loop_new(10, p1, pg, p3, k1, k2, ul, ur, m, np.zeros(2))
    _loop_ref(10, p1, pg, p3, k1, k2, mm, y, y)
    t = time.perf_counter()
    _loop_new(n, p1, pg, p3, k1, k2, ul, ur, m, np.zeros(2))
    tn = time.perf_counter() - t
    nr = max(n // 50, 100)
    t = time.perf_counter()
    _loop_ref(nr, p1, pg, p3, k1, k2, mm, y, y)
    tr = time.perf_counter() - t
    return n / tn, nr / tr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20000)
    n = ap.parse_args().n
    print(machine.describe(), flush=True)
    c = to_eft(UV)
    eft = {"CS_dd": c["CS_dd"], "CS_ss": c["CS_ss"]}
    print(f"threads {nb.get_num_threads()}, {_load()}")
    PP2JPhiPhi().generate_with_stats(1000, mass=1.0, couplings=eft, seed=1)
    t = time.perf_counter()
    PP2JPhiPhi().generate_with_stats(n, mass=1.0, couplings=eft, seed=2)
    te = time.perf_counter() - t
    print(f"EFT pp2jphiphi      : {n / te:12.0f} events/s  ({n} events, {te:.2f} s; {_load()})")
    for fam in GROUPS:
        ch = PP2VLQ()
        opt = {"groups": fam, "uv": UV}
        ch.generate_with_stats(200, mass=1.0, seed=1, options=opt)
        m = n
        t = time.perf_counter()
        _, _, stats = ch.generate_with_stats(m, mass=1.0, seed=2, options=opt)
        tu = time.perf_counter() - t
        eff = ", ".join(f"{k} eff {v['efficiency']:.3f}" for k, v in stats.items())
        print(f"UV pp2vlq {fam:9s} : {m / tu:12.0f} events/s  ({m} events, {tu:.2f} s; {eff}; {_load()})")
    hel, ref = kernel_speed()
    print(f"2->3 |M|^2, 1 thread: helicity amplitudes {hel:10.0f}/s, reference Dirac traces {ref:8.0f}/s ({_load()})")


if __name__ == "__main__":
    main()
