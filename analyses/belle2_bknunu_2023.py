"""Recast of Belle II B+ -> K+ nu nubar (362 fb^-1, arXiv:2311.14647) with the released
likelihood and signal maps (arXiv:2507.12393, HEPData 10.17182/hepdata.166082).

Registered by the header of ``analyses/data/belle2_bknunu_2023.yaml`` (name ``belle2``);
:func:`recast` is the entry point the registry calls.

The new physics (B+ -> K+ phi phi with |C_S^sb|, or B+ -> K+ X with BR) is a new sample
``new_physics`` with its own normalisation ``mu_np`` added to the ITA (A, B) and HTA channels
of the released pyhf workspace; the SM signal is held at its prediction (``mu = 1``) and every
other parameter is profiled. NP yields per analysis bin come from folding the NP spectrum
through the released number densities (default, ``method="fold"``) or from emulated events
(``method="events"``, ``detector.belle2``).

The NP sample carries the signal's detector systematics (histosys scaled bin by bin to the
NP yield, and the HTA normsys) and shares the signal's MC-statistics gammas (staterror; the
maps reweight the same simulated events, so the fluctuation is common and the relative error
is kept); it does not carry the SM signal's form-factor histosys (``corr_ff_*``: those describe
the SM f+ shape, not the NP spectrum), but its own normalisation uncertainty ``np_formfactor``
(Gaussian-constrained normsys): the spread of the folded NP yield over the published
form-factor covariance (GRvDV 2023 f0 for b2kphiphi; none for b2kx, whose BR is the input).
The form-factor effect on the NP *shape* across bins is not included.

B+ -> K+ X: X is narrow (``width = 0``) or a relativistic Breit-Wigner in q2 of total width
``width``; the map is read as a smooth function of true q2 (Gaussian-kernel regression over
the map bins, ``smoothing`` GeV^2, default 0.5, derived) instead of a delta function in one
0.229 GeV^2 bin, so the map's MC fluctuations no longer make the result jump between
neighbouring masses. ``smoothing = 0`` and ``width = 0`` is the old single-bin treatment.

Statistics: the one engine, :func:`analyses.stats.fit`, on -2 ln L(mu_np) with everything
else profiled by :mod:`analyses.belle2_likelihood` (the same likelihood as pyhf, 250x
faster): best fit, 68/95% profile intervals, CLs (q~mu, asymptotic, Asimov from the
background + SM fit) — validated against pyhf in ``tests/test_stats_belle2_pyhf.py``.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from evtgen.errors import PhiphiError
from evtgen.model import ModelPoint, model_point

from . import stats
from .result import Result, from_fit, no_sensitivity

ANALYSIS = "belle2"
MODULE_DATA = "belle2_bknunu_2023.yaml"
#: channel -> parameter reported (the data file's header says the same; checked in the tests)
PARAMETERS = {"b2kphiphi": "CS_sb", "b2kx": "br"}
NP_SAMPLE = "new_physics"
NP_POI = "mu_np"
#: normsys of the NP yield from the hadronic form factor (its size is set per mass point)
NP_FF = "np_formfactor"
SM_POI = "mu"
MU_NP_MAX = 200.0
#: (channel-name prefix, SM signal sample, number of bins) in the order of the map rows
SIGNAL_CHANNELS = (("A__", "signal", 9), ("B__", "signal", 3), ("sgn1_had", "sgn_1_had", 6))
REGIONS = ("ita_A", "ita_B", "hta")


def _data_dir() -> Path:
    return Path(str(resources.files("analyses") / "data"))


@functools.cache
def data_file() -> dict[str, Any]:
    """The parsed data file ``analyses/data/belle2_bknunu_2023.yaml`` (cached; do not mutate)."""
    import yaml

    with (_data_dir() / MODULE_DATA).open() as fh:
        return yaml.safe_load(fh)


# ---------------------------------------------------------------------------------------
# workspace
# ---------------------------------------------------------------------------------------
def load_workspace(path: str | Path | None = None) -> dict:
    """The released workspace (or the file ``path``), checked to be a usable pyhf workspace."""
    import pyhf

    p = Path(path) if path is not None else _data_dir() / data_file()["workspace"]["file"]
    try:
        spec = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise PhiphiError(
            f"cannot read likelihood {str(p)!r}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None
    try:
        pyhf.Workspace(spec)
    except Exception as exc:
        msg = str(exc).splitlines()[0][:200]
        raise PhiphiError(f"{str(p)!r} is not a pyhf workspace: {type(exc).__name__}: {msg}") from None
    names = [c["name"] for c in spec["channels"]]
    for prefix, sample, nbins in SIGNAL_CHANNELS:
        ch = [c for c in spec["channels"] if c["name"].startswith(prefix)]
        if len(ch) != 1 or sample not in [s["name"] for s in ch[0]["samples"]]:
            raise PhiphiError(
                f"{str(p)!r} is not the Belle II B+ -> K+ nu nubar workspace: no channel {prefix}* with sample {sample!r} (channels: {', '.join(names)})"
            )
        if len(ch[0]["samples"][0]["data"]) != nbins:
            raise PhiphiError(
                f"{str(p)!r}: channel {ch[0]['name']} has {len(ch[0]['samples'][0]['data'])} bins, expected {nbins}"
            )
    return spec


def _signal_channel_names(spec: dict) -> list[str]:
    return [
        next(c["name"] for c in spec["channels"] if c["name"].startswith(prefix)) for prefix, _, _ in SIGNAL_CHANNELS
    ]


def add_np_sample(spec: dict, yields: Sequence[np.ndarray]) -> dict:
    """A copy of ``spec`` with the new-physics sample (normfactor ``mu_np``, the signal's
    detector systematics scaled to ``yields``) in the signal channels, ``mu`` fixed at 1 and
    ``mu_np`` the parameter of interest. ``yields``: (A, B, HTA) arrays."""
    out = copy.deepcopy(spec)
    for cname, (_prefix, sig_name, _nbins), y in zip(_signal_channel_names(spec), SIGNAL_CHANNELS, yields):
        ch = next(c for c in out["channels"] if c["name"] == cname)
        sig = next(s for s in ch["samples"] if s["name"] == sig_name)
        nom = np.asarray(sig["data"], float)
        y = np.asarray(y, float)
        ratio = np.divide(y, nom, out=np.zeros_like(y), where=nom > 0)
        mods: list[dict[str, Any]] = [
            {"type": "normfactor", "name": NP_POI, "data": None},
            {"type": "normsys", "name": NP_FF, "data": {"hi": 1.05, "lo": 0.95}},
        ]
        for m in sig["modifiers"]:
            if m["type"] == "histosys" and not m["name"].startswith("corr_ff"):
                hi = np.asarray(m["data"]["hi_data"], float)
                lo = np.asarray(m["data"]["lo_data"], float)
                mods.append(
                    {
                        "type": "histosys",
                        "name": m["name"],
                        "data": {"hi_data": list(y + (hi - nom) * ratio), "lo_data": list(y + (lo - nom) * ratio)},
                    }
                )
            elif m["type"] == "normsys":
                mods.append(copy.deepcopy(m))
            elif m["type"] == "staterror":
                # the NP yields reweight the same simulated events as the SM template, so their
                # MC fluctuation is the same one: share the signal's gamma, with data chosen so
                # that pyhf's quadrature combination keeps the signal's relative error
                err = np.asarray(m["data"], float)
                rel = np.divide(err, nom, out=np.zeros_like(err), where=nom > 0)
                mods.append(
                    {
                        "type": "staterror",
                        "name": m["name"],
                        "data": list(np.sqrt(np.maximum((rel * (nom + y)) ** 2 - err**2, 0.0))),
                    }
                )
        ch["samples"].append({"name": NP_SAMPLE, "data": list(y), "modifiers": mods})
    meas = out["measurements"][0]
    meas["config"]["poi"] = NP_POI
    meas["config"]["parameters"] = [
        {"name": SM_POI, "fixed": True, "inits": [1.0]},
        {"name": NP_POI, "bounds": [[0.0, MU_NP_MAX]], "inits": [1.0]},
    ]
    out["measurements"] = [meas]
    return out


# ---------------------------------------------------------------------------------------
# NP yields
# ---------------------------------------------------------------------------------------
def _channel(channel: str | None):
    import evtgen

    channel = channel or "b2kphiphi"
    if channel == "b2kstarphiphi":
        raise PhiphiError(
            "channel b2kstarphiphi (CP_sb) is not supported by the Belle II recast: the released maps are for B+ -> K+ only (use belle2017 or babar2013)"
        )
    if channel not in PARAMETERS:
        raise PhiphiError(
            f"channel {channel!r} is not supported by the Belle II recast; choose one of {', '.join(PARAMETERS)}"
        )
    return channel, evtgen.channel(channel)


@dataclass(frozen=True)
class YieldMap:
    """Expected events per unit branching ratio generated in each true-q2 bin of the maps,
    y[i, j] = N[i, j] / B_SM,j, on bins of width ``width`` centred at ``centres``."""

    centres: np.ndarray  # (n,) GeV^2
    width: float  # GeV^2
    y_ita: np.ndarray  # (12, n)
    y_hta: np.ndarray  # (6, n)

    @classmethod
    def released(cls) -> YieldMap:
        """The map of the released number densities (detector.belle2.response)."""
        from detector.belle2 import response

        r = response()
        e = r.q2_edges
        return cls(
            0.5 * (e[1:] + e[:-1]), float(e[1] - e[0]), r.n_ita[:, 1:] / r.br_sm_bins, r.n_hta[:, 1:] / r.br_sm_bins
        )

    def shifted_half_bin(self) -> YieldMap:
        """The same map re-binned on edges shifted by half a bin (piecewise-constant map
        integrated over the new bins): the test of a result's dependence on the bin edges."""
        return YieldMap(
            0.5 * (self.centres[1:] + self.centres[:-1]),
            self.width,
            0.5 * (self.y_ita[:, 1:] + self.y_ita[:, :-1]),
            0.5 * (self.y_hta[:, 1:] + self.y_hta[:, :-1]),
        )

    def at(self, q2: np.ndarray, smoothing: float) -> tuple[np.ndarray, np.ndarray]:
        """Events per unit BR at true ``q2`` (array): Gaussian-kernel (Nadaraya-Watson)
        regression over the bins with sigma ``smoothing`` GeV^2; ``smoothing = 0``: the bin
        containing q2 (the raw map). Zero outside the map's q2 range."""
        q2 = np.atleast_1d(np.asarray(q2, float))
        lo, hi = self.centres[0] - 0.5 * self.width, self.centres[-1] + 0.5 * self.width
        inside = (q2 >= lo) & (q2 <= hi)
        if smoothing <= 0:
            j = np.clip(((q2 - lo) / self.width).astype(int), 0, len(self.centres) - 1)
            w = np.zeros((len(q2), len(self.centres)))
            w[np.arange(len(q2)), j] = 1.0
        else:
            w = np.exp(-0.5 * ((q2[:, None] - self.centres[None, :]) / smoothing) ** 2)
            w /= w.sum(axis=1, keepdims=True)
        w *= inside[:, None]
        return self.y_ita @ w.T, self.y_hta @ w.T


