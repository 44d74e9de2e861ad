"""The one statistics engine of the package.

Every analysis reduces its likelihood to a function of one signal strength mu >= 0 — the
signal is mu times a reference signal computed at a reference value of the parameter —
with all nuisance parameters profiled. From it this module computes, identically for
every analysis:

- the best fit mu_hat (on the physical boundary mu >= 0),
- profile-likelihood intervals at 68% and 95% CL (Wilks: 2 Delta NLL = 1, 3.84),
- the 95% CL upper limit: CLs with the q~mu test statistic in the asymptotic
  approximation (Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727, eqs. 65-66), the sigma
  of mu_hat taken from the background-only Asimov data set; or, where an analysis has no
  Asimov likelihood, the one-sided Wilks limit (2 Delta NLL = 2.706),
- the median expected 95% CL upper limit (Asimov: q_mu,A = 3.84 for CLs),
- the conversion from mu to the parameter (|C| = C_ref sqrt(mu) for rates quadratic in a
  coupling, X = X_ref mu for linear ones, e.g. a branching ratio),
- the "no sensitivity" verdict, with its reason.

Ready-made likelihoods for the common cases live here too (:class:`PoissonCounts`,
:class:`GaussianLimit`, :class:`GaussianMeasurement`); an analysis with its own model
(Belle II's HistFactory workspace) only has to provide :class:`SignalStrengthLikelihood`.
We write this instead of calling pyhf for each analysis because a 50-point scan needs
O(10^3) profile fits: the engine is validated against pyhf in ``tests/test_stats.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import gammaln, ndtr, ndtri

from evtgen.errors import PhiphiError

#: 2 Delta NLL thresholds of two-sided intervals (Wilks, one parameter)
Q_68 = 1.0
Q_95 = 3.841458820694124
#: one-sided 95% CL threshold of 2 Delta NLL (chi2 with 1 dof at 90%)
Q_95_ONE_SIDED = 2.705543454095404
CLS_LEVEL = 0.05
#: largest signal strength searched; beyond it the analysis "has no sensitivity"
MU_MAX = 1e12


@runtime_checkable
class SignalStrengthLikelihood(Protocol):
    """What an analysis hands the engine: -2 ln L(mu) with nuisances profiled.

    ``twice_nll_asimov`` (optional, may return None) is the same on the background-only
    (mu = 0) Asimov data set; it enables CLs and the expected limit.
    """

    def twice_nll(self, mu: float) -> float: ...

    def twice_nll_asimov(self, mu: float) -> float | None: ...


@dataclass(frozen=True)
class Fit:
    """The engine's answer in signal-strength units."""

    mu_hat: float
    twice_nll_best: float
    twice_nll_null: float
    interval_68: tuple[float, float] | None
    interval_95: tuple[float, float] | None
    upper_limit_95: float | None
    expected_upper_limit_95: float | None
    method: str
    sensitivity: bool = True
    reason: str = ""
    significance: float = 0.0  # sqrt(2 Delta NLL(0)) signed by mu_hat (local, asymptotic)

    def twice_dnll(self, lik: SignalStrengthLikelihood, mu: float) -> float:
        """2 Delta NLL of ``mu`` relative to the best fit."""
        return max(float(lik.twice_nll(mu)) - self.twice_nll_best, 0.0)


class _Memo:
    """Caches twice_nll(mu) so that interval and limit searches never refit a point."""

    def __init__(self, f: Callable[[float], float]) -> None:
        self.f = f
        self.cache: dict[float, float] = {}

    def __call__(self, mu: float) -> float:
        mu = float(mu)
        if mu not in self.cache:
            v = float(self.f(mu))
            if not math.isfinite(v):
                raise PhiphiError(f"the likelihood is not finite at signal strength {mu:g}")
            self.cache[mu] = v
        return self.cache[mu]


