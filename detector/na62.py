"""NA62 emulation: GTK kaon and STRAW pion smearing, vertex, m2_miss and signal regions.

For each K+ decay (events from ``evtgen.generate(..., frame="lab")`` with fields ``K``,
``pi`` and ``vtx_x/y/z``) the kernel

* smears the beam kaon (GTK): relative momentum sigma and the two slopes dx/dz, dy/dz;
* smears the pi+ (STRAW): sigma_p/p = a (+) b p and slopes with sigma_theta = c p_ref / p;
* reconstructs the decay vertex as the closest approach of the two measured tracks (each
  anchored at its measured position at GTK3 / STRAW chamber 1; the two position errors enter
  the closest approach only as their difference, drawn as one normal per axis);
* checks the pi+ crosses the four STRAW chambers inside the annulus around the beam
  trajectory (MNP33 kick included);
* recomputes m2_miss = (P_K - P_pi)^2 with the pi+ mass hypothesis and classifies it.

All numbers come from ``data/na62_card.yaml`` (with sources). Output fields added:
``p_K_rec``, ``p_pi_rec``, ``theta_kpi_rec`` (rad), ``vtx_z_rec`` (m), ``m2_miss`` (GeV^2),
``in_straw`` (bool), ``selected`` (bool: momentum window, vertex, STRAW acceptance),
``m2_band`` (int8, see :data:`BANDS`) and ``region`` (int8: 0 none/masked/rejected,
1 Region 1, 2 Region 2).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import awkward as ak
import numba as nb
import numpy as np
import yaml

from detector import fastrandom, numpy_field
from evtgen import constants as C
from evtgen import jit_notice, rng
from evtgen.errors import PhiphiError

jit_notice.announce(__file__, "the NA62 emulation")

#: name of the card file in ``detector/data``
CARD_FILE = "na62_card.yaml"
#: detector tag mixed into the seed so the smearing streams differ from the generator's
_DETECTOR_TAG = 0x4E413632  # "NA62"

#: m2_band codes (``region`` keeps only SR1 = 1 and SR2 = 2 of selected events)
BANDS = {
    "below_sr1": -1,
    "none": 0,
    "sr1": 1,
    "sr2": 2,
    "control1": 3,
    "kpi2_masked": 4,
    "control2": 5,
    "k3pi_masked": 6,
}
REGION_NONE, REGION_SR1, REGION_SR2 = 0, 1, 2

# indices of the kernel parameter vector
(
    _MK,
    _MPI,
    _GTK_Z,
    _GTK_SP,
    _GTK_ST,
    _GTK_SX,
    _S_A,
    _S_B,
    _S_TH,
    _S_SX,
    _S_RIN,
    _S_ROUT,
    _MAG_Z,
    _MAG_KICK,
    _BEAM_P,
    _BEAM_SLOPE,
    _PMIN,
    _PMAX,
    _ZMIN,
    _ZMAX,
    _SR1_LO,
    _SR1_HI,
    _CR1_HI,
    _K2_HI,
    _CR2_HI,
    _SR2_LO,
    _SR2_HI,
    _VTX_SX,
    _NPAR,
) = range(29)


@functools.cache
def _card_cached() -> dict[str, Any]:
    with (resources.files("detector") / "data" / CARD_FILE).open("r") as fh:
        return yaml.safe_load(fh)


def load_card() -> dict[str, Any]:
    """The NA62 card (a fresh copy: callers may modify it)."""
    import copy

    return copy.deepcopy(_card_cached())


def _v(card: dict, block: str, key: str):
    return card[block][key]["value"]


#: one-line provenance of the card, written into output file metadata
CARD_SOURCE: str = f"detector/data/{CARD_FILE}: " + " ".join(str(_card_cached()["source"]).split())


def selection_window(card: dict | None = None) -> tuple[float, float]:
    """The pi+ momentum window (GeV) of the card."""
    card = card or _card_cached()
    return float(_v(card, "selection", "p_pi_min")), float(_v(card, "selection", "p_pi_max"))


def parameters(
    card: dict | None = None, *, p_pi_window: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(kernel parameter vector, STRAW chamber z) from a card (optionally another pi+ window)."""
    card = card or _card_cached()
    beams = C.load_yaml("beams.yaml")["na62"]
    straw_z = np.asarray(_v(card, "straw", "chamber_z"), dtype=np.float64)
    pmin, pmax = selection_window(card) if p_pi_window is None else p_pi_window
    if not (np.isfinite(pmin) and np.isfinite(pmax) and 0.0 <= pmin < pmax):
        raise PhiphiError(f"pi+ momentum window {p_pi_window!r} is not an interval 0 <= min < max (GeV)")
    r = card["regions"]
    par = np.empty(_NPAR)
    par[_MK], par[_MPI] = C.mass("K+"), C.mass("pi+")
    par[_GTK_Z] = _v(card, "gtk", "z")
    par[_GTK_SP] = _v(card, "gtk", "momentum_rel_sigma")
    par[_GTK_ST] = _v(card, "gtk", "angle_sigma")
    par[_GTK_SX] = _v(card, "gtk", "position_sigma")
    par[_S_A] = _v(card, "straw", "momentum_rel_const")
    par[_S_B] = _v(card, "straw", "momentum_rel_slope")
    par[_S_TH] = _v(card, "straw", "angle_sigma_ref") * _v(card, "straw", "angle_ref_momentum")
    par[_S_SX] = _v(card, "straw", "position_sigma")
    par[_S_RIN] = _v(card, "straw", "inner_radius")
    par[_S_ROUT] = _v(card, "straw", "outer_radius")
    par[_MAG_Z] = _v(card, "straw", "magnet_z")
    par[_MAG_KICK] = _v(card, "straw", "magnet_pt_kick")
    par[_BEAM_P] = float(beams["kaon_momentum"])
    par[_BEAM_SLOPE] = float(beams["beam_slope_x"])
    par[_PMIN], par[_PMAX] = pmin, pmax
    par[_ZMIN], par[_ZMAX] = _v(card, "selection", "vtx_z_min"), _v(card, "selection", "vtx_z_max")
    par[_SR1_LO], par[_SR1_HI] = r["sr1"]["value"]
    par[_CR1_HI] = r["control1"]["value"][1]
    par[_K2_HI] = r["kpi2_masked"]["value"][1]
    par[_CR2_HI] = r["control2"]["value"][1]
    par[_SR2_LO], par[_SR2_HI] = r["sr2"]["value"]
    # the GTK3 and STRAW1 position errors enter the vertex only as their difference: one normal
    # of sigma sqrt(sigma_GTK^2 + sigma_STRAW^2) per axis (the same distribution exactly)
    par[_VTX_SX] = np.hypot(par[_GTK_SX], par[_S_SX])
    if not (par[_SR1_LO] < par[_SR1_HI] <= par[_CR1_HI] <= par[_K2_HI] <= par[_CR2_HI] <= par[_SR2_LO] < par[_SR2_HI]):
        raise PhiphiError("the m2_miss regions of the NA62 card are not ordered")
    return par, straw_z


