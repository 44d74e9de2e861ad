"""What the user sees while numba compiles: one line before, then a heartbeat every 3 s.

Every kernel is ``cache=True``: numba compiles it at its first call and writes the machine
code to ``__pycache__`` (or ``NUMBA_CACHE_DIR``); later processes load it in milliseconds.
On a fresh install that first compilation takes seconds to a minute, so the modules that
define kernels call :func:`announce` at import: if the cache holds nothing for the module
yet, it prints ``phiphi: compiling <what> (once, cached for later runs)...``.

One kernel can take longer than a minute to compile, so a line at import is not enough for
"no command silent for more than 5 s". :func:`announce` also registers (once per process) a
listener on numba's own ``numba:compile`` event, which numba fires only for a real
compilation (a cache load does not fire it). While compilations run, a daemon thread prints
``phiphi: still compiling <kernel> (N s)...`` whenever 3 s have passed since its last line; the
LLVM passes run in llvmlite's C library through ctypes, which releases the GIL, so the
thread does tick during them. The registered listener is the one piece of process state in
the package (a UI concern, like numba's own event registry); it holds no data.

Importing this module imports no numba (``phiphi --help`` must stay light); numba is
imported by :func:`announce`, which only kernel modules call, and they import numba anyway.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

HEARTBEAT_SECONDS = 3.0  # issue 14: no command silent for more than 5 s
_announced: set[str] = set()
_heartbeat: list[Any] = []  # the one registered listener, once per process


def _cache_dirs(source: Path) -> list[Path]:
    env = os.environ.get("NUMBA_CACHE_DIR")  # numba then caches there instead of in __pycache__
    return [Path(env)] if env else [source.parent / "__pycache__"]


def is_cached(module_file: str) -> bool:
    """True if numba's cache holds an index for at least one kernel of ``module_file``."""
    src = Path(module_file)
    return any(any(d.rglob(f"{src.stem}.*.nbi")) for d in _cache_dirs(src) if d.is_dir())


def kernel_name(event: Any) -> str:
    """``module.qualname`` of the kernel a ``numba:compile`` event is about."""
    dispatcher = (event.data or {}).get("dispatcher")
    func = getattr(dispatcher, "py_func", None)
    if func is None:
        return "a kernel"
    # a kernel built by a factory is "factory.<locals>.kernel": name it by its module and own name
    return f"{func.__module__}.{func.__qualname__.split('.<locals>.')[-1]}"


def heartbeat_listener(interval: float = HEARTBEAT_SECONDS, stream: TextIO | None = None) -> Any:
    """A numba event listener printing a line while a compilation runs, so that no
    ``interval`` s pass without one.

    The clock is the time of the listener's last line (at first: its creation, i.e. the
    compile notice), not the start of each compilation: back-to-back compilations of several
    kernels are not silent for longer than ``interval`` either (plus a poll of interval/8).
    Nested compilations (a kernel compiling the kernels it calls) count as one: the name and
    the elapsed time are the outermost kernel's. Returns the listener, not yet registered.
    """
    from numba.core import event as numba_event

    poll = interval / 8.0

    class _Heartbeat(numba_event.Listener):
        def __init__(self) -> None:
            self.depth = 0
            self.stop: threading.Event | None = None
            self.lock = threading.Lock()
            self.last_line = time.monotonic()

        def on_start(self, event: Any) -> None:
            with self.lock:
                self.depth += 1
                if self.depth > 1:
                    return
                stop = self.stop = threading.Event()
            threading.Thread(
                target=self._tick,
                args=(stop, kernel_name(event), time.monotonic()),
                daemon=True,
                name="phiphi-jit-heartbeat",
            ).start()

        def on_end(self, event: Any) -> None:
            with self.lock:
                self.depth = max(self.depth - 1, 0)
                if self.depth == 0 and self.stop is not None:
                    self.stop.set()
                    self.stop = None

        def _tick(self, stop: threading.Event, name: str, t0: float) -> None:
            out = stream if stream is not None else sys.stderr
            while not stop.wait(poll):
                now = time.monotonic()
                if now - self.last_line >= interval:
                    self.last_line = now
                    print(f"phiphi: still compiling {name} ({now - t0:.0f} s)...", file=out, flush=True)

    return _Heartbeat()


def _install_heartbeat() -> None:
    if _heartbeat:
        return
    from numba.core import event as numba_event

    listener = heartbeat_listener()
    numba_event.register("numba:compile", listener)
    _heartbeat.append(listener)


def announce(module_file: str, what: str) -> None:
    """Print the one-line "compiling (once)" message if ``module_file`` has no cached kernels.

    Also makes sure the compile heartbeat is registered, so that no compilation (announced
    or not, e.g. after a numba upgrade invalidated the cache) runs silent for more than 5 s.
    """
    _install_heartbeat()
    if module_file in _announced or is_cached(module_file):
        return
    _announced.add(module_file)
    print(f"phiphi: compiling {what} (once, cached for later runs)...", file=sys.stderr, flush=True)
    _heartbeat[0].last_line = time.monotonic()  # the heartbeat counts its silence from this line
