"""LHAPDF6 (``lhagrid1``) parton distributions and LO alpha_s, evaluated in numba.

Reading
    :func:`load_pdf` finds a member file ``<SET>_0000.dat`` (first on ``LHAPDF_DATA_PATH``, then
    among the grids installed by the ``pythia8mc`` wheel, located through
    :mod:`importlib.metadata`), parses it and returns a :class:`PDFGrid`. Nothing is downloaded.

Interpolation (LHAPDF 6's default ``logcubic``)
    cubic Hermite in ln x at the Q² knots, then cubic Hermite in ln Q² of the results; knot
    derivatives are the average of the left and right finite-difference slopes (one-sided at the
    edges). Subgrids with fewer than four Q² knots use log-bilinear interpolation. The values
    interpolated are x·f(x, Q).

Extrapolation (LHAPDF's ``continuation``, simplified)
    below x_min: ln(xf) linear in ln x from the first two knots when both values exceed 1e-3,
    otherwise xf linear in ln x; above Q_max: ln(xf) linear in ln Q² from the last two knots;
    below Q_min the value at Q_min is used (the generator never goes there: Q ≥ p_T cut).

alpha_s
    one-loop running from alpha_s(M_Z) of the set, continuous at the flavour thresholds
    (:data:`evtgen/data/pdfsets.yaml`, Pythia 8's defaults).

The numba kernels take the grid as a plain tuple of arrays (``PDFGrid.arrays``) and return all
13 flavours (index ``pid + 6`` for quarks, 6 for the gluon) at once.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numba as nb
import numpy as np
import yaml

from evtgen.errors import PhiphiError

NFLAV = 13  # pid -6..6, gluon at index 6


@lru_cache(maxsize=1)
def pdf_config() -> dict:
    """The contents of ``evtgen/data/pdfsets.yaml``."""
    text = resources.files("evtgen").joinpath("data/pdfsets.yaml").read_text()
    return yaml.safe_load(text)


def pythia_pdfdata_dir() -> Path | None:
    """Directory of the LHAPDF grids shipped by the installed ``pythia8mc`` wheel (or None)."""
    try:
        dist = importlib.metadata.distribution("pythia8mc")
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        parts = Path(str(f)).parts
        if "pdfdata" in parts and str(f).endswith(".dat"):
            return Path(dist.locate_file(f)).resolve().parent
    return None


def find_member_file(name: str) -> Path:
    """Path of member 0 of PDF set ``name`` (LHAPDF_DATA_PATH first, then pythia8mc)."""
    if not name or "/" in name or name.startswith("."):
        raise PhiphiError(f"PDF set name {name!r} is not a valid LHAPDF set name")
    fname = f"{name}_0000.dat"
    dirs: list[Path] = []
    for d in os.environ.get("LHAPDF_DATA_PATH", "").split(os.pathsep):
        if d:
            dirs += [Path(d) / name, Path(d)]
    pd = pythia_pdfdata_dir()
    if pd is not None:
        dirs.append(pd)
    for d in dirs:
        p = d / fname
        if p.is_file():
            return p
    known = sorted(p.name[:-9] for d in dirs if d.is_dir() for p in d.glob("*_0000.dat"))
    raise PhiphiError(
        f"unknown PDF set {name!r}: no {fname} on LHAPDF_DATA_PATH or in the pythia8mc grids"
        + (f" (available: {', '.join(known)})" if known else "")
    )


@dataclass(frozen=True)
class PDFGrid:
    """A parsed lhagrid1 member, ready for the numba kernels."""

    name: str
    path: str
    alphas_mz: float
    arrays: tuple  # (q2lo, xoff, qoff, voff, logx, logq2, xf, dxf) + build_fast_tables' 8 tables
    xmin: float
    xmax: float
    qmin: float
    qmax: float

    def xfx(self, pid: int, x, q):
        """x·f(x, Q) for PDG id ``pid`` (21 or 0 = gluon) at arrays ``x``, ``q`` (GeV)."""
        if pid == 21:
            pid = 0
        if not -6 <= pid <= 6:
            raise PhiphiError(f"parton id {pid} is not a quark or gluon")
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        q = np.broadcast_to(np.asarray(q, dtype=np.float64), x.shape)
        return xfx_array(self.arrays, pid + 6, x.ravel(), np.ascontiguousarray(q.ravel()) ** 2).reshape(x.shape)

    def xfx_flavours(self, x, q) -> np.ndarray:
        """x·f for all flavours at once: array (n, 13), column pid + 6 (gluon in column 6)."""
        x = np.ascontiguousarray(np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel())
        q = np.ascontiguousarray(np.broadcast_to(np.asarray(q, dtype=np.float64), x.shape))
        return xfx_all_array(self.arrays, x, q * q)

    def alphas(self, q):
        """LO alpha_s(Q) matching the set."""
        return alphas_array(alphas_params(self.alphas_mz), np.atleast_1d(np.asarray(q, float)) ** 2)


def _bad(path, msg):
    return PhiphiError(f"corrupted PDF grid file {path}: {msg}")


def parse_lhagrid1(path: str | Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Subgrids (x knots, Q knots, pids, values[nx, nq, npid]) of an lhagrid1 member file."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, f"cannot read it ({exc.__class__.__name__})") from None
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    try:
        i0 = lines.index("---")
    except ValueError:
        raise _bad(path, "no '---' header separator") from None
    header = "\n".join(lines[:i0])
    try:
        hdr = yaml.safe_load(header) or {}
    except yaml.YAMLError:
        raise _bad(path, "unreadable YAML header") from None
    if str(hdr.get("Format", "lhagrid1")) != "lhagrid1":
        raise _bad(path, f"format {hdr.get('Format')!r} is not lhagrid1")
    blocks, cur = [], []
    for ln in lines[i0 + 1 :]:
        if ln.strip() == "---":
            blocks.append(cur)
            cur = []
        elif ln.strip():
            cur.append(ln)
    if cur:
        raise _bad(path, "last subgrid is not terminated by '---'")
    if not blocks:
        raise _bad(path, "no subgrid")
    subgrids = []
    for ib, blk in enumerate(blocks):
        try:
            xs = np.array(blk[0].split(), dtype=float)
            qs = np.array(blk[1].split(), dtype=float)
            pids = np.array(blk[2].split(), dtype=int)
            vals = np.array(" ".join(blk[3:]).split(), dtype=float)
        except (ValueError, IndexError):
            raise _bad(path, f"subgrid {ib} has non-numeric or missing knot lines") from None
        nx, nq, nf = len(xs), len(qs), len(pids)
        if nx < 2 or nq < 2 or vals.size != nx * nq * nf:
            raise _bad(path, f"subgrid {ib} has {vals.size} values, expected {nx}*{nq}*{nf}")
        if not (np.all(np.diff(xs) > 0) and np.all(np.diff(qs) > 0) and xs[0] > 0 and qs[0] > 0):
            raise _bad(path, f"subgrid {ib} knots are not positive and increasing")
        if not np.all(np.isfinite(vals)):
            raise _bad(path, f"subgrid {ib} contains non-finite values")
        subgrids.append((xs, qs, pids, vals.reshape(nx, nq, nf)))
    return subgrids


def _knot_derivs(logx: np.ndarray, v: np.ndarray) -> np.ndarray:
    """d(xf)/d ln x at the x knots (LHAPDF: mean of left/right slopes, one-sided at edges)."""
    d = np.empty_like(v)
    dx = np.diff(logx)[:, None, None]
    slope = np.diff(v, axis=0) / dx
    d[0] = slope[0]
    d[-1] = slope[-1]
    d[1:-1] = 0.5 * (slope[:-1] + slope[1:])
    return d


def build_arrays(subgrids) -> tuple:
    """Contiguous, padded numba input arrays of a PDF grid (knots, values, Hermite slopes)."""
    q2lo, xoff, qoff, voff = [], [0], [0], [0]
    logx, logq2, xf, dxf = [], [], [], []
    for xs, qs, pids, vals in subgrids:
        nx, nq = len(xs), len(qs)
        full = np.zeros((nx, nq, NFLAV))
        for k, pid in enumerate(pids):
            p = 0 if pid == 21 else int(pid)
            if -6 <= p <= 6:
                full[:, :, p + 6] = vals[:, :, k]
        lx = np.log(xs)
        q2lo.append(qs[0] ** 2)
        logx.append(lx)
        logq2.append(np.log(qs**2))
        xf.append(full.ravel())
        dxf.append(_knot_derivs(lx, full).ravel())
        xoff.append(xoff[-1] + nx)
        qoff.append(qoff[-1] + nq)
        voff.append(voff[-1] + nx * nq * NFLAV)
    base = (
        np.array(q2lo),
        np.array(xoff, dtype=np.int64),
        np.array(qoff, dtype=np.int64),
        np.array(voff, dtype=np.int64),
        np.concatenate(logx),
        np.concatenate(logq2),
        np.concatenate(xf),
        np.concatenate(dxf),
    )
    return base + build_fast_tables(base)


NPAD = 16  # flavours padded to 16 in the fast tables (whole SIMD vectors; entries 13..15 are zero)
NTRIAL_FLAV = 12  # slots 0..11 (pid -6..5) written by the trial-path evaluation: 3 AVX2 vectors
NBUCKET = 512  # uniform buckets per subgrid and axis for the O(1) knot search


def _bucket_table(knots: np.ndarray, nbucket: int) -> tuple[float, float, np.ndarray]:
    """(lo, 1/width, start) with start[b] = the knot interval holding the lower edge of bucket b."""
    lo, hi = float(knots[0]), float(knots[-1])
    h = (hi - lo) / nbucket
    edges = lo + h * np.arange(nbucket)
    start = np.clip(np.searchsorted(knots, edges, side="right") - 1, 0, len(knots) - 2)
    return lo, 1.0 / h, start.astype(np.int64)


def build_fast_tables(base: tuple) -> tuple:
    """Tables of the shared-knot-search evaluation :func:`xfx_pair_fast` (built once at load).

    For every x interval ix and Q knot iq of a subgrid, the four Hermite inputs in ln x
    (xf[ix], dxf[ix]·Δ, xf[ix+1], dxf[ix+1]·Δ; Δ = ln x[ix+1] − ln x[ix]) of all flavours, padded
    to :data:`NPAD`, contiguous in (iq, input, flavour): one 4×4 weighted sum per flavour.
    The trial table holds the same numbers for the slots 0..:data:`NTRIAL_FLAV` − 1 only (pid
    −6..5, what the monojet trials read: :func:`xfx_pair_block`), contiguous in (ix, iq, input,
    slot): 3/4 of the bytes per point and of the footprint (NNPDF2.3 LO: 1.9 MB next to the 2.5 MB
    of the NPAD table).
    Bucket tables locate the knot intervals in ln x and ln Q² without a binary search.
    Returns (coef, coff, xbkt_par, xbkt, qbkt_par, qbkt, coef_trial, coff_trial) appended to the
    grid tuple (indices 8..15).
    """
    q2lo, xoff, qoff, voff, logx, logq2, xf, dxf = base
    coefs, coff, tcoefs, tcoff = [], [0], [], [0]
    xpar, qpar, xb, qb = [], [], [], []
    for isub in range(q2lo.size):
        nx = xoff[isub + 1] - xoff[isub]
        nq = qoff[isub + 1] - qoff[isub]
        lx = logx[xoff[isub] : xoff[isub + 1]]
        lq = logq2[qoff[isub] : qoff[isub + 1]]
        v = xf[voff[isub] : voff[isub + 1]].reshape(nx, nq, NFLAV)
        d = dxf[voff[isub] : voff[isub + 1]].reshape(nx, nq, NFLAV)
        dl = np.diff(lx)[:, None, None]
        c = np.zeros((nx - 1, nq, 4, NPAD))
        c[:, :, 0, :NFLAV] = v[:-1]
        c[:, :, 1, :NFLAV] = d[:-1] * dl
        c[:, :, 2, :NFLAV] = v[1:]
        c[:, :, 3, :NFLAV] = d[1:] * dl
        coefs.append(c.ravel())
        coff.append(coff[-1] + c.size)
        ct = np.ascontiguousarray(c[:, :, :, :NTRIAL_FLAV])
        tcoefs.append(ct.ravel())
        tcoff.append(tcoff[-1] + ct.size)
        for knots, par, tab in ((lx, xpar, xb), (lq, qpar, qb)):
            lo, inv, start = _bucket_table(knots, NBUCKET)
            par.append((lo, inv))
            tab.append(start)
    return (
        np.concatenate(coefs),
        np.array(coff, dtype=np.int64),
        np.array(xpar),
        np.concatenate(xb),
        np.array(qpar),
        np.concatenate(qb),
        np.concatenate(tcoefs),
        np.array(tcoff, dtype=np.int64),
    )


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float, name: str, alphas_mz: float) -> PDFGrid:
    sub = parse_lhagrid1(path)
    arrays = build_arrays(sub)
    return PDFGrid(
        name=name,
        path=path,
        alphas_mz=alphas_mz,
        arrays=arrays,
        xmin=float(min(s[0][0] for s in sub)),
        xmax=float(max(s[0][-1] for s in sub)),
        qmin=float(sub[0][1][0]),
        qmax=float(sub[-1][1][-1]),
    )


def load_pdf(name: str | None = None, alphas_mz: float | None = None) -> PDFGrid:
    """Load PDF set ``name`` (default: NNPDF2.3 QCD+QED LO, alpha_s(M_Z) = 0.130)."""
    cfg = pdf_config()
    name = name or cfg["default"]
    known = cfg["sets"].get(name)
    if alphas_mz is None:
        if known is None:
            # validate the name first, so an unknown set gives the 'unknown set' message
            find_member_file(name)
            raise PhiphiError(
                f"alpha_s(M_Z) of PDF set {name!r} is not known to phiphi; give it as options['alphas_mz'] (--alphas-mz)"
            )
        alphas_mz = float(known["alphas_mz"])
    elif known is not None and abs(float(alphas_mz) - float(known["alphas_mz"])) > 1e-12:
        raise PhiphiError(
            f"PDF set {name} has alpha_s(M_Z) = {known['alphas_mz']} (evtgen/data/pdfsets.yaml); "
            f"--alphas-mz {alphas_mz} is only for sets not listed there"
        )
    if not 0.05 < alphas_mz < 0.2:
        raise PhiphiError(f"alpha_s(M_Z) = {alphas_mz} is outside (0.05, 0.2)")
    path = find_member_file(name)
    return _load_cached(str(path), path.stat().st_mtime, name, float(alphas_mz))


# ----------------------------------------------------------------------------- alpha_s


def alphas_params(alphas_mz: float) -> np.ndarray:
    """Parameters (thresholds², 1/alpha_s at each, b0's) of one-loop running, as an array.

    Layout: [mz2, 1/as(mz), mc2, mb2, mt2, nf_max].
    """
    r = pdf_config()["alphas_running"]
    return np.array([r["mz"] ** 2, 1.0 / alphas_mz, r["m_c"] ** 2, r["m_b"] ** 2, r["m_t"] ** 2, float(r["nf_max"])])


@nb.njit(cache=True)
def _b0(nf):
    return (33.0 - 2.0 * nf) / (12.0 * np.pi)


@nb.njit(cache=True)
def alphas_lo(par, q2):
    """One-loop alpha_s(q2): 1/a(Q²) = 1/a(Q0²) + b0(nf) ln(Q²/Q0²), continuous at thresholds."""
    mz2, inv, mc2, mb2, mt2, nfmax = par[0], par[1], par[2], par[3], par[4], par[5]
    if q2 >= mz2:
        if q2 <= mt2 or nfmax < 6:
            inv = inv + _b0(5.0) * np.log(q2 / mz2)
        else:
            inv = inv + _b0(5.0) * np.log(mt2 / mz2) + _b0(6.0) * np.log(q2 / mt2)
    else:
        if q2 >= mb2:
            inv = inv + _b0(5.0) * np.log(q2 / mz2)
        else:
            inv = inv + _b0(5.0) * np.log(mb2 / mz2)
            if q2 >= mc2:
                inv = inv + _b0(4.0) * np.log(q2 / mb2)
            else:
                inv = inv + _b0(4.0) * np.log(mc2 / mb2) + _b0(3.0) * np.log(q2 / mc2)
    return 1.0 / inv


@nb.njit(cache=True)
def alphas_array(par, q2):
    """alpha_s at each scale of ``q`` (GeV), LO running from alpha_s(M_Z)."""
    out = np.empty(q2.size)
    for i in range(q2.size):
        out[i] = alphas_lo(par, q2[i])
    return out


# ----------------------------------------------------------------------------- interpolation


@nb.njit(cache=True, inline="always")
def _hermite_basis(t):
    # the cubic Hermite basis h00, h10, h01, h11 at t (one set of operations for every caller, so
    # the block and the one-point evaluators give the same bits)
    t2 = t * t
    t3 = t2 * t
    return 2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, -2 * t3 + 3 * t2, t3 - t2


@nb.njit(cache=True, inline="always")
def _hermite(t, vl, dl, vh, dh):
    h00, h10, h01, h11 = _hermite_basis(t)
    return h00 * vl + h10 * dl + h01 * vh + h11 * dh


@nb.njit(cache=True, inline="always")
def _find(a, lo, n, v):
    """Index i in [0, n-2] with a[lo+i] <= v < a[lo+i+1] (clamped)."""
    i = np.searchsorted(a[lo : lo + n], v, side="right") - 1
    if i < 0:
        i = 0
    if i > n - 2:
        i = n - 2
    return i


@nb.njit(cache=True)
def _xinterp(g, isub, lx, ix, iq, out):
    """Cubic Hermite in ln x at Q knot iq (all flavours), adds into out."""
    xoff, qoff, voff, logx, xf, dxf = g[1], g[2], g[3], g[4], g[6], g[7]
    nq = qoff[isub + 1] - qoff[isub]
    x0 = xoff[isub]
    dlx = logx[x0 + ix + 1] - logx[x0 + ix]
    t = (lx - logx[x0 + ix]) / dlx
    b0 = voff[isub] + (ix * nq + iq) * 13
    b1 = voff[isub] + ((ix + 1) * nq + iq) * 13
    for f in range(13):
        out[f] = _hermite(t, xf[b0 + f], dxf[b0 + f] * dlx, xf[b1 + f], dxf[b1 + f] * dlx)


@nb.njit(cache=True)
def _xextrap_low(g, isub, lx, iq, out):
    """Continuation below x_min at Q knot iq."""
    xoff, qoff, voff, logx, xf = g[1], g[2], g[3], g[4], g[6]
    nq = qoff[isub + 1] - qoff[isub]
    x0 = xoff[isub]
    b0 = voff[isub] + iq * 13
    b1 = voff[isub] + (nq + iq) * 13
    r = (lx - logx[x0]) / (logx[x0 + 1] - logx[x0])
    for f in range(13):
        v0 = xf[b0 + f]
        v1 = xf[b1 + f]
        if v0 > 1e-3 and v1 > 1e-3:
            out[f] = np.exp(np.log(v0) + r * (np.log(v1) - np.log(v0)))
        else:
            out[f] = v0 + r * (v1 - v0)


@nb.njit(cache=True)
def _atq(g, isub, lx, ix, low, iq, out):
    if low:
        _xextrap_low(g, isub, lx, iq, out)
    else:
        _xinterp(g, isub, lx, ix, iq, out)


@nb.njit(cache=True)
def xfx_all(g, x, q2, out):
    """x·f(x, Q²) for all 13 flavours into ``out`` (index pid+6; gluon 6)."""
    work = np.empty((4, 13))
    xfx_all_w(g, x, q2, out, work)


@nb.njit(cache=True)
def xfx_all_w(g, x, q2, out, work):
    """As :func:`xfx_all` with a caller-provided work array (4, 13): no allocation."""
    q2lo, xoff, qoff, logx, logq2 = g[0], g[1], g[2], g[4], g[5]
    nsub = q2lo.size
    isub = 0
    for k in range(nsub):
        if q2 >= q2lo[k]:
            isub = k
    nx = xoff[isub + 1] - xoff[isub]
    nq = qoff[isub + 1] - qoff[isub]
    q0 = qoff[isub]
    lx = np.log(x)
    lq = np.log(q2)
    above = False
    if lq < logq2[q0]:
        lq = logq2[q0]
    elif lq > logq2[q0 + nq - 1]:
        above = True
    if x > 1.0:
        for f in range(13):
            out[f] = 0.0
        return
    low = lx < logx[xoff[isub]]
    ix = _find(logx, xoff[isub], nx, lx)
    iq = _find(logq2, q0, nq, lq)
    if not low and not above and nq >= 4:
        _xfx_fast(g, isub, lx, lq, ix, iq, nq, out)
        return
    vl = work[0]
    vh = work[1]
    _atq(g, isub, lx, ix, low, iq, vl)
    _atq(g, isub, lx, ix, low, iq + 1, vh)
    d1 = logq2[q0 + iq + 1] - logq2[q0 + iq]
    if above:
        r = (lq - logq2[q0 + iq + 1]) / d1
        for f in range(13):
            if vl[f] > 0.0 and vh[f] > 0.0:
                out[f] = np.exp(np.log(vh[f]) + r * (np.log(vh[f]) - np.log(vl[f])))
            else:
                out[f] = vh[f] + r * (vh[f] - vl[f])
        return
    t = (lq - logq2[q0 + iq]) / d1
    if nq < 4:
        for f in range(13):
            out[f] = vl[f] + t * (vh[f] - vl[f])
        return
    vll = work[2]
    vhh = work[3]
    if iq > 0:
        _atq(g, isub, lx, ix, low, iq - 1, vll)
        d0 = logq2[q0 + iq] - logq2[q0 + iq - 1]
    else:
        d0 = 1.0
    if iq + 2 < nq:
        _atq(g, isub, lx, ix, low, iq + 2, vhh)
        d2 = logq2[q0 + iq + 2] - logq2[q0 + iq + 1]
    else:
        d2 = 1.0
    for f in range(13):
        s1 = (vh[f] - vl[f]) / d1
        if iq == 0:
            dl = s1
        else:
            dl = 0.5 * (s1 + (vl[f] - vll[f]) / d0)
        if iq + 2 >= nq:
            dh = s1
        else:
            dh = 0.5 * (s1 + (vhh[f] - vh[f]) / d2)
        out[f] = _hermite(t, vl[f], dl * d1, vh[f], dh * d1)


@nb.njit(cache=True, inline="always")
def _qweights(logq2, q0, iq, nq, lq):
    """Weights of the Q knots iq-1..iq+2 in LHAPDF's Hermite interpolation in ln Q², with the
    knot derivatives written as finite differences (one-sided at the subgrid edges)."""
    d1 = logq2[q0 + iq + 1] - logq2[q0 + iq]
    u = (lq - logq2[q0 + iq]) / d1
    g00, g10, g01, g11 = _hermite_basis(u)
    wll = 0.0
    wl = g00
    wh = g01
    whh = 0.0
    if iq == 0:
        wl -= g10
        wh += g10
    else:
        r0 = d1 / (logq2[q0 + iq] - logq2[q0 + iq - 1])
        wl += -0.5 * g10 + 0.5 * g10 * r0
        wh += 0.5 * g10
        wll = -0.5 * g10 * r0
    if iq + 2 >= nq:
        wl -= g11
        wh += g11
    else:
        r2 = d1 / (logq2[q0 + iq + 2] - logq2[q0 + iq + 1])
        wl -= 0.5 * g11
        wh += 0.5 * g11 - 0.5 * g11 * r2
        whh = 0.5 * g11 * r2
    return wll, wl, wh, whh


@nb.njit(cache=True, inline="always")
def _apply(g, isub, lx, ix, iq, nq, wll, wl, wh, whh, out):
    xoff, voff, logx, xf, dxf = g[1], g[3], g[4], g[6], g[7]
    x0 = xoff[isub]
    dlx = logx[x0 + ix + 1] - logx[x0 + ix]
    t = (lx - logx[x0 + ix]) / dlx
    ha, hb, hc, hd = _hermite_basis(t)
    hb = hb * dlx
    hd = hd * dlx
    base = voff[isub]
    for f in range(13):
        out[f] = 0.0
    for a in range(4):
        qa = iq - 1 + a
        wa = wll if a == 0 else (wl if a == 1 else (wh if a == 2 else whh))
        if wa == 0.0:
            continue
        b0 = base + (ix * nq + qa) * 13
        b1 = base + ((ix + 1) * nq + qa) * 13
        for f in range(13):
            out[f] += wa * (ha * xf[b0 + f] + hb * dxf[b0 + f] + hc * xf[b1 + f] + hd * dxf[b1 + f])


@nb.njit(cache=True)
def _xfx_fast(g, isub, lx, lq, ix, iq, nq, out):
    """Log-cubic interpolation written as a tensor product: the Hermite basis in ln x and the
    knot weights in ln Q² (which encode LHAPDF's finite-difference Q derivatives) are computed
    once and shared by the 13 flavours. Identical in exact arithmetic to the two-step form."""
    wll, wl, wh, whh = _qweights(g[5], g[2][isub], iq, nq, lq)
    _apply(g, isub, lx, ix, iq, nq, wll, wl, wh, whh, out)


@nb.njit(cache=True, inline="always")
def _bucket_find(a, lo, n, v, bpar, btab, isub):
    """As :func:`_find` (a[lo+i] <= v < a[lo+i+1], clamped to [0, n-2]), started from the
    bucket table and corrected by a few linear steps: the same index, no binary search."""
    b = int((v - bpar[isub, 0]) * bpar[isub, 1])
    if b < 0:
        b = 0
    elif b > NBUCKET - 1:
        b = NBUCKET - 1
    i = btab[isub * NBUCKET + b]
    while i < n - 2 and a[lo + i + 1] <= v:
        i += 1
    while i > 0 and a[lo + i] > v:
        i -= 1
    return i


@nb.njit(cache=True, inline="always")
def _apply_fast(coef, c0, nq, logx, x0, ix, lx, iq, wll, wl, wh, whh, out, nflav):
    """The 4×4 weighted sum of :func:`_apply` on the contiguous fast table (NPAD flavours) for
    the slots 0..nflav-1, written as one straight-line sum per flavour (vectorised over flavours).
    Q knots outside the subgrid (weight exactly 0 there) are replaced by a valid neighbour with
    the same 0 weight."""
    dlx = logx[x0 + ix + 1] - logx[x0 + ix]
    t = (lx - logx[x0 + ix]) / dlx
    ha, hb, hc, hd = _hermite_basis(t)
    row = 4 * NPAD
    b1 = c0 + (ix * nq + iq) * row
    b2 = b1 + row
    b0 = b1 - row if iq > 0 else b1
    b3 = b2 + row if iq + 2 < nq else b2
    a00, a01, a02, a03 = wll * ha, wll * hb, wll * hc, wll * hd
    a10, a11, a12, a13 = wl * ha, wl * hb, wl * hc, wl * hd
    a20, a21, a22, a23 = wh * ha, wh * hb, wh * hc, wh * hd
    a30, a31, a32, a33 = whh * ha, whh * hb, whh * hc, whh * hd
    # slices first: indices f in range(NPAD) are provably non-negative, so numba's wraparound
    # test disappears and the loop vectorises with contiguous loads
    r0 = coef[b0 : b0 + row]
    r1 = coef[b1 : b1 + row]
    r2 = coef[b2 : b2 + row]
    r3 = coef[b3 : b3 + row]
    for f in range(nflav):
        v0 = a00 * r0[f] + a01 * r0[NPAD + f] + a02 * r0[2 * NPAD + f] + a03 * r0[3 * NPAD + f]
        v1 = a10 * r1[f] + a11 * r1[NPAD + f] + a12 * r1[2 * NPAD + f] + a13 * r1[3 * NPAD + f]
        v2 = a20 * r2[f] + a21 * r2[NPAD + f] + a22 * r2[2 * NPAD + f] + a23 * r2[3 * NPAD + f]
        v3 = a30 * r3[f] + a31 * r3[NPAD + f] + a32 * r3[2 * NPAD + f] + a33 * r3[3 * NPAD + f]
        out[f] = v0 + v1 + v2 + v3


@nb.njit(cache=True, inline="always")
def _pair_in_grid(g, xa, xb, q2, lq, fa, fb, nflav):
    """Fills the slots 0..nflav-1 of ``fa``/``fb`` and returns True when both points are inside
    the grid (Q_min ≤ Q ≤ Q_max, x_min ≤ x ≤ 1, ≥ 4 Q knots), else returns False without touching
    them; lq = ln Q²."""
    return _pair_in_grid_logs(g, xa, xb, np.log(xa), np.log(xb), q2, lq, fa, fb, nflav)


@nb.njit(cache=True, inline="always")
def _fast_subgrid(q2lo, xoff, qoff, logx, logq2, xa, xb, la, lb, q2, lq):
    # the Q^2 subgrid of q2 (its index, number of Q^2 nodes, first Q^2 and x node) and whether the
    # pair (xa, xb) at q2 is in its fast region (>= 4 Q^2 nodes, ln Q^2 and both ln x on the grid)
    isub = 0
    for k in range(q2lo.size):
        if q2 >= q2lo[k]:
            isub = k
    nq = qoff[isub + 1] - qoff[isub]
    q0 = qoff[isub]
    x0 = xoff[isub]
    xmin = logx[x0]
    inside = not (nq < 4 or lq < logq2[q0] or lq > logq2[q0 + nq - 1] or la < xmin or lb < xmin or xa > 1.0 or xb > 1.0)
    return inside, isub, nq, q0, x0


@nb.njit(cache=True, inline="always")
def _pair_in_grid_logs(g, xa, xb, la, lb, q2, lq, fa, fb, nflav):
    """:func:`_pair_in_grid` with la = ln xa, lb = ln xb given by the caller."""
    q2lo, xoff, qoff, logx, logq2 = g[0], g[1], g[2], g[4], g[5]
    coef, coff, xbp, xbt, qbp, qbt = g[8], g[9], g[10], g[11], g[12], g[13]
    inside, isub, nq, q0, x0 = _fast_subgrid(q2lo, xoff, qoff, logx, logq2, xa, xb, la, lb, q2, lq)
    if not inside:
        return False
    nx = xoff[isub + 1] - x0
    iq = _bucket_find(logq2, q0, nq, lq, qbp, qbt, isub)
    wll, wl, wh, whh = _qweights(logq2, q0, iq, nq, lq)
    c0 = coff[isub]
    ia = _bucket_find(logx, x0, nx, la, xbp, xbt, isub)
    ib = _bucket_find(logx, x0, nx, lb, xbp, xbt, isub)
    _apply_fast(coef, c0, nq, logx, x0, ia, la, iq, wll, wl, wh, whh, fa, nflav)
    _apply_fast(coef, c0, nq, logx, x0, ib, lb, iq, wll, wl, wh, whh, fb, nflav)
    return True


@nb.njit(cache=True, inline="always")
def xfx_pair_try(g, xa, xb, q2, fa, fb):
    """The fast path of :func:`xfx_pair_fast`: fills ``fa``/``fb`` and returns True when both
    points are inside the grid (see :func:`_pair_in_grid`), else returns False without touching
    them (the caller then uses the general :func:`xfx_all_w`; keeping that call out of this
    function keeps the inlined fast path lean)."""
    return _pair_in_grid(g, xa, xb, q2, np.log(q2), fa, fb, NPAD)


@nb.njit(cache=True, inline="always")
def xfx_pair_fast(g, xa, xb, q2, fa, fb, work):
    """x·f at (xa, Q²) and (xb, Q²) for all flavours, the Q part shared (same interpolation and
    fall-backs as :func:`xfx_all_w`), on the fast tables of
    :func:`build_fast_tables`: one knot search in ln Q² shared by both x, O(1) knot searches,
    one contiguous 4×4 weighted sum per flavour. ``fa``/``fb`` have length NPAD (index pid + 6)."""
    if not xfx_pair_try(g, xa, xb, q2, fa, fb):
        xfx_all_w(g, xa, q2, fa, work)
        xfx_all_w(g, xb, q2, fb, work)


@nb.njit(cache=True, inline="always")
def xfx_pair_trial(g, xa, xb, q2, lq, fa, fb, work):
    """x·f at (xa, Q²) and (xb, Q²) for the slots 0..11 (pid −6..5; index pid + 6), with
    lq = ln Q² given by the caller (shared with alpha_s): the values of :func:`xfx_pair_fast`
    bit for bit at these slots. Outside the fast region (see :func:`xfx_pair_try`) the general
    :func:`xfx_all_w` fills all 13 flavours."""
    if not _pair_in_grid(g, xa, xb, q2, lq, fa, fb, NTRIAL_FLAV):
        xfx_all_w(g, xa, q2, fa, work)
        xfx_all_w(g, xb, q2, fb, work)


@nb.njit(cache=True, inline="always")
def _row_weights(lx, xl, dlx, wll, wl, wh, whh):
    # the 16 weights a_qi = (Q knot weight q) x (Hermite basis i in ln x) of the 4x4 sum of
    # :func:`_apply_fast` (the same products)
    t = (lx - xl) / dlx
    ha, hb, hc, hd = _hermite_basis(t)
    return (
        wll * ha, wll * hb, wll * hc, wll * hd, wl * ha, wl * hb, wl * hc, wl * hd,
        wh * ha, wh * hb, wh * hc, wh * hd, whh * ha, whh * hb, whh * hc, whh * hd,
    )  # fmt: skip


@nb.njit(cache=True, inline="always")
def _row_offsets(c0, ix, nq, iq, row):
    # offsets of the Q rows iq-1..iq+2 of x interval ix (a row outside the subgrid, weight 0,
    # replaced by its neighbour), unsigned: the table reads need no wraparound test
    b1 = c0 + (ix * nq + iq) * row
    b2 = b1 + row
    b0 = b1 - row if iq > 0 else b1
    b3 = b2 + row if iq + 2 < nq else b2
    return np.uint64(b0), np.uint64(b1), np.uint64(b2), np.uint64(b3)


@nb.njit(cache=True, error_model="numpy")
def xfx_pair_block(g, m, use, xa, xb, la, lb, q2, lq, fa, fb, ok):
    """:func:`xfx_pair_trial`'s fast path (ln x given) for a block of point pairs j < m with use[j] > 0
    (e.g. a phase-space weight): rows fa[j], fb[j] (:data:`NPAD` columns, as xfx_all_w needs) get
    the values of :func:`_pair_in_grid_logs` bit for bit in the slots 0..11 (columns 12.. are not
    touched) and ok[j] = True where both points are in its fast region; elsewhere (and where
    use[j] <= 0) ok[j] = False and the rows are not touched (the caller evaluates those with
    :func:`xfx_all_w`). The grid tuple is unpacked once per block.

    It reads the trial table of :func:`build_fast_tables` (:data:`NTRIAL_FLAV` = 12 flavour slots
    per Hermite input instead of :data:`NPAD` = 16: 1.5 KB instead of 2 KB per x point; the rows
    1M monojet trials touch: 460 KB, < a 512 KB L2) with :func:`_apply_fast`'s arithmetic (same products,
    same order, no FMA contraction). Both x points are written straight-line, with no helper
    taking an array: an array argument of an inlined helper inside a branch cost an
    NRT_incref/NRT_decref pair per point and side."""
    q2lo, xoff, qoff, logx, logq2 = g[0], g[1], g[2], g[4], g[5]
    xbp, xbt, qbp, qbt, coef, coff = g[10], g[11], g[12], g[13], g[14], g[15]
    row = 4 * NTRIAL_FLAV
    p1 = np.uint64(NTRIAL_FLAV)
    p2 = np.uint64(2 * NTRIAL_FLAV)
    p3 = np.uint64(3 * NTRIAL_FLAV)
    # the 12 slots counted by a number LLVM cannot fold (fa's row length minus 4 = 12), so the
    # flavour loop stays a loop, vectorised with a run-time overlap check (a constant count is
    # unrolled to scalars)
    nflav = fa.shape[1] - (NPAD - NTRIAL_FLAV)
    for j in range(m):
        ok[j] = False
        if not use[j] > 0.0:
            continue
        q2j = q2[j]
        lqj = lq[j]
        laj = la[j]
        lbj = lb[j]
        inside, isub, nq, q0, x0 = _fast_subgrid(q2lo, xoff, qoff, logx, logq2, xa[j], xb[j], laj, lbj, q2j, lqj)
        if not inside:
            continue
        ok[j] = True
        nx = xoff[isub + 1] - x0
        iq = _bucket_find(logq2, q0, nq, lqj, qbp, qbt, isub)
        wll, wl, wh, whh = _qweights(logq2, q0, iq, nq, lqj)
        c0 = coff[isub]
        ia = _bucket_find(logx, x0, nx, laj, xbp, xbt, isub)
        ib = _bucket_find(logx, x0, nx, lbj, xbp, xbt, isub)
        uj = np.uint64(j)
        xl = logx[x0 + ia]
        a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33 = _row_weights(
            laj, xl, logx[x0 + ia + 1] - xl, wll, wl, wh, whh
        )
        u0, u1, u2, u3 = _row_offsets(c0, ia, nq, iq, row)
        for fi in range(nflav):
            f = np.uint64(fi)
            v0 = a00 * coef[u0 + f] + a01 * coef[u0 + p1 + f] + a02 * coef[u0 + p2 + f] + a03 * coef[u0 + p3 + f]
            v1 = a10 * coef[u1 + f] + a11 * coef[u1 + p1 + f] + a12 * coef[u1 + p2 + f] + a13 * coef[u1 + p3 + f]
            v2 = a20 * coef[u2 + f] + a21 * coef[u2 + p1 + f] + a22 * coef[u2 + p2 + f] + a23 * coef[u2 + p3 + f]
            v3 = a30 * coef[u3 + f] + a31 * coef[u3 + p1 + f] + a32 * coef[u3 + p2 + f] + a33 * coef[u3 + p3 + f]
            fa[uj, f] = v0 + v1 + v2 + v3
        xl = logx[x0 + ib]
        a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33 = _row_weights(
            lbj, xl, logx[x0 + ib + 1] - xl, wll, wl, wh, whh
        )
        u0, u1, u2, u3 = _row_offsets(c0, ib, nq, iq, row)
        for fi in range(nflav):
            f = np.uint64(fi)
            v0 = a00 * coef[u0 + f] + a01 * coef[u0 + p1 + f] + a02 * coef[u0 + p2 + f] + a03 * coef[u0 + p3 + f]
            v1 = a10 * coef[u1 + f] + a11 * coef[u1 + p1 + f] + a12 * coef[u1 + p2 + f] + a13 * coef[u1 + p3 + f]
            v2 = a20 * coef[u2 + f] + a21 * coef[u2 + p1 + f] + a22 * coef[u2 + p2 + f] + a23 * coef[u2 + p3 + f]
            v3 = a30 * coef[u3 + f] + a31 * coef[u3 + p1 + f] + a32 * coef[u3 + p2 + f] + a33 * coef[u3 + p3 + f]
            fb[uj, f] = v0 + v1 + v2 + v3


def alphas_params_logs(alphas_mz: float) -> np.ndarray:
    """:func:`alphas_params` followed by ln of the four squared scales [ln mz2, ln mc2, ln mb2,
    ln mt2] (indices 6..9), the input of :func:`alphas_lo_l`; :func:`alphas_lo` reads 0..5."""
    p = alphas_params(alphas_mz)
    return np.concatenate([p, np.log(p[[0, 2, 3, 4]])])


@nb.njit(cache=True, inline="always")
def alphas_lo_l(par, q2, lq):
    """:func:`alphas_lo` with lq = ln q2 given (``par`` from :func:`alphas_params_logs`): the
    logs of ratios become differences of logs (equal to rounding), no logarithm per call."""
    inv, mc2, mb2, mt2, nfmax = par[1], par[2], par[3], par[4], par[5]
    lmz, lmc, lmb, lmt = par[6], par[7], par[8], par[9]
    if q2 >= par[0]:
        if q2 <= mt2 or nfmax < 6:
            inv = inv + _b0(5.0) * (lq - lmz)
        else:
            inv = inv + _b0(5.0) * (lmt - lmz) + _b0(6.0) * (lq - lmt)
    else:
        if q2 >= mb2:
            inv = inv + _b0(5.0) * (lq - lmz)
        else:
            inv = inv + _b0(5.0) * (lmb - lmz)
            if q2 >= mc2:
                inv = inv + _b0(4.0) * (lq - lmb)
            else:
                inv = inv + _b0(4.0) * (lmc - lmb) + _b0(3.0) * (lq - lmc)
    return 1.0 / inv


@nb.njit(cache=True)
def xfx_array(g, iflav, x, q2):
    """x f(x, Q) of one parton at arrays of x and Q (LHAPDF log-cubic interpolation)."""
    out = np.empty(x.size)
    buf = np.empty(13)
    work = np.empty((4, 13))
    for i in range(x.size):
        xfx_all_w(g, x[i], q2[i], buf, work)
        out[i] = buf[iflav]
    return out


@nb.njit(cache=True)
def xfx_all_array(g, x, q2):
    """x f(x, Q) of every parton flavour at arrays of x and Q."""
    out = np.empty((x.size, 13))
    work = np.empty((4, 13))
    for i in range(x.size):
        xfx_all_w(g, x[i], q2[i], out[i], work)
    return out


def gev2_to_pb() -> float:
    """Conversion factor from GeV^-2 to pb ((hbar c)^2)."""
    return float(pdf_config()["gev2_to_pb"])


__all__ = [
    "PDFGrid",
    "load_pdf",
    "find_member_file",
    "pythia_pdfdata_dir",
    "parse_lhagrid1",
    "xfx_all",
    "xfx_all_w",
    "xfx_pair_fast",
    "xfx_pair_try",
    "xfx_pair_trial",
    "xfx_pair_block",
    "NTRIAL_FLAV",
    "alphas_params_logs",
    "alphas_lo_l",
    "NPAD",
    "alphas_lo",
    "alphas_params",
    "gev2_to_pb",
]
