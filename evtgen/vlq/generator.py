"""Orchestration of the UV-model generator: subprocess groups, VEGAS adaptation, unweighting, events.

The UV point is a :class:`evtgen.models.tchannel.TChannelPoint` (three generations, complex
Yukawas, CKM for the up-type quarks); masses, mixing, couplings to the light quarks and widths of
the heavy **mass eigenstates** U (up component of Q), D1, D2 (Q_d–D mixing through y₁v, y₂v) are
the model layer's (:func:`spectrum_arrays`). Group families (each sub-group with its own grid, σ
and unweighting; events are drawn among sub-groups ∝ σ):

===========  =========================================================  ===========================
``Uphi``     q g → U φ (+ c.c.), U → q φ (q = u, c, t)                  sub-group Uphi; j φφ
``Dphi``     q g → D_a φ, D_a → q φ                                     D1phi, D2phi; j φφ
``UU``       g g, q q̄ → U Ū (QCD + t-channel φ), q_a q̄_b → U Ū (φ),     UU; jj φφ
             q q → U U (t/u-channel φ) and conjugates
``DD``       the same for D_a D̄_b (a = b: QCD + φ; a ≠ b: φ only)       D1D1, D2D2, D1D2, D2D1
``UD``       q_a q̄_b → U D̄_a, D_a Ū, q q → U D_a (φ only)               UD1, D1U, UD2, D2U
``jphiphi``  non-resonant q g → q φφ, q q̄ → g φφ through the heavy line  jphiphi; j φφ
===========  =========================================================  ===========================

The VEGAS map is the ``vegas`` package's :class:`vegas.AdaptiveMap` (trained with numpy-Generator
points, so deterministic), evaluated inside numba as piecewise-linear bins. Unweighting: hit-or-miss
against the largest weight seen during the integration × a safety factor (overweights counted);
trial ``i`` uses the counter-based stream (key, i) of :mod:`evtgen.rng`: same seed ⇒ same events.

Not included (see docs/uv_lhc.md): heavy-to-heavy decays (D2 → D1 h/Z, U ↔ D_a W; the widths are
Γ(X → q φ) only), spin correlations in the decays (isotropic X → q φ), CP-odd terms of the
antiquark-initiated 2→3 lines (they reuse the quark line's |M|²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import vegas

from evtgen.errors import PhiphiError
from evtgen.models import tchannel as T
from evtgen.pdf import PDFGrid, alphas_params, gev2_to_pb, load_pdf
from evtgen.vlq import kernels as K

GROUPS = ("Uphi", "Dphi", "UU", "DD", "UD", "jphiphi")
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
    flav: np.ndarray | None = None  # 2->3 flavour rows
    cf: np.ndarray | None = None  # 2->3 coupling factors per helicity combination
    sect: np.ndarray | None = None  # 2->3 sector of each flavour row (0 down, 1 up)
    family: str = "jphiphi"  # the group family (:data:`GROUPS`) this sub-group belongs to
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
    """A model point ready to integrate: the UV point, the PDF, the scales and the groups.

    Heavy species (mass eigenstates of :mod:`evtgen.models.tchannel`): 0 = U (up component of Q,
    mass m_Q), 1 = D1, 2 = D2 (the lighter and heavier down-type states of the Q–D mixing).
    ``YL``/``YR`` [X, pid]: |a|², |b|² of q̄ (a P_R + b P_L) X φ (``couplings_to_light``, CKM in the
    up sector); ``DW`` [X, pid]: partial widths Γ(X → q φ) (pid 1..6, with m_t); ``qmass``: quark
    masses in the decay kinematics (the top's only; light quarks massless at the LHC).
    2→3: ``UL``, ``UR`` (sector, 2, 2), ``hm``, ``hw`` (sector, 2) the mixing, masses and widths
    of the down (Q_d, D) and up (U_Q) sectors."""

    uv: T.TChannelPoint
    pdf: PDFGrid
    apar: np.ndarray
    YL: np.ndarray
    YR: np.ndarray
    DW: np.ndarray
    qmass: np.ndarray
    mass: np.ndarray
    widths: np.ndarray
    UL: np.ndarray
    UR: np.ndarray
    hm: np.ndarray
    hw: np.ndarray
    window: np.ndarray
    options: dict
    groups: list


def _base_par(uv: T.TChannelPoint, opts: dict) -> np.ndarray:
    par = np.zeros(K.NPAR)
    par[K.P_SQRTS] = float(opts["sqrt_s"])
    par[K.P_MPHI] = uv.m_phi
    par[K.P_SCALE] = 1.0 if opts["scale"] == "pythia" else 0.0
    par[K.P_CONV] = gev2_to_pb()
    par[K.P_PTMIN] = float(opts["ptj_min"])
    par[K.P_WINDOW] = float(opts["window"])
    par[K.P_VEV] = T.vev()
    return par


_PID = {"d": 1, "u": 2, "s": 3, "c": 4, "b": 5, "t": 6}
_STATES = ("U", "D1", "D2")


def spectrum_arrays(uv: T.TChannelPoint) -> dict:
    """The generator's tables of the UV point (see :class:`Setup`), from :mod:`evtgen.models.tchannel`."""
    cpl = T.couplings_to_light(uv)
    wid = T.widths(uv)
    YL = np.zeros((3, 6))
    YR = np.zeros((3, 6))
    DW = np.zeros((3, 7))
    for x, st in enumerate(_STATES):
        for q, (a, b) in cpl[st].items():
            DW[x, _PID[q]] = wid[st][q]
            if q != "t":
                YL[x, _PID[q]] = abs(a) ** 2
                YR[x, _PID[q]] = abs(b) ** 2
    mass = np.array([wid[st]["mass"] for st in _STATES])
    widths = np.array([wid[st]["total_q_phi"] for st in _STATES])
    qmass = np.zeros(7)
    qmass[6] = T.quark_masses()["t"]
    md, ul, ur = T.heavy_down_states(uv)
    UL = np.zeros((2, 2, 2), dtype=np.complex128)
    UR = np.zeros((2, 2, 2), dtype=np.complex128)
    UL[0], UR[0] = ul, ur
    UL[1] = UR[1] = np.eye(2)
    hm = np.array([[md[0], md[1]], [uv.m_Q, uv.m_Q]])
    hw = np.array([[widths[1], widths[2]], [widths[0], 0.0]])
    return dict(YL=YL, YR=YR, DW=DW, qmass=qmass, mass=mass, widths=widths, UL=UL, UR=UR, hm=hm, hw=hw)


def _pair_rows(Y2: np.ndarray, x: int, y: int, with_qq: bool = True) -> np.ndarray:
    """Rows of heavy-pair production with particle 3 = X (x) and 4 = Ȳ (y); q q → X Y (and q̄ q̄)
    too when ``with_qq`` (one ordered (x, y) per unordered pair carries them)."""
    rows = []
    if x == y:
        rows.append((21, 21, K.T_GG, x, x))
        for q in range(1, 6):
            rows += [(q, -q, K.T_QQB, x, x), (-q, q, K.T_QBQ, x, x)]
    for a in range(1, 6):
        for b in range(1, 6):
            if (a != b or x != y) and Y2[x, a] != 0 and Y2[y, b] != 0:
                rows += [(a, -b, K.T_TQQB, x, y), (-b, a, K.T_TQBQ, x, y)]
    if with_qq:
        for a in range(1, 6):
            for b in range(1, 6):
                if (Y2[x, a] != 0 and Y2[y, b] != 0) or (Y2[x, b] != 0 and Y2[y, a] != 0):
                    rows += [(a, b, K.T_QQ, x, y), (-a, -b, K.T_QQ, x, y)]
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def _xphi_rows(Y2: np.ndarray, x: int) -> np.ndarray:
    rows = []
    for q in range(1, 6):
        if Y2[x, q] != 0:
            for sg in (1, -1):
                rows += [(sg * q, 21, K.T_QG, x, -1), (21, sg * q, K.T_GQ, x, -1)]
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def flavour_rows_23(uv: T.TChannelPoint) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flav (r, 2) incoming/outgoing quark pid, cf (r, 4) |y_in|²|y_out|² per helicity combination
    of :func:`evtgen.vlq.kernels.hel_amps_23`, sector (r,): 0 down, 1 up) of the 2→3 group."""
    yq = np.abs(np.array(uv.y_q)) ** 2
    yd = np.abs(np.array(uv.y_d)) ** 2
    yu = np.abs(T.up_yukawas(uv)) ** 2
    chir = {1: (yq[0], yd[0]), 3: (yq[1], yd[1]), 5: (yq[2], yd[2]), 2: (yu[0], 0.0), 4: (yu[1], 0.0)}
    flav, cf, sect = [], [], []
    for a in range(1, 6):
        for b in range(1, 6):
            if a % 2 != b % 2:
                continue
            la, ra = chir[a]
            lb, rb = chir[b]
            c = (la * lb, la * rb, ra * rb, ra * lb)
            if any(v > 0 for v in c):
                flav.append((a, b))
                cf.append(c)
                sect.append(1 if a % 2 == 0 else 0)
    return (
        np.array(flav, dtype=np.int64).reshape(-1, 2),
        np.array(cf, dtype=np.float64).reshape(-1, 4),
        np.array(sect, dtype=np.int64),
    )


#: group family -> its sub-groups (heavy species of particles 3, 4; -1 = φ)
FAMILIES = {
    "Uphi": (("Uphi", 0, -1),),
    "Dphi": (("D1phi", 1, -1), ("D2phi", 2, -1)),
    "UU": (("UU", 0, 0),),
    "DD": (("D1D1", 1, 1), ("D2D2", 2, 2), ("D1D2", 1, 2), ("D2D1", 2, 1)),
    "UD": (("UD1", 0, 1), ("D1U", 1, 0), ("UD2", 0, 2), ("D2U", 2, 0)),
}


def make_setup(uv: T.TChannelPoint, options: dict | None = None, groups=GROUPS) -> Setup:
    """Validated set-up of the requested ``groups`` (families of :data:`GROUPS`) for UV point ``uv``."""
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
    sp = spectrum_arrays(uv)
    if (options or {}).get("widths_in_propagators") is False:
        sp["hw"] = np.zeros_like(sp["hw"])
    Y2 = sp["YL"] + sp["YR"]
    mass, wid = sp["mass"], sp["widths"]
    window = np.array([[mass[k], wid[k]] for k in range(3)])
    base = _base_par(uv, opts)
    sqrt_s = base[K.P_SQRTS]
    out = []
    for fam in groups:
        if fam == "jphiphi":
            flav, cf, sect = flavour_rows_23(uv)
            if flav.size:
                out.append(Group("jphiphi", "23", base.copy(), flav=flav, cf=cf, sect=sect))
            continue
        for name, x, y in FAMILIES[fam]:
            par = base.copy()
            if y < 0:
                rows = _xphi_rows(Y2, x)
                par[K.P_M3], par[K.P_M4] = mass[x], uv.m_phi
                g = Group(name, "22", par, rows=rows, decay3=True, decay4=False, family=fam)
            else:
                # q q -> X Y once per unordered pair: on the sub-group with x <= y
                rows = _pair_rows(Y2, x, y, with_qq=x <= y)
                par[K.P_M3], par[K.P_M4] = mass[x], mass[y]
                g = Group(name, "22", par, rows=rows, decay3=True, decay4=True, family=fam)
            if g.rows.size == 0 or par[K.P_M3] + par[K.P_M4] >= sqrt_s:
                continue
            out.append(g)
    return Setup(uv, pdf, alphas_params(pdf.alphas_mz), window=window, options=opts, groups=out, **sp)


def _weights(setup: Setup, g: Group, x: np.ndarray, nvar: int):
    arr = setup.pdf.arrays
    if g.kind == "22":
        return K.weights_22(x, g.par, setup.YL, setup.YR, g.rows, arr, setup.apar, nvar)
    w = K.weights_23(x, *_args_23(setup, g)[1:])
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
            setup.YL,
            setup.YR,
            g.rows,
            setup.pdf.arrays,
            setup.apar,
            g.wmax,
        )
    return K.accept_23(first, size, key[0], key[1], *_args_23(setup, g), g.wmax)


def _args_23(setup: Setup, g: Group) -> tuple:
    """The arguments the 2 -> 3 kernels share (grid, masses, widths, couplings, PDF, window)."""
    return (
        g.edges, g.par, setup.UL, setup.UR, setup.hm, setup.hw, g.flav, g.cf, g.sect, setup.pdf.arrays,
        setup.apar, setup.window,
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
            setup.YL,
            setup.YR,
            setup.DW,
            setup.qmass,
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
    if g.family in ("Uphi", "Dphi"):
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
