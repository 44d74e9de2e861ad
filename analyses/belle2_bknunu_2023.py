"""Recast of Belle II B+ -> K+ nu nubar (362 fb^-1, arXiv:2311.14647) with the released
likelihood and signal maps (arXiv:2507.12393, HEPData 10.17182/hepdata.166082).

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

Statistics (all asymptotic): best fit and the 68% / 95% intervals from the profile likelihood
in mu_np (Delta(-2 ln L) = 1, 3.84 with mu_np >= 0), converted to the coupling with
|C| = C_ref sqrt(mu_np) (rates scale as |C|^2) or BR = BR_ref mu_np; the 95% CL upper limit
is CLs with the q~_mu test statistic (Cowan et al. 2011, eq. 65-66 as in pyhf), q_mu,A from
the background(+SM)-only Asimov data set.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from evtgen.errors import PhiphiError
from evtgen.io import atomic_path

ANALYSIS = "belle2_bknunu_2023"
PAPER = "Belle II, arXiv:2311.14647, PRD 109, 112006 (2024); likelihood arXiv:2507.12393"
WORKSPACE = "combined_likelihood.json"
#: channel -> parameter reported
PARAMETERS = {"b2kphiphi": "CS_sb", "b2kx": "br"}
UNITS = {"CS_sb": "GeV^-1", "br": "1"}
NP_SAMPLE = "new_physics"
NP_POI = "mu_np"
#: normsys of the NP yield from the hadronic form factor (its size is set per mass point)
NP_FF = "np_formfactor"
SM_POI = "mu"
MU_NP_MAX = 200.0
#: (channel-name prefix, SM signal sample, number of bins) in the order of the map rows
SIGNAL_CHANNELS = (("A__", "signal", 9), ("B__", "signal", 3), ("sgn1_had", "sgn_1_had", 6))
Q_68, Q_95 = 1.0, 3.841458820694124  # chi2(1 dof) quantiles 0.6827, 0.95
CLS_LEVEL = 0.05


def _data_file(name: str) -> Path:
    return Path(str(resources.files("analyses") / "data" / ANALYSIS / name))


# ---------------------------------------------------------------------------------------
# workspace
# ---------------------------------------------------------------------------------------
def load_workspace(path: str | Path | None = None) -> dict:
    """The released workspace (or the file ``path``), checked to be a usable pyhf workspace."""
    import pyhf

    p = Path(path) if path is not None else _data_file(WORKSPACE)
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
            "channel b2kstarphiphi (CP_sb) is not supported by the Belle II recast: the released maps are for B+ -> K+ only"
        )
    if channel not in PARAMETERS:
        raise PhiphiError(
            f"channel {channel!r} is not supported by the Belle II recast; choose one of {', '.join(PARAMETERS)}"
        )
    return channel, evtgen.channel(channel)


def br_per_q2_bin(channel: str, mass: float, couplings: dict | None = None) -> np.ndarray:
    """Branching ratio of the NP channel in each generated-q2 bin of the maps (100,)."""
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


def folded_yields(channel: str, mass: float, couplings: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Expected NP (ITA[12], HTA[6]) yields: sum_j N[i, j] B_NP,j / B_SM,j."""
    from detector.belle2 import response

    return response().fold(br_per_q2_bin(channel, mass, couplings))


