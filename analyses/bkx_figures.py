"""The B+ -> K+ X local-significance figure of issue 10 (``docs/figures/bkx_significance.png``).

A thin driver over the Belle II analysis's public API: the curves are
:func:`analyses.belle2_bknunu_2023.significance_scan` (one free fit of BR(B+ -> K+ X) per m_X on the
released likelihood, SM fixed; local significance sqrt(2 Delta NLL(0))), drawn by
:func:`analyses.belle2_plots.plot_significance`. Nothing is computed here that the Belle II module
does not compute; this module only chooses the curves (X widths, map smoothing) and the mass grid
and gives the figure one command:

    python -m analyses.bkx_figures docs/figures/bkx_significance.png
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evtgen.errors import PhiphiError

from . import belle2_bknunu_2023 as belle2
from .belle2_plots import plot_significance
from .plotting import check_png

#: default curves: (X width in GeV, map smoothing in GeV^2); smoothing 0 is the raw (single-bin) map
DEFAULT_CURVES: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.1, 0.5), (0.0, 0.0))


def default_masses(step: float = 0.05) -> np.ndarray:
    """m_X grid (GeV) from 0.1 GeV to 4.6 GeV (inside the maps' q2 range, 0 - 22.9 GeV^2)."""
    if not step > 0:
        raise PhiphiError(f"step = {step:g} GeV must be > 0")
    return np.round(np.arange(0.1, 4.6 + 1e-9, step), 6)


def curve_label(width: float, smoothing: float) -> str:
    """Legend text of one curve."""
    shape = "narrow X" if width == 0.0 else f"Gamma_X = {width:g} GeV"
    amap = "raw map (single q2 bin)" if smoothing == 0.0 else f"map smoothed, sigma = {smoothing:g} GeV^2"
    return f"{shape}, {amap}"


def significance_curves(
    masses: Sequence[float] | None = None, curves: Sequence[tuple[float, float]] = DEFAULT_CURVES
) -> dict[str, dict[str, np.ndarray]]:
    """``{label: {"mx", "br", "significance"}}`` for each (width, smoothing) of ``curves``."""
    mx = default_masses() if masses is None else np.asarray(masses, float)
    out = {}
    for width, smoothing in curves:
        out[curve_label(width, smoothing)] = belle2.significance_scan(mx, width=width, smoothing=smoothing)
    return out


def plot_bkx_significance(
    path: str | Path, masses: Sequence[float] | None = None, curves: Sequence[tuple[float, float]] = DEFAULT_CURVES
) -> Path:
    """Write the B+ -> K+ X local significance versus m_X (one line per curve) to ``path`` (.png)."""
    check_png(path)
    return plot_significance(significance_curves(masses, curves), path)


if __name__ == "__main__":
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "bkx_significance.png"
    data = significance_curves()
    for label, c in data.items():
        i = int(np.argmax(c["significance"]))
        print(f"{label}: max {c['significance'][i]:.2f} sigma at m_X = {c['mx'][i]:.2f} GeV, BR = {c['br'][i]:.3e}")
    print(plot_significance(data, target))
