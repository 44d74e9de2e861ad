"""Differential rates dGamma/dq2 (GeV^-1) of the three-body channels, as numba kernels.

One kernel, :func:`dgamma_dq2`, serves every channel; ``kind`` selects the matrix element
and ``par`` carries masses, the normalisation and the form-factor parameters:

    par = [M, m, m_inv, norm, ff_0, ff_1, ...]

M the parent mass, m the visible daughter mass, m_inv the invisible mass (m_phi, or 0 for
neutrinos). The physics (physics README section 2, project convention with the 1/2):

    SCALAR:  norm f0(q2)^2 lambda^1/2 beta       norm = |C|^2 [(M^2-m^2)/(m_q-m_q')]^2 / (512 pi^3 M^3)
    PSEUDO:  norm A0(q2)^2 lambda^3/2 beta       norm = |C|^2 / (512 pi^3 M^3 (m_b+m_s)^2)
    VECTOR:  norm f+(q2)^2 lambda^3/2            SM nu nubar (P-wave)
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .kinematics import exp_vec

SCALAR_BSZ = 0  # B -> K phi phi
SCALAR_KPI = 1  # K -> pi phi phi
PSEUDO_BSZ = 2  # B -> K* phi phi (longitudinal K*)
VECTOR_BSZ = 3  # B -> K nu nubar (SM)
VECTOR_QUAD = 4  # K -> pi nu nubar (SM, NA62 quadratic f+)
FF_OFFSET = 4


@nb.njit(cache=True, error_model="numpy")
def _kallen(a, b, c):
    return a * a + b * b + c * c - 2.0 * (a * b + a * c + b * c)


@nb.njit(cache=True, error_model="numpy")
def _bsz_at(q2, par):
    # formfactors.bsz on the form-factor parameters at par[FF_OFFSET:], read in place: a
    # slice would be an array view with reference counting on every call, which keeps the
    # sampler's q2 loop from vectorising (tests/test_sampler_layout.py checks it equals bsz)
    o = FF_OFFSET
    a = np.sqrt(par[o + 1] - q2)
    dz = (a - par[o + 2]) / (a + par[o + 2]) - par[o + 3]
    return (par[o + 4] + par[o + 5] * dz + par[o + 6] * dz * dz) / (1.0 - q2 / (par[o] * par[o]))


@nb.njit(cache=True, error_model="numpy")
def _kpi_f0_at(q2, par):
    # formfactors.kpi_f0 on par[FF_OFFSET:], read in place (as _bsz_at)
    o = FF_OFFSET
    x = q2 / par[o + 5]
    g = x * par[o + 2] + (1.0 - x) * par[o + 3] + x * (1.0 - x) * par[o + 4]
    return par[o] * exp_vec(q2 / par[o + 6] * (par[o + 1] - g))  # libm's exp would keep the loop scalar


# One function per kind, each written out in full: branch-free in q2 (q2 clamped to the
# physical range so every expression stays finite, the result selected at the end), so the
# sampler's loop over events vectorises. Plain numba functions (error_model="numpy", so a
# division has no ZeroDivisionError branch): LLVM inlines them into the caller (numba's cache
# keeps their bitcode for that). numba's inline="always" copied their IR into every call site
# and made the sampler's first compilation ~100 s; numba's min/max were measured to keep loops scalar.


@nb.njit(cache=True, error_model="numpy")
def dgamma_scalar_bsz(q2, par):
    """dGamma/dq2 of SCALAR_BSZ (see :func:`dgamma_dq2`)."""
    M = par[0]
    m = par[1]
    q2min = 4.0 * par[2] * par[2]
    q2max = (M - m) * (M - m)
    q2c = q2 if q2 > q2min else q2min  # selects: numba's min/max keep loops scalar
    q2c = q2c if q2c < q2max else q2max
    lam = _kallen(M * M, m * m, q2c)
    sl = np.sqrt(lam if lam > 0.0 else 0.0)
    b2 = 1.0 - q2min / (q2c if q2c > 1e-300 else 1e-300)
    beta = np.sqrt(b2 if b2 > 0.0 else 0.0)
    f = _bsz_at(q2c, par)
    r = par[3] * f * f * sl * beta
    return r if (q2 > q2min) & (q2 < q2max) & (lam > 0.0) else 0.0


@nb.njit(cache=True, error_model="numpy")
def dgamma_scalar_kpi(q2, par):
    """dGamma/dq2 of SCALAR_KPI (see :func:`dgamma_dq2`): :func:`dgamma_scalar_kpi_given_f0` at
    the form factor :func:`kpi_f0_clamped` (defined below; numba resolves them at compile time)."""
    return dgamma_scalar_kpi_given_f0(q2, kpi_f0_clamped(q2, par), par)


@nb.njit(cache=True, error_model="numpy")
def kpi_f0_clamped(q2, par):
    """The form factor f0 that :func:`dgamma_scalar_kpi` uses at ``q2`` (clamped to the range)."""
    M = par[0]
    m = par[1]
    q2min = 4.0 * par[2] * par[2]
    q2max = (M - m) * (M - m)
    q2c = q2 if q2 > q2min else q2min
    q2c = q2c if q2c < q2max else q2max
    return _kpi_f0_at(q2c, par)


@nb.njit(cache=True, error_model="numpy")
def dgamma_scalar_kpi_given_f0(q2, f, par):
    """:func:`dgamma_scalar_kpi` with its form factor ``f`` = :func:`kpi_f0_clamped` given (the same
    operations, so the same bits): the sampler computes f0 in a loop of its own, as the whole
    function is too large for LLVM to inline into the q2 loop, which then stays scalar (~25 ns)."""
    M = par[0]
    m = par[1]
    q2min = 4.0 * par[2] * par[2]
    q2max = (M - m) * (M - m)
    q2c = q2 if q2 > q2min else q2min
    q2c = q2c if q2c < q2max else q2max
    lam = _kallen(M * M, m * m, q2c)
    sl = np.sqrt(lam if lam > 0.0 else 0.0)
    b2 = 1.0 - q2min / (q2c if q2c > 1e-300 else 1e-300)
    beta = np.sqrt(b2 if b2 > 0.0 else 0.0)
    r = par[3] * f * f * sl * beta
    return r if (q2 > q2min) & (q2 < q2max) & (lam > 0.0) else 0.0


@nb.njit(cache=True, error_model="numpy")
def dgamma_pseudo_bsz(q2, par):
    """dGamma/dq2 of PSEUDO_BSZ (see :func:`dgamma_dq2`)."""
    M = par[0]
    m = par[1]
    q2min = 4.0 * par[2] * par[2]
    q2max = (M - m) * (M - m)
    q2c = q2 if q2 > q2min else q2min  # selects: numba's min/max keep loops scalar
    q2c = q2c if q2c < q2max else q2max
    lam = _kallen(M * M, m * m, q2c)
    sl = np.sqrt(lam if lam > 0.0 else 0.0)
    b2 = 1.0 - q2min / (q2c if q2c > 1e-300 else 1e-300)
    beta = np.sqrt(b2 if b2 > 0.0 else 0.0)
    f = _bsz_at(q2c, par)
    r = par[3] * f * f * lam * sl * beta
    return r if (q2 > q2min) & (q2 < q2max) & (lam > 0.0) else 0.0


@nb.njit(cache=True, error_model="numpy")
def dgamma_vector_bsz(q2, par):
    """dGamma/dq2 of VECTOR_BSZ (see :func:`dgamma_dq2`)."""
    M = par[0]
    m = par[1]
    q2min = 4.0 * par[2] * par[2]
    q2max = (M - m) * (M - m)
    q2c = q2 if q2 > q2min else q2min  # selects: numba's min/max keep loops scalar
    q2c = q2c if q2c < q2max else q2max
    lam = _kallen(M * M, m * m, q2c)
    sl = np.sqrt(lam if lam > 0.0 else 0.0)
    f = _bsz_at(q2c, par)
    r = par[3] * f * f * lam * sl
    return r if (q2 > q2min) & (q2 < q2max) & (lam > 0.0) else 0.0


@nb.njit(cache=True, error_model="numpy")
def dgamma_vector_quad(q2, par):
    """dGamma/dq2 of VECTOR_QUAD (see :func:`dgamma_dq2`)."""
    M = par[0]
    m = par[1]
    q2min = 4.0 * par[2] * par[2]
    q2max = (M - m) * (M - m)
    q2c = q2 if q2 > q2min else q2min  # selects: numba's min/max keep loops scalar
    q2c = q2c if q2c < q2max else q2max
    lam = _kallen(M * M, m * m, q2c)
    sl = np.sqrt(lam if lam > 0.0 else 0.0)
    x = q2c / par[FF_OFFSET]
    f = 1.0 + par[FF_OFFSET + 1] * x + 0.5 * par[FF_OFFSET + 2] * x * x
    r = par[3] * f * f * lam * sl
    return r if (q2 > q2min) & (q2 < q2max) & (lam > 0.0) else 0.0


@nb.njit(cache=True, error_model="numpy")
def dgamma_dq2(kind, q2, par):
    """dGamma/dq2 at ``q2`` (GeV^-1); zero outside the physical range.

    One branch-free function per kind (selects, no early returns), so that the sampler's
    loop over events, which calls the function of its kind directly, vectorises. They are
    plain numba functions that LLVM inlines (numba's inline="always" multiplied the compile time)."""
    if kind == SCALAR_BSZ:
        return dgamma_scalar_bsz(q2, par)
    if kind == SCALAR_KPI:
        return dgamma_scalar_kpi(q2, par)
    if kind == PSEUDO_BSZ:
        return dgamma_pseudo_bsz(q2, par)
    if kind == VECTOR_BSZ:
        return dgamma_vector_bsz(q2, par)
    if kind == VECTOR_QUAD:
        return dgamma_vector_quad(q2, par)
    return 0.0


@nb.njit(cache=True, error_model="numpy")
def dgamma_dq2_array(kind, q2, par):
    """:func:`dgamma_dq2` over an array of q2 values."""
    out = np.empty(q2.shape[0])
    for i in range(q2.shape[0]):
        out[i] = dgamma_dq2(kind, q2[i], par)
    return out


def q2_range(par: np.ndarray) -> tuple[float, float]:
    """Kinematic q2 range [4 m_inv^2, (M - m)^2]."""
    return 4.0 * par[2] ** 2, (par[0] - par[1]) ** 2


@nb.njit(cache=True)
def _integrate(kind, par, lo, hi, nodes, weights, n_panels):
    # Gauss-Legendre on n_panels panels in the variable u, q2 = lo + (hi-lo) * (3u^2 - 2u^3):
    # the smooth step maps the endpoint square-root behaviour of beta and lambda^1/2
    # to analytic integrands, so the rule converges fast.
    total = 0.0
    width = hi - lo
    for p in range(n_panels):
        a = p / n_panels
        b = (p + 1) / n_panels
        half = 0.5 * (b - a)
        mid = 0.5 * (a + b)
        for k in range(nodes.shape[0]):
            u = mid + half * nodes[k]
            q2 = lo + width * (3.0 * u * u - 2.0 * u * u * u)
            jac = width * 6.0 * u * (1.0 - u)
            total += weights[k] * half * jac * dgamma_dq2(kind, q2, par)
    return total


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)


def integrate(
    kind: int, par: np.ndarray, lo: float | None = None, hi: float | None = None, n_panels: int = 32
) -> float:
    """Integral of dGamma/dq2 over [lo, hi] (default: the full kinematic range), in GeV."""
    qlo, qhi = q2_range(par)
    lo = qlo if lo is None else max(lo, qlo)
    hi = qhi if hi is None else min(hi, qhi)
    if hi <= lo:
        return 0.0
    return float(_integrate(kind, par, lo, hi, _GL_NODES, _GL_WEIGHTS, n_panels))
