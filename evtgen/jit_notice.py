"""One line on stderr before numba compiles a module's kernels for the first time.

Every kernel is ``cache=True``: numba compiles it at its first call and writes the machine
code to ``__pycache__`` (or ``NUMBA_CACHE_DIR``); later processes load it in milliseconds.
On a fresh install that first compilation takes seconds to a minute, so the modules that
define kernels call :func:`announce` at import: if the cache holds nothing for the module
yet, it prints ``phiphi: compiling <what> (once, cached for later runs)...``. Imports no
numba (``phiphi --help`` must stay light).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_announced: set[str] = set()


def _cache_dirs(source: Path) -> list[Path]:
    env = os.environ.get("NUMBA_CACHE_DIR")  # numba then caches there instead of in __pycache__
    return [Path(env)] if env else [source.parent / "__pycache__"]


def is_cached(module_file: str) -> bool:
    """True if numba's cache holds an index for at least one kernel of ``module_file``."""
    src = Path(module_file)
    return any(any(d.rglob(f"{src.stem}.*.nbi")) for d in _cache_dirs(src) if d.is_dir())


def announce(module_file: str, what: str) -> None:
    """Print the one-line "compiling (once)" message if ``module_file`` has no cached kernels."""
    if module_file in _announced or is_cached(module_file):
        return
    _announced.add(module_file)
    print(f"phiphi: compiling {what} (once, cached for later runs)...", file=sys.stderr, flush=True)
