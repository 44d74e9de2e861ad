"""Benchmark: UV-model (pp2vlq) events per second next to the EFT generator's (pp2jphiphi).

    python benchmarks/bench_vlq.py [-n N]

Both after a warm-up (numba compiled, integration done): the time of ``generate_with_stats`` for
N parton-level events at the seed's benchmark (M = 3 TeV, y = 1, y1 = 1, m_phi = 1 GeV; EFT with
the matched C^{S,dd}, C^{S,ss}). Printed per group for the UV model (the non-resonant 2→3 group,
computed with a numerical Dirac trace, is by far the slowest).
"""

from __future__ import annotations

import argparse
import time

from evtgen.monojet.channel import PP2JPhiPhi
from evtgen.vlq.channel import PP2VLQ
from evtgen.vlq.uv import matched_C, uv_point

UV = {"mQ": 3000.0, "mD": 3000.0, "yq_d": 1.0, "yq_s": 1.0, "yd_d": 1.0, "yd_s": 1.0, "y1": 1.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20000)
    n = ap.parse_args().n
    c = matched_C(uv_point(UV, 1.0))
    eft = {"CS_dd": c["CS_dd"], "CS_ss": c["CS_ss"]}
    PP2JPhiPhi().generate_with_stats(1000, mass=1.0, couplings=eft, seed=1)
    t = time.perf_counter()
    PP2JPhiPhi().generate_with_stats(n, mass=1.0, couplings=eft, seed=2)
    te = time.perf_counter() - t
    print(f"EFT pp2jphiphi : {n / te:12.0f} events/s  ({n} events, {te:.2f} s)")
    for groups in ("Qphi,Dphi,QQ,DD,QD", "jphiphi"):
        ch = PP2VLQ()
        opt = {"groups": groups}
        ch.generate_with_stats(200, mass=1.0, couplings=UV, seed=1, options=opt)
        m = n if groups != "jphiphi" else max(n // 20, 200)
        t = time.perf_counter()
        ch.generate_with_stats(m, mass=1.0, couplings=UV, seed=2, options=opt)
        tu = time.perf_counter() - t
        print(f"UV pp2vlq [{groups}]: {m / tu:12.0f} events/s  ({m} events, {tu:.2f} s)")


if __name__ == "__main__":
    main()
