"""Parametrised detector emulations (Belle II, NA62, ATLAS), each driven by a card.

A card is a YAML file whose top-level key ``emulation`` names the emulation type it
configures (``belle2``, ``na62``, ``atlas``); the packaged cards are in ``detector/data``
with their published sources. An emulation module provides
``simulate(events: ak.Array, *, seed: int, card: dict | None = None) -> ak.Array`` returning
the input records plus reconstructed fields (``card=None``: its packaged card). A new
detector of a known type is one card file: ``phiphi simulate EVENTS --card PATH``.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path
from typing import Any

import numpy as np

from evtgen.errors import PhiphiError

#: emulation type -> (module, packaged card file in detector/data)
EMULATIONS: dict[str, tuple[str, str]] = {
    "belle2": ("detector.belle2", "belle2_card.yaml"),
    "na62": ("detector.na62", "na62_card.yaml"),
    "atlas": ("detector.atlas", "atlas_card.yaml"),
}
#: events per block when a file is emulated (memory bound of ``simulate_file``; the output
#: does not depend on it)
SIMULATE_BLOCK = 1 << 18
#: the packaged detectors (one per emulation type)
DETECTORS = tuple(EMULATIONS)


def get(name: str) -> Any:
    """The emulation module of type ``name``."""
    if name not in EMULATIONS:
        raise PhiphiError(f"unknown detector {name!r}; choose one of {', '.join(EMULATIONS)}")
    try:
        return importlib.import_module(EMULATIONS[name][0])
    except ImportError as exc:
        raise PhiphiError(f"detector {name!r} is not available: {exc}") from None


def load_card(path: str | os.PathLike) -> dict[str, Any]:
    """Read a card file; it must name a known emulation type in its ``emulation`` key."""
    import yaml

    try:
        with open(path) as fh:
            card = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise PhiphiError(f"cannot read card {str(path)!r}: {exc}") from None
    if not isinstance(card, dict) or card.get("emulation") not in EMULATIONS:
        got = card.get("emulation") if isinstance(card, dict) else None
        raise PhiphiError(f"card {str(path)!r} has emulation = {got!r}; it must be one of {', '.join(EMULATIONS)}")
    return card


def resolve(detector: str | None = None, card: str | os.PathLike | None = None) -> tuple[str, dict | None, str]:
    """(emulation type, card dict or None for the packaged one, card source) from
    ``--detector NAME`` and/or ``--card PATH`` (the card's type must agree with NAME)."""
    if card is None:
        if detector is None:
            raise PhiphiError("give --detector NAME or --card PATH")
        get(detector)
        return detector, None, f"detector/data/{EMULATIONS[detector][1]}"
    c = load_card(card)
    if detector is not None and detector != c["emulation"]:
        raise PhiphiError(f"--detector {detector} contradicts the card's emulation {c['emulation']!r}")
    return c["emulation"], c, str(Path(card).resolve())


def numpy_field(events, *path: str) -> np.ndarray:
    """The flat numpy column ``events[path[0]][path[1]]...`` (a view, no copy): what
    ``ak.to_numpy`` of it gives.

    Records of numpy columns (the layout of generated and read events) are walked at the layout
    level: ~5 us, where a high-level ``events[name]`` costs ~100 us (the Python overhead of an
    emulation call); other layouts (options, indexed, non-numpy backends) go through awkward."""
    import awkward as ak

    layout = events.layout
    n = layout.length
    for name in path:
        if not isinstance(layout, ak.contents.RecordArray) or layout.is_tuple or name not in layout.fields:
            break
        layout = layout.content(name)
    else:
        if isinstance(layout, ak.contents.NumpyArray) and isinstance(layout.data, np.ndarray):
            data = layout.data
            if data.ndim == 1 and data.shape[0] >= n:
                return data[:n]
    arr = events
    for name in path:
        arr = arr[name]
    return ak.to_numpy(arr)


def with_fields(events, columns: dict[str, np.ndarray]):
    """``events`` (a record array) plus flat ``columns`` as new top-level fields.

    One new record node over the existing contents (O(number of fields), the columns are not
    copied); records of another layout go through ``ak.with_field``."""
    import awkward as ak

    layout = events.layout
    n = len(events)
    if isinstance(layout, ak.contents.RecordArray) and not layout.is_tuple and not set(columns) & set(layout.fields):
        contents = list(layout.contents) + [ak.contents.NumpyArray(np.asarray(c)) for c in columns.values()]
        if all(c.length >= n for c in contents):
            rec = ak.contents.RecordArray(
                contents, list(layout.fields) + list(columns), length=n, parameters=layout.parameters
            )
            return ak.Array(rec, behavior=events.behavior, attrs=events.attrs)
    for name, col in columns.items():
        events = ak.with_field(events, col, name)
    return events


def simulate(events, name: str, *, seed: int = 0, card: dict | None = None, first: int = 0, pool: Any = None):
    """Run emulation ``name`` on in-memory events (``card``: a card dict, None = packaged).

    ``first``: index of the first of ``events`` in the run. Every event has its own smearing
    stream (run seed, event index), so emulating a run in blocks (``first`` = offset of the
    block) gives the same output as emulating it in one call. ``pool`` (NA62 and ATLAS): the
    caller's output pool (e.g. ``evtgen.decays.OutputPool``) whose released memory the output
    columns reuse, for a loop over chunks that drops each result before the next call; the
    values do not depend on it."""
    from evtgen.model import check_seed

    seed = check_seed(seed)
    if isinstance(first, bool) or not isinstance(first, (int, np.integer)) or first < 0:
        raise PhiphiError(f"first = {first!r} must be an integer >= 0 (index of the first event in the run)")
    module = get(name)
    extra = {}
    if pool is not None:
        if "pool" not in inspect.signature(module.simulate).parameters:
            raise PhiphiError(f"emulation {name} does not take an output pool; pool= works for na62 and atlas")
        extra["pool"] = pool
    if card is None:
        return module.simulate(events, seed=seed, first=first, **extra)
    if "card" not in inspect.signature(module.simulate).parameters:
        raise PhiphiError(f"emulation {name} does not take a card yet")
    return module.simulate(events, seed=seed, card=card, first=first, **extra)


def simulate_file(
    path: str | os.PathLike,
    name: str | None,
    output: str | os.PathLike,
    *,
    seed: int = 0,
    card: str | os.PathLike | None = None,
) -> Path:
    """Read an event file, emulate detector ``name`` (or the one of ``card``), write the result (atomic).

    The input is streamed in blocks of :data:`SIMULATE_BLOCK` events (memory bounded whatever
    the file size); every event is smeared from its own stream (seed, index of the event in
    the file), so the output is the in-memory ``simulate(read_events(path), name, seed=seed)``
    exactly, whatever the block size and however the input file was chunked."""
    from evtgen.io import check_writable, iter_events, read_metadata, write_events
    from evtgen.model import check_seed

    seed = check_seed(seed)
    name, card_dict, source = resolve(name, card)
    get(name)
    check_writable(output)
    if not Path(path).is_file():
        raise PhiphiError(f"input event file {str(path)!r} does not exist")
    try:
        meta = read_metadata(path)
    except (PhiphiError, KeyError):  # a file without phiphi metadata (e.g. from another generator)
        meta = {}
    blocks = iter_events(path, SIMULATE_BLOCK)
    first = next(blocks, None)  # read (and check) the first block before anything is written
    if first is None:
        raise PhiphiError(f"input event file {str(path)!r} holds no events")

    def smeared():
        done = len(first)
        yield simulate(first, name, seed=seed, card=card_dict)
        for block in blocks:
            yield simulate(block, name, seed=seed, card=card_dict, first=done)
            done += len(block)

    meta = dict(meta, detector=name, detector_seed=int(seed), detector_card=source)
    return write_events(output, smeared(), meta)
