"""Orchestration of the UV-model generator: subprocess groups, VEGAS adaptation, unweighting, events.

Groups (each with its own grid, σ and unweighting; events are drawn among groups ∝ σ):

==========  ==========================================================  =====================
``Qphi``    q g → Q φ (Q_u, Q_d and conjugates), Q → q φ                final state j φφ
``Dphi``    q g → D φ, D → q φ                                          j φφ
``QQ``      g g, q q̄ → Q Q̄ (QCD + t-channel φ), q_a q̄_b → Q Q̄' (φ),    jj φφ
            q q → Q Q (t/u-channel φ) and conjugates
``DD``      the same for D D̄                                            jj φφ
``QD``      q_a q̄_b → Q D̄ and D Q̄ (t-channel φ only)                   jj φφ
``jphiphi`` non-resonant q g → q φφ, q q̄ → g φφ through the heavy line  j φφ
==========  ==========================================================  =====================

The VEGAS map is the ``vegas`` package's :class:`vegas.AdaptiveMap` (trained with numpy-Generator
points, so deterministic), evaluated inside numba as piecewise-linear bins. Unweighting: hit-or-miss
against the largest weight seen during the integration × a safety factor (overweights counted);
trial ``i`` uses the counter-based stream (key, i) of :mod:`evtgen.rng`: same seed ⇒ same events.

Not included (see docs/uv_lhc.md): Q → D h/Z/W decays, EW
Q–D mixing in production and decay, spin correlations in the decays (isotropic X → q φ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import vegas

from evtgen.errors import PhiphiError
from evtgen.pdf import PDFGrid, alphas_params, gev2_to_pb, load_pdf
from evtgen.vlq import kernels as K
from evtgen.vlq.uv import UVPoint, vev, widths

GROUPS = ("Qphi", "Dphi", "QQ", "DD", "QD", "jphiphi")
DEFAULTS = {
    "sqrt_s": 13000.0,
    "ptj_min": 150.0,  # parton p_T cut of the 2->3 (the 2->2 groups have no cut)
    "scale": "default",
    "window": 10.0,  # |m(j phi) - M| < window * Gamma is the resonant region (removed from jphiphi)
    "vegas_points": 20000,
    "vegas_iterations": 5,
    "vegas_warmup": 5,
    "safety": 1.3,
}


@dataclass
class Group:
    """One process group (Qphi, QQ, jphiphi, ...) of the generator with its integration state."""

    name: str
    kind: str  # "22" or "23"
    par: np.ndarray
    rows: np.ndarray | None = None  # 2->2 rows (id1, id2, type, X, Y)
    decay3: bool = False
    decay4: bool = False
    species: tuple = ()  # (X of particle 3 or None, Y of particle 4 or None) for bookkeeping
    flav: np.ndarray | None = None  # 2->3 flavour rows
    ceft: np.ndarray | None = None
    sigma_pb: float = 0.0
    sigma_err_pb: float = 0.0
    variations_pb: np.ndarray = field(default_factory=lambda: np.zeros(7))
    edges: np.ndarray | None = None
    wmax: float = 0.0
    chi2_dof: float = 0.0

    @property
    def ndim(self) -> int:
        return 3 if self.kind == "22" else K.NDIM3


@dataclass
class Setup:
    """A model point ready to integrate: the UV point, the PDF, the scales and the groups."""

    uv: UVPoint
    pdf: PDFGrid
    apar: np.ndarray
    Y: np.ndarray
    mass: np.ndarray
    widths: np.ndarray
    mm_d: np.ndarray
    mm_u: np.ndarray
    width2_d: np.ndarray
    width2_u: np.ndarray
    window: np.ndarray
    options: dict
    groups: list


def _base_par(uv: UVPoint, opts: dict) -> np.ndarray:
    par = np.zeros(K.NPAR)
    par[K.P_SQRTS] = float(opts["sqrt_s"])
    par[K.P_MPHI] = uv.mphi
    par[K.P_SCALE] = 1.0 if opts["scale"] == "pythia" else 0.0
    par[K.P_CONV] = gev2_to_pb()
    par[K.P_PTMIN] = float(opts["ptj_min"])
    par[K.P_WINDOW] = float(opts["window"])
    par[K.P_VEV] = vev()
    par[K.P_Y1] = uv.y1
    par[K.P_Y2] = uv.y2
    return par


def _pair_rows(Y: np.ndarray, xs, ys, with_qq: bool = True) -> np.ndarray:
    rows = []
    for x in xs:
        for y in ys:
            if x == y:
                rows.append((21, 21, K.T_GG, x, x))
                for q in range(1, 6):
                    rows += [(q, -q, K.T_QQB, x, x), (-q, q, K.T_QBQ, x, x)]
            for a in range(1, 6):
                for b in range(1, 6):
                    if (a != b or x != y) and Y[x, a] != 0 and Y[y, b] != 0:
                        rows += [(a, -b, K.T_TQQB, x, y), (-b, a, K.T_TQBQ, x, y)]
    # q_a q_b -> X Y (t and u channel; one row per unordered {X, Y} and ordered beams a, b)
    done = set()
    for x in xs if with_qq else ():
        for y in ys:
            key = (min(x, y), max(x, y)) if set(xs) == set(ys) else (x, y)
            if key in done:
                continue
            done.add(key)
            for a in range(1, 6):
                for b in range(1, 6):
                    if (Y[x, a] != 0 and Y[y, b] != 0) or (Y[x, b] != 0 and Y[y, a] != 0):
                        rows += [(a, b, K.T_QQ, x, y), (-a, -b, K.T_QQ, x, y)]
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def _xphi_rows(Y: np.ndarray, xs) -> np.ndarray:
    rows = []
    for x in xs:
        for q in range(1, 6):
            if Y[x, q] != 0:
                for sg in (1, -1):
                    rows += [(sg * q, 21, K.T_QG, x, -1), (21, sg * q, K.T_GQ, x, -1)]
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def make_setup(uv: UVPoint, options: dict | None = None, groups=GROUPS) -> Setup:
    """Validated set-up of the requested ``groups`` for UV point ``uv``."""
    opts = dict(DEFAULTS)
    for k, v in (options or {}).items():
        if v is not None and k in DEFAULTS:
            opts[k] = v
    if opts["scale"] not in ("default", "pythia"):
        raise PhiphiError(f"scale {opts['scale']!r} is not one of: default, pythia")
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise PhiphiError(f"unknown process group {bad[0]!r}; known: {', '.join(GROUPS)}")
    pdf = load_pdf((options or {}).get("pdf"), (options or {}).get("alphas_mz"))
    Y = np.array(uv.yukawa_table(), dtype=np.float64)
    mass = np.array(uv.masses())
    wid = np.array(widths(uv))
    if (options or {}).get("widths_in_propagators") is False:
        w2d = np.zeros(2)
        w2u = np.zeros(2)
    else:
        w2d = np.array([wid[1], wid[2]]) / 2
        w2u = np.array([wid[0], 0.0]) / 2
    v = vev()
    mm_d = np.array([[uv.mQ, uv.y1 * v / math.sqrt(2)], [uv.y2 * v / math.sqrt(2), uv.mD]])
    mm_u = np.array([[uv.mQ, 0.0], [0.0, uv.mD]])
    window = np.array([[uv.mQ, wid[0]], [uv.mQ, wid[1]], [uv.mD, wid[2]]])
    base = _base_par(uv, opts)
    sqrt_s = base[K.P_SQRTS]
    out = []
    for name in groups:
        par = base.copy()
        if name in ("Qphi", "Dphi"):
            xs = (0, 1) if name == "Qphi" else (2,)
            rows = _xphi_rows(Y, xs)
            par[K.P_M3], par[K.P_M4] = mass[xs[0]], uv.mphi
            g = Group(name, "22", par, rows=rows, decay3=True, decay4=False)
        elif name in ("QQ", "DD", "QD"):
            xs, ys = {"QQ": ((0, 1), (0, 1)), "DD": ((2,), (2,)), "QD": ((0, 1), (2,))}[name]
            rows = _pair_rows(Y, xs, ys)
            if name == "QD":  # also D Qbar (particle 3 = D)
                rows2 = _pair_rows(Y, (2,), (0, 1), with_qq=False)  # q q -> Q D is in rows already
                if uv.mQ != uv.mD and rows2.size:
                    out.append(
                        Group("DQ", "22", _with_masses(par, mass[2], mass[0]), rows=rows2, decay3=True, decay4=True)
                    )
                    rows2 = np.zeros((0, 5), dtype=np.int64)
                rows = np.concatenate([rows, rows2]) if rows2.size else rows
            par[K.P_M3], par[K.P_M4] = mass[xs[0]], mass[ys[0]]
            g = Group(name, "22", par, rows=rows, decay3=True, decay4=True)
        else:
            flav = []
            for a in range(1, 6):
                for b in range(1, 6):
                    if a % 2 != b % 2:
                        continue
                    up = a % 2 == 0
                    ya = (Y[0, a],) if up else (Y[1, a], Y[2, a])
                    yb = (Y[0, b],) if up else (Y[1, b], Y[2, b])
                    if any(ya) and any(yb):
                        flav.append((a, b))
            g = Group(
                name,
                "23",
                par,
                flav=np.array(flav, dtype=np.int64).reshape(-1, 2),
                ceft=np.zeros(len(flav)),
            )
        if g.kind == "22" and (g.rows is None or g.rows.size == 0):
            continue
        if g.kind == "23" and g.flav.size == 0:
            continue
        if g.kind == "22" and par[K.P_M3] + par[K.P_M4] >= sqrt_s:
            continue
        out.append(g)
    return Setup(uv, pdf, alphas_params(pdf.alphas_mz), Y, mass, wid, mm_d, mm_u, w2d, w2u, window, opts, out)


def _with_masses(par, m3, m4):
    p = par.copy()
    p[K.P_M3], p[K.P_M4] = m3, m4
    return p


def _weights(setup: Setup, g: Group, x: np.ndarray, nvar: int):
    arr = setup.pdf.arrays
    if g.kind == "22":
        return K.weights_22(x, g.par, setup.mass, setup.Y, g.rows, arr, setup.apar, nvar)
    w = K.weights_23(
        x,
        g.par,
        setup.mm_d,
        setup.mm_u,
        setup.width2_d,
        setup.width2_u,
        setup.Y,
        g.flav,
        g.ceft,
        arr,
        setup.apar,
        setup.window,
    )
    return w, w[:, None] * np.ones((1, nvar))


def integrate(setup: Setup, seed: int = 20210210) -> Setup:
    """VEGAS adaptation and integration of every group (in place; returns ``setup``)."""
    o = setup.options
    n = int(o["vegas_points"])
    for ig, g in enumerate(setup.groups):
        d = g.ndim
        gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 7, ig])))
        amap = vegas.AdaptiveMap([[0.0, 1.0]] * d, ninc=100)
        x = np.empty((n, d))
        jac = np.empty(n)
        for _ in range(int(o["vegas_warmup"])):
            y = gen.random((n, d))
            amap.map(y, x, jac)
            w, _ = _weights(setup, g, x, 1)
            f = w * jac
            amap.add_training_data(y, f * f)
            amap.adapt(alpha=1.5)
        means, var, varis, fmax = [], [], [], 0.0
        nvar = 7 if g.kind == "22" else 1
        for _ in range(int(o["vegas_iterations"])):
            y = gen.random((n, d))
            amap.map(y, x, jac)
            w, wv = _weights(setup, g, x, nvar)
            f = w * jac
            means.append(f.mean())
            var.append(max(f.var(ddof=1) / n, 1e-300))
            varis.append((wv * jac[:, None]).mean(axis=0))
            fmax = max(fmax, float(f.max()))
        means, var = np.array(means), np.array(var)
        wt = 1 / var
        g.sigma_pb = float((wt * means).sum() / wt.sum())
        g.sigma_err_pb = float(1 / math.sqrt(wt.sum()))
        g.chi2_dof = float(((means - g.sigma_pb) ** 2 * wt).sum() / max(len(means) - 1, 1))
        vv = (wt[:, None] * np.array(varis)).sum(axis=0) / wt.sum()
        g.variations_pb = np.resize(vv, 7) if nvar == 7 else np.full(7, g.sigma_pb)
        g.edges = np.ascontiguousarray(np.array(amap.grid, dtype=np.float64))
        g.wmax = fmax * float(o["safety"])
    return setup


def _accept(setup: Setup, g: Group, first: int, size: int, key) -> tuple[np.ndarray, np.ndarray]:
    if g.kind == "22":
        return K.accept_22(
            first,
            size,
            key[0],
            key[1],
            g.edges,
            g.par,
            setup.mass,
            setup.Y,
            g.rows,
            setup.pdf.arrays,
            setup.apar,
            g.wmax,
        )
    return K.accept_23(first, size, key[0], key[1], *_args_23(setup, g), g.wmax)


def _args_23(setup: Setup, g: Group) -> tuple:
    """The arguments the 2 -> 3 kernels share (grid, masses, widths, couplings, PDF, window)."""
    return (
        g.edges, g.par, setup.mm_d, setup.mm_u, setup.width2_d, setup.width2_u, setup.Y, g.flav, g.ceft,
        setup.pdf.arrays, setup.apar, setup.window,
    )  # fmt: skip


def generate_group(setup: Setup, g: Group, n: int, key: np.ndarray) -> tuple[dict, dict]:
    """``n`` unweighted events of group ``g`` (event record dict of numpy arrays) and statistics."""
    idx_all, n_over, first = [], 0, 0
    have = 0
    eff = 0.05
    while have < n:
        size = int(min(max((n - have) / eff * 1.2, 20000), 4_000_000))
        acc, over = _accept(setup, g, first, size, key)
        idx = np.nonzero(acc)[0]
        eff = max(idx.size / size, 1e-4)
        idx = idx[: n - have]
        n_over += int(over[idx].sum())
        idx_all.append(idx + first)
        have += idx.size
        first += size
    idx = np.concatenate(idx_all)
    n_trials = int(idx[-1]) + 1
    if g.kind == "22":
        cols, ids = K.build_22(
            idx,
            key[0],
            key[1],
            g.edges,
            g.par,
            setup.mass,
            setup.Y,
            g.rows,
            setup.pdf.arrays,
            setup.apar,
            g.decay3,
            g.decay4,
        )
        rec = _record_22(setup, g, cols, ids)
    else:
        cols, ids = K.build_23(idx, key[0], key[1], *_args_23(setup, g), K.channel_ids_23(g.flav))
        rec = _record_23(setup, g, cols, ids)
    stats = {"n_trials": n_trials, "efficiency": n / n_trials, "n_overweight": n_over, "wmax_pb": g.wmax}
    return rec, stats


def _zeros(n):
    return np.zeros((4, n))


def _record_22(setup: Setup, g: Group, cols: np.ndarray, ids: np.ndarray) -> dict:
    """Common event record: up to 2 final partons (q from each decay), φ1, φ2, heavy h1, h2."""
    from evtgen.vlq.uv import HEAVY

    n = cols.shape[1]
    rows = g.rows[ids[K.I_ROW]]
    codes = np.array([h[1] for h in HEAVY])
    # particle 3 is X (or Xbar for antiquark-initiated X phi); particle 4 is Ybar or phi
    if g.name in ("Qphi", "Dphi"):
        anti = (rows[:, 0] < 0) | (rows[:, 1] < 0)
        sgn = np.where(anti, -1, 1)
        h1 = sgn * codes[rows[:, 3]]
        q1 = sgn * ids[K.I_Q3]
        partons = [(cols[K.C_Q3 : K.C_Q3 + 4], q1)]
        phi1 = cols[K.C_F3 : K.C_F3 + 4]
        phi2 = cols[K.C_K4 : K.C_K4 + 4]
        heavy = [(cols[K.C_K3 : K.C_K3 + 4], h1), (_zeros(n), np.zeros(n, dtype=np.int64))]
    else:
        # X Ybar, except q q -> X Y (both particles) and qbar qbar -> Xbar Ybar
        qq = rows[:, 2] == K.T_QQ
        s3 = np.where(qq & (rows[:, 0] < 0), -1, 1)
        s4 = np.where(qq, s3, -1)
        h1 = s3 * codes[rows[:, 3]]
        h2 = s4 * codes[rows[:, 4]]
        partons = [(cols[K.C_Q3 : K.C_Q3 + 4], s3 * ids[K.I_Q3]), (cols[K.C_Q4 : K.C_Q4 + 4], s4 * ids[K.I_Q4])]
        phi1 = cols[K.C_F3 : K.C_F3 + 4]
        phi2 = cols[K.C_F4 : K.C_F4 + 4]
        heavy = [(cols[K.C_K3 : K.C_K3 + 4], h1), (cols[K.C_K4 : K.C_K4 + 4], h2)]
    return {
        "partons": partons,
        "phi1": phi1,
        "phi2": phi2,
        "heavy": heavy,
        "id1": ids[K.I_ID1],
        "id2": ids[K.I_ID2],
        "shat": cols[K.C_SHAT],
        "x1": cols[K.C_X1],
        "x2": cols[K.C_X2],
        "scale": cols[K.C_SCALE],
        "alphas": cols[K.C_ALPHAS],
    }


def _record_23(setup: Setup, g: Group, cols: np.ndarray, ids: np.ndarray) -> dict:
    n = cols.shape[1]
    return {
        "partons": [(cols[K.C23_J : K.C23_J + 4], ids[2])],
        "phi1": cols[K.C23_F1 : K.C23_F1 + 4],
        "phi2": cols[K.C23_F2 : K.C23_F2 + 4],
        "heavy": [(_zeros(n), np.zeros(n, dtype=np.int64)), (_zeros(n), np.zeros(n, dtype=np.int64))],
        "id1": ids[0],
        "id2": ids[1],
        "shat": cols[K.C23_SHAT],
        "x1": cols[K.C23_X1],
        "x2": cols[K.C23_X2],
        "scale": cols[K.C23_SCALE],
        "alphas": cols[K.C23_ALPHAS],
    }
