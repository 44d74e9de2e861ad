"""Event files: ROOT TTree (uproot) and Parquet (pyarrow row groups), chosen by extension.

Files are written in chunks to a temporary name in the target directory and renamed when
complete, so an interrupted run never leaves a file that looks finished. The run metadata
(channel, couplings, masses, rate, seed, version) is stored as JSON: a ``TObjString``
named ``metadata`` in ROOT files, the ``phiphi`` key of the Parquet schema metadata.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from .errors import PhiphiError
from .events import flat_or_jagged, to_awkward, to_columns
from .files import (  # noqa: F401  (re-exported: evtgen.io is where users look)
    FORMATS,
    atomic_path,
    check_space,
    check_writable,
    file_format,
    glob_escape,
    public_mode,
    remove_stale_temps,
    temp_prefix,
    terminate_as_exception,
)

TREE_NAME = "events"
METADATA_KEY = "phiphi"


def metadata_json(meta: dict[str, Any]) -> str:
    """``meta`` as sorted JSON (numpy scalars and arrays converted)."""

    def default(o):
        if isinstance(o, (np.floating, np.integer)):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        return str(o)

    return json.dumps(meta, default=default, sort_keys=True)


def write_events(
    path: str | os.PathLike, chunks: ak.Array | Iterable[dict[str, np.ndarray] | ak.Array], metadata: dict[str, Any]
) -> Path:
    """Write events (one array, or an iterable of chunks) with ``metadata``; returns the path."""
    fmt = file_format(path)
    check_writable(path)
    if isinstance(chunks, ak.Array):
        chunks = [chunks]
    if fmt == "lhe":
        from .lhe import write_lhe  # provided by the LHC generator

        return write_lhe(path, chunks, metadata)
    with atomic_path(path) as tmp:
        if fmt == "root":
            _write_root(tmp, chunks, metadata)
        else:
            _write_parquet(tmp, chunks, metadata)
    return Path(path)


def _as_columns(chunk) -> dict[str, np.ndarray]:
    return to_columns(chunk) if isinstance(chunk, ak.Array) else chunk


class _MaskedMagic:
    """A file object for uproot that writes zeros instead of the 4-byte ROOT magic ``root`` at
    offset 0 (uproot rewrites the header after every basket): until :func:`_write_root`
    restores the magic at the very end, a killed write leaves a file that neither uproot nor
    ROOT opens (``not a ROOT file``), never a readable partial tree."""

    def __init__(self, path: Path):
        self._f = open(path, "w+b")  # noqa: SIM115 (closed by uproot through close())

    def write(self, data) -> int:
        pos = self._f.tell()
        if pos < 4:
            head = bytearray(data[: 4 - pos])
            head[:] = bytes(len(head))
            data = bytes(head) + bytes(data[len(head) :])
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)


def _write_root(tmp: Path, chunks, metadata) -> None:
    import uproot

    with uproot.recreate(_MaskedMagic(tmp)) as f:
        f["metadata"] = metadata_json(metadata)
        tree = None
        for chunk in chunks:
            cols = _as_columns(chunk)
            if tree is None:
                types = {k: v.type.content if isinstance(v, ak.Array) else v.dtype for k, v in cols.items()}
                tree = f.mktree(TREE_NAME, types, title="phiphi events")
            tree.extend(cols)
        if tree is None:
            raise PhiphiError("no events to write")
    with open(tmp, "r+b") as fh:  # complete: the file becomes a ROOT file
        fh.write(b"root")
        fh.flush()
        os.fsync(fh.fileno())


def _write_parquet(tmp: Path, chunks, metadata) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for chunk in chunks:
            cols = _as_columns(chunk)
            table = pa.table(
                {
                    k: ak.to_arrow(v, extensionarray=False) if isinstance(v, ak.Array) else pa.array(v)
                    for k, v in cols.items()
                }
            )
            if writer is None:
                schema = table.schema.with_metadata({METADATA_KEY: metadata_json(metadata)})
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
        if writer is None:
            raise PhiphiError("no events to write")
    finally:
        if writer is not None:
            writer.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The run metadata stored in an event file (.root, .parquet, .lhe); a file without
    phiphi metadata, or a damaged one, is a one-line PhiphiError."""
    fmt = file_format(path)
    if not Path(path).is_file():
        raise PhiphiError(f"event file {str(path)!r} does not exist")
    try:
        if fmt == "root":
            import uproot

            with uproot.open(path) as f:
                if "metadata" not in f:
                    raise PhiphiError(f"{str(path)!r} carries no phiphi metadata (not written by phiphi)")
                return json.loads(str(f["metadata"]))
        if fmt == "parquet":
            import pyarrow.parquet as pq

            md = pq.read_schema(path).metadata or {}
            if METADATA_KEY.encode() not in md:
                raise PhiphiError(f"{str(path)!r} carries no phiphi metadata (not written by phiphi)")
            return json.loads(md[METADATA_KEY.encode()].decode())
        from .lhe import read_lhe_metadata

        return read_lhe_metadata(path)
    except PhiphiError:
        raise
    except Exception as exc:  # damaged or foreign file
        msg = (str(exc).splitlines() or [""])[0]
        raise PhiphiError(f"cannot read metadata from {str(path)!r}: {type(exc).__name__}: {msg}") from None