def formfactor_rel_error(channel: str, mass: float, couplings: dict | None = None) -> float:
    """Relative standard deviation of the folded NP yield (ITA + HTA) over the published
    form-factor covariance (the draws evtgen uses for its rate errors); 0 for b2kx."""
    from detector.belle2 import _GL8, response
    from evtgen import spectra

    channel, ch = _channel(channel)
    if channel == "b2kx":
        return 0.0
    resp = response()
    m = ch.check_mass(mass)
    cpl = ch.resolve_couplings(couplings)
    nodes, weights = _GL8
    e = resp.q2_edges
    half = 0.5 * (e[1:] - e[:-1])
    q2 = ((e[:-1] + e[1:])[:, None] * 0.5 + half[:, None] * nodes[None, :]).ravel()
    per_bin = (resp.n_ita[:, 1:].sum(axis=0) + resp.n_hta[:, 1:].sum(axis=0)) / resp.br_sm_bins

    def total(ff) -> float:
        f = spectra.dgamma_dq2_array(ch.kind, q2, ch.spectrum_par(m, cpl, ff)).reshape(len(half), -1)
        return float(per_bin @ ((f * weights).sum(axis=1) * half))

    draws = np.array([total(ff) for ff in ch._ff_draws()])
    return float(np.std(draws, ddof=1) / total(None))


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
        ws = pyhf.Workspace(np_spec)
        self.model = ws.model()
        data = np.asarray(ws.data(self.model), float)
        self.fast = FastLikelihood(np_spec, self.model)
        self.main = data[: self.fast.nbins]
        self.poi = self.fast.poi_index
        self.channels = _signal_channel_names(self.spec)
        self._rel = []
        for cn, y in zip(self.channels, placeholder):
            rows = self.fast.rows_of(cn, NP_SAMPLE)
            self._rel.append((self.fast.hist_up[:, rows] / y, self.fast.hist_dn[:, rows] / y))
        self.null = self.fast.fit(self.main, fixed={self.poi: 0.0})
        self.fast.precondition(self.null.pars, self.main)
        self.fast.scale[self.poi] = 0.5  # mu_np is O(1) by construction (see recast_point)
        self.null = self.fast.fit(self.main, fixed={self.poi: 0.0}, init=self.null.pars)
        self.asimov_main = self.fast.expected_data(self.null.pars)
        self.asimov_aux = self.fast.aux.copy()
        c = self.fast.constrained
        self.asimov_aux[c] = self.null.pars[c]
        # the Asimov data are the expectation at the null parameters, so those maximise it
        self.asimov_null_nll = -2.0 * self.fast.logpdf_and_grad(self.null.pars, self.asimov_main, self.asimov_aux)[0]
        self.n_fits = 1

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

    def profile(self, mu_np: float, *, asimov: bool = False, init: np.ndarray | None = None) -> float:
        """-2 ln L at fixed mu_np, everything else profiled."""
        self.n_fits += 1
        main, aux = (self.asimov_main, self.asimov_aux) if asimov else (self.main, None)
        start = self.null.pars if init is None else init
        return self.fast.fit(main, fixed={self.poi: float(mu_np)}, init=start, aux=aux).twice_nll

    def best_fit(self):
        self.n_fits += 1
        init = self.null.pars.copy()
        init[self.poi] = 1.0
        return self.fast.fit(self.main, init=init)


@functools.lru_cache(maxsize=1)
def _default_likelihood() -> Belle2Likelihood:
    return Belle2Likelihood()


def _crossing(f, lo: float, hi: float, level: float) -> float:
    # sqrt(q) is close to linear in mu (a parabolic profile), so Brent converges in a few fits
    return brentq(lambda x: math.sqrt(f(x)) - math.sqrt(level), lo, hi, xtol=1e-4 * max(hi, 1e-3), rtol=1e-6)


def _upper_bracket(f, start: float, step: float, level: float) -> float:
    hi = start + step
    while f(hi) < level:
        hi = start + 2.0 * (hi - start)
        if hi > MU_NP_MAX:
            raise PhiphiError(
                f"no {level:g} crossing of the profile likelihood below mu_np = {MU_NP_MAX:g}: the analysis has no sensitivity here"
            )
    return hi


