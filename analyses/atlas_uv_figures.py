"""ATLAS monojet (arXiv:2102.10874) recast of the t-channel UV model, and its comparison with the EFT.

Signal: ``pp2vlq`` events (:mod:`evtgen.vlq.channel`: q g → Q φ / D φ with Q → q φ, heavy pairs,
the non-resonant q g → q φφ) through :func:`detector.atlas.simulate` (parton-level jets), then
the EM0–EM12 binned likelihood of :mod:`analyses.atlas_monojet_2021` (``signal_efficiencies``,
``em_limit``). The UV point is excluded at 95% CL when μ₉₅ < 1 (μ scales the whole UV signal).

EFT side: ``pp2jphiphi`` with the matched coefficients C^{S,dd}, C^{S,ss} of the same point (the
flavour-changing C^{S,sd} has no monojet channel in the EFT generator and is dropped: stated in
the output), without and with the truncation √ŝ < M (events above the mediator mass removed).
All numbers are in the project's ½ convention. Functions:

* :func:`uv_point_limit` — μ₉₅ (obs, exp) of one UV point;
* :func:`eft_point_limit` — μ₉₅ of the matched EFT, with/without truncation;
* :func:`limit_plane` / :func:`plot_limit_plane` — μ₉₅ on an (m_Q = m_D, y) grid and its μ = 1 contour;
* :func:`eft_vs_uv` / :func:`plot_eft_vs_uv` — the seed's figure: limits for M = 3 TeV, y = 1,
  m_φ = 1 GeV and the UV/EFT ratio of the limits on the coefficient as a function of M.
"""

from __future__ import annotations

import math

import numpy as np

from analyses.atlas_monojet_2021 import LUMI_FB, em_limit, signal_efficiencies

from .plotting import hep_style, save_figure

BENCHMARK = {"M": 3000.0, "y": 1.0, "mphi": 1.0}


def benchmark_point(M: float, y: float, y1: float = 1.0, mphi: float = 1.0):
    """The seed's benchmark pattern as a UV point (:class:`evtgen.models.tchannel.TChannelPoint`):
    m_Q = m_D = M, y_q^d = y_q^s = y_d^d = y_d^s = y (third generation 0), y₁, m_φ."""
    from evtgen.models.tchannel import tchannel_point

    return tchannel_point(m_Q=M, m_D=M, m_phi=mphi, y_q=(y, y, 0.0), y_d=(y, y, 0.0), y1=y1)


def _limit_from_events(ev, sigma_pb: float, seed: int, keep=None) -> tuple[float, float, float]:
    from detector.atlas import simulate

    reco = simulate(ev, seed=seed)
    eff = signal_efficiencies(reco, keep)
    sig = sigma_pb * 1000.0 * LUMI_FB * eff
    obs, exp = em_limit(sig)
    return obs, exp, float(eff.sum())


def uv_point_limit(
    M: float,
    y: float,
    *,
    mphi: float = 1.0,
    y1: float = 1.0,
    n_events: int = 5000,
    seed: int = 1,
    options: dict | None = None,
) -> dict:
    """μ₉₅ (observed, expected) of the UV model at (m_Q = m_D = M, y) and the rates per group."""
    from evtgen.vlq.channel import PP2VLQ

    opts = dict(options or {})
    opts["uv"] = benchmark_point(M, y, y1, mphi)
    ev, rate, stats = PP2VLQ().generate_with_stats(n_events, mass=mphi, seed=seed, options=opts)
    obs, exp, ae = _limit_from_events(ev, rate.sigma_pb, seed)
    return {
        "M": M,
        "y": y,
        "mphi": mphi,
        "sigma_pb": rate.sigma_pb,
        "groups_pb": {k: v["sigma_pb"] for k, v in rate.groups.items()},
        "families_pb": {k: v["sigma_pb"] for k, v in rate.extra["families"].items()},
        "acceptance_x_eff": ae,
        "mu95_obs": obs,
        "mu95_exp": exp,
        "excluded": obs < 1.0,
        "matched_eft": rate.matched_eft,
    }


