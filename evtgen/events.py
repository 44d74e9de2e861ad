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


def particles_in(cols) -> tuple[str, ...]:
    """Particle names present as complete ``<name>_px .. <name>_E`` column sets, in order."""
    out = []
    for k in cols:
        if k.endswith("_px"):
            p = k[:-3]
            if all(f"{p}_{c}" in cols for c in COMPONENTS):
                out.append(p)
    return tuple(out)


def to_columns(events: ak.Array) -> dict[str, np.ndarray]:
    """Flat numpy columns (``K_px``, ..., ``q2_true``) from an event record array."""
    cols: dict[str, np.ndarray] = {}
    for f in events.fields:
        sub = events[f]
        if sub.fields:
            for c in sub.fields:
                cols[f"{f}_{c}"] = ak.to_numpy(sub[c])
        else:
            cols[f] = ak.to_numpy(sub)
    return cols
