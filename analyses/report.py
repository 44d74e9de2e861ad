"""One page for a model point (``phiphi report MODEL -o report.html|.md``): the combination table
(:func:`analyses.combine.fit`), the verdict, each analysis's result, and a figure of the
contributions (PNG beside the page). HTML is self-contained apart from the PNG; Markdown
references the PNG by relative path.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evtgen.errors import PhiphiError
from evtgen.model import ModelPoint

from .combine import Combination, fit
from .plotting import hep_style, save_figure


@hep_style
def contributions_figure(comb: Combination, path: str | os.PathLike) -> Path:
    """Horizontal bars of each analysis's -2 Delta ln L at the point, with the 95% CL threshold."""
    import matplotlib.pyplot as plt

    used = [c for c in comb.contributions if c.contributes]
    names = [c.analysis for c in used] + ["combined"]
    vals = [c.twice_dnll for c in used] + [comb.twice_dnll]
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.7 * len(names)))
    ax.barh(names, vals, color=["tab:blue"] * len(used) + ["k"])
    ax.axvline(
        comb.threshold_95, color="red", ls="--", label=f"95% CL, {comb.n_parameters} dof ({comb.threshold_95:.2f})"
    )
    ax.axvline(0.0, color="grey", lw=1)
    ax.set_xlabel(r"$-2\Delta\ln L$ (point vs. no new physics)")
    ax.legend(fontsize=12)
    ax.set_title("Contributions (independent experiments add)", fontsize=14)
    return save_figure(fig, path)


def _rows(comb: Combination) -> list[list[str]]:
    out = []
    for c in comb.contributions:
        fmt = lambda v: "" if v is None else f"{v:.4g}"  # noqa: E731
        out.append(
            [
                c.analysis,
                c.paper,
                c.status,
                f"{c.twice_dnll:.3f}" if c.contributes else "0",
                f"{c.parameter} [{c.unit}]" if c.unit else c.parameter,
                fmt(c.value_at_point),
                fmt(c.upper_limit_95),
                "" if c.excluded_95 is None else ("yes" if c.excluded_95 else "no"),
                c.reason or c.likelihood_form,
            ]
        )
    return out


HEADER = ["analysis", "paper", "status", "-2ΔlnL", "parameter", "at point", "UL 95%", "own verdict: excluded", "note"]


def render(comb: Combination, figure: str | None, fmt: str) -> str:
    """The page as HTML or Markdown text."""
    pt = comb.point.as_dict()
    lines_md = [
        "# phiphi report: one model point",
        "",
        f"Point: `{pt}` (couplings in the project's convention, L ⊃ ½ C (q̄q) φ²; papers without the ½ have C' = C/2).",
        "",
        f"**Combined −2Δln L = {comb.twice_dnll:.3f}** against no new physics; verdict: **{comb.verdict}** "
        f"(χ² with {comb.n_parameters} dof: 68% {comb.threshold_68:.3f}, 95% {comb.threshold_95:.3f}; "
        f"p = {comb.p_value:.3g}). Dominant constraint: **{comb.dominant}**.",
        "",
        f"_{comb.note}._ An analysis with only a published limit enters through the approximate likelihood "
        "stated in its row; analyses without sensitivity, not applicable or failed contribute 0 and are listed.",
        "",
    ]
    rows = _rows(comb)
    if fmt == "md":
        lines_md.append("| " + " | ".join(HEADER) + " |")
        lines_md.append("|" + "---|" * len(HEADER))
        for r in rows:
            lines_md.append("| " + " | ".join(x.replace("|", "/") for x in r) + " |")
        if figure:
            lines_md += ["", f"![contributions]({figure})"]
        return "\n".join(lines_md) + "\n"
    esc = html.escape
    body = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>phiphi report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:3px 6px;font-size:13px}</style></head><body>",
        "<h1>phiphi report: one model point</h1>",
        f"<p>Point: <code>{esc(str(pt))}</code> (couplings in the project's convention, L ⊃ ½ C (q̄q) φ²; "
        "papers without the ½ have C' = C/2).</p>",
        f"<p><b>Combined −2Δln L = {comb.twice_dnll:.3f}</b> against no new physics; verdict: <b>{esc(comb.verdict)}</b> "
        f"(χ² with {comb.n_parameters} dof: 68% {comb.threshold_68:.3f}, 95% {comb.threshold_95:.3f}; "
        f"p = {comb.p_value:.3g}). Dominant constraint: <b>{esc(str(comb.dominant))}</b>.</p>",
        f"<p><i>{esc(comb.note)}.</i> An analysis with only a published limit enters through the approximate "
        "likelihood stated in its row; analyses without sensitivity, not applicable or failed contribute 0.</p>",
        "<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in HEADER) + "</tr>",
    ]
    for r in rows:
        body.append("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in r) + "</tr>")
    body.append("</table>")
    if figure:
        body.append(f"<p><img src='{esc(figure)}' alt='contributions' style='max-width:100%'></p>")
    body.append("</body></html>")
    return "\n".join(body) + "\n"


def write_report(
    model: str | os.PathLike | ModelPoint,
    output: str | os.PathLike,
    *,
    analyses: str | Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    quick: bool = False,
) -> Path:
    """Fit the model point (a model file or a ModelPoint) and write the page (``.html`` or ``.md``)
    with its PNG (``<stem>_contributions.png``) beside it. ``quick`` is accepted for the CLI
    (the page itself has no scans)."""
    from evtgen.io import atomic_path, check_writable

    out = check_writable(output)
    fmt = {".html": "html", ".htm": "html", ".md": "md"}.get(out.suffix.lower())
    if fmt is None:
        raise PhiphiError(f"report file {str(output)!r} must end in .html or .md")
    if isinstance(model, ModelPoint):
        point = model
    else:
        from evtgen.modelfile import load_model

        point = load_model(model)
    comb = fit(point, analyses, options=options)
    fig_name = None
    if any(c.contributes for c in comb.contributions):
        fig_path = out.with_name(out.stem + "_contributions.png")
        contributions_figure(comb, fig_path)
        fig_name = fig_path.name
    with atomic_path(out) as tmp:
        Path(tmp).write_text(render(comb, fig_name, fmt))
    return out
