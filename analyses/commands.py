"""The analysis layer's commands: ``phiphi recast``, ``scan``, ``analyses``. Registered
through the ``phiphi.commands`` entry point; they only parse and call the Python API.

The analysis options (``--cutoff``, ``--dataset``, ``--n-events`` ...) are read from the
analyses' data-file headers (:mod:`analyses.registry`), so a new analysis brings its own
options and help; an option the chosen analysis does not declare is an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from evtgen import cliutil
from evtgen.errors import PhiphiError

from . import registry

_OPTION_DEST = "analysis_option__"


def _add_analysis_options(p: argparse.ArgumentParser) -> None:
    seen: dict[str, registry.Option] = {}
    users: dict[str, list[str]] = {}
    for info in registry.analyses().values():
        for name, opt in info.options.items():
            seen.setdefault(name, opt)
            users.setdefault(name, []).append(info.name)
    taken = set(p._option_string_actions)
    for name, opt in seen.items():
        flag = "--" + name.replace("_", "-")
        if flag in taken:  # e.g. an option called "coupling": reachable through --set only
            continue
        kind = {"int": cliutil.parse_count, "float": float, "str": str}.get(opt.type, str)
        help_text = _escape(f"{opt.help} [{', '.join(users[name])}]")
        if opt.type == "bool":
            p.add_argument(flag, dest=_OPTION_DEST + name, action="store_const", const=True, help=help_text)
        else:
            p.add_argument(
                flag, dest=_OPTION_DEST + name, metavar=name.upper(), type=kind, choices=opt.choices, help=help_text
            )


def _analysis_options(args: argparse.Namespace) -> dict[str, Any]:
    out = {k[len(_OPTION_DEST) :]: v for k, v in vars(args).items() if k.startswith(_OPTION_DEST) and v is not None}
    for item in getattr(args, "set", None) or []:
        if "=" not in item:
            raise PhiphiError(f"--set {item!r} is not OPTION=VALUE")
        k, v = (x.strip() for x in item.split("=", 1))
        if k in out:
            raise PhiphiError(f"analysis option {k} is given twice; give it once")
        out[k] = v
    return out


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", metavar="OPTION=VALUE", help="any analysis option by name (repeatable)")


def _escape(text: str) -> str:
    return text.replace("%", "%%")  # argparse formats help strings with %


def _analysis_help() -> str:
    return _escape("; ".join(f"{n} ({i.paper})" for n, i in registry.analyses().items()))


def _print_result(d: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(d, default=float))
        return
    for k, v in d.items():
        if isinstance(v, dict):
            for kk, vv in v.items():
                print(f"{k + '.' + kk:<34} {vv}")
        else:
            print(f"{k:<34} {v}")


def _cmd_recast(args: argparse.Namespace) -> int:
    from .plotting import check_png

    point = cliutil.point_from_args(args, channel=args.channel, seed=args.seed)
    if args.model:  # a model file holds every coupling of the model: the analysis takes its own
        point = registry.project(args.analysis, point)
    options = _analysis_options(args)
    info, point, options = registry.prepare(args.analysis, point, options)  # all validation before any work
    module = info.load()
    if args.plot is not None:
        if not hasattr(module, "plot"):
            raise PhiphiError(f"analysis {info.name} has no plot")
        check_png(args.plot)
    if args.export_workspace:
        from .export import export_workspace

        out = export_workspace(info.name, point, args.export_workspace, **options)
        result = out["result"]
        print(
            f"workspace -> {out['workspace']}; patch -> {out['patch']}; patchset -> {out['patchset']}", file=sys.stderr
        )
    else:
        result = registry.recast(info.name, point, **options)
    if args.plot is not None:
        module.plot(result, args.plot, point=point, **options)
    _print_result(result.as_dict(), args.json)
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from .scanning import run_scan

    if args.combined:
        if args.analysis not in (None, "combined"):
            raise PhiphiError(f"give either an analysis ({args.analysis}) or --combined, not both")
        args.analysis = "combined"
    elif args.analysis is None:
        raise PhiphiError("give the analysis to scan, or --combined")

    grid: dict[str, Any] = {k: getattr(args, k) for k in ("mphi", "mx", "ms") if getattr(args, k) is not None}
    if args.channel:
        grid["channel"] = args.channel
    for item in args.coupling or []:
        if "=" not in item:
            raise PhiphiError(f"--coupling {item!r} is not NAME=VALUES")
        name, values = (x.strip() for x in item.split("=", 1))
        if name in grid:
            raise PhiphiError(f"--coupling {name} is given twice; give it once")
        grid[name] = values
    cluster = {k: getattr(args, k) for k in ("workers", "scheduler") if getattr(args, k) is not None}
    on = (
        f"the Dask scheduler {args.scheduler}"
        if args.scheduler
        else f"{args.workers or 'one per core'} local Dask worker(s)"
    )
    rows = run_scan(
        args.analysis,
        grid,
        seed=args.seed,
        options=_analysis_options(args),
        output=args.output,
        cluster=cluster,
        plot=args.plot,
        plot_column=args.plot_column,
        on_start=lambda n, total: print(  # after validation: a cluster takes seconds to start
            f"phiphi: scanning {args.analysis}: {n} of {total} points on {on}...", file=sys.stderr, flush=True
        ),
    )
    n_err = sum(1 for r in rows if r.get("error"))
    where = f" -> {args.output}" if args.output else ""
    print(f"scanned {len(rows)} points ({n_err} failed){where}", file=sys.stderr)
    if not args.output:
        for r in rows:
            print(json.dumps(r, default=float))
    return 0


def _cmd_analyses(args: argparse.Namespace) -> int:
    for name, info in registry.analyses().items():
        chans = ", ".join(f"{c}->{p}" for c, p in info.channels.items()) or info.header.get("parameter", "")
        opts = ", ".join(info.options) or "none"
        print(f"{name:<10} {info.kind:<10} {info.paper:<22} {info.title}  [{chans}; options: {opts}]")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the analysis layer's subcommands to the root parser."""
    p = sub.add_parser("recast", help="limits / allowed regions from a published search or constraint")
    p.add_argument("analysis", help=_analysis_help())
    p.add_argument("--channel", help="signal channel (default: the analysis's own)")
    cliutil.add_mass_args(p)
    p.add_argument("--coupling", action="append", metavar="NAME=VALUE", help=cliutil.coupling_help())
    p.add_argument("--model", help="model file (YAML/JSON, EFT or UV point); flags given override it")
    p.add_argument("--seed", type=cliutil.parse_seed, default=1, help="seed of the signal generation")
    p.add_argument("--plot", help="write a PNG plot of the result")
    p.add_argument("--json", action="store_true", help="print one JSON object (the common result schema)")
    p.add_argument(
        "--export-workspace",
        dest="export_workspace",
        metavar="FILE.json",
        help="write the likelihood as a pyhf workspace + JSON Patch of the point's new-physics sample",
    )
    _add_set(p)
    _add_analysis_options(p)
    p.set_defaults(func=_cmd_recast)

    p = sub.add_parser("scan", help="scan an analysis (or the combination) over masses x couplings on Dask (resumable)")
    p.add_argument("analysis", nargs="?", help=_analysis_help())
    p.add_argument(
        "--combined", action="store_true", help="global scan of the combination of every analysis ('scan combined')"
    )
    p.add_argument("--channel", action="append", help="signal channel(s) (repeatable; default: the analysis's)")
    p.add_argument("--mphi", help="phi masses: START:STOP:STEP, START:STOP:logN or a,b,c (GeV)")
    p.add_argument("--mx", help="X masses (two-body channels), same forms (GeV)")
    p.add_argument("--ms", help="S masses (pp2js), same forms (GeV)")
    p.add_argument("--coupling", action="append", metavar="NAME=VALUES", help="coupling values, same forms")
    p.add_argument("--seed", type=cliutil.parse_seed, default=0, help="master seed (point i gets index_seed(seed, i))")
    p.add_argument("-o", "--output", help="results table (.csv or .parquet); rerun resumes")
    p.add_argument("--plot", help="PNG of a result column against the mass")
    p.add_argument("--plot-column", dest="plot_column", help="column to plot (default upper_limit_95)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=cliutil.parse_count, help="local Dask worker processes (default: one per core)")
    g.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786")
    _add_set(p)
    _add_analysis_options(p)
    p.set_defaults(func=_cmd_scan)

    p = sub.add_parser("analyses", help="list the registered analyses: kind, paper, channels, options")
    p.set_defaults(func=_cmd_analyses)
