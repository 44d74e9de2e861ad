"""The B-physics figures of issue 10: B+ -> K+ X significance versus m_X (analyses/bkx_figures.py)
and the B -> K* limits versus m_phi (analyses.belle_bhnunu_2017.plot_kstar_limits), at low stats."""

from __future__ import annotations

import numpy as np
import pytest

from analyses import belle2_bknunu_2023 as belle2
from analyses import belle_bhnunu_2017 as b17
from analyses import bkx_figures as F
from evtgen.errors import PhiphiError

MASSES = [1.9, 2.1, 2.3]


def test_significance_curves_are_the_belle2_scans():
    """The driver adds nothing: each curve is belle2's significance_scan with that width and smoothing
    (bit-identical, same inputs)."""
    curves = F.significance_curves(MASSES, curves=((0.0, 0.5), (0.1, 0.0)))
    assert list(curves) == [F.curve_label(0.0, 0.5), F.curve_label(0.1, 0.0)]
    ref = belle2.significance_scan(MASSES, width=0.1, smoothing=0.0)
    got = curves[F.curve_label(0.1, 0.0)]
    for key in ("mx", "br", "significance"):
        np.testing.assert_array_equal(got[key], ref[key])
    # the published Belle II excess: > 3 sigma local near 2.1 GeV (best fit near 2.1 GeV, issue 10)
    sig = curves[F.curve_label(0.0, 0.5)]["significance"]
    assert sig[1] > 3.0 and sig[1] >= sig[0]


def test_bkx_figure_writes_a_png(tmp_path):
    out = F.plot_bkx_significance(tmp_path / "bkx.png", masses=[2.0, 2.2], curves=((0.0, 0.5),))
    assert out.stat().st_size > 1000
    with pytest.raises(PhiphiError, match=r"\.png") as exc:
        F.plot_bkx_significance(tmp_path / "bkx.pdf", masses=[2.0])
    assert "\n" not in str(exc.value)
    with pytest.raises(PhiphiError, match="step"):
        F.default_masses(0.0)
    grid = F.default_masses()
    assert grid[0] == pytest.approx(0.1, abs=1e-12) and grid[-1] == pytest.approx(4.6, abs=1e-9)
    assert grid[-1] ** 2 < 22.9  # inside the maps' q2 range


def test_kstar_figure_with_efficiency_bands(tmp_path):
    """Low-stats run of the public B -> K* figure (bands = the efficiency bracket, derived)."""
    cur = b17.limits_vs_mass("babar2013", "b2kstarphiphi", modes=["kstar0"], masses=[0.5, 1.5])
    band = np.vstack(list(cur["bracket"]["kstar0"].values()))
    lim = cur["limits"]["kstar0"]
    assert np.all(band.min(axis=0) <= lim) and np.all(lim <= band.max(axis=0))
    out = b17.plot_kstar_limits(tmp_path / "k.png", masses=[0.5, 1.5], analyses=("babar2013",))
    assert out.stat().st_size > 1000
