"""CMB energy injection from phi phi annihilation at recombination: f_eff per final state and p_ann.

    p_ann = sum_i f_eff,i(m_phi) <sigma v>_i / m_phi      (Planck 2018: p_ann < 3.2e-28 cm^3 s^-1 GeV^-1, 95%)

with <sigma v>_i the s-wave (v -> 0) rate of channel i (the DM velocity at z ~ 600 is ~1e-8).

f_eff of a final state is the energy-weighted average of Slatyer's f_eff^{e}(E) and f_eff^{gamma}(E)
(arXiv:1506.03811 Fig. 3, the efficiency of an injected e+e- or gamma-gamma pair of energy E per
particle, data file ``feff_slatyer2016_fig3.csv``) over the e+-, gamma spectra the final state
produces, divided by the energy 2 m_phi (neutrinos carry the rest):

    f_eff = 1/(2 m) [ int E dN_gamma/dE f_gamma(E) dE + int E dN_e/dE f_e(E) dE ]    (dN_e counts e+ and e-)

Derived here for the channels whose spectra are exact two-body kinematics:
- pi0 pi0: each pi0 (energy m_phi) -> gamma gamma, photon energies flat in [(E - p)/2, (E + p)/2];
- pi+ pi-: pi -> mu nu (100%), mu -> e nu nu with the polarised Michel spectrum (rho = 3/4):
  in the mu rest frame dN/(dx dcos) ~ x^2 [(3 - 2x) - (2x - 1) cos], cos the angle between e and
  the mu momentum (the mu from pi decay has helicity -1 for mu+ and +1 for mu-, and the e+ (e-)
  goes along (against) the mu spin; both give the same sign), then boosted to the pion frame and,
  with an isotropic angle, to the frame where the pion has energy m_phi; m_e neglected. Gauss-Legendre
  quadrature (deterministic).
Other final states (K+ K-, K0 K0bar, eta eta, pi0 eta; u, d, s, c, b quarks and gluons above m_switch):
f_eff derived with the same fold over the e+-, gamma spectra that Pythia 8 produces (decay tables of the
kaons, eta, pi, mu; string fragmentation of a q qbar / g g pair at sqrt(s) = 2 m_phi), table
``feff_derived_pythia.csv`` (derived, labelled in every result; 2000 events per point, statistical error
~1%; made by ``python -m analyses.dm.feff_pythia``). The method reproduces the exact pi0 pi0 value within
0.2% and pi+ pi- within +4% (Pythia's muon decay is unpolarised). K0 K0bar from a scalar is K_S K_S or
K_L K_L (C = +1), 50% each. Interpolation in log m inside each channel's mass grid; between the threshold
and the first grid point the first value is used; above the last point (100 GeV) the channel has no f_eff
and is left out of p_ann (listed in every result). Protons, antiprotons and neutrinos deposit nothing here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from importlib import resources

import numpy as np

from evtgen.errors import PhiphiError

from . import annihilation as ann

FEFF_FILE = "feff_slatyer2016_fig3.csv"
FEFF_DERIVED_FILE = "feff_derived_pythia.csv"
#: channels whose f_eff this module derives exactly
DERIVED = ("pi0pi0", "pipi")


def _read_csv(name: str) -> np.ndarray:
    with (resources.files("analyses") / "data" / "dm" / name).open("r") as fh:
        rows = [ln for ln in fh if ln.strip() and ln[0] not in "#" and (ln[0].isdigit() or ln[0] in "-.")]
    return np.array([[float(v) for v in ln.split(",")] for ln in rows])


@functools.cache
def feff_curves() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log10 E/eV, f_e, f_gamma) of Slatyer 2016 Fig. 3 (micrOMEGAs digitisation)."""
    d = _read_csv(FEFF_FILE)
    return d[:, 0], d[:, 1], d[:, 2]


def f_e(energy_gev: np.ndarray | float) -> np.ndarray:
    """f_eff of an injected e+e- pair with energy E per particle (GeV); 0 below 5 keV."""
    lg, fe, _ = feff_curves()
    l10 = np.log10(np.maximum(np.asarray(energy_gev, float), 1e-300) * 1e9)
    return np.where(l10 < lg[0], 0.0, np.interp(l10, lg, fe))


def f_gamma(energy_gev: np.ndarray | float) -> np.ndarray:
    """f_eff of an injected photon pair with energy E per photon (GeV); 0 below 5 keV."""
    lg, _, fg = feff_curves()
    l10 = np.log10(np.maximum(np.asarray(energy_gev, float), 1e-300) * 1e9)
    return np.where(l10 < lg[0], 0.0, np.interp(l10, lg, fg))


