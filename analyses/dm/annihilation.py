"""Annihilation phi phi -> final states: sigma v per channel, its thermal average and its s-wave limit.

Convention (the project's, :mod:`evtgen.couplings`): L > 1/2 C^{S,qq} (qbar q) phi^2 + C_G G G phi^2.
All rates are sigma * v with v = |v1 - v2| in the centre-of-mass frame, v = 2 sqrt(1 - 4 m^2/s), in
GeV^-2, so that at s -> 4 m^2 sigma v is the usual non-relativistic "sigma v_rel"::

    sigma v (s) = |M|^2 beta_f S_f / (8 pi s),   beta_f = sqrt(1 - 4 m_f^2 / s)  (equal final masses)

with S_f = 1/2 for identical final particles. No factor for the identical initial phi's: the
Boltzmann equation dn/dt = -<sigma v> (n^2 - n_eq^2) of a self-conjugate particle uses this sigma.

Hadronic regime (m_phi < m_switch): leading-order chiral perturbation theory. phi^2 enters as a
shift of the quark mass matrix, M -> M - 1/2 diag(C_uu, C_dd, C_ss) phi^2, i.e. chi = 2 B M gets
-B C phi^2, which gives (docs/dark_matter_relic_cmb.md derives it)::

    M(pi+ pi-) = M(pi0 pi0) = B (C_uu + C_dd),    M(K+ K-) = B (C_uu + C_ss),    M(K0 K0bar) = B (C_dd + C_ss),
    M(eta eta) = B (C_uu + C_dd + 4 C_ss) / 3,    M(pi0 eta) = B (C_uu - C_dd) / sqrt(3)

with B = m_pi0^2/(m_u + m_d). The gluon operator enters through the trace anomaly,
theta^mu_mu = -(9 alpha_s/8 pi) G G + sum_q m_q qbar q (n_f = 3), and <P P|theta|0> = s + 2 m_P^2,
<P P|sum m_q qbar q|0> = m_P^2 at LO, so every P P channel (P = pi, K, eta) gets
-(16 pi/(9 alpha_s)) C_G (s + m_P^2) added to its amplitude (pi0 eta gets none).
Heavy quarks (c, b) are integrated out at LO (Shifman-Vainshtein-Zakharov): 1/2 C_QQ Qbar Q phi^2 ->
Delta C_G = -alpha_s C_QQ / (24 pi m_Q), below their threshold in both regimes.

Partonic regime (m_phi >= m_switch): phi phi -> q qbar (q = u, d, s, c, b),
sigma v = N_c C_qq^2 beta_q^3 / (4 pi) (the q qbar pair is in a P-wave of the scalar current), and
phi phi -> g g, sigma v = 16 C_G^2 s / pi (Sum |M|^2 = 256 C_G^2 s^2; c = 2 C_G in L = c S G G gives
Gamma(S -> gg) = 2 c^2 m^3/pi, the check in the physics README's monojet notes).

The switch-over m_switch = 1.5 GeV (data file, overridable) is a documented choice: LO ChPT is
trustworthy for sqrt(s) below ~1 GeV (m_phi < 0.5 GeV), the seed uses it at m_phi ~ 1 GeV; a
perturbative q qbar/gg rate is trustworthy above ~2 GeV. Between, both are approximations.

Thermal average: Gondolo & Gelmini, Nucl. Phys. B360 (1991) 145, eq. 3.8, written for sigma v_cm
with u = sqrt(s)/(2m)::

    <sigma v>(x) = 4 x / K2(x)^2 int_1^inf (sigma v)(u) u^3 sqrt(u^2 - 1) K1(2 x u) du

evaluated with exponentially scaled Bessel functions on a fixed grid in z = sqrt(2 x (u - 1))
(vectorised numpy; thresholds of forbidden channels are resolved because the grid extends past them).
We code this ourselves: none of the project's dependencies provides a thermal average.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

import numpy as np
import yaml
from scipy.special import k1e, kve

from evtgen import constants as evc
from evtgen.errors import PhiphiError

DATA_FILE = "relic_cmb_constants.yaml"
#: couplings this module reads (others are ignored: flavour-changing ones do not annihilate phi phi)
COUPLINGS = ("CS_uu", "CS_dd", "CS_ss", "CS_cc", "CS_bb", "CG")
#: hadronic and partonic final states
HADRONIC = ("pipi", "pi0pi0", "KK", "K0K0", "etaeta", "pi0eta")
PARTONIC = ("uu", "dd", "ss", "cc", "bb", "gg")
CHANNELS = HADRONIC + PARTONIC
#: final-state particles of each channel (PDG ids; for the CMB energy deposition)
FINAL_STATES = {
    "pipi": (211, -211),
    "pi0pi0": (111, 111),
    "KK": (321, -321),
    "K0K0": (311, -311),
    "etaeta": (221, 221),
    "pi0eta": (111, 221),
    "uu": (2, -2),
    "dd": (1, -1),
    "ss": (3, -3),
    "cc": (4, -4),
    "bb": (5, -5),
    "gg": (21, 21),
}
N_C = 3.0


@functools.cache
def constants() -> dict[str, Any]:
    """The parsed data file ``analyses/data/dm/relic_cmb_constants.yaml`` (cached, do not mutate)."""
    with (resources.files("analyses") / "data" / "dm" / DATA_FILE).open("r") as fh:
        return yaml.safe_load(fh)


def _value(block: str, key: str) -> float:
    return float(constants()[block][key]["value"])


@functools.cache
def pdg_mass(pdgid: int) -> float:
    """PDG mass in GeV from ``particle``."""
    from particle import Particle

    return Particle.from_pdgid(pdgid).mass / 1000.0


@functools.cache
def quark_masses() -> dict[str, float]:
    """MS-bar quark masses (GeV): m_u from this module's data file, m_d, m_s, m_b from evtgen's."""
    return {
        "u": _value("chiral", "m_u"),
        "d": evc.value("quark_masses", "m_d"),
        "s": evc.value("quark_masses", "m_s"),
        "c": _value("perturbative", "m_c"),
        "b": evc.value("quark_masses", "m_b"),
    }


@functools.cache
def chiral_B() -> float:
    """B = m_pi0^2 / (m_u + m_d) (GeV), the LO condensate parameter (derived)."""
    m = quark_masses()
    return pdg_mass(111) ** 2 / (m["u"] + m["d"])


@functools.cache
def alpha_s_hadronic() -> float:
    """alpha_s at mu_hadronic with the project's one-loop running (evtgen.pdf.alphas_lo)."""
    from evtgen import pdf

    par = pdf.alphas_params(_value("chiral", "alpha_s_MZ"))
    return float(pdf.alphas_lo(par, _value("chiral", "mu_hadronic") ** 2))


