"""Recast of NA62's K+ -> pi+ nu nu measurement (2016-22, arXiv:2412.12015; 2016-18,
arXiv:2103.15389) for K+ -> pi+ phi phi (coupling C_S^sd) and K+ -> pi+ X (branching ratio).

Method
------
1. Acceptance: events of the signal and of the SM K+ -> pi+ nu nu go through the NA62
   emulation (``detector.na62``); the acceptance is the fraction reconstructed in Region 1
   or Region 2 after the pi+ momentum window, the vertex cut and the STRAW acceptance, for each
   subset of the data set (each subset has its own momentum window and SES).
2. Normalisation: one overall efficiency factor per subset (trigger, KTAG, PID, vetoes, ...)
   is calibrated on the SM sample: N_K * eps = 1 / (SES * A_SM), so that the emulation gives the
   published BR_SM / SES expected SM events. The signal yield is then
   s_NP = sum_subsets N_K eps * A_NP * BR_NP. The calibration is returned with the result.
3. Likelihood: one Poisson term for the data set's total count,
   n_obs ~ Pois(b f_b(theta_b) + [s_SM (1 + k_SM)^theta_SM + s_NP] (1 + k_N)^theta_N),
   with unit-Gaussian constraints on theta (log-normal yields; the background is asymmetric).
   The nuisances are profiled. s_NP >= 0 (it is |C|^2 or a BR). Limits use the asymptotic
   profile-likelihood ratio: one-sided 95% CL upper limit at q = 2.706; the 68% / 95% intervals
   (where K+ -> pi+ phi phi fills the gap between the measured BR and the SM) at q = 1 / 3.841.
   Because the fit has a single bin, the event-level result is the same for every mass; the
   mass enters through A_NP and the rate per unit coupling.

Inputs (observed, background, SES, BR_SM, momentum windows) are in
``analyses/data/na62_kpinunu_2025.yaml`` with their sources.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import numpy as np
import yaml
from scipy import optimize, special

import evtgen
from evtgen import channels as _channels
from evtgen.errors import PhiphiError, check_finite, check_positive_int

from .plotting import check_png, save_figure

ANALYSIS = "na62_kpinunu_2025"
DATA_FILE = "na62_kpinunu_2025.yaml"
#: channel -> (mass option, parameter reported)
CHANNELS: dict[str, tuple[str, str]] = {"k2piphiphi": ("mphi", "CS_sd"), "k2pix": ("mx", "br")}
DEFAULT_CHANNEL = "k2piphiphi"
DEFAULT_N_EVENTS = 200_000  # signal events per mass: acceptance known to ~0.5% (binomial)
SM_N_EVENTS = 400_000
DEFAULT_SEED = 1
#: asymptotic thresholds of the profile-likelihood ratio q (Wilks; Cowan et al. arXiv:1007.1727)
Q_UL95_ONE_SIDED = 2.705543454095404  # chi2(1) 90% quantile = one-sided 95%
Q_68 = 1.0
Q_95 = 3.841458820694124


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Subset:
    """Part of a data set with one selection: its SES and pi+ momentum window."""

    name: str
    ses: float
    ses_err: float
    p_pi_window: tuple[float, float]
    ses_derived: bool
    ses_source: str


@dataclass(frozen=True)
class Measurement:
    """A published NA62 K+ -> pi+ nu nu result."""

    dataset: str
    paper: str
    observed: int
    background: float
    background_up: float
    background_down: float
    sm_br: float
    sm_br_err: float
    br_measured: float
    subsets: tuple[Subset, ...]
    expected_sm_published: float | None = None  # None where the paper's number was not read


@functools.cache
def _data() -> dict[str, Any]:
    with (resources.files("analyses") / "data" / DATA_FILE).open("r") as fh:
        return yaml.safe_load(fh)


def datasets() -> list[str]:
    """Names of the data sets in the data file."""
    return list(_data()["datasets"])


def load_measurement(dataset: str | None = None, data: dict[str, Any] | None = None) -> Measurement:
    """The measurement ``dataset`` (default: the data file's ``default_dataset``), checked."""
    data = data if data is not None else _data()
    name = dataset or data["default_dataset"]
    if name not in data["datasets"]:
        raise PhiphiError(f"unknown NA62 data set {name!r}; choose one of {', '.join(data['datasets'])}")
    d = data["datasets"][name]
    subsets = []
    for s in d["subsets"]:
        lo, hi = (float(x) for x in s["p_pi_window"]["value"])
        ses, err = float(s["ses"]["value"]), float(s["ses"]["error"])
        if not (ses > 0 and math.isfinite(ses) and err >= 0 and 0 <= lo < hi):
            raise PhiphiError(f"bad subset {s.get('name')!r} in {DATA_FILE}: SES {ses!r}, window ({lo}, {hi})")
        subsets.append(
            Subset(str(s["name"]), ses, err, (lo, hi), bool(s["ses"].get("derived", False)), str(s["ses"]["source"]))
        )
    bkg = d["background"]
    m = Measurement(
        dataset=name,
        paper=str(d["paper"]),
        observed=int(d["observed"]["value"]),
        background=float(bkg["value"]),
        background_up=float(bkg["error_up"]),
        background_down=float(bkg["error_down"]),
        sm_br=float(data["sm_br"]["value"]),
        sm_br_err=float(data["sm_br"]["error"]),
        br_measured=float(d["br_measured"]["value"]),
        subsets=tuple(subsets),
        expected_sm_published=None
        if d.get("expected_sm", {}).get("value") is None
        else float(d["expected_sm"]["value"]),
    )
    if m.observed < 0 or not (0 < m.background and 0 <= m.background_down < m.background and m.background_up >= 0):
        raise PhiphiError(f"bad observed/background for NA62 data set {name!r}")
    return m


# ----------------------------------------------------------------------- acceptance
@dataclass(frozen=True)
class Acceptance:
    """Fraction of decays reconstructed in SR1, SR2 (and their sum) for one subset."""

    sr1: float
    sr2: float
    total: float
    total_err: float  # binomial MC error
    n_events: int


def _acceptance_of(events, subset: Subset, seed: int) -> Acceptance:
    from detector import na62

    region = na62.reconstruct(events, seed=seed, p_pi_window=subset.p_pi_window)["region"]
    n = len(region)
    a1 = float(np.count_nonzero(region == na62.REGION_SR1)) / n
    a2 = float(np.count_nonzero(region == na62.REGION_SR2)) / n
    tot = a1 + a2
    return Acceptance(a1, a2, tot, math.sqrt(max(tot * (1 - tot), 1.0 / n) / n), n)


def acceptances(
    channel: str, mass: float | None, subsets: Sequence[Subset], *, seed: int, n_events: int, cache: dict | None = None
) -> list[Acceptance]:
    """Acceptance of ``channel`` at ``mass`` for each subset (cached in ``cache`` if given)."""
    key = (
        channel,
        None if mass is None else float(mass),
        int(seed),
        int(n_events),
        tuple(s.p_pi_window for s in subsets),
    )
    if cache is not None and key in cache:
        return cache[key]
    opt = _channels.get(channel).mass_option
    kw = {opt: mass} if opt else {}
    events = evtgen.generate(channel, n_events, seed=seed, frame="lab", **kw)
    out = [_acceptance_of(events, s, seed) for s in subsets]
    if cache is not None:
        cache[key] = out
    return out


@dataclass(frozen=True)
class Calibration:
    """SM calibration of one subset: acceptance, N_K * eps and the expected SM yield."""

    subset: str
    a_sm: float
    a_sm_err: float
    nk_eps: float  # N_K x overall efficiency = 1 / (SES A_SM)
    expected_sm: float  # N_K eps BR_SM A_SM
    ses: float
    ses_derived: bool


def calibrate(
    meas: Measurement, *, seed: int = DEFAULT_SEED, n_events: int = SM_N_EVENTS, cache: dict | None = None
) -> list[Calibration]:
    """Calibrate the overall efficiency on the emulated SM K+ -> pi+ nu nu sample."""
    accs = acceptances("k2pinunu", None, meas.subsets, seed=seed, n_events=n_events, cache=cache)
    out = []
    for s, a in zip(meas.subsets, accs):
        if a.total <= 0:
            raise PhiphiError(f"no SM K+ -> pi+ nu nu acceptance for subset {s.name} (window {s.p_pi_window})")
        nk = 1.0 / (s.ses * a.total)
        out.append(Calibration(s.name, a.total, a.total_err, nk, nk * meas.sm_br * a.total, s.ses, s.ses_derived))
    return out


# ----------------------------------------------------------------------- likelihood
@dataclass(frozen=True)
class CountingLikelihood:
    """One Poisson bin with log-normal background, SM-rate, normalisation and NP-rate nuisances.

    The model is exactly a pyhf one-bin model with ``normsys`` modifiers interpolated with
    code 1 (exponential), see :meth:`to_pyhf`; build it with
    ``ws.model(modifier_settings={"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}})``
    (pyhf's default normsys code 4 differs slightly inside |theta| < 1).
    """

    observed: int
    background: float
    ln_b_up: float  # ln(1 + up/b)
    ln_b_down: float  # -ln(1 - down/b)
    s_sm: float
    ln_sm: float  # ln(1 + sigma_BR/BR)
    ln_norm: float  # ln(1 + sigma_SES/SES), common to SM and NP
    ln_np: float = 0.0  # ln(1 + sigma/s) of the NP yield (form factor, MC statistics)

    @classmethod
    def from_measurement(cls, meas: Measurement, expected_sm: float, rel_np: float = 0.0) -> CountingLikelihood:
        b = meas.background
        wsum = sum(1.0 / s.ses for s in meas.subsets)
        rel_norm = sum((s.ses_err / s.ses) / s.ses for s in meas.subsets) / wsum
        return cls(
            meas.observed,
            b,
            math.log1p(meas.background_up / b),
            -math.log1p(-meas.background_down / b),
            expected_sm,
            math.log1p(meas.sm_br_err / meas.sm_br),
            math.log1p(rel_norm),
            math.log1p(rel_np),
        )

    def expected(self, s_np: float, theta: np.ndarray) -> float:
        tb, tsm, tn, tnp = theta
        fb = math.exp(tb * (self.ln_b_up if tb >= 0 else self.ln_b_down))
        return self.background * fb + (
            self.s_sm * math.exp(tsm * self.ln_sm) + s_np * math.exp(tnp * self.ln_np)
        ) * math.exp(tn * self.ln_norm)

    def twice_nll(self, s_np: float, theta: np.ndarray) -> float:
        """-2 ln L (full Poisson term, unit-Gaussian constraints without their constant)."""
        nu = self.expected(s_np, theta)
        n = self.observed
        return 2.0 * (nu - n * math.log(nu) + special.gammaln(n + 1.0)) + float(np.dot(theta, theta))

    def _twice_nll_and_grad(self, theta: np.ndarray, s_np: float) -> tuple[float, np.ndarray]:
        tb, tsm, tn, tnp = theta
        ln_b = self.ln_b_up if tb >= 0 else self.ln_b_down
        bkg = self.background * math.exp(tb * ln_b)
        norm = math.exp(tn * self.ln_norm)
        sm = self.s_sm * math.exp(tsm * self.ln_sm)
        npv = s_np * math.exp(tnp * self.ln_np)
        nu = bkg + (sm + npv) * norm
        n = self.observed
        val = 2.0 * (nu - n * math.log(nu) + special.gammaln(n + 1.0)) + float(np.dot(theta, theta))
        w = 2.0 * (1.0 - n / nu)
        grad = (
            np.array(
                [
                    w * bkg * ln_b,
                    w * sm * self.ln_sm * norm,
                    w * (sm + npv) * norm * self.ln_norm,
                    w * npv * self.ln_np * norm,
                ]
            )
            + 2.0 * theta
        )
        return val, grad

    def profile(self, s_np: float) -> float:
        """-2 ln L at ``s_np`` with the nuisances profiled."""
        res = optimize.minimize(
            self._twice_nll_and_grad, np.zeros(4), args=(s_np,), jac=True, method="BFGS", options={"gtol": 1e-9}
        )
        return float(res.fun)

    def to_pyhf(self, s_np_ref: float) -> dict[str, Any]:
        """The same model as a pyhf workspace; POI ``mu`` scales ``s_np_ref`` NP events."""

        def normsys(name: str, ln_hi: float, ln_lo: float) -> dict[str, Any]:
            return {"name": name, "type": "normsys", "data": {"hi": math.exp(ln_hi), "lo": math.exp(-ln_lo)}}

        norm = normsys("ses_normalisation", self.ln_norm, self.ln_norm)
        samples = [
            {
                "name": "background",
                "data": [self.background],
                "modifiers": [normsys("background", self.ln_b_up, self.ln_b_down)],
            },
            {"name": "sm_kpinunu", "data": [self.s_sm], "modifiers": [normsys("sm_br", self.ln_sm, self.ln_sm), norm]},
            {
                "name": "new_physics",
                "data": [float(s_np_ref)],
                "modifiers": [
                    {"name": "mu", "type": "normfactor", "data": None},
                    norm,
                    normsys("np_rate", self.ln_np, self.ln_np),
                ],
            },
        ]
        return {
            "channels": [{"name": "na62_sr1_sr2", "samples": samples}],
            "observations": [{"name": "na62_sr1_sr2", "data": [float(self.observed)]}],
            "measurements": [
                {
                    "name": "na62_kpinunu",
                    "config": {"poi": "mu", "parameters": [{"name": "mu", "bounds": [[0.0, 1e4]], "inits": [1.0]}]},
                }
            ],
            "version": "1.0.0",
        }


@dataclass(frozen=True)
class EventResult:
    """Fit in units of new-physics events (nominal normalisation)."""

    s_hat: float
    twice_nll_best: float
    twice_nll_null: float
    upper_limit_95: float
    interval_68: tuple[float, float]
    interval_95: tuple[float, float]


def fit_events(lik: CountingLikelihood) -> EventResult:
    """Best fit, one-sided 95% CL upper limit and 68/95% intervals of s_NP >= 0."""
    scale = max(10.0, lik.observed + 10.0 * math.sqrt(lik.observed + 1.0))
    res = optimize.minimize_scalar(lik.profile, bounds=(0.0, scale), method="bounded", options={"xatol": 1e-6})
    s_hat, best = float(res.x), float(res.fun)
    null = lik.profile(0.0)
    if null < best:  # boundary: best fit at s = 0
        s_hat, best = 0.0, null

    def crossing(level: float, lo: float, hi: float) -> float:
        f = lambda s: lik.profile(s) - best - level  # noqa: E731
        while f(hi) < 0:
            hi *= 2.0
        return float(optimize.brentq(f, lo, hi, xtol=1e-6))

    def interval(level: float) -> tuple[float, float]:
        up = crossing(level, s_hat, scale)
        if null - best <= level:  # s = 0 inside the interval
            return 0.0, up
        return float(optimize.brentq(lambda s: lik.profile(s) - best - level, 0.0, s_hat, xtol=1e-6)), up

    return EventResult(s_hat, best, null, crossing(Q_UL95_ONE_SIDED, s_hat, scale), interval(Q_68), interval(Q_95))


# --------------------------------------------------------------------------- recast
def _check_channel(channel: str | None, mphi: float | None, mx: float | None) -> tuple[str, str, float, str]:
    channel = channel or DEFAULT_CHANNEL
    if channel not in CHANNELS:
        raise PhiphiError(f"channel {channel!r} is not recast by NA62; choose one of {', '.join(CHANNELS)}")
    opt, parameter = CHANNELS[channel]
    given = {"mphi": mphi, "mx": mx}
    other = "mx" if opt == "mphi" else "mphi"
    if given[other] is not None:
        raise PhiphiError(f"channel {channel} takes --{opt}, not --{other}")
    if given[opt] is None:
        raise PhiphiError(f"channel {channel} needs --{opt}")
    mass = _channels.get(channel).check_mass(check_finite(opt, given[opt]))
    return channel, opt, mass, parameter


def recast(
    *,
    channel: str | None = None,
    mphi: float | None = None,
    mx: float | None = None,
    couplings: dict[str, float] | None = None,
    seed: int | None = None,
    n_events: int | None = None,
    plot: str | None = None,
    dataset: str | None = None,
    cache: dict | None = None,
    **_: Any,
) -> dict[str, Any]:
    """Limits and the gap-filling band on C_S^sd (k2piphiphi) or BR (k2pix) at one mass.

    ``couplings`` sets the reference point at which expected events are quoted (default
    C_S^sd = 1e-11 GeV^-1, br = 1e-10). Returns a JSON-able dict; an upper limit of ``None``
    means no acceptance in Regions 1 and 2 at this mass (see ``note``).
    """
    channel, opt, mass, parameter = _check_channel(channel, mphi, mx)
    if plot:
        check_png(plot)
    seed = DEFAULT_SEED if seed is None else int(seed)
    n_events = DEFAULT_N_EVENTS if n_events is None else check_positive_int("n_events", n_events)
    cache = {} if cache is None else cache
    meas = load_measurement(dataset)
    calib = calibrate(meas, seed=seed, cache=cache)
    expected_sm = sum(c.expected_sm for c in calib)
    rate = evtgen.rate(channel, **{opt: mass}, couplings=couplings)
    ref = float(rate.couplings[parameter])
    if ref == 0.0:
        raise PhiphiError(f"reference coupling {parameter} = 0: give a non-zero --coupling {parameter}=VALUE")
    accs = acceptances(channel, mass, meas.subsets, seed=seed, n_events=n_events, cache=cache)
    s_ref_sr1 = sum(c.nk_eps * a.sr1 * rate.br for c, a in zip(calib, accs))
    s_ref_sr2 = sum(c.nk_eps * a.sr2 * rate.br for c, a in zip(calib, accs))
    s_ref = s_ref_sr1 + s_ref_sr2
    # NP-yield uncertainty: form-factor error of the rate and MC statistics of the acceptance
    s_mc_err = math.sqrt(sum((c.nk_eps * a.total_err * rate.br) ** 2 for c, a in zip(calib, accs)))
    rel_np = math.hypot(rate.br_err / rate.br, s_mc_err / s_ref) if s_ref > 0.0 and rate.br > 0.0 else 0.0
    lik = CountingLikelihood.from_measurement(meas, expected_sm, rel_np)
    ev = _event_fit(lik, cache)

    def to_param(s: float | None) -> float | None:
        if s is None or s_ref <= 0.0:
            return None
        ratio = s / s_ref
        return abs(ref) * math.sqrt(ratio) if parameter != "br" else ref * ratio

    note = (
        "|C_S^sd| in GeV^-1, convention L > 1/2 C (sbar d) phi^2"
        if parameter == "CS_sd"
        else "branching ratio of K+ -> pi+ X"
    )
    if s_ref > 0.0:
        best, ul = to_param(ev.s_hat), to_param(ev.upper_limit_95)
        i68 = [to_param(ev.interval_68[0]), to_param(ev.interval_68[1])]
        i95 = [to_param(ev.interval_95[0]), to_param(ev.interval_95[1])]
        t_best = ev.twice_nll_best
    else:
        best, ul, i68, i95, t_best = None, None, [0.0, None], [0.0, None], ev.twice_nll_null
        q2 = mass * mass * (4.0 if opt == "mphi" else 1.0)
        note += f"; no acceptance in Regions 1 and 2 (q2 >= {q2:.4f} GeV^2 falls in a masked band or above Region 2): no limit (upper_limit_95 = null = infinity)"
    result: dict[str, Any] = {
        "analysis": ANALYSIS,
        "dataset": meas.dataset,
        "paper": meas.paper,
        "channel": channel,
        opt: mass,
        "parameter": parameter,
        "best_fit": best,
        "interval_68": i68,
        "interval_95": i95,
        "upper_limit_95": ul,
        "twice_nll_best": t_best,
        "twice_nll_null": ev.twice_nll_null,
        "reference": {
            parameter: ref,
            "br": rate.br,
            "br_err": rate.br_err,
            "expected_np_sr1": s_ref_sr1,
            "expected_np_sr2": s_ref_sr2,
            "expected_np": s_ref,
        },
        "acceptance_np": {s.name: asdict(a) for s, a in zip(meas.subsets, accs)},
        "calibration": [asdict(c) for c in calib],
        "expected_sm": expected_sm,
        "expected_sm_published": meas.expected_sm_published,
        "observed": meas.observed,
        "background": meas.background,
        "np_events": {
            "best_fit": ev.s_hat,
            "upper_limit_95": ev.upper_limit_95,
            "interval_68": list(ev.interval_68),
            "interval_95": list(ev.interval_95),
        },
        "np_rate_rel_uncertainty": rel_np,
        "statistics": "single Poisson bin (SR1+SR2), log-normal b/SM-BR/SES/NP-rate nuisances profiled; asymptotic q: UL 95% one-sided (2.71), intervals 68%/95% (1, 3.84); intervals = where the NP fills the gap between the measured BR and the SM",
        "note": note,
        "seed": seed,
        "n_events": n_events,
    }
    result["calibration_summary"] = calibration_summary(result).replace("\n", "; ")
    if plot:
        plot_spectrum(
            plot,
            channel=channel,
            mass=mass,
            couplings={parameter: best if best else ref},
            meas=meas,
            calib=calib,
            seed=seed,
            n_events=n_events,
        )
        result["plot"] = str(plot)
    return result


def _event_fit(lik: CountingLikelihood, cache: dict) -> EventResult:
    key = ("event_fit", lik)
    if key not in cache:
        cache[key] = fit_events(lik)
    return cache[key]


def scan(
    masses: Sequence[float],
    *,
    channel: str = DEFAULT_CHANNEL,
    dataset: str | None = None,
    seed: int | None = None,
    n_events: int | None = None,
    plot: str | None = None,
) -> list[dict[str, Any]]:
    """:func:`recast` at each mass (the SM calibration and the event-level fit are shared)."""
    masses = [float(m) for m in masses]
    if not masses:
        raise PhiphiError("no masses to scan")
    opt = CHANNELS[channel][0] if channel in CHANNELS else "mphi"
    if plot:
        check_png(plot)
    cache: dict = {}
    out = [
        recast(channel=channel, dataset=dataset, seed=seed, n_events=n_events, cache=cache, **{opt: m}) for m in masses
    ]
    if plot:
        plot_scan(plot, out)
    return out


def scan_mphi(masses: Sequence[float], **kwargs: Any) -> list[dict[str, Any]]:
    """K+ -> pi+ phi phi: limits and band on |C_S^sd| versus m_phi (see :func:`scan`)."""
    return scan(masses, channel="k2piphiphi", **kwargs)


def scan_mx(masses: Sequence[float], **kwargs: Any) -> list[dict[str, Any]]:
    """K+ -> pi+ X: limits and band on BR versus m_X (see :func:`scan`)."""
    return scan(masses, channel="k2pix", **kwargs)


def calibration_summary(result: dict[str, Any]) -> str:
    """Human-readable lines on the SM calibration of a :func:`recast` result."""
    lines = []
    for c in result["calibration"]:
        tag = " (SES derived, not published)" if c["ses_derived"] else ""
        lines.append(
            f"{c['subset']}: A_SM = {c['a_sm']:.4f} +- {c['a_sm_err']:.4f}, N_K*eps = {c['nk_eps']:.4e}, SES = {c['ses']:.3e}{tag}, expected SM = {c['expected_sm']:.2f}"
        )
    pub = result.get("expected_sm_published")
    lines.append(
        f"total expected SM = {result['expected_sm']:.2f} (published: {pub if pub is not None else 'not read'}), background = {result['background']}, observed = {result['observed']}"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- plots
def _style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    return plt, mplhep.style.ROOT


def plot_spectrum(
    path: str,
    *,
    channel: str,
    mass: float,
    couplings: dict[str, float],
    meas: Measurement,
    calib: Sequence[Calibration],
    seed: int,
    n_events: int,
) -> str:
    """Reconstructed m2_miss of the signal and the SM (selected events, expected yields)."""
    from detector import na62

    opt = CHANNELS[channel][0]
    sig = evtgen.generate(channel, n_events, seed=seed, frame="lab", **{opt: mass})
    sm = evtgen.generate("k2pinunu", n_events, seed=seed, frame="lab")
    br_sig = evtgen.rate(channel, **{opt: mass}, couplings=couplings).br
    edges = np.linspace(-0.01, 0.09, 51)
    h_sig = np.zeros(len(edges) - 1)
    h_sm = np.zeros(len(edges) - 1)
    for sub, c in zip(meas.subsets, calib):
        for events, br, h in ((sig, br_sig, h_sig), (sm, meas.sm_br, h_sm)):
            r = na62.reconstruct(events, seed=seed, p_pi_window=sub.p_pi_window)
            w = np.full(len(events), c.nk_eps * br / len(events))
            hh, _ = np.histogram(r["m2_miss"][r["selected"]], bins=edges, weights=w[r["selected"]])
            h += hh
    card = na62.load_card()["regions"]
    plt, style = _style()
    with plt.style.context(style):
        fig, ax = plt.subplots(figsize=(9, 6))
        ax.stairs(h_sm, edges, label=r"SM $K^+\to\pi^+\nu\bar\nu$", color="tab:blue")
        lab = (
            rf"$K^+\to\pi^+\phi\phi$, $m_\phi$={mass:g} GeV"
            if opt == "mphi"
            else rf"$K^+\to\pi^+X$, $m_X$={mass:g} GeV"
        )
        ax.stairs(h_sig, edges, label=lab, color="tab:red")
        for name in ("sr1", "sr2"):
            lo, hi = card[name]["value"]
            ax.axvspan(lo, hi, color="tab:green", alpha=0.12, label="Regions 1, 2" if name == "sr1" else None)
        ax.axvspan(*card["kpi2_masked"]["value"], color="grey", alpha=0.3, label="masked")
        ax.axvspan(card["k3pi_masked_above"]["value"], edges[-1], color="grey", alpha=0.3)
        ax.set_xlabel(r"$m^2_{\rm miss}$ [GeV$^2$]")
        ax.set_ylabel(f"expected events / {edges[1] - edges[0]:.3f} GeV$^2$")
        in_sr = [
            (edges[:-1] >= card[r]["value"][0]) & (edges[1:] <= card[r]["value"][1] + 1e-12) for r in ("sr1", "sr2")
        ]
        txt = "\n".join(
            f"{r}: SM {h_sm[w].sum():.2f}, signal {h_sig[w].sum():.2f}" for r, w in zip(("SR1", "SR2"), in_sr)
        )
        ax.text(0.98, 0.02, txt, transform=ax.transAxes, ha="right", va="bottom", fontsize=11)
        ax.set_title(f"NA62 {meas.dataset} emulation (selected)", fontsize=14)
        ax.legend(fontsize=11, loc="upper right")
        save_figure(fig, path, dpi=110)
        plt.close(fig)
    return str(path)


def plot_scan(path: str, results: Sequence[dict[str, Any]]) -> str:
    """Excluded coupling (or BR) and the 68/95% gap-filling bands versus the mass."""
    if not results:
        raise PhiphiError("no scan results to plot")
    opt = "mphi" if "mphi" in results[0] else "mx"
    param = results[0]["parameter"]
    m = np.array([r[opt] for r in results])
    nan = float("nan")
    ul = np.array([r["upper_limit_95"] if r["upper_limit_95"] is not None else nan for r in results])
    lo68 = np.array([r["interval_68"][0] if r["interval_68"][1] is not None else nan for r in results])
    hi68 = np.array([r["interval_68"][1] if r["interval_68"][1] is not None else nan for r in results])
    lo95 = np.array([r["interval_95"][0] if r["interval_95"][1] is not None else nan for r in results])
    hi95 = np.array([r["interval_95"][1] if r["interval_95"][1] is not None else nan for r in results])
    plt, style = _style()
    with plt.style.context(style):
        fig, ax = plt.subplots(figsize=(9, 6))
        finite = ul[np.isfinite(ul)]
        top = 10 * finite.max() if finite.size else 1.0
        bottom = (
            0.1 * np.nanmin(np.where(lo68 > 0, lo68, np.nan))
            if np.any(lo68 > 0)
            else 0.05 * (finite.min() if finite.size else 1.0)
        )
        ax.fill_between(m, ul, top, color="grey", alpha=0.4, label="excluded (95% CL)", step=None)
        ax.fill_between(m, np.maximum(lo95, bottom), hi95, color="gold", alpha=0.8, label="fills the gap, 95%")
        ax.fill_between(m, np.maximum(lo68, bottom), hi68, color="limegreen", alpha=0.8, label="fills the gap, 68%")
        ax.plot(m, ul, color="k")
        blind = ~np.isfinite(ul)
        if blind.any():
            ax.fill_between(m, bottom, top, where=blind, color="tab:red", alpha=0.1, label="no acceptance (no limit)")
        ax.set_yscale("log")
        ax.set_ylim(bottom, top)
        ax.set_xlabel(r"$m_\phi$ [GeV]" if opt == "mphi" else r"$m_X$ [GeV]")
        ax.set_ylabel(r"$|C_S^{sd}|$ [GeV$^{-1}$]" if param == "CS_sd" else r"BR($K^+\to\pi^+X$)")
        ax.set_title(f"NA62 {results[0]['dataset']} recast ({results[0]['channel']})", fontsize=14)
        ax.legend(fontsize=11, loc="upper left")
        save_figure(fig, path, dpi=110)
        plt.close(fig)
    return str(path)
