"""Derive f_eff of hadronic / partonic phi phi final states from Pythia 8 e+-, gamma spectra.

For each channel and m_phi the pair is put back-to-back at sqrt(s) = 2 m_phi (isotropic direction), Pythia
decays it (pi+-, mu, K+-, K_L, K_S made unstable; neutrons kept) or, for q qbar and g g, fragments the colour
string; the final photons and e+- are folded with Slatyer's f_gamma(E), f_e(E) (:mod:`analyses.dm.cmb`):

    f_eff = sum_events [ sum_gamma E f_gamma(E) + sum_e E f_e(E) ] / (N 2 m_phi)

Pythia is the project's hadronisation/decay dependency (pythia8mc); nothing else provides these spectra.
Regenerate the data file: ``python -m analyses.dm.feff_pythia --out analyses/data/dm/feff_derived_pythia.csv``
(fixed seeds; ~2 minutes).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from . import cmb

#: channel -> (PDG ids of the pair, m_phi grid in GeV); K0 K0bar is K_S K_S + K_L K_L (C = +1), 50% each
GRIDS: dict[str, tuple[tuple[int, int] | None, tuple[float, ...]]] = {
    "KK": ((321, -321), (0.5, 0.6, 0.8, 1.0, 1.2, 1.5)),
    "K0K0": (None, (0.5, 0.6, 0.8, 1.0, 1.2, 1.5)),
    "etaeta": ((221, 221), (0.55, 0.6, 0.8, 1.0, 1.2, 1.5)),
    "pi0eta": ((111, 221), (0.345, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5)),
    "uu": ((2, -2), (1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)),
    "dd": ((1, -1), (1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)),
    "ss": ((3, -3), (1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)),
    "cc": ((4, -4), (2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)),
    "bb": ((5, -5), (5.0, 10.0, 20.0, 50.0, 100.0)),
    "gg": ((21, 21), (1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)),
}


def make_pythia(seed: int = 12345):
    """A Pythia instance for hadron-level decays/fragmentation only."""
    import pythia8mc

    py = pythia8mc.Pythia("", False)
    for s in (
        "ProcessLevel:all = off",
        "HadronLevel:all = on",
        "Print:quiet = on",
        "Random:setSeed = on",
        f"Random:seed = {int(seed)}",
        "211:mayDecay = on",
        "13:mayDecay = on",
        "321:mayDecay = on",
        "130:mayDecay = on",
        "310:mayDecay = on",
        "2112:mayDecay = off",
    ):
        py.readString(s)
    py.init()
    return py


def feff_pair(py, ids: tuple[int, int], mphi: float, n: int = 2000, seed: int = 1) -> tuple[float, float] | None:
    """(f_eff, energy fraction in e+- and gamma) of phi phi -> ids at rest; None below threshold."""
    m1, m2 = py.particleData.m0(ids[0]), py.particleData.m0(ids[1])
    e_cm = 2.0 * mphi
    if e_cm <= m1 + m2:
        return None
    p = math.sqrt((e_cm**2 - (m1 + m2) ** 2) * (e_cm**2 - (m1 - m2) ** 2)) / (2.0 * e_cm)
    rng = np.random.default_rng(seed)
    parton = abs(ids[0]) <= 6 or ids[0] == 21
    dep = tot = 0.0
    for _ in range(n):
        ev = py.event
        ev.reset()
        c = rng.uniform(-1.0, 1.0)
        ph = rng.uniform(0.0, 2.0 * math.pi)
        st = math.sqrt(1.0 - c * c)
        px, py_, pz = p * st * math.cos(ph), p * st * math.sin(ph), p * c
        e1, e2 = math.sqrt(p * p + m1 * m1), math.sqrt(p * p + m2 * m2)
        if parton:
            col = (101, 102, 102, 101) if ids[0] == 21 else (101, 0, 0, 101)
            ev.append(ids[0], 23, 0, 0, 0, 0, col[0], col[1], px, py_, pz, e1, m1)
            ev.append(ids[1], 23, 0, 0, 0, 0, col[2], col[3], -px, -py_, -pz, e2, m2)
        else:
            ev.append(ids[0], 1, 0, 0, px, py_, pz, e1, m1)
            ev.append(ids[1], 1, 0, 0, -px, -py_, -pz, e2, m2)
        py.forceHadronLevel()  # its return flag is False without a process record; the event is complete
        eg, ee = [], []
        for j in range(ev.size()):
            q = ev[j]
            if q.isFinal():
                if q.id() == 22:
                    eg.append(q.e())
                elif abs(q.id()) == 11:
                    ee.append(q.e())
        eg_a, ee_a = np.array(eg), np.array(ee)
        dep += float(np.sum(eg_a * cmb.f_gamma(eg_a)) + np.sum(ee_a * cmb.f_e(ee_a)))
        tot += float(eg_a.sum() + ee_a.sum())
    return dep / (n * e_cm), tot / (n * e_cm)


def main(argv: list[str] | None = None) -> None:
    """Write the derived f_eff table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--events", type=int, default=2000)
    args = ap.parse_args(argv)
    py = make_pythia()
    with open(args.out, "w") as fh:
        fh.write(
            "# DERIVED (not published): f_eff of phi phi -> channel at rest, Slatyer arXiv:1506.03811 Fig. 3 "
            "f_e, f_gamma\n# folded with Pythia 8 e+-/gamma spectra (analyses/dm/feff_pythia.py; "
            f"{args.events} events per point, stat. ~1%).\n"
            "# energy_fraction_e_gamma: fraction of 2 m_phi carried by e+- and photons (the rest: neutrinos, "
            "nucleons).\nchannel,mphi_GeV,f_eff,energy_fraction_e_gamma\n"
        )
        for ch, (ids, masses) in GRIDS.items():
            for m in masses:
                if ids is None:
                    a = feff_pair(py, (310, 310), m, args.events // 2)
                    b = feff_pair(py, (130, 130), m, args.events // 2)
                    r = None if a is None or b is None else (0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1]))
                else:
                    r = feff_pair(py, ids, m, args.events)
                if r is not None:
                    fh.write(f"{ch},{m},{r[0]:.4f},{r[1]:.4f}\n")


if __name__ == "__main__":
    main()
