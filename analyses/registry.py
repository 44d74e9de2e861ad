"""The analysis registry, read from the analyses' data files.

An analysis is one module plus one data file (YAML). The data file starts with a header

.. code-block:: yaml

    analysis:
      name: belle2                          # the short name used on the command line
      module: analyses.belle2_bknunu_2023   # import path, or a .py path relative to this file
      title: Belle II B+ -> K+ nu nubar, 362 fb^-1
      paper: arXiv:2311.14647
      channels: {b2kphiphi: CS_sb, b2kx: br}   # accepted channel -> parameter it limits
      default_channel: b2kphiphi
      options:                               # analysis options (anything else is an error)
        n_events: {type: int, help: "signal events to emulate (default: fold the spectrum)"}

and the rest of the file holds the analysis's numbers. The module provides
``recast(point: ModelPoint, *, data: dict, **options) -> Result``. Files are found in
``analyses/data/*.yaml`` and in every directory on ``PHIPHI_ANALYSIS_PATH`` (``os.pathsep``
separated), so a user's analysis needs no change to the package. Reading the registry
imports no analysis module (the CLI help reads it).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from evtgen.errors import PhiphiError
from evtgen.model import ModelPoint

from .result import Result

#: environment variable listing extra directories of analysis data files
PATH_VARIABLE = "PHIPHI_ANALYSIS_PATH"

_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


@dataclass(frozen=True)
class Option:
    """One analysis option: its type, help and default."""

    name: str
    type: str = "float"
    help: str = ""
    default: Any = None
    choices: tuple | None = None

    def convert(self, value: Any) -> Any:
        """``value`` converted to the option's type (PhiphiError naming it otherwise)."""
        if value is None:
            return None
        kind = _TYPES.get(self.type)
        if kind is None:
            raise PhiphiError(f"option {self.name} has unknown type {self.type!r}")
        try:
            if kind is bool:
                out = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
            elif kind is int and isinstance(value, float) and value.is_integer():
                out = int(value)
            elif kind is int and isinstance(value, str):
                f = float(value)
                if not f.is_integer():
                    raise ValueError
                out = int(f)
            else:
                out = kind(value)
        except (TypeError, ValueError):
            raise PhiphiError(f"{self.name} = {value!r} is not of type {self.type}") from None
        if kind is float and out != out:
            raise PhiphiError(f"{self.name} = {value!r} is not a finite number")
        if self.choices and out not in self.choices:
            raise PhiphiError(f"{self.name} = {value!r}; choose one of {', '.join(map(str, self.choices))}")
        return out