def x_lineshape(mx: float, width: float, q2_max: float, n: int = 4001) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights in q2 (summing to 1) of an X of mass ``mx`` and total width
    ``width`` (GeV): a relativistic Breit-Wigner 1/((q2 - m^2)^2 + m^2 Gamma^2) truncated to
    the kinematic range [0, q2_max]; a single node at m^2 for ``width = 0``."""
    if width < 0:
        raise PhiphiError(f"width = {width:g} GeV must be >= 0")
    m2 = mx * mx
    if width == 0.0:
        return np.array([m2]), np.array([1.0])
    # nodes uniform in the Breit-Wigner's arctan variable: dense at the peak, exact weights
    mg = max(mx, 1e-3) * width
    a_lo, a_hi = np.arctan((0.0 - m2) / mg), np.arctan((q2_max - m2) / mg)
    t = np.linspace(a_lo, a_hi, n + 1)
    tm = 0.5 * (t[1:] + t[:-1])
    return m2 + mg * np.tan(tm), np.full(n, 1.0 / n)


def br_per_q2_bin(channel: str, mass: float, couplings: dict | None = None) -> np.ndarray:
    """Branching ratio of the NP channel in each generated-q2 bin of the maps (100,);
    b2kx: a narrow X in the bin holding m_X^2 (the single-bin treatment)."""
    from detector.belle2 import response
    from evtgen import constants as C
    from evtgen import spectra

    channel, ch = _channel(channel)
    resp = response()
    m = ch.check_mass(mass)
    cpl = ch.resolve_couplings(couplings)
    out = np.zeros(len(resp.br_sm_bins))
    if channel == "b2kx":
        out[resp.q2_bin(m * m)] = cpl["br"]
        return out
    par = ch.spectrum_par(m, cpl)
    gamma_b = C.total_width(ch.parent)
    e = resp.q2_edges
    for j in range(len(out)):
        out[j] = spectra.integrate(ch.kind, par, float(e[j]), float(e[j + 1]), n_panels=2) / gamma_b
    return out


def two_body_yields(
    mx: float, br: float, *, width: float = 0.0, smoothing: float = 0.5, ymap: YieldMap | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Expected (ITA[12], HTA[6]) yields of B+ -> K+ X with branching ratio ``br``: the X
    line shape (:func:`x_lineshape`) integrated against the smoothed map (:meth:`YieldMap.at`)."""
    from evtgen import constants as C

    ymap = ymap or YieldMap.released()
    q2_max = (C.mass("B+") - C.mass("K+")) ** 2
    lo, hi = ymap.centres[0] - 0.5 * ymap.width, ymap.centres[-1] + 0.5 * ymap.width
    if width == 0.0 and not lo <= mx * mx <= hi:
        raise PhiphiError(f"q2 = m_X^2 = {mx * mx:g} GeV^2 is outside the map range [{lo:g}, {hi:g}] GeV^2")
    nodes, weights = x_lineshape(mx, width, q2_max)
    ita, hta = ymap.at(nodes, smoothing)
    return br * (ita @ weights), br * (hta @ weights)


