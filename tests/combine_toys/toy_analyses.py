"""Toy analyses of the combination, export and figure tests (small, deterministic)."""

from __future__ import annotations

from analyses import result, stats
from evtgen.model import ModelPoint


def _counts(point: ModelPoint, data: dict, attach: bool = False) -> result.Result:
    lik = stats.PoissonCounts(
        observed=data["observed"],
        background=data["background"],
        background_err=data["background_err"],
        signal=data["signal_at_reference"],
    )
    fit = stats.fit(lik, mu_scale=1.0, method="cls")
    res = result.from_fit(
        lik,
        fit,
        analysis="toy_counts",
        point=point,
        parameter="CS_sb",
        reference=data["reference"],
        scaling="quadratic",
    )
    if attach:
        res.likelihood = lik
    return res


def _kaon(point: ModelPoint, data: dict) -> result.Result:
    lik = stats.GaussianMeasurement(value=data["value"], sigma=data["sigma"], reference=1.0)
    fit = stats.fit(lik, mu_scale=1.0, method="wilks")
    return result.from_fit(
        lik, fit, analysis="toy_kaon", point=point, parameter="CS_sd", reference=data["reference"], scaling="quadratic"
    )


def _limit(point: ModelPoint, data: dict) -> result.Result:
    return result.Result(
        analysis="toy_limit",
        channel=None,
        masses=point.masses,
        parameter="CS_ss",
        unit="GeV^-1",
        upper_limit_95=data["upper_limit"],
        value_at_point=point.couplings.get("CS_ss"),
        limit_method="published",
    )


def recast(point: ModelPoint, *, data: dict, **options) -> result.Result:
    name = data["analysis"]["name"]
    if name == "toy_counts":
        return _counts(point, data, bool(options.get("attach")))
    if name == "toy_kaon":
        return _kaon(point, data)
    if name == "toy_limit":
        return _limit(point, data)
    return result.no_sensitivity(analysis=name, point=point, parameter="CS_sb", reason="toy: blind")
