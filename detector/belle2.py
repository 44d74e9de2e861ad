"""Belle II B+ -> K+ nu nubar (362 fb^-1) event-level emulation from the released maps.

Per event: ``q2_rec`` as Belle II computes it (kaon energy in the e+e- c.m. frame, B at
rest: q2_rec = s/4 + m_K^2 - sqrt(s) E*_K, so the B motion in the generated event smears
it), and the reconstructed analysis bin of the inclusive-tag (``ita_bin``: 0-11, region A
rows then region B rows in workspace order, -1 = not selected) and hadronic-tag
(``hta_bin``: 0-5 or -1) selections. The two selections overlap, so they are drawn
independently.

The bin is drawn from the released efficiency x migration map as a function of TRUE q2,
eps[i, j] = N[i, j] / (2 f_+- N_BB B_SM,j) (card ``data/belle2_card.yaml``), which already
contains the detector resolution and the B-motion smearing of q2_rec; ``q2_rec`` is
therefore informational and does not enter the bin choice.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import awkward as ak
import numba as nb
import numpy as np
import yaml

from evtgen import constants as C
from evtgen import rng
from evtgen.errors import PhiphiError
from evtgen.frames import belle2_beams

CARD = "belle2_card.yaml"
CARD_SOURCE = (
    "Belle II arXiv:2311.14647 with the released signal maps of arXiv:2507.12393 "
    "(HEPData 10.17182/hepdata.166082); card detector/data/belle2_card.yaml"
)
#: tag mixed into the run key so the detector stream differs from the generator's at equal seeds
_STREAM_TAG = 0xBE11E2
#: Gauss-Legendre nodes per generated-q2 bin for the SM template integrals (the integrand
#: is a smooth polynomial-like function inside each 0.229 GeV^2 bin: 8 nodes are exact to 1e-12)
#: 8-point Gauss-Legendre nodes and weights on [-1, 1] (the per-bin q2 integration of the maps)
GL8 = np.polynomial.legendre.leggauss(8)
N_ITA = 12
N_HTA = 6


def _data_path(name: str) -> Path:
    return Path(str(resources.files("detector") / "data" / name))


@functools.cache
def card() -> dict:
    """The parsed Belle II card (cached; do not mutate)."""
    with _data_path(CARD).open() as fh:
        return yaml.safe_load(fh)


# ---------------------------------------------------------------------------------------
# Belle II's SM template (physics README section 2, HPQCD 2022 f+)
# ---------------------------------------------------------------------------------------
def sm_template_dbr_dq2(q2) -> np.ndarray:
    """dB/dq2 (GeV^-2) of Belle II's SM short-distance B+ -> K+ nu nubar template."""
    from evtgen.formfactors import hpqcd2022_fplus

    g = {k: C.value("bknunu_sm", k) for k in ("G_F", "alpha_inv", "X_t", "sin2_theta_W", "Vtb_Vts")}
    blk = C.load_yaml("constants.yaml")["hpqcd2022_fplus"]
    mb, mk = float(blk["m_B"]["value"]), float(blk["m_K"]["value"])
    tau_b = float(card()["tau_b_template"]["value"]) / C.HBAR_GEV_S  # GeV^-1, the template's own value
    pref = (
        tau_b
        * g["G_F"] ** 2
        * g["alpha_inv"] ** -2
        * g["X_t"] ** 2
        * g["Vtb_Vts"] ** 2
        / (32.0 * math.pi**5 * g["sin2_theta_W"] ** 2)
    )
    q2 = np.asarray(q2, dtype=np.float64)
    lam = np.clip(C.kallen(mb * mb, mk * mk, q2), 0.0, None)
    p_k = np.sqrt(lam) / (2.0 * mb)
    inside = (q2 >= 0.0) & (q2 <= (mb - mk) ** 2)
    return np.where(inside, pref * p_k**3 * hpqcd2022_fplus(np.clip(q2, 0.0, (mb - mk) ** 2)) ** 2, 0.0)


def bin_integrals(func, edges: np.ndarray) -> np.ndarray:
    """Integral of ``func(q2)`` over each bin of ``edges`` (8-point Gauss-Legendre per bin)."""
    nodes, weights = GL8
    lo, hi = edges[:-1, None], edges[1:, None]
    x = 0.5 * (hi - lo) * nodes[None, :] + 0.5 * (hi + lo)
    return (func(x) * weights[None, :]).sum(axis=1) * 0.5 * (edges[1:] - edges[:-1])


