"""Parametrised detector emulations (Belle II, NA62, ATLAS), each driven by a card in
``detector/data`` with its published sources.

A detector module provides ``simulate(events: ak.Array, *, seed: int) -> ak.Array``,
returning the input records plus reconstructed fields.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from evtgen.errors import PhiphiError

#: detector name -> module
DETECTORS: dict[str, str] = {
    "belle2": "detector.belle2",
    "na62": "detector.na62",
    "atlas": "detector.atlas",
}


def get(name: str) -> Any:
    """The emulation module of detector ``name``."""
    if name not in DETECTORS:
        raise PhiphiError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    try:
        return importlib.import_module(DETECTORS[name])
    except ImportError as exc:
        raise PhiphiError(f"detector {name!r} is not available: {exc}") from None


def simulate(events, name: str, *, seed: int = 0):
    """Run the emulation of detector ``name`` on in-memory events."""
    return get(name).simulate(events, seed=seed)


def simulate_file(path: str | os.PathLike, name: str, output: str | os.PathLike, *, seed: int = 0) -> Path:
    """Read an event file, emulate detector ``name``, write the result (atomic)."""
    from evtgen.io import check_writable, read_events, read_metadata, write_events

    module = get(name)
    check_writable(output)
    events = getattr(module, "read_input", read_events)(path)  # e.g. jagged showered jets for ATLAS
    try:
        meta = read_metadata(path)
    except Exception:
        meta = {}
    out = module.simulate(events, seed=seed)
    meta = dict(meta, detector=name, detector_seed=int(seed), detector_card=getattr(module, "CARD_SOURCE", ""))
    return write_events(output, out, meta)