def m_switch_default() -> float:
    """The default chiral / partonic switch-over mass (GeV) from the data file."""
    return _value("perturbative", "m_switch")


def _coupling_values(couplings: Mapping[str, float]) -> dict[str, float]:
    out = {k: 0.0 for k in COUPLINGS}
    for k, v in couplings.items():
        if k in out:
            x = float(v)
            if not math.isfinite(x):
                raise PhiphiError(f"{k} = {v!r} is not a finite number")
            out[k] = x
    return out


def _check_mass(mphi: float) -> float:
    m = float(mphi)
    if not (math.isfinite(m) and m > 0):
        raise PhiphiError(f"mphi = {mphi!r} GeV must be a positive number")
    return m


def effective_cg(couplings: Mapping[str, float], mphi: float) -> float:
    """C_G plus the LO heavy-quark decoupling of c and b below their thresholds (m_Q > m_phi)."""
    c = _coupling_values(couplings)
    a_s = alpha_s_hadronic()
    cg = c["CG"]
    for q in ("c", "b"):
        mq = quark_masses()[q]
        if mq > mphi:
            cg -= a_s * c[f"CS_{q}{q}"] / (24.0 * math.pi * mq)
    return cg


def hadronic_amplitudes(mphi: float, couplings: Mapping[str, float], s: np.ndarray) -> dict[str, np.ndarray]:
    """LO chiral amplitudes M(phi phi -> P P') (dimensionless) at Mandelstam s (GeV^2)."""
    c = _coupling_values(couplings)
    B = chiral_B()
    g = -16.0 * math.pi / (9.0 * alpha_s_hadronic()) * effective_cg(couplings, mphi)
    m = {k: pdg_mass(p) for k, p in (("pi", 211), ("pi0", 111), ("K", 321), ("K0", 311), ("eta", 221))}
    s = np.asarray(s, float)
    return {
        "pipi": B * (c["CS_uu"] + c["CS_dd"]) + g * (s + m["pi"] ** 2),
        "pi0pi0": B * (c["CS_uu"] + c["CS_dd"]) + g * (s + m["pi0"] ** 2),
        "KK": B * (c["CS_uu"] + c["CS_ss"]) + g * (s + m["K"] ** 2),
        "K0K0": B * (c["CS_dd"] + c["CS_ss"]) + g * (s + m["K0"] ** 2),
        "etaeta": B * (c["CS_uu"] + c["CS_dd"] + 4.0 * c["CS_ss"]) / 3.0 + g * (s + m["eta"] ** 2),
        "pi0eta": B * (c["CS_uu"] - c["CS_dd"]) / math.sqrt(3.0) + 0.0 * s,
    }