def eft_point_limit(
    M: float, y: float, *, mphi: float = 1.0, y1: float = 1.0, n_events: int = 5000, seed: int = 1
) -> dict:
    """μ₉₅ of the EFT with the matched C^{S,dd}, C^{S,ss} of the point, without and with √ŝ < M,
    and the implied 95% CL limits on the common coefficient C (= C_matched √μ₉₅)."""
    from evtgen.models.tchannel import to_eft
    from evtgen.monojet.channel import PP2JPhiPhi

    c = to_eft(benchmark_point(M, y, y1, mphi))
    cpl = {"CS_dd": c["CS_dd"], "CS_ss": c["CS_ss"]}
    ev, rate, _ = PP2JPhiPhi().generate_with_stats(n_events, mass=mphi, couplings=cpl, seed=seed)
    obs, exp, ae = _limit_from_events(ev, rate.sigma_pb, seed)
    keep = np.sqrt(np.asarray(ev.shat)) < M
    obs_t, exp_t, ae_t = _limit_from_events(ev, rate.sigma_pb, seed, keep=keep)
    return {
        "M": M,
        "y": y,
        "C_matched": cpl,
        "CS_sd_dropped": c["CS_sd"],
        "sigma_pb": rate.sigma_pb,
        "mu95_obs": obs,
        "mu95_exp": exp,
        "mu95_obs_truncated": obs_t,
        "fraction_kept_truncated": float(keep.mean()),
        "C_limit": abs(c["CS_dd"]) * math.sqrt(obs),
        "C_limit_truncated": abs(c["CS_dd"]) * math.sqrt(obs_t) if math.isfinite(obs_t) else math.inf,
    }


def limit_plane(
    masses, yukawas, *, mphi: float = 1.0, y1: float = 1.0, n_events: int = 3000, seed: int = 1, options=None
) -> dict:
    """μ₉₅ (observed and expected) and σ on the grid masses × yukawas (m_Q = m_D = M, the four
    first/second-generation Yukawas equal to y, y₁; :func:`benchmark_point`)."""
    shape = (len(masses), len(yukawas))
    mu, mu_exp, sig = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    fams = [[None] * len(yukawas) for _ in masses]
    for i, m in enumerate(masses):
        for j, y in enumerate(yukawas):
            r = uv_point_limit(float(m), float(y), mphi=mphi, y1=y1, n_events=n_events, seed=seed, options=options)
            mu[i, j], mu_exp[i, j], sig[i, j] = r["mu95_obs"], r["mu95_exp"], r["sigma_pb"]
            fams[i][j] = r["families_pb"]
    return {
        "masses": list(map(float, masses)),
        "yukawas": list(map(float, yukawas)),
        "mphi": mphi,
        "y1": y1,
        "n_events": n_events,
        "mu95_obs": mu.tolist(),
        "mu95_exp": mu_exp.tolist(),
        "sigma_pb": sig.tolist(),
        "families_pb": fams,
    }


@hep_style
def plot_limit_plane(path, plane: dict) -> None:
    """The 95% CL exclusion (μ₉₅ = 1 contour) of the UV model in the (m_Q, y) plane."""
    import matplotlib.pyplot as plt

    m, y, mu = np.array(plane["masses"]), np.array(plane["yukawas"]), np.array(plane["mu95_obs"])
    fig, ax = plt.subplots(figsize=(10, 8))
    cs = ax.contourf(m / 1000, y, np.log10(mu.T), levels=20, cmap="viridis")
    # the mu = 1 contours interpolated in log10(mu) (mu varies by decades between grid points)
    ax.contour(m / 1000, y, np.log10(mu.T), levels=[0.0], colors="r")
    if "mu95_exp" in plane:
        ax.contour(m / 1000, y, np.log10(np.array(plane["mu95_exp"]).T), levels=[0.0], colors="w", linestyles="--")
    ax.plot(*np.meshgrid(m / 1000, y), "k.", ms=5, clip_on=False)
    fig.colorbar(cs, label=r"$\log_{10}\mu_{95}$")
    ax.set_xlabel(r"$m_Q = m_D$ [TeV]")
    ax.set_ylabel(r"$y$ ($y_q^{d,s} = y_d^{d,s}$, $y_1 = 1$)")
    ax.set_title(
        r"ATLAS monojet 139 fb$^{-1}$: excluded left of the red (obs.) / white dashed (exp.) line", fontsize=14
    )
    save_figure(fig, path)


