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
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from .errors import PhiphiError
from .events import to_awkward, to_columns

TREE_NAME = "events"
METADATA_KEY = "phiphi"
FORMATS = {".root": "root", ".parquet": "parquet", ".lhe": "lhe"}


def file_format(path: str | os.PathLike) -> str:
    """'root', 'parquet' or 'lhe' from the file extension (PhiphiError otherwise)."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise PhiphiError(f"output file {str(path)!r} must end in one of {', '.join(FORMATS)}")
    return FORMATS[ext]


def check_writable(path: str | os.PathLike) -> Path:
    """Resolve ``path`` and fail early (one line) if its directory cannot be written."""
    p = Path(path).expanduser().resolve()
    d = p.parent
    if not d.is_dir():
        raise PhiphiError(f"output directory {str(d)!r} does not exist")
    if not os.access(d, os.W_OK):
        raise PhiphiError(f"output directory {str(d)!r} is not writable")
    if p.is_dir():
        raise PhiphiError(f"output path {str(p)!r} is a directory")
    return p


def temp_prefix(path: str | os.PathLike) -> str:
    """Prefix of the hidden temporary files written before ``path`` (``.NAME.tmp-``)."""
    return f".{Path(path).name}.tmp-"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success.

    The temporary file is hidden (``.NAME.tmp-XXXX``, matched by no ``*.ext`` glob) and gets the permissions a plain
    ``open`` would give (mkstemp makes it private) before the rename.
    """
    p = check_writable(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(p), dir=p.parent)
    except OSError as exc:
        raise PhiphiError(f"cannot write in output directory {str(p.parent)!r}: {exc.strerror}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp_path, 0o666 & ~mask)
        os.replace(tmp_path, p)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def _jsonable(meta: dict[str, Any]) -> str:
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


def _write_root(tmp: Path, chunks, metadata) -> None:
    import uproot

    with uproot.recreate(tmp) as f:
        f["metadata"] = _jsonable(metadata)
        tree = None
        for chunk in chunks:
            cols = _as_columns(chunk)
            if tree is None:
                tree = f.mktree(TREE_NAME, {k: v.dtype for k, v in cols.items()}, title="phiphi events")
            tree.extend(cols)
        if tree is None:
            raise PhiphiError("no events to write")


def _write_parquet(tmp: Path, chunks, metadata) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for chunk in chunks:
            cols = _as_columns(chunk)
            table = pa.table({k: pa.array(v) for k, v in cols.items()})
            if writer is None:
                schema = table.schema.with_metadata({METADATA_KEY: _jsonable(metadata)})
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
        if writer is None:
            raise PhiphiError("no events to write")
    finally:
        if writer is not None:
            writer.close()


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The run metadata stored in an event file."""
    fmt = file_format(path)
    if fmt == "root":
        import uproot

        with uproot.open(path) as f:
            return json.loads(str(f["metadata"]))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        md = pq.read_schema(path).metadata or {}
        return json.loads(md[METADATA_KEY.encode()].decode())
    raise PhiphiError(f"cannot read metadata from {str(path)!r}")


def read_events(path: str | os.PathLike) -> ak.Array:
    """Events of a .root or .parquet file as records with Momentum4D behaviour."""
    p = Path(path)
    if not p.is_file():
        raise PhiphiError(f"event file {str(path)!r} does not exist")
    fmt = file_format(p)
    try:
        if fmt == "root":
            import uproot

            with uproot.open(p) as f:
                if TREE_NAME not in f:
                    raise PhiphiError(f"{str(path)!r} has no '{TREE_NAME}' tree")
                cols = f[TREE_NAME].arrays(library="np")
        elif fmt == "parquet":
            arr = ak.from_parquet(p)
            cols = {k: ak.to_numpy(arr[k]) for k in arr.fields}
        else:
            raise PhiphiError(f"read LHE files with pylhe, not read_events: {str(path)!r}")
    except PhiphiError:
        raise
    except Exception as exc:  # corrupted or foreign file
        raise PhiphiError(f"cannot read events from {str(path)!r}: {type(exc).__name__}: {exc}") from None
    return to_awkward(cols)
