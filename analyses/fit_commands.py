"""The combination commands: ``phiphi fit``, ``phiphi report``, ``phiphi figures``, ``phiphi regions``.
Registered through the ``phiphi.commands`` entry point (``analyses-fit``); they only parse and
call the Python API (:mod:`analyses.combine`, :mod:`analyses.report`, :mod:`analyses.seed_figures`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from evtgen.errors import PhiphiError


def _options(items: list[str] | None) -> dict[str, dict[str, Any]]:
    from .combine import parse_options

    return parse_options(",".join(items or []))


def _load(path: str):
    from evtgen.modelfile import load_model

    return load_model(path)


def _cmd_fit(args: argparse.Namespace) -> int:
    from .combine import fit

    comb = fit(_load(args.model), args.analyses, options=_options(args.set), n_parameters=args.n_parameters)
    if args.json:
        print(json.dumps(comb.as_dict(), default=float))
    else:
        print(comb.table())
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    path = write_report(args.model, args.output, analyses=args.analyses, options=_options(args.set), quick=args.quick)
    print(f"report -> {path}", file=sys.stderr)
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    from .seed_figures import FIGURES, make_figure

    if args.name == "list":
        for name, fig in FIGURES.items():
            print(f"{name:<10} {fig.title}")
        return 0
    path = make_figure(args.name, args.output, quick=args.quick, workers=args.workers)
    print(f"figure {args.name} -> {path}", file=sys.stderr)
    return 0


def _cmd_regions(args: argparse.Namespace) -> int:
    from .combine import allowed_regions
    from .scanning import read_results

    rows = read_results(args.table)
    if not rows:
        raise PhiphiError(f"results table {args.table!r} is empty or does not exist")
    out = allowed_regions(rows, args.coupling, mass=args.mass, reference=args.reference)
    if args.json:
        print(json.dumps(out, default=float))
        return 0
    print(f"allowed regions (-2 Delta ln L - min < chi2_{out['dof']}: 68% {out['thresholds']['68']:.3f}, "
          f"95% {out['thresholds']['95']:.3f}; reference {out['reference']})")  # fmt: skip
    for name, by_cl in out["intervals"].items():
        for cl, per_mass in by_cl.items():
            for m in per_mass:
                segs = " ".join(f"[{a:.4g}, {b:.4g}]" for a, b in m["segments"]) or "none"
                print(f"{name:<12} {cl}%  {out['mass']} = {m['mass']:<8g} {args.coupling[0]} allowed: {segs}")
    if not out["intervals"]:
        for r in out["rows"]:
            print(json.dumps(r, default=float))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the combination subcommands to the root parser."""
    p = sub.add_parser("fit", help="combine every applicable analysis at one model point (sum of -2 Delta ln L)")
    p.add_argument("model", help="model file (YAML/JSON, EFT or UV point; see evtgen.modelfile)")
    p.add_argument("--analyses", help="comma-separated analyses to combine (default: every applicable one)")
    p.add_argument("--set", action="append", metavar="ANALYSIS.OPTION=VALUE", help="an analysis option (repeatable)")
    p.add_argument("--n-parameters", dest="n_parameters", type=int, help="degrees of freedom of the verdict (1 or 2)")
    p.add_argument("--json", action="store_true", help="print one JSON object (the Combination)")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("report", help="one page (HTML or Markdown + PNGs) with a model point's table and figures")
    p.add_argument("model", help="model file (YAML/JSON)")
    p.add_argument("-o", "--output", required=True, help="report.html or report.md (PNGs beside it)")
    p.add_argument("--analyses", help="comma-separated analyses (default: every applicable one)")
    p.add_argument("--set", action="append", metavar="ANALYSIS.OPTION=VALUE", help="an analysis option (repeatable)")
    p.add_argument("--quick", action="store_true", help="fewer mass points in the figures")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("figures", help="reproduce the seed's figures (phiphi figures list)")
    p.add_argument("name", help="figure name, or 'list'")
    p.add_argument("-o", "--output", help="PNG file")
    p.add_argument("--quick", action="store_true", help="low statistics, few points (seconds)")
    p.add_argument("--workers", type=int, help="local Dask workers for the scans (default: serial)")
    p.set_defaults(func=_cmd_figures)

    p = sub.add_parser("regions", help="allowed regions at 68/95%% CL from a 'scan combined' results table")
    p.add_argument("table", help="results table (.csv/.parquet) of phiphi scan combined")
    p.add_argument("--coupling", action="append", required=True, help="scanned coupling column(s)")
    p.add_argument("--mass", default="mphi", help="mass column (default mphi)")
    p.add_argument("--reference", choices=["per_mass", "global"], default="per_mass", help="minimum per mass or global")
    p.add_argument("--json", action="store_true", help="print the regions as JSON")
    p.set_defaults(func=_cmd_regions)