def _best_fit(f: _Memo, mu_scale: float) -> float:
    """argmin of f over mu >= 0: bracket by doubling from mu_scale, then bounded Brent."""
    f0 = f(0.0)
    hi = mu_scale
    best_mu, best = 0.0, f0
    prev = f0
    while hi < MU_MAX:
        v = f(hi)
        if v < best:
            best_mu, best = hi, v
        if v > prev and v > best:
            break
        prev = v
        hi *= 2.0
    if best_mu == 0.0 and f(mu_scale * 1e-3) >= f0:
        return 0.0
    lo = best_mu / 2.0 if best_mu > 0 else 0.0
    res = minimize_scalar(f, bounds=(lo, min(hi, MU_MAX)), method="bounded", options={"xatol": 1e-6 * max(hi, 1e-12)})
    mu = float(res.x)
    return mu if f(mu) <= best else best_mu


def _crossing(g: Callable[[float], float], lo: float, hi: float) -> float:
    return float(brentq(g, lo, hi, xtol=1e-7 * max(abs(hi), 1e-300), rtol=1e-9))


def _upper_crossing(q: Callable[[float], float], start: float, step: float, level: float) -> float | None:
    """Smallest mu > start with q(mu) = level (None if below MU_MAX there is none)."""
    lo, hi = start, start + step
    while q(hi) < level:
        lo, hi = hi, start + 2.0 * (hi - start)
        if hi > MU_MAX:
            return None
    return _crossing(lambda m: math.sqrt(max(q(m), 0.0)) - math.sqrt(level), lo, hi)


def cls_value(q_tilde: float, q_asimov: float) -> float:
    """CLs of the q~mu test statistic, asymptotic (arXiv:1007.1727 eq. 65-66)."""
    if q_asimov < 1e-10:  # no power at this mu (numerically): CLs -> 1, never a spurious exclusion
        return 1.0
    sq, sqa = math.sqrt(max(q_tilde, 0.0)), math.sqrt(max(q_asimov, 1e-300))
    if sq <= sqa:
        clsb, clb = 1.0 - ndtr(sq), 1.0 - ndtr(sq - sqa)
    else:
        clsb = 1.0 - ndtr((q_tilde + q_asimov) / (2 * sqa))
        clb = 1.0 - ndtr((q_tilde - q_asimov) / (2 * sqa))
    return float(clsb / clb) if clb > 0 else 0.0


