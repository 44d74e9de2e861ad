"""Recasts of published searches, one module per analysis (signal regions, observed
counts, backgrounds and the paper in ``analyses/data``).

An analysis module provides ``recast(**kwargs) -> dict`` (JSON-able), see each module.
"""

from __future__ import annotations

import importlib
from typing import Any

from evtgen.errors import PhiphiError

#: short name -> module
ANALYSES: dict[str, str] = {
    "belle2": "analyses.belle2_bknunu_2023",
    "na62": "analyses.na62_kpinunu_2025",
    "koto": "analyses.koto_klpi0nunu_2025",
    "atlas": "analyses.atlas_monojet_2021",
}


def get(name: str) -> Any:
    """The module of analysis ``name`` (short name or module name)."""
    module = ANALYSES.get(name)
    if module is None:
        full = {v.rsplit(".", 1)[1]: v for v in ANALYSES.values()}
        module = full.get(name)
    if module is None:
        raise PhiphiError(f"unknown analysis {name!r}; choose one of {', '.join(ANALYSES)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise PhiphiError(f"analysis {name!r} is not available: {exc}") from None


def recast(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the recast of analysis ``name`` at one model point; returns a JSON-able dict."""
    return get(name).recast(**kwargs)


def scan(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Scan a grid of model points on Dask: see :func:`analyses.scanning.run_scan`."""
    from .scanning import run_scan

    return run_scan(*args, **kwargs)
