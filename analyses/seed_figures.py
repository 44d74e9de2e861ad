"""The seed's figures, reproduced from the package's own recasts (``phiphi figures NAME -o FILE.png``).

Every curve is read from the common :class:`~analyses.result.Result` of a registered analysis
(``upper_limit_95``, ``interval_68``/``interval_95``) or from a ``combined`` scan table
(:func:`analyses.combine.allowed_regions`); nothing is digitised from the papers. Couplings are
in the project's convention (L > 1/2 C (qbar q) phi^2); the axis label says so and the
no-1/2 value is C/2. ``quick`` uses few masses and low statistics (the tests run it).

- ``na62``: |C_dphi^{S,sd}| vs m_phi: NA62 95% CL exclusion, the band where K+ -> pi+ phi phi
  fills the NA62 excess over the SM (the 95% CL interval of the recast), the KOTO exclusion
  (real C), and the relic-density mass range when an analysis ``relic`` is registered
  (He-Ma-Tandean-Valencia Fig. 1).
- ``belle2``: the band of C_dphi^{S,sb} vs m_phi filling the B+ -> K+ nu nubar excess (68% and
  95% CL intervals from the released likelihood).
- ``atlas``: ATLAS monojet 95% CL limits on a quark operator (C_uphi^{S,uu}) and the gluon
  operator C_Gphi/Lambda^2 vs m_phi, with and without EFT truncation (cut-off 1 TeV).
- ``combined``: the allowed region in (m_phi, |C_dphi^{S,sd}|) at 95% CL from the combination
  of every analysis that limits C^{sd}, and from each alone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evtgen.errors import PhiphiError
from evtgen.model import model_point

from . import registry
from .plotting import check_png, hep_style, save_figure

CONVENTION = "project convention: L $\\supset$ ½ C (q̄q) φ²  (no-½ papers: C' = C/2)"


@dataclass(frozen=True)
class Figure:
    """One reproducible figure: its title, what it needs and the function drawing it."""

    name: str
    title: str
    needs: tuple[str, ...]
    draw: Callable[..., Path]
    command: str


def _available(names: Sequence[str]) -> list[str]:
    known = registry.analyses()
    return [n for n in names if n in known]


def _mass_curve(name: str, masses: Sequence[float], couplings: dict[str, float], options: dict | None = None):
    """``[(m, Result)]`` of analysis ``name`` along ``masses`` (points without sensitivity kept)."""
    out = []
    for m in masses:
        res = registry.recast(name, model_point(mphi=float(m), couplings=couplings, seed=1), **(options or {}))
        out.append((float(m), res))
    return out


def _col(curve, attr: str, idx: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for m, r in curve:
        v = getattr(r, attr)
        if v is not None and idx is not None:
            v = v[idx]
        if v is not None and r.sensitivity and math.isfinite(v) and v > 0:
            xs.append(m)
            ys.append(v)
    return np.asarray(xs), np.asarray(ys)


def _band(curve, attr: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(m, lo, hi)`` of the interval ``attr`` at the masses where it has a finite upper edge;
    ``lo`` = 0 where the interval reaches zero coupling (kept, not dropped or interpolated)."""
    xs, los, his = [], [], []
    for m, r in curve:
        iv = getattr(r, attr)
        if iv is None or not r.sensitivity or iv[1] is None or not math.isfinite(iv[1]) or iv[1] <= 0:
            continue
        xs.append(m)
        los.append(max(float(iv[0] or 0.0), 0.0))
        his.append(float(iv[1]))
    return np.asarray(xs), np.asarray(los), np.asarray(his)


def _finish(ax, fig, path, title: str, caption: str):
    ax.set_title(title, fontsize=15)
    fig.text(0.01, -0.02, caption, fontsize=9, va="top", wrap=True)
    return save_figure(fig, path)


SEED_DM_RANGE = (0.110, 0.146)  # GeV: the seed's (He-Ma-Tandean-Valencia Fig. 1) DM-permitted range, quoted


def relic_cmb_upper_edge(masses: Sequence[float]) -> float | None:
    """The largest mass in ``masses`` (GeV, ascending) where phi with the relic coupling along
    C_uu = C_dd is not excluded by the Planck CMB bound on s-wave annihilation (None if none is)."""
    from .dm import figures as dm_figures

    d = dm_figures.scan(np.asarray(masses, float))
    ok = np.isfinite(d["S_relic"]) & ~(np.isfinite(d["S_cmb"]) & (d["S_relic"] > d["S_cmb"]))
    if not ok.any():
        return None
    # the edge: the last allowed mass before the first excluded one
    first_bad = np.argmax(~ok) if (~ok).any() else len(ok)
    return float(d["mphi"][max(first_bad - 1, 0)]) if ok[0] else None