def fit_np(lik: Belle2Likelihood, ita: np.ndarray, hta: np.ndarray, ff_rel: float = 0.0) -> dict[str, Any]:
    """Best fit, profile-likelihood intervals and CLs upper limit in mu_np for NP yields
    (ITA, HTA) at mu_np = 1 (``ff_rel``: relative form-factor uncertainty of the yield)."""
    t0 = time.perf_counter()
    lik.set_np(ita, hta, ff_rel)
    best = lik.best_fit()
    mu_hat = float(best.pars[lik.poi])
    nll0 = best.twice_nll
    cache: dict[float, float] = {}

    def q(mu: float) -> float:
        if mu not in cache:
            cache[mu] = max(lik.profile(mu, init=best.pars) - nll0, 0.0)
        return cache[mu]

    q_null = max(lik.null.twice_nll - nll0, 0.0)
    step = mu_hat / math.sqrt(q_null) if q_null > 0.25 else 1.0
    intervals = {}
    hi_br = {}
    for name, level in (("68", Q_68), ("95", Q_95)):
        lo = 0.0 if q_null <= level else _crossing(q, 0.0, mu_hat, level)
        hi_br[name] = _upper_bracket(q, mu_hat, step * math.sqrt(level), level)
        intervals[name] = (lo, _crossing(q, mu_hat, hi_br[name], level))
    # CLs with q~mu; sigma from the Asimov data set of the background + SM hypothesis
    mu_ref = intervals["95"][1]
    q_a_ref = lik.profile(mu_ref, asimov=True, init=lik.null.pars) - lik.asimov_null_nll
    sigma_a = mu_ref / math.sqrt(max(q_a_ref, 1e-12))

    def cls(mu: float) -> float:
        qt = q(mu) if mu > mu_hat else 0.0
        qa = (mu / sigma_a) ** 2
        sq, sqa = math.sqrt(qt), math.sqrt(qa)
        if sq <= sqa:
            clsb, clb = norm.sf(sq), norm.sf(sq - sqa)
        else:
            clsb, clb = norm.sf((qt + qa) / (2 * sqa)), norm.sf((qt - qa) / (2 * sqa))
        return clsb / clb

    hi = mu_ref  # CLs <= CLs+b, which reaches 0.05 before the two-sided 95% edge
    while cls(hi) > CLS_LEVEL:
        hi *= 1.5
        if hi > MU_NP_MAX:
            raise PhiphiError(f"CLs does not reach {CLS_LEVEL} below mu_np = {MU_NP_MAX:g}")
    lo = max(mu_hat, 1e-6)
    mu_ul = (
        brentq(lambda m: norm.isf(cls(m)) - norm.isf(CLS_LEVEL), lo, hi, xtol=1e-4 * hi) if cls(lo) > CLS_LEVEL else lo
    )
    return {
        "mu_np_hat": mu_hat,
        "mu_np_68": list(intervals["68"]),
        "mu_np_95": list(intervals["95"]),
        "mu_np_ul95": float(mu_ul),
        "twice_nll_best": float(nll0),
        "twice_nll_null": float(lik.null.twice_nll),
        "sigma_asimov": float(sigma_a),
        "fit_seconds": time.perf_counter() - t0,
        "best_pars": best.pars,
    }


# ---------------------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------------------
def _to_parameter(parameter: str, ref: float, mu: float) -> float:
    # rates scale as |C|^2: the coupling is reported as a modulus
    return abs(ref) * math.sqrt(max(mu, 0.0)) if parameter != "br" else ref * mu


