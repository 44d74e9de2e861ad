"""Effective degrees of freedom of the Standard-Model plasma: g_rho(T) (energy), g_s(T) = h(T)
(entropy) and g_*^{1/2}(T) = h / sqrt(g_rho) (1 + 1/3 dln h/dln T), the combination in the
freeze-out equation (Gondolo & Gelmini 1991, eq. 3.16).

Source: the fitting functions of Saikawa & Shirai, arXiv:1803.01038, Appendix C (lattice-QCD
crossover; 10 keV < T < 10^16 GeV), coefficients in ``analyses/data/dm/saikawa_shirai_2018.yaml``.
We chose them over a table because they cover the whole range a freeze-out needs in one smooth
function (down to e+e- annihilation, where the late annihilation of a 0.1 GeV relic still runs)
and the derivative dln h/dln T is smooth; they are checked against the Borsanyi et al. 2016
Table S2 in the tests. The derivative is taken numerically (central difference in ln T) once, on
the tabulation grid used by :func:`table`.

Alternative equations of state (option ``eos``): the published tables of Drees, Hajkarim & Schmitz
2015 (``drees_hajkarim_schmitz``, micrOMEGAs 6's default) and Laine & Meyer 2015 (``laine_meyer``),
data files ``gstar_*_2015.csv``; h and g are interpolated linearly in ln T, held at their end values
outside the tables (both end in the free-gas limits), and g_*^{1/2} uses the same numerical derivative.
docs/dark_matter_relic_cmb.md states what each gives for the Steigman-Dasgupta-Beacom check.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import numpy as np
import yaml

from evtgen.errors import PhiphiError

DATA_FILE = "saikawa_shirai_2018.yaml"
DEFAULT_EOS = "saikawa_shirai"
#: tabulated alternatives: name -> data file (columns T [GeV], h_eff, g_eff)
EOS_TABLES = {
    "drees_hajkarim_schmitz": "gstar_drees_hajkarim_schmitz_2015.csv",
    "laine_meyer": "gstar_laine_meyer_2015.csv",
}
EOS_CHOICES = (DEFAULT_EOS, *EOS_TABLES)
#: range of validity of the parametrisation (GeV)
T_MIN, T_MAX = 1e-5, 1e16


@functools.cache
def _params() -> dict[str, Any]:
    with (resources.files("analyses") / "data" / "dm" / DATA_FILE).open("r") as fh:
        return yaml.safe_load(fh)


def _poly(coeffs, t):
    out = np.zeros_like(t)
    for c in reversed(coeffs):
        out = out * t + float(c)  # float(): YAML 1.1 reads 7.07388e1 (exponent without sign) as a string
    return out


def _shape(p, x):
    return np.exp(-p[0] * x) * (1.0 + x * (p[1] + x * (p[2] + x * p[3])))


def _low_t(block: dict, shape: dict, T: np.ndarray) -> np.ndarray:
    out = np.full_like(T, float(block["constant"]))
    for coef, mass, kind in block["terms"]:
        x = mass / T
        if kind == "S43":
            f = (1.0 + 1.75 * _shape(shape["f_s"], x)) ** (4.0 / 3.0)
        elif kind == "S":
            f = 1.0 + 1.75 * _shape(shape["f_s"], x)
        else:
            f = _shape(shape[kind], x)
        out = out + coef * f
    return out


def _check(T: np.ndarray) -> None:
    if not np.all(np.isfinite(T)) or np.any(T < T_MIN) or np.any(T > T_MAX):
        bad = T[~((T >= T_MIN) & (T <= T_MAX))][0] if T.size else T
        raise PhiphiError(f"temperature {float(bad):g} GeV is outside [{T_MIN:g}, {T_MAX:g}] GeV of the g_*(T) fit")


def g_rho(T: float | np.ndarray) -> np.ndarray:
    """Energy degrees of freedom g_rho(T), T in GeV."""
    T = np.atleast_1d(np.asarray(T, float))
    _check(T)
    p = _params()
    t = np.log(T)
    hi = _poly(p["a"], t) / _poly(p["b"], t)
    lo = _low_t(p["low_T_rho"], p["shape"], T)
    return np.where(p["T_match_GeV"] <= T, hi, lo)


def g_s(T: float | np.ndarray) -> np.ndarray:
    """Entropy degrees of freedom h(T) = g_s(T), T in GeV."""
    T = np.atleast_1d(np.asarray(T, float))
    _check(T)
    p = _params()
    t = np.log(T)
    hi = g_rho(T) / (1.0 + _poly(p["c"], t) / _poly(p["d"], t))
    lo = _low_t(p["low_T_s"], p["shape"], T)
    return np.where(p["T_match_GeV"] <= T, hi, lo)


def check_eos(eos: str | None) -> str:
    """The equation-of-state name (``None``: the default, Saikawa-Shirai); PhiphiError for an unknown one."""
    name = DEFAULT_EOS if eos is None else str(eos)
    if name not in EOS_CHOICES:
        raise PhiphiError(f"eos = {eos!r}; choose one of {', '.join(EOS_CHOICES)}")
    return name


@functools.cache
def _tabulated(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ln T, h, g) of a tabulated equation of state (sorted in T)."""
    import csv

    with (resources.files("analyses") / "data" / "dm" / EOS_TABLES[name]).open("r") as fh:
        rows = [r for r in csv.reader(ln for ln in fh if ln.strip() and not ln.startswith("#"))][1:]
    d = np.array([[float(v) for v in r] for r in rows])
    d = d[np.argsort(d[:, 0])]
    return np.log(d[:, 0]), d[:, 1], d[:, 2]


@functools.cache
def table(n: int = 4000, eos: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ln T, g_rho, h, g_*^{1/2}) on ``n`` points log-spaced over the fit's range (cached), for ``eos``."""
    name = check_eos(eos)
    lnT = np.linspace(np.log(T_MIN), np.log(T_MAX), n)
    T = np.clip(np.exp(lnT), T_MIN, T_MAX)
    if name == DEFAULT_EOS:
        g = g_rho(T)
        h = g_s(T)
        dlnh = np.gradient(np.log(h), lnT)
    else:
        lt, ht, gt = _tabulated(name)
        g = np.interp(lnT, lt, gt)
        h = np.interp(lnT, lt, ht)
        # derivative on the table's own nodes (its resolution), then interpolated
        dlnh = np.interp(lnT, lt, np.gradient(np.log(ht), lt), left=0.0, right=0.0)
    gstar_half = h / np.sqrt(g) * (1.0 + dlnh / 3.0)
    for arr in (g, h, gstar_half):
        arr.setflags(write=False)
    return lnT, g, h, gstar_half


def gstar_half(T: float | np.ndarray, eos: str | None = None) -> np.ndarray:
    """g_*^{1/2}(T) = h/sqrt(g_rho) (1 + dln h/(3 dln T)) interpolated from :func:`table`."""
    T = np.atleast_1d(np.asarray(T, float))
    _check(T)
    lnT, _, _, gsh = table(eos=check_eos(eos))
    return np.interp(np.log(T), lnT, gsh)


def h_eff(T: float | np.ndarray, eos: str | None = None) -> np.ndarray:
    """h(T) interpolated from :func:`table` (fast path for the solver)."""
    T = np.atleast_1d(np.asarray(T, float))
    _check(T)
    lnT, _, h, _ = table(eos=check_eos(eos))
    return np.interp(np.log(T), lnT, h)
