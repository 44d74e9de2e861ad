"""Helpers every layer's command-line registration uses: the model-point options, coupling
and count parsing, and the help texts read from the registries.

Importing this module imports no numba kernel, pyhf or Dask (``phiphi --help`` stays fast).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

from .errors import PhiphiError, check_finite
from .model import ModelPoint, model_point


def parse_couplings(items: Sequence[str] | None) -> dict[str, float]:
    """``["CS_sb=1e-8", ...]`` -> dict; a name given twice is an error (never silently the last)."""
    out: dict[str, float] = {}
    for item in items or []:
        if "=" not in item:
            raise PhiphiError(f"--coupling {item!r} is not NAME=VALUE")
        name, val = (x.strip() for x in item.split("=", 1))
        if name in out:
            raise PhiphiError(f"--coupling {name} is given twice ({out[name]:g} and {val}); give it once")
        out[name] = check_finite(name, val)
    return out


def parse_count(text: str) -> int:
    """An event count as a physicist types it: ``100000``, ``1e5``, ``2.5e6`` (an integer > 0)."""
    try:
        x = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(x) or x != int(x) or x <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(x)


def parse_seed(text: str) -> int:
    """A seed: an integer in [0, 2^64 - 1]."""
    from .model import MAX_SEED

    try:
        s = int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= s <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text!r} is not in [0, 2^64 - 1]")
    return s


def coupling_help() -> str:
    """The --coupling help, from the coupling and channel registries."""
    from .channels import ROWS

    per_channel = "; ".join(f"{n}: {', '.join(r.couplings) or 'none'}" for n, r in ROWS.items())
    return (
        "NAME=VALUE, repeatable (each name once). Convention: L > 1/2 C (qbar_i q_j) phi^2 (papers without the 1/2 "
        f"have C' = C/2). Per channel: {per_channel}. Units and meaning: `phiphi couplings`."
    )


def channel_help() -> str:
    """``name: description`` of every registered channel."""
    from .channels import ROWS

    return "; ".join(f"{n} ({r.mass_option or 'no mass'})" for n, r in ROWS.items())


def add_mass_args(p: argparse.ArgumentParser) -> None:
    """--mphi, --mx, --ms."""
    p.add_argument("--mphi", type=float, help="phi mass in GeV (pair channels)")
    p.add_argument("--mx", type=float, help="mass of the single invisible X in GeV (b2kx, k2pix)")
    p.add_argument("--ms", type=float, help="mass of the single invisible scalar S in GeV (pp2js)")


def add_model_args(p: argparse.ArgumentParser, *, lhc: bool = True) -> None:
    """The options of a model point: masses, couplings and (``lhc``) the LHC generator options."""
    add_mass_args(p)
    p.add_argument("--coupling", action="append", metavar="NAME=VALUE", help=coupling_help())
    if lhc:
        p.add_argument("--ptj-min", type=float, dest="ptj_min", help="LHC channels: parton pT cut in GeV (default 150)")
        p.add_argument("--scale", choices=("default", "pythia"), help="LHC channels: scale choice")
        p.add_argument("--pdf", help="LHC channels: LHAPDF set name (default NNPDF23_lo_as_0130_qed)")
        p.add_argument(
            "--alphas-mz",
            type=float,
            dest="alphas_mz",
            help="LHC channels: alpha_s(M_Z), only for a PDF set not listed in evtgen/data/pdfsets.yaml",
        )


def generator_options(args: argparse.Namespace) -> dict[str, Any]:
    """The LHC generator options that were given."""
    from .channels import LHC_OPTIONS

    return {k: getattr(args, k) for k in LHC_OPTIONS if getattr(args, k, None) is not None}


def point_from_args(args: argparse.Namespace, *, channel: str | None = None, seed: Any = None) -> ModelPoint:
    """The validated model point of parsed CLI options (``--model FILE`` first, then flags on top)."""
    base: dict[str, Any] = {}
    model_file = getattr(args, "model", None)
    if model_file:
        from .modelfile import load_model

        loaded = load_model(model_file)
        base = {"mphi": loaded.mphi, "mx": loaded.mx, "ms": loaded.ms, "couplings": dict(loaded.couplings)}
        base["uv"] = loaded.uv
    cpl = dict(base.get("couplings") or {})
    cpl.update(parse_couplings(getattr(args, "coupling", None)))
    masses = {k: getattr(args, k, None) for k in ("mphi", "mx", "ms")}
    for k, v in masses.items():
        if v is None:
            masses[k] = base.get(k)
    opts = generator_options(args)
    if base.get("uv") and channel is not None:
        from .channels import row

        r = row(channel)
        if "uv" in r.options:  # generated from the UV point itself (pp2vlq), not from its matched EFT
            opts["uv"] = dict(base["uv"]["parameters"])
            cpl = {k: v for k, v in cpl.items() if k in r.couplings}
    return model_point(
        **masses,
        couplings=cpl,
        channel=channel,
        seed=seed,
        options=opts,
        uv=base.get("uv"),
    )