def detector_key(seed: int) -> np.ndarray:
    """Run key of the smearing streams: ``seed`` mixed with the NA62 detector tag."""
    return np.random.SeedSequence([rng.resolve_seed(seed), _DETECTOR_TAG]).generate_state(2, dtype=np.uint64)


@nb.njit(cache=True, inline="always")
def m2_band(m2, par):
    """m2_miss band code (see :data:`BANDS`)."""
    if m2 <= par[_SR1_LO]:
        return -1
    if m2 <= par[_SR1_HI]:
        return 1
    if m2 <= par[_CR1_HI]:
        return 3
    if m2 <= par[_K2_HI]:
        return 4
    if m2 <= par[_CR2_HI]:
        return 5
    if m2 <= par[_SR2_LO]:
        return 0
    if m2 <= par[_SR2_HI]:
        return 2
    return 6


# fdlibm's e_acos.c (Sun Microsystems 1993): acos(x) = pi/2 - asin(x) with the rational minimax
# R(z) = p(z)/q(z) of (asin(t) - t) / t^3 in z = t^2 on |t| <= 0.5
_PIO2_HI, _PIO2_LO, _PI = 1.57079632679489655800e00, 6.12323399573676603587e-17, 3.14159265358979311600e00
_PS0, _PS1, _PS2 = 1.66666666666666657415e-01, -3.25565818622400915405e-01, 2.01212532134862925881e-01
_PS3, _PS4, _PS5 = -4.00555345006794114027e-02, 7.91534994289814532176e-04, 3.47933107596021167570e-05
_QS1, _QS2 = -2.40339491173441421878e00, 2.02094576023350569471e00
_QS3, _QS4 = -6.88283971605453293030e-01, 7.70381505559019352791e-02
_SPLIT = 134217729.0  # 2^27 + 1 (Veltkamp split: the high half of s squares exactly)