def fit(lik: SignalStrengthLikelihood, *, mu_scale: float = 1.0, method: str = "cls") -> Fit:
    """Best fit, 68/95% profile intervals and 95% CL upper limits in mu.

    ``mu_scale`` is the expected size of mu (a reference signal of O(1) events at mu = 1 is
    ideal); ``method`` is ``"cls"`` (asymptotic CLs, needs ``twice_nll_asimov``) or
    ``"wilks"`` (one-sided 2 Delta NLL = 2.706).
    """
    if method not in ("cls", "wilks", "cls_exact"):
        raise PhiphiError(f"limit method {method!r}; choose cls, wilks or cls_exact")
    if method == "cls_exact" and not hasattr(lik, "exact_cls"):
        raise PhiphiError("limit method cls_exact needs a one-bin counting likelihood (PoissonCounts with one bin)")
    f = _Memo(lik.twice_nll)
    mu_hat = _best_fit(f, mu_scale)
    nll_best = f(mu_hat)
    nll_null = f(0.0)

    def q(mu: float) -> float:
        return max(f(mu) - nll_best, 0.0)

    q_null = q(0.0)
    step = mu_hat / math.sqrt(q_null) if q_null > 0.25 and mu_hat > 0 else mu_scale
    intervals: dict[str, tuple[float, float] | None] = {}
    for name, level in (("68", Q_68), ("95", Q_95)):
        hi = _upper_crossing(q, mu_hat, step * math.sqrt(level), level)
        if hi is None:
            intervals[name] = None
            continue
        if q_null <= level:
            lo = 0.0
        else:
            lo = _crossing(lambda m, lv=level: math.sqrt(q(m)) - math.sqrt(lv), 0.0, mu_hat)
        intervals[name] = (lo, hi)
    if intervals["95"] is None:
        return Fit(
            mu_hat, nll_best, nll_null, intervals["68"], None, None, None, method, False,
            f"the likelihood does not reach 2 Delta NLL = {Q_95:.2f} below mu = {MU_MAX:g} times the reference signal",
        )  # fmt: skip
    sig = math.copysign(math.sqrt(q_null), mu_hat) if mu_hat > 0 else 0.0

    if method == "cls_exact":
        ul, exp_ul = _exact_limits(lik, mu_scale)
        return Fit(
            mu_hat, nll_best, nll_null, intervals["68"], intervals["95"], ul, exp_ul,
            "CLs, exact Poisson (background uncertainty marginalised, Cousins-Highland)", True, "", sig,
        )  # fmt: skip
    asimov = getattr(lik, "twice_nll_asimov", None)
    use_cls = method == "cls" and asimov is not None and asimov(intervals["95"][1]) is not None
    if not use_cls:
        ul = _upper_crossing(q, mu_hat, step * math.sqrt(Q_95_ONE_SIDED), Q_95_ONE_SIDED)
        return Fit(
            mu_hat, nll_best, nll_null, intervals["68"], intervals["95"], ul, None, "wilks one-sided", True, "", sig
        )

    fa = _Memo(asimov)
    a0 = fa(0.0)

    def q_asimov(mu: float) -> float:
        # q_mu on the background-only Asimov data, computed at each mu (as pyhf does), not
        # extrapolated from one sigma_A: exact also where the profile is not parabolic
        return max(fa(mu) - a0, 1e-300)

    def log_cls_minus_level(mu: float) -> float:
        qt = q(mu) if mu > mu_hat else 0.0
        return math.log(max(cls_value(qt, q_asimov(mu)), 1e-300)) - math.log(CLS_LEVEL)

    mu_ref = intervals["95"][1]
    hi = mu_ref
    while log_cls_minus_level(hi) > 0:
        hi *= 1.5
        if hi > MU_MAX:
            return Fit(mu_hat, nll_best, nll_null, intervals["68"], intervals["95"], None, None, "CLs", False,
                       f"CLs does not reach {CLS_LEVEL} below mu = {MU_MAX:g}")  # fmt: skip
    lo = max(mu_hat, 1e-9 * hi)
    ul = _crossing(log_cls_minus_level, lo, hi) if log_cls_minus_level(lo) > 0 else lo
    # median expected limit under background only: CLs = (1 - Phi(sqrt(q_A))) / (1/2) = 0.05
    z = float(ndtri(1.0 - CLS_LEVEL / 2.0))
    exp_hi = _upper_crossing(q_asimov, 0.0, hi, z * z)
    exp_ul = None if exp_hi is None else exp_hi
    return Fit(
        mu_hat,
        nll_best,
        nll_null,
        intervals["68"],
        intervals["95"],
        ul,
        exp_ul,
        "CLs (q~mu, asymptotic)",
        True,
        "",
        sig,
    )


def _exact_limits(lik, mu_scale: float) -> tuple[float, float]:
    """Observed and median expected 95% CL limits from the likelihood's exact CLs(mu)."""

    def solve(n_obs: float | None) -> float:
        def g(mu: float) -> float:
            return math.log(max(lik.exact_cls(mu, n_obs), 1e-300)) - math.log(CLS_LEVEL)

        hi = mu_scale
        while g(hi) > 0:
            hi *= 2.0
            if hi > MU_MAX:
                raise PhiphiError(f"exact CLs does not reach {CLS_LEVEL} below mu = {MU_MAX:g}")
        return _crossing(g, 0.0, hi)

    return solve(None), solve(lik.median_background_count())


def to_parameter(mu: float | None, reference: float, scaling: str) -> float | None:
    """The parameter value at signal strength ``mu``: ``reference * sqrt(mu)`` for
    ``scaling = "quadratic"`` (rate proportional to the coupling squared), ``reference * mu``
    for ``"linear"`` (e.g. a branching ratio)."""
    if mu is None:
        return None
    if scaling == "quadratic":
        return abs(reference) * math.sqrt(max(mu, 0.0))
    if scaling == "linear":
        return reference * mu
    raise PhiphiError(f"scaling {scaling!r}; choose quadratic or linear")


def to_signal_strength(value: float, reference: float, scaling: str) -> float:
    """Inverse of :func:`to_parameter`."""
    if scaling == "quadratic":
        return (value / reference) ** 2
    if scaling == "linear":
        return value / reference
    raise PhiphiError(f"scaling {scaling!r}; choose quadratic or linear")


# ----------------------------------------------------------------------------- likelihoods


