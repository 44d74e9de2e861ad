"""A fast evaluation of a pyhf HistFactory likelihood with an analytic gradient.

pyhf's numpy backend has no gradients, so minuit differentiates the 232-parameter Belle II
workspace numerically and one fit takes ~16 s. This module evaluates exactly the same
log-likelihood as ``pyhf.Model.logpdf`` (Poisson main terms, Gaussian constraints; the
modifiers normfactor, staterror, normsys with pyhf's interpolation code 4 and histosys with
code 4p, which is what the released workspace uses) together with its gradient in numpy, and
fits it with TNC (L-BFGS-B, then minuit with the analytic gradient, as retries). Agreement with pyhf
is a test (``tests/test_belle2_recast.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from evtgen.errors import PhiphiError

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
SUPPORTED = {"normfactor", "staterror", "normsys", "histosys"}
# inverse of pyhf's code-4 matching matrix at alpha0 = 1 (pyhf.interpolators.code4)
_CODE4_AINV = np.array(
    [
        [15 / 16, -15 / 16, -7 / 16, -7 / 16, 1 / 16, -1 / 16],
        [3 / 2, 3 / 2, -9 / 16, 9 / 16, 1 / 16, 1 / 16],
        [-5 / 8, 5 / 8, 5 / 8, 5 / 8, -1 / 8, 1 / 8],
        [-3 / 2, -3 / 2, 7 / 8, -7 / 8, -1 / 8, -1 / 8],
        [3 / 16, -3 / 16, -3 / 16, -3 / 16, 1 / 16, -1 / 16],
        [1 / 2, 1 / 2, -5 / 16, 5 / 16, 1 / 16, 1 / 16],
    ]
)


@nb.njit(cache=True)
def _code4p(a, up, dn):
    # pyhf histosys code 4p: delta and d delta / d alpha
    if a > 1.0:
        return a * up, up
    if a < -1.0:
        return a * dn, dn
    S = 0.5 * (up + dn)
    A = 0.0625 * (up - dn)
    a2 = a * a
    return a * (S + a * A * (15.0 + a2 * (-10.0 + 3.0 * a2))), S + A * (30.0 * a + a2 * a * (-40.0 + 18.0 * a2))


@nb.njit(cache=True)
def _code4(a, c, lu, ld):
    # pyhf normsys code 4: factor and d ln(factor) / d alpha; c: the 6 polynomial coefficients
    if a >= 1.0:
        return np.exp(a * lu), lu
    if a <= -1.0:
        return np.exp(-a * ld), -ld
    f = 1.0 + a * (c[0] + a * (c[1] + a * (c[2] + a * (c[3] + a * (c[4] + a * c[5])))))
    df = c[0] + a * (2 * c[1] + a * (3 * c[2] + a * (4 * c[3] + a * (5 * c[4] + a * 6 * c[5]))))
    return f, df / f


@nb.njit(cache=True)
def logpdf_grad_kernel(
    pars,
    main,
    lgam_main,
    aux,
    sigma,
    constrained,
    nominal,
    bin_of,
    nf_of,
    gamma_of,
    hist_par,
    hist_up,
    hist_dn,
    norm_par,
    norm_coef,
    norm_lu,
    norm_ld,
    hist_ptr,
    hist_idx,
    norm_ptr,
    norm_idx,
    grad,
):
    """ln L of the HistFactory model and its gradient (into ``grad``); -inf if a rate is <= 0.
    ``hist_idx[hist_ptr[k]:hist_ptr[k + 1]]`` (``norm_*``): the histosys (normsys) that can act
    on row k (:meth:`FastLikelihood.__init__`); the others are zero there and skipped."""
    nrows = nominal.shape[0]
    nbins = main.shape[0]
    nu = np.empty(nrows)
    rest = np.empty(nrows)  # nu / base: the multiplicative part
    base = np.empty(nrows)
    lam = np.zeros(nbins)
    c = np.empty(6)
    for k in range(nrows):
        b = nominal[k]
        for t in range(hist_ptr[k], hist_ptr[k + 1]):
            h = hist_idx[t]
            up = hist_up[h, k]
            dn = hist_dn[h, k]
            if up != 0.0 or dn != 0.0:
                b += _code4p(pars[hist_par[h]], up, dn)[0]
        f = 1.0
        for t in range(norm_ptr[k], norm_ptr[k + 1]):
            n = norm_idx[t]
            lu = norm_lu[n, k]
            ld = norm_ld[n, k]
            if lu != 0.0 or ld != 0.0:
                for i in range(6):
                    c[i] = norm_coef[i, n, k]
                f *= _code4(pars[norm_par[n]], c, lu, ld)[0]
        if gamma_of[k] >= 0:
            f *= pars[gamma_of[k]]
        if nf_of[k] >= 0:
            f *= pars[nf_of[k]]
        base[k] = b
        rest[k] = f
        nu[k] = b * f
        lam[bin_of[k]] += b * f
    grad[:] = 0.0
    logl = 0.0
    for j in range(nbins):
        if lam[j] <= 0.0:
            return -np.inf
        logl += main[j] * np.log(lam[j]) - lam[j] - lgam_main[j]
    for i in range(constrained.shape[0]):
        p = constrained[i]
        r = (aux[p] - pars[p]) / sigma[p]
        logl += -0.5 * r * r - np.log(sigma[p]) - 0.9189385332046727
        grad[p] += r / sigma[p]
    for k in range(nrows):
        w = main[bin_of[k]] / lam[bin_of[k]] - 1.0
        wnu = w * nu[k]
        if gamma_of[k] >= 0:
            grad[gamma_of[k]] += wnu / pars[gamma_of[k]] if pars[gamma_of[k]] != 0.0 else 0.0
        if nf_of[k] >= 0:
            p = nf_of[k]
            if pars[p] != 0.0:
                grad[p] += wnu / pars[p]
            else:  # d nu / d mu at mu = 0: the rest of the product
                g = base[k]
                for t in range(norm_ptr[k], norm_ptr[k + 1]):
                    n = norm_idx[t]
                    lu = norm_lu[n, k]
                    ld = norm_ld[n, k]
                    if lu != 0.0 or ld != 0.0:
                        for i in range(6):
                            c[i] = norm_coef[i, n, k]
                        g *= _code4(pars[norm_par[n]], c, lu, ld)[0]
                if gamma_of[k] >= 0:
                    g *= pars[gamma_of[k]]
                grad[p] += w * g
        for t in range(norm_ptr[k], norm_ptr[k + 1]):
            n = norm_idx[t]
            lu = norm_lu[n, k]
            ld = norm_ld[n, k]
            if lu != 0.0 or ld != 0.0:
                for i in range(6):
                    c[i] = norm_coef[i, n, k]
                grad[norm_par[n]] += wnu * _code4(pars[norm_par[n]], c, lu, ld)[1]
        wr = w * rest[k]
        for t in range(hist_ptr[k], hist_ptr[k + 1]):
            h = hist_idx[t]
            up = hist_up[h, k]
            dn = hist_dn[h, k]
            if up != 0.0 or dn != 0.0:
                grad[hist_par[h]] += wr * _code4p(pars[hist_par[h]], up, dn)[1]
    return logl


@nb.njit(cache=True)
def _code4p_d2(a, up, dn):
    # pyhf histosys code 4p: delta, d delta / d alpha and d2 delta / d alpha2
    if a > 1.0:
        return a * up, up, 0.0
    if a < -1.0:
        return a * dn, dn, 0.0
    S = 0.5 * (up + dn)
    A = 0.0625 * (up - dn)
    a2 = a * a
    return (
        a * (S + a * A * (15.0 + a2 * (-10.0 + 3.0 * a2))),
        S + A * (30.0 * a + a2 * a * (-40.0 + 18.0 * a2)),
        A * (30.0 + a2 * (-120.0 + 90.0 * a2)),
    )


@nb.njit(cache=True)
def _code4_d2(a, c, lu, ld):
    # pyhf normsys code 4: factor f, f' and f''
    if a >= 1.0:
        f = np.exp(a * lu)
        return f, lu * f, lu * lu * f
    if a <= -1.0:
        f = np.exp(-a * ld)
        return f, -ld * f, ld * ld * f
    f = 1.0 + a * (c[0] + a * (c[1] + a * (c[2] + a * (c[3] + a * (c[4] + a * c[5])))))
    df = c[0] + a * (2 * c[1] + a * (3 * c[2] + a * (4 * c[3] + a * (5 * c[4] + a * 6 * c[5]))))
    d2f = 2 * c[1] + a * (6 * c[2] + a * (12 * c[3] + a * (20 * c[4] + a * 30 * c[5])))
    return f, df, d2f


@nb.njit(cache=True)
def twice_nll_hess_kernel(
    pars,
    main,
    lgam_main,
    aux,
    sigma,
    constrained,
    nominal,
    bin_of,
    nf_of,
    gamma_of,
    hist_par,
    hist_up,
    hist_dn,
    norm_par,
    norm_coef,
    norm_lu,
    norm_ld,
    idx,
    grad,
    hess,
):
    """-2 ln L of the HistFactory model (pyhf's constants), its gradient and its exact Hessian
    in the parameters p with idx[p] >= 0 (written at position idx[p] of ``grad``/``hess``).

    Each row (sample bin) is nu = b(alpha_hist) x prod_m f_m(p_m): b additive in the histosys
    deltas, the factors (normsys, staterror gamma, normfactor) one parameter each, so with
    A_p = db/dp, B_p = d2b/dp2, G_p = d ln F/dp, L_p = d2 ln F/dp2:
    d nu/dp = F (A_p + b G_p); d2 nu/dp dq = F (A_p G_q + A_q G_p + b G_p G_q) + delta_pq F (B_p + b L_p).
    Returns (value, ok); ok is False (value inf) if a rate is <= 0 or a mapped factor is 0."""
    nrows = nominal.shape[0]
    nbins = main.shape[0]
    H = hist_par.shape[0]
    N = norm_par.shape[0]
    P = pars.shape[0]
    m = hess.shape[0]
    MAXT = H + N + 2
    tp = np.empty((nrows, MAXT), dtype=np.int64)
    nt = np.zeros(nrows, dtype=np.int64)
    tA = np.zeros((nrows, MAXT))
    tB = np.zeros((nrows, MAXT))
    tG = np.zeros((nrows, MAXT))
    tL = np.zeros((nrows, MAXT))
    bk = np.empty(nrows)
    Fk = np.empty(nrows)
    lam = np.zeros(nbins)
    slot = np.full(P, -1, dtype=np.int64)
    c = np.empty(6)
    for k in range(nrows):
        n_t = 0
        b = nominal[k]
        F = 1.0
        for h in range(H):
            up = hist_up[h, k]
            dn = hist_dn[h, k]
            if up != 0.0 or dn != 0.0:
                p = hist_par[h]
                d0, d1, d2 = _code4p_d2(pars[p], up, dn)
                b += d0
                if idx[p] >= 0:
                    s = slot[p]
                    if s < 0:
                        s = n_t
                        slot[p] = s
                        tp[k, s] = p
                        n_t += 1
                    tA[k, s] += d1
                    tB[k, s] += d2
        for n in range(N):
            lu = norm_lu[n, k]
            ld = norm_ld[n, k]
            if lu != 0.0 or ld != 0.0:
                p = norm_par[n]
                for i in range(6):
                    c[i] = norm_coef[i, n, k]
                f0, f1, f2 = _code4_d2(pars[p], c, lu, ld)
                F *= f0
                if idx[p] >= 0:
                    s = slot[p]
                    if s < 0:
                        s = n_t
                        slot[p] = s
                        tp[k, s] = p
                        n_t += 1
                    g = f1 / f0
                    tG[k, s] += g
                    tL[k, s] += f2 / f0 - g * g
        for q in range(2):
            p = gamma_of[k] if q == 0 else nf_of[k]
            if p >= 0:
                v = pars[p]
                F *= v
                if idx[p] >= 0:
                    if v == 0.0:
                        return np.inf, False
                    s = slot[p]
                    if s < 0:
                        s = n_t
                        slot[p] = s
                        tp[k, s] = p
                        n_t += 1
                    tG[k, s] += 1.0 / v
                    tL[k, s] -= 1.0 / (v * v)
        for s in range(n_t):
            slot[tp[k, s]] = -1
        nt[k] = n_t
        bk[k] = b
        Fk[k] = F
        lam[bin_of[k]] += b * F
    val = 0.0
    for j in range(nbins):
        if lam[j] <= 0.0:
            return np.inf, False
        val += 2.0 * (lam[j] - main[j] * np.log(lam[j]) + lgam_main[j])
    grad[:] = 0.0
    hess[:, :] = 0.0
    for i in range(constrained.shape[0]):
        p = constrained[i]
        r = (pars[p] - aux[p]) / sigma[p]
        val += r * r + 2.0 * np.log(sigma[p]) + 1.8378770664093453
        if idx[p] >= 0:
            grad[idx[p]] += 2.0 * r / sigma[p]
            hess[idx[p], idx[p]] += 2.0 / (sigma[p] * sigma[p])
    # d lambda_j / dp (dense per bin over the mapped parameters) and the row second derivatives
    J = np.zeros((nbins, m))
    for k in range(nrows):
        j = bin_of[k]
        w = 2.0 * (1.0 - main[j] / lam[j])
        F = Fk[k]
        b = bk[k]
        for s in range(nt[k]):
            a = idx[tp[k, s]]
            As = tA[k, s]
            Gs = tG[k, s]
            J[j, a] += F * (As + b * Gs)
            hess[a, a] += w * F * (2.0 * As * Gs + b * Gs * Gs + tB[k, s] + b * tL[k, s])
            for u in range(s):
                e = idx[tp[k, u]]
                v = w * F * (As * tG[k, u] + tA[k, u] * Gs + b * Gs * tG[k, u])
                hess[a, e] += v
                hess[e, a] += v
    nzc = np.empty(m, dtype=np.int64)
    for j in range(nbins):
        w = 2.0 * (1.0 - main[j] / lam[j])
        r2 = 2.0 * main[j] / (lam[j] * lam[j])
        nz = 0
        for a in range(m):
            if J[j, a] != 0.0:
                grad[a] += w * J[j, a]
                nzc[nz] = a
                nz += 1
        for x in range(nz):
            a = nzc[x]
            ja = r2 * J[j, a]
            for y in range(nz):
                e = nzc[y]
                hess[a, e] += ja * J[j, e]
    return val, True


@nb.njit(cache=True, fastmath=True)
def cholesky_kernel(a, shift):
    """Lower Cholesky factor of ``a + shift * 1``, the envelope of each row (first[i]: the
    first non-zero column of row i of ``a``; L has no entry left of it, so the sums skip it —
    a skyline factorisation, exact) and whether it is positive definite (one thread, so the
    same rounding whatever the BLAS thread count)."""
    n = a.shape[0]
    L = np.zeros((n, n))
    first = np.empty(n, dtype=np.int64)
    for i in range(n):
        f = 0
        while f < i and a[i, f] == 0.0:
            f += 1
        first[i] = f
        for j in range(f, i + 1):
            s = a[i, j] + (shift if i == j else 0.0)
            # unsigned indices: no negative-index wrap-around test, so the loop vectorises
            for k in range(np.uint64(f if f > first[j] else first[j]), np.uint64(j)):
                s -= L[i, k] * L[j, k]
            if i == j:
                if not s > 0.0:
                    return L, first, False
                L[i, i] = np.sqrt(s)
            else:
                L[i, j] = s / L[j, j]
    return L, first, True


@nb.njit(cache=True)
def cho_solve_kernel(L, first, b):
    """x with L L^T x = b (``first``: the row envelopes of :func:`cholesky_kernel`); both
    substitutions read L by rows."""
    n = L.shape[0]
    x = np.empty(n)
    for i in range(n):
        s = b[i]
        for k in range(np.uint64(first[i]), np.uint64(i)):
            s -= L[i, k] * x[k]
        x[i] = s / L[i, i]
    for i in range(n - 1, -1, -1):
        xi = x[i] / L[i, i]
        x[i] = xi
        for k in range(np.uint64(first[i]), np.uint64(i)):
            x[k] -= L[i, k] * xi
    return x


def _row_lists(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column k of ``mask`` (modifiers x rows) the modifiers set there, as
    ``idx[ptr[k]:ptr[k + 1]]`` in increasing order."""
    ptr = np.concatenate([[0], np.cumsum(mask.sum(axis=0))]).astype(np.int64)
    return ptr, np.nonzero(mask.T)[1].astype(np.int64)


@dataclass
class NewtonState:
    """What a Newton fit hands the next one: its Hessian's Cholesky factor (free
    parameters) and d(pars)/d(tracked parameter) along the profile (or None)."""

    factor: np.ndarray
    slope: np.ndarray | None
    first: np.ndarray | None = None  # row envelopes of the factor (cholesky_kernel)


@dataclass
class FitResult:
    """A maximum-likelihood fit: parameters, -2 ln L (pyhf's convention) and status."""

    pars: np.ndarray
    twice_nll: float
    success: bool
    method: str


class FastLikelihood:
    """Log-likelihood of a pyhf model (built from ``spec``) with its gradient."""

    def __init__(self, spec: dict, model) -> None:
        cfg = model.config
        self.model = model
        self.npars = cfg.npars
        self.par_names = cfg.par_names
        self.bounds = [tuple(b) for b in cfg.suggested_bounds()]
        self.lower = np.array([b[0] for b in self.bounds], dtype=float)
        self.upper = np.array([b[1] for b in self.bounds], dtype=float)
        self.init = np.asarray(cfg.suggested_init(), dtype=float)
        self.fixed = np.asarray(cfg.suggested_fixed(), dtype=bool)
        self.poi_index = cfg.poi_index
        nbins_total = sum(cfg.channel_nbins[c] for c in cfg.channels)
        self.nbins = nbins_total
        noms, bins, nfs, gams, sample_keys = [], [], [], [], []
        hist: dict[str, list] = {}
        norm: dict[str, list] = {}
        self.aux = np.full(self.npars, np.nan)
        self.sigma = np.full(self.npars, np.nan)
        k0 = 0
        channels = {c["name"]: c for c in spec["channels"]}
        for cname in cfg.channels:
            sl = cfg.channel_slices[cname]
            for s in channels[cname]["samples"]:
                nb = len(s["data"])
                rows = np.arange(k0, k0 + nb)
                noms.append(np.asarray(s["data"], float))
                bins.append(np.arange(sl.start, sl.start + nb))
                nf = np.full(nb, -1)
                gm = np.full(nb, -1)
                for m in s["modifiers"]:
                    t, name = m["type"], m["name"]
                    if t not in SUPPORTED:
                        raise PhiphiError(f"modifier type {t!r} ({name}) is not supported by the fast likelihood")
                    start = cfg.par_slice(name).start
                    if t == "normfactor":
                        if np.any(nf >= 0):
                            raise PhiphiError(f"sample {s['name']} has two normfactors: not supported")
                        nf[:] = start
                    elif t == "staterror":
                        gm[:] = start + np.arange(nb)
                        ps = cfg.param_set(name)
                        self.sigma[start : start + nb] = np.asarray(ps.sigmas, float)
                        self.aux[start : start + nb] = 1.0
                    elif t == "histosys":
                        up = np.asarray(m["data"]["hi_data"], float) - s["data"]
                        dn = np.asarray(s["data"], float) - np.asarray(m["data"]["lo_data"], float)
                        hist.setdefault(name, []).append((rows, up, dn))
                    elif t == "normsys":
                        norm.setdefault(name, []).append((rows, float(m["data"]["hi"]), float(m["data"]["lo"])))
                nfs.append(nf)
                gams.append(gm)
                sample_keys.append((cname, s["name"], k0, k0 + nb))
                k0 += nb
        self.n_rows = k0
        self.nominal = np.concatenate(noms)
        self.bin_of = np.concatenate(bins)
        self.nf_of = np.concatenate(nfs)
        self.gamma_of = np.concatenate(gams)
        self.samples = sample_keys
        self.hist_par = np.array([cfg.par_slice(n).start for n in hist], dtype=int)
        self.hist_up = np.zeros((len(hist), k0))
        self.hist_dn = np.zeros((len(hist), k0))
        for h, entries in enumerate(hist.values()):
            for rows, up, dn in entries:
                self.hist_up[h, rows] = up
                self.hist_dn[h, rows] = dn
        self.norm_par = np.array([cfg.par_slice(n).start for n in norm], dtype=int)
        nup = np.ones((len(norm), k0))
        ndn = np.ones((len(norm), k0))
        for h, entries in enumerate(norm.values()):
            for rows, hi, lo in entries:
                nup[h, rows] = hi
                ndn[h, rows] = lo
        # code-4 polynomial coefficients for |alpha| < 1 (per normsys, per row)
        lu, ld = np.log(nup), np.log(ndn)
        b = np.stack([nup - 1, ndn - 1, lu * nup, -ld * ndn, lu * lu * nup, ld * ld * ndn])
        self.norm_coef = np.einsum("ij,jnk->ink", _CODE4_AINV, b)  # (6, nnorm, rows)
        self.norm_lu, self.norm_ld = lu, ld
        self.norm_names = list(norm)
        # which histosys / normsys can act on each row (the samples' modifiers): the kernels
        # visit only those; set_sample / set_normsys refuse values outside this pattern
        self.hist_mask = np.zeros((len(hist), k0), dtype=bool)
        for h, entries in enumerate(hist.values()):
            for rows, _, _ in entries:
                self.hist_mask[h, rows] = True
        self.norm_mask = np.zeros((len(norm), k0), dtype=bool)
        for h, entries in enumerate(norm.values()):
            for rows, _, _ in entries:
                self.norm_mask[h, rows] = True
        self.hist_ptr, self.hist_idx = _row_lists(self.hist_mask)
        self.norm_ptr, self.norm_idx = _row_lists(self.norm_mask)
        for p in list(self.hist_par) + list(self.norm_par):
            self.aux[p], self.sigma[p] = 0.0, 1.0
        self.constrained = np.where(np.isfinite(self.sigma))[0]
        self.scale = np.ones(self.npars)
        # the order of the parameters in Newton's linear algebra: the staterror gammas first,
        # grouped by the bin they scale (each couples only to its own bin's parameters), then
        # the others: the Hessian's rows then have short envelopes (skyline Cholesky)
        gamma_bin = np.full(self.npars, -1)
        has = self.gamma_of >= 0
        gamma_bin[self.gamma_of[has]] = self.bin_of[has]
        self.newton_rank = np.lexsort((np.arange(self.npars), np.where(gamma_bin >= 0, gamma_bin, self.nbins)))
        self.newton_rank = np.argsort(self.newton_rank, kind="stable")  # position of each parameter
        self._extra_const = -np.sum(np.log(self.sigma[self.constrained])) - _LOG_SQRT_2PI * len(self.constrained)

    # ------------------------------------------------------------------------------
    def rows_of(self, channel: str, sample: str) -> slice:
        """Row slice of a sample in a channel."""
        for c, s, a, b in self.samples:
            if c == channel and s == sample:
                return slice(a, b)
        raise KeyError((channel, sample))

    def set_sample(
        self,
        channel: str,
        sample: str,
        nominal: np.ndarray,
        rel_up: np.ndarray | None = None,
        rel_dn: np.ndarray | None = None,
    ) -> None:
        """Replace a sample's nominal yields; its histosys deltas become ``nominal * rel``
        (``rel_*``: (n_histosys, nbins) relative deltas, default: keep them relative)."""
        rows = self.rows_of(channel, sample)
        old = self.nominal[rows].copy()
        new = np.asarray(nominal, float)
        if rel_up is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(old > 0, new / old, 0.0)
            self.hist_up[:, rows] *= ratio
            self.hist_dn[:, rows] *= ratio
        else:
            self.hist_up[:, rows] = rel_up * new
            self.hist_dn[:, rows] = rel_dn * new
        outside = ~self.hist_mask[:, rows]
        if np.any(self.hist_up[:, rows][outside] != 0) or np.any(self.hist_dn[:, rows][outside] != 0):
            raise PhiphiError(f"sample {sample} in {channel}: a histosys delta where the sample has no such modifier")
        self.nominal[rows] = new

    def set_normsys(self, name: str, channel: str, sample: str, hi: float, lo: float) -> None:
        """Change the (hi, lo) factors of normsys ``name`` on a sample (code-4 coefficients
        recomputed); hi = lo = 1 switches it off."""
        rows = self.rows_of(channel, sample)
        n = self.norm_names.index(name)
        if not np.all(self.norm_mask[n, rows]) and (hi, lo) != (1.0, 1.0):
            raise PhiphiError(f"sample {sample} in {channel} has no normsys {name}")
        lu, ld = np.log(hi), np.log(lo)
        b = np.array([hi - 1, lo - 1, lu * hi, -ld * lo, lu * lu * hi, ld * ld * lo])
        self.norm_lu[n, rows] = lu
        self.norm_ld[n, rows] = ld
        self.norm_coef[:, n, rows] = (_CODE4_AINV @ b)[:, None]

    def expected_rows(self, pars: np.ndarray):
        """Per-row expected yields and the pieces of the gradient."""
        a = pars[self.hist_par][:, None]
        up, dn = self.hist_up, self.hist_dn
        S = 0.5 * (up + dn)
        A = 0.0625 * (up - dn)
        a2 = a * a
        poly = a * (S + a * A * (15.0 + a2 * (-10.0 + 3.0 * a2)))
        dpoly = S + A * (30.0 * a + a2 * a * (-40.0 + 18.0 * a2))
        delta = np.where(a > 1, a * up, np.where(a < -1, a * dn, poly))
        ddelta = np.where(a > 1, up, np.where(a < -1, dn, dpoly))
        base = self.nominal + delta.sum(axis=0)
        # normsys, code 4
        al = pars[self.norm_par][:, None]
        c = self.norm_coef
        fpoly = 1.0 + al * (c[0] + al * (c[1] + al * (c[2] + al * (c[3] + al * (c[4] + al * c[5])))))
        dfpoly = c[0] + al * (2 * c[1] + al * (3 * c[2] + al * (4 * c[3] + al * (5 * c[4] + al * 6 * c[5]))))
        f_hi = np.exp(al * self.norm_lu)
        f_lo = np.exp(-al * self.norm_ld)
        f = np.where(al >= 1, f_hi, np.where(al <= -1, f_lo, fpoly))
        dlogf = np.where(al >= 1, self.norm_lu, np.where(al <= -1, -self.norm_ld, dfpoly / fpoly))
        fac = np.prod(f, axis=0)
        gam = np.where(self.gamma_of >= 0, pars[np.maximum(self.gamma_of, 0)], 1.0)
        nfv = np.where(self.nf_of >= 0, pars[np.maximum(self.nf_of, 0)], 1.0)
        nu = base * fac * gam * nfv
        return nu, base, fac, gam, nfv, ddelta, dlogf

    def expected_data(self, pars: np.ndarray) -> np.ndarray:
        """Expected counts per bin (channel order of the pyhf model)."""
        nu = self.expected_rows(np.asarray(pars, float))[0]
        return np.bincount(self.bin_of, nu, minlength=self.nbins)

    def logpdf_and_grad(
        self, pars: np.ndarray, main: np.ndarray, aux: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """ln L (pyhf's constants included) and d ln L / d pars for main-measurement counts
        ``main`` and auxiliary data ``aux`` (default: the nominal ones)."""
        aux = self.aux if aux is None else aux
        main = np.asarray(main, dtype=np.float64)
        grad = np.empty(self.npars)
        logl = logpdf_grad_kernel(
            np.asarray(pars, dtype=np.float64),
            main,
            gammaln(main + 1.0),
            aux,
            self.sigma,
            self.constrained,
            self.nominal,
            self.bin_of,
            self.nf_of,
            self.gamma_of,
            self.hist_par,
            self.hist_up,
            self.hist_dn,
            self.norm_par,
            self.norm_coef,
            self.norm_lu,
            self.norm_ld,
            self.hist_ptr,
            self.hist_idx,
            self.norm_ptr,
            self.norm_idx,
            grad,
        )
        return float(logl), grad

    def precondition(self, pars: np.ndarray, main: np.ndarray) -> None:
        """Scale each parameter by 1/sqrt of the diagonal of the Hessian of -2 ln L at
        ``pars`` (finite differences of the gradient); the minimiser works in these units,
        which cuts the number of L-BFGS-B iterations several-fold on this workspace."""
        d = np.ones(self.npars)
        for i in np.where(~self.fixed)[0]:
            step = 1e-5 * max(1.0, abs(pars[i]))
            xp, xm = pars.copy(), pars.copy()
            xp[i] += step
            xm[i] -= step
            d[i] = -2.0 * (self.logpdf_and_grad(xp, main)[1][i] - self.logpdf_and_grad(xm, main)[1][i]) / (2 * step)
        self.scale = np.where(d > 0, 1.0 / np.sqrt(np.abs(d)), 1.0)

    # ------------------------------------------------------------------------------
    def fit(
        self,
        main: np.ndarray,
        *,
        fixed: dict[int, float] | None = None,
        init: np.ndarray | None = None,
        aux: np.ndarray | None = None,
    ) -> FitResult:
        """Maximum-likelihood fit with parameters ``fixed`` {index: value} held constant.

        TNC with the analytic gradient first; if the projected gradient is not small
        afterwards, L-BFGS-B from there, then minuit (with the gradient) from that point and
        from the suggested start; the best converged result is returned. A fit
        that converges in no attempt raises RuntimeError (never a silently wrong number)."""
        x0 = (self.init if init is None else np.asarray(init, float)).copy()
        fix = self.fixed.copy()
        for i, v in (fixed or {}).items():
            fix[i] = True
            x0[i] = v
        free = np.where(~fix)[0]
        sc = self.scale[free]
        bounds = [(self.bounds[i][0] / sc[a], self.bounds[i][1] / sc[a]) for a, i in enumerate(free)]
        lo = np.array([b[0] for b in bounds])
        hi = np.array([b[1] for b in bounds])

        def fg(xf):
            # xf: free parameters in units of self.scale
            x = x0.copy()
            x[free] = xf * sc
            val, g = self.logpdf_and_grad(x, main, aux)
            if not np.isfinite(val):
                return 1e30, np.zeros_like(xf)
            return -2.0 * val, -2.0 * g[free] * sc

        def converged(xf, g) -> bool:
            # projected gradient: components pushing out of an active bound do not count
            pg = np.where((xf <= lo + 1e-9) & (g > 0), 0.0, np.where((xf >= hi - 1e-9) & (g < 0), 0.0, g))
            return bool(np.max(np.abs(pg / sc)) < 1e-3)

        attempts = []
        start = np.clip(x0[free] / sc, lo, hi)
        # TNC first: it needs no BLAS (scipy's L-BFGS-B spends most of its time in
        # multithreaded BLAS calls on this 232-parameter problem), then L-BFGS-B, then minuit
        res = minimize(
            fg, start, jac=True, method="TNC", bounds=bounds, options={"maxfun": 20000, "ftol": 1e-12, "gtol": 1e-6}
        )
        ok = converged(res.x, fg(res.x)[1])
        attempts.append((res.fun, res.x, ok, "TNC"))
        if not ok:
            res = minimize(
                fg,
                res.x,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 5000, "ftol": 1e-14, "gtol": 1e-7, "maxcor": 30},
            )
            ok = converged(res.x, fg(res.x)[1])
            attempts.append((res.fun, res.x, ok, "L-BFGS-B"))
        if not ok:
            from iminuit import Minuit

            for s0 in (res.x, np.clip(self.init[free] / sc, lo, hi)):
                mi = Minuit(lambda xf: fg(xf)[0], s0, grad=lambda xf: fg(xf)[1])
                mi.errordef = Minuit.LEAST_SQUARES
                mi.limits = bounds
                mi.strategy = 1
                mi.migrad(ncall=200000)
                xf = np.asarray(mi.values)
                attempts.append((mi.fval, xf, bool(mi.valid) or converged(xf, fg(xf)[1]), "minuit"))
        good = [a for a in attempts if a[2]]
        if not good:
            raise RuntimeError(
                f"likelihood fit did not converge (fixed={fixed}); attempts: "
                + ", ".join(f"{a[3]} -2lnL={a[0]:.4f}" for a in attempts)
            )
        best = min(good, key=lambda a: a[0])
        x = x0.copy()
        x[free] = best[1] * sc
        return FitResult(x, float(best[0]), True, best[3])

    def twice_nll_grad_hess(
        self, pars: np.ndarray, main: np.ndarray, idx: np.ndarray, aux: np.ndarray | None = None
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """-2 ln L, its gradient and its exact Hessian in the parameters p with ``idx[p] >= 0``
        (at positions ``idx[p]``); value inf when a rate is not positive."""
        m = int(idx.max()) + 1
        grad = np.empty(m)
        hess = np.empty((m, m))
        main = np.asarray(main, dtype=np.float64)
        val, ok = twice_nll_hess_kernel(
            np.asarray(pars, dtype=np.float64),
            main,
            gammaln(main + 1.0),
            self.aux if aux is None else aux,
            self.sigma,
            self.constrained,
            self.nominal,
            self.bin_of,
            self.nf_of,
            self.gamma_of,
            self.hist_par,
            self.hist_up,
            self.hist_dn,
            self.norm_par,
            self.norm_coef,
            self.norm_lu,
            self.norm_ld,
            np.asarray(idx, dtype=np.int64),
            grad,
            hess,
        )
        return (float(val) if ok else np.inf), grad, hess

    def newton_fit(
        self,
        main: np.ndarray,
        *,
        fixed: dict[int, float] | None = None,
        init: np.ndarray | None = None,
        aux: np.ndarray | None = None,
        track: int | None = None,
        hint: NewtonState | None = None,
        max_iter: int = 40,
    ) -> tuple[FitResult, NewtonState] | None:
        """Maximum-likelihood fit by Newton's method with the exact Hessian and a backtracking
        line search, from ``init`` (a warm start: the fit of a neighbouring hypothesis).

        ``hint``: the state of a neighbouring fit (same free parameters): its Cholesky factor
        is used for the steps (chord method: only gradients are evaluated) as long as each
        step cuts the Newton decrement by > 3x; otherwise the Hessian is recomputed here.
        Converged when the Newton decrement g^T H^-1 g of -2 ln L is below 1e-12 (-2 ln L
        within ~1e-12 of the minimum, far tighter than :meth:`fit`). Returns None — the
        caller then uses :meth:`fit` — when a step would leave the parameter bounds, the
        Hessian cannot be made positive definite, or it does not converge in ``max_iter``
        steps: never an unconverged fit. With ``track`` (a fixed parameter, e.g. the signal
        strength) the state holds d(pars)/d(pars[track]) along the profile,
        -H_ff^-1 H_f,track, for the warm start of the next hypothesis."""
        x = (self.init if init is None else np.asarray(init, float)).copy()
        fix = self.fixed.copy()
        for i, v in (fixed or {}).items():
            fix[i] = True
            x[i] = v
        free = np.where(~fix)[0]
        free = free[np.argsort(self.newton_rank[free], kind="stable")]  # gammas by bin first
        nf = len(free)
        idx = np.full(self.npars, -1, dtype=np.int64)
        idx[free] = np.arange(nf)
        if track is not None:
            if not fix[track]:
                raise PhiphiError(f"track = {track} must be a fixed parameter of the fit")
            if x[track] != 0.0:  # d nu / d mu_np at mu_np = 0 is not in the kernel: no slope there
                idx[track] = nf
            else:
                track = None
        lo, hi = self.lower[free], self.upper[free]
        if np.any(x[free] <= lo) or np.any(x[free] >= hi):
            return None
        aux_ = self.aux if aux is None else aux
        main = np.asarray(main, dtype=np.float64)
        lgam = gammaln(main + 1.0)
        gbuf = np.empty(self.npars)

        def value_grad(pars):
            v = -2.0 * logpdf_grad_kernel(
                pars, main, lgam, aux_, self.sigma, self.constrained, self.nominal, self.bin_of, self.nf_of,
                self.gamma_of, self.hist_par, self.hist_up, self.hist_dn, self.norm_par, self.norm_coef,
                self.norm_lu, self.norm_ld, self.hist_ptr, self.hist_idx, self.norm_ptr, self.norm_idx, gbuf,
            )  # fmt: skip
            return v, -2.0 * gbuf[free]

        fac, first, slope, exact, borrowed = None, None, None, False, False
        if hint is not None and hint.factor.shape == (nf, nf) and hint.first is not None:
            fac, first, slope, borrowed = hint.factor, hint.first, hint.slope, True
            val, g = value_grad(x)
        prev_dec = np.inf
        for _ in range(max_iter):
            if fac is None:
                val, g_all, h = self.twice_nll_grad_hess(x, main, idx, aux_)
                if not np.isfinite(val):
                    return None
                g = g_all[:nf]
                hff = np.ascontiguousarray(h[:nf, :nf])
                shift = 0.0
                while True:  # not positive definite away from the minimum: Levenberg-Marquardt shift
                    fac, first, ok = cholesky_kernel(hff, shift)
                    if ok:
                        break
                    shift = max(10.0 * shift, 1e-3 * float(np.mean(np.abs(np.diag(hff)))))
                    if shift > 1e8:
                        return None
                exact, borrowed = shift == 0.0, False
                if exact and track is not None:
                    slope = np.zeros(self.npars)
                    slope[free] = -cho_solve_kernel(fac, first, np.ascontiguousarray(h[:nf, nf]))
                prev_dec = np.inf
            if not np.isfinite(val):
                return None
            step = -cho_solve_kernel(fac, first, g)
            dec = -float(g @ step)
            if not dec >= 0.0:
                return None
            if dec < 1e-12 and (exact or borrowed):
                return FitResult(x, val, True, "newton"), NewtonState(fac, slope, first)
            if dec > prev_dec / 3.0 and not exact:  # the borrowed (or shifted) factor does not work here
                fac = None
                continue
            prev_dec = dec
            t = 1.0
            while True:
                trial = x.copy()
                trial[free] += t * step
                if np.any(trial[free] <= lo) or np.any(trial[free] >= hi):
                    return None
                v_new, g_new = value_grad(trial)
                if np.isfinite(v_new) and v_new <= val - 1e-4 * t * dec:
                    break
                if dec < 1e-8 and np.isfinite(v_new) and v_new <= val + 1e-9 * max(1.0, abs(val)):
                    break  # at the rounding floor of -2 ln L: the step is still a Newton step
                t *= 0.5
                if t < 1e-6:
                    return None
            x, val, g = trial, v_new, g_new
            if exact and dec > 1e-6:  # far from the minimum: a fresh Hessian at the next point
                fac = None
        return None

    def hessian_error(
        self, main: np.ndarray, pars: np.ndarray, index: int, *, fixed_extra: list[int] | None = None
    ) -> float:
        """Standard error of parameter ``index`` from the inverse Hessian of -ln L
        (finite differences of the analytic gradient) over the free parameters."""
        fix = self.fixed.copy()
        for i in fixed_extra or []:
            fix[i] = True
        free = np.where(~fix)[0]
        n = len(free)
        h = np.zeros((n, n))
        for a, i in enumerate(free):
            step = 1e-5 * max(1.0, abs(pars[i]))
            xp, xm = pars.copy(), pars.copy()
            xp[i] += step
            xm[i] -= step
            gp = self.logpdf_and_grad(xp, main)[1][free]
            gm = self.logpdf_and_grad(xm, main)[1][free]
            h[a] = -(gp - gm) / (2 * step)
        h = 0.5 * (h + h.T)
        cov = np.linalg.inv(h)
        return float(np.sqrt(cov[list(free).index(index), list(free).index(index)]))
