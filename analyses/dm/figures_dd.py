"""Direct-detection figures (mplhep style): the R_- - R_s plane allowed at fixed m_phi (the seed's
Fig. 4 right) and the limit on one coupling versus m_phi."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evtgen.errors import PhiphiError

from ..plotting import hep_style, save_figure
from . import direct_detection as dd
from . import nucleon as nucleon_me


def max_ratio_grid(
    mphi: float,
    c_plus: float,
    r_minus: np.ndarray,
    r_s: np.ndarray,
    curves: Sequence[dd.LimitCurve],
    me=None,
    alpha_s: float | None = None,
    other_couplings: Mapping[str, float] | None = None,
    rate_scale: float = 1.0,
) -> tuple[np.ndarray, list[str]]:
    """max over the curves covering ``mphi`` of sigma_eff / limit on the (R_-, R_s) grid (broadcast arrays),
    with C_uu + C_dd = ``c_plus`` and ``other_couplings`` (CG, CS_cc, CS_bb) fixed; and the curves used."""
    used = dd.applicable(curves, mphi)
    if not used:
        raise PhiphiError(f"m_phi = {mphi:g} GeV is outside every limit curve's range")
    cpl = dd.couplings_from_ratios(c_plus, r_minus, r_s)
    for k, v in (other_couplings or {}).items():
        cpl[k] = np.full(np.broadcast(r_minus, r_s).shape, float(v))
    ratio = np.zeros(np.broadcast(r_minus, r_s).shape)
    for c in used:
        s = dd.sigma_per_nucleon(mphi, cpl, c.target, me, alpha_s) * rate_scale
        ratio = np.maximum(ratio, s / c(mphi))
    return ratio, [c.name for c in used]


def _cancellation_line(nucleon_or_target, r_minus: np.ndarray, me) -> np.ndarray:
    """R_s where the u, d, s amplitude vanishes: for a nucleon r_+ + r_- R_- + R_s = 0; for a target the
    Z/A-weighted combination of the proton and neutron conditions."""
    m = dd.as_matrix_elements(me)
    if isinstance(nucleon_or_target, dd.Target):
        t = nucleon_or_target
        # amplitude per unit C_+ ~ sum_N weight_N (m_N f_Ts^N)(r_+^N + r_-^N R_- + R_s); solve for R_s
        num = np.zeros_like(r_minus)
        den = 0.0
        for n, frac in (("p", t.Z / t.A), ("n", (t.A - t.Z) / t.A)):
            k = frac * nucleon_me.nucleon_mass(n) * m.f(n, "s")
            rp, rm = dd.r_pm(n, m)
            num = num + k * (rp + rm * r_minus)
            den += k
        return -num / den
    rp, rm = dd.r_pm(nucleon_or_target, m)
    return -(rp + rm * r_minus)


@hep_style
def plot_isospin_plane(
    mphi: float,
    c_plus: float,
    path: str | os.PathLike,
    *,
    curves: Sequence[dd.LimitCurve] | None = None,
    me=None,
    alpha_s: float | None = None,
    other_couplings: Mapping[str, float] | None = None,
    rate_scale: float = 1.0,
    r_minus_range: tuple[float, float] = (-3.0, 3.0),
    r_s_range: tuple[float, float] | None = None,
    point: tuple[float, float] | None = None,
    n_grid: int = 301,
) -> Path:
    """Write the R_- - R_s plane allowed by direct detection at ``mphi`` (C_+ = C_uu + C_dd = ``c_plus``,
    GeV^-1) as PNG; the allowed region is where every applicable published limit is satisfied."""
    import matplotlib.pyplot as plt

    if c_plus == 0 or not np.isfinite(c_plus):
        raise PhiphiError(f"c_plus = {c_plus!r} must be a non-zero number (GeV^-1)")
    curves = dd.limit_curves() if curves is None else curves
    m = dd.as_matrix_elements(me)
    rm = np.linspace(*r_minus_range, n_grid)
    used = dd.applicable(curves, mphi)
    if not used:
        raise PhiphiError(f"m_phi = {mphi:g} GeV is outside every limit curve's range")
    xe = used[0].target
    line = _cancellation_line(xe, rm, m)
    if r_s_range is None:
        # half-width of the allowed band in R_s for the first curve, to frame the plot around it
        w = dd.target_weights(xe, m, alpha_s)["CS_ss"]
        pref = float(dd.sigma_per_nucleon(mphi, {"CS_ss": 1.0}, xe, m, alpha_s)) / w**2
        half = np.sqrt(used[0](mphi) / (pref * rate_scale)) / abs(w * c_plus)
        pad = max(1.5 * half, 0.1 * (line.max() - line.min()) + 0.5)
        r_s_range = (float(line.min() - pad), float(line.max() + pad))
    rs = np.linspace(*r_s_range, n_grid)
    RM, RS = np.meshgrid(rm, rs)
    ratio, names = max_ratio_grid(mphi, c_plus, RM, RS, curves, m, alpha_s, other_couplings, rate_scale)

    fig, ax = plt.subplots(figsize=(8, 7))
    ax.contourf(RM, RS, (ratio <= 1.0).astype(float), levels=[0.5, 1.5], colors=["tab:green"], alpha=0.45)
    if ratio.min() <= 1.0 <= ratio.max():
        ax.contour(RM, RS, ratio, levels=[1.0], colors=["darkgreen"], linewidths=1.5)
    ax.plot(rm, _cancellation_line("p", rm, m), "--", color="tab:red", lw=1.2, label=r"$f_p = 0$")
    ax.plot(rm, _cancellation_line("n", rm, m), ":", color="tab:blue", lw=1.5, label=r"$f_n = 0$")
    ax.plot(rm, line, "-", color="k", lw=0.8, label=rf"$Z f_p + (A-Z) f_n = 0$ ({xe.name})")
    if point is not None:
        ax.plot([point[0]], [point[1]], "k*", ms=14, label="model point")
    ax.fill_between([], [], color="tab:green", alpha=0.45, label="allowed (90% CL)")
    ax.set_xlim(*r_minus_range)
    ax.set_ylim(*r_s_range)
    ax.set_xlabel(r"$R_- = (C_{uu}-C_{dd})/(C_{uu}+C_{dd})$")
    ax.set_ylabel(r"$R_s = C_{ss}/(C_{uu}+C_{dd})$")
    scale = f", rate x {rate_scale:.3g}" if rate_scale != 1.0 else ""
    ax.set_title(
        rf"$m_\phi$ = {mphi:g} GeV, $C_{{uu}}+C_{{dd}}$ = {c_plus:.3g} GeV$^{{-1}}${scale}" + "\n" + ", ".join(names),
        fontsize=13,
    )
    ax.legend(loc="best", fontsize=11)
    return save_figure(fig, path)


@hep_style
def plot_coupling_limit(
    masses: Sequence[float],
    couplings: Mapping[str, float],
    parameter: str,
    path: str | os.PathLike,
    *,
    curves: Sequence[dd.LimitCurve] | None = None,
    me=None,
    alpha_s: float | None = None,
) -> dict[str, Any]:
    """Write the allowed upper edge |C| of ``parameter`` versus m_phi (others fixed at ``couplings``),
    coloured by the experiment setting the limit; returns the numbers plotted."""
    import matplotlib.pyplot as plt

    rows = dd.coupling_limit_vs_mass(masses, couplings, parameter, curves, me, alpha_s)
    fig, ax = plt.subplots(figsize=(9, 6))
    by_exp: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if r["interval"] is None:
            continue
        edge = max(abs(r["interval"][0]), abs(r["interval"][1]))
        by_exp.setdefault(r["experiment"], []).append((r["mphi"], edge))
    for exp, pts in by_exp.items():
        x, y = np.array(pts).T
        ax.plot(x, y, ".-", label=exp)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_\phi$ [GeV]")
    unit = "GeV$^{-2}$" if parameter == "CG" else "GeV$^{-1}$"
    ax.set_ylabel(f"{parameter} allowed edge (90% CL) [{unit}]")
    ax.legend(fontsize=10)
    save_figure(fig, path)
    return {"rows": rows}