@nb.njit(cache=True, inline="always")
def acos(x):
    """arccos(x) for x in [-1, 1] within 1 ulp (fdlibm's algorithm, branch-free so that loops
    over it vectorise: numba's ``np.arccos`` calls the C library's scalar acos, not
    vectorisable without Intel SVML); NaN outside [-1, 1].

    |x| < 0.5: pi/2 - (x + x z R(z)), z = x^2; x >= 0.5: 2 (s + s z R(z)), z = (1 - x) / 2,
    s = sqrt(z) split as df + c with df^2 exact; x <= -0.5: pi - 2 (s + s z R(z))."""
    ax = abs(x)
    small = ax < 0.5
    z = x * x if small else (1.0 - ax) * 0.5
    p = z * (_PS0 + z * (_PS1 + z * (_PS2 + z * (_PS3 + z * (_PS4 + z * _PS5)))))
    q = 1.0 + z * (_QS1 + z * (_QS2 + z * (_QS3 + z * _QS4)))
    r = p / q
    s = np.sqrt(z)
    t = s * _SPLIT
    df = t - (t - s)
    c = (z - df * df) / (s + df) if s > 0.0 else 0.0
    near_one = 2.0 * (df + (r * s + c))
    near_minus_one = _PI - 2.0 * (s + (r * s - _PIO2_LO))
    middle = _PIO2_HI - (x - (_PIO2_LO - x * r))
    return middle if small else (near_one if x > 0.0 else near_minus_one)


@nb.njit(cache=True, inline="always")
def _track(p, tx, ty, m):
    """(px, py, pz, E) of a track with momentum p and slopes tx = px/pz, ty = py/pz."""
    pz = p / np.sqrt(1.0 + tx * tx + ty * ty)
    return tx * pz, ty * pz, pz, np.sqrt(p * p + m * m)


@nb.njit(cache=True, inline="always")
def _x_at(z, x0, z0, tx, p, par):
    """x of a positive track at z (starting at (x0, z0) with slope tx) with the MNP33 kick."""
    zm = par[_MAG_Z]
    if z <= zm or z0 >= zm:
        return x0 + tx * (z - z0)
    return x0 + tx * (zm - z0) + (tx - par[_MAG_KICK] / p) * (z - zm)


@nb.njit(cache=True)
def beam_x(par, straw_z):
    """x of the nominal beam trajectory at each STRAW chamber (m)."""
    xb = np.empty(straw_z.shape[0])
    for c in range(straw_z.shape[0]):
        xb[c] = _x_at(straw_z[c], 0.0, 0.0, par[_BEAM_SLOPE], par[_BEAM_P], par)
    return xb