# --- 1. NA62 / KOTO ------------------------------------------------------------------------------
@hep_style
def figure_na62(path: str | os.PathLike, *, quick: bool = False) -> Path:
    """|C^{S,sd}| vs m_phi: NA62 exclusion and gap-filling band, KOTO exclusion, relic mass range."""
    import matplotlib.pyplot as plt

    masses = np.linspace(0.005, 0.17, 4 if quick else 34)
    na62_opts = {"n_events": 4000, "sm_n_events": 8000} if quick else {}
    fig, ax = plt.subplots(figsize=(10, 7.5))
    notes = []
    na62 = _mass_curve("na62", masses, {"CS_sd": 1e-11}, na62_opts)
    x, ul = _col(na62, "upper_limit_95")
    ax.fill_between(x, ul, 1e-6, color="green", alpha=0.3, label="NA62 2016-22 excluded (95% CL, CLs)")
    x_hi, lo, hi = _band(na62, "interval_68")
    if len(x_hi):
        ax.plot(
            x_hi,
            hi,
            color="green",
            lw=2,
            label="K$^{+}$→π$^{+}$φφ fills the NA62 excess: 68% CL interval (dashed: lower edge)",
        )
        ax.plot(x_hi, np.where(lo > 0, lo, np.nan), color="green", lw=2, ls="--")
    if "koto" in registry.analyses():
        koto = _mass_curve("koto", masses, {"CS_sd": 1e-11})
        xk, ulk = _col(koto, "upper_limit_95")
        ax.fill_between(xk, ulk, 1e-6, facecolor="none", edgecolor="purple", hatch="//", lw=0,
                        label="KOTO 2021 excluded (95% CL, real C)")  # fmt: skip
    else:
        notes.append("KOTO not registered")
    if "relic" in registry.analyses() and "cmb" in registry.analyses():
        m_cmb = relic_cmb_upper_edge(np.linspace(0.128, 0.142, 8 if quick else 29))
        if m_cmb is not None:
            ax.axvspan(SEED_DM_RANGE[0], m_cmb, color="cyan", alpha=0.25,
                       label=f"φ as DM (Ω h² = 0.12, CMB-safe): m_φ ≤ {1e3 * m_cmb:.1f} MeV (computed), "
                             f"≥ {1e3 * SEED_DM_RANGE[0]:.0f} MeV (seed)")  # fmt: skip
            ax.axvline(SEED_DM_RANGE[1], color="c", ls=":", lw=1.5, label="seed's upper edge (146 MeV)")
            notes.append(
                f"DM range: upper edge {1e3 * m_cmb:.1f} MeV where the relic coupling (C_uu = C_dd) meets the Planck CMB "
                "bound on s-wave φφ→ππ (analyses relic, cmb; docs/dark_matter_relic_cmb.md); lower edge 110 MeV and the "
                "dotted 146 MeV are the seed's (He-Ma-Tandean-Valencia), not derived here"
            )
    else:
        notes.append("relic-density mass range not shown (analyses 'relic'/'cmb' not registered)")
    ax.set_yscale("log")
    ax.set_xlim(0, 0.18)
    ax.set_ylim(1e-13, 1e-8)
    ax.set_xlabel(r"$m_\phi$ [GeV]")
    ax.set_ylabel(r"$|C_{d\phi}^{S,sd}|$ [GeV$^{-1}$] (½ convention)")
    ax.legend(fontsize=11, loc="lower right", framealpha=0.9)
    caption = (
        f"{CONVENTION}. NA62 K$^{{+}}$→π$^{{+}}$νν̄ 2016-22 (arXiv:2412.12015), KOTO K_L→π$^{{0}}$νν̄ 2021 (arXiv:2411.11237). "
        "Cf. He, Ma, Tandean, Valencia Fig. 1. " + "; ".join(notes) + (" [quick: low statistics]" if quick else "")
    )
    return _finish(ax, fig, path, "K → π φφ: NA62 and KOTO", caption)


