"""phiphi event generators: B+ -> K+ phi phi, B0 -> K*0 phi phi, K+ -> pi+ phi phi,
two-body B -> K X and K -> pi X, the SM nu nubar references, and pp -> j phi phi.

Units: GeV (energies, momenta, masses), GeV^2 (q2), GeV^-1 (couplings), metres (vertices).

>>> import evtgen
>>> evtgen.rate("b2kphiphi", mphi=1.0, couplings={"CS_sb": 5e-8}).br   # doctest: +SKIP
>>> events = evtgen.generate("b2kphiphi", 10_000, mphi=1.0, seed=1)    # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import awkward as ak
import numpy as np

from . import channels
from .errors import PhiphiError, check_positive_int

try:
    __version__ = version("phiphi")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+local"

__all__ = ["generate", "generate_to", "rate", "spectrum", "channel", "PhiphiError", "__version__"]


def channel(name: str) -> Any:
    """The channel object registered as ``name``."""
    return channels.get(name)


def _mass(ch: Any, mphi: float | None, mx: float | None, ms: float | None = None) -> float | None:
    given = {k: v for k, v in (("mphi", mphi), ("mx", mx), ("ms", ms)) if v is not None}
    opt = getattr(ch, "mass_option", None)
    wrong = [k for k in given if k != opt]
    if wrong:
        need = f"--{opt}" if opt else "no mass"
        raise PhiphiError(f"channel {ch.name} takes {need}, not --{wrong[0]}")
    return given.get(opt) if opt else None


def rate(
    name: str,
    *,
    mphi: float | None = None,
    mx: float | None = None,
    ms: float | None = None,
    couplings: dict[str, float] | None = None,
    options: dict | None = None,
) -> Any:
    """Rate of a channel at a model point: ``.width``, ``.br``, ``.br_err`` for decays
    (GeV, dimensionless); cross sections in pb for the LHC channels. ``.as_dict()`` gives JSON."""
    ch = channels.get(name)
    return ch.rate(mass=_mass(ch, mphi, mx, ms), couplings=couplings, options=options or {})


def generate(
    name: str,
    n: int,
    *,
    mphi: float | None = None,
    mx: float | None = None,
    ms: float | None = None,
    couplings: dict[str, float] | None = None,
    seed: int | None = None,
    frame: str = "lab",
    options: dict | None = None,
) -> ak.Array:
    """``n`` unweighted events in memory: one Momentum4D record per particle plus ``q2_true``
    (and the decay vertex for kaons in the lab frame)."""
    n = check_positive_int("n", n)
    ch = channels.get(name)
    return ch.generate(
        n, mass=_mass(ch, mphi, mx, ms), couplings=couplings, seed=seed, frame=frame, options=options or {}
    )


def spectrum(
    name: str, q2, *, mphi: float | None = None, mx: float | None = None, couplings: dict[str, float] | None = None
) -> np.ndarray:
    """dGamma/dq2 (GeV^-1) of a three-body decay channel at ``q2`` (GeV^2)."""
    ch = channels.get(name)
    return ch.spectrum(q2, mass=_mass(ch, mphi, mx), couplings=couplings)


def generate_to(name: str, n: int, directory, **kwargs: Any) -> dict:
    """``n`` events as a partitioned dataset ``directory/part-*.parquet|root`` + manifest,
    chunk by chunk (optionally on Dask); see :func:`evtgen.partitioned.generate_to`."""
    from .partitioned import generate_to as _generate_to

    return _generate_to(name, n, directory, **kwargs)