@nb.njit(cache=True, inline="always")
def _event(kpx, kpy, kpz, ppx, ppy, ppz, vx, vy, vz, par, straw_z, xb, state):
    """Smear and reconstruct one event from its stream ``state`` (normal k of the event:
    ``fastrandom.normal_at(state, k)``): (p_K_rec, p_pi_rec, theta_kpi_rec, vtx_z_rec, m2_miss,
    in_straw, selected, m2_band, region)."""
    # --- GTK: kaon momentum and slopes ---
    pk = np.sqrt(kpx * kpx + kpy * kpy + kpz * kpz)
    inv_kpz = 1.0 / kpz  # one division for both slopes (and 1/p for both pion terms below)
    ktx, kty = kpx * inv_kpz, kpy * inv_kpz
    g = fastrandom.normal_at(state, 0)
    pk_r = pk * (1.0 + par[_GTK_SP] * g)
    g = fastrandom.normal_at(state, 1)
    ktx_r = ktx + par[_GTK_ST] * g
    g = fastrandom.normal_at(state, 2)
    kty_r = kty + par[_GTK_ST] * g
    # --- STRAW: pion momentum and slopes ---
    pp = np.sqrt(ppx * ppx + ppy * ppy + ppz * ppz)
    inv_ppz, inv_pp = 1.0 / ppz, 1.0 / pp
    ptx, pty = ppx * inv_ppz, ppy * inv_ppz
    rel = np.sqrt(par[_S_A] * par[_S_A] + (par[_S_B] * pp) ** 2)
    g = fastrandom.normal_at(state, 3)
    pp_r = pp * (1.0 + rel * g)
    sth = par[_S_TH] * inv_pp
    g = fastrandom.normal_at(state, 4)
    ptx_r = ptx + sth * g
    g = fastrandom.normal_at(state, 5)
    pty_r = pty + sth * g
    # --- vertex: closest approach of the two measured tracks ---
    # the kaon track measured at GTK3 (x_K = x_vtx + t_K (z_G - z_vtx) + e_G) and the pion track
    # at STRAW1 (x_pi, with e_S) enter only as x_K - x_pi: the position errors as e_G - e_S,
    # drawn as one normal of sigma sqrt(sigma_G^2 + sigma_S^2) (par[_VTX_SX]) per axis
    zg, z1 = par[_GTK_Z], straw_z[0]
    g = fastrandom.normal_at(state, 6)
    dxm = ktx * (zg - vz) - ptx * (z1 - vz) + par[_VTX_SX] * g  # x_K - x_pi
    g = fastrandom.normal_at(state, 7)
    dym = kty * (zg - vz) - pty * (z1 - vz) + par[_VTX_SX] * g
    # transverse separation d(z) = a + b z; minimise |d|^2 over z
    ax = dxm - ktx_r * zg + ptx_r * z1
    ay = dym - kty_r * zg + pty_r * z1
    bx, by = ktx_r - ptx_r, kty_r - pty_r
    bb = bx * bx + by * by
    zv = -(ax * bx + ay * by) / bb if bb > 0.0 else -1.0
    # --- STRAW annular acceptance around the beam trajectory (true pion path) ---
    inside = True
    rin2, rout2 = par[_S_RIN] * par[_S_RIN], par[_S_ROUT] * par[_S_ROUT]
    zm = par[_MAG_Z]
    ptx_kicked = ptx - par[_MAG_KICK] * inv_pp  # slope after MNP33 (as _x_at, with 1/p)
    for c in range(straw_z.shape[0]):
        zc = straw_z[c]
        if zc <= zm or vz >= zm:
            x = vx + ptx * (zc - vz) - xb[c]
        else:
            x = vx + ptx * (zm - vz) + ptx_kicked * (zc - zm) - xb[c]
        y = vy + pty * (zc - vz)
        r2 = x * x + y * y
        if r2 < rin2 or r2 > rout2:
            inside = False
    # --- m2_miss with the pi+ hypothesis ---
    K = _track(pk_r, ktx_r, kty_r, par[_MK])
    P = _track(pp_r, ptx_r, pty_r, par[_MPI])
    dE = K[3] - P[3]
    dx, dy, dz = K[0] - P[0], K[1] - P[1], K[2] - P[2]
    m2 = dE * dE - dx * dx - dy * dy - dz * dz
    cosang = (K[0] * P[0] + K[1] * P[1] + K[2] * P[2]) / (pk_r * pp_r)
    theta = acos(min(1.0, cosang))
    sel = inside and par[_PMIN] < pp_r < par[_PMAX] and par[_ZMIN] < zv < par[_ZMAX]
    band = m2_band(m2, par)
    region = band if (sel and (band == 1 or band == 2)) else 0
    return pk_r, pp_r, theta, zv, m2, inside, sel, band, region


@nb.njit(cache=True, inline="always")
def _bad(a):
    # a NaN/inf anywhere (x * 0 is 0 for finite x, NaN otherwise) or a backward track
    z = (
        a[0] * 0.0
        + a[1] * 0.0
        + a[2] * 0.0
        + a[3] * 0.0
        + a[4] * 0.0
        + a[5] * 0.0
        + a[6] * 0.0
        + a[7] * 0.0
        + a[8] * 0.0
    )
    return not (z == 0.0 and a[2] > 0.0 and a[5] > 0.0)


