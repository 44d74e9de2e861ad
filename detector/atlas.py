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
from typing import Any

import awkward as ak
import numba as nb
import numpy as np
import yaml

from detector import fastrandom, numpy_field
from evtgen import jit_notice
from evtgen.errors import PhiphiError
from evtgen.kinematics import exp_vec, log_vec

jit_notice.announce(__file__, "the ATLAS emulation")

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


@nb.njit(cache=True)
def _padded(offsets, px, py, pz, e, out):
    # out (4, n, k), zeros on entry: (n, k) rows of four jagged columns (offsets into the flat px,
    # py, pz, e), zero beyond each row's length (as ak.fill_none(ak.pad_none(..., k, clip=True),
    # 0.0), without awkward's option-type passes): one pass for the four. The caller allocates
    # out with numpy's np.zeros (calloc: pages zeroed when first written, here; numba's np.zeros
    # writes every page once more, 2x the time of the whole padding on the project machine)
    n, k = out.shape[1], out.shape[2]
    for i in range(n):
        a = offsets[i]
        for j in range(min(offsets[i + 1] - a, k)):
            out[0, i, j] = px[a + j]
            out[1, i, j] = py[a + j]
            out[2, i, j] = pz[a + j]
            out[3, i, j] = e[a + j]


@nb.njit(cache=True)
def _any_per_row(offsets, flag, out):
    # out[i] |= any(flag[offsets[i]:offsets[i + 1]])
    for i in range(offsets.shape[0] - 1):
        for j in range(offsets[i], offsets[i + 1]):
            if flag[j]:
                out[i] = True
                break


