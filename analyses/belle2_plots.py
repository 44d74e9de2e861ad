"""Plots of the Belle II recast (PNG, mplhep ROOT style), read from the common
:class:`analyses.result.Result`: the signal regions (``Result.histograms``), the allowed /
excluded parameter versus mass, and the B+ -> K+ X local significance versus m_X."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evtgen.errors import PhiphiError

from .plotting import check_png, hep_style, save_figure

_REGIONS = (("ita_A", "ITA region A"), ("ita_B", "ITA region B"), ("hta", "HTA"))


@hep_style
def plot_spectrum(result: Any, path: str | Path) -> Path:
    """Post-fit yields (at the NP best fit) in the 18 signal-region bins, read from
    ``result.histograms``: backgrounds, SM B+ -> K+ nu nu at its prediction, the new
    physics, and the data."""
    import matplotlib.pyplot as plt
    import mplhep as hep

    p = check_png(path)
    h = result.histograms
    if not h:
        raise PhiphiError("the result carries no signal-region histograms (no sensitivity?)")

    def flat(comp: str) -> np.ndarray:
        return np.concatenate([h[f"{r}:{comp}"].values().ravel() for r, _ in _REGIONS])

    bkg, sm, newp, data = (flat(c) for c in ("background", "sm", "new_physics", "data"))
    edges = np.arange(len(data) + 1, dtype=float)
    fig, ax = plt.subplots(figsize=(10, 6))
    hep.histplot(
        [bkg, sm, newp],
        edges,
        stack=True,
        histtype="fill",
        label=[
            "backgrounds (post-fit)",
            r"SM $B^+\to K^+\nu\bar\nu$ ($\mu=1$)",
            f"new physics ({result.channel}, best fit)",
        ],
        color=["#b0c4de", "#4682b4", "#d62728"],
        ax=ax,
    )
    ax.errorbar(edges[:-1] + 0.5, data, yerr=np.sqrt(data), fmt="ko", label="data")
    x = 0
    for r, name in _REGIONS:
        ax.axvline(x, color="grey", lw=0.8)
        ax.text(x + 0.2, 0.94, name, transform=ax.get_xaxis_transform(), fontsize=12)
        x += h[f"{r}:data"].values().size
    ax.set_yscale("log")
    ax.set_ylim(None, 20 * float(np.max(data)))
    ax.set_xlabel(r"analysis bin (ITA: $\eta(BDT_2)\times q^2_{rec}$; HTA: classifier bins)")
    ax.set_ylabel("events")
    ((mk, mv),) = result.masses.items()
    best = "none" if result.best_fit is None else f"{result.best_fit:.3g}"
    ax.set_title(f"Belle II $B^+\\to K^+$ + inv., {mk} = {mv:g} GeV, {result.parameter} = {best}", fontsize=14)
    ax.legend(fontsize=11, loc="lower left")
    fig.tight_layout()
    return save_figure(fig, p)


@hep_style
def plot_scan(results: Sequence[Any], path: str | Path, *, title: str | None = None) -> Path:
    """Best fit, 68% / 95% profile-likelihood intervals and the 95% CL upper limit versus
    mass, from a list of :class:`~analyses.result.Result`."""
    import matplotlib.pyplot as plt

    if not results:
        raise PhiphiError("no scan results to plot")
    p = check_png(path)
    results = [r for r in results if r.sensitivity and r.upper_limit_95 is not None]
    if not results:
        raise PhiphiError("no mass point of the scan has sensitivity: nothing to plot")
    key = next(iter(results[0].masses))
    m = np.array([r.masses[key] for r in results])
    ul = np.array([r.upper_limit_95 for r in results])
    par = results[0].parameter
    fig, ax = plt.subplots(figsize=(9, 6))
    floor = 0.2 * float(np.min(ul))
    if all(r.interval_95 is not None and r.best_fit is not None for r in results):
        i68 = np.array([r.interval_68 for r in results])
        i95 = np.array([r.interval_95 for r in results])
        best = np.array([r.best_fit for r in results])
        floor = 0.2 * float(np.min(np.concatenate([i68[:, 1], ul])))
        ax.fill_between(m, np.maximum(i95[:, 0], floor), i95[:, 1], color="#ffd92f", label="95% interval")
        ax.fill_between(m, np.maximum(i68[:, 0], floor), i68[:, 1], color="#66c2a5", label="68% interval")
        pos = best > floor
        ax.plot(m[pos], best[pos], "ko", ms=4, label="best fit (> 0)")
    ax.plot(m, ul, "r--", lw=1.5, label=f"95% CL upper limit ({results[0].limit_method})")
    ax.set_ylim(floor, None)
    ax.set_xlabel(r"$m_\phi$ [GeV]" if key == "mphi" else r"$m_X$ [GeV]")
    labels = {
        "CS_sb": r"$|C_{d\phi}^{S,sb}|$ [GeV$^{-1}$]",
        "CP_sb": r"$|C_{d\phi}^{P,sb}|$ [GeV$^{-1}$]",
        "br": r"$\mathcal{B}(B\to K^{(*)}X)$",
    }
    ax.set_ylabel(labels.get(par, par))
    ax.set_yscale("log")
    ax.set_title(title or r"Belle II $B^+\to K^+\nu\bar\nu$ (362 fb$^{-1}$) recast, SM fixed", fontsize=14)
    ax.legend(fontsize=11)
    fig.tight_layout()
    return save_figure(fig, p)


@hep_style
def plot_significance(curves: Mapping[str, Mapping[str, np.ndarray]], path: str | Path) -> Path:
    """B+ -> K+ X local significance versus m_X, one line per labelled curve
    (:func:`analyses.belle2_bknunu_2023.significance_scan` outputs)."""
    import matplotlib.pyplot as plt

    p = check_png(path)
    fig, ax = plt.subplots(figsize=(9, 6))
    for label, c in curves.items():
        ax.plot(c["mx"], c["significance"], lw=1.5, label=label)
    ax.set_xlabel(r"$m_X$ [GeV]")
    ax.set_ylabel(r"local significance (2$\Delta$NLL(0))$^{1/2}$ [$\sigma$]")
    ax.set_title(r"Belle II $B^+\to K^+X$ (SM fixed), released likelihood", fontsize=14)
    ax.legend(fontsize=11)
    fig.tight_layout()
    return save_figure(fig, p)
