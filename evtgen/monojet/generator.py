"""Python orchestration of the monojet generator: set-up, VEGAS integration, unweighting.

The numba kernels are in :mod:`evtgen.monojet.kernels`. Randomness:

* VEGAS adaptation draws its points from ``numpy.random.Generator(PCG64(SeedSequence([seed, 0])))``;
* the maximum-weight scan and the events use :mod:`evtgen.rng` (counter-based, per trial point),
  so event ``i`` is the same whatever the chunk size or the number of threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

import awkward as ak
import numpy as np
import yaml

from evtgen.errors import PhiphiError
from evtgen.events import register_vector
from evtgen.monojet import kernels as K
from evtgen.pdf import PDFGrid, alphas_params_logs, gev2_to_pb, load_pdf

QUARKS = ("uu", "dd", "ss", "cc", "bb")  # PDG 2, 1, 3, 4, 5
_QPID = {"uu": 2, "dd": 1, "ss": 3, "cc": 4, "bb": 5}
COUPLING_NAMES = ("CG",) + tuple(f"CS_{q}" for q in QUARKS)
MIN_SCAN_POINTS_PER_CELL = 8  # a scan with fewer points than this per cell uses coarser cells


@lru_cache(maxsize=1)
def config() -> dict:
    """The generator settings of evtgen/data/monojet.yaml (cached)."""
    return yaml.safe_load(resources.files("evtgen").joinpath("data/monojet.yaml").read_text())


@dataclass
class Setup:
    """Everything that defines the integrand."""

    mode: str  # "phiphi" or "S"
    mass: float  # m_phi or m_S
    couplings: dict
    ptj_min: float
    scale: str
    pdf: PDFGrid
    sqrt_s: float
    par: np.ndarray = field(repr=False)
    apar: np.ndarray = field(repr=False)

    @property
    def ndim(self) -> int:
        return 4 if self.mode == "phiphi" else 3


def _opt(options: dict | None, key: str, default):
    if not options:
        return default
    v = options.get(key)
    return default if v is None else v


def make_setup(mode: str, mass, couplings: dict | None, options: dict | None = None) -> Setup:
    """Validate user input and build the parameter vectors."""
    cfg = config()
    from evtgen.errors import check_finite

    sqrt_s = check_finite("sqrt_s", _opt(options, "sqrt_s", cfg["collider"]["sqrt_s"]))
    ptj = check_finite("ptj_min", _opt(options, "ptj_min", cfg["defaults"]["ptj_min"]))
    if ptj <= 0:
        raise PhiphiError(f"--ptj-min {ptj:g} GeV must be positive (the LO jet cross section diverges at p_T -> 0)")
    mname = "mphi" if mode == "phiphi" else "ms"
    if mass is None:
        raise PhiphiError(f"--{mname} is required")
    mass = check_finite(mname, mass)
    if mass < 0:
        raise PhiphiError(f"--{mname} {mass:g} GeV must not be negative")
    m2min = 4 * mass * mass if mode == "phiphi" else mass * mass
    thr = 2 * mass if mode == "phiphi" else mass
    if thr >= sqrt_s:
        what = "2 m_phi" if mode == "phiphi" else "m_S"
        raise PhiphiError(f"--{mname} {mass:g} GeV: {what} = {thr:g} GeV is not below sqrt(s) = {sqrt_s:g} GeV")
    need = ptj + math.sqrt(ptj * ptj + m2min)
    if need >= sqrt_s:
        raise PhiphiError(
            f"--{mname} {mass:g} GeV with --ptj-min {ptj:g} GeV needs sqrt(s_hat) >= {need:g} GeV > sqrt(s) = {sqrt_s:g} GeV"
        )
    scale = str(_opt(options, "scale", cfg["defaults"]["scale"]))
    if scale not in ("default", "pythia"):
        raise PhiphiError(f"--scale {scale!r} is not one of: default, pythia")
    coup = {n: 0.0 for n in COUPLING_NAMES}
    for name, val in (couplings or {}).items():
        if name not in coup:
            raise PhiphiError(f"unknown coupling {name!r} (known: {', '.join(COUPLING_NAMES)})")
        coup[name] = check_finite(name, val)
    if all(v == 0 for v in coup.values()):
        raise PhiphiError("all couplings are zero: give at least one with --coupling NAME=VALUE")
    pdf = load_pdf(_opt(options, "pdf", None), _opt(options, "alphas_mz", None))
    par = np.zeros(K.NPAR)
    par[K.P_SQRTS] = sqrt_s
    par[K.P_PTMIN] = ptj
    par[K.P_M2MIN] = m2min
    par[K.P_MODE] = 1.0 if mode == "phiphi" else 0.0
    par[K.P_SCALE] = 1.0 if scale == "pythia" else 0.0
    # phiphi: y = C^S_qq, c = 2 C_G ; S: y = CS_qq, c = CG  (monojet_matrix_elements.md)
    cfac = 2.0 if mode == "phiphi" else 1.0
    par[K.P_C2] = (cfac * coup["CG"]) ** 2
    for q in QUARKS:
        par[K.P_Y2 + _QPID[q] - 1] = coup[f"CS_{q}"] ** 2
    par[K.P_MPHI2] = mass * mass if mode == "phiphi" else 0.0
    par[K.P_CONV] = gev2_to_pb()
    return Setup(mode, mass, coup, ptj, scale, pdf, sqrt_s, par, alphas_params_logs(pdf.alphas_mz))


@dataclass
class Integration:
    """The adapted VEGAS grid, the cross section and the unweighting cell maxima of one model point."""

    sigma_pb: float
    sigma_err_pb: float
    variations_pb: np.ndarray  # 7-point
    chi2_dof: float
    edges: np.ndarray
    wmax: float
    n_points: int
    cell_max: np.ndarray = None
    n_cells_per_dim: int = 1
    unweighting_efficiency: float = 0.0
    cell_table: np.ndarray = None  # the cell proposal ∝ cell_max (kernels.cell_table: alias table and maxima)

    @property
    def cell_bits(self) -> int:
        return int(self.n_cells_per_dim).bit_length() - 1

    @property
    def scale_up_pb(self) -> float:
        return float(self.variations_pb.max())

    @property
    def scale_down_pb(self) -> float:
        return float(self.variations_pb.min())


def _refine(edges: np.ndarray, bins: np.ndarray, f: np.ndarray, alpha: float) -> np.ndarray:
    """One VEGAS grid refinement (Lepage 1978; smoothing and damping as in the vegas package)."""
    d, nb1 = edges.shape
    nb = nb1 - 1
    new = edges.copy()
    f2 = f * f
    for k in range(d):
        dd = np.bincount(bins[:, k], weights=f2, minlength=nb)
        if dd.sum() <= 0:
            continue
        sm = np.empty(nb)
        sm[0] = (7 * dd[0] + dd[1]) / 8
        sm[-1] = (dd[-2] + 7 * dd[-1]) / 8
        sm[1:-1] = (dd[:-2] + 6 * dd[1:-1] + dd[2:]) / 8
        sm /= sm.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(sm > 0, ((1 - sm) / np.log(1 / sm)) ** alpha, 0.0)
            r = np.where(sm >= 1, 1.0, r)
        if r.sum() <= 0:
            continue
        cum = np.concatenate([[0.0], np.cumsum(r)])
        targets = np.linspace(0, cum[-1], nb + 1)
        new[k] = np.interp(targets, cum, edges[k])
        new[k, 0], new[k, -1] = 0.0, 1.0
    return new


def _integration_config(options: dict | None) -> dict:
    ic = dict(config()["integration"])
    for key in ("warmup_points", "points", "iterations", "wmax_points"):
        if options and options.get(f"vegas_{key}") is not None:
            ic[key] = int(options[f"vegas_{key}"])
    # where each unweighting setting came from, for the one-line error of a bad value
    ic["source"] = {"cell_scan": "in evtgen/data/monojet.yaml", "cells_per_dim": "in evtgen/data/monojet.yaml"}
    if options and options.get("cell_scan") is not None:
        ic["cell_scan"] = str(options["cell_scan"])
        ic["source"]["cell_scan"] = "given as options['cell_scan']"
    if options and options.get("cells_per_dim") is not None:  # the same for pp2js and pp2jphiphi
        v = options["cells_per_dim"]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise PhiphiError(f"cells_per_dim {v!r} given as options['cells_per_dim'] must be an integer power of two")
        ic["cells_per_dim"] = {3: int(v), 4: int(v)}
        ic["source"]["cells_per_dim"] = "given as options['cells_per_dim']"
    if options and options.get("cell_max_safety") is not None:  # for tests of the overweight treatment
        ic["cell_max_safety"] = float(options["cell_max_safety"])
        if not ic["cell_max_safety"] > 0:
            raise PhiphiError(f"cell_max_safety {ic['cell_max_safety']:g} must be positive")
    return ic


def integrate(setup: Setup, seed: int = 12345, options: dict | None = None) -> Integration:
    """VEGAS integration of σ with the 7-point scale variation; freezes the grid and finds the
    cell maxima of the unweighting: :func:`add_unweighting` of :func:`integrate_vegas`."""
    return add_unweighting(setup, integrate_vegas(setup, seed, options), seed, options)


def integrate_vegas(setup: Setup, seed: int = 12345, options: dict | None = None) -> Integration:
    """VEGAS integration of σ with the 7-point scale variation (all a cross section needs); the
    unweighting tables are left empty (``cell_max is None``) for :func:`add_unweighting`."""
    ic = _integration_config(options)
    d = setup.ndim
    nb = int(ic["n_bins"])
    edges = np.tile(np.linspace(0.0, 1.0, nb + 1), (d, 1))
    gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 0])))
    g, par, apar = setup.pdf.arrays, setup.par, setup.apar
    for _ in range(int(ic["warmup_iterations"])):
        f, _, bins = K.vegas_iteration(gen.random((int(ic["warmup_points"]), d)), edges, par, g, apar, 1)
        edges = _refine(edges, bins, f, ic["alpha"])
    means, vars_, varis = [], [], []
    n_it = int(ic["iterations"])
    for it in range(n_it):
        n = int(ic["points"])
        f, fv, bins = K.vegas_iteration(gen.random((n, d)), edges, par, g, apar, 7)
        means.append(f.mean())
        vars_.append(max(f.var(ddof=1) / n, 1e-300))
        varis.append(fv.mean(axis=0))
        if it < n_it - 1:
            edges = _refine(edges, bins, f, ic["alpha"])
    means, vars_, varis = np.array(means), np.array(vars_), np.array(varis)
    w = 1.0 / vars_
    sigma = float((w * means).sum() / w.sum())
    err = float(1.0 / math.sqrt(w.sum()))
    chi2 = float(((means - sigma) ** 2 * w).sum() / max(n_it - 1, 1))
    # the variations share the points of the central value: same weights
    var_pb = (w[:, None] * varis).sum(axis=0) / w.sum()
    return Integration(sigma, err, var_pb, chi2, edges, float("nan"), n_it * int(ic["points"]))


def _cell_table(cmax: np.ndarray) -> np.ndarray:
    """:func:`evtgen.monojet.kernels.cell_table` of ``cmax`` in a 64-byte aligned array (each
    32-byte row within one cache line)."""
    nbytes = cmax.size * 4 * 8
    buf = np.empty(nbytes + 64, dtype=np.uint8)
    off = (-buf.ctypes.data) % 64
    table = buf[off : off + nbytes].view(np.float64).reshape(cmax.size, 4)
    K.cell_table(cmax, table)
    return table


def add_unweighting(setup: Setup, integ: Integration, seed: int = 12345, options: dict | None = None) -> Integration:
    """A copy of ``integ`` (from :func:`integrate_vegas` with the same ``seed``) with the cell
    maxima of the cell-wise unweighting, found by a scan of the frozen grid (counter RNG)."""
    ic = _integration_config(options)
    d = setup.ndim
    g, par, apar = setup.pdf.arrays, setup.par, setup.apar
    edges = integ.edges
    # cell-wise maxima for the unweighting (nc^d equal cells of the VEGAS u-space)
    key = np.random.SeedSequence([int(seed), 1]).generate_state(2, dtype=np.uint64)
    nc = int(ic["cells_per_dim"][d])
    if nc < 1 or nc & (nc - 1):
        raise PhiphiError(f"cells_per_dim {nc} {ic['source']['cells_per_dim']} must be a power of two")
    n_scan = int(ic["wmax_points"][d] if isinstance(ic["wmax_points"], dict) else ic["wmax_points"])
    scan = ic.get("cell_scan", "random")
    if scan == "stratified":  # the same number of points in every cell
        while nc > 1 and nc**d * MIN_SCAN_POINTS_PER_CELL > n_scan:  # a small scan: fewer, larger cells
            nc //= 2
        per_cell = max(n_scan // nc**d, 1)
        cmax, csum, cnt = K.scan_cells(per_cell, key[0], key[1], edges, nc.bit_length() - 1, par, g, apar)
        cmax = cmax * float(ic["cell_max_safety"])
        # trials per event = Σ_c mean_c / Σ_c max_c (equal cell volumes)
        eff = float((csum / np.maximum(cnt, 1)).sum() / cmax.sum()) if cmax.sum() > 0 else 0.0
    elif scan == "random":  # n_scan uniform points in the whole cube
        cmax, csum, cnt = K.scan_cells_random(n_scan, key[0], key[1], edges, nc, par, g, apar)
        cmax = cmax * float(ic["cell_max_safety"])
        eff = float((csum / max(cnt.sum(), 1)).sum() * len(cmax) / cmax.sum()) if cmax.sum() > 0 else 0.0
    else:
        raise PhiphiError(f"cell_scan {scan!r} {ic['source']['cell_scan']} is not one of: random, stratified")
    return replace(
        integ,
        wmax=float(cmax.max()),
        cell_max=cmax,
        n_cells_per_dim=nc,
        unweighting_efficiency=eff,
        cell_table=_cell_table(cmax),
    )


def generate(
    setup: Setup,
    integ: Integration,
    n: int,
    key: np.ndarray,
    chunk: int | None = None,
    first_trial: int = 0,
    first_copy: int = 0,
) -> tuple[dict, dict]:
    """Unweighted events (numpy columns) and generation statistics.

    Trial points are numbered 0, 1, 2, ...; trial i uses the RNG stream (key, i) and makes 0 or 1
    event (an overweight trial, w > cell maximum, makes ⌊w/max⌋ or ⌊w/max⌋ + 1 events with mean
    w/max: exact unweighting, :func:`evtgen.monojet.kernels._n_events`). The events are the first
    ``n`` of these in trial order from copy ``first_copy`` of trial ``first_trial`` on: identical
    for any ``chunk`` or thread count. ``stats['next_trial']``, ``stats['next_copy']`` say where the
    sequence continues (``last_trial``: the trial of the last event), so a run resumed there
    continues the same event sequence (:meth:`evtgen.monojet.channel._Monojet.generate_chunks`).
    """
    first_trial = int(first_trial)
    first_copy = int(first_copy)
    if first_trial < 0:
        raise PhiphiError(f"first_trial {first_trial} must not be negative")
    if first_copy < 0:
        raise PhiphiError(f"first_copy {first_copy} must not be negative")
    if integ.sigma_pb <= 0:
        raise PhiphiError("the cross section is zero for these couplings and cuts: no events to generate")
    if integ.cell_max is None:
        raise PhiphiError("this Integration has no unweighting tables: make it with integrate() or add_unweighting()")
    eff_guess = max(integ.unweighting_efficiency, 1e-4)
    # 2^18 trials a chunk: each parallel call has a fixed cost (thread start-up, ~0.1 ms, < 0.2%
    # of a chunk), and the block buffers sized for it (28 MB) are reused by every chunk instead of
    # the 2×10⁶ trials' ~220 MB touched anew at every call before (docs/performance.md, 2026-12-03)
    max_chunk = int(chunk) if chunk is not None else 1 << 18
    g, par, apar = setup.pdf.arrays, setup.par, setup.apar
    cells = (integ.edges, integ.cell_table, integ.cell_bits)
    out = np.empty((K.NCOL, n))
    ids = np.empty((3, n), dtype=np.int32)
    first, n_acc, n_over, last, last_copy, last_ncopy = first_trial, 0, 0, first_trial - 1, -1, 0
    bufs = None
    while n_acc < n:
        # trials expected to give the missing events (+3% and a floor), at most max_chunk: the
        # events do not depend on the chunking, only the number of wasted trials does
        size = int(min(max((n - n_acc + first_copy) / eff_guess * 1.03, 20000), max_chunk))
        if bufs is None:  # sized for the largest chunk, reused by all (memory touched once)
            bufs = K.block_buffers(int(1.3 * eff_guess * size / K.NBLOCK) + 256)
        index, copy, rec, over = bufs
        count, overflow = K.accept_and_build(first, size, key[0], key[1], *cells, par, g, apar, index, copy, rec, over)
        if overflow.any():  # rare: fall back to accept + rebuild for this chunk
            ncp, ovflag = K.accept_trials(first, size, key[0], key[1], *cells, par, g, apar)
            tr = np.nonzero(ncp)[0]
            per = ncp[tr]
            idx = np.repeat(tr, per) + first
            cpy = np.arange(idx.size) - np.repeat(np.cumsum(per) - per, per)
            ovs = np.repeat(np.where(ovflag[tr], per, 0), per)
            skip = int(np.count_nonzero((idx[: first_copy + 1] == first_trial) & (cpy[: first_copy + 1] < first_copy)))
            sel = slice(skip, skip + n - n_acc)
            idx, cpy, ovs = idx[sel], cpy[sel], ovs[sel]
            rec = K.build_events(idx, cpy, key[0], key[1], *cells, par, g, apar)
            count = np.array([idx.size])
            skip = 0
        else:
            sel = [slice(0, int(c)) for c in count]
            idx = np.concatenate([index[b, s] for b, s in enumerate(sel)])
            cpy = np.concatenate([copy[b, s] for b, s in enumerate(sel)])
            ovs = np.concatenate([over[b, s] for b, s in enumerate(sel)])
            # resuming inside an overweight trial: its first copies were events of the last run
            skip = int(np.count_nonzero((idx[: first_copy + 1] == first_trial) & (cpy[: first_copy + 1] < first_copy)))
            keep = slice(skip, skip + n - n_acc)
            idx, cpy, ovs = idx[keep], cpy[keep], ovs[keep]
        m = K.records_to_columns(count, rec, par, apar, out, ids, n_acc, n - n_acc, skip)
        assert m == idx.size
        if m:
            last, last_copy, last_ncopy = int(idx[-1]), int(cpy[-1]), int(ovs[-1])
        n_over += int(np.count_nonzero(ovs))
        n_acc += m
        first += size
        first_copy = 0 if first > first_trial else first_copy
    n_trials = last + 1 - first_trial
    finished = last_ncopy == 0 or last_copy + 1 >= last_ncopy  # all events of the last trial used
    stats = {
        "first_trial": first_trial,
        "last_trial": last,
        "last_copy": last_copy,
        "next_trial": last + 1 if finished else last,
        "next_copy": 0 if finished else last_copy + 1,
        "n_trials": n_trials,
        "efficiency": n / n_trials,
        "n_overweight": n_over,
        "wmax_pb": integ.wmax,
        "n_cells": int(integ.cell_max.size),
        "overweight_fraction": n_over / n,
    }
    return {"cols": out, "ids": ids}, stats


def to_awkward(setup: Setup, cols: dict) -> ak.Array:
    """Awkward record array (Momentum4D records + scalars) from the event columns (no copies:
    every field is a contiguous row of the column-major arrays)."""
    register_vector()
    out, ids = cols["cols"], cols["ids"]

    def mom(c):
        return ak.zip({"px": out[c], "py": out[c + 1], "pz": out[c + 2], "E": out[c + 3]}, with_name="Momentum4D")

    fields = {"j": mom(K.C_J)}
    if setup.mode == "phiphi":
        fields["phi1"] = mom(K.C_PHI1)
        fields["phi2"] = mom(K.C_PHI2)
        fields["m2_phiphi"] = out[K.C_Q2]
    else:
        fields["S"] = mom(K.C_S)
        fields["m2_S"] = out[K.C_Q2]
    fields.update(
        shat=out[K.C_SHAT],
        x1=out[K.C_X1],
        x2=out[K.C_X2],
        id1=ids[0],
        id2=ids[1],
        id_j=ids[2],
        scale=out[K.C_SCALE],
        alphas=out[K.C_ALPHAS],
        pt_parton=out[K.C_PT],
    )
    return ak.zip(fields, depth_limit=1)
