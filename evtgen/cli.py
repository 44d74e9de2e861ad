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


class UsageError(Exception):
    """A command-line syntax error found by argparse (printed as one line, exit status 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line ``phiphi: error: ...`` (no usage block).

    ``add_subparsers`` builds the subcommand parsers with the class of their parent, so every
    registered command inherits this behaviour.
    """

    def error(self, message: str):  # type: ignore[override]
        sub = self.prog[len("phiphi") :].strip() if self.prog.startswith("phiphi") else self.prog
        where = f"phiphi {sub} --help" if sub else "phiphi --help"
        raise UsageError(f"{message} (see {where})")


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every registered layer's subcommands."""
    from . import __version__

    parser = OneLineParser(
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
    from .errors import PhiphiError, Terminated

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except (PhiphiError, UsageError) as exc:
        print(f"phiphi: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("phiphi: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("phiphi: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (a multi-line message is joined with '; ')."""
    return "; ".join(x.strip() for x in str(exc).splitlines() if x.strip())


if __name__ == "__main__":
    sys.exit(main())
