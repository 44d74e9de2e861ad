"""phiphi report: the page holds the combination table, the verdict and the contributions PNG."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyses import registry
from analyses.report import write_report
from evtgen.errors import PhiphiError
from evtgen.model import model_point

TOYS = str(Path(__file__).parent / "combine_toys")


@pytest.fixture(autouse=True)
def toys(monkeypatch):
    monkeypatch.setenv(registry.PATH_VARIABLE, TOYS)


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_report_page(tmp_path, suffix):
    p = model_point(mphi=0.1, couplings={"CS_sb": 1e-8, "CS_sd": 1e-11}, seed=1)
    out = write_report(p, tmp_path / f"report{suffix}", analyses="toy_counts,toy_kaon,toy_blind")
    text = out.read_text()
    for word in ("toy_counts", "toy_kaon", "no sensitivity", "verdict", "independent", "Dominant"):
        assert word in text
    assert (tmp_path / "report_contributions.png").stat().st_size > 5000


def test_report_needs_html_or_md(tmp_path):
    with pytest.raises(PhiphiError, match=".html or .md"):
        write_report(model_point(mphi=0.1, couplings={"CS_sb": 1e-8}), tmp_path / "r.pdf")
