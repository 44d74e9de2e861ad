"""Registry of channels: channel id -> implementation (imported lazily)."""

from __future__ import annotations

import importlib
from typing import Any

from .errors import PhiphiError

#: channel id -> "module:attribute"; decay channels live in ``evtgen.decays.DECAY_CHANNELS``.
CHANNELS: dict[str, str] = {
    "b2kphiphi": "evtgen.decays:DECAY_CHANNELS",
    "b2kstarphiphi": "evtgen.decays:DECAY_CHANNELS",
    "k2piphiphi": "evtgen.decays:DECAY_CHANNELS",
    "b2kx": "evtgen.decays:DECAY_CHANNELS",
    "k2pix": "evtgen.decays:DECAY_CHANNELS",
    "b2knunu": "evtgen.decays:DECAY_CHANNELS",
    "k2pinunu": "evtgen.decays:DECAY_CHANNELS",
    "pp2jphiphi": "evtgen.monojet.channel:PP2JPhiPhi",
    "pp2js": "evtgen.monojet.channel:PP2JS",
}


def get(name: str) -> Any:
    """The channel object for ``name`` (raises PhiphiError for an unknown id)."""
    if name not in CHANNELS:
        raise PhiphiError(f"unknown channel {name!r}; choose one of {', '.join(CHANNELS)}")
    module, attr = CHANNELS[name].split(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise PhiphiError(f"channel {name!r} is not available: {exc}") from None
    if isinstance(obj, dict):
        return obj[name]
    return obj() if isinstance(obj, type) else obj
