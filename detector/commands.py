"""The detector layer's command: ``phiphi simulate``. Registered through the
``phiphi.commands`` entry point; it only parses and calls :func:`detector.simulate_file`."""

from __future__ import annotations

import argparse
import sys

from evtgen import cliutil

from . import EMULATIONS


def _cmd_simulate(args: argparse.Namespace) -> int:
    from . import simulate_file

    path = simulate_file(args.events, args.detector, args.output, seed=args.seed, card=args.card)
    print(f"wrote {args.detector or args.card} emulation to {path}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``phiphi simulate`` to the root parser."""
    p = sub.add_parser("simulate", help="run a detector emulation (packaged or from a card) on an event file")
    p.add_argument("events", help="input event file (.root or .parquet)")
    p.add_argument("--detector", choices=tuple(EMULATIONS), help="a packaged detector")
    p.add_argument("--card", help="a card file (YAML with 'emulation: " + "|".join(EMULATIONS) + "')")
    p.add_argument("--seed", type=cliutil.parse_seed, default=0, help="seed of the detector smearing")
    p.add_argument("-o", "--output", required=True, help="output file (.root or .parquet)")
    p.set_defaults(func=_cmd_simulate)
