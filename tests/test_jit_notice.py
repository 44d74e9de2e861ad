"""The compile notice: one line before the first compilation, then a heartbeat while it runs.

Issue 14 asks that no command be silent for more than 5 s; a single kernel's first compilation
can take longer than that, so the heartbeat listener on numba's ``numba:compile`` event is what
keeps a cold first run talking. These tests drive the listener with numba's own event API (the
same calls numba's dispatcher makes around a real compilation) on a short interval, and compile
one real kernel to check the listener is registered and fires.
"""

from __future__ import annotations

import io
import time

import numba as nb
from numba.core import event as numba_event

from evtgen import jit_notice


def _compile_for(listener, seconds: float, nested: bool = False) -> None:
    numba_event.register("numba:compile", listener)
    try:
        with numba_event.trigger_event("numba:compile", data={"dispatcher": None}):
            if nested:  # an outer kernel compiling the kernels it calls counts once
                with numba_event.trigger_event("numba:compile", data={"dispatcher": None}):
                    time.sleep(seconds)
            else:
                time.sleep(seconds)
    finally:
        numba_event.unregister("numba:compile", listener)


def test_heartbeat_ticks_while_compiling_and_stops_after():
    out = io.StringIO()
    listener = jit_notice.heartbeat_listener(interval=0.05, stream=out)
    _compile_for(listener, 0.3)
    lines = out.getvalue().splitlines()
    # 0.3 s at a 0.05 s interval: about 6 ticks; at least 3 even on a loaded 2-core machine
    assert len(lines) >= 3, lines
    assert all(line.startswith("phiphi: still compiling a kernel (") for line in lines)
    time.sleep(0.2)  # no tick after the compilation ended
    assert out.getvalue().splitlines() == lines


def test_nested_compilations_share_one_heartbeat():
    out = io.StringIO()
    listener = jit_notice.heartbeat_listener(interval=0.05, stream=out)
    _compile_for(listener, 0.3, nested=True)
    n = len(out.getvalue().splitlines())
    assert 3 <= n <= 8  # one clock (about 6 ticks), not two interleaved ones
    assert listener.depth == 0


def test_back_to_back_compilations_keep_one_clock():
    # two kernels compiled one after the other, each shorter than the interval, together
    # longer than it: the second must still tick (the clock is the last line, not each start)
    out = io.StringIO()
    listener = jit_notice.heartbeat_listener(interval=0.2, stream=out)
    _compile_for(listener, 0.15)
    _compile_for(listener, 0.15)
    assert len(out.getvalue().splitlines()) >= 1


def test_short_compilation_is_silent():
    out = io.StringIO()
    listener = jit_notice.heartbeat_listener(interval=1.0, stream=out)
    _compile_for(listener, 0.01)
    time.sleep(0.05)
    assert out.getvalue() == ""


def test_listener_sees_a_real_compilation_and_names_the_kernel():
    seen = []

    class Recorder(numba_event.Listener):
        def on_start(self, event):
            seen.append(jit_notice.kernel_name(event))

        def on_end(self, event):
            pass

    rec = Recorder()
    numba_event.register("numba:compile", rec)
    try:

        @nb.njit(cache=False)
        def add_one(x):
            return x + 1

        assert add_one(1) == 2
    finally:
        numba_event.unregister("numba:compile", rec)
    assert any(name.endswith("add_one") for name in seen), seen


def test_announce_once_when_uncached(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    module = str(tmp_path / "fake_kernels.py")
    monkeypatch.setattr(jit_notice, "_announced", set())
    jit_notice.announce(module, "the fake kernels")
    jit_notice.announce(module, "the fake kernels")
    err = capsys.readouterr().err
    assert err.count("phiphi: compiling the fake kernels (once") == 1
    # once numba's cache holds an index for the module, nothing is printed
    (tmp_path / "fake_kernels.f-1.py312.nbi").write_bytes(b"")
    monkeypatch.setattr(jit_notice, "_announced", set())
    jit_notice.announce(module, "the fake kernels")
    assert capsys.readouterr().err == ""


def test_kernel_from_a_factory_is_named_by_module_and_own_name():
    def factory():
        def kernel(x):
            return x

        return kernel

    class FakeDispatcher:
        py_func = factory()

    class FakeEvent:
        data = {"dispatcher": FakeDispatcher()}

    assert jit_notice.kernel_name(FakeEvent()) == f"{__name__}.kernel"
