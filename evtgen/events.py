"""Flat columns <-> awkward records with scikit-hep ``vector`` Momentum4D behaviour."""

from __future__ import annotations

import functools

import awkward as ak
import numpy as np

COMPONENTS = ("px", "py", "pz", "E")


@functools.cache
def register_vector() -> None:
    """Register scikit-hep ``vector``'s awkward behaviours (once; imported lazily because
    ``vector`` imports sympy, ~1 s, which commands that write no records need not pay)."""
    import vector

    vector.register_awkward()


def to_awkward(cols: dict[str, np.ndarray], particles: tuple[str, ...] | None = None) -> ak.Array:
    """Records ``{particle: Momentum4D, scalar: float}`` from flat ``<particle>_<comp>`` columns."""
    register_vector()
    if particles is None:
        particles = particles_in(cols)
    flat = [v for v in cols.values() if isinstance(v, np.ndarray) and v.ndim == 1]
    if cols and len(flat) == len(cols) and len({v.shape[0] for v in flat}) == 1:
        return _records_from_flat(cols, particles, flat[0].shape[0])
    fields: dict[str, ak.Array] = {}
    used = set()
    for p in particles:
        names = [f"{p}_{c}" for c in COMPONENTS]
        fields[p] = ak.zip({c: cols[nm] for c, nm in zip(COMPONENTS, names)}, with_name="Momentum4D")
        used.update(names)
    for k, v in cols.items():
        if k not in used:
            fields[k] = v
    return ak.zip(fields, depth_limit=1)


def _records_from_flat(cols: dict[str, np.ndarray], particles: tuple[str, ...], n: int) -> ak.Array:
    # the layout ak.zip builds for flat numpy columns (same form, no copies), built directly:
    # ak.zip's broadcasting costs ~4 ms a call, 4 ns an event at 10^6 events
    names, contents, used = [], [], set()
    for p in particles:
        comps = [f"{p}_{c}" for c in COMPONENTS]
        contents.append(
            ak.contents.RecordArray(
                [ak.contents.NumpyArray(cols[nm]) for nm in comps],
                list(COMPONENTS),
                length=n,
                parameters={"__record__": "Momentum4D"},
            )
        )
        names.append(p)
        used.update(comps)
    for k, v in cols.items():
        if k not in used:
            names.append(k)
            contents.append(ak.contents.NumpyArray(v))
    return ak.Array(ak.contents.RecordArray(contents, names, length=n))


def particles_in(cols) -> tuple[str, ...]:
    """Particle names present as complete ``<name>_px .. <name>_E`` column sets, in order."""
    out = []
    for k in cols:
        if k.endswith("_px"):
            p = k[:-3]
            if all(f"{p}_{c}" in cols for c in COMPONENTS):
                out.append(p)
    return tuple(out)


def to_columns(events: ak.Array) -> dict[str, np.ndarray | ak.Array]:
    """Flat numpy columns (``K_px``, ..., ``q2_true``) from an event record array; jagged fields
    (a variable number of jets) become jagged awkward columns (``jets_px``: ``var * float64``)."""
    cols: dict[str, np.ndarray] = {}
    for f in events.fields:
        sub = events[f]
        if sub.fields:
            for c in sub.fields:
                cols[f"{f}_{c}"] = flat_or_jagged(sub[c])
        else:
            cols[f] = flat_or_jagged(sub)
    return cols


def flat_or_jagged(column: ak.Array) -> np.ndarray | ak.Array:
    """A numpy array for a flat column; a jagged one (``var * float64``: jets) stays awkward.
    Parquet readers give every column an option type (``?float64``): one without missing values
    loses it here (a column with missing values is kept as it is, never filled)."""
    if column.ndim == 1:
        if "?" in str(column.type) and not ak.any(ak.is_none(column)):
            column = ak.drop_none(column)
        return ak.to_numpy(column)
    if not ak.any(ak.is_none(column, axis=0)) and not ak.any(ak.is_none(column, axis=1)):
        column = ak.drop_none(column)
    return ak.without_parameters(column)