def recast_point(
    channel: str | None,
    mass: float,
    *,
    couplings: dict | None = None,
    method: str = "fold",
    n_events: int | None = None,
    seed: int | None = None,
    lik: Belle2Likelihood | None = None,
) -> dict[str, Any]:
    """Result dict at one mass (see :func:`recast`), plus ``_best_pars`` and ``_yields``."""
    channel, ch = _channel(channel)
    parameter = PARAMETERS[channel]
    mass = ch.check_mass(mass)
    cpl = ch.resolve_couplings(couplings)
    if cpl[parameter] == 0.0:
        raise PhiphiError(
            f"{parameter} = 0 gives no signal: give a non-zero reference value (the result does not depend on it)"
        )
    if method == "fold":
        ita, hta = folded_yields(channel, mass, cpl)
        err = None
    elif method == "events":
        ita, hta, e_ita, e_hta = event_yields(
            channel, mass, cpl, n_events=int(n_events or 200_000), seed=1 if seed is None else int(seed)
        )
        err = float(math.sqrt(np.sum(e_ita**2) + np.sum(e_hta**2)))
    else:
        raise PhiphiError(f"method {method!r} must be 'fold' or 'events'")
    lik = lik or _default_likelihood().fork()
    total = float(ita.sum() + hta.sum())
    if not total > 0:
        raise PhiphiError(f"{channel} at {ch.mass_option} = {mass:g} GeV gives no events in the Belle II analysis bins")
    sm_total = float(sum(y.sum() for y in lik.sm_yields))
    scale = sm_total / total  # mu_np = 1 <=> as many NP as SM signal events
    ref = _to_parameter(parameter, cpl[parameter], scale)
    ff_rel = formfactor_rel_error(channel, mass, cpl)
    fit = fit_np(lik, ita * scale, hta * scale, ff_rel)
    conv = functools.partial(_to_parameter, parameter, ref)
    res: dict[str, Any] = {
        "analysis": ANALYSIS,
        "channel": channel,
        ch.mass_option: mass,
        "parameter": parameter,
        "unit": UNITS[parameter],
        "best_fit": conv(fit["mu_np_hat"]),
        "interval_68": [conv(x) for x in fit["mu_np_68"]],
        "interval_95": [conv(x) for x in fit["mu_np_95"]],
        "upper_limit_95": conv(fit["mu_np_ul95"]),
        "twice_nll_best": fit["twice_nll_best"],
        "twice_nll_null": fit["twice_nll_null"],
        "significance": math.sqrt(max(fit["twice_nll_null"] - fit["twice_nll_best"], 0.0)),
        "yields_best_fit": {
            "ita": float(ita.sum() * scale * fit["mu_np_hat"]),
            "hta": float(hta.sum() * scale * fit["mu_np_hat"]),
        },
        "yields_per_unit": {"parameter_value": cpl[parameter], "ita": ita.tolist(), "hta": hta.tolist()},
        "formfactor_rel_error": ff_rel,
        "method": method,
        "statistics": "intervals: profile likelihood Delta(-2lnL) = 1, 3.84 in the rate (mu_np >= 0); upper limit: CLs, q~mu, asymptotic; SM B+ -> K+ nu nu fixed at mu = 1",
        "fit_seconds": fit["fit_seconds"],
        "paper": PAPER,
    }
    if err is not None:
        res["yield_mc_error"] = err
    if parameter == "CS_sb":
        from evtgen import constants as C
        from evtgen import spectra

        br_in = spectra.integrate(ch.kind, ch.spectrum_par(mass, cpl)) / C.total_width(ch.parent)
        res["br_best_fit"] = br_in * (res["best_fit"] / cpl[parameter]) ** 2
    res["_best_pars"] = fit["best_pars"]
    res["_lik"] = lik
    res["_yields"] = (ita * scale, hta * scale)
    return res


def _public(res: dict) -> dict:
    return {k: v for k, v in res.items() if not k.startswith("_")}