def _flat(lists: ak.Array) -> tuple[np.ndarray, ak.Array]:
    """(offsets from 0, flat content) of a list-of-records column."""
    layout = lists.layout
    if isinstance(layout, ak.contents.ListOffsetArray):  # the offsets as they are (no ak.num / flatten passes)
        offsets = np.asarray(layout.offsets, dtype=np.int64)
        return offsets - offsets[0], ak.Array(layout.content[offsets[0] : offsets[-1]])
    counts = ak.to_numpy(ak.num(lists, axis=1)).astype(np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets, ak.flatten(lists, axis=1)


def jets_from_events(events: ak.Array, cfg: dict):
    """(px, py, pz, E) padded arrays (n, k) of truth jets, true MET (x, y), veto flags."""
    px, py, pz, e, tx, ty, veto, sign = _columns(events, cfg)
    return (px, py, pz, e, tx, ty, veto) if sign > 0 else (px, py, pz, e, -tx, -ty, veto)


def _columns(events: ak.Array, cfg: dict):
    # jets_from_events with the true MET as sign * (tx, ty): parton-level events give the jet's
    # own (px, py) columns and sign -1 (no negated copies; the kernel negates, exactly)
    n = len(events)
    fields = events.fields
    if "jets" in fields:  # showered events
        offsets, flat = _flat(events.jets)
        k = max(int(np.max(np.diff(offsets), initial=0)), 1)
        cols = [ak.to_numpy(flat[c]) for c in ("px", "py", "pz", "E")]
        dtype = np.result_type(*cols)
        padded = np.zeros((4, n, k), dtype=dtype)
        _padded(offsets, *(c.astype(dtype, copy=False) for c in cols), padded)
        px, py, pz, e = padded
        tx, ty = numpy_field(events, "met_true_x"), numpy_field(events, "met_true_y")
        veto = np.zeros(n, dtype=bool)
        vc = cfg["selection"]["vetoes"]
        for name, key in (("electrons", "electron"), ("muons", "muon"), ("photons", "photon")):
            if name in fields:
                o_offsets, o = _flat(events[name])
                if len(o) == 0:
                    continue
                ox, oy, oz = (ak.to_numpy(o[c]) for c in ("px", "py", "pz"))
                pt = np.hypot(ox, oy)
                with np.errstate(divide="ignore", invalid="ignore"):
                    eta = np.arcsinh(oz / pt)
                sel = (pt > vc[key]["pt_min"]) & (abs(eta) < vc[key]["abs_eta_max"])
                _any_per_row(o_offsets, sel, veto)
        return px, py, pz, e, tx, ty, veto, 1.0
    if "j" not in fields:
        raise PhiphiError("ATLAS emulation needs pp2jphiphi/pp2js events (field 'j') or showered events (field 'jets')")
    comps = ("px", "py", "pz", "E")
    layout = events.layout
    jl = layout.content("j") if isinstance(layout, ak.contents.RecordArray) and not layout.is_tuple else None
    j_fields = jl.fields if isinstance(jl, ak.contents.RecordArray) else events["j"].fields
    if all(c in j_fields for c in comps):  # stored components: the buffers (vector's properties: ~4 ns an event)
        px, py, pz, e = (numpy_field(events, "j", c)[:, None] for c in comps)
    else:  # other coordinates (e.g. pt, eta, phi, mass or t): vector computes them
        j = events["j"]
        px, py, pz, e = (ak.to_numpy(getattr(j, c))[:, None] for c in comps)
    return px, py, pz, e, px[:, 0], py[:, 0], np.zeros(n, dtype=bool), -1.0


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


#: tag mixed into the run key (the arXiv number of the analysis)
_STREAM_TAG = 2102_10874
# indices of the kernel parameter vector
(
    _MAX_ETA,
    _RESPONSE,
    _MET_MIN_PT,
    _SOFT,
    _JET_PT,
    _JET_ETA,
    _LOW_MET,
    _DPHI_LOW,
    _DPHI,
    _LEAD_PT,
    _LEAD_ETA,
    _MET_MIN,
    _MAX_JETS,
    _MET_SIGN,
    _NPAR,
) = range(15)


def detector_key(seed: int) -> np.ndarray:
    """Run key of the per-event smearing streams (distinct from the generators' at equal seeds)."""
    return np.random.SeedSequence([int(seed), _STREAM_TAG]).generate_state(2, dtype=np.uint64)


def parameters(cfg: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kernel parameter vector, resolution table (bins, 5), E_T^miss bin edges) of a card."""
    sel = cfg["selection"]
    par = np.empty(_NPAR)
    par[_MAX_ETA] = cfg["jets"]["max_abs_eta"]
    par[_RESPONSE] = cfg["jets"]["response"]
    par[_MET_MIN_PT] = cfg["jets"]["met_min_pt"]
    par[_SOFT] = cfg["met"]["soft_term_sigma"]
    par[_JET_PT], par[_JET_ETA] = sel["jet_pt_min"], sel["jet_abs_eta_max"]
    par[_LOW_MET], par[_DPHI_LOW], par[_DPHI] = sel["low_met_max"], sel["min_dphi_low_met"], sel["min_dphi"]
    par[_LEAD_PT], par[_LEAD_ETA] = sel["leading_jet_pt_min"], sel["leading_jet_abs_eta_max"]
    par[_MET_MIN], par[_MAX_JETS] = sel["met_min"], sel["max_jets"]
    # true p_T^miss = sign * (tx, ty); -1: the caller passes the jet's (px, py) of parton-level events
    par[_MET_SIGN] = 1.0
    res = np.asarray(cfg["jets"]["resolution"], dtype=np.float64).reshape(-1, 5)
    edges = np.array([float(x) for x in cfg["binning"]["em_edges"]])
    return par, res, edges


@nb.njit(cache=True, inline="always")
def _rel_resolution(e, abseta, res):
    # sigma(E)/E of the last |eta| bin containing abseta (as jet_resolution); 0 outside all bins
    out = 0.0
    for b in range(res.shape[0]):
        if abseta >= res[b, 0] and abseta <= res[b, 1]:
            out = np.sqrt(res[b, 2] ** 2 + res[b, 3] ** 2 / e + res[b, 4] ** 2 / (e * e))
    return out


# atan of |x| <= tan(pi/8): the rational approximation of Cephes atan.c (S. L. Moshier), as in
# Go's math.atan; with the reductions of _atan2 the error is <= 2 ulp of the correctly rounded value
_AT_P = (-8.750608600031904122785e-01, -1.615753718733365076637e01, -7.500855792314704667340e01,
         -1.228866684490136173410e02, -6.485021904942025371773e01)  # fmt: skip
_AT_Q = (2.485846490142306297962e01, 1.650270098316988542046e02, 4.328810604912902668951e02,
         4.853903996359136964868e02, 1.945506571482613964425e02)  # fmt: skip
_PI_LO = 1.2246467991473532e-16  # pi - float(pi)


@nb.njit(cache=True, inline="always")
def _atan_small(x):
    z = x * x
    p = (((_AT_P[0] * z + _AT_P[1]) * z + _AT_P[2]) * z + _AT_P[3]) * z + _AT_P[4]
    q = ((((z + _AT_Q[0]) * z + _AT_Q[1]) * z + _AT_Q[2]) * z + _AT_Q[3]) * z + _AT_Q[4]
    return x * (z * p / q) + x


@nb.njit(cache=True, inline="always", error_model="numpy")
def _atan2_finite(y, x):
    # atan2 for 0 < |x| + |y| < inf without branches (selects only: the loops calling it vectorise);
    # atan2 is this plus numpy's arctan2 for the other arguments (the block loops call this one
    # and redo the other arguments with atan2)
    ax, ay = abs(x), abs(y)
    num = min(ax, ay)
    den = max(ax, ay)
    big = num > 0.4142135623730950488 * den
    z = (num - den) / (num + den) if big else num / den
    a = _atan_small(z)
    r = 0.25 * np.pi + (a + 0.25 * _PI_LO) if big else a
    r = 0.5 * np.pi + (0.5 * _PI_LO - r) if ay > ax else r
    r = np.pi + (_PI_LO - r) if x < 0.0 else r
    return np.copysign(r, y)


@nb.njit(cache=True, inline="always")
def atan2(y, x):
    """arctan2(y, x) in [-pi, pi] within 2 ulp of the correctly rounded value, for finite
    (y, x) not both 0 (else numpy's). numba's ``np.arctan2`` calls the C library's atan2,
    20-40 ns per call on the project machine (no vector maths library): it was the largest
    cost of the parton-level emulation; this one (Cephes' polynomial, octant reduction) ~5 ns."""
    ax, ay = abs(x), abs(y)
    if not (ax + ay > 0.0 and ax + ay < np.inf):
        return np.arctan2(y, x)
    return _atan2_finite(y, x)


_LN2 = 0.6931471805599453


@nb.njit(cache=True, inline="always", error_model="numpy")
def log1p_vec(x):
    """log(1 + x) for finite x >= 0 (vectorisable: no libm call) within 4 ulp of the exact value
    (tests/test_atlas_fastmath.py, against mpmath): u = 1 + x rounded, then log(u) * x / (u - 1)
    (Goldberg 1991, Theorem 4; the HP-15C trick), x itself where u rounds to 1."""
    u = 1.0 + x
    d = u - 1.0
    r = log_vec(u) * (x / (d if d != 0.0 else 1.0))  # no division by 0 (callers of any error model)
    return x if d == 0.0 else r


@nb.njit(cache=True, inline="always", error_model="numpy")
def asinh_vec(x):
    """asinh(x) for finite x (vectorisable) within 4 ulp of the exact value: fdlibm's forms
    log1p(|x| + x^2 / (1 + sqrt(1 + x^2))) (no cancellation near 0), log(|x|) + ln 2 above 2^28."""
    a = abs(x)
    w = a + a * a / (1.0 + np.sqrt(1.0 + a * a))
    r = log_vec(a) + _LN2 if a > 268435456.0 else log1p_vec(w)
    return np.copysign(r, x)


#: events per block of :func:`emulate_kernel` (normals of a block drawn together; one scratch allocation per block)
_BLOCK = 2048
#: events per parallel block of :func:`emulate_kernel` with one jet slot (its ~30 scratch rows are
#: allocated once a block and reused by every sub-block: ~1.5 ns an event at 2048)
_BLOCK_ONE_JET = 16384
#: events per sub-block of :func:`_block_one_jet` (its ~30 scratch rows, 8 bytes an event each, fit in L1)
_SUB = 256
#: jet normals per event drawn block-wise (events with more calorimeter jets continue on their stream)
_BLOCK_JETS = 6
#: relative margin around an |eta| threshold inside which eta itself is computed (asinh)
_ETA_MARGIN = 1e-9


@nb.njit(cache=True)
def _thresholds(par, res):
    # sinh of the |eta| thresholds: calorimeter edge, selection, the 4.9 clamp, resolution bins
    n_res = res.shape[0]
    sh = np.empty(3 + 2 * n_res)
    sh[0], sh[1], sh[2] = np.sinh(par[_MAX_ETA]), np.sinh(par[_JET_ETA]), np.sinh(4.9)
    for r in range(n_res):
        sh[3 + 2 * r], sh[4 + 2 * r] = np.sinh(res[r, 0]), np.sinh(res[r, 1])
    return sh


@nb.njit(cache=True, parallel=True)
def emulate_kernel(px, py, pz, e, tx, ty, veto, par, res, edges, key0, key1, first, flt, ints, flags, jets):
    """Smear and select events first..first+n-1 (jets: (n, k) padded with E = 0).

    Stream of an event: two normals for the soft term (x, y), then one per jet inside the
    calorimeter, in input order. Outputs: flt (4, n) met, met_phi, met_true, min_dphi;
    ints (2, n) integers (simulate: int16) n_jets, em_bin; flags (2, n) bool veto, pass_sr; jets (4, NJ, n)
    p_T, eta, phi, true p_T of the leading selected jets: rows m >= k are not written (the
    caller passes zeros there, e.g. ``np.zeros``, whose untouched pages cost nothing).
    True p_T^miss = par[_MET_SIGN] * (tx, ty).

    Events run in blocks of :data:`_BLOCK`: the first 2 + min(k, :data:`_BLOCK_JETS`) normals
    of every event of a block are drawn in vectorised passes (:func:`fastrandom.fill_normals`,
    the same numbers as event-by-event draws); |eta| cuts and resolution bins are decided on
    |p_z|/p_T against sinh of the thresholds, and eta = asinh(p_z/p_T) is computed only for
    the selected jets or within :data:`_ETA_MARGIN` of a threshold. One jet per event
    (parton level, k = 1): parallel blocks of :data:`_BLOCK_ONE_JET` events, each step one loop
    over a sub-block of :data:`_SUB` (:func:`_block_one_jet`; normals by
    :func:`fastrandom.fill_normals_scan8`, the same numbers;
    vectorised: log1p, exp and asinh by :func:`log1p_vec`, ``exp_vec``, :func:`asinh_vec`, no libm
    call); more: event by event (:func:`_block_events`, libm). Against the event-by-event
    :func:`reference_kernel` (libm): integer outputs and selection flags identical, jet p_T and eta
    within 4 ulp, E_T^miss within 4 ulp of (E_T^miss + jet p_T) (tests/test_atlas_blocks.py,
    tests/test_atlas_fastmath.py); a selection could differ only for a smeared p_T or E_T^miss
    within a few ulp of a cut (|eta| on a threshold is decided on libm's asinh, as the reference)."""
    n, k = px.shape
    kn = 2 + min(k, _BLOCK_JETS)
    sh = _thresholds(par, res)
    # the jet columns flat (C order): for k = 1 element i is event i's jet (1-D contiguous loads in
    # _block_one_jet: indexing the (n, 1) arrays cost a stride multiply and a wrap-around test a load)
    px1, py1, pz1, e1 = px.reshape(n * k), py.reshape(n * k), pz.reshape(n * k), e.reshape(n * k)
    size = _BLOCK_ONE_JET if k == 1 else _BLOCK  # events per parallel block
    for b in nb.prange((n + size - 1) // size):
        i0 = b * size
        m = min(size, n - i0)
        if k == 1:
            _block_one_jet(px1, py1, pz1, e1, tx, ty, veto, par, res, edges, sh, key0, key1, first, flt, ints, flags,
                           jets, i0, m)  # fmt: skip
        else:  # as _block_events, written out (a call per block of it was slower)
            scratch = np.empty((4, k))
            g = np.empty((kn, _BLOCK))
            s0 = np.empty(_BLOCK, dtype=np.uint64)
            redo = np.empty(_BLOCK, dtype=np.uint8)
            fastrandom.fill_normals(key0, key1, first + i0, m, g, s0, redo)
            for j in range(m):
                _event(px, py, pz, e, tx, ty, veto, par, res, edges, sh, flt, ints, flags, jets, i0 + j, scratch, g, j,
                       s0[j])  # fmt: skip


@nb.njit(cache=True, parallel=True)
def reference_kernel(px, py, pz, e, tx, ty, veto, par, res, edges, key0, key1, first, flt, ints, flags, jets):
    """:func:`emulate_kernel` evaluated event by event (:func:`_event`), whatever k: the
    reference of its block passes (same arguments and outputs; equal to a few ulp, selections identical)."""
    n, k = px.shape
    kn = 2 + min(k, _BLOCK_JETS)
    sh = _thresholds(par, res)
    for b in nb.prange((n + _BLOCK - 1) // _BLOCK):
        i0 = b * _BLOCK
        _block_events(px, py, pz, e, tx, ty, veto, par, res, edges, sh, key0, key1, first, flt, ints, flags, jets,
                      i0, min(_BLOCK, n - i0), kn)  # fmt: skip


@nb.njit(cache=True)
def _block_events(
    px, py, pz, e, tx, ty, veto, par, res, edges, sh, key0, key1, first, flt, ints, flags, jets, i0, m, kn
):
    # events i0..i0+m-1 one after the other (normals of the block drawn first)
    k = px.shape[1]
    scratch = np.empty((4, k))  # selected jets of one event: p_T, eta, phi, true p_T
    g = np.empty((kn, _BLOCK))
    s0 = np.empty(_BLOCK, dtype=np.uint64)
    redo = np.empty(_BLOCK, dtype=np.uint8)
    fastrandom.fill_normals(key0, key1, first + i0, m, g, s0, redo)
    for j in range(m):
        _event(px, py, pz, e, tx, ty, veto, par, res, edges, sh, flt, ints, flags, jets, i0 + j, scratch, g, j, s0[j])


@nb.njit(cache=True, error_model="numpy")
def _block_one_jet(px1, py1, pz1, e1, tx, ty, veto, par, res, edges, sh, key0, key1, first, flt, ints, flags, jets, i0_block,
                   m_block):  # fmt: skip
    # events i0_block..i0_block+m_block-1 of emulate_kernel with one jet slot (k = 1; px1..e1: the
    # (n, 1) columns flat), in sub-blocks of _SUB events i0..i0+m-1 (scratch allocated once per block),
    # step by step over a sub-block (j: event in the sub-block); the steps do what _event does for
    # k = 1, in the same operations.
    # error_model numpy: no division-by-zero checks (their branches stop vectorisation); every
    # division whose result is used has the divisor the reference guards.
    n_res = res.shape[0]
    g = np.empty((3, _SUB))
    s0 = np.empty(_SUB, dtype=np.uint64)
    redo = np.empty(_SUB, dtype=np.uint8)
    # scalars out of the arrays (loops whose loads may alias their stores do not vectorise)
    sh_cal, sh_sel, sh_clamp = sh[0], sh[1], sh[2]
    sign, soft, response = par[_MET_SIGN], par[_SOFT], par[_RESPONSE]
    max_eta, jet_eta, met_min_pt, jet_pt = par[_MAX_ETA], par[_JET_ETA], par[_MET_MIN_PT], par[_JET_PT]
    low_met, dphi_low, dphi, met_min = par[_LOW_MET], par[_DPHI_LOW], par[_DPHI], par[_MET_MIN]
    lead_pt, lead_eta, max_jets = par[_LEAD_PT], par[_LEAD_ETA], par[_MAX_JETS]
    sh_lead = np.sinh(lead_eta)
    bx, by, bz, be = np.empty(_SUB), np.empty(_SUB), np.empty(_SUB), np.empty(_SUB)
    pt_true, t, rel, scale = np.empty(_SUB), np.empty(_SUB), np.empty(_SUB), np.empty(_SUB)
    pt, eta, phi = np.empty(_SUB), np.empty(_SUB), np.empty(_SUB)
    mx, my, met, met_phi = np.empty(_SUB), np.empty(_SUB), np.empty(_SUB), np.empty(_SUB)
    inside, central, near, sel = (np.empty(_SUB, np.bool_), np.empty(_SUB, np.bool_),
                                  np.empty(_SUB, np.bool_), np.empty(_SUB, np.bool_))  # fmt: skip
    in_bin = np.empty(_SUB, dtype=np.bool_)
    ra2, rb2, rc2 = np.empty(_SUB), np.empty(_SUB), np.empty(_SUB)
    md, ok = np.empty(_SUB), np.empty(_SUB, np.bool_)
    em = np.empty(_SUB, dtype=np.int32)  # int32: twice the lanes of int64 in the 13 bin passes
    for i0 in range(i0_block, i0_block + m_block, _SUB):  # sub-blocks: the scratch rows stay in L1
        m = min(_SUB, i0_block + m_block - i0)
        fastrandom.fill_normals_scan8(key0, key1, first + i0, m, g, s0, redo)
        sx, sy, sz, se = px1[i0 : i0 + m], py1[i0 : i0 + m], pz1[i0 : i0 + m], e1[i0 : i0 + m]
        stx, sty, sveto = tx[i0 : i0 + m], ty[i0 : i0 + m], veto[i0 : i0 + m]
        for j in range(m):  # one loop per column: each a contiguous copy
            bx[j] = sx[j]
        for j in range(m):
            by[j] = sy[j]
        for j in range(m):
            bz[j] = sz[j]
        for j in range(m):
            be[j] = se[j]
        for j in range(m):  # p_T, sinh|eta|, calorimeter and selection |eta| on sinh|eta|
            jx, jy, ej = bx[j], by[j], be[j]
            p = np.sqrt(jx * jx + jy * jy)
            tt = abs(bz[j] / p) if p > 0.0 else 0.0
            pt_true[j], t[j] = p, tt
            inside[j] = (ej > 0.0) & (tt < sh_cal)  # & not and: no branches, the loop vectorises
            central[j] = tt < sh_sel
            near[j] = False
            scale[j] = 1.0
        for c in range(sh.shape[0]):
            s, w = sh[c], _ETA_MARGIN * sh[c]
            seen = False  # a threshold met before (4.9 is three of the card's nine): its pass would repeat
            for c0 in range(c):
                seen |= sh[c0] == s
            if seen:
                continue
            for j in range(m):
                near[j] |= abs(t[j] - s) <= w
        # the last resolution bin containing min(|eta|, 4.9) (none: rel 0) and its squared a, b, c, by
        # selects (a gather of the coefficients by bin index kept the sigma loop scalar: ~5 ns/event)
        a20, b20, c20 = res[0, 2] ** 2, res[0, 3] ** 2, res[0, 4] ** 2
        for j in range(m):
            ra2[j], rb2[j], rc2[j] = a20, b20, c20
            in_bin[j] = False
        for r in range(n_res):
            lo, hi = sh[3 + 2 * r], sh[4 + 2 * r]
            a2, b2, c2 = res[r, 2] ** 2, res[r, 3] ** 2, res[r, 4] ** 2
            for j in range(m):
                tc = min(t[j], sh_clamp)
                here = (tc >= lo) & (tc <= hi)
                in_bin[j] |= here
                ra2[j] = a2 if here else ra2[j]
                rb2[j] = b2 if here else rb2[j]
                rc2[j] = c2 if here else rc2[j]
        for j in range(m):  # sigma(E)/E of that bin (one sqrt per jet), 0 outside all bins
            ej = be[j]
            v = np.sqrt(ra2[j] + rb2[j] / ej + rc2[j] / (ej * ej))
            rel[j] = v if in_bin[j] else 0.0
        for j in range(m):  # within rounding of a threshold (rare): decide on eta itself, libm's as the reference
            ej = be[j]
            if near[j] and ej > 0.0:
                p = pt_true[j]
                eta_j = np.arcsinh(bz[j] / p) if p > 0.0 else 0.0
                inside[j] = abs(eta_j) < max_eta
                rel[j] = _rel_resolution(ej, min(abs(eta_j), 4.9), res)
                central[j] = abs(eta_j) < jet_eta
        g_jet = g[2]  # normal 3 of each event's stream (a row view: the loop below vectorises)
        for j in range(m):  # log-normal scale (log1p_vec, exp_vec: no libm call)
            s2 = log1p_vec(rel[j] * rel[j])
            sc = response * exp_vec(g_jet[j] * np.sqrt(s2) - 0.5 * s2)  # log-normal, mean 1
            scale[j] = sc if inside[j] else 1.0
        # short loops over few arrays: each vectorises (with many arrays the alias checks fail)
        for j in range(m):  # E_T^miss with the hard term
            sc = scale[j]
            hard = inside[j] & (pt_true[j] * sc > met_min_pt)
            x = sign * stx[j] + soft * g[0, j]
            y = sign * sty[j] + soft * g[1, j]
            mx[j] = x - (sc - 1.0) * bx[j] if hard else x
            my[j] = y - (sc - 1.0) * by[j] if hard else y
        for j in range(m):  # the selected jet
            ptj = pt_true[j] * scale[j]
            sel[j] = inside[j] & central[j] & (ptj > jet_pt)
            pt[j] = ptj
        for j in range(m):
            x, y = mx[j], my[j]
            met[j] = np.sqrt(x * x + y * y)
        for j in range(m):
            met_phi[j] = _atan2_finite(my[j], mx[j])
        for j in range(m):
            phi[j] = _atan2_finite(by[j], bx[j])
        for j in range(m):  # eta of the selected jet (asinh_vec: vectorised; p_T > 0 as the smeared p_T passed a cut)
            # p_z / p_T is t with the sign of p_z when p_T > 0 (abs and copysign are exact: no second division)
            eta_j = asinh_vec(np.copysign(t[j], bz[j]))
            eta[j] = eta_j if sel[j] & (pt_true[j] > 0.0) else 0.0
        # atan2 of the arguments _atan2_finite does not take; eta on the leading-jet cut: libm's. Rare
        # (never for finite jets off the cut): counted in a branch-free pass, then redone event by event
        # only in a block that has one (a branch on the selection in every event mispredicts: ~15 ns/event)
        lead_w = _ETA_MARGIN * sh_lead
        n_fix = 0
        for j in range(m):
            a, am = abs(bx[j]) + abs(by[j]), abs(mx[j]) + abs(my[j])
            jet_fix = sel[j] & ((abs(t[j] - sh_lead) <= lead_w) | (not ((a > 0.0) & (a < np.inf))))
            n_fix += 1 if jet_fix | (not ((am > 0.0) & (am < np.inf))) else 0
        for j in range(m if n_fix else 0):
            if sel[j]:
                if abs(t[j] - sh_lead) <= lead_w:  # |eta| < lead_eta decided on the reference's eta
                    p = pt_true[j]
                    eta[j] = np.arcsinh(bz[j] / p) if p > 0.0 else 0.0
                a = abs(bx[j]) + abs(by[j])
                if not (a > 0.0 and a < np.inf):
                    phi[j] = atan2(by[j], bx[j])
            a = abs(mx[j]) + abs(my[j])
            if not (a > 0.0 and a < np.inf):
                met_phi[j] = atan2(my[j], mx[j])
        for j in range(m):  # min delta phi (inf without a selected jet)
            d = abs(phi[j] - met_phi[j])  # both in [-pi, pi]: wrap once
            d = 2.0 * np.pi - d if d > np.pi else d
            md[j] = min(np.inf, d) if sel[j] else np.inf
        for j in range(m):  # the signal-region selection
            mt = met[j]
            cut = dphi_low if mt <= low_met else dphi
            s = sel[j]
            ng = 1 if s else 0
            okj = (mt > met_min) & s & (pt[j] > lead_pt) & (abs(eta[j]) < lead_eta) & (ng <= max_jets) & (md[j] > cut)
            ok[j] = okj & (not sveto[j])
        # outputs through one row view each, one loop per row (stores through rows of one 2-D array
        # with a run-time stride count as dependent for the vectoriser)
        f_met, f_phi, f_true, f_md = flt[0], flt[1], flt[2], flt[3]
        i_nj, i_em, fl_veto, fl_ok = ints[0], ints[1], flags[0], flags[1]
        for j in range(m):
            f_met[i0 + j] = met[j]
        for j in range(m):
            f_phi[i0 + j] = met_phi[j]
        for j in range(m):
            x, y = stx[j], sty[j]
            f_true[i0 + j] = np.sqrt(x * x + y * y)
        for j in range(m):
            f_md[i0 + j] = md[j] if np.isfinite(md[j]) else 9.0
        for j in range(m):
            i_nj[i0 + j] = 1 if sel[j] else 0
        for j in range(m):
            fl_veto[i0 + j] = sveto[j]
        for j in range(m):
            fl_ok[i0 + j] = ok[j]
        n_edges = edges.shape[0]
        for j in range(m):
            em[j] = n_edges - 1
        for q in range(n_edges - 1, -1, -1):  # E_T^miss bin: the first edge above met (the last assignment wins)
            eq, below = edges[q], np.int32(q - 1)
            for j in range(m):
                em[j] = below if eq > met[j] else em[j]
        for j in range(m):
            i_em[i0 + j] = em[j] if ok[j] else -1
        if jets.shape[1] > 0:
            j_pt, j_eta, j_phi, j_true = jets[0, 0], jets[1, 0], jets[2, 0], jets[3, 0]
            for j in range(m):
                j_pt[i0 + j] = pt[j] if sel[j] else 0.0
            for j in range(m):
                j_eta[i0 + j] = eta[j] if sel[j] else 0.0
            for j in range(m):
                j_phi[i0 + j] = phi[j] if sel[j] else 0.0
            for j in range(m):
                j_true[i0 + j] = pt_true[j] if sel[j] else 0.0


@nb.njit(cache=True, inline="always")
def _rel_resolution_t(e, t, res, sh):
    # _rel_resolution at |eta| = asinh(t) (clamped at 4.9) decided on t against sinh of the bin edges
    out = 0.0
    tc = min(t, sh[2])
    for b in range(res.shape[0]):
        if tc >= sh[3 + 2 * b] and tc <= sh[4 + 2 * b]:
            out = np.sqrt(res[b, 2] ** 2 + res[b, 3] ** 2 / e + res[b, 4] ** 2 / (e * e))
    return out


@nb.njit(cache=True, inline="always")
def _event(px, py, pz, e, tx, ty, veto, par, res, edges, sh, flt, ints, flags, jets, i, scratch, g, j, s0):
    k = px.shape[1]
    kn = g.shape[0]
    nj_out = min(jets.shape[1], k)
    n_edges = edges.shape[0]
    mx = par[_MET_SIGN] * tx[i] + par[_SOFT] * g[0, j]
    my = par[_MET_SIGN] * ty[i] + par[_SOFT] * g[1, j]
    n_drawn = 2  # normals of the event's stream used so far
    state = s0
    ng = 0
    for q in range(k):
        ej = e[i, q]
        if not ej > 0.0:
            continue
        jx, jy = px[i, q], py[i, q]
        pt_true = np.sqrt(jx * jx + jy * jy)
        t = abs(pz[i, q] / pt_true) if pt_true > 0.0 else 0.0  # sinh|eta|
        near = False
        for c in range(sh.shape[0]):
            near |= abs(t - sh[c]) <= _ETA_MARGIN * sh[c]
        if near:  # within rounding of a threshold: decide on eta itself, as _rel_resolution
            eta = np.arcsinh(pz[i, q] / pt_true) if pt_true > 0.0 else 0.0
            if not abs(eta) < par[_MAX_ETA]:
                continue
            rel = _rel_resolution(ej, min(abs(eta), 4.9), res)
            central = abs(eta) < par[_JET_ETA]
        else:
            if not t < sh[0]:
                continue
            rel = _rel_resolution_t(ej, t, res, sh)
            central = t < sh[1]
        s2 = np.log1p(rel * rel)
        if n_drawn < kn:
            gj = g[n_drawn, j]
        else:  # more calorimeter jets than drawn block-wise: continue on the event's stream
            if n_drawn == kn:
                for _ in range(kn):
                    gj, state = fastrandom.normal(state)
            gj, state = fastrandom.normal(state)
        n_drawn += 1
        scale = par[_RESPONSE] * np.exp(gj * np.sqrt(s2) - 0.5 * s2)  # log-normal, mean 1
        pt = pt_true * scale
        if pt > par[_MET_MIN_PT]:
            mx -= (scale - 1.0) * jx
            my -= (scale - 1.0) * jy
        if pt > par[_JET_PT] and central:
            eta = np.arcsinh(pz[i, q] / pt_true) if pt_true > 0.0 else 0.0
            # insert into the selected jets, ordered in decreasing smeared p_T
            # (scratch indexed directly: a row view per event costs two atomic reference counts)
            m = ng
            while m > 0 and scratch[0, m - 1] < pt:
                for r in range(4):
                    scratch[r, m] = scratch[r, m - 1]
                m -= 1
            scratch[0, m], scratch[1, m], scratch[2, m], scratch[3, m] = pt, eta, atan2(jy, jx), pt_true
            ng += 1
    met = np.sqrt(mx * mx + my * my)
    met_phi = atan2(my, mx)
    min_dphi = np.inf
    for m in range(ng):
        d = abs(scratch[2, m] - met_phi)  # both in [-pi, pi]: wrap once
        if d > np.pi:
            d = 2.0 * np.pi - d
        min_dphi = min(min_dphi, d)
    cut = par[_DPHI_LOW] if met <= par[_LOW_MET] else par[_DPHI]
    lead_ok = ng > 0 and scratch[0, 0] > par[_LEAD_PT] and abs(scratch[1, 0]) < par[_LEAD_ETA]
    ok = met > par[_MET_MIN] and lead_ok and ng <= par[_MAX_JETS] and min_dphi > cut and not veto[i]
    b = -1
    if ok:
        b = n_edges - 1
        for q in range(n_edges):
            if edges[q] > met:
                b = q - 1
                break
    flt[0, i] = met
    flt[1, i] = met_phi
    flt[2, i] = np.sqrt(tx[i] * tx[i] + ty[i] * ty[i])
    flt[3, i] = min_dphi if np.isfinite(min_dphi) else 9.0
    ints[0, i] = ng
    ints[1, i] = b
    flags[0, i] = veto[i]
    flags[1, i] = ok
    for m in range(nj_out):
        have = m < ng
        for r in range(4):
            jets[r, m, i] = scratch[r, m] if have else 0.0


def simulate(
    events: ak.Array, *, seed: int = 0, card: dict | None = None, first: int = 0, pool: Any = None
) -> ak.Array:
    """Reconstructed-level monojet quantities (flat fields) for ``events`` (``card``: a card
    dict of the same layout as detector/data/atlas_card.yaml; None = the packaged one;
    ``first``: index of the first event in the run, i.e. of its smearing stream; ``pool``: None
    (fresh arrays) or the caller's output pool (an object with ``empty(shape, dtype)``, e.g.
    ``evtgen.decays.OutputPool``) whose released memory the outputs reuse; the values do not
    depend on it)."""
    c = packaged_card() if card is None else card
    px, py, pz, e, tx, ty, veto, sign = _columns(events, c)
    n = px.shape[0]
    par, res, edges = parameters(c)
    par[_MET_SIGN] = sign
    key = detector_key(seed)
    empty = np.empty if pool is None else pool.empty
    flt = empty((4, n), np.float64)
    # n_jets <= k and em_bin in [-1, len(edges)): int16 always (one schema for every chunk; 4 bytes
    # an event less to write than int32)
    if max(px.shape[1], len(edges)) >= 2**15:
        raise PhiphiError(f"{px.shape[1]} jets in an event or {len(edges)} E_T^miss bins: at most 32767 are allowed")
    ints = empty((2, n), np.int16)
    flags = empty((2, n), np.bool_)
    k_out = min(NJ, px.shape[1])  # the kernel writes the first k_out jets (an event has at most k)
    jets = empty((4, k_out, n), np.float64)
    if n:
        emulate_kernel(px, py, pz, e, tx, ty, veto, par, res, edges, key[0], key[1], int(first), flt, ints, flags, jets)
    out = {
        "met": flt[0],
        "met_phi": flt[1],
        "met_true": flt[2],
        "n_jets": ints[0],
        "min_dphi": flt[3],
        "veto": flags[0],
        "pass_sr": flags[1],
        "em_bin": ints[1],
    }
    # jets beyond the input's k are absent in every event: zeros, rows of one calloc (untouched pages
    # cost nothing; 12 separate np.zeros(n) of parton-level events: 1.3-1.8 ms a call of 2e6 events)
    absent = np.zeros((4 * (NJ - k_out), n))
    for m in range(NJ):
        for q, name in enumerate(("pt", "eta", "phi", "pt_true")):
            out[f"jet{m + 1}_{name}"] = jets[q, m] if m < k_out else absent[4 * (m - k_out) + q]
    for f in ("shat", "m2_phiphi", "m2_S", "m2_invisible"):
        if f in events.fields:
            out[f] = numpy_field(events, f)
    contents = [ak.contents.NumpyArray(v) for v in out.values()]
    return ak.Array(ak.contents.RecordArray(contents, list(out), length=n))


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
