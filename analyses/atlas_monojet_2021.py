"""Recast of the ATLAS 13 TeV monojet search, 139 fb⁻¹ (arXiv:2102.10874, PRD 103 (2021) 112006).

Signal: ``pp2jphiphi`` (or ``pp2js``) parton-level events from :mod:`evtgen.monojet`, through the
ATLAS emulation :mod:`detector.atlas` (card ``detector/data/atlas_card.yaml``).

Published numbers (``analyses/data/atlas_monojet_2021/``, sources in SOURCES.md and the CSV headers):
* IM0–IM12 (E_T^miss > edge): observed / expected 95% CL limits on σ×A×ε. The signal σ·A·ε is
  compared with them; the most sensitive region is the one with the best *expected* limit, and
  its observed limit gives the IM result.
* EM0–EM12 (exclusive bins): observed counts, SM prediction and its uncertainty. A binned
  likelihood (:class:`analyses.stats.PoissonCounts`: Poisson × Gaussian-constrained background
  per bin, bins uncorrelated — there is no public correlation matrix) gives the combined CLs
  limit (asymptotic q̃_μ) through the package's one statistics engine. The SModelS per-bin
  limits in the CSV are not used. The signal regions are a boost-histogram axis built from the
  table's E_T^miss edges; the expected signal and background per region are histograms in
  ``Result.histograms``.

The signal scales as C², so the limit on a coefficient is C_ref·√μ₉₅ (``analyses.result.from_fit``).
With ``cutoff`` (GeV), events with √ŝ above it are dropped (EFT truncation): the result is then
the truncated one, and the untruncated limits are in ``extras``. The signal
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
from evtgen.model import ModelPoint

from . import result as results
from . import stats
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


def em_axis():
    """The EM0–EM12 signal regions as a boost-histogram axis (E_T^miss edges in GeV; the last
    bin, > 1200 GeV, is closed at 1500 GeV for drawing)."""
    import boost_histogram as bh

    em = tables()[0]
    return bh.axis.Variable(
        [*em["met_low_GeV"].tolist(), 1500.0], metadata="E_T^miss [GeV]", underflow=False, overflow=False
    )


def em_histogram(values: np.ndarray, variances: np.ndarray | None = None):
    """A weighted boost-histogram over the EM regions holding ``values`` (per region)."""
    import boost_histogram as bh

    h = bh.Histogram(em_axis(), storage=bh.storage.Weight())
    h.view().value = values
    h.view().variance = np.zeros_like(values) if variances is None else variances
    return h


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


def em_likelihood(signal_events: np.ndarray) -> stats.PoissonCounts:
    """The EM0–EM12 likelihood with ``signal_events`` per bin at mu = 1."""
    em, _ = tables()
    return stats.PoissonCounts(em["n_obs"], em["n_bkg"], em["n_bkg_err"], np.asarray(signal_events, float))


def _norm(signal_events: np.ndarray) -> float:
    """A signal normalisation that puts the limit at mu = O(1): the best single-bin Gaussian
    estimate 2 sqrt(b + db^2)/s (the combined limit is at most about this)."""
    em, _ = tables()
    pos = signal_events > 0
    return float(np.min(2.0 * np.sqrt(em["n_bkg"][pos] + em["n_bkg_err"][pos] ** 2) / signal_events[pos]))


def em_fit(signal_events: np.ndarray) -> tuple[stats.Fit, float, stats.PoissonCounts]:
    """The engine's fit of the EM likelihood: (fit in units of ``norm``, norm, likelihood)."""
    norm = _norm(signal_events)
    lik = em_likelihood(signal_events * norm)
    return stats.fit(lik, mu_scale=1.0), norm, lik


def em_limit(signal_events: np.ndarray) -> tuple[float, float]:
    """Observed and median expected 95% CL CLs limits on the signal strength (asymptotic q~mu)."""
    if not np.any(signal_events > 0):
        return math.inf, math.inf
    fit, norm, _ = em_fit(signal_events)
    if fit.upper_limit_95 is None:
        return math.inf, math.inf
    return fit.upper_limit_95 * norm, fit.expected_upper_limit_95 * norm


def _one_coupling(couplings) -> dict[str, float]:
    cpl = {k: float(v) for k, v in couplings.items() if float(v) != 0.0}
    if not cpl:
        cpl = dict(DEFAULT_COUPLING)
    if len(cpl) != 1:
        raise PhiphiError(
            f"give exactly one non-zero coupling (limits are set one coefficient at a time), got {sorted(cpl)}"
        )
    return cpl


def signal(point: ModelPoint, *, n_events: int = DEFAULT_EVENTS) -> dict:
    """Generate and emulate the signal of ``point``: σ, the events, their EM bins."""
    from detector.atlas import simulate
    from evtgen import channels

    cpl = _one_coupling(point.couplings)
    ch = channels.get(point.channel)
    ev, rate, _ = ch.generate_with_stats(
        n_events, mass=point.mass, couplings=cpl, seed=point.seed, options=dict(point.options)
    )
    return {"couplings": cpl, "events": ev, "rate": rate, "reco": simulate(ev, seed=point.seed)}