def _poisson_twice_nll(n: np.ndarray, nu: np.ndarray) -> float:
    nu = np.maximum(nu, 1e-300)
    return float(2.0 * np.sum(nu - n * np.log(nu) + gammaln(n + 1.0)))


@dataclass
class PoissonCounts:
    """Independent Poisson bins with Gaussian-constrained nuisances, the CheckMATE/MA5 model.

    Expected count per bin: mu * s_b * (1 + eps_s)^(theta_s) + sum_k b_kb (1 + rel_kb theta_k)
    — concretely, ``signal`` (at mu = 1) with a relative uncertainty ``signal_rel`` (one
    nuisance, correlated over bins), ``background`` per bin with absolute errors
    ``background_err`` (one nuisance per bin, uncorrelated; or one correlated nuisance
    with ``correlated = True``). Nuisances are N(0, 1) constrained and profiled.
    """

    observed: Sequence[float]
    background: Sequence[float]
    background_err: Sequence[float]
    signal: Sequence[float]
    signal_rel: float = 0.0
    correlated: bool = False
    _n: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._n = np.asarray(self.observed, float)
        self.b = np.asarray(self.background, float)
        self.db = np.asarray(self.background_err, float)
        self.s = np.asarray(self.signal, float)
        if not (self._n.shape == self.b.shape == self.db.shape == self.s.shape):
            raise PhiphiError("observed, background, errors and signal must have one length")
        self._last: np.ndarray | None = None

    def _n_theta(self) -> int:
        nb = 1 if self.correlated else len(self.b)
        return nb + (1 if self.signal_rel > 0 else 0)

    def _expected(self, mu: float, theta: np.ndarray) -> np.ndarray:
        nb = 1 if self.correlated else len(self.b)
        tb = theta[:nb]
        bkg = np.maximum(self.b + self.db * tb, 1e-9 * np.maximum(self.b, 1e-12))
        sig = mu * self.s
        if self.signal_rel > 0:
            sig = sig * max(1.0 + self.signal_rel * theta[nb], 1e-9)
        return sig + bkg

    def _profile_separable(self, mu: float, n: np.ndarray, centre: np.ndarray) -> float:
        """Uncorrelated per-bin background nuisances, no signal nuisance: each bin's theta is
        the root of a quadratic (d/dtheta [2(nu - n ln nu) + (theta - c)^2] = 0 with
        nu = a + db theta): exact, deterministic, no minimiser noise."""
        a = mu * self.s + self.b
        db = self.db
        theta = np.array(centre, dtype=float)
        m = db > 0
        if np.any(m):
            d, c, am, nm = db[m], centre[m], a[m], n[m]
            # theta (a + d theta) - c (a + d theta) + d (a + d theta - n) = 0
            qa = d
            qb = am + d * d - c * d
            qc = d * (am - nm) - c * am
            disc = np.sqrt(np.maximum(qb * qb - 4 * qa * qc, 0.0))
            theta[m] = (-qb + disc) / (2 * qa)
        nu = a + db * theta
        dd = theta - centre
        self._last = theta
        return _poisson_twice_nll(n, nu) + float(dd @ dd)

    def _profile(self, mu: float, n: np.ndarray, aux: np.ndarray | None = None) -> float:
        k = self._n_theta()
        centre = np.zeros(k) if aux is None else aux
        if not self.correlated and self.signal_rel == 0:
            return self._profile_separable(mu, n, centre)

        def f(theta):
            d = theta - centre
            return _poisson_twice_nll(n, self._expected(mu, theta)) + float(d @ d)

        x0 = centre.copy() if self._last is None else self._last
        res = minimize(f, x0, method="L-BFGS-B", bounds=[(-5.0, 5.0)] * k)
        if not res.success:
            res = minimize(f, centre.copy(), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10})
        self._last = res.x
        return float(res.fun)

    def _simple(self) -> bool:
        return not np.any(self.db > 0) and self.signal_rel == 0

    def twice_nll(self, mu: float) -> float:
        """-2 ln L at signal strength mu, nuisances profiled."""
        if self._simple():
            return _poisson_twice_nll(self._n, mu * self.s + self.b)
        return self._profile(mu, self._n)

    def _asimov(self) -> tuple[np.ndarray, np.ndarray]:
        """The background-only Asimov data set as pyhf builds it: the expectation at the
        nuisances fitted to the observed data with mu = 0, and those values as auxiliary data."""
        if getattr(self, "_asimov_cache", None) is None:
            self._last = None
            self._profile(0.0, self._n)
            theta0 = self._last.copy()
            self._asimov_cache = (self._expected(0.0, theta0), theta0)
            self._last = None
        return self._asimov_cache

    def twice_nll_asimov(self, mu: float) -> float:
        """The same on the background-only Asimov data (see :meth:`_asimov`)."""
        if self._simple():
            return _poisson_twice_nll(self.b, mu * self.s + self.b)
        main, aux = self._asimov()
        saved = self._last
        self._last = aux.copy()
        out = self._profile(mu, main, aux)
        self._last = saved
        return out

    def exact_cls(self, mu: float, n_obs: float | None = None) -> float:
        """CLs = P(n <= n_obs | mu s + b) / P(n <= n_obs | b) of a one-bin count (``n_obs``:
        the observed count by default), the background's Gaussian uncertainty marginalised
        (Cousins-Highland, 40-point Gauss-Hermite, truncated at b >= 0). Valid at zero
        observed events, where the asymptotic formulae are not."""
        from scipy.stats import poisson

        if len(self.b) != 1:
            raise PhiphiError("exact CLs is implemented for one bin")
        n = float(self._n[0] if n_obs is None else n_obs)
        x, w = np.polynomial.hermite_e.hermegauss(40)
        w = w / w.sum()
        bkg = np.maximum(self.b[0] + self.db[0] * x, 0.0)
        sig = mu * self.s[0] * np.maximum(1.0 + self.signal_rel * x, 0.0)
        clsb = float(np.sum(w * poisson.cdf(n, np.maximum(sig, 0.0) + bkg)))
        clb = float(np.sum(w * poisson.cdf(n, bkg)))
        return clsb / clb if clb > 0 else 0.0

    def median_background_count(self) -> float:
        """Median count of the background-only hypothesis (one bin)."""
        from scipy.stats import poisson

        return float(poisson.median(self.b[0]))

    @property
    def signal_total(self) -> float:
        """Total reference signal (events at mu = 1)."""
        return float(self.s.sum())


