"""The seed's Fig. 4 (left): |C_uu + C_dd| versus m_phi giving Omega h^2 = 0.12, with the region the
Planck CMB bound excludes (s-wave phi phi -> pi pi at recombination).

The coupling direction is (C_uu, C_dd) = S ((1 + R_-)/2, (1 - R_-)/2) (R_- as on the seed's kaon
slide; C_ss = 0, it does not enter below the K Kbar threshold), S = C_uu + C_dd. For each mass the
relic curve is S_relic(m) (:func:`analyses.dm.relic.coupling_for_relic`) and the CMB bound is
S_cmb(m) = S_ref sqrt(p_ann,95 / p_ann(S_ref)) (p_ann is quadratic in S); above it is excluded.

Run: ``python -m analyses.dm.figures --out fig4_left.png [--r-minus 0] [--mmin 0.1 --mmax 0.3 --n 60]``.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from analyses.plotting import hep_style, save_figure

from . import cmb, relic


def direction(r_minus: float) -> dict[str, float]:
    """Couplings with C_uu + C_dd = 1 GeV^-1 and (C_uu - C_dd)/(C_uu + C_dd) = r_minus."""
    return {"CS_uu": 0.5 * (1.0 + r_minus), "CS_dd": 0.5 * (1.0 - r_minus)}


def scan(masses: np.ndarray, r_minus: float = 0.0, target: float = 0.120) -> dict[str, np.ndarray]:
    """S_relic(m) and S_cmb(m) (GeV^-1, project's 1/2 convention) on ``masses`` (GeV); NaN where undefined."""
    d = direction(r_minus)
    s_relic, s_cmb = [], []
    for m in masses:
        try:
            s_relic.append(relic.coupling_for_relic(float(m), d, target))
        except Exception:  # noqa: BLE001 - a mass without open channel is a gap in the curve
            s_relic.append(math.nan)
        pa = cmb.p_ann(float(m), d)["p_ann"]
        s_cmb.append(math.sqrt(cmb.p_ann_limit_95() / pa) if pa > 0 else math.nan)
    return {"mphi": np.asarray(masses, float), "S_relic": np.array(s_relic), "S_cmb": np.array(s_cmb)}


@hep_style
def plot(data: dict[str, np.ndarray], path: str, r_minus: float = 0.0) -> None:
    """Draw the relic curve and the CMB-excluded region; write PNG ``path``."""
    import matplotlib.pyplot as plt

    m = data["mphi"] * 1e3
    fig, ax = plt.subplots(figsize=(8, 6))
    top = np.nanmax(np.concatenate([data["S_relic"], data["S_cmb"]])) * 30
    ok = np.isfinite(data["S_cmb"])
    ax.fill_between(
        m[ok], data["S_cmb"][ok] * 1e3, top * 1e3, color="tab:brown", alpha=0.35,
        label="CMB excluded (Planck 2018, s-wave $\\pi\\pi$)",
    )  # fmt: skip
    ax.plot(m, data["S_relic"] * 1e3, color="c", lw=2.5, label="$\\Omega h^2 = 0.12$ (freeze-out)")
    ax.set_yscale("log")
    ax.set_xlabel("$m_\\phi$ [MeV]")
    ax.set_ylabel("$|C_{u\\phi}^{S,uu} + C_{d\\phi}^{S,dd}|$ [TeV$^{-1}$]")
    ax.set_title(
        f"$R_- = {r_minus:g}$, $C^{{S,ss}} = 0$, L $\\supset \\frac{{1}}{{2}} C \\bar q q \\phi^2$", fontsize=14
    )
    ax.set_ylim(np.nanmin(data["S_relic"]) * 1e3 / 10, top * 1e3)
    ax.legend(fontsize=13, loc="upper right")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    """Command line: compute the scan and write the figure."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--r-minus", type=float, default=0.0)
    ap.add_argument("--mmin", type=float, default=0.10)
    ap.add_argument("--mmax", type=float, default=0.30)
    ap.add_argument("--n", type=int, default=60)
    a = ap.parse_args(argv)
    from . import annihilation as ann

    thresholds = [ann.pdg_mass(111) * (1 + 1e-4), ann.pdg_mass(211) * (1 + 1e-4)]
    masses = np.union1d(np.linspace(a.mmin, a.mmax, a.n), [t for t in thresholds if a.mmin < t < a.mmax])
    data = scan(masses, a.r_minus)
    plot(data, a.out, a.r_minus)
    for mm, sr, sc in zip(data["mphi"], data["S_relic"], data["S_cmb"], strict=True):
        print(f"mphi = {mm * 1e3:7.2f} MeV   S_relic = {sr * 1e3:.4g} /TeV   S_cmb,95 = {sc * 1e3:.4g} /TeV")


if __name__ == "__main__":
    main()
