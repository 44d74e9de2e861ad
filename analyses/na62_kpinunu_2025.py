"""Recast of NA62's K+ -> pi+ nu nu measurements (2016-18 arXiv:2103.15389, 2016-22
arXiv:2412.12015, 2016-24 preliminary arXiv:2604.12649) for K+ -> pi+ phi phi (C_S^sd) and
K+ -> pi+ X (branching ratio). Registered as ``na62`` by its data file
``analyses/data/na62_kpinunu_2025.yaml``; entry point :func:`recast`.

Method
------
1. Acceptance: SM K+ -> pi+ nu nu events (and, for K+ -> pi+ X, signal events) go through the
   NA62 emulation (``detector.na62``) once per sample; each subset of the data set (its pi+
   momentum window and SES) selects from that one pass (the smearing of an event does not
   depend on the window). The selected events are histogrammed in (m2_miss, p_pi) inside
   Regions 1 and 2 (``np.bincount``). K+ -> pi+ phi phi (default ``signal_sample=reweight``): the
   SM sample reweighted event by event with p_phiphi(q2)/p_SM(q2) — exact in expectation, since
   the emulation sees only K+ and pi+ and the pi+ direction in the spin-0 K+ frame is isotropic,
   so (m2_miss, p_pi) depend on the channel only through q2; no generation per point
   (``signal_sample=generate``: n_events signal events with the point's seed).
2. Normalisation: one overall efficiency per subset is calibrated on the emulated SM sample,
   N_K eps = 1 / (SES A_SM), so that the emulation gives the published BR_SM / SES. The
   calibration is computed once per process and (windows, seed, n) (:func:`sm_calibration`).
3. Likelihood (:class:`BinnedLikelihood`): a product of Poisson terms over the data set's
   published categories (subset x region x p_pi bin as far as published; see the data file:
   only totals were available), nu = b f_b(theta_b) + [s_SM (1+k_SM)^theta_SM + mu s_NP (1+k_NP)^theta_NP] (1+k_N)^theta_N
   with unit-Gaussian nuisances profiled (damped Newton with the analytic Hessian, BFGS as the
   fallback: a few bins and four nuisances, so scipy's generic minimiser was 95% of a point's
   time); or, for 2016-24, the measured BR as an asymmetric
   Gaussian (:class:`BRMeasurement`). K+ -> pi+ X: a shape fit in m2_miss bins (signal peak from
   the emulation's resolution over the SM continuum and the background), expected limit only.
4. Limits and intervals: the package's one engine, :func:`analyses.stats.fit`; the conversion to
   |C| or BR: :func:`analyses.result.from_fit`.

A point without selected signal events is reported with ``sensitivity = False`` and says why:
"no acceptance" when the true m2_miss lies outside Regions 1 and 2 by more than 5 resolutions,
"too few MC events" otherwise.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

import evtgen
from evtgen.errors import PhiphiError, check_positive_int
from evtgen.model import ModelPoint

from . import stats
from .plotting import check_png, save_figure
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "na62"
DEFAULT_SEED = 1
#: seed of the SM calibration sample, the same for every point of a scan: the calibration is a
#: property of the emulated experiment, not of the point, so it is computed once per process
#: (and once per Dask worker) instead of once per point seed
CALIBRATION_SEED = DEFAULT_SEED
#: channel -> (mass option, parameter, scaling of the rate in the parameter)
CHANNELS: dict[str, tuple[str, str, str]] = {
    "k2piphiphi": ("mphi", "CS_sd", "quadratic"),
    "k2pix": ("mx", "br", "linear"),
}
#: pi+ momentum bin edges (GeV) of the acceptance histograms (5 GeV/c bins, 2016-18 analysis)
P_EDGES = np.arange(15.0, 45.0 + 1e-9, 5.0)


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Subset:
    """Part of a data set with one selection: its SES and pi+ momentum window."""

    name: str
    ses: float
    ses_err: float
    p_pi_window: tuple[float, float]
    ses_status: str


@dataclass(frozen=True)
class Category:
    """One published Poisson count: the regions and pi+ momentum range it covers."""

    name: str
    regions: tuple[str, ...]
    p_pi: tuple[float, float] | None
    observed: int
    background: float
    background_up: float
    background_down: float
    status: str


@dataclass(frozen=True)
class Measurement:
    """A published NA62 K+ -> pi+ nu nu result (one data set)."""

    dataset: str
    paper: str
    likelihood: str  # counts or br
    preliminary: bool
    categories: tuple[Category, ...]
    subsets: tuple[Subset, ...]
    sm_br: float
    sm_br_err: float
    br_measured: float
    br_up: float
    br_down: float
    expected_sm_published: float | None

    @property
    def observed(self) -> int:
        """Total observed count over the categories."""
        return sum(c.observed for c in self.categories)

    @property
    def background(self) -> float:
        """Total expected background over the categories."""
        return sum(c.background for c in self.categories)


def option_default(data: dict[str, Any], name: str) -> Any:
    """The default of option ``name`` declared in the data file's header."""
    return data["analysis"]["options"][name].get("default")