@dataclass
class GaussianLimit:
    """An approximate likelihood from a published upper limit on a non-negative quantity.

    Form (stated in every result that uses it): -2 ln L(x) = (x / sigma)^2 with
    sigma = UL / z, z = Phi^-1(CL) the one-sided Gaussian quantile (1.645 at 95%,
    1.2816 at 90%): a half-Gaussian centred at zero whose one-sided CL limit is the
    published one. ``x = mu * reference`` in the units of the limit.
    """

    upper_limit: float
    cl: float
    reference: float  # the quantity at mu = 1

    form = "-2lnL = (x/sigma)^2, sigma = UL/Phi^-1(CL) (half-Gaussian at 0 matching the published one-sided limit)"

    def __post_init__(self) -> None:
        if not (self.upper_limit > 0 and 0.5 < self.cl < 1):
            raise PhiphiError(f"a published limit needs UL > 0 and 0.5 < CL < 1 (got {self.upper_limit}, {self.cl})")
        self.sigma = self.upper_limit / float(ndtri(self.cl))

    def twice_nll(self, mu: float) -> float:
        """(mu * reference / sigma)^2."""
        return (mu * self.reference / self.sigma) ** 2

    def twice_nll_asimov(self, mu: float) -> float:
        """Identical (the observed limit is treated as the expected one)."""
        return self.twice_nll(mu)


@dataclass
class GaussianMeasurement:
    """A measured quantity x = x0 +- sigma with the prediction x(mu) = offset + mu * reference
    (e.g. a branching ratio: SM offset plus new physics)."""

    value: float
    sigma: float
    reference: float
    offset: float = 0.0

    def twice_nll(self, mu: float) -> float:
        """((offset + mu reference - value) / sigma)^2."""
        return ((self.offset + mu * self.reference - self.value) / self.sigma) ** 2

    def twice_nll_asimov(self, mu: float) -> float:
        """The same with the value replaced by the mu = 0 prediction."""
        return ((mu * self.reference) / self.sigma) ** 2