def _beta_two(s: np.ndarray, m1: float, m2: float) -> np.ndarray:
    """2|p|/sqrt(s) of a two-body final state (0 below threshold)."""
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    return np.where(s > (m1 + m2) ** 2, np.sqrt(np.maximum(lam, 0.0)) / np.maximum(s, 1e-300), 0.0)


def final_masses(channel: str) -> tuple[float, float]:
    """(m1, m2) of a channel's final state in GeV (PDG masses; MS-bar masses for quarks, 0 for gluons)."""
    a, b = FINAL_STATES[channel]
    if abs(a) <= 5:
        mq = quark_masses()["udscb"[abs(a) - 1]]
        return mq, mq
    if a == 21:
        return 0.0, 0.0
    return pdg_mass(abs(a)), pdg_mass(abs(b))


def sigma_v_channels(
    mphi: float, couplings: Mapping[str, float], s: float | np.ndarray, *, m_switch: float | None = None
) -> dict[str, np.ndarray]:
    """sigma v_cm (GeV^-2) per final state at Mandelstam s (GeV^2; s >= 4 mphi^2).

    Keys: the hadronic channels (pipi = pi+ pi-, pi0pi0, KK = K+ K-, K0K0, etaeta, pi0eta) for
    mphi < m_switch, the partonic ones (uu, dd, ss, cc, bb, gg) above; the others are zero."""
    m = _check_mass(mphi)
    msw = m_switch_default() if m_switch is None else float(m_switch)
    s = np.atleast_1d(np.asarray(s, float))
    if np.any(s < 4.0 * m * m * (1 - 1e-12)):
        raise PhiphiError(f"s = {float(s.min()):g} GeV^2 is below the threshold 4 mphi^2 = {4 * m * m:g} GeV^2")
    zero = np.zeros_like(s)
    out = {k: zero.copy() for k in CHANNELS}
    c = _coupling_values(couplings)
    if m < msw:
        amp = hadronic_amplitudes(m, couplings, s)
        for ch in HADRONIC:
            m1, m2 = final_masses(ch)
            sym = 0.5 if FINAL_STATES[ch][0] == FINAL_STATES[ch][1] else 1.0
            out[ch] = amp[ch] ** 2 * _beta_two(s, m1, m2) * sym / (8.0 * math.pi * s)
    else:
        for q in "udscb":
            mq = quark_masses()[q]
            beta = _beta_two(s, mq, mq)
            out[q + q] = N_C * c[f"CS_{q}{q}"] ** 2 * beta**3 / (4.0 * math.pi)
        out["gg"] = 16.0 * effective_cg(couplings, m) ** 2 * s / math.pi
    return out


