"""One model point: the value that flows through generate -> simulate -> recast -> scan -> fit.

A :class:`ModelPoint` holds the masses (GeV), the couplings (project's 1/2 convention, see
:mod:`evtgen.couplings`), optionally the signal channel, the seed and the channel's options.
:func:`model_point` validates everything once — finite numbers, known couplings, a
non-negative seed, known options — and every entry point (CLI and Python API) builds its
point through it, so both give the same one-line :class:`~evtgen.errors.PhiphiError`.
Channel-specific checks (which couplings and which mass a channel takes, kinematic limits)
are done by :meth:`ModelPoint.for_channel`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import couplings as _couplings_registry
from .errors import PhiphiError, check_finite

#: the mass parameters a point can carry
MASS_NAMES = ("mphi", "mx", "ms")

#: largest seed accepted (numpy SeedSequence takes any non-negative int; we keep it to 64 bits)
MAX_SEED = 2**64 - 1


def check_seed(seed: Any) -> int | None:
    """``None`` or a non-negative integer below 2**64; anything else is a PhiphiError."""
    if seed is None:
        return None
    if isinstance(seed, bool):
        raise PhiphiError(f"seed = {seed!r} is not an integer")
    try:
        s = int(seed)
    except (TypeError, ValueError):
        raise PhiphiError(f"seed = {seed!r} is not an integer") from None
    if s != seed and not (isinstance(seed, str) and str(s) == seed.strip()):
        raise PhiphiError(f"seed = {seed!r} is not an integer")
    if s < 0 or s > MAX_SEED:
        raise PhiphiError(f"seed = {seed!r} must be an integer in [0, 2^64 - 1]")
    return s


def check_couplings(couplings: Any) -> dict[str, float]:
    """A dict of known coupling names to finite floats (the project's 1/2 convention)."""
    if couplings is None:
        return {}
    if not isinstance(couplings, Mapping):
        raise PhiphiError(f"couplings = {couplings!r} must be a mapping NAME -> value")
    out: dict[str, float] = {}
    for name, value in couplings.items():
        if name not in _couplings_registry.COUPLINGS:
            raise PhiphiError(f"unknown coupling {name!r}; known: {', '.join(_couplings_registry.COUPLINGS)}")
        x = check_finite(name, value)
        if abs(x) > 1e100:
            raise PhiphiError(f"{name} = {value!r} is outside the representable range |C| <= 1e100")
        out[name] = x
    return out


def check_mass(name: str, value: Any) -> float | None:
    """``None`` or a finite, non-negative mass in GeV."""
    if value is None:
        return None
    m = check_finite(name, value)
    if m < 0:
        raise PhiphiError(f"{name} = {m:g} GeV is negative")
    return m


@dataclass(frozen=True)
class ModelPoint:
    """Masses (GeV), couplings (project's 1/2 convention), channel, seed and options of one point.

    Build it with :func:`model_point` (validated); ``uv`` carries the UV parameters when the
    couplings were matched from a UV model (analyses of the UV model read them).
    """

    mphi: float | None = None
    mx: float | None = None
    ms: float | None = None
    couplings: Mapping[str, float] = field(default_factory=dict)
    channel: str | None = None
    seed: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    uv: Mapping[str, Any] | None = None
    convention: str = "half"

    @property
    def masses(self) -> dict[str, float]:
        """The masses that are set, e.g. ``{"mphi": 1.0}``."""
        return {k: getattr(self, k) for k in MASS_NAMES if getattr(self, k) is not None}

    def coupling(self, name: str, default: float = 0.0) -> float:
        """The value of coupling ``name`` (``default`` when not set)."""
        return float(self.couplings.get(name, default))

    def replace(self, **changes: Any) -> ModelPoint:
        """A new validated point with ``changes`` applied (e.g. another mass along a scan)."""
        base = dict(
            mphi=self.mphi,
            mx=self.mx,
            ms=self.ms,
            couplings=dict(self.couplings),
            channel=self.channel,
            seed=self.seed,
            options=dict(self.options),
            uv=self.uv,
        )
        base.update(changes)
        return model_point(**base)

    def for_channel(self, channel: str | None = None) -> ModelPoint:
        """This point checked against a channel's registry row: its mass option, its couplings
        (defaults filled in), kinematic limits and options. Returns the completed point."""
        from . import channels

        name = channel or self.channel
        if name is None:
            raise PhiphiError("no channel given")
        row = channels.row(name)
        given = self.masses
        wrong = [k for k in given if k != row.mass_option]
        if wrong:
            need = f"--{row.mass_option}" if row.mass_option else "no mass"
            raise PhiphiError(f"channel {name} takes {need}, not --{wrong[0]}")
        if row.mass_option and row.mass_option not in given:
            raise PhiphiError(f"channel {name} needs --{row.mass_option}")
        unknown = [k for k in self.couplings if k not in row.couplings]
        if unknown:
            allowed = ", ".join(row.couplings) or "none"
            raise PhiphiError(f"unknown coupling {unknown[0]!r} for channel {name} (allowed: {allowed})")
        bad = [k for k in self.options if k not in row.options]
        if bad:
            allowed = ", ".join(row.options) or "none"
            raise PhiphiError(f"option {bad[0]!r} does not apply to channel {name} (allowed: {allowed})")
        cpl = dict(row.couplings)
        cpl.update(self.couplings)
        if row.mass_option:
            row.check_mass(given[row.mass_option])
        return replace(self, channel=name, couplings=cpl)

    @property
    def mass(self) -> float | None:
        """The one mass of a channel point (mphi, mx or ms), None for channels without one."""
        m = self.masses
        if len(m) > 1:
            raise PhiphiError(f"the point has several masses {m}; a channel takes one")
        return next(iter(m.values()), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the couplings in the project's convention, named)."""
        d: dict[str, Any] = {"convention": self.convention}
        if self.channel:
            d["channel"] = self.channel
        d.update(self.masses)
        d["couplings"] = dict(self.couplings)
        if self.seed is not None:
            d["seed"] = self.seed
        if self.options:
            d["options"] = dict(self.options)
        if self.uv:
            d["uv"] = dict(self.uv)
        return d


def model_point(
    *,
    mphi: Any = None,
    mx: Any = None,
    ms: Any = None,
    couplings: Any = None,
    channel: str | None = None,
    seed: Any = None,
    options: Mapping[str, Any] | None = None,
    uv: Mapping[str, Any] | None = None,
) -> ModelPoint:
    """Validate and build a :class:`ModelPoint` (one PhiphiError naming the bad value otherwise)."""
    if channel is not None and not isinstance(channel, str):
        raise PhiphiError(f"channel = {channel!r} must be a channel name")
    if options is not None and not isinstance(options, Mapping):
        raise PhiphiError(f"options = {options!r} must be a mapping")
    opts = dict(options or {})
    for k, v in opts.items():
        if isinstance(v, float) and not math.isfinite(v):
            raise PhiphiError(f"option {k} = {v!r} is not a finite number")
    return ModelPoint(
        mphi=check_mass("mphi", mphi),
        mx=check_mass("mx", mx),
        ms=check_mass("ms", ms),
        couplings=check_couplings(couplings),
        channel=channel,
        seed=check_seed(seed),
        options=opts,
        uv=dict(uv) if uv else None,
    )


def channel_point(
    channel: str,
    *,
    mphi: Any = None,
    mx: Any = None,
    ms: Any = None,
    couplings: Any = None,
    seed: Any = None,
    options: Mapping[str, Any] | None = None,
) -> ModelPoint:
    """A validated point of ``channel``: :func:`model_point` + :meth:`ModelPoint.for_channel`."""
    point = model_point(mphi=mphi, mx=mx, ms=ms, couplings=couplings, channel=channel, seed=seed, options=options)
    return point.for_channel(channel)