# --- 2. Belle II ---------------------------------------------------------------------------------
@hep_style
def figure_belle2(path: str | os.PathLike, *, quick: bool = False) -> Path:
    """The C^{S,sb} band filling the Belle II B+ -> K+ nu nubar excess vs m_phi."""
    import matplotlib.pyplot as plt

    masses = np.linspace(0.05, 2.3, 3 if quick else 24)
    curve = _mass_curve("belle2", masses, {"CS_sb": 5e-8})
    fig, ax = plt.subplots(figsize=(10, 7.5))
    floor = 1e-8  # the axis bottom: an interval reaching zero coupling is filled down to it
    for cl, attr, color in (("95", "interval_95", "gold"), ("68", "interval_68", "limegreen")):
        x2, lo, hi = _band(curve, attr)
        if len(x2):
            ax.fill_between(x2, np.maximum(lo, floor), hi, color=color, alpha=0.7,
                            label=f"{cl}% CL interval (profile likelihood; to the axis: reaches C = 0)")  # fmt: skip
    x, ul = _col(curve, "upper_limit_95")
    ax.plot(x, ul, color="k", ls=":", label="95% CL upper limit (CLs)")
    ax.set_yscale("log")
    ax.set_ylim(floor, None)
    ax.set_xlabel(r"$m_\phi$ [GeV]")
    ax.set_ylabel(r"$|C_{d\phi}^{S,sb}|$ [GeV$^{-1}$] (½ convention)")
    ax.legend(fontsize=12)
    caption = (
        f"{CONVENTION}. Belle II B$^{{+}}$→K$^{{+}}$νν̄ 362 fb$^{{-1}}$ (arXiv:2311.14647), released likelihood and signal maps "
        "(arXiv:2507.12393), SM signal at its prediction, NP sample folded through the maps. "
        "Talk: C ~ (3-8)/(10$^{5}$ TeV) = (3-8)e-8 GeV$^{-1}$." + (" [quick]" if quick else "")
    )
    return _finish(ax, fig, path, "B$^{+}$ → K$^{+}$ φφ filling the Belle II excess", caption)


# --- 3. ATLAS ------------------------------------------------------------------------------------
@hep_style
def figure_atlas(path: str | os.PathLike, *, quick: bool = False) -> Path:
    """ATLAS monojet limits on C_uu and C_G vs m_phi, with and without EFT truncation."""
    import matplotlib.pyplot as plt

    masses = [1.0, 100.0] if quick else [1.0, 10.0, 50.0, 100.0, 200.0, 300.0, 500.0]
    n_events = 1000 if quick else 20000
    fig, ax = plt.subplots(figsize=(10, 7.5))
    for cpl, ref, color in (("CS_uu", 1e-6, "tab:blue"), ("CG", 1e-6, "tab:red")):
        for cutoff, ls in ((None, "-"), (1000.0, "--")):
            opts: dict[str, Any] = {"n_events": n_events}
            if cutoff is not None:
                opts["cutoff"] = cutoff
            curve = _mass_curve("atlas", masses, {cpl: ref}, opts)
            x, ul = _col(curve, "upper_limit_95")
            unit = "GeV$^{-1}$" if cpl != "CG" else "GeV$^{-2}$"
            lab = f"{cpl} [{unit}]" + (
                "" if cutoff is None else r", $\sqrt{\hat s}$ < " + f"{cutoff:g} GeV (truncated)"
            )
            ax.plot(x, ul, color=color, ls=ls, marker="o", label=lab)
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel(r"$m_\phi$ [GeV]")
    ax.set_ylabel("95% CL upper limit on the coefficient")
    ax.legend(fontsize=12)
    caption = (
        f"{CONVENTION}; CG = C_Gφ/Λ² [GeV$^{{-2}}$]. ATLAS monojet 13 TeV 139 fb$^{{-1}}$ (arXiv:2102.10874), "
        "LO pp→jφφ, exclusive signal regions EM0-EM12. Solid: no truncation; dashed: events with $\\sqrt{\\hat s}$ above "
        "the cut-off dropped." + (" [quick: 1000 events]" if quick else "")
    )
    return _finish(ax, fig, path, "ATLAS monojet: quark and gluon operators", caption)


