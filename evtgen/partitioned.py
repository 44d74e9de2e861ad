"""Large productions as partitioned datasets: ``DIR/part-00000.parquet`` (or ``.root``) ...
plus ``DIR/manifest.json``, generated chunk by chunk, serially or on Dask workers.

Part ``k`` holds events ``[k*chunk_size, (k+1)*chunk_size)`` of the run. For the decay
channels these are exactly the events of :func:`evtgen.generate` with the same seed (every
event has its own counter-based random stream, :mod:`evtgen.rng`), so the dataset does not
depend on the number of workers or on the order the parts finish in. Channels without
block generation (the LHC channels) generate each part from its own seed, derived from the
master seed and ``k``: reproducible for a given seed and chunk size.

Crash safety: the production is written into a hidden staging directory beside ``DIR``
(``.DIR.partial/``) and renamed to ``DIR`` only when every part is complete, so ``DIR``
either does not exist or holds the complete dataset: no standard reader
(``ak.from_parquet(DIR)``, ``dask_awkward.from_parquet``, ``uproot.dask``, ROOT) can take a
killed production for data. Inside the staging directory a part is written to a hidden
temporary name (``.part-00003.parquet.tmp-*``) and renamed when complete, so a part file
is complete or absent. The manifest (metadata, chunk size, per-part row counts,
``complete`` flag) is written first, atomically; a rerun with the same arguments checks
it, removes stray temporaries, generates only the missing parts and then renames. A run
that fails validation (bad point, BR > 1, no disk space, unreachable scheduler) creates
nothing. Peak memory is one block of :data:`WRITE_BLOCK` events per worker (a part is
generated and written in row groups of that size), whatever ``n`` and ``chunk_size``.

The dataset opens as one array with ``ak.from_parquet(DIR)``, ``dask_awkward.from_parquet(DIR)``
or ``uproot.dask({"DIR/part-*.root": "events"})``; :func:`read_dataset` adds the vector
behaviour of :func:`evtgen.io.read_events`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import channels, rng
from .errors import PhiphiError, check_positive_int
from .io import atomic_path, write_events
from .parallel import dask_client, index_seed, progress_bar

MANIFEST = "manifest.json"
#: events generated and written at a time inside a part (one Parquet row group / ROOT basket
#: batch): the memory bound of a worker, whatever ``chunk_size``
WRITE_BLOCK = 1 << 16
PART_FORMATS = ("parquet", "root")
#: manifest entries that must match when a production is resumed
IDENTITY_KEYS = (
    "channel",
    "n_events",
    "chunk_size",
    "format",
    "seed",
    "frame",
    "mass",
    "couplings",
    "options",
    "version",
)


def part_name(k: int, fmt: str, n_parts: int = 1) -> str:
    """File name of part ``k`` of ``n_parts``: ``part-00003.parquet`` (at least 5 digits,
    more if needed, so that the names sort in event order)."""
    return f"part-{k:0{max(5, len(str(n_parts - 1)))}d}.{fmt}"


def part_seed(seed: int, k: int) -> int:
    """Seed of part ``k`` for channels without block generation (independent of workers/order)."""
    return index_seed(seed, k)


# --- manifest -------------------------------------------------------------------------------
def staging_dir(directory: str | os.PathLike) -> Path:
    """The hidden directory a production of ``directory`` is written into until complete."""
    d = Path(directory).expanduser().resolve()
    return d.parent / f".{d.name}.partial"


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a partitioned dataset."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        if (staging_dir(directory) / MANIFEST).is_file():
            raise PhiphiError(
                f"{str(directory)!r} is an incomplete production (parts in {str(staging_dir(directory))!r}): "
                "rerun the same command to finish it"
            )
        raise PhiphiError(f"{str(directory)!r} has no {MANIFEST}: not a partitioned phiphi dataset")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PhiphiError(f"cannot read {str(path)!r}: {exc}") from None


def _write_json_atomic(path: Path, obj: dict) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True, default=_json_default)
        f.flush()
        os.fsync(f.fileno())


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return str(o)


def _canonical(x: Any) -> Any:
    """JSON round trip, so manifests built now compare equal to manifests read back."""
    return json.loads(json.dumps(x, sort_keys=True, default=_json_default))


def _check_same(old: dict, new: dict, directory: Path) -> None:
    for k in IDENTITY_KEYS:
        if old.get(k) != new.get(k):
            raise PhiphiError(
                f"{str(directory)!r} holds a different production ({k} = {old.get(k)!r} there, {new.get(k)!r} now); use another directory"
            )


# --- one part -------------------------------------------------------------------------------
def _peak_rss_bytes() -> int:
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kb * (1 if sys.platform == "darwin" else 1024))


def write_part(spec: dict[str, Any], k: int) -> dict[str, Any]:
    """Generate part ``k`` of the production ``spec`` and write it (temp name + rename).

    Returns ``{"part", "n_events", "peak_rss"}`` (peak RSS of this process in bytes). Runs
    in the client or on a Dask worker.
    """
    directory = Path(spec["directory"])
    fmt = spec["format"]
    first = k * spec["chunk_size"]
    n = min(spec["chunk_size"], spec["n_events"] - first)
    ch = channels.get(spec["channel"])
    if hasattr(ch, "generate_block"):
        key = rng.derive_key(spec["seed"])
        step = min(n, WRITE_BLOCK)
        # the part is generated and written in row groups of WRITE_BLOCK events (the same
        # events: every event has its own stream), so memory does not grow with chunk_size
        cols = (
            ch.generate_block(
                first + lo,
                min(step, n - lo),
                key=key,
                mass=spec["mass"],
                couplings=spec["couplings"],
                frame=spec["frame"],
            )
            for lo in range(0, n, step)
        )
    else:
        from .events import to_columns

        ev = ch.generate(
            n,
            mass=spec["mass"],
            couplings=spec["couplings"],
            seed=part_seed(spec["seed"], k),
            frame=spec["frame"],
            options=spec["options"],
        )
        cols = [to_columns(ev)]
        del ev
    meta = dict(spec["metadata"], part=k, first_event=first, n_events_part=n)
    final = directory / part_name(k, fmt, -(-spec["n_events"] // spec["chunk_size"]))
    write_events(final, cols, meta)  # hidden temp name, renamed when complete
    del cols
    return {"part": k, "n_events": n, "peak_rss": _peak_rss_bytes()}


def _part_rows(path: Path, fmt: str) -> int | None:
    """Row count of an existing part file (None if it cannot be read)."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        import uproot

        with uproot.open(path) as f:
            return int(f["events"].num_entries)
    except Exception:  # a foreign or damaged file: regenerate it
        return None


