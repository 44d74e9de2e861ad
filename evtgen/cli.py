"""The ``phiphi`` command line: a root parser that knows no package.

Each layer registers its own subcommands through the ``phiphi.commands`` entry-point group
(``pyproject.toml``): a function ``register(subparsers)``. This module only reads the group,
builds the parser and turns a user error into one line ``phiphi: error: ...`` with exit
status 2. The commands themselves only parse and call the Python API.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

#: the entry-point group each layer registers its commands in
GROUP = "phiphi.commands"


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every registered layer's subcommands."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="phiphi",
        description="Light invisible scalar pairs in Belle II, NA62, KOTO and ATLAS missing-energy searches, "
        "and as dark matter. Units: GeV.",
    )
    parser.add_argument("--version", action="version", version=f"phiphi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for ep in entry_points(group=GROUP):
        ep.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input)."""
    from .errors import PhiphiError

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