#: events per block of :func:`smear_columns`
_BLOCK = 512
#: normals per event: GTK p, slopes x/y; STRAW p, slopes x/y; GTK3 - STRAW1 position x/y
_NORMALS = 8  # the 8 rows fastrandom.fill_8_normals_at draws
# rows of the flat per-block scratch (row r of event j at r * _BLOCK + j: constant offsets, so
# LLVM sees that the rows do not overlap and vectorises the loops without run-time checks)
_W_IN = _NORMALS  # 9 input columns kpx, kpy, kpz, ppx, ppy, ppz, vx, vy, vz
_W_OUT = _W_IN + 9  # p_K_rec, p_pi_rec, cos(theta), vtx_z_rec, m2_miss, band, in_window, in_straw
_W_PION = _W_OUT + 8  # pion slopes x, y and x after MNP33
_W_ROWS = _W_PION + 3


@nb.njit(cache=True, inline="always")
def _smear_block(w, m, par, straw_z, xb):
    """Smear and reconstruct the m events of a block held in the flat scratch w (rows: the 8
    normals and the 9 input columns; filled here: the outputs and the pion slopes). The
    arithmetic of :func:`_event` in the same order (bit-identical results), as loops without
    branches over the block that LLVM vectorises; the chamber loop is a separate pass.
    Returns the number of bad events (non-finite input or pz <= 0)."""
    B = _BLOCK
    zg, z1 = par[_GTK_Z], straw_z[0]
    gsp, gst, vsx = par[_GTK_SP], par[_GTK_ST], par[_VTX_SX]
    sa, sb, sth0 = par[_S_A], par[_S_B], par[_S_TH]
    mk2, mpi2, kick = par[_MK] * par[_MK], par[_MPI] * par[_MPI], par[_MAG_KICK]
    pmin, pmax, zmin, zmax = par[_PMIN], par[_PMAX], par[_ZMIN], par[_ZMAX]
    e0, e1, e2, e3 = par[_SR1_LO], par[_SR1_HI], par[_CR1_HI], par[_K2_HI]
    e4, e5, e6 = par[_CR2_HI], par[_SR2_LO], par[_SR2_HI]
    n_bad = 0
    for i in range(m):
        a0, a1, a2 = w[(_W_IN + 0) * B + i], w[(_W_IN + 1) * B + i], w[(_W_IN + 2) * B + i]
        a3, a4, a5 = w[(_W_IN + 3) * B + i], w[(_W_IN + 4) * B + i], w[(_W_IN + 5) * B + i]
        a6, a7, a8 = w[(_W_IN + 6) * B + i], w[(_W_IN + 7) * B + i], w[(_W_IN + 8) * B + i]
        z = a0 * 0.0 + a1 * 0.0 + a2 * 0.0 + a3 * 0.0 + a4 * 0.0 + a5 * 0.0 + a6 * 0.0 + a7 * 0.0 + a8 * 0.0
        n_bad += 0 if (z == 0.0) & (a2 > 0.0) & (a5 > 0.0) else 1
        pk = np.sqrt(a0 * a0 + a1 * a1 + a2 * a2)
        inv_kpz = 1.0 / a2
        ktx, kty = a0 * inv_kpz, a1 * inv_kpz
        pk_r = pk * (1.0 + gsp * w[0 * B + i])
        ktx_r = ktx + gst * w[1 * B + i]
        kty_r = kty + gst * w[2 * B + i]
        pp = np.sqrt(a3 * a3 + a4 * a4 + a5 * a5)
        inv_ppz, inv_pp = 1.0 / a5, 1.0 / pp
        ptx, pty = a3 * inv_ppz, a4 * inv_ppz
        rel = np.sqrt(sa * sa + (sb * pp) ** 2)
        pp_r = pp * (1.0 + rel * w[3 * B + i])
        sth = sth0 * inv_pp
        ptx_r = ptx + sth * w[4 * B + i]
        pty_r = pty + sth * w[5 * B + i]
        dxm = ktx * (zg - a8) - ptx * (z1 - a8) + vsx * w[6 * B + i]
        dym = kty * (zg - a8) - pty * (z1 - a8) + vsx * w[7 * B + i]
        ax = dxm - ktx_r * zg + ptx_r * z1
        ay = dym - kty_r * zg + pty_r * z1
        bx, by = ktx_r - ptx_r, kty_r - pty_r
        bb = bx * bx + by * by
        zv = -(ax * bx + ay * by) / bb if bb > 0.0 else -1.0
        # m2_miss with the pi+ hypothesis (as _track)
        kz = pk_r / np.sqrt(1.0 + ktx_r * ktx_r + kty_r * kty_r)
        kx, ky, ke = ktx_r * kz, kty_r * kz, np.sqrt(pk_r * pk_r + mk2)
        qz = pp_r / np.sqrt(1.0 + ptx_r * ptx_r + pty_r * pty_r)
        qx, qy, qe = ptx_r * qz, pty_r * qz, np.sqrt(pp_r * pp_r + mpi2)
        dE = ke - qe
        dx, dy, dz = kx - qx, ky - qy, kz - qz
        m2 = dE * dE - dx * dx - dy * dy - dz * dz
        w[(_W_OUT + 0) * B + i] = pk_r
        w[(_W_OUT + 1) * B + i] = pp_r
        w[(_W_OUT + 2) * B + i] = (kx * qx + ky * qy + kz * qz) / (pk_r * pp_r)  # cos(theta)
        w[(_W_OUT + 3) * B + i] = zv
        w[(_W_OUT + 4) * B + i] = m2
        # the codes of m2_band, as selects
        band = -1.0 if m2 <= e0 else (1.0 if m2 <= e1 else (3.0 if m2 <= e2 else (4.0 if m2 <= e3 else 5.0)))
        band = band if m2 <= e4 else (0.0 if m2 <= e5 else (2.0 if m2 <= e6 else 6.0))
        w[(_W_OUT + 5) * B + i] = band
        w[(_W_OUT + 6) * B + i] = 1.0 if (pmin < pp_r) & (pp_r < pmax) & (zmin < zv) & (zv < zmax) else 0.0
        w[(_W_OUT + 7) * B + i] = 1.0
        w[(_W_PION + 0) * B + i] = ptx
        w[(_W_PION + 1) * B + i] = pty
        w[(_W_PION + 2) * B + i] = ptx - kick * inv_pp  # slope after MNP33 (as _event)
    # STRAW annular acceptance around the beam trajectory (true pion path), chamber by chamber
    rin2, rout2 = par[_S_RIN] * par[_S_RIN], par[_S_ROUT] * par[_S_ROUT]
    zm = par[_MAG_Z]
    for c in range(straw_z.shape[0]):
        zc, xbc = straw_z[c], xb[c]
        for i in range(m):
            vx, vy, vz = w[(_W_IN + 6) * B + i], w[(_W_IN + 7) * B + i], w[(_W_IN + 8) * B + i]
            ptx, pty, ptx_kicked = w[(_W_PION + 0) * B + i], w[(_W_PION + 1) * B + i], w[(_W_PION + 2) * B + i]
            x_direct = vx + ptx * (zc - vz) - xbc
            x_kicked = vx + ptx * (zm - vz) + ptx_kicked * (zc - zm) - xbc
            x = x_direct if (zc <= zm) | (vz >= zm) else x_kicked
            y = vy + pty * (zc - vz)
            r2 = x * x + y * y
            w[(_W_OUT + 7) * B + i] = 0.0 if (r2 < rin2) | (r2 > rout2) else w[(_W_OUT + 7) * B + i]
    return n_bad


