"""Recasts of published searches and constraints, one module + one data file each.

Every analysis is registered by the header of its data file (:mod:`analyses.registry`),
takes one validated :class:`evtgen.model.ModelPoint` and returns the one result schema
:class:`analyses.result.Result`; the statistics are done by :mod:`analyses.stats`.

>>> import analyses
>>> r = analyses.recast("belle2", mphi=1.0)          # doctest: +SKIP
>>> r.upper_limit_95, r.as_dict()["no_half"]         # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from evtgen.model import ModelPoint, model_point

from .registry import analyses as registered
from .result import Result

__all__ = ["recast", "scan", "registered", "Result"]

#: keyword arguments of :func:`recast` that build the model point (the rest are analysis options)
POINT_KEYS = ("mphi", "mx", "ms", "couplings", "channel", "seed", "uv")


def recast(name: str, point: ModelPoint | None = None, **kwargs: Any) -> Result:
    """Run analysis ``name`` at a model point: ``recast("na62", point)`` or
    ``recast("na62", mphi=0.1, couplings={...}, channel=..., seed=..., dataset="2016-22")``
    (model keywords build the point; the others are the analysis's options)."""
    from .registry import recast as run

    model = {k: kwargs.pop(k) for k in POINT_KEYS if k in kwargs}
    if point is None:
        point = model_point(**model)
    elif model:
        point = point.replace(**model)
    return run(name, point, **kwargs)


def scan(analysis: str, grid: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    """Scan a grid of model points on Dask: see :func:`analyses.scanning.run_scan`."""
    from .scanning import run_scan

    return run_scan(analysis, grid, **kwargs)
