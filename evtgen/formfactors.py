"""Hadronic form factors: BSZ z-expansion (B->K, B->K*), dispersive K->pi, HPQCD BCL f+.

Numba kernels take a flat parameter array so that the samplers can call them; Python
helpers build those arrays from the shipped data files and sample them from the
published covariances for rate uncertainties.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numba as nb
import numpy as np

from . import constants as C

# ---------------------------------------------------------------------------------------
# BSZ (Bharucha-Straub-Zwicky 2015) z-expansion
#   F(q2) = 1/(1 - q2/mR^2) * sum_k alpha_k [z(q2) - z(0)]^k
#   z(t) = (sqrt(t+ - t) - sqrt(t+ - t0)) / (sqrt(t+ - t) + sqrt(t+ - t0))
#   t+- = (mB +- mP)^2, t0 = t+ (1 - sqrt(1 - t-/t+))
# Parameter layout: [mR, t+, sqrt(t+ - t0), z(0), alpha0, alpha1, alpha2]
# ---------------------------------------------------------------------------------------
BSZ_NPAR = 7


@nb.njit(cache=True)
def bsz(q2, p):
    """BSZ form factor at ``q2`` for parameter array ``p`` (see module layout)."""
    a = np.sqrt(p[1] - q2)
    dz = (a - p[2]) / (a + p[2]) - p[3]
    return (p[4] + p[5] * dz + p[6] * dz * dz) / (1.0 - q2 / (p[0] * p[0]))


def bsz_params(m_parent: float, m_daughter: float, pole: float, alphas) -> np.ndarray:
    """Parameter array for :func:`bsz` from masses, pole mass and (alpha0, alpha1, alpha2)."""
    tp = (m_parent + m_daughter) ** 2
    tm = (m_parent - m_daughter) ** 2
    t0 = tp * (1.0 - np.sqrt(1.0 - tm / tp))
    z0 = (np.sqrt(tp) - np.sqrt(tp - t0)) / (np.sqrt(tp) + np.sqrt(tp - t0))
    a = np.asarray(alphas, dtype=np.float64)
    return np.array([pole, tp, np.sqrt(tp - t0), z0, a[0], a[1], a[2]])


# ---------------------------------------------------------------------------------------
# K -> pi dispersive form factors (Bernard, Oertel, Passemar, Stern, arXiv:0903.1654)
#   x = q2/t0, t0 = (mK - mpi)^2, Delta = mK^2 - mpi^2
#   f0(q2) = f+(0) exp[q2/Delta (lnC - G(x))], G = x D + (1 - x) d + x (1 - x) k
# Parameter layout: [f+(0), lnC, D, d, k, t0, Delta]
# ---------------------------------------------------------------------------------------
KPI_NPAR = 7


@nb.njit(cache=True)
def kpi_f0(q2, p):
    """Scalar K->pi form factor f0(q2)."""
    x = q2 / p[5]
    g = x * p[2] + (1.0 - x) * p[3] + x * (1.0 - x) * p[4]
    return p[0] * np.exp(q2 / p[6] * (p[1] - g))


def kpi_f0_params(values: dict | None = None) -> np.ndarray:
    """Parameter array for :func:`kpi_f0` (K+ and pi+ PDG masses)."""
    v = values or _kpi_central()
    mk, mpi = C.mass("K+"), C.mass("pi+")
    return np.array([v["f_plus_0"], v["lnC"], v["D"], v["d"], v["k"], (mk - mpi) ** 2, mk**2 - mpi**2])


def kpi_fplus(q2, values: dict | None = None):
    """Vector K->pi form factor f+(q2) (dispersive, numpy)."""
    v = values or _kpi_central()
    mk, mpi = C.mass("K+"), C.mass("pi+")
    x = np.asarray(q2) / (mk - mpi) ** 2
    h = v["H1"] * x + v["H2"] * x * x
    return v["f_plus_0"] * np.exp(np.asarray(q2) / mpi**2 * (v["Lambda_plus"] + h))


def _kpi_central() -> dict:
    blk = C.load_yaml("constants.yaml")["kpi_formfactors"]
    return {k: float(e["value"]) for k, e in blk.items()}


def sample_kpi_values(rng: np.random.Generator, n: int) -> list[dict]:
    """``n`` draws of the K->pi inputs, each Gaussian with its quoted error (uncorrelated)."""
    blk = C.load_yaml("constants.yaml")["kpi_formfactors"]
    draws = []
    for _ in range(n):
        draws.append(
            {k: float(e["value"]) + float(e.get("error", 0.0)) * rng.standard_normal() for k, e in blk.items()}
        )
    return draws


# ---------------------------------------------------------------------------------------
# Published parameter sets with covariance
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GaussianSet:
    """Means and covariance of a form-factor parameter vector, with its source."""

    names: tuple[str, ...]
    mean: np.ndarray
    cov: np.ndarray
    source: str

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.multivariate_normal(self.mean, self.cov, size=n, method="cholesky")


@functools.cache
def grvdv2023_bk() -> GaussianSet:
    """B->K BSZ coefficients of Gubernari-Reboud-van Dyk-Virto 2023 (arXiv:2305.06301)."""
    blk = C.load_yaml("constants.yaml")["bk_formfactors"]
    data = C.load_yaml(blk["file"])[blk["block"]]
    names = tuple(o.split("::")[1].split("@")[0] for o in data["observables"])
    return GaussianSet(
        names, np.array(data["means"], float), np.array(data["covariance"], float), "arXiv:2305.06301 (EOS)"
    )


def bk_f0_alphas(vec: np.ndarray) -> np.ndarray:
    """(alpha0, alpha1, alpha2) of f0 from a GRvDV vector; alpha0^0 = alpha0^+ (f0(0) = f+(0))."""
    return np.array([vec[0], vec[3], vec[4]])


def bk_fplus_alphas(vec: np.ndarray) -> np.ndarray:
    """(alpha0, alpha1, alpha2) of f+ from a GRvDV vector."""
    return np.array([vec[0], vec[1], vec[2]])


def bk_params(which: str, vec: np.ndarray | None = None) -> np.ndarray:
    """BSZ parameter array of the B->K form factor ``which`` ("f0" or "f+")."""
    blk = C.load_yaml("constants.yaml")["bk_formfactors"]
    vec = grvdv2023_bk().mean if vec is None else vec
    mb, mk = float(blk["m_B"]["value"]), float(blk["m_K"]["value"])
    if which == "f0":
        return bsz_params(mb, mk, float(blk["pole_0plus"]["value"]), bk_f0_alphas(vec))
    if which == "f+":
        return bsz_params(mb, mk, float(blk["pole_1minus"]["value"]), bk_fplus_alphas(vec))
    raise ValueError(which)


@functools.cache
def bsz2015_bkstar_a0() -> GaussianSet:
    """B->K* A0 BSZ coefficients and covariance (arXiv:1503.05534, LCSR+lattice fit)."""
    blk = C.load_yaml("constants.yaml")["bkstar_formfactors"]
    data = C.load_json(blk["file"])
    cen = data["central"]["A0"]
    cov = data["covariance"]["A0A0"]
    keys = ("a0", "a1", "a2")
    mean = np.array([cen[k] for k in keys])
    covm = np.array([[cov[a + b] for b in keys] for a in keys])
    return GaussianSet(("A0_a0", "A0_a1", "A0_a2"), mean, covm, "arXiv:1503.05534")


def bkstar_a0_params(vec: np.ndarray | None = None) -> np.ndarray:
    """BSZ parameter array of A0(q2) for B0 -> K*0 (PDG masses)."""
    blk = C.load_yaml("constants.yaml")["bkstar_formfactors"]
    vec = bsz2015_bkstar_a0().mean if vec is None else vec
    return bsz_params(C.mass("B0"), C.mass("K*0"), float(blk["pole_A0"]["value"]), vec)


# ---------------------------------------------------------------------------------------
# HPQCD 2022 f+ (BCL), as coded by Belle II for its SM template (arXiv:2507.12393)
#   f+(q2) = L / (1 - q2/M^2) * sum_n a_n [z^n - n/N (-1)^(n-N) z^N],  N = 3, t0 = 0
# ---------------------------------------------------------------------------------------
def hpqcd2022_fplus(q2) -> np.ndarray:
    """HPQCD 2022 B->K f+(q2) with Belle II's template coefficients."""
    blk = C.load_yaml("constants.yaml")["hpqcd2022_fplus"]
    a = np.array(blk["a"]["value"], float)
    mb, mk = float(blk["m_B"]["value"]), float(blk["m_K"]["value"])
    tp = (mb + mk) ** 2
    t0 = float(blk["t0"]["value"])
    q2 = np.asarray(q2, dtype=np.float64)
    z = (np.sqrt(tp - q2) - np.sqrt(tp - t0)) / (np.sqrt(tp - q2) + np.sqrt(tp - t0))
    n_terms = len(a)
    series = np.zeros_like(z)
    for n in range(n_terms):
        series += a[n] * (z**n - n / n_terms * (-1.0) ** (n - n_terms) * z**n_terms)
    pole = float(blk["pole"]["value"])
    return float(blk["log_factor"]["value"]) * series / (1.0 - q2 / pole**2)