def sigma_v_swave(mphi: float, couplings: Mapping[str, float], *, m_switch: float | None = None) -> dict[str, float]:
    """The v -> 0 limit of sigma v (GeV^-2) per channel (s = 4 mphi^2), for the CMB."""
    m = _check_mass(mphi)
    res = sigma_v_channels(m, couplings, 4.0 * m * m, m_switch=m_switch)
    return {k: float(v[0]) for k, v in res.items()}


@functools.cache
def _z_grid(n: int = 400, z_max: float = 9.0) -> tuple[np.ndarray, np.ndarray]:
    """Composite-Simpson nodes and weights on [0, z_max]."""
    n = n + (n % 2)
    z = np.linspace(0.0, z_max, n + 1)
    w = np.ones(n + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return z, w * (z_max / n) / 3.0


def thermal_average_grid(
    mphi: float, couplings: Mapping[str, float], x: np.ndarray, *, m_switch: float | None = None, n: int = 400
) -> dict[str, np.ndarray]:
    """<sigma v>(x) (GeV^-2) per channel on an array of x = mphi/T (Gondolo-Gelmini)."""
    m = _check_mass(mphi)
    x = np.atleast_1d(np.asarray(x, float))
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise PhiphiError("x = mphi/T must be positive and finite")
    # y = 2 x (u - 1) = z^2 ; the grid reaches far enough beyond the highest open threshold
    u_th = 1.0
    for ch in CHANNELS:
        m1, m2 = final_masses(ch)
        u_th = max(u_th, min((m1 + m2) / (2 * m), 3.0))
    z_max = max(9.0, math.sqrt(2.0 * float(x.max()) * (u_th - 1.0)) + 7.0)
    z, wz = _z_grid(n, z_max)
    y = z * z
    u = 1.0 + y[None, :] / (2.0 * x[:, None])  # (nx, nz)
    s = 4.0 * m * m * u * u
    rates = sigma_v_channels(m, couplings, s.ravel(), m_switch=m_switch)
    # <sv> = 4x/K2^2 int sv u^3 sqrt(u^2-1) K1(2xu) du,  du = z dz / x,  sqrt(u^2-1) = z sqrt((u+1)/(2x))
    kern = u**3 * np.sqrt((u + 1.0) / (2.0 * x[:, None])) * k1e(2.0 * x[:, None] * u) * np.exp(-y[None, :])
    kern = kern * (z * z)[None, :] / x[:, None] * wz[None, :]
    pref = 4.0 * x / kve(2, x) ** 2
    return {k: pref * np.sum(v.reshape(s.shape) * kern, axis=1) for k, v in rates.items()}


def sigma_v_thermal(
    mphi: float, couplings: Mapping[str, float], x: float, *, m_switch: float | None = None
) -> dict[str, float]:
    """<sigma v> (GeV^-2) per channel at x = mphi/T (Gondolo-Gelmini thermal average)."""
    res = thermal_average_grid(mphi, couplings, np.array([float(x)]), m_switch=m_switch)
    return {k: float(v[0]) for k, v in res.items()}


def gev2_to_cm3_s(sigma_v: float) -> float:
    """sigma v in GeV^-2 -> cm^3 s^-1 ((hbar c)^2 c)."""
    hc = _value("cosmology", "hbar_c_cm")
    return sigma_v * hc * hc * _value("cosmology", "c_cm_s")
