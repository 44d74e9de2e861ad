"""ATLAS emulation for the 13 TeV monojet search (arXiv:2102.10874), driven by ``data/atlas_card.yaml``.

Input: either parton-level ``pp2jphiphi``/``pp2js`` events (the recoiling parton is the jet;
true p_T^miss = −p_T(jet)) or showered events from ``phiphi shower`` (anti-k_t 0.4 ``jets``,
``electrons``, ``muons``, ``photons``, true ``met_true_x/y``).

Model (all numbers in the card, with sources):
* jets: calibrated response 1, log-normal energy smearing with the Delphes ATLAS HCAL resolution
  in |η| bins (direction kept);
* E_T^miss = true p_T^miss − Σ_hard-term jets (smeared − true p_T) + Gaussian soft term;
* the signal-region selection and vetoes of the paper; the exclusive bin EM0–EM12.

Output: flat per-event fields (writable to .root/.parquet by ``evtgen.io``): ``met``, ``met_phi``,
``met_true``, ``n_jets``, ``jet1_pt/eta/phi`` … ``jet4_*``, ``min_dphi``, ``veto``, ``pass_sr``,
``em_bin`` (−1 outside the signal region), and the hard-process ``shat`` / ``m2_phiphi`` / ``m2_S``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import awkward as ak
import numpy as np
import yaml

from evtgen.errors import PhiphiError

CARD_SOURCE = "detector/data/atlas_card.yaml (arXiv:2102.10874; Delphes ATLAS card; arXiv:1802.08168)"
NJ = 4


@lru_cache(maxsize=1)
def packaged_card() -> dict:
    """The packaged card detector/data/atlas_card.yaml (cached; do not mutate)."""
    c = yaml.safe_load(resources.files("detector").joinpath("data/atlas_card.yaml").read_text())
    c["binning"]["em_edges"] = [float(x) for x in c["binning"]["em_edges"]]
    return c


def jet_resolution(e: np.ndarray, abseta: np.ndarray, cfg: dict | None = None) -> np.ndarray:
    """Relative energy resolution σ(E)/E of a jet (card: Delphes ATLAS HCAL)."""
    e = np.maximum(np.asarray(e, float), 1e-9)
    out = np.full(e.shape, np.nan)
    for lo, hi, a, b, c in (cfg or packaged_card())["jets"]["resolution"]:
        m = (abseta >= lo) & (abseta <= hi)
        out[m] = np.sqrt(a * a + b * b / e[m] + c * c / e[m] ** 2)
    return out


def _lognormal(rng, mean: np.ndarray, rel_sigma: np.ndarray) -> np.ndarray:
    """Log-normal with the given mean and relative width (as Delphes' LogNormal)."""
    s2 = np.log1p(rel_sigma**2)
    return mean * np.exp(rng.standard_normal(mean.shape) * np.sqrt(s2) - 0.5 * s2)


def _eta(px, py, pz):
    pt = np.hypot(px, py)
    return np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0))


def _jets_from_events(events: ak.Array, cfg: dict):
    """(px, py, pz, E) padded arrays (n, k) of truth jets, true MET (x, y), veto flags."""
    n = len(events)
    fields = events.fields
    if "jets" in fields:  # showered events
        jets = events.jets
        k = max(int(ak.max(ak.num(jets), initial=0)), 1)
        pad = lambda a: ak.to_numpy(ak.fill_none(ak.pad_none(a, k, clip=True), 0.0))  # noqa: E731
        px, py, pz, e = pad(jets.px), pad(jets.py), pad(jets.pz), pad(jets.E)
        tx, ty = ak.to_numpy(events.met_true_x), ak.to_numpy(events.met_true_y)
        veto = np.zeros(n, dtype=bool)
        vc = cfg["selection"]["vetoes"]
        for name, key in (("electrons", "electron"), ("muons", "muon"), ("photons", "photon")):
            if name in fields:
                o = events[name]
                pt = np.hypot(o.px, o.py)
                eta = np.arcsinh(o.pz / pt)
                sel = (pt > vc[key]["pt_min"]) & (abs(eta) < vc[key]["abs_eta_max"])
                veto |= ak.to_numpy(ak.any(sel, axis=1))
        return px, py, pz, e, tx, ty, veto
    if "j" not in fields:
        raise PhiphiError("ATLAS emulation needs pp2jphiphi/pp2js events (field 'j') or showered events (field 'jets')")
    j = events.j
    px, py, pz, e = (ak.to_numpy(getattr(j, c))[:, None] for c in ("px", "py", "pz", "E"))
    return px, py, pz, e, -px[:, 0], -py[:, 0], np.zeros(n, dtype=bool)


def read_input(path) -> ak.Array:
    """Events for :func:`simulate` from a file: showered Parquet files (jagged ``jets``, written by
    ``phiphi shower``) are read with awkward directly, parton-level files with ``evtgen.io``."""
    from pathlib import Path

    from evtgen.io import read_events

    p = Path(path)
    if p.suffix.lower() == ".parquet" and p.is_file():
        try:
            arr = ak.from_parquet(p)
        except Exception as exc:
            raise PhiphiError(f"cannot read events from {str(path)!r}: {type(exc).__name__}") from None
        if "jets" in arr.fields:
            return arr
    return read_events(path)


