"""Plots of the Belle II recast (PNG, mplhep Belle II style): the reconstructed spectrum in
the analysis bins and the allowed / excluded parameter versus mass."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evtgen.errors import PhiphiError

from .plotting import check_png, save_figure

# bins of the on-resonance ITA channels A (9), B (3) and of the HTA channel (6), in this order
_BLOCKS = (("ITA region A", 9), ("ITA region B", 3), ("HTA", 6))


def plot_spectrum(lik: Any, result: dict[str, Any], path: str | Path) -> Path:
    """Post-fit yields (at the NP best fit) in the 18 signal-region bins: backgrounds, SM
    B+ -> K+ nu nu at its prediction, the new physics, and the data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep as hep

    from .belle2_bknunu_2023 import NP_SAMPLE, SIGNAL_CHANNELS

    p = check_png(path)
    fl = lik.fast
    pars = result["_best_pars"]
    nu = fl.expected_rows(pars)[0]
    bkg, sm, newp, data = [], [], [], []
    for cname, (_, sig, _) in zip(lik.channels, SIGNAL_CHANNELS):
        sl = lik.model.config.channel_slices[cname]
        nb = sl.stop - sl.start
        tot = np.zeros(nb)
        parts = {}
        for c, s, a, b in fl.samples:
            if c == cname:
                parts[s] = nu[a:b]
                tot += nu[a:b]
        sm.append(parts[sig])
        newp.append(parts[NP_SAMPLE])
        bkg.append(tot - parts[sig] - parts[NP_SAMPLE])
        data.append(lik.main[sl])
    bkg, sm, newp, data = (np.concatenate(x) for x in (bkg, sm, newp, data))
    edges = np.arange(len(data) + 1, dtype=float)
    plt.style.use(hep.style.ROOT)
    fig, ax = plt.subplots(figsize=(10, 6))
    hep.histplot(
        [bkg, sm, newp],
        edges,
        stack=True,
        histtype="fill",
        label=[
            "backgrounds (post-fit)",
            r"SM $B^+\to K^+\nu\bar\nu$ ($\mu=1$)",
            f"new physics ({result['channel']}, best fit)",
        ],
        color=["#b0c4de", "#4682b4", "#d62728"],
        ax=ax,
    )
    ax.errorbar(edges[:-1] + 0.5, data, yerr=np.sqrt(data), fmt="ko", label="data")
    x = 0
    for name, n in _BLOCKS:
        ax.axvline(x, color="grey", lw=0.8)
        ax.text(x + 0.2, 0.94, name, transform=ax.get_xaxis_transform(), fontsize=12)
        x += n
    ax.set_yscale("log")
    ax.set_ylim(None, 20 * float(np.max(data)))
    ax.set_xlabel(r"analysis bin (ITA: $\eta(BDT_2)\times q^2_{rec}$; HTA: classifier bins)")
    ax.set_ylabel("events")
    mass_key = "mphi" if "mphi" in result else "mx"
    ax.set_title(
        f"Belle II $B^+\\to K^+$ + inv., {mass_key} = {result[mass_key]:g} GeV, {result['parameter']} = {result['best_fit']:.3g}",
        fontsize=14,
    )
    ax.legend(fontsize=11, loc="lower left")
    fig.tight_layout()
    save_figure(fig, p)
    return p


def plot_scan(results: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Best fit, 68% / 95% profile-likelihood intervals and the 95% CL CLs upper limit versus mass."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep as hep

    if not results:
        raise PhiphiError("no scan results to plot")
    p = check_png(path)
    results = [r for r in results if r.get("best_fit") is not None]
    if not results:
        raise PhiphiError("no mass point of the scan has sensitivity: nothing to plot")
    key = "mphi" if "mphi" in results[0] else "mx"
    m = np.array([r[key] for r in results])
    i68 = np.array([r["interval_68"] for r in results])
    i95 = np.array([r["interval_95"] for r in results])
    ul = np.array([r["upper_limit_95"] for r in results])
    best = np.array([r["best_fit"] for r in results])
    par = results[0]["parameter"]
    plt.style.use(hep.style.ROOT)
    fig, ax = plt.subplots(figsize=(9, 6))
    # log axis: a lower edge at 0 (interval reaching zero coupling) is drawn at the axis floor
    floor = 0.2 * float(np.min(np.concatenate([i68[:, 1], ul])))
    ax.fill_between(
        m, np.maximum(i95[:, 0], floor), i95[:, 1], color="#ffd92f", label="95% interval (profile likelihood)"
    )
    ax.fill_between(m, np.maximum(i68[:, 0], floor), i68[:, 1], color="#66c2a5", label="68% interval")
    pos = best > floor
    ax.plot(m[pos], best[pos], "ko", ms=4, label="best fit (> 0)")
    ax.plot(m, ul, "r--", lw=1.5, label="95% CL upper limit (CLs)")
    ax.set_ylim(floor, None)
    ax.set_xlabel(r"$m_\phi$ [GeV]" if key == "mphi" else r"$m_X$ [GeV]")
    ax.set_ylabel(r"$|C_{d\phi}^{S,sb}|$ [GeV$^{-1}$]" if par == "CS_sb" else r"$\mathcal{B}(B^+\to K^+X)$")
    ax.set_yscale("log")
    ax.set_title(r"Belle II $B^+\to K^+\nu\bar\nu$ (362 fb$^{-1}$) recast, SM fixed", fontsize=14)
    ax.legend(fontsize=11)
    fig.tight_layout()
    save_figure(fig, p)
    return p