def load_measurement(
    data: dict[str, Any], dataset: str | None = None, *, p_pi_max_late: float | None = None
) -> Measurement:
    """The measurement ``dataset`` of the data file (default: its ``default_dataset``), checked.

    ``p_pi_max_late`` replaces the (assumed) upper momentum edge of the 2021+ subsets."""
    name = dataset or data["default_dataset"]
    if name not in data["datasets"]:
        raise PhiphiError(f"unknown NA62 data set {name!r}; choose one of {', '.join(data['datasets'])}")
    d = data["datasets"][name]
    subsets = []
    for s in d["subsets"]:
        lo, hi = (float(x) for x in s["p_pi_window"]["value"])
        if s["p_pi_window"].get("late") and p_pi_max_late is not None:
            hi = float(p_pi_max_late)
        ses, err = float(s["ses"]["value"]), float(s["ses"]["error"])
        if not (ses > 0 and math.isfinite(ses) and err >= 0 and 0 <= lo < hi <= P_EDGES[-1]):
            raise PhiphiError(
                f"NA62 subset {s.get('name')!r}: SES {ses!r}, momentum window ({lo}, {hi}) GeV; "
                f"the window must lie in [0, {P_EDGES[-1]:g}]"
            )
        subsets.append(Subset(str(s["name"]), ses, err, (lo, hi), str(s["ses"].get("status", ""))))
    cats = []
    for c in d.get("categories") or []:
        b = c["background"]
        cat = Category(
            str(c["name"]),
            tuple(c["regions"]),
            None if c.get("p_pi") is None else (float(c["p_pi"][0]), float(c["p_pi"][1])),
            int(c["observed"]["value"]),
            float(b["value"]),
            float(b["error_up"]),
            float(b["error_down"]),
            str(b.get("status", "")),
        )
        if cat.observed < 0 or not (0 < cat.background and 0 <= cat.background_down < cat.background):
            raise PhiphiError(f"bad observed/background in NA62 data set {name!r}, category {cat.name!r}")
        cats.append(cat)
    br = d["br_measured"]
    es = d.get("expected_sm", {}).get("value")
    return Measurement(
        dataset=name,
        paper=str(d["paper"]),
        likelihood=str(d.get("likelihood", "counts")),
        preliminary=bool(d.get("preliminary", False)),
        categories=tuple(cats),
        subsets=tuple(subsets),
        sm_br=float(data["sm_br"]["value"]),
        sm_br_err=float(data["sm_br"]["error"]),
        br_measured=float(br["value"]),
        br_up=float(br["error_up"]),
        br_down=float(br["error_down"]),
        expected_sm_published=None if es is None else float(es),
    )


# ----------------------------------------------------------------------- acceptance
@dataclass(frozen=True)
class Acceptance:
    """Selected events of one sample in one subset: (weighted) counts in (m2_miss bin, p_pi bin)
    for Region 1 (``sr1``) and Region 2 (``sr2``), out of ``n_events`` generated; ``sumw2`` is
    the sum of squared weights in both regions (None: unit weights, sumw2 = the count)."""

    sr1: np.ndarray
    sr2: np.ndarray
    n_events: int
    sumw2: float | None = None

    @property
    def n_selected(self) -> float:
        """Events in Regions 1 and 2 (sum of weights for a reweighted sample)."""
        total = float(self.sr1.sum() + self.sr2.sum())
        return int(round(total)) if self.sumw2 is None else total

    @property
    def n_effective(self) -> float:
        """Effective number of MC events in Regions 1 and 2: (sum w)^2 / sum w^2."""
        total = float(self.sr1.sum() + self.sr2.sum())
        if self.sumw2 is None:
            return total
        return total * total / self.sumw2 if self.sumw2 > 0 else 0.0

    @property
    def fraction_error(self) -> float:
        """MC (Poisson) error of the Region 1+2 acceptance: sqrt(sum w^2) / n_events."""
        if self.sumw2 is None:
            return math.sqrt(max(float(self.sr1.sum() + self.sr2.sum()), 1.0)) / self.n_events
        return math.sqrt(self.sumw2) / self.n_events

    def fraction(self, regions: Sequence[str] = ("sr1", "sr2"), p_pi: tuple[float, float] | None = None) -> float:
        """Acceptance in ``regions`` (and a pi+ momentum range given on the 5 GeV bin edges)."""
        cols = slice(None)
        if p_pi is not None:
            lo, hi = np.searchsorted(P_EDGES, p_pi[0] - 1e-9), np.searchsorted(P_EDGES, p_pi[1] - 1e-9)
            cols = slice(int(lo), int(hi))
        return float(sum(getattr(self, r)[:, cols].sum() for r in regions)) / self.n_events

    def m2_counts(self) -> np.ndarray:
        """Counts per m2_miss bin (SR1 bins then SR2 bins), all momenta."""
        return np.concatenate([self.sr1.sum(axis=1), self.sr2.sum(axis=1)])


