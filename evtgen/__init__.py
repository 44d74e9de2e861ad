"""phiphi event generators: B+ -> K+ phi phi, B0 -> K*0 phi phi, K+ -> pi+ phi phi,
two-body B -> K X and K -> pi X, the SM nu nubar references, and pp -> j phi phi.

Units: GeV (energies, momenta, masses), GeV^2 (q2), GeV^-1 (couplings), metres (vertices).

>>> import evtgen
>>> evtgen.rate("b2kphiphi", mphi=1.0, couplings={"CS_sb": 5e-8}).br   # doctest: +SKIP
>>> events = evtgen.generate("b2kphiphi", 10_000, mphi=1.0, seed=1)    # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from . import channels
from .errors import PhiphiError, check_positive_int
from .model import ModelPoint, channel_point, model_point

if TYPE_CHECKING:  # awkward and numpy are imported by the functions that need them
    import awkward as ak
    import numpy as np

try:
    __version__ = version("phiphi")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+local"

__all__ = [
    "generate",
    "generate_to",
    "rate",
    "spectrum",
    "channel",
    "ModelPoint",
    "model_point",
    "channel_point",
    "PhiphiError",
    "__version__",
]


def channel(name: str) -> Any:
    """The channel object registered as ``name``."""
    return channels.get(name)


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
    point = channel_point(name, mphi=mphi, mx=mx, ms=ms, couplings=couplings, options=options)
    from .production import physical_rate

    return physical_rate(name, mass=point.mass, couplings=_given(point, couplings), options=dict(point.options))


def _given(point: ModelPoint, couplings: dict[str, float] | None) -> dict[str, float]:
    # the decay channels fill in their defaults themselves; the LHC ones take only what is given
    return (
        {k: point.couplings[k] for k in (couplings or {})}
        if channels.row(point.channel).kind == "lhc"
        else dict(point.couplings)
    )


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
    pool: Any = None,
) -> ak.Array:
    """``n`` unweighted events in memory: one Momentum4D record per particle plus ``q2_true``
    (and the decay vertex for kaons in the lab frame). ``pool``: an ``evtgen.decays.OutputPool``
    of the caller's, for decay channels only: a loop that drops each result before the next call
    reuses its memory (no page faults of fresh memory; the events are the same)."""
    n = check_positive_int("n", n)
    point = channel_point(name, mphi=mphi, mx=mx, ms=ms, couplings=couplings, seed=seed, options=options)
    if pool is not None and channels.row(name).kind == "lhc":
        raise PhiphiError(f"pool= is for the decay channels only, not for {name}")
    from .frames import check_frame

    check_frame(frame)
    from .production import physical_rate

    ch = channels.get(name)
    physical_rate(name, mass=point.mass, couplings=_given(point, couplings), options=dict(point.options))
    return ch.generate(
        n,
        mass=point.mass,
        couplings=_given(point, couplings),
        seed=point.seed,
        frame=frame,
        options=dict(point.options),
        **({} if pool is None else {"pool": pool}),
    )


def spectrum(
    name: str, q2, *, mphi: float | None = None, mx: float | None = None, couplings: dict[str, float] | None = None
) -> np.ndarray:
    """dGamma/dq2 (GeV^-1) of a three-body decay channel at ``q2`` (GeV^2)."""
    point = channel_point(name, mphi=mphi, mx=mx, couplings=couplings)
    return channels.get(name).spectrum(q2, mass=point.mass, couplings=dict(point.couplings))


def generate_to(name: str, n: int, directory, **kwargs: Any) -> dict:
    """``n`` events as a partitioned dataset ``directory/part-*.parquet|root`` + manifest,
    chunk by chunk (optionally on Dask); see :func:`evtgen.partitioned.generate_to`."""
    from .partitioned import generate_to as _generate_to

    return _generate_to(name, n, directory, **kwargs)
