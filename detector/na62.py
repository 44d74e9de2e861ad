"""NA62 emulation: GTK kaon and STRAW pion smearing, vertex, m2_miss and signal regions.

For each K+ decay (events from ``evtgen.generate(..., frame="lab")`` with fields ``K``,
``pi`` and ``vtx_x/y/z``) the kernel

* smears the beam kaon (GTK): relative momentum sigma and the two slopes dx/dz, dy/dz;
* smears the pi+ (STRAW): sigma_p/p = a (+) b p and slopes with sigma_theta = c p_ref / p;
* reconstructs the decay vertex as the closest approach of the two measured tracks (each
  anchored at its measured position at GTK3 / STRAW chamber 1);
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

from detector import fastrandom
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
    _NPAR,
) = range(28)


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
    """Smear and reconstruct one event from its stream ``state``: (p_K_rec, p_pi_rec,
    theta_kpi_rec, vtx_z_rec, m2_miss, in_straw, selected, m2_band, region)."""
    # --- GTK: kaon momentum and slopes ---
    pk = np.sqrt(kpx * kpx + kpy * kpy + kpz * kpz)
    ktx, kty = kpx / kpz, kpy / kpz
    g, state = fastrandom.normal(state)
    pk_r = pk * (1.0 + par[_GTK_SP] * g)
    g, state = fastrandom.normal(state)
    ktx_r = ktx + par[_GTK_ST] * g
    g, state = fastrandom.normal(state)
    kty_r = kty + par[_GTK_ST] * g
    # --- STRAW: pion momentum and slopes ---
    pp = np.sqrt(ppx * ppx + ppy * ppy + ppz * ppz)
    ptx, pty = ppx / ppz, ppy / ppz
    rel = np.sqrt(par[_S_A] * par[_S_A] + (par[_S_B] * pp) ** 2)
    g, state = fastrandom.normal(state)
    pp_r = pp * (1.0 + rel * g)
    sth = par[_S_TH] / pp
    g, state = fastrandom.normal(state)
    ptx_r = ptx + sth * g
    g, state = fastrandom.normal(state)
    pty_r = pty + sth * g
    # --- vertex: closest approach of the two measured tracks ---
    zg, z1 = par[_GTK_Z], straw_z[0]
    g, state = fastrandom.normal(state)
    xk = vx + ktx * (zg - vz) + par[_GTK_SX] * g
    g, state = fastrandom.normal(state)
    yk = vy + kty * (zg - vz) + par[_GTK_SX] * g
    g, state = fastrandom.normal(state)
    xp = vx + ptx * (z1 - vz) + par[_S_SX] * g
    g, state = fastrandom.normal(state)
    yp = vy + pty * (z1 - vz) + par[_S_SX] * g
    # transverse separation d(z) = a + b z; minimise |d|^2 over z
    ax = (xk - ktx_r * zg) - (xp - ptx_r * z1)
    ay = (yk - kty_r * zg) - (yp - pty_r * z1)
    bx, by = ktx_r - ptx_r, kty_r - pty_r
    bb = bx * bx + by * by
    zv = -(ax * bx + ay * by) / bb if bb > 0.0 else -1.0
    # --- STRAW annular acceptance around the beam trajectory (true pion path) ---
    inside = True
    rin2, rout2 = par[_S_RIN] * par[_S_RIN], par[_S_ROUT] * par[_S_ROUT]
    zm = par[_MAG_Z]
    ptx_kicked = ptx - par[_MAG_KICK] / pp  # slope after MNP33 (as _x_at)
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
    theta = np.arccos(min(1.0, cosang))
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


@nb.njit(cache=True, parallel=True)
def smear_columns(
    kpx, kpy, kpz, ppx, ppy, ppz, vx, vy, vz, par, straw_z, key0, key1, first, out, in_straw, selected, band, region
):
    """Smear and reconstruct events first..first+n-1 from flat columns (any strides).

    out: (5, n) p_K_rec, p_pi_rec, theta_kpi_rec, vtx_z_rec, m2_miss; in_straw, selected:
    bool (n,); band, region: int8 (n,). Returns the number of events with a non-finite input
    or pz <= 0 (their outputs are meaningless; the caller raises)."""
    n = kpx.shape[0]
    xb = beam_x(par, straw_z)
    n_bad = 0
    for i in nb.prange(n):
        a = (kpx[i], kpy[i], kpz[i], ppx[i], ppy[i], ppz[i], vx[i], vy[i], vz[i])
        if _bad(a):
            n_bad += 1
        state = rng.event_state(key0, key1, first + i)
        r = _event(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], par, straw_z, xb, state)
        out[0, i] = r[0]
        out[1, i] = r[1]
        out[2, i] = r[2]
        out[3, i] = r[3]
        out[4, i] = r[4]
        in_straw[i] = r[5]
        selected[i] = r[6]
        band[i] = r[7]
        region[i] = r[8]
    return n_bad


@nb.njit(cache=True, parallel=True)
def smear_kernel(k, pi, vtx, par, straw_z, key0, key1, first, out, flags):
    """Smear and reconstruct events first..first+n-1 (the same events as :func:`smear_columns`).

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
        for j in range(5):
            out[j, i] = r[j]
        flags[0, i] = 1 if r[5] else 0
        flags[1, i] = 1 if r[6] else 0
        flags[2, i] = r[7]
        flags[3, i] = r[8]


def _column(events: ak.Array, particle: str | None, name: str) -> np.ndarray:
    """A float64 column of ``events`` (a view when the layout allows it, no copy)."""
    arr = events[name] if particle is None else events[particle][name]
    return np.asarray(ak.to_numpy(arr), dtype=np.float64)


def reconstruct(
    events: ak.Array,
    *,
    seed: int = 0,
    card: dict | None = None,
    p_pi_window: tuple[float, float] | None = None,
    first: int = 0,
) -> dict[str, np.ndarray]:
    """Reconstructed columns (numpy) of the NA62 emulation; see the module docstring."""
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
    out = np.empty((5, n))
    in_straw = np.empty(n, dtype=np.bool_)
    selected = np.empty(n, dtype=np.bool_)
    band = np.empty(n, dtype=np.int8)
    region = np.empty(n, dtype=np.int8)
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
) -> ak.Array:
    """The input events plus the reconstructed NA62 fields (see the module docstring);
    ``first``: index of the first event in the run (its smearing stream)."""
    from detector import with_fields

    return with_fields(events, reconstruct(events, seed=seed, card=card, p_pi_window=p_pi_window, first=first))
