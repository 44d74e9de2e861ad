"""The generator layer's commands: ``phiphi rate``, ``generate``, ``shower``, ``channels``,
``couplings``. Registered through the ``phiphi.commands`` entry point; each command only
parses and calls the Python API."""

from __future__ import annotations

import argparse
import json
import sys

from . import cliutil
from .errors import PhiphiError


def _cmd_rate(args: argparse.Namespace) -> int:
    from . import rate

    point = cliutil.point_from_args(args, channel=args.channel)
    r = rate(args.channel, **point.masses, couplings=dict(point.couplings), options=dict(point.options))
    print(json.dumps(r.as_dict()) if args.json else r.summary())
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from .partitioned import generate_to, is_directory_output
    from .production import generate_file

    point = cliutil.point_from_args(args, channel=args.channel, seed=args.seed)
    if not args.output:
        raise PhiphiError("-o '' is not an output path; give FILE.parquet|.root|.lhe or DIR/")
    common = dict(couplings=dict(point.couplings), seed=point.seed, frame=args.frame, options=dict(point.options))
    if is_directory_output(args.output):
        man = generate_to(
            args.channel,
            args.n,
            args.output,
            chunk_size=args.chunk_size,
            format=args.format or "parquet",
            workers=args.workers,
            scheduler=args.scheduler,
            **point.masses,
            **common,
        )
        print(
            f"wrote {man['n_events']} {man['channel']} events to {args.output} ({len(man['parts'])} parts, "
            f"{man['parts_written']} new; seed {man['seed']})",
            file=sys.stderr,
        )
        return 0
    if args.workers is not None or args.scheduler is not None:
        raise PhiphiError("--workers/--scheduler need a partitioned output directory: -o DIR/")
    if args.format is not None and not args.output.lower().endswith("." + args.format):
        raise PhiphiError(f"--format {args.format} contradicts the output file name {args.output!r}")
    path, meta = generate_file(args.channel, args.n, args.output, chunk_size=args.chunk_size, **point.masses, **common)
    rate = meta["rate"]
    what = (
        f"BR = {rate['br']:.4e} +- {rate['br_err']:.2e}"
        if "br" in rate
        else f"sigma = {rate.get('sigma_pb', float('nan')):.4e} pb"
    )
    print(f"wrote {meta['n_events']} {args.channel} events to {path} (seed {meta['seed']}); {what}", file=sys.stderr)
    return 0


def _cmd_shower(args: argparse.Namespace) -> int:
    from .shower import shower_lhe

    path = shower_lhe(args.input, args.output, seed=args.seed, mpi=not args.no_mpi, n_max=args.n, hepmc=args.hepmc)
    also = f" and {args.hepmc}" if args.hepmc else ""
    print(f"wrote showered events to {path}{also}", file=sys.stderr)
    return 0


def _cmd_channels(args: argparse.Namespace) -> int:
    from .channels import ROWS

    for name, row in ROWS.items():
        print(f"{name:<15} {row.mass_option or '-':<5} {row.description}  [{row.coupling_help() or 'no coupling'}]")
    return 0


def _cmd_couplings(args: argparse.Namespace) -> int:
    from .couplings import COUPLINGS

    for c in COUPLINGS.values():
        conv = "1/2 convention (C' = C/2 without it)" if c.half else "no 1/2"
        print(f"{c.name:<7} {c.unit:<8} {c.meaning}; {conv}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the generator layer's subcommands to the root parser."""
    p = sub.add_parser("rate", help="width, branching ratio (decays) or cross section (LHC) of a channel")
    p.add_argument("channel", help=cliutil.channel_help())
    cliutil.add_model_args(p)
    p.add_argument("--model", help="model file (YAML/JSON, EFT or UV point); flags given override it")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_rate)

    p = sub.add_parser("generate", help="generate unweighted events into a .root/.parquet/.lhe file or DIR/")
    p.add_argument("channel", help=cliutil.channel_help())
    p.add_argument("-n", type=cliutil.parse_count, required=True, help="number of events (> 0; 1e5 is fine)")
    cliutil.add_model_args(p)
    p.add_argument("--model", help="model file (YAML/JSON, EFT or UV point); flags given override it")
    p.add_argument(
        "--seed",
        type=cliutil.parse_seed,
        help="master seed in [0, 2^64-1] (default: fresh entropy, written to the file)",
    )
    p.add_argument(
        "--frame",
        choices=("lab", "rest"),
        default="lab",
        help="lab = the experiment's frame (default); rest = parent rest frame",
    )
    p.add_argument(
        "--chunk-size",
        type=cliutil.parse_count,
        default=1 << 18,
        dest="chunk_size",
        help="events per written chunk (does not change the events)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (.root, .parquet; .lhe for LHC channels), or DIR/ for a partitioned dataset (rerun resumes)",
    )
    p.add_argument(
        "--format", choices=("parquet", "root"), help="file format of the parts of -o DIR/ (default parquet)"
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--workers", type=cliutil.parse_count, help="-o DIR/: spread the chunks over N local Dask worker processes"
    )
    g.add_argument(
        "--scheduler", help="-o DIR/: spread the chunks over a running Dask cluster, e.g. tcp://10.0.0.1:8786"
    )
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("shower", help="Pythia 8 shower + hadronisation + anti-kt 0.4 jets of an LHE file")
    p.add_argument("input", help="LHE file from 'phiphi generate pp2jphiphi ... -o FILE.lhe'")
    p.add_argument("-o", "--output", required=True, help="output .parquet file")
    p.add_argument(
        "--seed",
        type=cliutil.parse_seed,
        default=1,
        help="shower seed in [0, 899999999], used as Pythia's Random:seed = seed + 1 (one-to-one, reproducible)",
    )
    p.add_argument(
        "--hepmc", help="also write the full showered events as HepMC3 ASCII (FILE.hepmc3, for Delphes/Rivet)"
    )
    p.add_argument("-n", type=cliutil.parse_count, help="shower at most N events")
    p.add_argument("--no-mpi", action="store_true", help="switch multiparton interactions off")
    p.set_defaults(func=_cmd_shower)

    p = sub.add_parser("channels", help="list the channels: mass, couplings, description")
    p.set_defaults(func=_cmd_channels)
    p = sub.add_parser("couplings", help="list the coupling names: unit, meaning, convention")
    p.set_defaults(func=_cmd_couplings)  # fmt: skip
