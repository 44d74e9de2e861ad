"""Recast of the ATLAS 13 TeV monojet search, 139 fb⁻¹ (arXiv:2102.10874, PRD 103 (2021) 112006).

Signal: ``pp2jphiphi`` (or ``pp2js``) parton-level events from :mod:`evtgen.monojet`, through the
ATLAS emulation :mod:`detector.atlas` (card ``detector/data/atlas_card.yaml``).

Published numbers (``analyses/data/atlas_monojet_2021/``, sources in SOURCES.md and the CSV headers):
* IM0–IM12 (E_T^miss > edge): observed / expected 95% CL limits on σ×A×ε. The signal σ·A·ε is
  compared with them; the most sensitive region is the one with the best *expected* limit, and
  its observed limit gives the IM result.
* EM0–EM12 (exclusive bins): observed counts, SM prediction and its uncertainty. A binned
  likelihood (pyhf ``simplemodels.uncorrelated_background``: Poisson × Gaussian-constrained
  background per bin, bins uncorrelated — no public correlation matrix) gives the combined CLs
  limit (asymptotic q̃_μ). The SModelS per-bin limits in the CSV are not used.

The signal scales as C², so the limit on a coefficient is C_ref·√μ₉₅. With ``cutoff`` (GeV),
events with √ŝ above it are dropped (EFT truncation) and the limits are recomputed. The signal
MC statistical uncertainty is not included in the likelihood (20k events: < 2% in the bins that
drive the limit).
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from importlib import resources

import numpy as np

from evtgen.errors import PhiphiError, check_finite

from .plotting import hep_style, save_figure

NAME = "atlas_monojet_2021"
PAPER = "ATLAS, PRD 103 (2021) 112006, arXiv:2102.10874"
LUMI_FB = 139.0
DEFAULT_EVENTS = 20000
DEFAULT_COUPLING = {"CG": 1e-6}
LIMIT_MASSES = (1.0, 10.0, 50.0, 100.0, 200.0, 400.0, 700.0, 1000.0)


def _read_csv(name: str) -> dict[str, np.ndarray]:
    text = resources.files("analyses").joinpath(f"data/atlas_monojet_2021/{name}").read_text()
    rows = [r for r in csv.reader(ln for ln in text.splitlines() if ln and not ln.startswith("#"))]
    head, body = rows[0], rows[1:]
    out = {}
    for i, h in enumerate(head):
        col = [r[i] for r in body]
        try:
            out[h] = np.array([float(v) for v in col])
        except ValueError:
            out[h] = np.array(col)
    return out


@lru_cache(maxsize=1)
def tables() -> tuple[dict, dict]:
    """(EM table, IM table) as dicts of numpy columns."""
    em, im = _read_csv("monojet_EM.csv"), _read_csv("monojet_IM.csv")
    # consistency of the transcription: IM observed = sum of EM observed above the edge
    for j, lo in enumerate(im["met_low_GeV"]):
        if abs(em["n_obs"][em["met_low_GeV"] >= lo].sum() - im["n_obs"][j]) > 0.5:
            raise PhiphiError(f"ATLAS tables inconsistent at IM{j} (met > {lo:g})")
    return em, im


def signal_efficiencies(reco, keep=None) -> np.ndarray:
    """A×ε per EM bin (fraction of all generated events in each bin)."""
    em_bin = np.asarray(reco.em_bin)
    if keep is not None:
        em_bin = np.where(keep, em_bin, -1)
    nb = len(tables()[0]["region"])
    return np.bincount(em_bin[em_bin >= 0], minlength=nb)[:nb] / len(em_bin)


def im_results(sigma_fb: float, eff_em: np.ndarray) -> dict:
    """σ·A·ε per IM region, μ₉₅ (obs, exp) and the most sensitive region by expected limit."""
    em, im = tables()
    eff_im = np.array([eff_em[em["met_low_GeV"] >= lo].sum() for lo in im["met_low_GeV"]])
    vis = sigma_fb * eff_im
    with np.errstate(divide="ignore"):
        mu_obs = np.where(vis > 0, im["sigma95_obs_fb"] / vis, np.inf)
        mu_exp = np.where(vis > 0, im["sigma95_exp_fb"] / vis, np.inf)
    best = int(np.argmin(mu_exp))
    return {
        "visible_xsec_fb": vis,
        "mu_obs": mu_obs,
        "mu_exp": mu_exp,
        "best": best,
        "best_region": str(im["region"][best]),
        "mu95_obs": float(mu_obs[best]),
        "mu95_exp": float(mu_exp[best]),
    }


def em_limit(signal_events: np.ndarray, mu_guess: float | None = None) -> tuple[float, float]:
    """Observed and expected 95% CL CLs limits on the signal strength (pyhf, asymptotic)."""
    import pyhf

    em, _ = tables()
    if not np.any(signal_events > 0):
        return math.inf, math.inf
    # normalise the signal so that the limit is O(1) for the fits and the root finder: the best
    # single-bin Gaussian estimate 2*sqrt(b + db^2)/s (the combined limit is at most ~this)
    pos = signal_events > 0
    norm = float(np.min(2.0 * np.sqrt(em["n_bkg"][pos] + em["n_bkg_err"][pos] ** 2) / signal_events[pos]))
    s = signal_events * norm
    model = pyhf.simplemodels.uncorrelated_background(
        signal=s.tolist(), bkg=em["n_bkg"].tolist(), bkg_uncertainty=em["n_bkg_err"].tolist()
    )
    obs, exp = _limit_on_model(model, em["n_obs"].tolist())
    return obs * norm, exp * norm


def _limit_on_model(model, observed) -> tuple[float, float]:
    """Observed and median expected CLs 95% limits on the POI of a pyhf model (asymptotic q̃)."""
    import pyhf

    data = list(observed) + model.config.auxdata
    cache: dict[float, tuple[float, float]] = {}

    def cls(mu: float) -> tuple[float, float]:
        if mu not in cache:
            bounds = model.config.suggested_bounds()
            bounds[model.config.poi_index] = (0.0, max(10.0, 3.0 * mu))
            o, e = pyhf.infer.hypotest(mu, data, model, test_stat="qtilde", return_expected=True, par_bounds=bounds)
            cache[mu] = (max(float(o), 1e-300), max(float(e), 1e-300))
        return cache[mu]

    from scipy.optimize import brentq

    limits = []
    for k in (0, 1):  # observed, expected (median)
        lo, hi = 0.05, 2.0
        while cls(hi)[k] > 0.05 and hi < 1e3:
            lo, hi = hi, hi * 3
        while cls(lo)[k] < 0.05 and lo > 1e-6:
            lo, hi = lo / 3, lo
        f = lambda mu, k=k: math.log(cls(mu)[k] / 0.05)  # noqa: E731
        limits.append(brentq(f, lo, hi, xtol=1e-4, rtol=2e-3))
    return limits[0], limits[1]


def _channel(channel):
    from evtgen.monojet.channel import PP2JS, PP2JPhiPhi

    channel = channel or "pp2jphiphi"
    if channel not in ("pp2jphiphi", "pp2js"):
        raise PhiphiError(f"ATLAS monojet recast supports channels pp2jphiphi and pp2js, not {channel!r}")
    return PP2JPhiPhi() if channel == "pp2jphiphi" else PP2JS()


def _one_coupling(couplings):
    cpl = {k: float(v) for k, v in (couplings or DEFAULT_COUPLING).items() if float(v) != 0.0}
    if len(cpl) != 1:
        raise PhiphiError(
            f"give exactly one non-zero coupling (limits are set one coefficient at a time), got {sorted(cpl) or 'none'}"
        )
    return cpl


def point(*, channel=None, mass, couplings, cutoff=None, seed=1, n_events=DEFAULT_EVENTS, options=None) -> dict:
    """Signal yields and limits at one mass (no plotting)."""
    from detector.atlas import simulate

    ch = _channel(channel)
    cpl = _one_coupling(couplings)
    ((name, cref),) = cpl.items()
    if cutoff is not None:
        cutoff = check_finite("cutoff", cutoff)
        if cutoff <= 0:
            raise PhiphiError(f"--cutoff {cutoff:g} GeV must be positive")
    ev, rate, stats = ch.generate_with_stats(n_events, mass=mass, couplings=cpl, seed=seed, options=options)
    reco = simulate(ev, seed=seed)
    sigma_fb = rate.sigma_pb * 1000.0
    out = {
        "sigma_pb": rate.sigma_pb,
        "sigma_err_pb": rate.sigma_err_pb,
        "scale_up_pb": rate.scale_up_pb,
        "scale_down_pb": rate.scale_down_pb,
    }

    def limits(keep):
        eff = signal_efficiencies(reco, keep)
        im = im_results(sigma_fb, eff)
        sig = sigma_fb * LUMI_FB * eff
        mu_obs, mu_exp = em_limit(sig, im["mu95_exp"])
        return eff, im, sig, mu_obs, mu_exp

    eff, im, sig, mu_obs, mu_exp = limits(None)
    out.update(
        acceptance_x_eff=float(eff.sum()),
        signal_events_em=sig.tolist(),
        best_region=im["best_region"],
        visible_xsec_best_fb=float(im["visible_xsec_fb"][im["best"]]),
        upper_limit=cref * math.sqrt(mu_obs),
        upper_limit_expected=cref * math.sqrt(mu_exp),
        upper_limit_im=cref * math.sqrt(im["mu95_obs"]),
        upper_limit_im_expected=cref * math.sqrt(im["mu95_exp"]),
    )
    if cutoff is not None:
        keep = np.sqrt(np.asarray(ev.shat)) < cutoff
        eff_t, im_t, sig_t, mu_obs_t, mu_exp_t = limits(keep)
        out.update(
            cutoff_GeV=cutoff,
            fraction_kept=float(keep.mean()),
            best_region_truncated=im_t["best_region"],
            upper_limit_truncated=cref * math.sqrt(mu_obs_t) if math.isfinite(mu_obs_t) else None,
            upper_limit_truncated_expected=cref * math.sqrt(mu_exp_t) if math.isfinite(mu_exp_t) else None,
            upper_limit_im_truncated=cref * math.sqrt(im_t["mu95_obs"]) if math.isfinite(im_t["mu95_obs"]) else None,
        )
    out["_reco"] = reco
    out["_signal_events"] = sig
    return out


def recast(
    *,
    channel=None,
    mphi=None,
    mx=None,
    ms=None,
    couplings=None,
    cutoff=None,
    seed=None,
    n_events=None,
    plot=None,
    masses=None,
    **_,
) -> dict:
    """95% CL upper limit on one coefficient at one mass (``upper_limit`` from the EM likelihood,
    ``upper_limit_im`` from the best IM region), optionally with EFT truncation and a plot."""
    ch = _channel(channel)
    if mx is not None:
        raise PhiphiError("the ATLAS recast takes --mphi (pp2jphiphi) or ms (pp2js), not --mx")
    mass = ms if ch.name == "pp2js" else mphi
    if mass is None:
        raise PhiphiError(f"the ATLAS recast of {ch.name} needs --{ch.mass_option}")
    seed = 1 if seed is None else int(seed)
    n_events = DEFAULT_EVENTS if n_events is None else int(n_events)
    if n_events < 1000:
        raise PhiphiError(f"-n {n_events}: the ATLAS recast needs at least 1000 signal events")
    cpl = _one_coupling(couplings)
    ((name, cref),) = cpl.items()
    res = point(channel=ch.name, mass=mass, couplings=cpl, cutoff=cutoff, seed=seed, n_events=n_events)
    _reco, sig = res.pop("_reco"), res.pop("_signal_events")
    out = {
        "analysis": NAME,
        "paper": PAPER,
        "channel": ch.name,
        ch.mass_option: float(mass),
        "parameter": name,
        "reference_value": cref,
        "n_signal_events_generated": n_events,
        "seed": seed,
        "statistics": "EM0-EM12 binned likelihood, pyhf uncorrelated_background, CLs asymptotic qtilde; IM: sigma95_obs of the best expected region",
    }
    out.update(res)
    if plot:
        make_plot(plot, out, sig, channel=ch.name, coupling=cpl, cutoff=cutoff, seed=seed, masses=masses)
        out["plot"] = str(plot)
    return out


def limits_vs_mass(masses, *, channel="pp2jphiphi", coupling=None, cutoff=None, seed=1, n_events=DEFAULT_EVENTS):
    """Upper limits on one coefficient versus mass (with and without truncation)."""
    rows = []
    for m in masses:
        r = point(
            channel=channel,
            mass=float(m),
            couplings=coupling or DEFAULT_COUPLING,
            cutoff=cutoff,
            seed=seed,
            n_events=n_events,
        )
        r.pop("_reco"), r.pop("_signal_events")
        r["mass"] = float(m)
        rows.append(r)
    return rows


@hep_style
def make_plot(path, result, signal_events, *, channel, coupling, cutoff, seed, masses=None):
    """E_T^miss spectrum of the signal (at the limit) over the published background, and the limit vs mass."""

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    em, _ = tables()
    edges = np.append(em["met_low_GeV"], 1500.0)
    fig, ax = plt.subplots(1, 2, figsize=(20, 8))
    a = ax[0]
    bkg = em["n_bkg"]
    scale = (result["upper_limit"] / result["reference_value"]) ** 2
    a.stairs(bkg, edges, label="SM prediction (ATLAS)", color="C0")
    a.stairs(bkg + signal_events * scale, edges, label=f"+ signal at 95% CL limit ({result['parameter']})", color="C3")
    a.stairs(signal_events * scale, edges, label="signal alone (at the limit)", color="C3", ls=":")
    a.errorbar(0.5 * (edges[:-1] + edges[1:]), em["n_obs"], yerr=np.sqrt(em["n_obs"]), fmt="ko", ms=3, label="data")
    for lo in edges:
        a.axvline(lo, color="0.85", lw=0.5, zorder=0)
    a.set_yscale("log")
    a.set_xlabel(r"$E_T^{miss}$ [GeV] (EM0–EM12; last bin > 1200 GeV)")
    a.set_ylabel("events / bin, 139 fb$^{-1}$")
    a.set_title(
        f"{channel}, {'m' if channel == 'pp2js' else 'm_phi'} = {result.get('mphi', result.get('ms'))} GeV", fontsize=9
    )
    a.legend(fontsize=14)
    # limits vs mass
    b = ax[1]
    mlist = list(masses) if masses else list(LIMIT_MASSES)
    cur = result.get("mphi", result.get("ms"))
    mlist = sorted({*mlist, float(cur)})
    rows = limits_vs_mass(
        mlist,
        channel=channel,
        coupling=coupling,
        cutoff=cutoff,
        seed=seed,
        n_events=min(result["n_signal_events_generated"], 10000),
    )
    ms_ = [r["mass"] for r in rows]
    b.plot(ms_, [r["upper_limit"] for r in rows], "o-", label="EM likelihood (obs)")
    b.plot(ms_, [r["upper_limit_expected"] for r in rows], "--", label="EM likelihood (exp)")
    b.plot(ms_, [r["upper_limit_im"] for r in rows], "s:", label="best IM region (obs)")
    if cutoff is not None:
        b.plot(
            ms_,
            [r["upper_limit_truncated"] or np.nan for r in rows],
            "^-",
            label=f"truncated, sqrt(s_hat) < {cutoff:g} GeV",
        )
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel("mass [GeV]")
    b.set_ylabel(f"95% CL upper limit on {result['parameter']}")
    b.legend(fontsize=14)
    fig.suptitle(PAPER, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