def eft_vs_uv(
    masses=(2000.0, 3000.0, 5000.0, 8000.0),
    *,
    y: float = 1.0,
    mphi: float = 1.0,
    n_events: int = 3000,
    seed: int = 1,
    options=None,
) -> list[dict]:
    """Per M: the UV μ₉₅, the EFT μ₉₅ (with/without truncation) for the matched coefficients, and
    the ratio of the implied limits on C: R = √(μ_UV/μ_EFT) (< 1: the UV model is more constrained)."""
    rows = []
    for m in masses:
        u = uv_point_limit(float(m), y, mphi=mphi, n_events=n_events, seed=seed, options=options)
        e = eft_point_limit(float(m), y, mphi=mphi, n_events=n_events, seed=seed)
        rows.append(
            {
                "M": float(m),
                "uv": u,
                "eft": e,
                "ratio_C_limit_uv_over_eft": math.sqrt(u["mu95_obs"] / e["mu95_obs"]),
                "ratio_C_limit_uv_over_eft_truncated": math.sqrt(u["mu95_obs"] / e["mu95_obs_truncated"]),
            }
        )
    return rows


@hep_style
def plot_eft_vs_uv(path, rows: list[dict]) -> None:
    """Limits on the coefficient (EFT, EFT truncated, UV-equivalent C_matched √μ_UV) and their ratio vs M."""
    import matplotlib.pyplot as plt

    M = np.array([r["M"] for r in rows]) / 1000
    c_eft = np.array([r["eft"]["C_limit"] for r in rows])
    c_tr = np.array([r["eft"]["C_limit_truncated"] for r in rows])
    c_uv = np.array([abs(r["eft"]["C_matched"]["CS_dd"]) * math.sqrt(r["uv"]["mu95_obs"]) for r in rows])
    fig, ax = plt.subplots(1, 2, figsize=(20, 8))
    ax[0].plot(M, c_eft, "o-", label="EFT (matched $C^{S,dd}, C^{S,ss}$)")
    ax[0].plot(M, c_tr, "^--", label=r"EFT, $\sqrt{\hat s} < M$")
    ax[0].plot(M, c_uv, "s-", label="UV model (as $C^{S,dd}_{matched}\\sqrt{\\mu_{95}}$)")
    ax[0].set_yscale("log")
    ax[0].set_xlabel("M [TeV]")
    ax[0].set_ylabel(r"95% CL limit on $C^{S,dd}$ [GeV$^{-1}$] (1/2 convention)")
    ax[0].legend(fontsize=14)
    ax[1].plot(M, [r["ratio_C_limit_uv_over_eft"] for r in rows], "o-", label="UV / EFT")
    ax[1].plot(M, [r["ratio_C_limit_uv_over_eft_truncated"] for r in rows], "^--", label="UV / EFT truncated")
    ax[1].axhline(1.0, color="0.6", lw=1)
    ax[1].set_xlabel("M [TeV]")
    ax[1].set_ylabel("ratio of the limits on C")
    ax[1].legend(fontsize=14)
    fig.suptitle(r"ATLAS monojet 139 fb$^{-1}$, $y = 1$, $m_\phi = 1$ GeV", fontsize=14)
    save_figure(fig, path)
