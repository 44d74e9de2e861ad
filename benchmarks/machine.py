"""One line naming the machine a benchmark ran on: CPU model, LLVM's CPU name, cores, caches, load.

The project's sessions do not always get the same kind of host (Intel Xeon "emeraldrapids" on
2026-12-01/02, AMD EPYC "znver3" on 2026-12-02 morning), and absolute rates move with it by more
than our kernels do: every benchmark prints this line so that a figure is never read without its
machine. Read from ``/proc/cpuinfo`` and sysfs (no ``lscpu`` needed), with "?" where a container hides them.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _l2_per_core() -> str:
    """Size of the L2 cache of cpu0 from sysfs (e.g. '512K'), or '?'."""
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    try:
        for index in sorted(base.glob("index*")):
            if (index / "level").read_text().strip() == "2":
                return (index / "size").read_text().strip()
    except OSError:
        pass
    return "?"


def llvm_cpu() -> str:
    """The CPU name numba's LLVM compiles for (what the kernels' instruction set is tuned to)."""
    try:
        import llvmlite.binding as llvm

        return llvm.get_host_cpu_name()
    except Exception:  # noqa: BLE001 (llvmlite missing or too old: the line says so)
        return "?"


def describe() -> str:
    """'machine: <model> (LLVM <cpu>), <n> cores, L2 <size>/core, numba <v>, load <1 min>'."""
    import numba

    load = os.getloadavg()[0]
    return (
        f"machine: {_cpu_model()} (LLVM {llvm_cpu()}), {os.cpu_count()} cores, L2 {_l2_per_core()}/core, "
        f"numba {numba.__version__}, load {load:.2f}"
    )


if __name__ == "__main__":
    print(describe())