# --- production -----------------------------------------------------------------------------
def generate_to(
    name: str,
    n: int,
    directory: str | os.PathLike,
    *,
    chunk_size: int = 1_000_000,
    mphi: float | None = None,
    mx: float | None = None,
    ms: float | None = None,
    couplings: dict[str, float] | None = None,
    seed: int | None = None,
    frame: str = "lab",
    format: str = "parquet",
    options: dict | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Generate ``n`` events of channel ``name`` into the partitioned dataset ``directory``.

    Serial in this process unless ``workers``, ``scheduler`` (``tcp://host:port``) or a
    ``distributed.Client`` is given. Resumes an interrupted production (same arguments;
    ``seed=None`` then reuses the manifest's seed). Returns the manifest, with
    ``peak_rss_bytes`` = the largest peak RSS of the processes that wrote parts in this call.
    """
    from . import __version__
    from .io import check_space, terminate_as_exception
    from .model import channel_point
    from .production import bytes_per_event, physical_rate, run_metadata

    n = check_positive_int("n", n)
    chunk_size = check_positive_int("chunk_size", chunk_size)
    if format not in PART_FORMATS:
        raise PhiphiError(f"format {format!r} must be one of {', '.join(PART_FORMATS)}")
    if workers is not None and scheduler is not None:
        raise PhiphiError("give either workers or a scheduler address, not both")
    if workers is not None:
        check_positive_int("workers", workers)
    if frame not in ("lab", "rest"):
        raise PhiphiError(f"frame {frame!r} must be 'lab' or 'rest'")
    point = channel_point(name, mphi=mphi, mx=mx, ms=ms, couplings=couplings, seed=seed, options=options)
    ch = channels.get(name)
    if channels.row(name).kind == "lhc":
        couplings = {k: point.couplings[k] for k in (couplings or {})}
        if frame != "lab":
            raise PhiphiError(f"frame {frame!r}: {name} events exist only in the lab (pp centre-of-mass) frame")
    mass, seed = point.mass, point.seed
    options = {k: v for k, v in dict(point.options).items() if v is not None}
    if str(directory).strip() == "":
        raise PhiphiError("output directory '' is not a path; give DIR/")
    d = Path(directory).expanduser().resolve()
    stage = staging_dir(d)
    if d.exists() and not d.is_dir():
        raise PhiphiError(f"output path {str(d)!r} exists and is not a directory")
    if not d.parent.is_dir():
        raise PhiphiError(f"parent directory {str(d.parent)!r} does not exist")
    if not os.access(d.parent, os.W_OK):
        raise PhiphiError(f"parent directory {str(d.parent)!r} is not writable")
    done = read_manifest(d) if (d / MANIFEST).is_file() else None
    if done is None and d.is_dir() and any(d.iterdir()):
        what = "part files but no " + MANIFEST if any(d.glob("part-*")) else "other files"
        raise PhiphiError(f"{str(d)!r} holds {what}; use a new or empty directory")
    old = done or (read_manifest(stage) if (stage / MANIFEST).is_file() else None)
    if seed is None and old is not None:
        seed = old.get("seed")
    seed = rng.resolve_seed(seed)
    if old is None:
        check_space(d, n * bytes_per_event(name, format, frame), f"{n} {name} events in {str(d)!r}")

    rate = physical_rate(name, mass=mass, couplings=couplings, options=options)
    cpl = ch.resolve_couplings(couplings) if hasattr(ch, "resolve_couplings") else (couplings or {})
    meta = run_metadata(ch, n=n, mass=mass, couplings=cpl, seed=seed, frame=frame, rate=rate, options=options)
    n_parts = -(-n // chunk_size)
    manifest = _canonical(
        {
            "dataset": "phiphi partitioned events",
            "channel": ch.name,
            "n_events": n,
            "chunk_size": chunk_size,
            "format": format,
            "seed": seed,
            "frame": frame,
            "mass": mass,
            "couplings": cpl,
            "options": options,
            "version": __version__,
            "metadata": meta,
            "tree": "events" if format == "root" else None,
            "parts": [
                {
                    "file": part_name(k, format, n_parts),
                    "first_event": k * chunk_size,
                    "n_events": min(chunk_size, n - k * chunk_size),
                }
                for k in range(n_parts)
            ],
            "complete": False,
        }
    )
    if old is not None:
        _check_same(old, manifest, d)
    if done is not None:
        intact = all(_part_rows(d / q["file"], format) == q["n_events"] for q in manifest["parts"])
        if intact:  # the complete dataset is there already: write nothing
            done["peak_rss_bytes"] = 0
            done["parts_written"] = 0
            return done
        # a part was deleted or damaged: back to staging (DIR disappears until complete again)
        if stage.exists():
            raise PhiphiError(f"both {str(d)!r} and its staging directory {str(stage)!r} exist; remove one")
        os.replace(d, stage)

    with contextlib.ExitStack() as stack:
        stack.enter_context(terminate_as_exception())
        c = None
        if workers is not None or scheduler is not None or client is not None:
            # connect before anything is written: an unreachable scheduler leaves nothing
            c = stack.enter_context(dask_client(workers, scheduler, client))
        if old is None:
            stage.mkdir(exist_ok=True)
            _write_json_atomic(stage / MANIFEST, manifest)
        for stray in stage.glob(".part-*.tmp-*"):  # left by a killed run
            with contextlib.suppress(OSError):
                stray.unlink()
        missing = [
            p
            for p in range(n_parts)
            if _part_rows(stage / manifest["parts"][p]["file"], format) != manifest["parts"][p]["n_events"]
        ]
        spec = {
            "directory": str(stage),
            "channel": ch.name,
            "n_events": n,
            "chunk_size": chunk_size,
            "format": format,
            "seed": seed,
            "frame": frame,
            "mass": mass,
            "couplings": cpl,
            "options": options,
            "metadata": meta,
        }
        peak = 0
        bar = progress_bar(n_parts, n_parts - len(missing), f"{ch.name} parts", "part", progress)
        try:
            if missing and c is None:
                for k in missing:
                    peak = max(peak, write_part(spec, k)["peak_rss"])
                    if bar is not None:
                        bar.update(1)
            elif missing:
                from distributed import as_completed

                futures = [c.submit(write_part, spec, k, pure=False) for k in missing]
                for fut in as_completed(futures):
                    peak = max(peak, fut.result()["peak_rss"])
                    if bar is not None:
                        bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        manifest["complete"] = True
        _write_json_atomic(stage / MANIFEST, manifest)
        _fsync_dir(stage)
        os.replace(stage, d)  # an empty DIR made by the user is replaced too
        _fsync_dir(d.parent)
    manifest["peak_rss_bytes"] = peak
    manifest["parts_written"] = len(missing)
    return manifest


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def part_files(directory: str | os.PathLike) -> list[Path]:
    """The part files of a complete partitioned dataset, in event order."""
    d = Path(directory)
    man = read_manifest(d)
    if not man.get("complete"):
        raise PhiphiError(f"{str(d)!r} is an incomplete production: rerun the same command to finish it")
    files = [d / p["file"] for p in man["parts"]]
    absent = [f.name for f in files if not f.is_file()]
    if absent:
        raise PhiphiError(f"{str(d)!r} misses part {absent[0]}: rerun the production to regenerate it")
    return files


def read_dataset(directory: str | os.PathLike) -> Any:
    """All events of a partitioned dataset in memory (records with Momentum4D behaviour)."""
    import awkward as ak

    from .io import read_events

    parts = [read_events(f) for f in part_files(directory)]
    return parts[0] if len(parts) == 1 else ak.concatenate(parts)


def is_directory_output(path: str) -> bool:
    """True if ``-o`` names a partitioned dataset: ends in ``/`` or is an existing directory."""
    return path.endswith(("/", os.sep)) or Path(path).is_dir()