def _gl(n: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (b - a) * x + 0.5 * (b + a), 0.5 * (b - a) * w


def feff_pi0pi0(mphi: float) -> float:
    """f_eff of phi phi -> pi0 pi0 at rest (derived: pi0 -> gamma gamma box spectrum x f_gamma)."""
    m_pi = ann.pdg_mass(111)
    if mphi < m_pi:
        raise PhiphiError(f"phi phi -> pi0 pi0 needs mphi >= {m_pi:.4f} GeV (got {mphi:g})")
    p = math.sqrt(max(mphi * mphi - m_pi * m_pi, 0.0))
    lo, hi = 0.5 * (mphi - p), 0.5 * (mphi + p)
    if hi - lo < 1e-9 * mphi:
        return float(f_gamma(0.5 * mphi))
    e, w = _gl(200, lo, hi)
    # two pions x two photons, each photon flat in [lo, hi]
    return float(4.0 / (2.0 * mphi) * np.sum(w * e * f_gamma(e)) / (hi - lo))


def electron_energies_pipi(mphi: float, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """(E_e, weight) nodes of the e+- energy distribution from one pi+- of energy mphi (weights sum to 1)."""
    m_pi, m_mu = ann.pdg_mass(211), ann.pdg_mass(13)
    if mphi < m_pi:
        raise PhiphiError(f"phi phi -> pi+ pi- needs mphi >= {m_pi:.4f} GeV (got {mphi:g})")
    # mu in the pion rest frame
    e_mu = (m_pi**2 + m_mu**2) / (2 * m_pi)
    g_mu, b_mu = e_mu / m_mu, math.sqrt(1 - (m_mu / e_mu) ** 2)
    # pion in the annihilation frame
    g_pi = mphi / m_pi
    b_pi = math.sqrt(max(1 - 1 / g_pi**2, 0.0))
    x, wx = _gl(n, 0.0, 1.0)
    c1, w1 = _gl(n, -1.0, 1.0)
    c2, w2 = _gl(n, -1.0, 1.0)
    X, C1, C2 = np.meshgrid(x, c1, c2, indexing="ij")
    W = wx[:, None, None] * w1[None, :, None] * w2[None, None, :]
    dens = X**2 * ((3 - 2 * X) - (2 * X - 1) * C1)  # polarised Michel, normalised below
    e_rest = 0.5 * m_mu * X
    e_pi = g_mu * e_rest * (1 + b_mu * C1)  # massless e, boost along the mu direction
    e_lab = g_pi * e_pi * (1 + b_pi * C2)  # isotropic direction relative to the pion boost
    wt = W * dens * 0.5  # C2 uniform: density 1/2
    wt = wt / wt.sum()
    return e_lab.ravel(), wt.ravel()


def feff_pipi(mphi: float) -> float:
    """f_eff of phi phi -> pi+ pi- at rest (derived: pi -> mu -> e spectrum x f_e)."""
    e, w = electron_energies_pipi(mphi)
    return float(2.0 * np.sum(w * e * f_e(e)) / (2.0 * mphi))


@functools.cache
def feff_derived_table() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """channel -> (m_phi grid [GeV], f_eff) of the Pythia-derived table (see the module docstring)."""
    import csv

    with (resources.files("analyses") / "data" / "dm" / FEFF_DERIVED_FILE).open("r") as fh:
        rows = list(csv.DictReader(ln for ln in fh if ln.strip() and not ln.startswith("#")))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ch in dict.fromkeys(r["channel"] for r in rows):
        sel = sorted((float(r["mphi_GeV"]), float(r["f_eff"])) for r in rows if r["channel"] == ch)
        out[ch] = (np.array([a for a, _ in sel]), np.array([b for _, b in sel]))
    return out


def feff_pythia(channel: str, mphi: float) -> float | None:
    """Pythia-derived f_eff of a channel at m_phi (None above the table's last mass or for an unknown channel)."""
    tab = feff_derived_table().get(channel)
    if tab is None:
        return None
    m, f = tab
    if mphi > m[-1] * (1 + 1e-12):
        return None
    return float(np.interp(math.log(max(mphi, m[0])), np.log(m), f))


def f_eff_channels(mphi: float) -> dict[str, float | None]:
    """f_eff per channel of :mod:`annihilation` (None: not available, see the module docstring)."""
    out: dict[str, float | None] = {k: None for k in ann.CHANNELS}
    for ch in ann.CHANNELS:
        if ch not in DERIVED:
            m1, m2 = ann.final_masses(ch)
            if 2 * mphi >= m1 + m2:
                out[ch] = feff_pythia(ch, mphi)
    if mphi >= ann.pdg_mass(111):
        out["pi0pi0"] = feff_pi0pi0(mphi)
    if mphi >= ann.pdg_mass(211):
        out["pipi"] = feff_pipi(mphi)
    return out


def p_ann_limit_95() -> float:
    """Planck 2018 95% CL upper limit on p_ann (cm^3 s^-1 GeV^-1)."""
    return float(ann.constants()["cmb"]["p_ann_95"]["value"])


def p_ann(mphi: float, couplings: Mapping[str, float], *, m_switch: float | None = None) -> dict:
    """p_ann (cm^3 s^-1 GeV^-1) of the point and its parts: s-wave sigma v per channel (GeV^-2 and cm^3/s),
    f_eff per channel, the channels left out (open, but no f_eff), and the s-wave fractions."""
    sw = ann.sigma_v_swave(mphi, couplings, m_switch=m_switch)
    fe = f_eff_channels(mphi)
    total = sum(sw.values())
    value = 0.0
    missing = []
    for ch, sv in sw.items():
        if sv <= 0:
            continue
        if fe[ch] is None:
            missing.append(ch)
            continue
        value += fe[ch] * ann.gev2_to_cm3_s(sv) / mphi
    fractions = {k: (v / total if total > 0 else 0.0) for k, v in sw.items() if v > 0}
    return {
        "p_ann": value,
        "sigma_v_swave_GeV-2": {k: v for k, v in sw.items() if v > 0},
        "sigma_v_swave_cm3_s": {k: ann.gev2_to_cm3_s(v) for k, v in sw.items() if v > 0},
        "f_eff": {k: v for k, v in fe.items() if v is not None},
        "channels_without_f_eff": missing,
        "fractions_recombination": fractions,
        "fraction_without_f_eff": sum(fractions[k] for k in missing),
    }