@nb.njit(cache=True, inline="always")
def _copy(dst, src):
    # element-wise copy of two 1-d views of equal length (indices from 0: no wrap-around
    # selects, so LLVM emits vector loads and stores, not gathers)
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@nb.njit(cache=True, inline="always")
def _finish(band_f, in_window, inside, theta, in_straw, selected, band, region):
    # the integer and boolean outputs of a block from its scratch rows; theta from cos(theta)
    m = theta.shape[0]
    for j in range(m):
        theta[j] = acos(min(1.0, theta[j]))
    for j in range(m):
        band[j] = np.int8(band_f[j])
    for j in range(m):
        in_straw[j] = inside[j] > 0.0
    for j in range(m):
        selected[j] = (inside[j] > 0.0) & (in_window[j] > 0.0)
    for j in range(m):
        b = band[j]
        region[j] = b if selected[j] & ((b == 1) | (b == 2)) else 0


@nb.njit(cache=True, parallel=True, error_model="numpy")
def smear_columns(
    kpx, kpy, kpz, ppx, ppy, ppz, vx, vy, vz, par, straw_z, key0, key1, first, out, in_straw, selected, band, region
):
    """Smear and reconstruct events first..first+n-1 from flat columns (any strides).

    out: (5, n) p_K_rec, p_pi_rec, theta_kpi_rec, vtx_z_rec, m2_miss; in_straw, selected:
    bool (n,); band, region: int8 (n,). Returns the number of events with a non-finite input
    or pz <= 0 (their outputs are meaningless; the caller raises).

    Events run in blocks of :data:`_BLOCK`: the normals of a block first
    (:func:`fastrandom.fill_8_normals_at`, the same numbers as event-by-event draws), the inputs
    copied into one flat scratch, then the arithmetic as vectorised loops
    (:func:`_smear_block`); every output equals :func:`smear_kernel`'s (the event-by-event
    reference) bit for bit. ``error_model="numpy"``: a division by zero gives inf/NaN
    (counted as a bad event) instead of raising, which lets LLVM vectorise the divisions."""
    n = kpx.shape[0]
    xb = beam_x(par, straw_z)
    n_bad = 0
    B = _BLOCK
    for b in nb.prange((n + B - 1) // B):
        w = np.empty(_W_ROWS * B)
        s0 = np.empty(B, dtype=np.uint64)
        redo = np.empty(B, dtype=np.uint64)
        i0 = b * B
        m = min(B, n - i0)
        fastrandom.fill_8_normals_at(key0, key1, first + i0, m, w, B, s0, redo)  # rows 0-7 of w
        e = i0 + m
        _copy(w[(_W_IN + 0) * B : (_W_IN + 0) * B + m], kpx[i0:e])
        _copy(w[(_W_IN + 1) * B : (_W_IN + 1) * B + m], kpy[i0:e])
        _copy(w[(_W_IN + 2) * B : (_W_IN + 2) * B + m], kpz[i0:e])
        _copy(w[(_W_IN + 3) * B : (_W_IN + 3) * B + m], ppx[i0:e])
        _copy(w[(_W_IN + 4) * B : (_W_IN + 4) * B + m], ppy[i0:e])
        _copy(w[(_W_IN + 5) * B : (_W_IN + 5) * B + m], ppz[i0:e])
        _copy(w[(_W_IN + 6) * B : (_W_IN + 6) * B + m], vx[i0:e])
        _copy(w[(_W_IN + 7) * B : (_W_IN + 7) * B + m], vy[i0:e])
        _copy(w[(_W_IN + 8) * B : (_W_IN + 8) * B + m], vz[i0:e])
        n_bad += _smear_block(w, m, par, straw_z, xb)
        for r in range(5):
            _copy(out[r, i0:e], w[(_W_OUT + r) * B : (_W_OUT + r) * B + m])
        _finish(
            w[(_W_OUT + 5) * B : (_W_OUT + 5) * B + m],
            w[(_W_OUT + 6) * B : (_W_OUT + 6) * B + m],
            w[(_W_OUT + 7) * B : (_W_OUT + 7) * B + m],
            out[2, i0:e],
            in_straw[i0:e],
            selected[i0:e],
            band[i0:e],
            region[i0:e],
        )
    return n_bad


@nb.njit(cache=True, parallel=True)
def smear_kernel(k, pi, vtx, par, straw_z, key0, key1, first, out, flags):
    """Smear and reconstruct events first..first+n-1 event by event (the reference that
    :func:`smear_columns` reproduces bit for bit, tests/test_detector_blocks.py).

    k, pi: (4, n) true four-momenta (px, py, pz, E); vtx: (3, n) true vertex in m.
    out: (5, n) p_K_rec, p_pi_rec, theta_kpi_rec, vtx_z_rec, m2_miss.
    flags: (4, n) int8 in_straw, selected, m2_band, region.
    """
    n = k.shape[1]
    xb = beam_x(par, straw_z)
    for i in nb.prange(n):
        state = rng.event_state(key0, key1, first + i)
        r = _event(
            k[0, i],
            k[1, i],
            k[2, i],
            pi[0, i],
            pi[1, i],
            pi[2, i],
            vtx[0, i],
            vtx[1, i],
            vtx[2, i],
            par,
            straw_z,
            xb,
            state,
        )
        out[0, i], out[1, i], out[2, i], out[3, i], out[4, i] = r[0], r[1], r[2], r[3], r[4]
        flags[0, i] = 1 if r[5] else 0
        flags[1, i] = 1 if r[6] else 0
        flags[2, i] = r[7]
        flags[3, i] = r[8]


def _column(events: ak.Array, particle: str | None, name: str) -> np.ndarray:
    """A float64 column of ``events`` (a view when the layout allows it, no copy)."""
    path = (name,) if particle is None else (particle, name)
    return np.asarray(numpy_field(events, *path), dtype=np.float64)


def reconstruct(
    events: ak.Array,
    *,
    seed: int = 0,
    card: dict | None = None,
    p_pi_window: tuple[float, float] | None = None,
    first: int = 0,
    pool: Any = None,
) -> dict[str, np.ndarray]:
    """Reconstructed columns (numpy) of the NA62 emulation; see the module docstring.

    ``pool``: None (fresh arrays) or the caller's output pool (an object with ``empty(shape,
    dtype)``, e.g. ``evtgen.decays.OutputPool``) whose released memory the outputs reuse (no
    page faults and zeroing of new pages); the values do not depend on it."""
    for f in ("vtx_x", "vtx_y", "vtx_z"):
        if f not in events.fields:
            raise PhiphiError(f"events have no {f!r}: generate the K+ decays with frame='lab' for the NA62 emulation")
    for p in ("K", "pi"):
        if p not in events.fields:
            raise PhiphiError(
                f"events have no {p!r} particle: the NA62 emulation needs K+ -> pi+ ... decays generated with frame='lab'"
            )
    cols = [_column(events, p, c) for p in ("K", "pi") for c in ("px", "py", "pz")]
    cols += [_column(events, None, f) for f in ("vtx_x", "vtx_y", "vtx_z")]
    par, straw_z = parameters(card, p_pi_window=p_pi_window)
    key = detector_key(seed)
    n = len(cols[0])
    empty = np.empty if pool is None else pool.empty
    out = empty((5, n), np.float64)
    flags = empty((4, n), np.int8)  # in_straw, selected (viewed as bool), band, region
    in_straw, selected, band, region = flags[0].view(np.bool_), flags[1].view(np.bool_), flags[2], flags[3]
    if n:
        n_bad = smear_columns(*cols, par, straw_z, key[0], key[1], int(first), out, in_straw, selected, band, region)
        if n_bad:
            if not all(np.all(np.isfinite(c)) for c in cols):
                raise PhiphiError("events contain NaN or infinite momenta/vertices")
            raise PhiphiError("events have K+ or pi+ with pz <= 0: not NA62 lab-frame kaon decays (use frame='lab')")
    return {
        "p_K_rec": out[0],
        "p_pi_rec": out[1],
        "theta_kpi_rec": out[2],
        "vtx_z_rec": out[3],
        "m2_miss": out[4],
        "in_straw": in_straw,
        "selected": selected,
        "m2_band": band,
        "region": region,
    }


def simulate(
    events: ak.Array,
    *,
    seed: int = 0,
    card: dict | None = None,
    p_pi_window: tuple[float, float] | None = None,
    first: int = 0,
    pool: Any = None,
) -> ak.Array:
    """The input events plus the reconstructed NA62 fields (see the module docstring);
    ``first``: index of the first event in the run (its smearing stream); ``pool``: the caller's
    output pool (see :func:`reconstruct`)."""
    from detector import with_fields

    cols = reconstruct(events, seed=seed, card=card, p_pi_window=p_pi_window, first=first, pool=pool)
    return with_fields(events, cols)
