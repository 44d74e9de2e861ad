"""Model files: one model point (EFT couplings or a UV parameter point) in YAML or JSON.

The layout follows WCxf (EFT name, basis name, values), with the masses the phiphi EFT needs.
An **EFT point**::

    eft: phiLEFT
    basis: phiphi-half            # or phiphi-no-half (the papers' convention, read and converted)
    convention: "L > 1/2 C_qphi^{S,ij} (qbar_i q_j) phi^2 + 1/2 C_qphi^{P,ij} (qbar_i i g5 q_j) phi^2 + CG (G G) phi^2"
    masses: {mphi: 1.0}           # GeV; keys mphi, mx, ms
    values: {CS_sb: 1.26e-7}      # registry names (evtgen.couplings), GeV^-1 / GeV^-2
    channel: b2kphiphi            # optional, as are seed and options

``basis: phiphi-half`` holds the project's values; ``basis: phiphi-no-half`` holds C' of
L > C' (qbar q) phi^2 (C = 2 C' for quark couplings, :func:`evtgen.couplings.from_no_half`), and
is converted on reading. The ``convention`` line is informative (written for humans); the basis
decides. A **UV point**::

    model: tchannel-vlq
    parameters: {m_Q: 3000.0, m_D: 3000.0, m_phi: 1.0, y_q: [0, 1, 0], y_d: [0, 0, 1], y1: 1.0, y2: 0.0}
    complex_map: modulus          # optional: how complex matched couplings become real (tchannel docs)

a Yukawa may be complex, written [re, im]. :func:`load_model` returns an
:class:`evtgen.model.ModelPoint` (for a UV point: couplings from
:func:`evtgen.models.tchannel.to_eft`, ``uv`` = the parameters and the complex matched values);
:func:`dump_model` writes one (atomically, :func:`evtgen.io.atomic_path`). Floats are written with
``repr`` precision, so load(dump(p)) == p exactly, in both formats.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from . import couplings as registry
from .errors import PhiphiError
from .model import MASS_NAMES, ModelPoint, model_point

EFT_NAME = "phiLEFT"
BASES = {"phiphi-half": "half", "phiphi-no-half": "no_half"}
CONVENTION_TEXT = {
    "half": (
        "L > 1/2 C_qphi^{S,ij} (qbar_i q_j) phi^2 + 1/2 C_qphi^{P,ij} (qbar_i i g5 q_j) phi^2 + CG (G G) phi^2 "
        "(project convention)"
    ),
    "no_half": (
        "L > C'^{S,ij} (qbar_i q_j) phi^2 + C'^{P,ij} (qbar_i i g5 q_j) phi^2 + CG (G G) phi^2 "
        "(papers' convention, C' = C/2 for quark couplings)"
    ),
}
EFT_KEYS = ("eft", "basis", "convention", "masses", "values", "channel", "seed", "options")
UV_KEYS = ("model", "parameters", "complex_map", "channel", "seed", "options")
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def _format(path: str | os.PathLike) -> str:
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise PhiphiError(f"model file {str(path)!r} must end in .yaml, .yml or .json")
    return FORMATS[ext]


def read_model_dict(path: str | os.PathLike) -> dict[str, Any]:
    """The raw mapping of a model file (PhiphiError if it cannot be read or is not a mapping)."""
    fmt = _format(path)
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh) if fmt == "yaml" else json.load(fh)
    except OSError as exc:
        raise PhiphiError(f"cannot read model file {str(path)!r}: {exc.strerror}") from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PhiphiError(f"model file {str(path)!r} is not valid {fmt.upper()}: {first}") from None
    if not isinstance(data, dict):
        raise PhiphiError(f"model file {str(path)!r} must hold a mapping (eft: ... or model: ...)")
    return data


def point_from_dict(data: Mapping[str, Any], *, source: str = "model file") -> ModelPoint:
    """A validated :class:`ModelPoint` from the mapping of a model file (EFT or UV layout)."""
    if "model" in data and "eft" in data:
        raise PhiphiError(f"{source}: give either 'eft' (EFT couplings) or 'model' (a UV point), not both")
    if "model" in data:
        return _uv_point(data, source)
    if "eft" in data:
        return _eft_point(data, source)
    raise PhiphiError(f"{source}: needs the key 'eft' ({EFT_NAME}) or 'model' (tchannel-vlq)")


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], source: str) -> None:
    bad = [k for k in data if k not in allowed]
    if bad:
        raise PhiphiError(f"{source}: unknown key {bad[0]!r}; allowed: {', '.join(allowed)}")


def _eft_point(data: Mapping[str, Any], source: str) -> ModelPoint:
    _check_keys(data, EFT_KEYS, source)
    if data["eft"] != EFT_NAME:
        raise PhiphiError(f"{source}: eft = {data['eft']!r}; this package reads eft: {EFT_NAME}")
    basis = data.get("basis")
    if basis not in BASES:
        raise PhiphiError(f"{source}: basis = {basis!r}; choose {' or '.join(BASES)}")
    masses = data.get("masses") or {}
    if not isinstance(masses, Mapping):
        raise PhiphiError(f"{source}: masses = {masses!r} must be a mapping like {{mphi: 1.0}}")
    bad = [k for k in masses if k not in MASS_NAMES]
    if bad:
        raise PhiphiError(f"{source}: unknown mass {bad[0]!r}; allowed: {', '.join(MASS_NAMES)}")
    values = data.get("values")
    if not isinstance(values, Mapping):
        raise PhiphiError(f"{source}: values = {values!r} must be a mapping NAME: value")
    for name, v in values.items():
        if name not in registry.COUPLINGS:
            raise PhiphiError(f"{source}: unknown coupling {name!r} in values; known: {', '.join(registry.COUPLINGS)}")
        if isinstance(v, (Mapping, list)):
            raise PhiphiError(f"{source}: values.{name} = {v!r}: EFT values are real numbers (complex: use a UV model)")
    cpl = dict(values)
    if BASES[basis] == "no_half":
        cpl = {k: registry.from_no_half(k, _number(f"values.{k}", v, source)) for k, v in cpl.items()}
    return model_point(
        **{k: masses[k] for k in masses},
        couplings=cpl,
        channel=data.get("channel"),
        seed=data.get("seed"),
        options=data.get("options"),
    )


def _number(name: str, v: Any, source: str) -> float:
    if isinstance(v, bool):
        raise PhiphiError(f"{source}: {name} = {v!r} is not a number")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise PhiphiError(f"{source}: {name} = {v!r} is not a number") from None


def _uv_point(data: Mapping[str, Any], source: str) -> ModelPoint:
    from .models import tchannel

    _check_keys(data, UV_KEYS, source)
    if data["model"] != tchannel.MODEL_NAME:
        raise PhiphiError(f"{source}: model = {data['model']!r}; known: {tchannel.MODEL_NAME}")
    params = data.get("parameters")
    if not isinstance(params, Mapping):
        raise PhiphiError(f"{source}: parameters = {params!r} must be a mapping (m_Q, m_D, m_phi, y_q, y_d, y1, y2)")
    try:
        uv = tchannel.from_dict(params)
    except PhiphiError as exc:
        raise PhiphiError(f"{source}: {exc}") from None
    cmap = data.get("complex_map", "modulus")
    point = tchannel.to_model_point(uv, complex_map=cmap, channel=data.get("channel"), seed=data.get("seed"))
    if data.get("options"):
        point = point.replace(options=data["options"])
    return point


def load_model(path: str | os.PathLike) -> ModelPoint:
    """Read a model file (YAML or JSON, EFT or UV layout) into a validated :class:`ModelPoint`."""
    return point_from_dict(read_model_dict(path), source=f"model file {str(path)!r}")


def _plain(x: Any) -> Any:
    """numpy scalars and tuples to plain Python (YAML safe_dump and JSON take only those)."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        return x.item()
    return x


