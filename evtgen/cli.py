"""The ``phiphi`` command line: a thin layer over the Python API.

phiphi rate CHANNEL [--mphi GEV | --mx GEV | --ms GEV] [--coupling NAME=VALUE ...] [--json]
phiphi generate CHANNEL -n N [...] [--seed S] [--frame lab|rest] -o FILE
phiphi simulate EVENTS --detector belle2|na62|atlas -o OUT
phiphi recast ANALYSIS [--channel C] [--mphi M | --mx M] [--coupling ...] [--json] [--plot FILE.png]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from .errors import PhiphiError, check_finite

COUPLING_HELP = (
    "NAME=VALUE, repeatable. Units GeV^-1 for CS_sb, CP_sb, CS_sd, CS_qq (GeV^-2 for CG of pp2jphiphi); "
    "br for the two-body channels. Defaults: CS_sb=1e-8, CP_sb=1e-8, CS_sd=1e-11 GeV^-1, br=1e-5 (b2kx), "
    "1e-10 (k2pix). Convention: L > 1/2 C (qbar q) phi^2 (papers without the 1/2 have C' = C/2)."
)


def parse_couplings(items: Sequence[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        if "=" not in item:
            raise PhiphiError(f"--coupling {item!r} is not NAME=VALUE")
        name, val = item.split("=", 1)
        out[name.strip()] = check_finite(name.strip(), val)
    return out


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mphi", type=float, help="phi mass in GeV (pair channels)")
    p.add_argument("--mx", type=float, help="mass of the single invisible X in GeV (b2kx, k2pix)")
    p.add_argument("--ms", type=float, help="mass of the single invisible scalar S in GeV (pp2js)")
    p.add_argument("--coupling", action="append", metavar="NAME=VALUE", help=COUPLING_HELP)
    p.add_argument("--ptj-min", type=float, dest="ptj_min", help="LHC channels: parton pT cut in GeV (default 150)")
    p.add_argument("--scale", choices=("default", "pythia"), help="LHC channels: scale choice")
    p.add_argument("--pdf", help="LHC channels: LHAPDF set name (default NNPDF23_lo_as_0130_qed)")
    p.add_argument(
        "--alphas-mz",
        type=float,
        dest="alphas_mz",
        help="LHC channels: alpha_s(M_Z) for a PDF set not listed in evtgen/data/pdfsets.yaml",
    )


def _options(args) -> dict:
    return {
        k: getattr(args, k)
        for k in ("ptj_min", "scale", "pdf", "alphas_mz", "cutoff")
        if getattr(args, k, None) is not None
    }


def _cmd_rate(args) -> int:
    from . import rate

    r = rate(
        args.channel,
        mphi=args.mphi,
        mx=args.mx,
        ms=args.ms,
        couplings=parse_couplings(args.coupling),
        options=_options(args),
    )
    print(json.dumps(r.as_dict()) if args.json else r.summary())
    return 0


def _cmd_generate(args) -> int:
    from . import _mass, channels
    from .partitioned import cli_generate, is_directory_output
    from .production import generate_file

    if is_directory_output(args.output):
        return cli_generate(args)
    if args.workers is not None or args.scheduler is not None:
        raise PhiphiError("--workers/--scheduler need a partitioned output directory: -o DIR/")
    ch = channels.get(args.channel)
    mass = _mass(ch, args.mphi, args.mx, args.ms)
    path, meta = generate_file(
        args.channel,
        args.n,
        args.output,
        mass=mass,
        couplings=parse_couplings(args.coupling),
        seed=args.seed,
        frame=args.frame,
        chunk_size=args.chunk_size,
        options=_options(args),
    )
    rate = meta["rate"]
    what = (
        f"BR = {rate['br']:.4e} +- {rate['br_err']:.2e}"
        if "br" in rate
        else f"sigma = {rate.get('sigma_pb', float('nan')):.4e} pb"
    )
    print(f"wrote {meta['n_events']} {args.channel} events to {path} (seed {meta['seed']}); {what}", file=sys.stderr)
    return 0


def _cmd_simulate(args) -> int:
    import detector

    path = detector.simulate_file(args.events, args.detector, args.output, seed=args.seed)
    print(f"wrote {args.detector} emulation to {path}", file=sys.stderr)
    return 0


def _cmd_recast(args) -> int:
    import analyses

    kwargs = {
        "channel": args.channel,
        "mphi": args.mphi,
        "mx": args.mx,
        "ms": args.ms,
        "couplings": parse_couplings(args.coupling),
        "cutoff": args.cutoff,
        "seed": args.seed,
        "n_events": args.n,
        "plot": args.plot,
    }
    result = analyses.recast(args.analysis, **kwargs)
    if args.json:
        print(json.dumps(result, default=float))
    else:
        for k, v in result.items():
            print(f"{k:<22} {v}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .channels import CHANNELS

    parser = argparse.ArgumentParser(
        prog="phiphi",
        description="Light invisible scalar pairs in Belle II, NA62 and ATLAS missing-energy searches. Units: GeV.",
    )
    parser.add_argument("--version", action="version", version=f"phiphi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("rate", help="width, branching ratio (decays) or cross section (LHC) of a channel")
    p.add_argument("channel", help=f"one of {', '.join(CHANNELS)}")
    _add_model_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_rate)

    p = sub.add_parser("generate", help="generate unweighted events into a .root/.parquet/.lhe file")
    p.add_argument("channel", help=f"one of {', '.join(CHANNELS)}")
    p.add_argument("-n", type=int, required=True, help="number of events (> 0)")
    _add_model_args(p)
    p.add_argument("--seed", type=int, help="master seed (default: fresh entropy, written to the file)")
    p.add_argument(
        "--frame",
        choices=("lab", "rest"),
        default="lab",
        help="lab = the experiment's frame (default); rest = parent rest frame",
    )
    p.add_argument(
        "--chunk-size",
        type=int,
        default=1 << 18,
        dest="chunk_size",
        help="events per written chunk (does not change the events)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (.root, .parquet or .lhe), or DIR/ for a partitioned dataset (part-*.parquet|root + manifest.json; rerun resumes)",
    )
    p.add_argument(
        "--format",
        choices=("parquet", "root"),
        default="parquet",
        help="file format of the parts of -o DIR/ (default parquet)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, help="-o DIR/: spread the chunks over N local Dask worker processes")
    g.add_argument(
        "--scheduler", help="-o DIR/: spread the chunks over a running Dask cluster, e.g. tcp://10.0.0.1:8786"
    )
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("simulate", help="run a detector emulation on an event file")
    p.add_argument("events", help="input event file (.root or .parquet)")
    p.add_argument("--detector", required=True, help="belle2, na62 or atlas")
    p.add_argument("--seed", type=int, default=0, help="seed of the detector smearing")
    p.add_argument("-o", "--output", required=True, help="output file (.root or .parquet)")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("recast", help="limits / allowed regions from a published search")
    p.add_argument("analysis", help="belle2, na62, koto or atlas")
    p.add_argument("--channel", help="signal channel (default: the analysis's own)")
    p.add_argument("--mphi", type=float, help="phi mass in GeV")
    p.add_argument("--mx", type=float, help="X mass in GeV (two-body channels)")
    p.add_argument("--ms", type=float, help="S mass in GeV (pp2js)")
    p.add_argument("--coupling", action="append", metavar="NAME=VALUE", help=COUPLING_HELP)
    p.add_argument("--cutoff", type=float, help="ATLAS: EFT cut-off in GeV (drop events with sqrt(s_hat) above it)")
    p.add_argument("--seed", type=int, default=1, help="seed of the signal generation")
    p.add_argument("-n", type=int, help="signal events to generate (default: the analysis's)")
    p.add_argument("--plot", help="write a PNG plot of the result")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_recast)

    # subcommands contributed by other modules (present only when installed)
    for module in ("evtgen.shower", "analyses.scanning"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(mod, "register_cli"):
            mod.register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PhiphiError as exc:
        print(f"phiphi: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("phiphi: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
