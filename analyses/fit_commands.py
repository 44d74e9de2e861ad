"""The combination commands (``phiphi fit``, ``phiphi report``): registered through the
``phiphi.commands`` entry point. (Filled in by the combination work.)"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the combination subcommands to the root parser (none yet)."""