def recast(
    point: ModelPoint, *, data: dict, n_events: int | None = None, cutoff: float | None = None
) -> results.Result:
    """95% CL limit on the one non-zero coefficient of ``point`` from the EM likelihood (the
    best IM region's observed limit in ``extras``), with EFT truncation at ``cutoff`` (GeV)."""
    n_events = DEFAULT_EVENTS if n_events is None else int(n_events)
    if n_events < 1000:
        raise PhiphiError(f"n_events = {n_events}: the ATLAS recast needs at least 1000 signal events")
    if cutoff is not None:
        cutoff = check_finite("cutoff", cutoff)
        if cutoff <= 0:
            raise PhiphiError(f"cutoff = {cutoff:g} GeV must be positive")
    if point.seed is None:
        point = point.replace(seed=1)
    sig = signal(point, n_events=n_events)
    ((name, cref),) = sig["couplings"].items()
    point = point.replace(couplings=sig["couplings"])
    rate, reco = sig["rate"], sig["reco"]
    sigma_fb = rate.sigma_pb * 1000.0
    em, _ = tables()

    def evaluate(keep):
        eff = signal_efficiencies(reco, keep)
        return eff, im_results(sigma_fb, eff), sigma_fb * LUMI_FB * eff

    eff, im, s_em = evaluate(None)
    extras = {
        "sigma_pb": rate.sigma_pb,
        "sigma_err_pb": rate.sigma_err_pb,
        "scale_up_pb": rate.scale_up_pb,
        "scale_down_pb": rate.scale_down_pb,
        "acceptance_x_eff": float(eff.sum()),
        "n_signal_events_generated": n_events,
        "best_region": im["best_region"],
        "visible_xsec_best_fb": float(im["visible_xsec_fb"][im["best"]]),
        "upper_limit_im": cref * math.sqrt(im["mu95_obs"]),
        "upper_limit_im_expected": cref * math.sqrt(im["mu95_exp"]),
    }
    if cutoff is not None:
        keep = np.sqrt(np.asarray(sig["events"].shat)) < cutoff
        mu_obs, mu_exp = em_limit(s_em)
        extras.update(
            cutoff_GeV=cutoff,
            fraction_kept=float(keep.mean()),
            upper_limit_untruncated=cref * math.sqrt(mu_obs),
            upper_limit_untruncated_expected=cref * math.sqrt(mu_exp),
        )
        eff, im, s_em = evaluate(keep)
        extras.update(best_region_truncated=im["best_region"])
        extras.update(
            upper_limit_im_truncated=cref * math.sqrt(im["mu95_obs"]) if math.isfinite(im["mu95_obs"]) else None
        )
    provenance = {
        "paper": PAPER,
        "data": "analyses/data/atlas_monojet_2021/ (EM/IM tables; SOURCES.md)",
        "card": "detector/data/atlas_card.yaml",
        "signal": f"{point.channel} LO, {n_events} events, seed {point.seed}",
        "not_included": "signal MC statistical uncertainty (< 2% in the bins that set the limit)",
    }
    if not np.any(s_em > 0):
        reason = "no signal event passes the selection" + (" below the cut-off" if cutoff is not None else "")
        return results.no_sensitivity(
            analysis="atlas", point=point, parameter=name, reason=reason, provenance=provenance, extras=extras
        )
    fit, norm, lik = em_fit(s_em)
    res = results.from_fit(
        lik,
        fit,
        analysis="atlas",
        point=point,
        parameter=name,
        reference=cref * math.sqrt(norm),
        scaling="quadratic",
        provenance=provenance,
        extras=extras,
        likelihood_form="EM0-EM12: Poisson x Gaussian-constrained background per bin (uncorrelated)",
    )
    res.histograms = {
        "signal_at_reference": em_histogram(s_em),
        "background": em_histogram(em["n_bkg"], em["n_bkg_err"] ** 2),
        "observed": em_histogram(em["n_obs"].astype(float), em["n_obs"].astype(float)),
    }
    return res


def limits_vs_mass(masses, *, channel="pp2jphiphi", coupling=None, cutoff=None, seed=1, n_events=DEFAULT_EVENTS):
    """Results (the common schema) on one coefficient versus mass."""
    from evtgen.model import model_point

    mass_name = "ms" if channel == "pp2js" else "mphi"
    out = []
    for m in masses:
        p = model_point(**{mass_name: float(m)}, couplings=coupling or DEFAULT_COUPLING, channel=channel, seed=seed)
        out.append(recast(p.for_channel(), data={}, n_events=n_events, cutoff=cutoff))
    return out


@hep_style
def plot(result: results.Result, path, *, point: ModelPoint | None = None, **_) -> None:
    """E_T^miss regions: the signal at its 95% CL limit over the published background and data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = result.histograms
    if not h or result.upper_limit_95 is None:
        raise PhiphiError("nothing to plot: the recast has no limit (no sensitivity)")
    scale = (result.upper_limit_95 / result.extras["reference"]) ** 2
    edges = h["background"].axes[0].edges
    bkg = h["background"].view().value
    sig = h["signal_at_reference"].view().value * scale
    obs = h["observed"].view().value
    fig, ax = plt.subplots(figsize=(10, 8))
    ax.stairs(bkg, edges, label="SM prediction (ATLAS)", color="C0")
    ax.stairs(bkg + sig, edges, label=f"+ signal at the 95% CL limit ({result.parameter})", color="C3")
    ax.stairs(sig, edges, label="signal alone (at the limit)", color="C3", ls=":")
    ax.errorbar(0.5 * (edges[:-1] + edges[1:]), obs, yerr=np.sqrt(obs), fmt="ko", ms=3, label="data")
    ax.set_yscale("log")
    ax.set_xlabel(r"$E_T^{miss}$ [GeV] (EM0–EM12; last bin > 1200 GeV)")
    ax.set_ylabel("events / bin, 139 fb$^{-1}$")
    mass = ", ".join(f"{k} = {v:g} GeV" for k, v in result.masses.items())
    ax.set_title(f"ATLAS monojet 2021: {result.channel}, {mass}", fontsize=11)
    ax.legend(fontsize=12)
    save_figure(fig, path)
