"""Write event files: rate + metadata + chunked generation, with a progress bar."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import channels, rng
from .errors import PhiphiError, check_positive_int
from .frames import check_frame
from .io import check_writable, file_format, write_events
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
    ch = channels.get(name)
    file_format(path)
    fmt = Path(path).suffix.lower()
    if fmt not in channels.row(name).formats:
        allowed = ", ".join(channels.row(name).formats)
        raise PhiphiError(f"output {str(path)!r}: channel {name} writes {allowed}, not {fmt}")
    check_writable(path)
    rate = ch.rate(mass=mass, couplings=couplings, options=options)
    seed = rng.resolve_seed(seed)
    cpl = ch.resolve_couplings(couplings) if hasattr(ch, "resolve_couplings") else (couplings or {})
    meta = run_metadata(ch, n=n, mass=mass, couplings=cpl, seed=seed, frame=frame, rate=rate, options=options)
    if progress is None:
        progress = sys.stderr.isatty()
    if hasattr(ch, "generate_block"):
        key = rng.derive_key(seed)
        chunks = _blocks(ch, n, chunk_size, key, mass, cpl, frame, progress)
    else:
        chunks = [ch.generate(n, mass=mass, couplings=cpl, seed=seed, frame=frame, options=options)]
    return write_events(path, chunks, meta), meta
