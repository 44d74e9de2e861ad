"""Each seed figure of docs/figures.md runs at low statistics (--quick) and writes a PNG."""

from __future__ import annotations

import pytest

from analyses import registry
from analyses.seed_figures import FIGURES, make_figure
from evtgen.errors import PhiphiError


@pytest.mark.parametrize("name", ["na62", "belle2", "atlas", "combined"])
def test_quick_figure(name, tmp_path):
    missing = [n for n in FIGURES[name].needs if n not in registry.analyses()]
    assert not missing, f"figure {name} needs {missing}"
    out = make_figure(name, tmp_path / f"{name}.png", quick=True)
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_figure_requests(tmp_path):
    with pytest.raises(PhiphiError, match="unknown figure"):
        make_figure("nope", tmp_path / "x.png")
    with pytest.raises(PhiphiError, match="must end in .png"):
        make_figure("belle2", tmp_path / "x.pdf")


def test_dm_upper_edge_is_the_pi0_pi0_threshold():
    """The relic-density range's upper edge on the NA62 figure is computed (relic + CMB analyses):
    the s-wave phi phi -> pi0 pi0 channel opens at m_pi0 and the CMB then excludes the relic coupling
    by a factor > 100 (docs/dark_matter_relic_cmb.md), so the edge is the last grid mass below m_pi0."""
    import numpy as np
    from particle import Particle

    from analyses.seed_figures import relic_cmb_upper_edge

    m_pi0 = Particle.from_pdgid(111).mass / 1e3
    grid = np.linspace(0.128, 0.142, 29)  # 0.5 MeV steps
    edge = relic_cmb_upper_edge(grid)
    assert edge == grid[grid < m_pi0][-1]