def folded_yields(
    channel: str, mass: float, couplings: dict | None = None, *, width: float = 0.0, smoothing: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Expected NP (ITA[12], HTA[6]) yields: sum_j N[i, j] B_NP,j / B_SM,j for a spectrum;
    for b2kx :func:`two_body_yields` (``smoothing`` None: the data file's default)."""
    from detector.belle2 import response

    channel, ch = _channel(channel)
    if channel == "b2kx":
        cpl = ch.resolve_couplings(couplings)
        sm = float(data_file()["b2kx"]["smoothing_default"]["value"]) if smoothing is None else smoothing
        return two_body_yields(ch.check_mass(mass), cpl["br"], width=width, smoothing=sm)
    return response().fold(br_per_q2_bin(channel, mass, couplings))


def formfactor_rel_error(channel: str, mass: float, couplings: dict | None = None) -> float:
    """Relative standard deviation of the folded NP yield (ITA + HTA) over the published
    form-factor covariance (the draws evtgen uses for its rate errors); 0 for b2kx."""
    from detector.belle2 import GL8, response
    from evtgen import spectra

    channel, ch = _channel(channel)
    if channel == "b2kx":
        return 0.0
    resp = response()
    m = ch.check_mass(mass)
    cpl = ch.resolve_couplings(couplings)
    nodes, weights = GL8
    e = resp.q2_edges
    half = 0.5 * (e[1:] - e[:-1])
    q2 = ((e[:-1] + e[1:])[:, None] * 0.5 + half[:, None] * nodes[None, :]).ravel()
    per_bin = (resp.n_ita[:, 1:].sum(axis=0) + resp.n_hta[:, 1:].sum(axis=0)) / resp.br_sm_bins

    def total(ff) -> float:
        f = spectra.dgamma_dq2_array(ch.kind, q2, ch.spectrum_par(m, cpl, ff)).reshape(len(half), -1)
        return float(per_bin @ ((f * weights).sum(axis=1) * half))

    ff_draws, tails = _ff_draw_tails(channel)
    o = spectra.FF_OFFSET
    head = ch.spectrum_par(m, cpl)[:o]

    def fold(rows: np.ndarray) -> np.ndarray:  # the folded total of each row of spectrum parameters
        f = _dgamma_draws()(ch.kind, q2, np.ascontiguousarray(rows)).reshape(len(rows), len(half), -1)
        return ((f * weights).sum(axis=2) * half) @ per_bin

    pars = np.concatenate([np.broadcast_to(head, (len(tails), o)), tails], axis=1)
    if not np.array_equal(pars[0], ch.spectrum_par(m, cpl, ff_draws[0])):  # not the known layout: one by one
        draws = np.array([total(ff) for ff in ff_draws])
    else:
        # the spectrum is quadratic in the form-factor coefficients that vary between the
        # draws (|f|^2, f linear in them): the folded total of each draw is a^T Q a, with Q
        # from k(k+1)/2 spectra instead of one per draw; checked against two draws folded
        # directly (else every draw is folded)
        var = np.where(np.ptp(tails, axis=0) > 0)[0]
        pairs = [(i, j) for i in range(len(var)) for j in range(i, len(var))]
        rows = np.repeat(pars[:1], len(pairs), axis=0)
        rows[:, o + var] = 0.0
        for r, (i, j) in enumerate(pairs):
            rows[r, o + var[i]] += 1.0
            rows[r, o + var[j]] += 1.0
        t = dict(zip(pairs, fold(rows)))
        q = np.empty((len(var), len(var)))
        for i, j in pairs:  # t(i, i) = 4 Q_ii, t(i, j) = Q_ii + Q_jj + 2 Q_ij
            q[i, j] = q[j, i] = 0.25 * t[(i, i)] if i == j else 0.5 * (t[(i, j)] - 0.25 * (t[(i, i)] + t[(j, j)]))
        a_var = tails[:, var]
        draws = np.einsum("di,ij,dj->d", a_var, q, a_var)
        if not np.allclose(fold(pars[:2]), draws[:2], rtol=1e-10, atol=0.0):
            draws = fold(pars)
    return float(np.std(draws, ddof=1) / total(None))


@functools.cache
def _ff_draw_tails(channel: str) -> tuple[list, np.ndarray]:
    """The form-factor draws of ``channel`` and the form-factor part of the spectrum
    parameters of each (the entries from ``spectra.FF_OFFSET`` on, after [M, m, m_inv, norm],
    which do not depend on the mass or the couplings; checked against the full parameters at
    each use)."""
    _, ch = _channel(channel)
    draws = list(ch.ff_draws())
    mass = 0.5 * ch.mass_limit()
    cpl = ch.resolve_couplings(None)
    from evtgen import spectra

    n_tail = len(ch.spectrum_par(mass, cpl)) - spectra.FF_OFFSET
    tails = [ch.spectrum_par(mass, cpl, ff)[spectra.FF_OFFSET :] for ff in draws]
    return draws, np.array(tails).reshape(len(draws), n_tail)


@functools.cache
def _dgamma_draws():
    """dGamma/dq2 at q2 for each row of parameters (numba, compiled once)."""
    import numba

    from evtgen import spectra

    @numba.njit(cache=True)
    def dgamma_draws(kind, q2, pars):  # pragma: no cover - compiled
        out = np.empty(pars.shape[0] * q2.shape[0])
        for d in range(pars.shape[0]):
            for i in range(q2.shape[0]):
                out[d * q2.shape[0] + i] = spectra.dgamma_dq2(kind, q2[i], pars[d])
        return out

    return dgamma_draws


def event_yields(
    channel: str, mass: float, couplings: dict | None = None, *, n_events: int = 200_000, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """NP (ITA, HTA) yields from emulated events, with their MC standard errors:
    (count_i / N) x 2 f_+- N_BB x BR_NP."""
    import evtgen
    from detector import belle2

    channel, ch = _channel(channel)
    kw = {"mphi": mass} if channel == "b2kphiphi" else {"mx": mass}
    br = evtgen.rate(channel, couplings=couplings, **kw).br
    events = evtgen.generate(channel, n_events, couplings=couplings, seed=seed, **kw)
    sim = belle2.simulate(events, seed=seed)
    scale = belle2.response().n_b_plus * br / n_events
    out = []
    for field, nb in (("ita_bin", belle2.N_ITA), ("hta_bin", belle2.N_HTA)):
        b = np.asarray(sim[field])
        counts = np.bincount(b[b >= 0], minlength=nb).astype(float)
        out += [counts * scale, np.sqrt(counts * (1 - counts / n_events)) * scale]
    return out[0], out[2], out[1], out[3]


# ---------------------------------------------------------------------------------------
# the likelihood with the NP sample
# ---------------------------------------------------------------------------------------
class Belle2Likelihood:
    """The released likelihood plus an NP sample whose yields can be swapped cheaply."""

    def __init__(self, spec: dict | None = None) -> None:
        import pyhf

        from .belle2_likelihood import FastLikelihood

        self.spec = spec if spec is not None else load_workspace()
        placeholder = [
            np.asarray(
                next(s for c in self.spec["channels"] if c["name"] == cn for s in c["samples"] if s["name"] == sn)[
                    "data"
                ],
                float,
            )
            for cn, (_, sn, _) in zip(_signal_channel_names(self.spec), SIGNAL_CHANNELS)
        ]
        self.sm_yields = placeholder
        np_spec = add_np_sample(self.spec, placeholder)
        # the spec was validated by load_workspace and the NP sample is ours: pyhf's JSON-schema
        # validation of the extended spec (~0.6 s per call) would only repeat that
        ws = pyhf.Workspace(np_spec, validate=False)
        self.model = ws.model(validate=False)
        data = np.asarray(ws.data(self.model), float)
        self.fast = FastLikelihood(np_spec, self.model)
        self.main = data[: self.fast.nbins]
        self.poi = self.fast.poi_index
        self.channels = _signal_channel_names(self.spec)
        self.channel_slices = {c: (s.start, s.stop) for c, s in self.model.config.channel_slices.items()}
        self._rel = []
        for cn, y in zip(self.channels, placeholder):
            rows = self.fast.rows_of(cn, NP_SAMPLE)
            self._rel.append((self.fast.hist_up[:, rows] / y, self.fast.hist_dn[:, rows] / y))
        # the null fit (mu_np = 0): Newton from the suggested start (-2 ln L to ~1e-12, as every
        # profile fit); TNC twice (before and after preconditioning) if Newton cannot finish
        newton = self.fast.newton_fit(self.main, fixed={self.poi: 0.0})
        start = newton[0].pars if newton is not None else self.fast.fit(self.main, fixed={self.poi: 0.0}).pars
        self.fast.precondition(start, self.main)
        self.fast.scale[self.poi] = 0.5  # mu_np is O(1) by construction (see recast_point)
        if newton is not None:
            self.null = newton[0]
        else:
            self.null = self.fast.fit(self.main, fixed={self.poi: 0.0}, init=start)
            polished = self.fast.newton_fit(self.main, fixed={self.poi: 0.0}, init=self.null.pars)
            if polished is not None:
                self.null = polished[0]
        self.asimov_main = self.fast.expected_data(self.null.pars)
        self.asimov_aux = self.fast.aux.copy()
        c = self.fast.constrained
        self.asimov_aux[c] = self.null.pars[c]
        # the Asimov data are the expectation at the null parameters, so those maximise it
        self.asimov_null_nll = -2.0 * self.fast.logpdf_and_grad(self.null.pars, self.asimov_main, self.asimov_aux)[0]
        self.n_fits = 1

    def for_workers(self) -> Belle2Likelihood:
        """A copy without the pyhf objects (the workspace dict and the pyhf model, which only
        building the likelihood needs): what a scan ships to its Dask workers, so that they
        neither rebuild it nor import pyhf. Every fit and every result is the same with it."""
        new = copy.copy(self)
        new.spec = new.model = None
        new.fast = copy.copy(self.fast)
        new.fast.model = None
        return new

    def fork(self) -> Belle2Likelihood:
        """A copy whose NP yields can be changed without touching this one (the shared
        cached likelihood is never modified, so concurrent recasts cannot interfere)."""
        new = copy.copy(self)
        new.fast = copy.copy(self.fast)
        for name in ("nominal", "hist_up", "hist_dn", "norm_lu", "norm_ld", "norm_coef"):
            setattr(new.fast, name, getattr(self.fast, name).copy())
        new.n_fits = 0
        return new

    def set_np(self, ita: np.ndarray, hta: np.ndarray, ff_rel: float = 0.0) -> None:
        """Use these NP yields (ITA[12] in workspace order, HTA[6]) at mu_np = 1, with a
        relative form-factor uncertainty ``ff_rel`` on their normalisation."""
        for cn, y, (ru, rd) in zip(self.channels, (ita[:9], ita[9:12], hta), self._rel):
            self.fast.set_sample(cn, NP_SAMPLE, y, ru, rd)
            self.fast.set_normsys(NP_FF, cn, NP_SAMPLE, 1.0 + ff_rel, max(1.0 - ff_rel, 1e-3))

    def profile_fit(self, mu_np: float, *, asimov: bool = False, init: np.ndarray | None = None):
        """The fit at fixed mu_np, everything else profiled (a FitResult)."""
        return self.profile_fit_state(mu_np, asimov=asimov, init=init)[0]

    def profile_fit_state(
        self, mu_np: float, *, asimov: bool = False, init: np.ndarray | None = None, hint: Any = None
    ) -> tuple[Any, Any]:
        """The fit at fixed mu_np and its :class:`~analyses.belle2_likelihood.NewtonState`
        (None when it fell back to :meth:`FastLikelihood.fit`). Newton's method with the exact
        Hessian from ``init`` (``hint``: a neighbouring fit's state), converged to ~1e-12 in
        -2 ln L, so the result does not depend on the start; TNC/L-BFGS-B/minuit when Newton
        cannot finish (:meth:`FastLikelihood.newton_fit`)."""
        self.n_fits += 1
        main, aux = (self.asimov_main, self.asimov_aux) if asimov else (self.main, None)
        start = self.null.pars if init is None else init
        fixed = {self.poi: float(mu_np)}
        out = self.fast.newton_fit(main, fixed=fixed, init=start, aux=aux, track=self.poi, hint=hint)
        if out is None and init is not None:
            out = self.fast.newton_fit(main, fixed=fixed, init=self.null.pars, aux=aux, track=self.poi)
        if out is not None:
            return out
        res = self.fast.fit(main, fixed=fixed, init=start, aux=aux)
        polished = self.fast.newton_fit(main, fixed=fixed, init=res.pars, aux=aux, track=self.poi)
        return polished if polished is not None else (res, None)

    def profile(self, mu_np: float, *, asimov: bool = False, init: np.ndarray | None = None) -> float:
        """-2 ln L at fixed mu_np, everything else profiled."""
        return self.profile_fit(mu_np, asimov=asimov, init=init).twice_nll

    def best_fit(self):
        """The fit with mu_np free (bounded to [0, MU_NP_MAX])."""
        self.n_fits += 1
        init = self.null.pars.copy()
        init[self.poi] = 1.0
        return self.fast.fit(self.main, init=init)


class NPStrengthLikelihood:
    """The :class:`analyses.stats.SignalStrengthLikelihood` of the engine: -2 ln L(mu_np) for
    fixed NP yields, nuisances profiled (warm-started from the nearest fitted mu_np), on the
    data and on the background + SM Asimov data set."""

    def __init__(self, lik: Belle2Likelihood, ita: np.ndarray, hta: np.ndarray, ff_rel: float = 0.0) -> None:
        self.lik = lik
        lik.set_np(ita, hta, ff_rel)
        self.pars: dict[tuple[bool, float], np.ndarray] = {}
        self.states: dict[tuple[bool, float], Any] = {}

    def _fit(self, mu: float, asimov: bool) -> float:
        mu = float(mu)
        if mu == 0.0:  # the NP sample is off: the null fits are shared by all NP yields
            self.pars[(asimov, 0.0)] = self.lik.null.pars
            return self.lik.asimov_null_nll if asimov else self.lik.null.twice_nll
        done = [k[1] for k in self.states if k[0] == asimov]
        init, hint = None, None
        if done:  # warm start: the nearest fitted mu_np, moved along the profile's tangent
            near = min(done, key=lambda m: abs(m - mu))
            hint = self.states[(asimov, near)]
            init = self.pars[(asimov, near)].copy()
            if hint.slope is not None:
                init += (mu - near) * hint.slope
            init[self.lik.poi] = mu
        res, state = self.lik.profile_fit_state(mu, asimov=asimov, init=init, hint=hint)
        self.pars[(asimov, mu)] = res.pars
        if state is not None:
            self.states[(asimov, mu)] = state
        return res.twice_nll

    def twice_nll(self, mu: float) -> float:
        """-2 ln L at mu_np on the observed data."""
        return self._fit(mu, False)

    def twice_nll_asimov(self, mu: float) -> float:
        """-2 ln L at mu_np on the background + SM (mu_np = 0) Asimov data."""
        return self._fit(mu, True)

    def pars_at(self, mu: float) -> np.ndarray:
        """Fitted parameters at mu_np (fits if not yet done)."""
        if (False, float(mu)) not in self.pars:
            self.twice_nll(mu)
        return self.pars[(False, float(mu))]


@functools.lru_cache(maxsize=4)
def _likelihood(workspace: str | None = None) -> Belle2Likelihood:
    # per-process cache of the loaded likelihood (one null fit, ~1 s); recasts fork it
    return Belle2Likelihood(load_workspace(workspace) if workspace else None)


#: likelihoods a scan's client shipped to this process (:func:`use_scan_shared`), by workspace
_RECEIVED: dict[str | None, Belle2Likelihood] = {}


def _likelihood_for(workspace: str | None) -> Belle2Likelihood:
    got = _RECEIVED.get(workspace)
    return got if got is not None else _likelihood(workspace)


def _default_likelihood() -> Belle2Likelihood:
    return _likelihood_for(None)


@functools.lru_cache(maxsize=4)
def _shippable(workspace: str | None) -> Belle2Likelihood:
    return _likelihood_for(workspace).for_workers()


def scan_shared(options: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """What a scan (:mod:`analyses.scanning`) computes once in its client process and ships to
    every Dask worker: the likelihood with the NP sample (workspace, null fit, preconditioning;
    built once per process), so that no worker builds it again or imports pyhf. ``options``:
    the option dicts of the scan's points; None (each worker builds its own) if they name
    different workspaces."""
    workspaces = {o.get("workspace") for o in options} or {None}
    if len(workspaces) != 1:
        return None
    (workspace,) = workspaces
    return {"workspace": workspace, "likelihood": _shippable(workspace)}


def scan_warm_up() -> None:
    """What a scan's worker loads before its first point (:func:`analyses.scanning.warm_up`):
    the fitting modules, the released maps, the form-factor draws and the compiled spectra."""
    from . import belle2_likelihood  # noqa: F401  (numba, scipy)

    folded_yields("b2kphiphi", 1.0)
    formfactor_rel_error("b2kphiphi", 1.0)


def use_scan_shared(shared: dict[str, Any]) -> None:
    """Install in this (worker) process what :func:`scan_shared` computed in the client."""
    _RECEIVED[shared["workspace"]] = shared["likelihood"]


# ---------------------------------------------------------------------------------------
# signal regions as histograms
# ---------------------------------------------------------------------------------------
def region_histograms(lik: Belle2Likelihood, pars: np.ndarray, np_reference: Sequence[np.ndarray]) -> dict[str, Any]:
    """Per region (``ita_A``, ``ita_B``: eta(BDT2) x q2_rec; ``hta``: classifier bin) the
    expected ``new_physics`` (at ``pars``), ``new_physics_reference`` (mu_np = 1),
    ``sm`` (SM B+ -> K+ nu nu), ``background`` (all other samples) and the ``data``, as
    boost-histogram objects keyed ``"<region>:<component>"``; axes from the data file."""
    import boost_histogram as bh

    regions = data_file()["regions"]
    nu = lik.fast.expected_rows(np.asarray(pars, float))[0]
    out: dict[str, Any] = {}
    for (cname, (_, sig, nb)), region, ref in zip(zip(lik.channels, SIGNAL_CHANNELS), REGIONS, np_reference):
        parts: dict[str, np.ndarray] = {}
        total = np.zeros(nb)
        for c, s, a, b in lik.fast.samples:
            if c == cname:
                parts[s] = nu[a:b]
                total += nu[a:b]
        sl = slice(*lik.channel_slices[cname])
        comps = {
            "new_physics": parts[NP_SAMPLE],
            "new_physics_reference": np.asarray(ref, float),
            "sm": parts[sig],
            "background": total - parts[sig] - parts[NP_SAMPLE],
            "data": lik.main[sl],
        }
        cfg = regions[region]
        if "eta_bdt2_edges" in cfg:
            axes = (
                bh.axis.Variable(cfg["eta_bdt2_edges"], metadata="eta(BDT2)"),
                bh.axis.Variable(cfg["q2_rec_edges"], metadata="q2_rec [GeV^2]"),
            )
        else:
            axes = (bh.axis.Integer(0, int(cfg["n_bins"]), metadata="HTA classifier bin"),)
        shape = tuple(len(a) for a in axes)
        if int(np.prod(shape)) != nb:
            raise PhiphiError(f"region {region} of the data file has {np.prod(shape)} cells, the workspace {nb} bins")
        for name, values in comps.items():
            h = bh.Histogram(*axes, storage=bh.storage.Double())
            h.view()[...] = np.asarray(values, float).reshape(shape)
            out[f"{region}:{name}"] = h
    return out


# ---------------------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------------------
def _mass_of(point: ModelPoint, channel: str, ch) -> float:
    mass = point.masses.get(ch.mass_option)
    if mass is None:
        raise PhiphiError(f"channel {channel} needs --{ch.mass_option}")
    other = [k for k in point.masses if k != ch.mass_option]
    if other:
        raise PhiphiError(f"channel {channel} takes --{ch.mass_option}, not --{other[0]}")
    return ch.check_mass(mass)


def np_yields(
    point: ModelPoint,
    *,
    method: str = "fold",
    n_events: int | None = None,
    width: float = 0.0,
    smoothing: float | None = None,
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """NP yields (ITA[12], HTA[6]) at the point's own coupling, and their MC error (events)."""
    channel, ch = _channel(point.channel)
    mass = _mass_of(point, channel, ch)
    cpl = ch.resolve_couplings(point.couplings)
    if channel == "b2kphiphi" and (width or smoothing):
        raise PhiphiError("options width and smoothing apply to channel b2kx only")
    if method == "fold":
        ita, hta = folded_yields(channel, mass, cpl, width=width, smoothing=smoothing)
        return ita, hta, None
    if method == "events":
        if width or smoothing:
            raise PhiphiError("options width and smoothing apply to method=fold only (events use the map as is)")
        ita, hta, e_ita, e_hta = event_yields(
            channel, mass, cpl, n_events=int(n_events or 200_000), seed=1 if point.seed is None else int(point.seed)
        )
        return ita, hta, float(math.sqrt(np.sum(e_ita**2) + np.sum(e_hta**2)))
    raise PhiphiError(f"method {method!r} must be 'fold' or 'events'")


def recast(
    point: ModelPoint,
    *,
    data: dict | None = None,
    method: str | None = None,
    n_events: int | None = None,
    width: float | None = None,
    smoothing: float | None = None,
    limit: str = "cls",
    workspace: str | None = None,
    lik: Belle2Likelihood | None = None,
) -> Result:
    """Belle II recast at one model point (channel b2kphiphi: |C_S^sb| in GeV^-1, project
    convention; b2kx: BR). ``data``: the parsed data file (the registry passes it).
    ``method``: "fold" (default) or "events" (``n_events`` generated and emulated with the
    point's seed; giving ``n_events`` selects it). b2kx: ``width`` (GeV) and ``smoothing``
    (GeV^2) as in the module docstring. ``lik``: a likelihood to fork (a scan shares one)."""
    t0 = time.perf_counter()
    data = data or data_file()
    channel, ch = _channel(point.channel)
    point = point.replace(channel=channel) if point.channel is None else point
    parameter = PARAMETERS[channel]
    mass = _mass_of(point, channel, ch)
    cpl = ch.resolve_couplings(point.couplings)
    if cpl[parameter] == 0.0:
        raise PhiphiError(
            f"{parameter} = 0 gives no signal: give a non-zero reference value (the result does not depend on it)"
        )
    point = point.replace(couplings=cpl)
    if method is None:
        method = "events" if n_events else "fold"
    width = 0.0 if width is None else float(width)
    if channel == "b2kx" and smoothing is None and method == "fold":
        smoothing = float(data["b2kx"]["smoothing_default"]["value"])
    provenance: dict[str, Any] = {
        "workspace": workspace or data["workspace"]["file"],
        "workspace_source": data["workspace"]["source"],
        "maps": "detector/data/belle2/number_density_*.csv (Belle II arXiv:2507.12393)",
        "np_sample": data["new_physics"]["treatment"],
        "sm_signal": "SM B+ -> K+ nu nu fixed at its prediction (mu = 1)",
    }
    if channel == "b2kx" and method == "fold":
        provenance["b2kx_map"] = (
            f"X width {width:g} GeV (Breit-Wigner in q2), map smoothed in true q2 with a Gaussian kernel of "
            f"{smoothing:g} GeV^2 ({data['b2kx']['smoothing_default']['source'].strip()})"
        )
    try:
        ita, hta, mc_err = np_yields(point, method=method, n_events=n_events, width=width, smoothing=smoothing)
    except PhiphiError as exc:
        if "outside the map range" not in str(exc):
            raise
        return no_sensitivity(
            analysis=ANALYSIS, point=point, parameter=parameter, reason=str(exc), provenance=provenance
        )
    total = float(ita.sum() + hta.sum())
    if not total > 0:
        return no_sensitivity(
            analysis=ANALYSIS,
            point=point,
            parameter=parameter,
            reason=f"{channel} at {ch.mass_option} = {mass:g} GeV gives no events in the Belle II analysis bins",
            provenance=provenance,
        )
    base = (lik or _likelihood_for(workspace)).fork()
    sm_total = float(sum(y.sum() for y in base.sm_yields))
    scale = sm_total / total  # mu_np = 1 <=> as many NP as SM signal events
    reference = stats.to_parameter(scale, cpl[parameter], "quadratic" if parameter != "br" else "linear")
    scaling = "quadratic" if parameter != "br" else "linear"
    ff_rel = formfactor_rel_error(channel, mass, cpl)
    nps = NPStrengthLikelihood(base, ita * scale, hta * scale, ff_rel)
    fit = stats.fit(nps, mu_scale=1.0, method=limit)
    pars = nps.pars_at(fit.mu_hat)
    extras: dict[str, Any] = {
        "yields_best_fit": {"ita": float(ita.sum() * scale * fit.mu_hat), "hta": float(hta.sum() * scale * fit.mu_hat)},
        "yields_at_point": {"parameter_value": cpl[parameter], "ita": ita.tolist(), "hta": hta.tolist()},
        "formfactor_rel_error": ff_rel,
        "method": method,
        "n_fits": base.n_fits,
        "fit_seconds": time.perf_counter() - t0,
    }
    if mc_err is not None:
        extras["yield_mc_error"] = mc_err
    if channel == "b2kx":
        extras.update(width=width, smoothing=smoothing)
    res = from_fit(
        nps,
        fit,
        analysis=ANALYSIS,
        point=point,
        parameter=parameter,
        reference=reference,
        scaling=scaling,
        provenance=provenance,
        extras=extras,
        likelihood_form="released Belle II HistFactory workspace + NP sample (full likelihood, nuisances profiled)",
    )
    if parameter == "CS_sb" and res.best_fit is not None:
        from evtgen import constants as C
        from evtgen import spectra

        br_in = spectra.integrate(ch.kind, ch.spectrum_par(mass, cpl)) / C.total_width(ch.parent)
        res.extras["br_best_fit"] = br_in * (res.best_fit / cpl[parameter]) ** 2
    res.histograms = region_histograms(base, pars, (ita[:9] * scale, ita[9:] * scale, hta * scale))
    return res


def scan(
    masses: Sequence[float], *, channel: str = "b2kphiphi", couplings: dict | None = None, **options: Any
) -> list[Result]:
    """Results at each mass (m_phi for b2kphiphi, m_X for b2kx) with one likelihood for all
    (a convenience for the benchmarks and the B-window study; scans of the package go
    through ``analyses.registry.recast``)."""
    _, ch = _channel(channel)
    lik = _default_likelihood()
    return [
        recast(model_point(channel=channel, couplings=couplings, **{ch.mass_option: float(m)}), lik=lik, **options)
        for m in masses
    ]


def significance_scan(
    masses: Sequence[float], *, width: float = 0.0, smoothing: float = 0.5, ymap: YieldMap | None = None
) -> dict[str, np.ndarray]:
    """B+ -> K+ X: best-fit BR and local significance sqrt(2 Delta NLL(0)) versus m_X from
    one free fit per mass (fast: no intervals or limits). Returns arrays ``mx``, ``br``,
    ``significance``."""
    lik = _default_likelihood().fork()
    sm_total = float(sum(y.sum() for y in lik.sm_yields))
    br_out, sig_out = [], []
    for m in masses:
        ita, hta = two_body_yields(float(m), 1.0, width=width, smoothing=smoothing, ymap=ymap)
        scale = sm_total / float(ita.sum() + hta.sum())
        lik.set_np(ita * scale, hta * scale)
        best = lik.best_fit()
        br_out.append(float(best.pars[lik.poi]) * scale)
        sig_out.append(math.sqrt(max(lik.null.twice_nll - best.twice_nll, 0.0)))
    return {"mx": np.asarray(masses, float), "br": np.array(br_out), "significance": np.array(sig_out)}


class ReleasedLikelihood:
    """The released workspace as published (POI ``mu``, the SM signal strength) for the
    engine: -2 ln L(mu) profiled, on the data and on the mu = 0 Asimov data."""

    def __init__(self, spec: dict | None = None) -> None:
        import pyhf

        from .belle2_likelihood import FastLikelihood

        self.spec = spec if spec is not None else load_workspace()
        ws = pyhf.Workspace(self.spec)
        self.model = ws.model()
        self.fast = FastLikelihood(self.spec, self.model)
        self.main = np.asarray(ws.data(self.model), float)[: self.fast.nbins]
        self.poi = self.fast.poi_index
        self.fast.precondition(self.fast.init, self.main)
        self.best = self.fast.fit(self.main)
        self.null = self.fast.fit(self.main, fixed={self.poi: 0.0}, init=self.best.pars)
        self.asimov_main = self.fast.expected_data(self.null.pars)
        self.asimov_aux = self.fast.aux.copy()
        c = self.fast.constrained
        self.asimov_aux[c] = self.null.pars[c]

    def twice_nll(self, mu: float) -> float:
        """-2 ln L at fixed mu on the data."""
        if mu == 0.0:
            return self.null.twice_nll
        return self.fast.fit(self.main, fixed={self.poi: float(mu)}, init=self.best.pars).twice_nll

    def twice_nll_asimov(self, mu: float) -> float:
        """-2 ln L at fixed mu on the background-only (mu = 0) Asimov data."""
        fixed = {self.poi: float(mu)}
        return self.fast.fit(self.asimov_main, fixed=fixed, init=self.null.pars, aux=self.asimov_aux).twice_nll


def fit_released(spec: dict | None = None) -> dict[str, Any]:
    """Fit of the workspace as released (POI mu, SM signal shape) through the engine: mu_hat,
    its Hessian error, the profile-likelihood 68% interval, the CLs 95% upper limit and
    B = mu x B_SM(template)."""
    from detector.belle2 import card

    rl = ReleasedLikelihood(spec)
    fit = stats.fit(rl, mu_scale=1.0, method="cls")
    err = rl.fast.hessian_error(rl.main, rl.best.pars, rl.poi)
    br_sm = float(card()["br_sm_template"]["value"])
    return {
        "mu_hat": fit.mu_hat,
        "mu_err_hesse": err,
        "mu_68": list(fit.interval_68),
        "mu_95": list(fit.interval_95),
        "mu_ul95_cls": fit.upper_limit_95,
        "significance": fit.significance,
        "twice_nll": fit.twice_nll_best,
        "twice_nll_mu0": fit.twice_nll_null,
        "br": fit.mu_hat * br_sm,
        "br_err": err * br_sm,
    }


def rate_window(
    mphi: float,
    *,
    br_measured: tuple[float, float] = (2.3e-5, 0.7e-5),
    br_sm: float = 4.966e-6,
    efficiency: str = "ita",
) -> dict[str, Any]:
    """The papers' method (He-Ma-Valencia arXiv:2309.12741, He-Ma-Schmidt-Valencia-Volkas
    arXiv:2403.12485, as the seed talk describes it): the NP window Delta B = B_measured - B_SM
    (+-1 sigma of the measurement) filled by B+ -> K+ phi phi, with the rate weighted by the
    ratio of Belle II's efficiency for the phi phi spectrum to that for the SM spectrum
    (``efficiency``: "ita" = the ITA signal region of the released maps, "total" = ITA + HTA,
    "none" = rate only). Returns |C_S^sb| (project convention, GeV^-1) at the central value
    and the 1-sigma band, and the efficiency ratio. Defaults: Belle II's combination
    (2.3 +- 0.7)e-5 (arXiv:2311.14647) and its SM template 4.966e-6."""
    import evtgen
    from detector.belle2 import response

    if efficiency not in ("ita", "total", "none"):
        raise PhiphiError(f"efficiency = {efficiency!r}; choose ita, total or none")
    c_ref = 1e-8
    br_ref = evtgen.rate("b2kphiphi", mphi=mphi, couplings={"CS_sb": c_ref}).br
    ratio = 1.0
    if efficiency != "none":
        r = response()
        ita, hta = folded_yields("b2kphiphi", mphi, {"CS_sb": c_ref})
        n_np = ita.sum() + (hta.sum() if efficiency == "total" else 0.0)
        n_sm = r.n_ita[:, 1:].sum() + (r.n_hta[:, 1:].sum() if efficiency == "total" else 0.0)
        ratio = float((n_np / br_ref) / (n_sm / r.br_sm_bins.sum()))
    value, err = br_measured

    def coupling(delta_b: float) -> float | None:
        return c_ref * math.sqrt(delta_b / (br_ref * ratio)) if delta_b > 0 else None

    return {
        "mphi": mphi,
        "efficiency": efficiency,
        "efficiency_ratio": ratio,
        "delta_br": value - br_sm,
        "CS_sb_central": coupling(value - br_sm),
        "CS_sb_band_1sigma": [coupling(value - err - br_sm), coupling(value + err - br_sm)],
        "convention": "half (L > 1/2 C (sbar b) phi^2); without the 1/2: C' = C/2",
    }


if __name__ == "__main__":
    # python -m analyses.belle2_bknunu_2023 : the headline numbers of docs/b_window.md
    r = recast(model_point(channel="b2kphiphi", mphi=1.0))
    print(
        f"full likelihood, m_phi = 1 GeV: |C_S^sb| = {r.best_fit:.3e}, 68% {r.interval_68}, UL95 {r.upper_limit_95:.3e}"
    )
    for eff in ("none", "ita", "total"):
        w = rate_window(1.0, efficiency=eff)
        print(
            f"rate window ({eff}): eff ratio {w['efficiency_ratio']:.3f}, C = {w['CS_sb_central']:.3e}, band {w['CS_sb_band_1sigma']}"
        )
    fr = fit_released()
    print(f"released workspace: mu = {fr['mu_hat']:.3f} +- {fr['mu_err_hesse']:.3f}, B = {fr['br']:.3e}")
    s = significance_scan(np.round(np.arange(1.5, 2.81, 0.05), 3))
    i = int(np.argmax(s["significance"]))
    print(
        f"B+ -> K+ X best point: m_X = {s['mx'][i]:.2f} GeV, BR = {s['br'][i]:.3e}, {s['significance'][i]:.2f} sigma local"
    )
