"""Thin adapter: the generator's UV point is a :class:`evtgen.models.tchannel.TChannelPoint`.

All physics of the UV point — the Q–D mass matrix and its mass eigenstates (U, D1, D2), the
CKM-rotated up-type Yukawas, the couplings of each eigenstate to each light flavour, the widths
and the tree-level matching onto C_dφ^{S/P} — lives in :mod:`evtgen.models.tchannel` (validated
by tests/test_uv_tchannel.py). This module only

* reads the point from what a channel call receives (:func:`point_from_inputs`): the option
  ``uv`` (a ``TChannelPoint``, the ``ModelPoint.uv`` mapping written by :mod:`evtgen.modelfile`, or
  its ``parameters`` mapping), or the legacy flat names :data:`UV_NAMES` (first two generations,
  real; y_q^b = y_d^b = 0), and
* names the heavy mass eigenstates and their PDG-style codes (:data:`HEAVY`).

Sign of the matched coefficient: C^{S,dd} = −√2 y_q y_d y₁ v/(m_Q m_D) (the model layer's; the
former local formula here had +, an artefact of comparing amplitudes without the Feynman-rule
phases, i³ for the UV diagrams against i for the contact vertex). tests/test_vlq_me.py
(``test_uv_helicity_amplitude_tends_to_matched_contact_with_sign``) proves it at amplitude level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evtgen.errors import PhiphiError, check_finite
from evtgen.models import tchannel as T

#: legacy flat UV parameter names accepted as couplings/options of the pp2vlq channel
UV_NAMES = ("mQ", "mD", "yq_d", "yq_s", "yd_d", "yd_s", "y1", "y2")

#: heavy mass eigenstate index -> (name, PDG-style code written to LHE files, charge)
HEAVY = (("U", 9000002, 2 / 3), ("D1", 9000001, -1 / 3), ("D2", 9000011, -1 / 3))


def _from_flat(params: Mapping[str, float], mphi: float) -> T.TChannelPoint:
    vals = {k: check_finite(k, v) for k, v in params.items()}
    for m in ("mQ", "mD"):
        if m not in vals:
            raise PhiphiError(
                f'pp2vlq needs the heavy-quark mass {m} (GeV), given as an option, e.g. options={{"{m}": 3000}} '
                "in evtgen.rate/generate, or a UV point as option uv (phiphi ... --model FILE)"
            )
    return T.tchannel_point(
        m_Q=vals["mQ"],
        m_D=vals["mD"],
        m_phi=mphi,
        y_q=(vals.get("yq_d", 0.0), vals.get("yq_s", 0.0), 0.0),
        y_d=(vals.get("yd_d", 0.0), vals.get("yd_s", 0.0), 0.0),
        y1=vals.get("y1", 0.0),
        y2=vals.get("y2", 0.0),
    )


def as_tchannel_point(uv: Any) -> T.TChannelPoint:
    """A ``TChannelPoint`` from a ``TChannelPoint``, a ``ModelPoint``, a ``ModelPoint.uv`` mapping
    (``{"model": "tchannel-vlq", "parameters": {...}}``) or a parameters mapping."""
    if isinstance(uv, T.TChannelPoint):
        return uv
    if hasattr(uv, "uv") and hasattr(uv, "couplings"):  # a ModelPoint
        return T.uv_from_model_point(uv)
    if isinstance(uv, Mapping):
        if "parameters" in uv:
            if uv.get("model", T.MODEL_NAME) != T.MODEL_NAME:
                raise PhiphiError(f"uv model {uv.get('model')!r}; pp2vlq takes {T.MODEL_NAME}")
            return T.from_dict(uv["parameters"])
        return T.from_dict(uv)
    raise PhiphiError(f"uv = {uv!r}: give a tchannel-vlq point (model file, ModelPoint.uv or its parameters)")


def point_from_inputs(uv: Any, flat: Mapping[str, float], mphi: float | None) -> T.TChannelPoint:
    """The generator's UV point: ``uv`` (see :func:`as_tchannel_point`) or the flat legacy names;
    ``mphi`` (the channel's mass) must agree with the point's m_phi when both are given."""
    if uv is not None:
        if flat:
            raise PhiphiError(
                f"give the UV point either as option uv or as flat parameters, not both ({next(iter(flat))})"
            )
        p = as_tchannel_point(uv)
        if mphi is not None and abs(float(mphi) - p.m_phi) > 1e-12 * max(1.0, p.m_phi):
            raise PhiphiError(f"mphi = {mphi:g} GeV differs from the UV point's m_phi = {p.m_phi:g} GeV")
        return p
    if mphi is None:
        raise PhiphiError("pp2vlq needs --mphi (or a UV point with m_phi)")
    return _from_flat(flat, float(mphi))


def matched_C(uv: T.TChannelPoint) -> dict[str, float]:
    """The matched real couplings (GeV⁻¹, ½ convention) of :func:`evtgen.models.tchannel.to_eft`."""
    return T.to_eft(uv)


__all__ = ["HEAVY", "UV_NAMES", "as_tchannel_point", "matched_C", "point_from_inputs"]