def _event_file(path: str | os.PathLike) -> tuple[Path, str]:
    """The path and format ("root"/"parquet") of an event file to read (PhiphiError otherwise)."""
    p = Path(path)
    if not p.is_file():
        raise PhiphiError(f"event file {str(path)!r} does not exist")
    fmt = file_format(p)
    if fmt not in ("root", "parquet"):
        raise PhiphiError(f"read LHE files with pylhe, not read_events: {str(path)!r}")
    return p, fmt


@contextlib.contextmanager
def _reading(path: str | os.PathLike) -> Iterator[None]:
    """Turn a reader's failure on a corrupted or foreign file into one PhiphiError line."""
    try:
        yield
    except PhiphiError:
        raise
    except Exception as exc:
        msg = (str(exc).splitlines() or [""])[0]
        raise PhiphiError(f"cannot read events from {str(path)!r}: {type(exc).__name__}: {msg}") from None


@contextlib.contextmanager
def _tree(p: Path) -> Iterator[Any]:
    import uproot

    with uproot.open(p) as f:
        if TREE_NAME not in f:
            raise PhiphiError(f"{str(p)!r} has no '{TREE_NAME}' tree")
        yield f[TREE_NAME]


def read_events(path: str | os.PathLike) -> ak.Array:
    """Events of a .root or .parquet file as records with Momentum4D behaviour."""
    p, fmt = _event_file(path)
    with _reading(path):
        if fmt == "root":
            with _tree(p) as tree:
                arr = tree.arrays(library="ak")
        else:
            arr = ak.from_parquet(p)
        cols = {k: flat_or_jagged(arr[k]) for k in arr.fields if not _is_counter(k, arr.fields)}
    return to_awkward(cols)


def iter_events(path: str | os.PathLike, step: int) -> Iterator[ak.Array]:
    """The events of a .root or .parquet file in consecutive blocks of exactly ``step`` events
    (the last may be shorter), whatever the file's own row groups or baskets: memory is bounded
    by ``step``. Flat phiphi files come as Momentum4D records (as :func:`read_events`); files with
    nested records (showered ``jets``) as they are stored."""
    p, fmt = _event_file(path)
    with _reading(path):
        if fmt == "root":
            with _tree(p) as tree:
                for arr in tree.iterate(step_size=step, library="ak"):
                    yield _as_records(arr)
            return
        import pyarrow.parquet as pq

        buffer: list[ak.Array] = []
        have = 0
        for g in range(pq.ParquetFile(p).metadata.num_row_groups):
            buffer.append(ak.from_parquet(p, row_groups=[g]))
            have += len(buffer[-1])
            while have >= step:
                block = ak.concatenate(buffer) if len(buffer) > 1 else buffer[0]
                yield _as_records(block[:step])
                rest = block[step:]
                buffer, have = ([rest] if len(rest) else []), len(rest)
        if have:
            yield _as_records(ak.concatenate(buffer) if len(buffer) > 1 else buffer[0])


def _is_counter(name: str, fields: list[str]) -> bool:
    """uproot's counter branch of a jagged column (``njets_px`` beside ``jets_px``)."""
    return name.startswith("n") and name[1:] in fields


def _as_records(block: ak.Array) -> ak.Array:
    """Flat or jagged columns -> Momentum4D records (as read_events); files of nested records
    (showered ``jets``) unchanged."""
    if any(ak.fields(block[f]) for f in block.fields):
        return block
    return to_awkward({k: flat_or_jagged(block[k]) for k in block.fields if not _is_counter(k, block.fields)})
