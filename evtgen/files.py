"""Safe file writing shared by every output of the package: format from the extension,
writability and disk-space checks, and :func:`atomic_path` (a hidden temporary name, removed on
SIGTERM and by a rerun when stale, renamed over the output only when complete)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import PhiphiError, Terminated

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
