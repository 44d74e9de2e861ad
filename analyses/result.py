"""The one result schema every analysis returns; scans, plots and combinations read only it.

Fields (JSON keys of :meth:`Result.as_dict`):

- ``analysis``, ``channel``, the masses (``mphi``/``mx``/``ms``, GeV),
- ``parameter`` (a coupling name of :mod:`evtgen.couplings`, or e.g. ``br``, ``omega_h2``),
  ``unit``, ``convention`` (``half``: L > 1/2 C (qbar q) phi^2, the project's; or ``none``),
- ``best_fit``, ``interval_68``, ``interval_95``, ``upper_limit_95``,
  ``expected_upper_limit_95`` (None where the analysis cannot compute it),
- ``twice_nll_best``, ``twice_nll_null`` (-2 ln L at the best fit and at zero new physics),
  ``value_at_point`` and ``twice_nll_point`` (the parameter at the model point and -2 ln L
  there), ``excluded_95`` (the point's verdict),
- ``sensitivity`` (bool) and ``sensitivity_reason``, ``limit_method``,
  ``likelihood_form`` (how the likelihood was built, e.g. from a published limit),
- ``provenance`` (paper, data files, and every derived or assumed input, labelled),
- ``no_half``: the same numbers in the papers' convention without the 1/2 (C' = C/2) for
  quark couplings, so results compare directly with the literature,
- ``extras``: analysis-specific numbers (counts, acceptances, observables).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evtgen import couplings as couplings_registry
from evtgen.model import ModelPoint

from . import stats

#: fields holding parameter values (converted for the no-1/2 convention)
VALUE_FIELDS = ("best_fit", "interval_68", "interval_95", "upper_limit_95", "expected_upper_limit_95", "value_at_point")


@dataclass
class Result:
    """One analysis at one model point (see the module docstring for every field)."""

    analysis: str
    channel: str | None
    masses: dict[str, float]
    parameter: str
    unit: str
    convention: str = "half"
    best_fit: float | None = None
    interval_68: tuple[float, float] | None = None
    interval_95: tuple[float, float] | None = None
    upper_limit_95: float | None = None
    expected_upper_limit_95: float | None = None
    twice_nll_best: float | None = None
    twice_nll_null: float | None = None
    value_at_point: float | None = None
    twice_nll_point: float | None = None
    excluded_95: bool | None = None
    sensitivity: bool = True
    sensitivity_reason: str = ""
    limit_method: str = ""
    likelihood_form: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    histograms: dict[str, Any] = field(default_factory=dict, repr=False)  # boost-histogram objects, not in JSON
    likelihood: Any = field(default=None, repr=False, compare=False)  # the -2 ln L(mu) object, not in JSON

    @property
    def twice_dnll_point(self) -> float | None:
        """-2 Delta ln L of the model point against zero new physics (>0: disfavoured)."""
        if self.twice_nll_point is None or self.twice_nll_null is None:
            return None
        return self.twice_nll_point - self.twice_nll_null

    def no_half(self) -> dict[str, Any]:
        """The value fields in the convention without the 1/2 (C' = C/2); empty when the
        parameter is not a quark coupling."""
        row = couplings_registry.COUPLINGS.get(self.parameter)
        if row is None or not row.half or self.convention != "half":
            return {}
        out: dict[str, Any] = {
            "parameter": f"{self.parameter}'",
            "convention": "no_half (L > C' (qbar q) phi^2, C' = C/2)",
        }
        for k in VALUE_FIELDS:
            v = getattr(self, k)
            if v is None:
                out[k] = None
            elif isinstance(v, tuple | list):
                out[k] = [0.5 * x for x in v]
            else:
                out[k] = 0.5 * v
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-able dict with every schema field (histograms excluded)."""
        d: dict[str, Any] = {"analysis": self.analysis, "channel": self.channel}
        d.update(self.masses)
        for k in (
            "parameter", "unit", "convention", "best_fit", "interval_68", "interval_95", "upper_limit_95",
            "expected_upper_limit_95", "twice_nll_best", "twice_nll_null", "value_at_point", "twice_nll_point",
            "excluded_95", "sensitivity", "sensitivity_reason", "limit_method", "likelihood_form",
        ):  # fmt: skip
            v = getattr(self, k)
            d[k] = list(v) if isinstance(v, tuple) else v
        d["twice_dnll_point"] = self.twice_dnll_point
        d["no_half"] = self.no_half()
        d["provenance"] = dict(self.provenance)
        d["extras"] = dict(self.extras)
        return d


def from_fit(
    lik: stats.SignalStrengthLikelihood,
    fit: stats.Fit,
    *,
    analysis: str,
    point: ModelPoint,
    parameter: str,
    reference: float,
    scaling: str,
    unit: str | None = None,
    provenance: Mapping[str, Any] | None = None,
    extras: Mapping[str, Any] | None = None,
    likelihood_form: str = "",
    value_at_point: float | None = None,
) -> Result:
    """Turn an engine :class:`~analyses.stats.Fit` in signal strength into a :class:`Result`
    on ``parameter`` (``reference`` is its value at mu = 1; ``scaling`` as in
    :func:`analyses.stats.to_parameter`). The model point's own value of the parameter (its
    coupling, or ``value_at_point`` for a derived parameter such as a Wilson coefficient the
    point implies) gives ``value_at_point``, ``twice_nll_point`` and ``excluded_95``."""

    def conv(mu):
        return stats.to_parameter(mu, reference, scaling)

    def conv_pair(p):
        return None if p is None else (conv(p[0]), conv(p[1]))

    row = couplings_registry.COUPLINGS.get(parameter)
    at_point = value_at_point
    if at_point is None:
        at_point = point.couplings.get(parameter) if point.couplings else None
    nll_point = None
    excluded = None
    if at_point is not None and reference != 0:
        mu_point = float(stats.to_signal_strength(at_point, reference, scaling))
        if math.isfinite(mu_point) and mu_point >= 0:
            nll_point = float(lik.twice_nll(mu_point))
            if fit.upper_limit_95 is not None:
                excluded = bool(mu_point > fit.upper_limit_95)
    return Result(
        analysis=analysis,
        channel=point.channel,
        masses=point.masses,
        parameter=parameter,
        unit=unit if unit is not None else (row.unit if row else ""),
        convention="half" if (row is not None and row.half) else "none",
        best_fit=conv(fit.mu_hat),
        interval_68=conv_pair(fit.interval_68),
        interval_95=conv_pair(fit.interval_95),
        upper_limit_95=conv(fit.upper_limit_95),
        expected_upper_limit_95=conv(fit.expected_upper_limit_95),
        twice_nll_best=fit.twice_nll_best,
        twice_nll_null=fit.twice_nll_null,
        value_at_point=at_point,
        twice_nll_point=nll_point,
        excluded_95=excluded,
        sensitivity=fit.sensitivity,
        sensitivity_reason=fit.reason,
        limit_method=fit.method,
        likelihood_form=likelihood_form,
        provenance=dict(provenance or {}),
        extras={
            "mu_hat": fit.mu_hat,
            "significance": fit.significance,
            "reference": reference,
            "scaling": scaling,
            **dict(extras or {}),
        },
        likelihood=lik,
    )


def no_sensitivity(
    *, analysis: str, point: ModelPoint, parameter: str, reason: str, provenance=None, extras=None
) -> Result:
    """A result that says the analysis cannot constrain the point, and why."""
    row = couplings_registry.COUPLINGS.get(parameter)
    return Result(
        analysis=analysis,
        channel=point.channel,
        masses=point.masses,
        parameter=parameter,
        unit=row.unit if row else "",
        convention="half" if (row is not None and row.half) else "none",
        value_at_point=point.couplings.get(parameter) if point.couplings else None,
        sensitivity=False,
        sensitivity_reason=reason,
        provenance=dict(provenance or {}),
        extras=dict(extras or {}),
    )
