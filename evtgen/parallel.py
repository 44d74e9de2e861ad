"""Shared infrastructure for parallel work: per-index seeds, the Dask client, progress bars.

Used by partitioned productions (:mod:`evtgen.partitioned`) and by the scans of
:mod:`analyses.scanning`; it sits in the bottom layer so both can import it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from .errors import PhiphiError, check_positive_int


def index_seed(seed: int, index: int) -> int:
    """Seed of item ``index`` of a run with master seed ``seed`` (a grid point, a part):
    ``SeedSequence(seed, spawn_key=(index,))``, 63 bits, independent of workers and order."""
    return int(
        np.random.SeedSequence(int(seed), spawn_key=(int(index),)).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)
    )


# --- Dask ---------------------------------------------------------------------------------
@contextlib.contextmanager
def dask_client(
    workers: int | None = None, scheduler: str | None = None, client: Any = None, numba_threads: int | None = None
) -> Iterator[Any]:
    """A ``distributed.Client``: ``client`` itself, one connected to ``scheduler``
    (``tcp://host:port``), or a LocalCluster of ``workers`` processes (default: one per core,
    one thread each, ``numba_threads`` = cores / workers by default). Closed on exit unless given."""
    if client is not None:
        yield client
        return
    if workers is not None and scheduler is not None:
        raise PhiphiError("give either workers or a scheduler address, not both")
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            c = Client(scheduler, timeout="5s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise PhiphiError(f"cannot connect to the Dask scheduler {scheduler!r}: {exc}") from None
        with c:
            yield c
        return
    ncores = os.cpu_count() or 1
    n = ncores if workers is None else check_positive_int("workers", workers)
    # no dashboard; the scheduler's small HTTP server on a free port (not 8787, maybe taken)
    quiet = {
        "dashboard_address": "127.0.0.1:0",
        "scheduler_kwargs": {"dashboard": False},
        "silence_logs": logging.ERROR,
    }
    with worker_environment(
        check_positive_int("numba_threads", numba_threads) if numba_threads is not None else max(1, ncores // n)
    ):
        # the workers of our own cluster run the package's kernels only: no vector numba
        # extension there (preload: run in each worker process before any task)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, preload=[WORKER_PRELOAD], **quiet)
    with cluster, Client(cluster) as c:
        yield c


#: Python source run in every worker of a LocalCluster that :func:`dask_client` starts
WORKER_PRELOAD = "from evtgen.parallel import skip_vector_numba_extension\nskip_vector_numba_extension()\n"


def skip_vector_numba_extension() -> bool:
    """Initialise numba's extensions (entry points ``numba_extensions``) now, without scikit-hep
    ``vector``'s: numba otherwise loads it at the first compilation or cache load in a process,
    and it imports ``vector``, sympy and vector's numba backends (~2.5 s and ~120 MB per
    process). The package's kernels take numpy arrays only, so a worker process that runs
    them does not need it; ``vector.register_numba()`` turns it on again where wanted (the
    awkward behaviours of ``vector`` do not depend on it). Returns True if the extensions
    were initialised here (False: numba had already done it, or its API is not the known one).
    """
    from importlib.metadata import entry_points

    import numba.core.entrypoints as numba_entrypoints

    if getattr(numba_entrypoints, "_already_initialized", True):
        return False
    numba_entrypoints._already_initialized = True
    for ep in entry_points(group="numba_extensions", name="init"):
        if ep.value.split(":")[0].split(".")[0] == "vector":
            continue
        ep.load()()
    return True


#: set by Dask's nanny before it spawns workers (``distributed.nanny.pre-spawn-environ``)
_SPAWN_KEYS = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS")


@contextlib.contextmanager
def worker_environment(threads: int) -> Iterator[None]:
    """Environment inherited by LocalCluster workers spawned inside this block; restored after.

    Dask's default MALLOC_TRIM_THRESHOLD_=65536 makes glibc mmap (and page-fault) every
    array above 64 KiB afresh, which halves the speed of event generation and Parquet
    writing: it is not passed on. numba's (OpenMP) pool gets ``threads`` threads.
    (The nanny would otherwise write its values into this process's os.environ, where
    they would override the next cluster's.)
    """
    import dask

    saved = {k: os.environ.get(k) for k in _SPAWN_KEYS}
    if os.environ.get("MALLOC_TRIM_THRESHOLD_") == "65536":
        del os.environ["MALLOC_TRIM_THRESHOLD_"]
    os.environ["OMP_NUM_THREADS"] = os.environ["NUMBA_NUM_THREADS"] = str(threads)
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{k}": None for k in _SPAWN_KEYS}):
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def progress_bar(total: int, initial: int, desc: str, unit: str, enabled: bool | None):
    """A tqdm bar on stderr (default: only when stderr is a terminal), or None."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr)