def simulate(events: ak.Array, *, seed: int = 0, card: dict | None = None) -> ak.Array:
    """Reconstructed-level monojet quantities (flat fields) for ``events`` (``card``: a card
    dict of the same layout as detector/data/atlas_card.yaml; None = the packaged one)."""
    c = packaged_card() if card is None else card
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 2102_10874])))
    px, py, pz, e, tx, ty, veto = _jets_from_events(events, c)
    n, k = px.shape
    pt_true = np.hypot(px, py)
    eta = _eta(px, py, pz)
    phi = np.arctan2(py, px)
    inside = (np.abs(eta) < c["jets"]["max_abs_eta"]) & (e > 0)
    res = np.where(inside, jet_resolution(np.where(e > 0, e, 1.0), np.minimum(np.abs(eta), 4.9), c), 0.0)
    res = np.nan_to_num(res)
    e_s = np.where(inside, _lognormal(rng, np.where(e > 0, e, 1.0) * c["jets"]["response"], res), 0.0)
    scale = np.divide(e_s, e, out=np.zeros_like(e_s), where=e > 0)
    pt = pt_true * scale
    hard = inside & (pt > c["jets"]["met_min_pt"])
    # E_T^miss: truth minus the jet mismeasurement, plus soft term
    dx = np.where(hard, (scale - 1.0) * px, 0.0).sum(1)
    dy = np.where(hard, (scale - 1.0) * py, 0.0).sum(1)
    s = c["met"]["soft_term_sigma"]
    mx = tx - dx + rng.normal(0.0, s, n)
    my = ty - dy + rng.normal(0.0, s, n)
    met = np.hypot(mx, my)
    met_phi = np.arctan2(my, mx)
    # selected jets, ordered in smeared p_T
    sel = c["selection"]
    good = inside & (pt > sel["jet_pt_min"]) & (np.abs(eta) < sel["jet_abs_eta_max"])
    order = np.argsort(np.where(good, -pt, np.inf), axis=1)
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    gpt, geta, gphi, ggood = take(pt), take(eta), take(phi), take(good)
    nj = ggood.sum(1)
    dphi = np.abs((gphi - met_phi[:, None] + np.pi) % (2 * np.pi) - np.pi)
    min_dphi = np.where(ggood, dphi, np.inf).min(1)
    cut_dphi = np.where(met <= sel["low_met_max"], sel["min_dphi_low_met"], sel["min_dphi"])
    lead_ok = (
        ggood[:, 0] & (gpt[:, 0] > sel["leading_jet_pt_min"]) & (np.abs(geta[:, 0]) < sel["leading_jet_abs_eta_max"])
    )
    pass_sr = (met > sel["met_min"]) & lead_ok & (nj <= sel["max_jets"]) & (min_dphi > cut_dphi) & ~veto
    edges = np.array([float(x) for x in c["binning"]["em_edges"]])
    em_bin = np.where(pass_sr, np.searchsorted(edges, met, side="right") - 1, -1)
    out = {
        "met": met,
        "met_phi": met_phi,
        "met_true": np.hypot(tx, ty),
        "n_jets": nj.astype(np.int32),
        "min_dphi": np.where(np.isfinite(min_dphi), min_dphi, 9.0),
        "veto": veto,
        "pass_sr": pass_sr,
        "em_bin": em_bin.astype(np.int32),
    }
    kk = min(k, NJ)
    for i in range(NJ):
        have = ggood[:, i] if i < kk else np.zeros(n, bool)
        out[f"jet{i + 1}_pt"] = np.where(have, gpt[:, i], 0.0) if i < kk else np.zeros(n)
        out[f"jet{i + 1}_eta"] = np.where(have, geta[:, i], 0.0) if i < kk else np.zeros(n)
        out[f"jet{i + 1}_phi"] = np.where(have, gphi[:, i], 0.0) if i < kk else np.zeros(n)
        out[f"jet{i + 1}_pt_true"] = np.where(have, take(pt_true)[:, i], 0.0) if i < kk else np.zeros(n)
    for f in ("shat", "m2_phiphi", "m2_S", "m2_invisible"):
        if f in events.fields:
            out[f] = ak.to_numpy(events[f])
    return ak.zip(out, depth_limit=1)


def performance_plot(path, *, seed: int = 1, n: int = 20000) -> None:
    """Jet p_T response and E_T^miss resolution of the card (parton-level pp2jphiphi sample)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evtgen.monojet.channel import PP2JPhiPhi

    ev = PP2JPhiPhi().generate(n, mass=10.0, couplings={"CG": 1e-6}, seed=seed)
    r = simulate(ev, seed=seed)
    ok = r.jet1_pt.to_numpy() > 0
    resp = r.jet1_pt.to_numpy()[ok] / r.jet1_pt_true.to_numpy()[ok]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].hist(resp, bins=80, range=(0.6, 1.4), histtype="step")
    ax[0].set_xlabel("jet $p_T$(reco)/$p_T$(true)")
    ax[0].set_title(f"mean {resp.mean():.3f}, rms {resp.std():.3f}")
    mt = r.met_true.to_numpy()
    d = (r.met.to_numpy() - mt) / mt
    bins = np.array([150, 200, 300, 500, 800, 1500.0])
    idx = np.digitize(mt, bins) - 1
    rms = [d[idx == i].std() if np.sum(idx == i) > 20 else np.nan for i in range(len(bins) - 1)]
    ax[1].step(bins[:-1], rms, where="post")
    ax[1].set_xlabel("true $E_T^{miss}$ [GeV]")
    ax[1].set_ylabel(r"$\sigma(E_T^{miss})/E_T^{miss}$")
    ax[1].set_xscale("log")
    fig.suptitle("ATLAS emulation card: " + CARD_SOURCE, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
