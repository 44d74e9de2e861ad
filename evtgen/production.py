"""Write event files: rate + metadata + chunked generation, with a progress bar.

Every output is streamed chunk by chunk (decays: :meth:`DecayChannel.generate_block`; LHC
channels: ``generate_chunks``), so the memory is bounded by the chunk size whatever ``n``.
Before any work: the point is validated, a physically impossible rate (BR > 1, a partial
width above the parent's total width) is refused with the largest allowed coupling, and an
output that will not fit on the disk is refused with the size estimate.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import channels, rng
from .errors import PhiphiError, check_positive_int
from .frames import check_frame
from .io import check_space, check_writable, file_format, write_events
from .model import channel_point

#: events per chunk written to disk: 262144 float64 = 2 MiB per branch per extend
DEFAULT_CHUNK = 1 << 18


def run_metadata(
    ch: Any,
    *,
    n: int,
    mass: float | None,
    couplings: dict,
    seed: int,
    frame: str,
    rate: Any,
    options: dict | None = None,
) -> dict[str, Any]:
    """Metadata written into every event file."""
    from . import __version__

    meta = {
        "generator": "phiphi",
        "version": __version__,
        "channel": ch.name,
        "description": getattr(ch, "description", ""),
        "n_events": int(n),
        "seed": int(seed),
        "frame": frame,
        "units": "GeV; vertices in m",
        "coupling_convention": "L > 1/2 C (qbar_i q_j) phi^2 (project convention, see README)",
        "rate": rate.as_dict(),
    }
    if getattr(ch, "mass_option", None):
        meta[ch.mass_option] = mass
    meta["couplings"] = rate.as_dict().get("couplings", couplings)
    if options:
        meta["options"] = {k: v for k, v in options.items() if v is not None}
    return meta


def check_physical(name: str, rate: Any, couplings: dict | None) -> None:
    """Refuse a rate that cannot be: BR > 1 (i.e. a partial width above the parent's total
    width). The message gives the largest allowed value of the coupling (BR scales as C^2)."""
    br = getattr(rate, "br", None)
    if br is None:
        return
    if not math.isfinite(br):
        raise PhiphiError(f"the branching ratio of {name} is not finite ({br}) for couplings {couplings or {}}")
    if br <= 1.0:
        return
    cpl = {k: v for k, v in (getattr(rate, "couplings", None) or couplings or {}).items() if v and k != "br"}
    if len(cpl) == 1:
        ((k, v),) = cpl.items()
        limit = abs(v) / math.sqrt(br)
        raise PhiphiError(
            f"{k} = {v:g} gives BR({name}) = {br:.3g} > 1 (width above the parent's total width); "
            f"allowed: |{k}| <= {limit:.4g}"
        )
    scale = 1.0 / math.sqrt(br)
    raise PhiphiError(
        f"couplings {cpl} give BR({name}) = {br:.3g} > 1 (width above the parent's total width); "
        f"allowed: all couplings scaled by <= {scale:.4g}"
    )


def physical_rate(name: str, *, mass: Any, couplings: dict | None, options: dict | None) -> Any:
    """The rate of channel ``name`` (overflows of absurd couplings silenced) after
    :func:`check_physical`: the one rate computation every entry point goes through."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        rate = channels.get(name).rate(mass=mass, couplings=couplings, options=options)
    check_physical(name, rate, couplings)
    return rate


def bytes_per_event(name: str, fmt: str, frame: str = "lab") -> int:
    """Estimated bytes per event of an output (uncompressed float64 columns; LHE text)."""
    row = channels.row(name)
    if row.kind == "lhc":
        n_particles = 3 if row.mass_option == "mphi" else 2
        if fmt == "lhe":
            return 140 * (n_particles + 3) + 100
        return 8 * (4 * n_particles + 10)
    n_cols = 4 * len(row.particles) + 1 + (3 if row.experiment == "na62" and frame == "lab" else 0)
    return 8 * n_cols


def _blocks(ch, n: int, chunk: int, key, mass, couplings, frame, progress) -> Iterator[dict]:
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, unit="ev", unit_scale=True, desc=ch.name, file=sys.stderr)
    try:
        for first in range(0, n, chunk):
            m = min(chunk, n - first)
            yield ch.generate_block(first, m, key=key, mass=mass, couplings=couplings, frame=frame)
            if bar is not None:
                bar.update(m)
    finally:
        if bar is not None:
            bar.close()


def generate_file(
    name: str,
    n: int,
    path: str | os.PathLike,
    *,
    mphi: float | None = None,
    mx: float | None = None,
    ms: float | None = None,
    couplings: dict | None = None,
    seed: int | None = None,
    frame: str = "lab",
    chunk_size: int = DEFAULT_CHUNK,
    progress: bool | None = None,
    options: dict | None = None,
) -> tuple[Path, dict]:
    """Generate ``n`` events of channel ``name`` into ``path`` (.root/.parquet/.lhe).

    Returns (path, metadata). Events do not depend on ``chunk_size``.
    """
    n = check_positive_int("n", n)
    chunk_size = check_positive_int("chunk_size", chunk_size)
    point = channel_point(name, mphi=mphi, mx=mx, ms=ms, couplings=couplings, seed=seed, options=options)
    mass, seed, options = point.mass, point.seed, dict(point.options)
    if channels.row(name).kind == "lhc":
        couplings = {k: point.couplings[k] for k in (couplings or {})}
    check_frame(frame)
    if channels.row(name).kind == "lhc" and frame not in (None, "lab"):
        raise PhiphiError(f"frame {frame!r}: {name} events exist only in the lab (pp centre-of-mass) frame")
    ch = channels.get(name)
    file_format(path)
    fmt = Path(path).suffix.lower()
    if fmt not in channels.row(name).formats:
        allowed = ", ".join(channels.row(name).formats)
        raise PhiphiError(f"output {str(path)!r}: channel {name} writes {allowed}, not {fmt}")
    check_writable(path)
    check_space(path, n * bytes_per_event(name, fmt.lstrip("."), frame), f"{n} {name} events in {str(path)!r}")
    rate = physical_rate(name, mass=mass, couplings=couplings, options=options)
    seed = rng.resolve_seed(seed)
    cpl = ch.resolve_couplings(couplings) if hasattr(ch, "resolve_couplings") else (couplings or {})
    meta = run_metadata(ch, n=n, mass=mass, couplings=cpl, seed=seed, frame=frame, rate=rate, options=options)
    if progress is None:
        progress = sys.stderr.isatty()
    if hasattr(ch, "generate_block"):
        key = rng.derive_key(seed)
        chunks = _blocks(ch, n, chunk_size, key, mass, cpl, frame, progress)
    elif hasattr(ch, "generate_chunks"):
        chunks = _progress(
            ch.generate_chunks(n, mass=mass, couplings=cpl, seed=seed, options=options, chunk_size=chunk_size),
            n,
            name,
            progress,
        )
    else:
        chunks = [ch.generate(n, mass=mass, couplings=cpl, seed=seed, frame=frame, options=options)]
    if fmt == ".lhe" and hasattr(ch, "write_lhe"):  # a channel with its own LHE record (pp2vlq: resonances)
        return Path(ch.write_lhe(path, chunks, meta)), meta
    return write_events(path, chunks, meta), meta


def _progress(chunks, n: int, name: str, progress: bool) -> Iterator:
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, unit="ev", unit_scale=True, desc=name, file=sys.stderr)
    try:
        for c in chunks:
            yield c
            if bar is not None:
                bar.update(len(c))
    finally:
        if bar is not None:
            bar.close()
