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


@nb.njit(cache=True)
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


@nb.njit(cache=True)
def _x_at(z, x0, z0, tx, p, par):
    """x of a positive track at z (starting at (x0, z0) with slope tx) with the MNP33 kick."""
    zm = par[_MAG_Z]
    if z <= zm or z0 >= zm:
        return x0 + tx * (z - z0)
    return x0 + tx * (zm - z0) + (tx - par[_MAG_KICK] / p) * (z - zm)


@nb.njit(cache=True, parallel=True)
def smear_kernel(k, pi, vtx, par, straw_z, key0, key1, first, out, flags):
    """Smear and reconstruct events first..first+n-1.

    k, pi: (4, n) true four-momenta (px, py, pz, E); vtx: (3, n) true vertex in m.
    out: (5, n) p_K_rec, p_pi_rec, theta_kpi_rec, vtx_z_rec, m2_miss.
    flags: (4, n) int8 in_straw, selected, m2_band, region.
    """
    n = k.shape[1]
    mk, mpi = par[_MK], par[_MPI]
    for i in nb.prange(n):
        state = rng.event_state(key0, key1, first + i)
        # --- GTK: kaon momentum and slopes ---
        kpx, kpy, kpz = k[0, i], k[1, i], k[2, i]
        pk = np.sqrt(kpx * kpx + kpy * kpy + kpz * kpz)
        ktx, kty = kpx / kpz, kpy / kpz
        g, state = rng.normal(state)
        pk_r = pk * (1.0 + par[_GTK_SP] * g)
        g, state = rng.normal(state)
        ktx_r = ktx + par[_GTK_ST] * g
        g, state = rng.normal(state)
        kty_r = kty + par[_GTK_ST] * g
        # --- STRAW: pion momentum and slopes ---
        ppx, ppy, ppz = pi[0, i], pi[1, i], pi[2, i]
        pp = np.sqrt(ppx * ppx + ppy * ppy + ppz * ppz)
        ptx, pty = ppx / ppz, ppy / ppz
        rel = np.sqrt(par[_S_A] ** 2 + (par[_S_B] * pp) ** 2)
        g, state = rng.normal(state)
        pp_r = pp * (1.0 + rel * g)
        sth = par[_S_TH] / pp
        g, state = rng.normal(state)
        ptx_r = ptx + sth * g
        g, state = rng.normal(state)
        pty_r = pty + sth * g
        # --- vertex: closest approach of the two measured tracks ---
        vx, vy, vz = vtx[0, i], vtx[1, i], vtx[2, i]
        zg, z1 = par[_GTK_Z], straw_z[0]
        g, state = rng.normal(state)
        xk = vx + ktx * (zg - vz) + par[_GTK_SX] * g
        g, state = rng.normal(state)
        yk = vy + kty * (zg - vz) + par[_GTK_SX] * g
        g, state = rng.normal(state)
        xp = vx + ptx * (z1 - vz) + par[_S_SX] * g
        g, state = rng.normal(state)
        yp = vy + pty * (z1 - vz) + par[_S_SX] * g
        # transverse separation d(z) = a + b z; minimise |d|^2 over z
        ax = (xk - ktx_r * zg) - (xp - ptx_r * z1)
        ay = (yk - kty_r * zg) - (yp - pty_r * z1)
        bx, by = ktx_r - ptx_r, kty_r - pty_r
        bb = bx * bx + by * by
        zv = -(ax * bx + ay * by) / bb if bb > 0.0 else -1.0
        # --- STRAW annular acceptance around the beam trajectory (true pion path) ---
        inside = True
        for c in range(straw_z.shape[0]):
            zc = straw_z[c]
            x = _x_at(zc, vx, vz, ptx, pp, par)
            y = vy + pty * (zc - vz)
            xb = _x_at(zc, 0.0, 0.0, par[_BEAM_SLOPE], par[_BEAM_P], par)
            r = np.sqrt((x - xb) ** 2 + y * y)
            if r < par[_S_RIN] or r > par[_S_ROUT]:
                inside = False
        # --- m2_miss with the pi+ hypothesis ---
        K = _track(pk_r, ktx_r, kty_r, mk)
        P = _track(pp_r, ptx_r, pty_r, mpi)
        dE = K[3] - P[3]
        dx, dy, dz = K[0] - P[0], K[1] - P[1], K[2] - P[2]
        m2 = dE * dE - dx * dx - dy * dy - dz * dz
        cosang = (K[0] * P[0] + K[1] * P[1] + K[2] * P[2]) / (pk_r * pp_r)
        out[0, i] = pk_r
        out[1, i] = pp_r
        out[2, i] = np.arccos(min(1.0, cosang))
        out[3, i] = zv
        out[4, i] = m2
        sel = inside and par[_PMIN] < pp_r < par[_PMAX] and par[_ZMIN] < zv < par[_ZMAX]
        band = m2_band(m2, par)
        flags[0, i] = 1 if inside else 0
        flags[1, i] = 1 if sel else 0
        flags[2, i] = band
        flags[3, i] = band if (sel and (band == 1 or band == 2)) else 0


def _four(events: ak.Array, name: str) -> np.ndarray:
    if name not in events.fields:
        raise PhiphiError(
            f"events have no {name!r} particle: the NA62 emulation needs K+ -> pi+ ... decays generated with frame='lab'"
        )
    sub = events[name]
    return np.stack([np.asarray(ak.to_numpy(sub[c]), dtype=np.float64) for c in ("px", "py", "pz", "E")])


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
    k, pi = _four(events, "K"), _four(events, "pi")
    vtx = np.stack([np.asarray(ak.to_numpy(events[f]), dtype=np.float64) for f in ("vtx_x", "vtx_y", "vtx_z")])
    if not (np.all(np.isfinite(k)) and np.all(np.isfinite(pi)) and np.all(np.isfinite(vtx))):
        raise PhiphiError("events contain NaN or infinite momenta/vertices")
    if np.any(k[2] <= 0.0) or np.any(pi[2] <= 0.0):
        raise PhiphiError("events have K+ or pi+ with pz <= 0: not NA62 lab-frame kaon decays (use frame='lab')")
    par, straw_z = parameters(card, p_pi_window=p_pi_window)
    key = detector_key(seed)
    n = k.shape[1]
    out = np.empty((5, n))
    flags = np.empty((4, n), dtype=np.int8)
    if n:
        smear_kernel(k, pi, vtx, par, straw_z, key[0], key[1], int(first), out, flags)
    return {
        "p_K_rec": out[0],
        "p_pi_rec": out[1],
        "theta_kpi_rec": out[2],
        "vtx_z_rec": out[3],
        "m2_miss": out[4],
        "in_straw": flags[0].astype(bool),
        "selected": flags[1].astype(bool),
        "m2_band": flags[2],
        "region": flags[3],
    }


def simulate(
    events: ak.Array, *, seed: int = 0, card: dict | None = None, p_pi_window: tuple[float, float] | None = None
) -> ak.Array:
    """The input events plus the reconstructed NA62 fields (see the module docstring)."""
    cols = reconstruct(events, seed=seed, card=card, p_pi_window=p_pi_window)
    out = events
    for name, col in cols.items():
        out = ak.with_field(out, col, name)
    return out