def recast(
    *,
    channel: str | None = None,
    mphi: float | None = None,
    mx: float | None = None,
    couplings: dict | None = None,
    seed: int | None = None,
    n_events: int | None = None,
    plot: str | None = None,
    method: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    """Belle II recast at one model point. Returns ``analysis``, ``channel``, ``mphi``/``mx``,
    ``parameter`` (CS_sb in GeV^-1 or br), ``best_fit``, ``interval_68``, ``interval_95``,
    ``upper_limit_95``, ``twice_nll_best``, ``twice_nll_null`` and diagnostics. ``plot``:
    PNG path for the reconstructed spectrum (data, backgrounds, SM and NP at the best fit).
    ``method``: "fold" (default: NP spectrum folded through the released maps) or "events"
    (``n_events`` generated and emulated with ``seed``); giving ``n_events`` (CLI ``-n``)
    without a method selects "events"."""
    channel, ch = _channel(channel)
    if method is None:
        method = "events" if n_events else "fold"
    given = {"mphi": mphi, "mx": mx}
    mass = given.get(ch.mass_option)
    other = [k for k, v in given.items() if v is not None and k != ch.mass_option]
    if other:
        raise PhiphiError(f"channel {channel} takes --{ch.mass_option}, not --{other[0]}")
    if mass is None:
        raise PhiphiError(f"channel {channel} needs --{ch.mass_option}")
    res = recast_point(channel, mass, couplings=couplings, method=method, n_events=n_events, seed=seed)
    if plot:
        from .belle2_plots import plot_spectrum

        plot_spectrum(res["_lik"], res, plot)
        res["plot"] = str(plot)
    return _public(res)


def scan(
    masses: Sequence[float],
    *,
    channel: str = "b2kphiphi",
    couplings: dict | None = None,
    method: str = "fold",
    plot: str | None = None,
) -> list[dict[str, Any]]:
    """Results at each mass (m_phi for b2kphiphi, m_X for b2kx), one likelihood for all."""
    lik = _default_likelihood().fork()
    out = []
    for m in masses:
        try:
            out.append(_public(recast_point(channel, float(m), couplings=couplings, method=method, lik=lik)))
        except (PhiphiError, RuntimeError) as exc:
            if isinstance(exc, PhiphiError) and "no events" not in str(exc) and "no sensitivity" not in str(exc):
                raise
            # a mass without sensitivity (or whose fits all failed to converge: RuntimeError)
            # is recorded without numbers instead of stopping the scan
            _, ch = _channel(channel)
            out.append(
                {
                    "analysis": ANALYSIS,
                    "channel": channel,
                    ch.mass_option: float(m),
                    "parameter": PARAMETERS[channel],
                    "best_fit": None,
                    "interval_68": None,
                    "interval_95": None,
                    "upper_limit_95": None,
                    "twice_nll_best": None,
                    "twice_nll_null": None,
                    "note": str(exc),
                }
            )
    if plot:
        from .belle2_plots import plot_scan

        plot_scan(out, plot)
    return out


def scan_mphi(masses: Sequence[float], **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`scan` over m_phi for B+ -> K+ phi phi."""
    return scan(masses, channel="b2kphiphi", **kwargs)


def scan_mx(masses: Sequence[float], **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`scan` over m_X for B+ -> K+ X."""
    return scan(masses, channel="b2kx", **kwargs)


def fit_released(spec: dict | None = None) -> dict[str, float]:
    """Fit of the workspace as released (POI mu, SM signal shape): mu_hat, its Hessian
    error, the profile-likelihood 68% interval and B = mu x B_SM(template)."""
    import pyhf

    from detector.belle2 import card

    from .belle2_likelihood import FastLikelihood

    spec = spec if spec is not None else load_workspace()
    ws = pyhf.Workspace(spec)
    model = ws.model()
    fl = FastLikelihood(spec, model)
    main = np.asarray(ws.data(model), float)[: fl.nbins]
    fl.precondition(fl.init, main)
    best = fl.fit(main)
    mu = float(best.pars[fl.poi_index])

    def q(m):
        return fl.fit(main, fixed={fl.poi_index: m}, init=best.pars).twice_nll - best.twice_nll

    err = fl.hessian_error(main, best.pars, fl.poi_index)
    lo = brentq(lambda m: q(m) - 1.0, max(mu - 3 * err, 0.0), mu, xtol=1e-4)
    hi = brentq(lambda m: q(m) - 1.0, mu, mu + 3 * err, xtol=1e-4)
    br_sm = float(card()["br_sm_template"]["value"])
    return {
        "mu_hat": mu,
        "mu_err_hesse": err,
        "mu_68": [lo, hi],
        "twice_nll": best.twice_nll,
        "br": mu * br_sm,
        "br_err": err * br_sm,
        "twice_nll_mu0": q(0.0) + best.twice_nll,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analyses.belle2_bknunu_2023 --channel b2kphiphi --masses 0.1:2.3:50 --plot scan.png``"""
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m analyses.belle2_bknunu_2023", description="Belle II B+ -> K+ nu nu recast: mass scan"
    )
    p.add_argument("--channel", default="b2kphiphi", choices=sorted(PARAMETERS))
    p.add_argument("--masses", required=True, help="LO:HI:N (GeV) or comma-separated list")
    p.add_argument("--plot", help="PNG of the allowed/excluded parameter versus mass")
    p.add_argument("--json", help="write the list of results to this JSON file")
    args = p.parse_args(argv)
    try:
        if ":" in args.masses:
            lo, hi, n = args.masses.split(":")
            masses = np.linspace(float(lo), float(hi), int(n))
        else:
            masses = [float(x) for x in args.masses.split(",")]
        out = scan(masses, channel=args.channel, plot=args.plot)
    except (PhiphiError, ValueError) as exc:
        print(f"phiphi: error: {exc}")
        return 2
    text = json.dumps(out, default=float)
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