def m2_edges(data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """m2_miss bin edges (GeV^2) in Region 1 and Region 2 (bins of the data file's width)."""
    from detector import na62

    reg = na62.load_card()["regions"]
    width = float(data["kinematics"]["m2_bin_width"]["value"])
    out = []
    for r in ("sr1", "sr2"):
        lo, hi = reg[r]["value"]
        n = max(1, int(round((hi - lo) / width)))
        out.append(np.linspace(lo, hi, n + 1))
    return out[0], out[1]


@dataclass(frozen=True)
class SelectedEvents:
    """The events of one emulated sample that land in Region 1 or 2 of at least one subset:
    their flat bin index ``cell`` (region x m2_miss bin x p_pi bin), true q2 and, per subset,
    whether that subset selects them. One emulation pass serves every subset (the smearing
    of an event does not depend on the momentum window, only the selection does)."""

    cell: np.ndarray
    q2: np.ndarray
    in_subset: tuple[np.ndarray, ...]
    n_events: int
    shape1: tuple[int, int]
    shape2: tuple[int, int]

    def acceptances(self, weights: np.ndarray | None = None) -> tuple[Acceptance, ...]:
        """The (weighted) acceptance histograms of every subset."""
        n1 = self.shape1[0] * self.shape1[1]
        size = n1 + self.shape2[0] * self.shape2[1]
        out = []
        for mask in self.in_subset:
            w = None if weights is None else weights[mask]
            h = np.bincount(self.cell[mask], weights=w, minlength=size).astype(float)
            h1, h2 = h[:n1].reshape(self.shape1), h[n1:].reshape(self.shape2)
            h1.setflags(write=False)
            h2.setflags(write=False)
            out.append(Acceptance(h1, h2, self.n_events, None if w is None else float(np.sum(w * w))))
        return tuple(out)


def _bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value as np.histogram counts it after clipping into [edges[0], edges[-1]]."""
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)


@functools.lru_cache(maxsize=512)
def _selected_cached(
    channel: str, mass: float | None, seed: int, n_events: int, windows: tuple, edges: tuple
) -> SelectedEvents:
    from detector import na62

    row = evtgen.channels.row(channel)
    kw = {row.mass_option: mass} if row.mass_option else {}
    events = evtgen.generate(channel, n_events, seed=seed, frame="lab", **kw)
    sel_card = na62.load_card()["selection"]
    zmin, zmax = float(sel_card["vtx_z_min"]["value"]), float(sel_card["vtx_z_max"]["value"])
    union = (min(w[0] for w in windows), max(w[1] for w in windows))
    r = na62.reconstruct(events, seed=seed, p_pi_window=union)
    region = r["region"]
    keep = np.flatnonzero((region == na62.REGION_SR1) | (region == na62.REGION_SR2))
    m2, p, reg = r["m2_miss"][keep], r["p_pi_rec"][keep], region[keep]
    zv, straw = r["vtx_z_rec"][keep], r["in_straw"][keep]
    e1, e2 = (np.asarray(e) for e in edges)
    n_p = len(P_EDGES) - 1
    ip = _bin_index(p, P_EDGES)
    in1 = reg == na62.REGION_SR1
    cell = np.where(
        in1,
        _bin_index(m2, e1) * n_p + ip,
        (len(e1) - 1) * n_p + _bin_index(m2, e2) * n_p + ip,
    ).astype(np.intp)
    # the kernel's selection for each subset window (same strict inequalities)
    base = straw & (zmin < zv) & (zv < zmax)
    masks = tuple(base & (w[0] < p) & (p < w[1]) for w in windows)
    q2 = np.asarray(events["q2_true"], dtype=float)[keep]
    for a in (cell, q2, *masks):
        a.setflags(write=False)
    return SelectedEvents(cell, q2, masks, n_events, (len(e1) - 1, n_p), (len(e2) - 1, n_p))


def _edges_windows(subsets: Sequence[Subset], data: dict[str, Any]) -> tuple[tuple, tuple]:
    edges = tuple(tuple(float(x) for x in e) for e in m2_edges(data))
    return tuple(s.p_pi_window for s in subsets), edges


def acceptances(
    channel: str, mass: float | None, subsets: Sequence[Subset], *, seed: int, n_events: int, data: dict[str, Any]
) -> tuple[Acceptance, ...]:
    """Acceptance histograms of ``channel`` at ``mass`` for each subset (generated and emulated
    once per process and (channel, mass, seed, n_events, windows))."""
    windows, edges = _edges_windows(subsets, data)
    sel = _selected_cached(channel, None if mass is None else float(mass), int(seed), int(n_events), windows, edges)
    return sel.acceptances()


@functools.lru_cache(maxsize=16)
def _sm_density(seed: int, n_events: int, windows: tuple, edges: tuple) -> np.ndarray:
    """p_SM(q2) = (dGamma/dq2)/Gamma of K+ -> pi+ nu nu at the selected SM events' q2 (cached)."""
    sel = _selected_cached("k2pinunu", None, seed, n_events, windows, edges)
    out = evtgen.spectrum("k2pinunu", sel.q2) / evtgen.rate("k2pinunu").width
    out.setflags(write=False)
    return out


def reweighted_acceptances(
    mphi: float,
    subsets: Sequence[Subset],
    *,
    seed: int,
    n_events: int,
    data: dict[str, Any],
    coupling: float = 1e-11,
) -> tuple[Acceptance, ...]:
    """K+ -> pi+ phi phi acceptance histograms at ``mphi`` from the emulated SM K+ -> pi+ nu nu
    sample (the calibration sample: ``seed``, ``n_events``), each event weighted by
    w(q2) = p_phiphi(q2) / p_SM(q2) (normalised dGamma/dq2 of the two channels).

    Exact in expectation: the emulation sees only the K+ and the pi+, and for a spin-0 K+ the
    pi+ direction in the K+ frame is isotropic whatever the invisible system, so the
    reconstructed (m2_miss, p_pi) of an event depends on the channel only through its q2."""
    windows, edges = _edges_windows(subsets, data)
    sel = _selected_cached("k2pinunu", None, int(seed), int(n_events), windows, edges)
    ref = {"CS_sd": coupling}  # the normalised spectrum does not depend on it (same rate cache as the point)
    p_sig = (
        evtgen.spectrum("k2piphiphi", sel.q2, mphi=mphi, couplings=ref)
        / evtgen.rate("k2piphiphi", mphi=mphi, couplings=ref).width
    )
    p_sm = _sm_density(int(seed), int(n_events), windows, edges)
    w = np.divide(p_sig, p_sm, out=np.zeros_like(p_sig), where=p_sm > 0)
    return sel.acceptances(w)


@dataclass(frozen=True)
class Calibration:
    """SM calibration of one subset: acceptance, N_K * eps and the expected SM yield."""

    subset: str
    a_sm: float
    a_sm_err: float
    nk_eps: float  # N_K x overall efficiency = 1 / (SES A_SM)
    expected_sm: float  # N_K eps BR_SM A_SM
    ses: float
    ses_status: str


def sm_calibration(
    meas: Measurement, *, seed: int, n_events: int, data: dict[str, Any]
) -> tuple[tuple[Calibration, ...], tuple[Acceptance, ...]]:
    """Calibrate the overall efficiency of each subset on the emulated SM sample (the emulation
    runs once per process and (windows, seed, n_events))."""
    accs = acceptances("k2pinunu", None, meas.subsets, seed=seed, n_events=n_events, data=data)
    out = []
    for s, a in zip(meas.subsets, accs):
        tot = a.fraction()
        if tot <= 0:
            raise PhiphiError(f"no SM K+ -> pi+ nu nu acceptance for subset {s.name} (window {s.p_pi_window})")
        nk = 1.0 / (s.ses * tot)
        err = math.sqrt(tot * (1 - tot) / a.n_events)
        out.append(Calibration(s.name, tot, err, nk, nk * meas.sm_br * tot, s.ses, s.ses_status))
    return tuple(out), accs


# ----------------------------------------------------------------------- likelihoods
@dataclass
class BinnedLikelihood:
    """Poisson bins with log-normal background, SM-rate, normalisation and NP-rate nuisances.

    nu_k = b_k exp(theta_b ln_b) + [sm_k exp(theta_sm ln_sm) + mu s_k exp(theta_np ln_np)] exp(theta_n ln_norm),
    with unit-Gaussian constraints; ln_b is ln(1 + up/b) for theta_b > 0 and -ln(1 - down/b)
    below (one background nuisance, correlated over bins). ``observed = None``: no published
    counts, :meth:`twice_nll` is the Asimov (mu = 0) one. Exactly a pyhf model with ``normsys``
    (interpolation code 1), see :meth:`to_pyhf`. Provides the engine's
    :class:`~analyses.stats.SignalStrengthLikelihood`; the limits are the engine's.
    """

    observed: np.ndarray | None
    background: np.ndarray
    sm: np.ndarray
    signal: np.ndarray
    ln_b_up: float
    ln_b_down: float
    ln_sm: float
    ln_norm: float
    ln_np: float = 0.0

    def __post_init__(self) -> None:
        self.background = np.asarray(self.background, float)
        self.sm = np.asarray(self.sm, float)
        self.signal = np.asarray(self.signal, float)
        if self.observed is not None:
            self.observed = np.asarray(self.observed, float)
        if not (self.background.shape == self.sm.shape == self.signal.shape):
            raise PhiphiError("background, SM and signal must have one length per bin")

    def _nll_grad(self, theta: np.ndarray, mu: float, n: np.ndarray) -> tuple[float, np.ndarray]:
        tb, tsm, tn, tnp = theta
        ln_b = self.ln_b_up if tb >= 0 else self.ln_b_down
        bkg = self.background * math.exp(tb * ln_b)
        norm = math.exp(tn * self.ln_norm)
        sm = self.sm * math.exp(tsm * self.ln_sm)
        npv = mu * self.signal * math.exp(tnp * self.ln_np)
        nu = np.maximum(bkg + (sm + npv) * norm, 1e-300)
        val = 2.0 * float(np.sum(nu - n * np.log(nu) + special.gammaln(n + 1.0))) + float(theta @ theta)
        w = 2.0 * (1.0 - n / nu)
        grad = np.array(
            [
                float(w @ bkg) * ln_b,
                float(w @ sm) * self.ln_sm * norm,
                float(w @ (sm + npv)) * norm * self.ln_norm,
                float(w @ npv) * self.ln_np * norm,
            ]
        )
        return val, grad + 2.0 * theta

    def _nll_hess(
        self, theta: np.ndarray, mu: float, n: np.ndarray, lgn: float
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """-2 ln L, its gradient and its Hessian in the four nuisances (analytic)."""
        tb, tsm, tn, tnp = theta
        ln_b = self.ln_b_up if tb >= 0 else self.ln_b_down
        bkg = self.background * math.exp(tb * ln_b)
        norm = math.exp(tn * self.ln_norm)
        sm = self.sm * math.exp(tsm * self.ln_sm) * norm
        npv = mu * self.signal * math.exp(tnp * self.ln_np) * norm
        nu = np.maximum(bkg + sm + npv, 1e-300)
        val = 2.0 * float(np.sum(nu - n * np.log(nu))) + lgn + float(theta @ theta)
        w = 2.0 * (1.0 - n / nu)
        r = 2.0 * n / (nu * nu)
        # d nu / d theta (columns) and the diagonal/cross second derivatives
        d = np.stack([bkg * ln_b, sm * self.ln_sm, (sm + npv) * self.ln_norm, npv * self.ln_np])
        grad = d @ w + 2.0 * theta
        hess = (d * r) @ d.T
        hess[0, 0] += float(w @ bkg) * ln_b * ln_b
        hess[1, 1] += float(w @ sm) * self.ln_sm**2
        hess[2, 2] += float(w @ (sm + npv)) * self.ln_norm**2
        hess[3, 3] += float(w @ npv) * self.ln_np**2
        c12 = float(w @ sm) * self.ln_sm * self.ln_norm
        c23 = float(w @ npv) * self.ln_np * self.ln_norm
        hess[1, 2] += c12
        hess[2, 1] += c12
        hess[2, 3] += c23
        hess[3, 2] += c23
        hess += 2.0 * np.eye(4)
        return val, grad, hess

    def _profile(self, mu: float, n: np.ndarray) -> float:
        """min over the nuisances: damped Newton steps with the analytic Hessian (a few
        microseconds per step for these few bins), BFGS as the fallback."""
        lgn = 2.0 * float(np.sum(special.gammaln(n + 1.0)))
        theta = np.zeros(4)
        val, grad, hess = self._nll_hess(theta, mu, n, lgn)
        for _ in range(100):
            try:
                step = -np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                break
            if not float(step @ grad) < 0.0:  # not a descent direction: Hessian not positive here
                break
            t = 1.0
            while True:
                trial = theta + t * step
                v_new, g_new, h_new = self._nll_hess(trial, mu, n, lgn)
                if v_new <= val + 1e-4 * t * float(step @ grad) or t < 1e-6:
                    break
                t *= 0.5
            converged = abs(val - v_new) < 1e-12 * max(1.0, abs(val)) and float(np.max(np.abs(g_new))) < 1e-7
            theta, val, grad, hess = trial, v_new, g_new, h_new
            if converged or float(np.max(np.abs(grad))) < 1e-9:
                return val
        res = optimize.minimize(
            self._nll_grad, theta, args=(float(mu), n), jac=True, method="BFGS", options={"gtol": 1e-9}
        )
        return min(float(res.fun), val)

    @property
    def asimov_counts(self) -> np.ndarray:
        """The background-only (mu = 0) expectation."""
        return self.background + self.sm

    def twice_nll(self, mu: float) -> float:
        """-2 ln L at signal strength mu (nuisances profiled)."""
        return self._profile(mu, self.asimov_counts if self.observed is None else self.observed)

    def twice_nll_asimov(self, mu: float) -> float:
        """The same on the background-only Asimov data."""
        return self._profile(mu, self.asimov_counts)

    def to_pyhf(self) -> dict[str, Any]:
        """The same model as a pyhf workspace (POI ``mu`` scales ``signal``); build it with
        ``ws.model(modifier_settings={"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}})``."""

        def normsys(name: str, ln_hi: float, ln_lo: float) -> dict[str, Any]:
            return {"name": name, "type": "normsys", "data": {"hi": math.exp(ln_hi), "lo": math.exp(-ln_lo)}}

        norm = normsys("ses_normalisation", self.ln_norm, self.ln_norm)
        samples = [
            {
                "name": "background",
                "data": self.background.tolist(),
                "modifiers": [normsys("background", self.ln_b_up, self.ln_b_down)],
            },
            {
                "name": "sm_kpinunu",
                "data": self.sm.tolist(),
                "modifiers": [normsys("sm_br", self.ln_sm, self.ln_sm), norm],
            },
            {
                "name": "new_physics",
                "data": self.signal.tolist(),
                "modifiers": [
                    {"name": "mu", "type": "normfactor", "data": None},
                    norm,
                    normsys("np_rate", self.ln_np, self.ln_np),
                ],
            },
        ]
        obs = self.asimov_counts if self.observed is None else self.observed
        return {
            "channels": [{"name": "na62", "samples": samples}],
            "observations": [{"name": "na62", "data": [float(x) for x in obs]}],
            "measurements": [
                {
                    "name": "na62",
                    "config": {"poi": "mu", "parameters": [{"name": "mu", "bounds": [[0.0, 1e4]], "inits": [1.0]}]},
                }
            ],
            "version": "1.0.0",
        }


@dataclass(frozen=True)
class BRMeasurement:
    """The measured BR as an asymmetric Gaussian: prediction BR_SM + mu * reference, sigma_up
    above the measured value and sigma_down below, each with the SM error in quadrature."""

    value: float
    sigma_up: float
    sigma_down: float
    sm: float
    sm_err: float
    reference: float  # effective BR added at mu = 1 (R * BR_NP)

    form = "-2lnL = ((BR_SM + mu R BR_NP - BR_meas)/sigma)^2, sigma = sigma_up (sigma_down) above (below) BR_meas, (+) sigma_SM"

    def _twice(self, pred: float, value: float) -> float:
        s = self.sigma_up if pred > value else self.sigma_down
        return (pred - value) ** 2 / (s * s + self.sm_err**2)

    def twice_nll(self, mu: float) -> float:
        """Chi^2 of the measured BR at signal strength mu."""
        return self._twice(self.sm + mu * self.reference, self.value)

    def twice_nll_asimov(self, mu: float) -> float:
        """The same with the measured value replaced by the SM."""
        return self._twice(self.sm + mu * self.reference, self.sm)


def counting_likelihood(
    meas: Measurement, sm: Sequence[float], signal: Sequence[float], rel_np: float = 0.0
) -> BinnedLikelihood:
    """The product of Poisson terms over the measurement's categories."""
    b = np.array([c.background for c in meas.categories])
    bt = float(b.sum())
    up = sum(c.background_up for c in meas.categories)  # the total's errors (correlated nuisance)
    down = sum(c.background_down for c in meas.categories)
    wsum = sum(1.0 / s.ses for s in meas.subsets)
    rel_norm = sum((s.ses_err / s.ses) / s.ses for s in meas.subsets) / wsum
    return BinnedLikelihood(
        np.array([c.observed for c in meas.categories], float),
        b,
        np.asarray(sm, float),
        np.asarray(signal, float),
        math.log1p(up / bt),
        -math.log1p(-down / bt),
        math.log1p(meas.sm_br_err / meas.sm_br),
        math.log1p(rel_norm),
        math.log1p(rel_np),
    )


# --------------------------------------------------------------------------- recast
def _kinematic_reason(channel: str, mass: float, data: dict[str, Any]) -> str | None:
    """Why the signal cannot reach Regions 1/2 (None if its true m2_miss range can)."""
    from detector import na62

    reg = na62.load_card()["regions"]
    k = data["kinematics"]
    reach = float(k["reach_sigmas"]["value"]) * float(k["m2_miss_resolution"]["value"])
    mk, mpi = evtgen.constants.mass("K+"), evtgen.constants.mass("pi+")
    lo, hi = (4 * mass * mass, (mk - mpi) ** 2) if channel == "k2piphiphi" else (mass * mass, mass * mass)
    for r in ("sr1", "sr2"):
        a, b = reg[r]["value"]
        if lo <= b + reach and hi >= a - reach:
            return None
    return (
        f"no acceptance: the true m2_miss {'>= ' if lo != hi else '= '}{lo:.4f} GeV^2 lies more than "
        f"{k['reach_sigmas']['value']:g} resolutions outside Regions 1 ({reg['sr1']['value']}) and 2 ({reg['sr2']['value']})"
    )


def recast(point: ModelPoint, *, data: dict[str, Any], **options: Any) -> Result:
    """Limits and the gap-filling band on C_S^sd (k2piphiphi) or BR (k2pix) at one point.

    The point's coupling (default C_S^sd = 1e-11 GeV^-1, br = 1e-10) is the reference at which
    expected events are quoted. Options: see the data file header (``dataset``, ``n_events``,
    ``sm_n_events``, ``method``, ``likelihood``, ``p_pi_max_late``, ``background_shape``, ``plot``).
    """
    channel = point.channel or data["analysis"]["default_channel"]
    if channel not in CHANNELS:
        raise PhiphiError(f"channel {channel!r} is not recast by NA62; choose one of {', '.join(CHANNELS)}")
    opt, parameter, scaling = CHANNELS[channel]
    mass = point.masses.get(opt)
    if mass is None:
        raise PhiphiError(f"channel {channel} needs --{opt}")
    get = {
        k: (options[k] if options.get(k) is not None else option_default(data, k)) for k in data["analysis"]["options"]
    }
    plot = get["plot"]
    if plot:
        check_png(plot)
    seed = DEFAULT_SEED if point.seed is None else int(point.seed)
    n_events = check_positive_int("n_events", get["n_events"])
    sm_n = check_positive_int("sm_n_events", get["sm_n_events"])
    meas = load_measurement(data, get["dataset"], p_pi_max_late=get["p_pi_max_late"])
    lik_kind = meas.likelihood if get["likelihood"] == "auto" else get["likelihood"]
    if lik_kind == "counts" and not meas.categories:
        raise PhiphiError(f"NA62 {meas.dataset} has no published counts; use --likelihood br (or auto)")
    ref = float(point.couplings.get(parameter, 0.0))
    if ref == 0.0:
        raise PhiphiError(f"reference coupling {parameter} = 0: give a non-zero --coupling {parameter}=VALUE")

    provenance: dict[str, Any] = {
        "dataset": meas.dataset,
        "dataset_paper": meas.paper,
        "preliminary": meas.preliminary,
        "likelihood": lik_kind,
        "subsets": {
            s.name: {"ses": s.ses, "ses_status": s.ses_status, "p_pi_window": list(s.p_pi_window)} for s in meas.subsets
        },
        "categories": "per-region / per-momentum-bin counts not available to the project: one category "
        "(Regions 1+2, all momenta) per data set; for m_phi > 50 MeV only Region 2 is populated, so the "
        "Region-1 background and candidates enter the count; assumed Region 1/2 splits of the count "
        "(split_by_region, docs/kaon_recasts.md) give 0.65-0.97 x the one-count limit at m_phi = 0.1 GeV: "
        "the one count is conservative"
        if lik_kind == "counts" and len(meas.categories) == 1
        else "as listed in the data file",
        "p_pi_max_late": {"value": get["p_pi_max_late"], "status": "assumed (2021+ subsets; not read in the paper)"},
        "seed": seed,
        "n_events": n_events,
        "sm_n_events": sm_n,
        "sm_calibration_seed": CALIBRATION_SEED,
    }
    if lik_kind == "counts":
        provenance["background_errors"] = {c.name: c.status for c in meas.categories}
    reason = _kinematic_reason(channel, mass, data)
    extras_base = {"dataset": meas.dataset}
    if reason is not None:
        return no_sensitivity(
            analysis=ANALYSIS,
            point=point,
            parameter=parameter,
            reason=reason,
            provenance=provenance,
            extras=extras_base,
        )
    calib, sm_acc = sm_calibration(meas, seed=CALIBRATION_SEED, n_events=sm_n, data=data)
    rate = evtgen.rate(channel, **{opt: mass}, couplings={parameter: ref})
    sample = get["signal_sample"] if channel == "k2piphiphi" else "generate"
    if sample == "reweight":
        accs = reweighted_acceptances(mass, meas.subsets, seed=CALIBRATION_SEED, n_events=sm_n, data=data, coupling=ref)
        provenance["signal_sample"] = (
            f"reweighted: the SM calibration sample (seed {CALIBRATION_SEED}, {sm_n} events) weighted by "
            "p_phiphi(q2)/p_SM(q2); the point's seed and n_events are not used (--signal-sample generate to "
            "generate the signal)"
        )
    else:
        accs = acceptances(channel, mass, meas.subsets, seed=seed, n_events=n_events, data=data)
        provenance["signal_sample"] = f"generated: {n_events} events, seed {seed}"
    n_sel = sum(a.n_selected for a in accs)
    n_eff = sum(a.n_effective for a in accs)
    if n_sel == 0:
        what = f"{sm_n} reweighted SM" if sample == "reweight" else f"{n_events} emulated signal"
        return no_sensitivity(
            analysis=ANALYSIS,
            point=point,
            parameter=parameter,
            reason=f"too few MC events: 0 of {what} events selected in Regions 1/2 although the "
            f"kinematics reach them; increase {'sm_n_events' if sample == 'reweight' else 'n_events'}",
            provenance=provenance,
            extras=extras_base,
        )
    # NP-yield uncertainty: form-factor error of the rate and MC statistics of the acceptance
    s_ref = sum(c.nk_eps * a.fraction() * rate.br for c, a in zip(calib, accs))
    s_mc_err = math.sqrt(sum((c.nk_eps * rate.br * a.fraction_error) ** 2 for c, a in zip(calib, accs)))
    rel_np = math.hypot(rate.br_err / rate.br if rate.br > 0 else 0.0, s_mc_err / s_ref)
    expected_sm = sum(c.expected_sm for c in calib)
    extras: dict[str, Any] = {
        **extras_base,
        "expected_np_sr1": sum(c.nk_eps * a.fraction(("sr1",)) * rate.br for c, a in zip(calib, accs)),
        "expected_np_sr2": sum(c.nk_eps * a.fraction(("sr2",)) * rate.br for c, a in zip(calib, accs)),
        "expected_np": s_ref,
        "br_at_reference": rate.br,
        "np_rate_rel_uncertainty": rel_np,
        "n_selected_mc": n_sel,
        "n_effective_mc": n_eff,
        "acceptance_np": {s.name: a.fraction() for s, a in zip(meas.subsets, accs)},
        "calibration": [c.__dict__ for c in calib],
        "expected_sm": expected_sm,
        "expected_sm_published": meas.expected_sm_published,
        "observed": meas.observed if meas.categories else None,
        "background": meas.background if meas.categories else None,
    }
    if n_eff < 25:
        provenance["mc_statistics"] = (
            f"only {n_eff:.0f} (effective) selected signal events: the acceptance carries a "
            f"{100 / math.sqrt(max(n_eff, 1e-300)):.0f}% MC error"
        )
    expected_only = False
    mu_scale = 5.0 / s_ref
    if channel == "k2pix":
        lik, form = _shape_likelihood(meas, calib, sm_acc, accs, rate.br, rel_np, get["background_shape"])
        expected_only = True
        provenance["k2pix"] = (
            "shape fit over m2_miss bins of Regions 1 and 2 (signal peak from the emulation over the SM and background); "
            "NA62's observed counts per m2_miss bin are not in the data file: expected (Asimov) limit only; "
            f"background m2_miss shape assumed '{get['background_shape']}'"
        )
    elif lik_kind == "br":
        r_acc = sum(a.fraction() / (s.ses * c.a_sm) for s, c, a in zip(meas.subsets, calib, accs)) / sum(
            1.0 / s.ses for s in meas.subsets
        )
        lik = BRMeasurement(meas.br_measured, meas.br_up, meas.br_down, meas.sm_br, meas.sm_br_err, r_acc * rate.br)
        form = BRMeasurement.form
        extras["acceptance_ratio_R"] = r_acc
        mu_scale = meas.br_up / (r_acc * rate.br) if r_acc > 0 else 1.0
    else:
        sm_c, sig_c = [], []
        for cat in meas.categories:
            sm_c.append(sum(c.nk_eps * meas.sm_br * a.fraction(cat.regions, cat.p_pi) for c, a in zip(calib, sm_acc)))
            sig_c.append(sum(c.nk_eps * rate.br * a.fraction(cat.regions, cat.p_pi) for c, a in zip(calib, accs)))
        lik = counting_likelihood(meas, sm_c, sig_c, rel_np)
        form = (
            "product of Poisson terms over the categories, log-normal background (asymmetric), SM-BR, SES and NP-rate "
            "nuisances profiled"
        )
        extras["expected_sm_per_category"] = dict(zip((c.name for c in meas.categories), sm_c))
    fit = stats.fit(lik, mu_scale=mu_scale, method=get["method"])
    res = from_fit(
        lik,
        fit,
        analysis=ANALYSIS,
        point=point,
        parameter=parameter,
        reference=ref,
        scaling=scaling,
        provenance=provenance,
        extras=extras,
        likelihood_form=form,
    )
    if expected_only:
        res.best_fit = res.upper_limit_95 = res.interval_68 = res.interval_95 = None
        res.twice_nll_point = res.excluded_95 = None
        if fit.expected_upper_limit_95 is not None:
            res.extras["expected_upper_limit_90"] = (
                stats.to_parameter(fit.expected_upper_limit_95, ref, scaling)
                * float(special.ndtri(0.95))
                / float(special.ndtri(0.975))
            )
    if plot:
        res.extras["plot"] = plot_spectrum(plot, res.as_dict(), data=data)
    return res


def _shape_likelihood(meas, calib, sm_acc, accs, br, rel_np, background_shape):
    """K+ -> pi+ X: Poisson bins in m2_miss (both regions, all momenta), expected data only."""
    sm = sum(c.nk_eps * meas.sm_br * a.m2_counts() / a.n_events for c, a in zip(calib, sm_acc))
    sig = sum(c.nk_eps * br * a.m2_counts() / a.n_events for c, a in zip(calib, accs))
    n1 = sm_acc[0].sr1.shape[0]
    bkg = np.zeros_like(sm)
    b_tot = meas.background if meas.categories else None
    if b_tot is None:
        raise PhiphiError(f"NA62 {meas.dataset} publishes no background: no K+ -> pi+ X shape fit")
    for part in (slice(0, n1), slice(n1, None)):
        # ASSUMED: the published total background is split between the regions like the SM
        # expectation and, inside a region, follows the SM shape ("sm") or is flat ("flat")
        share = b_tot * sm[part].sum() / sm.sum()
        shape = sm[part] if background_shape == "sm" else np.ones_like(sm[part])
        bkg[part] = share * shape / shape.sum()
    keep = sig > 1e-4 * sig.max()
    c0 = meas.categories[0]
    wsum = sum(1.0 / s.ses for s in meas.subsets)
    rel_norm = sum((s.ses_err / s.ses) / s.ses for s in meas.subsets) / wsum
    lik = BinnedLikelihood(
        None,
        np.maximum(bkg[keep], 1e-9),
        sm[keep],
        sig[keep],
        math.log1p(c0.background_up / c0.background),
        -math.log1p(-c0.background_down / c0.background),
        math.log1p(meas.sm_br_err / meas.sm_br),
        math.log1p(rel_norm),
        math.log1p(rel_np),
    )
    return (
        lik,
        "Poisson bins in m2_miss (0.002 GeV^2) over Regions 1+2, Asimov data (expected limit), nuisances profiled",
    )


def calibration_summary(result: dict[str, Any]) -> str:
    """Human-readable lines on the SM calibration of a recast result (``Result.as_dict()``)."""
    ex = result["extras"]
    lines = []
    for c in ex.get("calibration", []):
        tag = f" (SES {c['ses_status']})" if c["ses_status"] != "published" else ""
        lines.append(
            f"{c['subset']}: A_SM = {c['a_sm']:.4f} +- {c['a_sm_err']:.4f}, N_K*eps = {c['nk_eps']:.4e}, "
            f"SES = {c['ses']:.3e}{tag}, expected SM = {c['expected_sm']:.2f}"
        )
    pub = ex.get("expected_sm_published")
    lines.append(
        f"total expected SM = {ex.get('expected_sm', float('nan')):.2f} (published: {pub if pub is not None else 'not published'}), "
        f"background = {ex.get('background')}, observed = {ex.get('observed')}"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- plots
def plot_spectrum(path: str, result: dict[str, Any], *, data: dict[str, Any]) -> str:
    """Reconstructed m2_miss of the signal at the result's point and of the SM (selected events,
    expected yields), from a recast result dict (``Result.as_dict()``)."""
    import matplotlib.pyplot as plt

    from detector import na62

    from .plotting import hep_style

    channel = result["channel"]
    opt = CHANNELS[channel][0]
    mass = result[opt]
    prov = result["provenance"]
    seed, n_events = int(prov["seed"]), int(prov["n_events"])
    meas = load_measurement(data, prov["dataset"], p_pi_max_late=prov["p_pi_max_late"]["value"])
    calib, _ = sm_calibration(
        meas, seed=int(prov.get("sm_calibration_seed", seed)), n_events=int(prov["sm_n_events"]), data=data
    )
    param = result["parameter"]
    value = result.get("value_at_point") or result["extras"]["reference"]
    sig = evtgen.generate(channel, n_events, seed=seed, frame="lab", **{opt: mass})
    sm = evtgen.generate("k2pinunu", n_events, seed=seed, frame="lab")
    br_sig = evtgen.rate(channel, **{opt: mass}, couplings={param: value}).br
    edges = np.linspace(-0.01, 0.09, 51)
    h_sig, h_sm = np.zeros(len(edges) - 1), np.zeros(len(edges) - 1)
    for sub, c in zip(meas.subsets, calib):
        for events, br, h in ((sig, br_sig, h_sig), (sm, meas.sm_br, h_sm)):
            r = na62.reconstruct(events, seed=seed, p_pi_window=sub.p_pi_window)
            w = np.full(len(events), c.nk_eps * br / len(events))
            hh, _ = np.histogram(r["m2_miss"][r["selected"]], bins=edges, weights=w[r["selected"]])
            h += hh
    card = na62.load_card()["regions"]

    @hep_style
    def draw() -> str:
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
        ax.set_title(f"NA62 {meas.dataset} emulation (selected)", fontsize=14)
        ax.legend(fontsize=11, loc="upper right")
        return str(save_figure(fig, path, dpi=110))

    return draw()


def plot_scan(path: str, results: Sequence[dict[str, Any] | Result]) -> str:
    """|C_S^sd| (or BR) 95% CL limit and the 68/95% window band versus the mass, one panel per
    data set, from recast results (``Result`` or ``Result.as_dict()``)."""
    import matplotlib.pyplot as plt

    from .plotting import hep_style

    rows = [r.as_dict() if isinstance(r, Result) else r for r in results]
    if not rows:
        raise PhiphiError("no scan results to plot")
    check_png(path)
    opt = "mphi" if "mphi" in rows[0] else "mx"
    param = rows[0]["parameter"]
    by_set: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_set.setdefault(str(r["provenance"].get("dataset", "?")), []).append(r)
    nan = float("nan")

    def col(rs, key, i=None):
        out = []
        for r in rs:
            v = r.get(key)
            if i is not None:
                v = None if v is None else v[i]
            out.append(nan if v is None else v)
        return np.array(out, float)

    @hep_style
    def draw() -> str:
        fig, axes = plt.subplots(1, len(by_set), figsize=(8 * len(by_set), 6), squeeze=False, sharey=True)
        for ax, (name, rs) in zip(axes[0], sorted(by_set.items())):
            rs = sorted(rs, key=lambda r: r[opt])
            m = np.array([r[opt] for r in rs])
            ul, exp = col(rs, "upper_limit_95"), col(rs, "expected_upper_limit_95")
            lo68, hi68, lo95, hi95 = (
                col(rs, "interval_68", 0),
                col(rs, "interval_68", 1),
                col(rs, "interval_95", 0),
                col(rs, "interval_95", 1),
            )
            finite = np.concatenate([ul[np.isfinite(ul)], exp[np.isfinite(exp)]])
            top = 10 * finite.max() if finite.size else 1.0
            bottom = 0.05 * finite.min() if finite.size else 1e-3
            if np.isfinite(ul).any():
                ax.fill_between(m, ul, top, color="grey", alpha=0.4, label="excluded (95% CL)")
                ax.plot(m, ul, color="k")
            ax.plot(m, exp, color="k", ls="--", label="expected 95% CL")
            ax.fill_between(m, np.maximum(lo95, bottom), hi95, color="gold", alpha=0.8, label="fills the window, 95%")
            ax.fill_between(
                m, np.maximum(lo68, bottom), hi68, color="limegreen", alpha=0.8, label="fills the window, 68%"
            )
            blind = np.array([not r["sensitivity"] for r in rs])
            if blind.any():
                ax.fill_between(m, bottom, top, where=blind, color="tab:red", alpha=0.1, label="no sensitivity")
            ax.set_yscale("log")
            ax.set_ylim(bottom, top)
            ax.set_xlabel(r"$m_\phi$ [GeV]" if opt == "mphi" else r"$m_X$ [GeV]")
            ax.set_title(f"NA62 {name}", fontsize=14)
            ax.legend(fontsize=10, loc="upper left")
        axes[0][0].set_ylabel(
            r"$|C_S^{sd}|$ [GeV$^{-1}$] ($\frac{1}{2}$ convention)" if param == "CS_sd" else r"BR($K^+\to\pi^+X$)"
        )
        return str(save_figure(fig, path, dpi=110))

    return draw()


#: the data sets of the per-data-set plots (all three the data file offers)
PLOT_DATASETS: tuple[str, ...] = ("2016-18", "2016-22", "2016-24")


def plot_datasets(
    path: str,
    masses: Sequence[float],
    *,
    datasets: Sequence[str] = PLOT_DATASETS,
    seed: int = DEFAULT_SEED,
    coupling: float = 1e-11,
    **options: Any,
) -> tuple[str, list[Result]]:
    """|C_S^sd| 95% CL limit and the 68/95% window band versus m_phi, one panel per data set
    (default: 2016-18, 2016-22, 2016-24): runs the recast at each mass (``options`` as for
    :func:`recast`, e.g. ``sm_n_events``) and draws :func:`plot_scan`. Returns the PNG path
    and the results."""
    from evtgen.model import model_point

    from . import registry

    check_png(path)
    known = registry.get(ANALYSIS).data()["datasets"]
    for ds in datasets:
        if ds not in known:
            raise PhiphiError(f"unknown NA62 data set {ds!r}; choose from {', '.join(known)}")
    if not masses:
        raise PhiphiError("plot_datasets needs at least one m_phi")
    results = [
        registry.recast(
            ANALYSIS, model_point(mphi=float(m), couplings={"CS_sd": coupling}, seed=seed), dataset=ds, **options
        )
        for ds in datasets
        for m in masses
    ]
    return plot_scan(path, results), results


def split_by_region(data: dict[str, Any], dataset: str, observed_sr1: int) -> dict[str, Any]:
    """A copy of the data file with data set ``dataset``'s one Regions 1+2 count split into a
    Region-1 and a Region-2 category: ``observed_sr1`` candidates in Region 1 (the rest in
    Region 2) and the background (and its errors) shared like the emulated SM expectation.
    ASSUMED split (NA62's per-region numbers were not available), for studying how much the
    one-count result depends on it; the categories say so in their ``status``."""
    import copy

    meas = load_measurement(data, dataset)
    if len(meas.categories) != 1 or set(meas.categories[0].regions) != {"sr1", "sr2"}:
        raise PhiphiError(f"NA62 {dataset}: split_by_region needs one Regions 1+2 category")
    n = meas.categories[0].observed
    if not 0 <= int(observed_sr1) <= n:
        raise PhiphiError(f"observed_sr1 = {observed_sr1!r}: must be an integer in [0, {n}]")
    calib, sm_acc = sm_calibration(meas, seed=CALIBRATION_SEED, n_events=option_default(data, "sm_n_events"), data=data)
    sm1, sm2 = (sum(c.nk_eps * a.fraction((r,)) for c, a in zip(calib, sm_acc)) for r in ("sr1", "sr2"))
    share = sm1 / (sm1 + sm2)
    out = copy.deepcopy(data)
    cat = out["datasets"][dataset]["categories"][0]
    cats = []
    for name, n_r, f in (("SR1", int(observed_sr1), share), ("SR2", n - int(observed_sr1), 1.0 - share)):
        c = copy.deepcopy(cat)
        bkg = {k: (v * f if isinstance(v, (int, float)) and k != "status" else v) for k, v in cat["background"].items()}
        bkg["status"] = f"assumed: total shared like the emulated SM expectation (Region 1 share {share:.3f})"
        c.update(
            name=name,
            regions=[name.lower()],
            observed={"value": n_r, "status": "assumed split of the published total"},
            background=bkg,
        )
        cats.append(c)
    out["datasets"][dataset]["categories"] = cats
    return out
