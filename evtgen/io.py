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
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from .errors import PhiphiError, Terminated
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of ``path`` left by killed runs (``.NAME.tmp-<pid>-*`` whose
    process is gone; older names without a pid too). Returns the removed paths."""
    p = Path(path).expanduser().resolve()
    removed = []
    for stale in p.parent.glob(glob_escape(temp_prefix(p)) + "*"):
        pid_text = stale.name[len(temp_prefix(p)) :].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and _pid_alive(int(pid_text)):
            continue  # a run writing the same output right now
        if pid_text.isdigit() and int(pid_text) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            stale.unlink()
            removed.append(stale)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with the glob metacharacters escaped."""
    import glob

    return glob.escape(name)


@contextlib.contextmanager
def terminate_as_exception() -> Iterator[None]:
    """Turn SIGTERM into :class:`~evtgen.errors.Terminated` inside the block (main thread only,
    and only if nobody else handles SIGTERM), so ``finally``/``except`` cleanups run."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) not in (
        signal.SIG_DFL,
        None,
    ):
        yield
        return

    def handler(signum, frame):
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def public_mode() -> int:
    """The permissions a plain ``open`` gives a new file (0o666 & ~umask, e.g. 0o644)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def check_space(path: str | os.PathLike, n_bytes: float, what: str) -> None:
    """Refuse up front (one line, with the estimate) an output that will not fit on the disk."""
    d = Path(path).expanduser().resolve()
    while not d.exists():
        d = d.parent
    if not d.is_dir():
        d = d.parent
    free = shutil.disk_usage(d).free
    if n_bytes > free:
        raise PhiphiError(
            f"{what} needs about {_human(n_bytes)} but {str(d)!r} has {_human(free)} free; "
            "generate fewer events or write elsewhere"
        )


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000.0
    return f"{n:.3g} PB"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success.

    The temporary file is hidden (``.NAME.tmp-<pid>-XXXX``, matched by no ``*.ext`` glob);
    stale ones of the same output left by killed runs are removed first; SIGTERM (like
    SIGINT) removes it; it gets the permissions a plain ``open`` would give (mkstemp makes it
    private) before the rename.
    """
    p = check_writable(path)
    remove_stale_temps(p)
    with terminate_as_exception():
        try:
            fd, tmp = tempfile.mkstemp(prefix=f"{temp_prefix(p)}{os.getpid()}-", dir=p.parent)
        except OSError as exc:
            raise PhiphiError(f"cannot write in output directory {str(p.parent)!r}: {exc.strerror}") from None
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            yield tmp_path
            os.chmod(tmp_path, public_mode())
            os.replace(tmp_path, p)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp_path.unlink()
            raise


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
                tree = f.mktree(TREE_NAME, {k: v.dtype for k, v in cols.items()}, title="phiphi events")
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
            table = pa.table({k: pa.array(v) for k, v in cols.items()})
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
        msg = (str(exc).splitlines() or [""])[0]
        raise PhiphiError(f"cannot read events from {str(path)!r}: {type(exc).__name__}: {msg}") from None
    return to_awkward(cols)