@dataclass(frozen=True)
class AnalysisInfo:
    """A registered analysis: its header, where its module and data are."""

    name: str
    module: str
    title: str
    paper: str
    channels: dict[str, str]
    default_channel: str | None
    options: dict[str, Option]
    data_file: Path
    kind: str = "search"  # "search" (flavour/collider) or "constraint" (dark matter, UV low-energy)
    header: dict[str, Any] = field(default_factory=dict, repr=False)

    def parameter(self, channel: str | None) -> str:
        """The parameter this analysis limits for ``channel``."""
        if not self.channels:
            return str(self.header.get("parameter", ""))
        ch = channel or self.default_channel
        return self.channels[ch] if ch in self.channels else next(iter(self.channels.values()))

    def data(self) -> dict[str, Any]:
        """The parsed data file (header included)."""
        return _load_yaml(str(self.data_file))

    def load(self) -> ModuleType:
        """Import the analysis module."""
        mod = self.module
        try:
            if mod.endswith(".py"):
                path = (self.data_file.parent / mod).resolve()
                modname = f"phiphi_user_analysis_{self.name}"
                if modname in sys.modules:
                    return sys.modules[modname]
                spec = importlib.util.spec_from_file_location(modname, path)
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot load {path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[modname] = module
                spec.loader.exec_module(module)
                return module
            return importlib.import_module(mod)
        except (ImportError, FileNotFoundError) as exc:
            raise PhiphiError(f"analysis {self.name!r} is not available: {exc}") from None


def _load_yaml(path: str) -> dict[str, Any]:
    """The parsed YAML file ``path``, read again when the file changes (mtime, size)."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise PhiphiError(f"cannot read analysis data file {path}: {exc}") from None
    return _load_yaml_version(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _load_yaml_version(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise PhiphiError(f"cannot read analysis data file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise PhiphiError(f"analysis data file {path} is not a YAML mapping")
    return data


@functools.lru_cache(maxsize=256)
def _info_cached(path: str, mtime_ns: int, size: int) -> AnalysisInfo | None:
    """The header of one data file, parsed once per version of the file (its mtime and size are
    part of the key: an edited file is read again). AnalysisInfo is frozen, so sharing is safe."""
    return _info_from(Path(path))


def _info_from(path: Path) -> AnalysisInfo | None:
    data = _load_yaml(str(path))
    head = data.get("analysis")
    if not isinstance(head, dict):
        return None
    try:
        channels = head.get("channels") or {}
        if isinstance(channels, list):
            channels = {c: head["parameter"] for c in channels}
        options = {
            k: Option(k, **{kk: (tuple(vv) if kk == "choices" else vv) for kk, vv in (v or {}).items()})
            for k, v in (head.get("options") or {}).items()
        }
        return AnalysisInfo(
            name=str(head["name"]),
            module=str(head["module"]),
            title=str(head.get("title", "")),
            paper=str(head.get("paper", "")),
            channels={str(k): str(v) for k, v in channels.items()},
            default_channel=head.get("default_channel") or (next(iter(channels)) if channels else None),
            options=options,
            data_file=path,
            kind=str(head.get("kind", "search")),
            header=head,
        )
    except (KeyError, TypeError) as exc:
        raise PhiphiError(f"analysis header of {path} is incomplete: {exc}") from None


def _search_dirs() -> list[Path]:
    dirs = [Path(str(resources.files("analyses") / "data"))]
    for d in os.environ.get(PATH_VARIABLE, "").split(os.pathsep):
        if d.strip():
            dirs.append(Path(d))
    return dirs


def analyses() -> dict[str, AnalysisInfo]:
    """Every registered analysis, by short name (package first, then ``PHIPHI_ANALYSIS_PATH``)."""
    out: dict[str, AnalysisInfo] = {}
    for d in _search_dirs():
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.yaml")):
            stat = path.stat()
            info = _info_cached(str(path), stat.st_mtime_ns, stat.st_size)
            if info is not None and info.name not in out:
                out[info.name] = info
    return out


def get(name: str) -> AnalysisInfo:
    """The registered analysis ``name`` (PhiphiError listing the known ones otherwise)."""
    known = analyses()
    if name not in known:
        by_module = {i.module.rsplit(".", 1)[-1]: i for i in known.values()}
        if name in by_module:
            return by_module[name]
        raise PhiphiError(f"unknown analysis {name!r}; choose one of {', '.join(known)}")
    return known[name]


def check_options(info: AnalysisInfo, options: dict[str, Any]) -> dict[str, Any]:
    """Options converted to their types; an option the analysis does not declare is an error."""
    out = {}
    for k, v in options.items():
        if v is None:
            continue
        if k not in info.options:
            allowed = ", ".join(info.options) or "none"
            raise PhiphiError(f"option {k!r} does not apply to analysis {info.name} (its options: {allowed})")
        out[k] = info.options[k].convert(v)
    return out


def project(name: str, point: ModelPoint) -> ModelPoint:
    """``point`` restricted to the couplings analysis ``name`` reads (its channel's couplings, or
    for an analysis without channels the parameter and ``couplings`` list of its header): a
    model file or a matched UV point carries every coupling, each analysis takes its own."""
    info = get(name)
    channel = point.channel or info.default_channel
    if channel is not None:
        from evtgen import channels as channel_registry

        row = channel_registry.ROWS.get(channel)
        read = set(row.couplings) if row is not None else set(info.channels.values())
    else:
        read = {str(info.header.get("parameter", ""))} | {str(c) for c in info.header.get("couplings") or []}
    return point.replace(couplings={k: v for k, v in point.couplings.items() if k in read}, channel=channel)


def prepare(
    name: str, point: ModelPoint, options: dict[str, Any] | None = None
) -> tuple[AnalysisInfo, ModelPoint, dict]:
    """Validate a recast request before any work: the analysis, its channel, the model point
    against the channel's registry row, and the options. Returns what :func:`recast` runs."""
    info = get(name)
    opts = check_options(info, dict(options or {}))
    channel = point.channel or info.default_channel
    if info.channels and channel not in info.channels:
        raise PhiphiError(
            f"analysis {info.name} does not take channel {channel!r}; it takes {', '.join(info.channels)}"
        )
    if channel is not None and info.header.get("generated_channels", True):
        from evtgen import channels as channel_registry

        if channel in channel_registry.CHANNELS:
            point = point.for_channel(channel)
            if channel_registry.row(channel).kind == "decay" and point.couplings:
                from evtgen.production import physical_rate  # BR > 1 is an error, not a result

                physical_rate(channel, mass=point.mass, couplings=dict(point.couplings), options={})
        else:
            point = point.replace(channel=channel)
    return info, point, opts


def recast(name: str, point: ModelPoint, **options: Any) -> Result:
    """Run analysis ``name`` at ``point`` (validated first); returns the common :class:`Result`."""
    info, point, opts = prepare(name, point, options)
    result = info.load().recast(point, data=info.data(), **opts)
    if not isinstance(result, Result):
        raise TypeError(f"analysis {info.name} returned {type(result).__name__}, not a Result")
    result.provenance.setdefault("paper", info.paper)
    result.provenance.setdefault("data_file", info.data_file.name)
    return result