def model_dict(point: ModelPoint, *, basis: str = "phiphi-half") -> dict[str, Any]:
    """The model-file mapping of ``point``: the UV layout if the point came from a UV model,
    else the EFT layout in ``basis`` (``phiphi-no-half`` writes C' = C/2 for quark couplings)."""
    if point.uv and point.uv.get("model") and "parameters" in point.uv:
        d: dict[str, Any] = {"model": point.uv["model"], "parameters": _plain(point.uv["parameters"])}
        if point.uv.get("complex_map", "modulus") != "modulus":
            d["complex_map"] = point.uv["complex_map"]
    else:
        if basis not in BASES:
            raise PhiphiError(f"basis = {basis!r}; choose {' or '.join(BASES)}")
        conv = BASES[basis]
        values = {k: (registry.to_no_half(k, v) if conv == "no_half" else float(v)) for k, v in point.couplings.items()}
        d = {"eft": EFT_NAME, "basis": basis, "convention": CONVENTION_TEXT[conv], "masses": point.masses}
        d["values"] = values
    if point.channel:
        d["channel"] = point.channel
    if point.seed is not None:
        d["seed"] = point.seed
    if point.options:
        d["options"] = _plain(dict(point.options))
    return _plain(d)


def dump_model(point: ModelPoint, path: str | os.PathLike, *, basis: str = "phiphi-half") -> Path:
    """Write ``point`` as a model file (format from the extension), atomically; returns the path."""
    from .io import atomic_path

    fmt = _format(path)
    d = model_dict(point, basis=basis)
    text = (
        yaml.safe_dump(d, sort_keys=False, default_flow_style=None, width=1000)
        if fmt == "yaml"
        else json.dumps(d, indent=2) + "\n"
    )
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def to_no_half(point: ModelPoint) -> dict[str, float]:
    """The point's couplings in the papers' convention without the 1/2 (C' = C/2 for quark couplings)."""
    return {k: registry.to_no_half(k, v) for k, v in point.couplings.items()}


def for_channel(point: ModelPoint, channel: str) -> ModelPoint:
    """``point.for_channel(channel)``, keeping for a UV point only the couplings the channel takes
    (a matched point carries every coupling; an EFT point is checked strictly as before)."""
    if point.uv:
        from . import channels

        row = channels.row(channel)
        point = point.replace(couplings={k: v for k, v in point.couplings.items() if k in row.couplings})
    return point.for_channel(channel)