# ---------------------------------------------------------------------------------------
# The response: number densities -> efficiency x migration
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Belle2Response:
    """Released number densities N[i, j] and what follows from them."""

    n_ita: np.ndarray  # (12, 101): region A rows then region B rows
    n_hta: np.ndarray  # (6, 101)
    q2_edges: np.ndarray  # (101,) edges of the generated-q2 bins j = 1..100
    br_sm_bins: np.ndarray  # (100,) SM template branching ratio per generated-q2 bin
    n_b_plus: float  # produced B+ (and B-): 2 f_+- N_BB

    @property
    def eps_ita(self) -> np.ndarray:
        """(12, 100) efficiency x migration per produced B+ of the ITA bins."""
        return self.n_ita[:, 1:] / (self.n_b_plus * self.br_sm_bins)[None, :]

    @property
    def eps_hta(self) -> np.ndarray:
        """(6, 100) efficiency x migration per produced B+ of the HTA bins."""
        return self.n_hta[:, 1:] / (self.n_b_plus * self.br_sm_bins)[None, :]

    def fold(self, br_bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected (ITA, HTA) yields for a branching ratio per generated-q2 bin (100,):
        nu_i = sum_j N[i, j] B_j / B_SM,j (the j = 0 column gets weight 0)."""
        br_bins = np.asarray(br_bins, dtype=np.float64)
        if br_bins.shape != self.br_sm_bins.shape:
            raise PhiphiError(
                f"branching ratios per q2 bin have shape {br_bins.shape}, expected {self.br_sm_bins.shape}"
            )
        w = br_bins / self.br_sm_bins
        return self.n_ita[:, 1:] @ w, self.n_hta[:, 1:] @ w

    def q2_bin(self, q2: float) -> int:
        """Generated-q2 bin (0..99) containing ``q2`` (the upper edge belongs to the last bin)."""
        e = self.q2_edges
        if not e[0] <= q2 <= e[-1]:
            raise PhiphiError(f"q2 = {q2:g} GeV^2 is outside the map range [{e[0]:g}, {e[-1]:g}] GeV^2")
        return int(min(np.searchsorted(e, q2, side="right") - 1, len(e) - 2))


def read_map(path: str | Path, rows: int, cols: int) -> np.ndarray:
    """A number-density CSV as a (rows, cols) array; one-line PhiphiError if it is not one."""
    try:
        a = np.loadtxt(path, delimiter=",", ndmin=2)
    except (OSError, ValueError) as exc:
        raise PhiphiError(f"cannot read Belle II map {str(path)!r}: {exc}".splitlines()[0]) from None
    if a.shape != (rows, cols):
        raise PhiphiError(f"Belle II map {str(path)!r} has shape {a.shape[0]}x{a.shape[1]}, expected {rows}x{cols}")
    if not np.all(np.isfinite(a)):
        raise PhiphiError(f"Belle II map {str(path)!r} contains NaN or infinite entries")
    if np.any(a < 0):
        raise PhiphiError(f"Belle II map {str(path)!r} contains negative entries")
    return a


def load_response(
    ita_a: str | Path | None = None,
    ita_b: str | Path | None = None,
    hta: str | Path | None = None,
    cfg: dict | None = None,
) -> Belle2Response:
    """The response built from the shipped maps (or from the given CSV files), configured by
    ``cfg`` (a card dict; None = the packaged card). A card's map paths are absolute or
    relative to detector/data."""
    cfg = card() if cfg is None else cfg
    nq = int(cfg["q2_gen_bins"]["n"])
    ita_files = [_data_path(p) for p in cfg["ita"]["maps"]]
    a = read_map(ita_a or ita_files[0], 9, nq + 1)
    b = read_map(ita_b or ita_files[1], 3, nq + 1)
    h = read_map(hta or _data_path(cfg["hta"]["maps"][0]), N_HTA, nq + 1)
    edges = np.linspace(float(cfg["q2_gen_bins"]["low"]), float(cfg["q2_gen_bins"]["high"]), nq + 1)
    br_sm = bin_integrals(sm_template_dbr_dq2, edges)
    n_b = 2.0 * float(cfg["f_plus_minus"]["value"]) * float(cfg["n_bb"]["value"])
    resp = Belle2Response(np.vstack([a, b]), h, edges, br_sm, n_b)
    for name, eps in (("ITA", resp.eps_ita), ("HTA", resp.eps_hta)):
        tot = eps.sum(axis=0)
        if np.any(tot > 1.0):
            j = int(np.argmax(tot))
            raise PhiphiError(f"Belle II {name} map gives a selection probability {tot[j]:.3g} > 1 in q2 bin {j + 1}")
    return resp


@functools.lru_cache(maxsize=1)
def response() -> Belle2Response:
    """The shipped response (cached)."""
    return load_response()


# ---------------------------------------------------------------------------------------
# Per-event emulation
# ---------------------------------------------------------------------------------------
@nb.njit(cache=True, inline="always")
def _draw(cum, j, u):
    # row i with cum[i-1, j] <= u < cum[i, j]; -1 at or above the total (not selected: most events)
    last = cum.shape[0] - 1
    if u >= cum[last, j]:
        return -1
    for i in range(last):
        if u < cum[i, j]:
            return i
    return last


@nb.njit(cache=True, parallel=True)
def emulate_kernel(
    q2_true,
    kpx,
    kpy,
    kpz,
    ke,
    beta,
    sqrt_s,
    m_k,
    q2_lo,
    q2_hi,
    cum_ita,
    cum_hta,
    key0,
    key1,
    first,
    q2_rec,
    ita_bin,
    hta_bin,
):
    """Fill q2_rec, ita_bin, hta_bin for events first..first+n-1 (per-event RNG streams:
    two uniforms per event, the ITA draw then the HTA draw)."""
    n_bins = cum_ita.shape[1]
    width = (q2_hi - q2_lo) / n_bins
    s4 = 0.25 * sqrt_s * sqrt_s
    # the energy component of evtgen.kinematics.boost(..., -beta), with gamma hoisted
    bx, by, bz = -beta[0], -beta[1], -beta[2]
    b2 = bx * bx + by * by + bz * bz
    g = 1.0 / np.sqrt(1.0 - b2) if b2 > 0.0 else 1.0
    if b2 <= 0.0:
        bx, by, bz = 0.0, 0.0, 0.0
    for i in nb.prange(q2_true.shape[0]):
        e_cm = g * (ke[i] + (bx * kpx[i] + by * kpy[i] + bz * kpz[i]))
        q2_rec[i] = s4 + m_k * m_k - sqrt_s * e_cm
        state = rng.event_state(key0, key1, first + i)
        u_ita, state = rng.uniform(state)
        u_hta, state = rng.uniform(state)
        q2 = q2_true[i]
        if not (q2 >= q2_lo and q2 <= q2_hi):
            ita_bin[i] = -1
            hta_bin[i] = -1
            continue
        j = min(int((q2 - q2_lo) / width), n_bins - 1)
        ita_bin[i] = _draw(cum_ita, j, u_ita)
        hta_bin[i] = _draw(cum_hta, j, u_hta)


def detector_key(seed: int | None) -> np.ndarray:
    """Run key of the detector stream (distinct from the generator's at the same seed)."""
    return np.random.SeedSequence([rng.resolve_seed(seed), _STREAM_TAG]).generate_state(2, dtype=np.uint64)


def _all_zero(x: np.ndarray) -> bool:
    # lab-frame events fail on the first entries: no pass over the whole column
    return not np.any(x[:64]) and not np.any(x)


def _check_events(events: ak.Array) -> None:
    fields = set(events.fields)
    if "Kstar" in fields:
        raise PhiphiError(
            "the Belle II B+ -> K+ nu nubar maps do not apply to B0 -> K*0 events (channel b2kstarphiphi)"
        )
    missing = {"B", "K", "q2_true"} - fields
    if missing:
        raise PhiphiError(f"events lack the field(s) {', '.join(sorted(missing))} needed by the Belle II emulation")
    if len(events) and _all_zero(ak.to_numpy(events.B.px)) and _all_zero(ak.to_numpy(events.B.pz)):
        raise PhiphiError("events are in the B rest frame; the Belle II emulation needs lab-frame events (--frame lab)")


def emulate_columns(
    q2_true, k_px, k_py, k_pz, k_e, *, seed: int | None, first: int = 0, resp: Belle2Response | None = None
) -> dict[str, np.ndarray]:
    """``q2_rec``, ``ita_bin``, ``hta_bin`` from flat columns (events first.. of the run)."""
    resp = resp or response()
    beams = belle2_beams()
    key = detector_key(seed)
    n = len(q2_true)
    q2_rec = np.empty(n)
    ita = np.empty(n, dtype=np.int32)
    hta = np.empty(n, dtype=np.int32)
    cum_ita = np.ascontiguousarray(np.cumsum(resp.eps_ita, axis=0))
    cum_hta = np.ascontiguousarray(np.cumsum(resp.eps_hta, axis=0))
    cols = [np.ascontiguousarray(x, dtype=np.float64) for x in (q2_true, k_px, k_py, k_pz, k_e)]
    emulate_kernel(
        *cols,
        np.asarray(beams.beta_cm, float),
        beams.sqrt_s,
        C.mass("K+"),
        float(resp.q2_edges[0]),
        float(resp.q2_edges[-1]),
        cum_ita,
        cum_hta,
        key[0],
        key[1],
        int(first),
        q2_rec,
        ita,
        hta,
    )
    return {"q2_rec": q2_rec, "ita_bin": ita, "hta_bin": hta}


def simulate(events: ak.Array, *, seed: int = 0, card: dict | None = None, first: int = 0) -> ak.Array:
    """Lab-frame B+ -> K+ (invisible) events plus ``q2_rec`` (GeV^2), ``ita_bin``, ``hta_bin``
    (``card``: a card dict of the layout of detector/data/belle2_card.yaml; None = packaged;
    ``first``: index of the first event in the run, i.e. of its detector stream)."""
    _check_events(events)
    k = events.K
    resp = None if card is None else load_response(cfg=card)
    cols = (events.q2_true, k.px, k.py, k.pz, k.E)
    out = emulate_columns(*(ak.to_numpy(x) for x in cols), seed=seed, first=first, resp=resp)
    from detector import with_fields

    return with_fields(events, out)