# --- 4. combined ---------------------------------------------------------------------------------
def combined_rows(masses, couplings, analyses: str, *, workers: int | None = None, options=None):
    """Rows of a ``combined`` scan over ``masses`` x ``couplings`` of CS_sd (Dask with ``workers``,
    else serial in this process — the same rows)."""
    from . import scanning

    grid = {"mphi": list(masses), "CS_sd": list(couplings)}
    opts = {"analyses": analyses, **(options or {})}
    if workers:
        return scanning.run_scan("combined", grid, seed=1, options=opts, cluster={"workers": workers}, progress=False)
    return [scanning.run_point("combined", p) for p in scanning.build_grid("combined", grid, seed=1, options=opts)]


@hep_style
def figure_combined(path: str | os.PathLike, *, quick: bool = False, workers: int | None = None) -> Path:
    """Allowed region in (m_phi, |C^{S,sd}|) at 95% CL: the combination and each analysis alone."""
    import matplotlib.pyplot as plt

    from .combine import allowed_regions

    names = _available(["na62", "koto", "e949"])
    if not names:
        raise PhiphiError("no analysis limiting CS_sd is registered")
    masses = np.linspace(0.01, 0.17, 3 if quick else 20)
    couplings = np.geomspace(1e-12, 1e-9, 4 if quick else 30)
    options = {"analysis_options": "na62.n_events=4000,na62.sm_n_events=8000"} if quick and "na62" in names else {}
    options["mc_seed"] = 1
    rows = combined_rows(masses, couplings, ",".join(names), workers=workers, options=options)
    reg = allowed_regions(rows, ["CS_sd"])
    fig, ax = plt.subplots(figsize=(10, 7.5))
    colors = {"combined": "k", "na62": "green", "koto": "purple", "e949": "orange"}
    for name, by_cl in reg["intervals"].items():
        per = by_cl["95"]
        xs = [p["mass"] for p in per if p["hi"] is not None]
        his = [p["hi"] for p in per if p["hi"] is not None]
        los = [p["lo"] for p in per if p["hi"] is not None]
        if name == "combined":
            ax.fill_between(xs, los, his, color="grey", alpha=0.4, label="combined: allowed at 95% CL")
        else:
            ax.plot(xs, his, color=colors.get(name, None), label=f"{name} alone: 95% CL upper edge")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_\phi$ [GeV]")
    ax.set_ylabel(r"$|C_{d\phi}^{S,sd}|$ [GeV$^{-1}$] (½ convention)")
    ax.legend(fontsize=12)
    caption = (
        f"{CONVENTION}. Combination of {', '.join(names)} (independent experiments: -2ΔlnL add); allowed where "
        f"-2ΔlnL - min(at this m_φ, SM included) < {reg['thresholds']['95']:.2f} (χ², 1 dof). Grid "
        f"{len(masses)}×{len(couplings)}: band edges are grid values." + (" [quick]" if quick else "")
    )
    return _finish(ax, fig, path, "Combined allowed region (C^{sd})", caption)


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in (
        Figure("na62", "NA62 / KOTO: |C_S^sd| vs m_phi (He-Ma-Tandean-Valencia Fig. 1)", ("na62", "koto"),
               figure_na62, "phiphi figures na62 -o docs/figures/na62.png"),
        Figure("belle2", "Belle II: the C_S^sb band filling the B+ -> K+ nu nubar excess", ("belle2",),
               figure_belle2, "phiphi figures belle2 -o docs/figures/belle2.png"),
        Figure("atlas", "ATLAS monojet: limits on C_uu and C_G vs m_phi, with/without EFT truncation", ("atlas",),
               figure_atlas, "phiphi figures atlas -o docs/figures/atlas.png"),
        Figure("combined", "Combined allowed region in (m_phi, |C_S^sd|) at 95% CL", ("na62",),
               figure_combined, "phiphi figures combined -o docs/figures/combined.png --workers 2"),
    )
}  # fmt: skip


def make_figure(name: str, path: str | os.PathLike | None, *, quick: bool = False, workers: int | None = None) -> Path:
    """Draw seed figure ``name`` to ``path`` (PNG)."""
    if name not in FIGURES:
        raise PhiphiError(f"unknown figure {name!r}; choose one of {', '.join(FIGURES)}")
    if path is None:
        raise PhiphiError("give the PNG file with -o FILE.png")
    check_png(path)
    fig = FIGURES[name]
    missing = [n for n in fig.needs if n not in registry.analyses()]
    if missing:
        raise PhiphiError(f"figure {name} needs analysis {missing[0]!r}, which is not registered")
    if name == "combined":
        return fig.draw(path, quick=quick, workers=workers)
    return fig.draw(path, quick=quick)
