"""Each seed figure of docs/figures.md runs at low statistics (--quick) and writes a PNG."""

from __future__ import annotations

import pytest

from analyses import registry
from analyses.seed_figures import FIGURES, make_figure
from evtgen.errors import PhiphiError


@pytest.mark.parametrize("name", ["na62", "belle2", "combined"])
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
