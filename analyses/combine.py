"""Combination of every applicable analysis at one model point (``phiphi fit``), and the
``combined`` pseudo-analysis that lets the generic scanner run global scans.

For one :class:`~evtgen.model.ModelPoint` (EFT couplings or a UV point read from a model
file) :func:`fit` evaluates each registered analysis that applies to the point through
:func:`analyses.registry.recast` and reads ONLY the common :class:`~analyses.result.Result`:

- each analysis's contribution is ``twice_nll_point - twice_nll_null``, its -2 Delta ln L at
  the point against zero new physics (> 0: the point is disfavoured by it; < 0: preferred to
  the SM, e.g. by an excess);
- an analysis that gives a 95% CL upper limit but no likelihood at the point contributes an
  *approximate* likelihood built from the limit with :class:`analyses.stats.GaussianLimit`
  (half-Gaussian in the rate, its form is stated in the output): the rate is quadratic in a
  coupling (|C|^2) and linear in a branching ratio or any non-coupling parameter, so with
  r = value / UL, -2 Delta ln L = (Phi^-1(0.95) r^2)^2 (couplings) or (Phi^-1(0.95) r)^2 (linear);
- an analysis with no sensitivity at the point (``Result.sensitivity`` False), with neither
  likelihood nor limit, that does not apply, or that failed, contributes 0 and is listed with
  the reason.

**Independent experiments add**: the combined -2 Delta ln L is the plain sum of the
contributions (no correlated systematics between experiments are modelled; two analyses of
one data set must not both be combined — the registry holds one analysis per data set).

Verdict (Wilks, chi^2 with k degrees of freedom, k = the number of non-zero couplings of the
point entering the contributing analyses, clipped to 1..2 or given as ``n_parameters``): the
point is excluded at 95% CL against the SM when the combined -2 Delta ln L exceeds
chi^2_k(0.95) = 3.841 (k = 1) or 5.991 (k = 2); 68.27% CL thresholds 1.000 / 2.296 are
reported as "disfavoured". The test is the likelihood ratio of the point against the
no-new-physics point; in a scan the allowed regions are instead taken relative to the best
point (:func:`allowed_regions`). The dominant constraint is the analysis with the largest
|contribution|.

Applicability (read from the registry header, no analysis module imported):

- an analysis with ``channels`` applies when the point has a non-zero value of the parameter
  one of its channels limits, or of a coupling the channel's registry row takes (and, for
  channels of the channel registry, the mass that channel takes); the first such channel in header order (``default_channel`` first, or the point's
  own channel) is used and the point is restricted to the couplings and options that channel
  accepts;
- a constraint (``channels: {}``) applies when the point has a non-zero value of one of the
  couplings it reads: the header's ``couplings`` list if present, else the choices of its
  ``coupling`` option, else its ``parameter`` when that is a coupling name; a constraint whose
  parameter is no coupling (e.g. ``omega_h2``) and lists none is tried at every point with a
  mass (its own errors are then listed). When the analysis has a ``coupling`` option with
  choices, the combination sets it to the point's first non-zero coupling among them (so the
  analysis evaluates its likelihood at the point's values).
- analyses of ``kind: combination`` (this one) are never combined.

The point's seed is passed unchanged to every analysis, so a combination of one analysis
alone is exactly that analysis's own result (tested).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import chi2

from evtgen import couplings as couplings_registry
from evtgen.errors import PhiphiError
from evtgen.model import ModelPoint

from . import registry, stats
from .result import Result

#: analyses of this kind are never combined (the combination itself)
COMBINATION_KIND = "combination"
#: the statement printed with every combination
INDEPENDENCE_NOTE = (
    "independent experiments: the combined -2 Delta ln L is the sum of the analyses' -2 Delta ln L "
    "(no correlations between experiments modelled)"
)
#: statuses of a contribution
LIKELIHOOD, LIMIT, NO_SENSITIVITY, NO_LIKELIHOOD, NOT_APPLICABLE, FAILED = (
    "likelihood",
    "limit (approximate likelihood)",
    "no sensitivity",
    "no likelihood",
    "not applicable",
    "failed",
)
#: confidence levels of the verdicts and allowed regions
CL_68 = 0.6826894921370859
CL_95 = 0.95


def threshold(cl: float, dof: int) -> float:
    """chi^2 quantile: the -2 Delta ln L threshold at confidence level ``cl`` for ``dof`` parameters."""
    return float(chi2.ppf(cl, dof))


def scaling_of(parameter: str, header: Mapping[str, Any] | None = None) -> str:
    """How a rate depends on ``parameter``: ``quadratic`` for couplings (|C|^2), ``linear`` for
    a branching ratio or any non-coupling parameter; a header key ``scaling`` overrides."""
    if header and header.get("scaling") in ("linear", "quadratic"):
        return str(header["scaling"])
    if parameter in couplings_registry.COUPLINGS and parameter != "br":
        return "quadratic"
    return "linear"


def limit_twice_dnll(value: float, upper_limit: float, scaling: str) -> float:
    """-2 Delta ln L of ``value`` from a 95% CL upper limit alone, with the form of
    :class:`analyses.stats.GaussianLimit` (half-Gaussian at 0 in the rate x, sigma = UL_x / 1.645)."""
    if not upper_limit > 0:
        raise PhiphiError(f"upper limit {upper_limit!r} must be > 0 to build a likelihood from it")
    r = abs(value) / upper_limit
    rate_ratio = r * r if scaling == "quadratic" else r
    return float(stats.GaussianLimit(upper_limit=1.0, cl=CL_95, reference=rate_ratio).twice_nll(1.0))


# --- applicability ------------------------------------------------------------------------------
def _nonzero(point: ModelPoint, name: str) -> bool:
    return abs(point.couplings.get(name, 0.0)) > 0.0


def constraint_couplings(info: registry.AnalysisInfo) -> list[str]:
    """The couplings a constraint analysis (no channels) reads, from its header."""
    head = info.header
    listed = head.get("couplings")
    if isinstance(listed, Sequence) and not isinstance(listed, str):
        return [str(c) for c in listed]
    opt = info.options.get("coupling")
    if opt is not None and opt.choices:
        return [str(c) for c in opt.choices]
    param = info.parameter(None)
    return [param] if param in couplings_registry.COUPLINGS else []


def applicable(info: registry.AnalysisInfo, point: ModelPoint) -> tuple[str | None, str]:
    """``(channel, "")`` when ``info`` applies to ``point`` (channel None for constraints),
    ``(None, reason)`` when it does not; see the module docstring for the rules."""
    from evtgen import channels as channel_registry

    if info.kind == COMBINATION_KIND:
        return None, "a combination is not combined"
    if info.header.get("needs_uv") and not point.uv:
        return None, "needs a UV point (model: tchannel-vlq); the point has EFT couplings only"
    if info.channels:
        order = list(info.channels)
        first = point.channel if point.channel in info.channels else info.default_channel
        if first in order:
            order.remove(first)
            order.insert(0, first)
        wanted = []
        for ch in order:
            row = channel_registry.ROWS.get(ch)
            reads = [info.channels[ch]]
            if row is not None and info.header.get("generated_channels", True):
                reads += [c for c in row.couplings if c not in reads]
            if not any(_nonzero(point, c) for c in reads):
                continue
            if row is not None and row.mass_option and row.mass_option not in point.masses:
                wanted.append(f"{ch} needs --{row.mass_option}")
                continue
            return ch, ""
        params = ", ".join(dict.fromkeys(info.channels.values()))
        extra = f" ({'; '.join(wanted)})" if wanted else ""
        return None, f"the point has no non-zero {params}{extra}"
    names = constraint_couplings(info)
    if names:
        if any(_nonzero(point, c) for c in names):
            return None, ""
        return None, f"the point has no non-zero {', '.join(names)}"
    if not point.masses:
        return None, "the point has no mass"
    return None, ""


def point_for(info: registry.AnalysisInfo, point: ModelPoint, channel: str | None) -> ModelPoint:
    """The point as analysis ``info`` takes it: for a registry channel only that channel's
    mass, couplings and options; for a channel the analysis defines itself, the couplings its
    header names (its channels' parameters and a ``couplings`` list) and the channel set."""
    from evtgen import channels as channel_registry

    if channel is None:
        return point
    row = channel_registry.ROWS.get(channel)
    if row is None or not info.header.get("generated_channels", True):
        read = set(info.channels.values()) | set(constraint_couplings(info) if not info.channels else [])
        read |= {str(c) for c in info.header.get("couplings") or []}
        return point.replace(couplings={k: v for k, v in point.couplings.items() if k in read}, channel=channel)
    masses = {k: v for k, v in point.masses.items() if k == row.mass_option}
    return point.replace(
        mphi=masses.get("mphi"),
        mx=masses.get("mx"),
        ms=masses.get("ms"),
        couplings={k: v for k, v in point.couplings.items() if k in row.couplings},
        options={k: v for k, v in point.options.items() if k in row.options},
        channel=channel,
    )


# --- the combination ----------------------------------------------------------------------------
@dataclass
class Contribution:
    """One analysis's part of a combination."""

    analysis: str
    title: str
    paper: str
    kind: str
    status: str
    twice_dnll: float = 0.0
    channel: str | None = None
    parameter: str = ""
    unit: str = ""
    value_at_point: float | None = None
    upper_limit_95: float | None = None
    interval_95: tuple[float, float] | None = None
    excluded_95: bool | None = None
    twice_nll_point: float | None = None
    twice_nll_null: float | None = None
    likelihood_form: str = ""
    reason: str = ""
    result: Result | None = field(default=None, repr=False)

    @property
    def contributes(self) -> bool:
        """True when the analysis entered the sum with a likelihood (exact or approximate)."""
        return self.status in (LIKELIHOOD, LIMIT)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the analysis's full Result under ``result``)."""
        d = {
            k: getattr(self, k)
            for k in (
                "analysis", "title", "paper", "kind", "status", "twice_dnll", "channel", "parameter", "unit",
                "value_at_point", "upper_limit_95", "interval_95", "excluded_95", "twice_nll_point",
                "twice_nll_null", "likelihood_form", "reason",
            )
        }  # fmt: skip
        if isinstance(d["interval_95"], tuple):
            d["interval_95"] = list(d["interval_95"])
        d["result"] = self.result.as_dict() if self.result is not None else None
        return d


@dataclass
class Combination:
    """Every analysis at one model point and their sum (see the module docstring)."""

    point: ModelPoint
    contributions: list[Contribution]
    twice_dnll: float
    n_parameters: int
    threshold_68: float
    threshold_95: float
    verdict: str
    excluded_95: bool
    dominant: str | None
    p_value: float
    note: str = INDEPENDENCE_NOTE

    @property
    def by_name(self) -> dict[str, Contribution]:
        """The contributions by analysis name."""
        return {c.analysis: c for c in self.contributions}

    @property
    def twice_nll_point(self) -> float:
        """Sum of the contributing analyses' -2 ln L at the point (approximate ones: their -2 Delta ln L)."""
        return sum(_nll_pair(c)[0] for c in self.contributions if c.contributes)

    @property
    def twice_nll_null(self) -> float:
        """Sum of the contributing analyses' -2 ln L at zero new physics."""
        return sum(_nll_pair(c)[1] for c in self.contributions if c.contributes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form: the point, the sum, the verdict, and every contribution."""
        return {
            "point": self.point.as_dict(),
            "twice_dnll": self.twice_dnll,
            "n_parameters": self.n_parameters,
            "threshold_68": self.threshold_68,
            "threshold_95": self.threshold_95,
            "p_value": self.p_value,
            "verdict": self.verdict,
            "excluded_95": self.excluded_95,
            "dominant": self.dominant,
            "note": self.note,
            "contributions": [c.as_dict() for c in self.contributions],
        }

    def table(self) -> str:
        """A plain-text table of the contributions and the verdict."""
        lines = [
            f"{'analysis':<12} {'status':<31} {'-2DlnL':>9}  {'parameter':<10} {'at point':>11} {'UL95':>11}  note",
        ]
        for c in self.contributions:
            val = "" if c.value_at_point is None else f"{c.value_at_point:.4g}"
            ul = "" if c.upper_limit_95 is None else f"{c.upper_limit_95:.4g}"
            dn = f"{c.twice_dnll:9.3f}" if c.contributes else f"{'0':>9}"
            note = c.reason or (c.likelihood_form if c.status == LIMIT else "")
            lines.append(f"{c.analysis:<12} {c.status:<31} {dn}  {c.parameter:<10} {val:>11} {ul:>11}  {note}")
        lines.append(f"{'combined':<12} {'sum':<31} {self.twice_dnll:9.3f}")
        lines.append(
            f"verdict: {self.verdict} (k = {self.n_parameters}: 68% / 95% CL thresholds "
            f"{self.threshold_68:.3f} / {self.threshold_95:.3f}; p = {self.p_value:.3g}); dominant: {self.dominant}"
        )
        lines.append(self.note)
        return "\n".join(lines)


def _nll_pair(c: Contribution) -> tuple[float, float]:
    if c.status == LIKELIHOOD and c.twice_nll_point is not None and c.twice_nll_null is not None:
        return float(c.twice_nll_point), float(c.twice_nll_null)
    return c.twice_dnll, 0.0


def _from_result(info: registry.AnalysisInfo, res: Result, base: dict[str, Any]) -> Contribution:
    common = dict(
        base,
        channel=res.channel,
        parameter=res.parameter,
        unit=res.unit,
        value_at_point=res.value_at_point,
        upper_limit_95=res.upper_limit_95,
        interval_95=res.interval_95,
        excluded_95=res.excluded_95,
        twice_nll_point=res.twice_nll_point,
        twice_nll_null=res.twice_nll_null,
        likelihood_form=res.likelihood_form,
        result=res,
    )
    if not res.sensitivity:
        return Contribution(status=NO_SENSITIVITY, reason=res.sensitivity_reason or "no sensitivity", **common)
    dn = res.twice_dnll_point
    if dn is not None and math.isfinite(dn):
        return Contribution(status=LIKELIHOOD, twice_dnll=float(dn), **common)
    if res.upper_limit_95 is not None and res.value_at_point is not None and res.upper_limit_95 > 0:
        scaling = scaling_of(res.parameter, info.header)
        common["likelihood_form"] = (
            f"from the 95% CL upper limit ({scaling} rate in {res.parameter}): " + stats.GaussianLimit.form
        )
        return Contribution(
            status=LIMIT, twice_dnll=limit_twice_dnll(res.value_at_point, res.upper_limit_95, scaling), **common
        )
    return Contribution(
        status=NO_LIKELIHOOD, reason="the result has neither -2 ln L at the point nor an upper limit", **common
    )


def _analysis_options(info: registry.AnalysisInfo, point: ModelPoint, given: Mapping[str, Any]) -> dict[str, Any]:
    opts = dict(given)
    opt = info.options.get("coupling")
    if "coupling" not in opts and not info.channels and opt is not None and opt.choices:
        ordered = [opt.default] if opt.default in opt.choices else []
        ordered += [c for c in opt.choices if c not in ordered]
        chosen = next((c for c in ordered if _nonzero(point, c)), None)
        if chosen is not None:
            opts["coupling"] = chosen
    return opts


def _names(analyses: str | Sequence[str] | None) -> list[str] | None:
    if analyses is None:
        return None
    if isinstance(analyses, str):
        analyses = [a for a in analyses.split(",")]
    names = [a.strip() for a in analyses if a and a.strip()]
    return names or None


class ProfileMemo:
    """Bounded memo of analysis results for scans along a coupling (one per scan group, see
    :func:`scan_group`; or given to :func:`fit`).

    A scan of the combination would recast every analysis at every grid point, although at fixed
    mass, channel, options and seed an analysis's likelihood in its signal strength does not
    depend on the coupling (the signal is mu times a reference). When a :class:`Result` carries
    its likelihood (attribute ``likelihood``, with ``extras["reference"]`` and the scaling of
    :func:`scaling_of`), the memo keeps it and later points at the same key only evaluate
    ``likelihood.twice_nll(mu(C))``: the same number a full recast gives (up to the rounding of
    mu = (C / C_ref)^2 and the convergence of a warm-started nuisance profile: Belle II's Newton
    profile reaches -2 ln L to ~1e-12; NA62's and KOTO's are closed-form or started afresh).
    Results without a likelihood are recast at every point.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.entries: dict[tuple, tuple[Result, Any]] = {}
        self._known: dict[str, registry.AnalysisInfo] | None = None

    def analyses(self) -> dict[str, registry.AnalysisInfo]:
        """:func:`analyses.registry.analyses`, read once per memo (the registry scans its
        directories and parses every header at each call; the points of one scan group share it)."""
        if self._known is None:
            self._known = registry.analyses()
        return self._known

    def info(self, name: str) -> registry.AnalysisInfo:
        """:func:`analyses.registry.get` from :meth:`analyses`."""
        known = self.analyses()
        return known[name] if name in known else registry.get(name)

    @staticmethod
    def key(name: str, point: ModelPoint, options: Mapping[str, Any]) -> tuple:
        """Everything but the analysis's own parameter value."""
        return (
            name,
            point.channel,
            tuple(sorted(point.masses.items())),
            tuple(sorted((k, v) for k, v in point.couplings.items())),
            point.seed,
            tuple(sorted((k, repr(v)) for k, v in options.items())),
            repr(point.uv),
        )

    def get(self, name: str, point: ModelPoint, parameter: str, options: Mapping[str, Any]):
        """``(cached Result, likelihood)`` for this key with ``parameter`` blanked, or None."""
        cpl = {k: v for k, v in point.couplings.items() if k != parameter}
        return self.entries.get(self.key(name, point.replace(couplings=cpl), options))

    def put(self, name: str, point: ModelPoint, parameter: str, options: Mapping[str, Any], res: Result) -> None:
        """Keep ``res`` if it carries a usable likelihood."""
        lik = getattr(res, "likelihood", None)
        ref = res.extras.get("reference") if res.extras else None
        if lik is None or not isinstance(ref, (int, float)) or ref == 0 or res.twice_nll_null is None:
            return
        if len(self.entries) >= self.size:
            self.entries.pop(next(iter(self.entries)))
        cpl = {k: v for k, v in point.couplings.items() if k != parameter}
        self.entries[self.key(name, point.replace(couplings=cpl), options)] = (res, lik)


def _reuse(info: registry.AnalysisInfo, cached: tuple[Result, Any], point: ModelPoint) -> Result:
    """The cached result moved to the point's value of its parameter."""
    import dataclasses

    res, lik = cached
    value = point.couplings.get(res.parameter)
    scaling = scaling_of(res.parameter, info.header)
    mu = stats.to_signal_strength(value, float(res.extras["reference"]), scaling)
    nll = float(lik.twice_nll(mu)) if math.isfinite(mu) and mu >= 0 else None
    ul = res.upper_limit_95
    excluded = None if ul is None else abs(value) > ul
    return dataclasses.replace(res, value_at_point=value, twice_nll_point=nll, excluded_95=excluded)


def evaluate(
    name: str,
    point: ModelPoint,
    options: Mapping[str, Any] | None = None,
    *,
    strict: bool = False,
    memo: ProfileMemo | None = None,
) -> Contribution:
    """One analysis's :class:`Contribution` at ``point`` (applicability decided from its header).
    With ``strict`` an analysis that fails raises; otherwise the failure is listed. ``memo``:
    reuse likelihoods across points of a scan (:class:`ProfileMemo`)."""
    info = memo.info(name) if memo is not None else registry.get(name)
    base = dict(analysis=info.name, title=info.title, paper=info.paper, kind=info.kind)
    channel, why = applicable(info, point)
    if why:
        return Contribution(status=NOT_APPLICABLE, reason=why, parameter=info.parameter(None), **base)
    try:
        p = point_for(info, point, channel)
        opts = _analysis_options(info, p, options or {})
        parameter = info.parameter(channel) if info.channels else str(opts.get("coupling", info.parameter(None)))
        cached = memo.get(info.name, p, parameter, opts) if memo is not None else None
        if cached is not None and cached[0].parameter == parameter:
            res = _reuse(info, cached, p)
        else:
            res = registry.recast(info.name, p, **opts)
            if memo is not None:
                memo.put(info.name, p, parameter, opts, res)
    except PhiphiError as exc:
        if strict:
            raise
        return Contribution(status=FAILED, reason=str(exc), channel=channel, parameter=info.parameter(channel), **base)
    return _from_result(info, res, base)


def fit(
    point: ModelPoint,
    analyses: str | Sequence[str] | None = None,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    n_parameters: int | None = None,
    strict: bool = False,
    memo: ProfileMemo | None = None,
) -> Combination:
    """Evaluate every applicable analysis at ``point`` and combine (see the module docstring).

    ``analyses``: names (list or comma-separated; default every registered analysis);
    ``options``: per-analysis options, ``{"belle2": {"limit": "wilks"}}``; ``n_parameters``:
    the degrees of freedom of the verdict (default: the point's non-zero couplings read by the
    contributing analyses, 1..2); ``strict``: raise when an analysis fails instead of listing it;
    ``memo``: a :class:`ProfileMemo` shared by the points of a scan.
    """
    if not isinstance(point, ModelPoint):
        raise PhiphiError(f"point = {point!r} is not a ModelPoint (build it with evtgen.model.model_point)")
    names = _names(analyses)
    known = memo.analyses() if memo is not None else registry.analyses()
    if names is None:
        names = [n for n, i in known.items() if i.kind != COMBINATION_KIND]
    else:
        names = [(memo.info(n) if memo is not None else registry.get(n)).name for n in names]
        bad = [n for n in names if known[n].kind == COMBINATION_KIND]
        if bad:
            raise PhiphiError(f"analysis {bad[0]!r} is a combination; combine the analyses themselves")
        names = list(dict.fromkeys(names))
    opts = dict(options or {})
    unknown = [k for k in opts if k not in names]
    if unknown:
        raise PhiphiError(f"options given for {unknown[0]!r}, which is not among the combined analyses {names}")
    contributions = [evaluate(n, point, opts.get(n), strict=strict, memo=memo) for n in names]
    return combine(point, contributions, n_parameters=n_parameters)


def combine(point: ModelPoint, contributions: list[Contribution], *, n_parameters: int | None = None) -> Combination:
    """Sum the contributions and give the verdict (the arithmetic of :func:`fit`)."""
    used = [c for c in contributions if c.contributes]
    total = float(sum(c.twice_dnll for c in used))
    if n_parameters is None:
        read = {c.parameter for c in used if c.parameter in point.couplings and _nonzero(point, c.parameter)}
        n_parameters = min(max(len(read), 1), 2)
    if not isinstance(n_parameters, int) or isinstance(n_parameters, bool) or n_parameters < 1:
        raise PhiphiError(f"n_parameters = {n_parameters!r} must be a positive integer")
    t68, t95 = threshold(CL_68, n_parameters), threshold(CL_95, n_parameters)
    if not used:
        verdict = "not constrained (no analysis contributes)"
    elif total > t95:
        verdict = "excluded at 95% CL"
    elif total > t68:
        verdict = "allowed at 95% CL, disfavoured at 68% CL"
    elif total < 0:
        verdict = "allowed; preferred to the SM (-2 Delta ln L < 0)"
    else:
        verdict = "allowed at 68% CL"
    dominant = max(used, key=lambda c: abs(c.twice_dnll)).analysis if used else None
    p_value = float(chi2.sf(max(total, 0.0), n_parameters)) if used else 1.0
    return Combination(
        point=point,
        contributions=contributions,
        twice_dnll=total,
        n_parameters=n_parameters,
        threshold_68=t68,
        threshold_95=t95,
        verdict=verdict,
        excluded_95=bool(used) and total > t95,
        dominant=dominant,
        p_value=p_value,
    )


# --- the combination as an analysis (analyses/data/combined.yaml) --------------------------------
#: the scanner runs the points of one mass (channel, options) that differ only in their couplings
#: as one task inside :func:`scan_group` (see :func:`analyses.scanning.run_group`), first point first
SCAN_GROUP = "couplings"
#: the memo of the current :func:`scan_group` (None outside one: every point is recast)
_ACTIVE_MEMO: contextvars.ContextVar[ProfileMemo | None] = contextvars.ContextVar("combine_memo", default=None)


@contextlib.contextmanager
def scan_group() -> Iterator[ProfileMemo]:
    """Within this block :func:`recast` (the ``combined`` analysis) shares one fresh
    :class:`ProfileMemo`: each analysis is recast once per mass — at the group's first point —
    and its likelihood evaluated at mu(C) for the other couplings. A fresh memo per group
    makes each result depend only on the group's first point and its own, never on which
    groups a worker ran before."""
    token = _ACTIVE_MEMO.set(ProfileMemo())
    try:
        yield _ACTIVE_MEMO.get()
    finally:
        _ACTIVE_MEMO.reset(token)


def parse_options(text: str | None) -> dict[str, dict[str, Any]]:
    """``"belle2.limit=wilks,na62.dataset=2016-22"`` -> ``{"belle2": {"limit": "wilks"}, ...}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        name, dot, opt = key.partition(".")
        if not sep or not dot or not name.strip() or not opt.strip():
            raise PhiphiError(f"combined option {item!r} is not ANALYSIS.OPTION=VALUE")
        out.setdefault(name.strip(), {})[opt.strip()] = value.strip()
    return out


def recast(
    point: ModelPoint,
    *,
    data: dict,
    analyses: str | None = None,
    analysis_options: str | None = None,
    n_parameters: int | None = None,
    mc_seed: int | None = None,
) -> Result:
    """The combination as one :class:`Result` (parameter ``twice_dnll``): ``twice_nll_point`` /
    ``twice_nll_null`` are the sums over the contributing analyses, each analysis's -2 Delta ln L
    and status in ``extras`` (``twice_dnll_<name>``, ``status_<name>``). ``mc_seed``: evaluate every
    analysis with this seed instead of the point's (an MC-based analysis then has one likelihood
    per mass, which the scanner's :func:`scan_group` reuses along the coupling axis of a scan;
    outside a group every call recasts every analysis)."""
    if mc_seed is not None:
        point = point.replace(seed=mc_seed)
    comb = fit(
        point, analyses, options=parse_options(analysis_options), n_parameters=n_parameters, memo=_ACTIVE_MEMO.get()
    )
    extras: dict[str, Any] = {
        "dominant": comb.dominant,
        "verdict": comb.verdict,
        "n_parameters": comb.n_parameters,
        "threshold_68": comb.threshold_68,
        "threshold_95": comb.threshold_95,
        "p_value": comb.p_value,
    }
    for c in comb.contributions:
        extras[f"twice_dnll_{c.analysis}"] = c.twice_dnll if c.contributes else 0.0
        extras[f"status_{c.analysis}"] = c.status
        extras[f"excluded95_{c.analysis}"] = c.excluded_95
    used = [c for c in comb.contributions if c.contributes]
    return Result(
        analysis="combined",
        channel=None,
        masses=point.masses,
        parameter="twice_dnll",
        unit="1",
        convention="none",
        twice_nll_null=comb.twice_nll_null,
        twice_nll_point=comb.twice_nll_point,
        value_at_point=comb.twice_dnll,
        excluded_95=comb.excluded_95,
        sensitivity=bool(used),
        sensitivity_reason="" if used else "no analysis contributes at this point",
        limit_method=f"sum of -2 Delta ln L, Wilks chi2 with {comb.n_parameters} dof",
        likelihood_form="; ".join(f"{c.analysis}: {c.likelihood_form or c.status}" for c in used),
        provenance={
            "analyses": [c.analysis for c in comb.contributions],
            "papers": {c.analysis: c.paper for c in used},
            "note": comb.note,
        },
        extras=extras,
    )


# --- allowed regions from a scan table -----------------------------------------------------------
def dnll_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``{"combined": "twice_dnll_point", "<analysis>": "extras_twice_dnll_<analysis>", ...}``
    for the columns present in a scan table of the ``combined`` analysis."""
    cols: dict[str, str] = {"combined": "twice_dnll_point"}
    prefix = "extras_twice_dnll_"
    seen: dict[str, None] = {}
    for r in rows:
        seen.update(dict.fromkeys(k for k in r if k.startswith(prefix)))
    cols.update({k[len(prefix) :]: k for k in seen})
    return cols


def allowed_regions(
    rows: Sequence[Mapping[str, Any]],
    couplings: Sequence[str],
    *,
    mass: str = "mphi",
    reference: str = "per_mass",
) -> dict[str, Any]:
    """Allowed regions at 68% and 95% CL from a ``combined`` scan table, for the combination and
    for each analysis alone.

    At each mass (``reference = "per_mass"``; or over the whole table with ``"global"``) a point
    is allowed at CL when its -2 Delta ln L minus the smallest one there — the SM (all couplings
    0, -2 Delta ln L = 0 by definition) is always a candidate — is below chi^2_k(CL), k = the
    number of scanned couplings. Returns ``{"columns", "thresholds", "rows": [{index, mass,
    couplings..., allowed68_<name>, allowed95_<name>}], "intervals": {name: {cl: [[mass, lo, hi],
    ...]}}}``; the intervals (one-coupling scans) are the smallest and largest allowed coupling
    per mass (the allowed set at one mass may have a hole, e.g. a band away from 0: then the
    ``segments`` list gives every run of allowed grid values).
    """
    if reference not in ("per_mass", "global"):
        raise PhiphiError(f"reference = {reference!r}; choose per_mass or global")
    ok = [r for r in rows if not r.get("error")]
    if not ok:
        raise PhiphiError("no successful point in the scan table")
    couplings = list(couplings)
    if not couplings:
        raise PhiphiError("give the scanned coupling column(s)")
    missing = [c for c in (mass, *couplings) if c not in ok[0]]
    if missing:
        raise PhiphiError(f"the scan table has no column {missing[0]!r}")
    k = len(couplings)
    thr = {"68": threshold(CL_68, k), "95": threshold(CL_95, k)}
    cols = dnll_columns(ok)

    def group_key(r):
        return r[mass] if reference == "per_mass" else None

    minima: dict[tuple, float] = {}
    for name, col in cols.items():
        for r in ok:
            v = r.get(col)
            if isinstance(v, (int, float)) and math.isfinite(v):
                key = (name, group_key(r))
                minima[key] = min(minima.get(key, 0.0), float(v))
    out_rows = []
    for r in ok:
        row = {"index": r.get("index"), mass: r[mass], **{c: r[c] for c in couplings}}
        for name, col in cols.items():
            v = r.get(col)
            base = minima.get((name, group_key(r)), 0.0)
            for cl, t in thr.items():
                row[f"allowed{cl}_{name}"] = (
                    bool(float(v) - base < t) if isinstance(v, (int, float)) and math.isfinite(v) else None
                )
        out_rows.append(row)
    intervals: dict[str, Any] = {}
    if len(couplings) == 1:
        c = couplings[0]
        for name in cols:
            intervals[name] = {}
            for cl in thr:
                per_mass = []
                for m in sorted({r[mass] for r in out_rows}):
                    pts = sorted((r[c], r[f"allowed{cl}_{name}"]) for r in out_rows if r[mass] == m)
                    segs, cur = [], None
                    for x, a in pts:
                        if a:
                            cur = [x, x] if cur is None else [cur[0], x]
                        elif cur is not None:
                            segs.append(cur)
                            cur = None
                    if cur is not None:
                        segs.append(cur)
                    allowed = [x for x, a in pts if a]
                    per_mass.append(
                        {
                            "mass": m,
                            "lo": min(allowed) if allowed else None,
                            "hi": max(allowed) if allowed else None,
                            "segments": segs,
                        }
                    )
                intervals[name][cl] = per_mass
    return {
        "columns": cols,
        "couplings": couplings,
        "mass": mass,
        "reference": reference,
        "dof": k,
        "thresholds": thr,
        "rows": out_rows,
        "intervals": intervals,
    }
