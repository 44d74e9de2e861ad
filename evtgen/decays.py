"""The decay channels: B+ -> K+ phi phi, B0 -> K*0 phi phi, K+ -> pi+ phi phi, the
two-body B+ -> K+ X and K+ -> pi+ X, and the SM references B+ -> K+ nu nubar, K+ -> pi+ nu nubar.

A :class:`DecayChannel` ties a spectrum kind (``spectra``), a topology (``sampler``) and an
experiment frame (``frames``) together; it computes rates and generates events.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np

from . import constants as C
from . import formfactors as FF
from . import rng, sampler, spectra
from .errors import PhiphiError, check_finite
from .frames import frame_parameters

#: number of form-factor draws for a rate uncertainty (fixed seed: the error is reproducible)
N_FF_DRAWS = 300
FF_DRAW_SEED = 20240527


@dataclass(frozen=True)
class DecayRate:
    """Width and branching ratio of a decay channel at one model point."""

    channel: str
    mass_option: str | None
    mass: float | None
    couplings: dict[str, float]
    width: float  # GeV
    width_err: float  # GeV
    br: float
    br_err: float
    parent: str
    note: str = ""
    visible_fraction: float = 1.0  # fraction of the rate in the mode the events are generated in
    visible_mode: str = ""

    @property
    def br_visible(self) -> float:
        """BR of the mode the events hold (e.g. B0 -> K*0(-> K+ pi-) phi phi); ``br`` is the total."""
        return self.br * self.visible_fraction

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"channel": self.channel}
        if self.mass_option:
            d[self.mass_option] = self.mass
        d.update(
            couplings=dict(self.couplings),
            width_GeV=self.width,
            width_err_GeV=self.width_err,
            br=self.br,
            br_err=self.br_err,
            br_visible=self.br_visible,
            visible_fraction=self.visible_fraction,
            visible_mode=self.visible_mode,
            parent=self.parent,
            note=self.note,
        )
        return d

    def summary(self) -> str:
        lines = [f"channel      {self.channel}"]
        if self.mass_option:
            lines.append(f"{self.mass_option:<12} {self.mass:g} GeV")
        for k, v in self.couplings.items():
            lines.append(f"{k:<12} {v:g}")
        lines.append(f"width        {self.width:.4e} +- {self.width_err:.2e} GeV")
        lines.append(f"BR           {self.br:.4e} +- {self.br_err:.2e}")
        if self.visible_fraction != 1.0:
            lines.append(
                f"BR visible   {self.br_visible:.4e} ({self.visible_mode}: fraction {self.visible_fraction:.4g})"
            )
        if self.note:
            lines.append(f"note         {self.note}")
        return "\n".join(lines)


@dataclass(frozen=True)
class DecayChannel:
    """A decay channel: its particles, its coupling and its matrix element."""

    name: str
    description: str
    parent: str  # key of constants.PDG_IDS
    visible: str
    experiment: str  # frame of the "lab" option
    topology: int
    kind: int | None  # spectra kind (None for two-body)
    particles: tuple[str, ...]
    mass_option: str | None  # "mphi", "mx" or None
    couplings: dict[str, float] = field(default_factory=dict)  # name -> default
    coupling_unit: str = "GeV^-1"
    visible_fraction: str | None = None  # key in constants.yaml daughter_fractions (events in that mode)

    # --- masses and limits ---------------------------------------------------------
    @property
    def m_parent(self) -> float:
        return C.mass(self.parent)

    @property
    def m_visible(self) -> float:
        return C.mass(self.visible)

    def mass_limit(self) -> float:
        """Largest allowed m_phi (pair) or m_X (single) in GeV."""
        gap = self.m_parent - self.m_visible
        return gap / 2.0 if self.mass_option == "mphi" else gap

    def check_mass(self, mass: float | None) -> float:
        if self.mass_option is None:
            if mass is not None:
                raise PhiphiError(f"channel {self.name} takes no mass (got {mass!r})")
            return 0.0
        if mass is None:
            raise PhiphiError(f"channel {self.name} needs --{self.mass_option}")
        m = check_finite(self.mass_option, mass)
        limit = self.mass_limit()
        if m < 0.0:
            raise PhiphiError(f"{self.mass_option} = {m:g} GeV is negative")
        if m >= limit:
            what = "(m_parent - m_daughter)/2" if self.mass_option == "mphi" else "m_parent - m_daughter"
            raise PhiphiError(
                f"{self.mass_option} = {m:g} GeV is above the kinematic limit {limit:.5f} GeV = {what} for {self.name}"
            )
        return m

    def resolve_couplings(self, couplings: dict[str, float] | None) -> dict[str, float]:
        out = dict(self.couplings)
        for k, v in (couplings or {}).items():
            if k not in self.couplings:
                allowed = ", ".join(self.couplings) or "none"
                raise PhiphiError(f"unknown coupling {k!r} for channel {self.name} (allowed: {allowed})")
            out[k] = check_finite(k, v)
        if "br" in out and not 0.0 <= out["br"] <= 1.0:
            raise PhiphiError(f"br = {out['br']:g} is not a branching ratio in [0, 1]")
        return out

    # --- matrix element ------------------------------------------------------------
    def spectrum_par(self, mass: float, couplings: dict[str, float], ff: np.ndarray | None = None) -> np.ndarray:
        """Parameter array of :func:`spectra.dgamma_dq2` (``ff``: a form-factor draw)."""
        M, m = self.m_parent, self.m_visible
        pi3 = math.pi**3
        k = self.kind
        if k == spectra.SCALAR_BSZ:
            mq = C.value("quark_masses", "m_b") - C.value("quark_masses", "m_s")
            norm = couplings["CS_sb"] ** 2 * ((M * M - m * m) / mq) ** 2 / (512 * pi3 * M**3)
            ffp = FF.bk_params("f0", ff)
        elif k == spectra.SCALAR_KPI:
            mq = C.value("quark_masses", "m_s") - C.value("quark_masses", "m_d")
            norm = couplings["CS_sd"] ** 2 * ((M * M - m * m) / mq) ** 2 / (512 * pi3 * M**3)
            ffp = FF.kpi_f0_params(ff)
        elif k == spectra.PSEUDO_BSZ:
            mq = C.value("quark_masses", "m_b") + C.value("quark_masses", "m_s")
            norm = couplings["CP_sb"] ** 2 / (512 * pi3 * M**3 * mq**2)
            ffp = FF.bkstar_a0_params(ff)
        elif k == spectra.VECTOR_BSZ:
            # dGamma/dq2 = G_F^2 alpha^2 X_t^2 |VtbVts|^2/(32 pi^5 sW^4) |p_K|^3 f+^2, |p_K| = lambda^1/2/(2M)
            g = {key: C.value("bknunu_sm", key) for key in ("G_F", "alpha_inv", "X_t", "sin2_theta_W", "Vtb_Vts")}
            pref = (
                g["G_F"] ** 2
                * g["alpha_inv"] ** -2
                * g["X_t"] ** 2
                * g["Vtb_Vts"] ** 2
                / (32 * math.pi**5 * g["sin2_theta_W"] ** 2)
            )
            norm = pref / (8.0 * M**3)
            ffp = FF.bk_params("f+", ff)
        elif k == spectra.VECTOR_QUAD:
            mpi2 = C.mass("pi+") ** 2
            ffp = np.array([mpi2, C.value("kpinunu_sm", "lambda_plus_1"), C.value("kpinunu_sm", "lambda_plus_2")])
            shape = np.concatenate([[M, m, 0.0, 1.0], ffp])
            norm = C.value("kpinunu_sm", "br_sm") * C.total_width(self.parent) / spectra.integrate(k, shape)
        else:
            raise AssertionError(k)
        minv = 0.0 if k in (spectra.VECTOR_BSZ, spectra.VECTOR_QUAD) else mass
        return np.concatenate([[M, m, minv, norm], ffp])

    def ff_draws(self) -> list:
        """The form-factor draws (``N_FF_DRAWS`` of the published covariance, seed ``FF_DRAW_SEED``)
        behind the rate errors; empty for channels without a form-factor uncertainty."""
        gen = np.random.default_rng(FF_DRAW_SEED)
        if self.kind in (spectra.SCALAR_BSZ, spectra.VECTOR_BSZ):
            return list(FF.grvdv2023_bk().sample(gen, N_FF_DRAWS))
        if self.kind == spectra.PSEUDO_BSZ:
            return list(FF.bsz2015_bkstar_a0().sample(gen, N_FF_DRAWS))
        if self.kind == spectra.SCALAR_KPI:
            return FF.sample_kpi_values(gen, N_FF_DRAWS)
        return []

    def spectrum(self, q2, *, mass: float | None = None, couplings: dict[str, float] | None = None) -> np.ndarray:
        """dGamma/dq2 in GeV^-1 at the given q2 values (GeV^2)."""
        if self.topology == sampler.TWO_BODY:
            raise PhiphiError(f"channel {self.name} is two-body: it has no q2 spectrum")
        m = self.check_mass(mass)
        par = self.spectrum_par(m, self.resolve_couplings(couplings))
        q2 = np.atleast_1d(np.asarray(q2, dtype=np.float64))
        return spectra.dgamma_dq2_array(self.kind, q2.ravel(), par).reshape(q2.shape)

    def q2_limits(self, mass: float | None) -> tuple[float, float]:
        m = self.check_mass(mass)
        if self.topology == sampler.TWO_BODY:
            return m * m, m * m
        minv = 0.0 if self.kind in (spectra.VECTOR_BSZ, spectra.VECTOR_QUAD) else m
        return 4 * minv * minv, (self.m_parent - self.m_visible) ** 2

    # --- rates ----------------------------------------------------------------------
    def rate(
        self, *, mass: float | None = None, couplings: dict[str, float] | None = None, options: dict | None = None
    ) -> DecayRate:
        """Width and BR at one point (cached per process: every ``evtgen.generate`` asks for it,
        and the 300 form-factor draws of its error cost ~15 ms)."""
        m = self.check_mass(mass)
        cpl = self.resolve_couplings(couplings)
        r = _rate_cached(self.name, m, tuple(cpl.items()))
        return dataclasses.replace(r, couplings=dict(r.couplings))

    def _rate(self, m: float, cpl: dict[str, float]) -> DecayRate:
        gamma_parent = C.total_width(self.parent)
        note = ""
        if self.topology == sampler.TWO_BODY:
            br, br_err = cpl["br"], 0.0
            width, width_err = br * gamma_parent, 0.0
            note = "two-body: the branching ratio is the input"
        elif self.kind == spectra.VECTOR_QUAD:
            br = C.value("kpinunu_sm", "br_sm")
            br_err = float(C.load_yaml("constants.yaml")["kpinunu_sm"]["br_sm"]["error"])
            width, width_err = br * gamma_parent, br_err * gamma_parent
            note = "normalised to the SM prediction " + C.load_yaml("constants.yaml")["kpinunu_sm"]["br_sm"]["source"]
        else:
            width = spectra.integrate(self.kind, self.spectrum_par(m, cpl))
            draws = [spectra.integrate(self.kind, self.spectrum_par(m, cpl, ff)) for ff in self.ff_draws()]
            width_err = float(np.std(draws, ddof=1)) if draws else 0.0
            br, br_err = width / gamma_parent, width_err / gamma_parent
            note = f"form-factor uncertainty from {len(draws)} draws of the published covariance"
        fraction, mode = 1.0, ""
        if self.visible_fraction:
            fraction = C.value("daughter_fractions", self.visible_fraction)
            mode = self.visible_fraction
            note += f"; br is the total rate, br_visible = br x {fraction:.4g} ({mode}) is the mode every event is in"
        return DecayRate(
            self.name,
            self.mass_option,
            m if self.mass_option else None,
            cpl,
            width,
            width_err,
            br,
            br_err,
            self.parent,
            note,
            fraction,
            mode,
        )

    # --- events ---------------------------------------------------------------------
    def generate_block(
        self,
        first: int,
        n: int,
        *,
        key: np.ndarray,
        mass: float | None,
        couplings: dict[str, float] | None,
        frame: str = "lab",
        allocate: Callable[[tuple[int, ...], Any], np.ndarray] = np.empty,
    ) -> dict[str, np.ndarray]:
        """Events first..first+n-1 of the run with key ``key`` as a dict of numpy arrays.

        Keys: "<particle>_<px|py|pz|E>", "q2_true" and, for kaons in the lab frame,
        "vtx_x", "vtx_y", "vtx_z" (m). ``allocate(shape, dtype)`` gives the (uninitialised)
        output arrays: numpy.empty, or :meth:`OutputPool.empty` to reuse released memory.
        """
        m = self.check_mass(mass)
        cpl = self.resolve_couplings(couplings)
        code, fpar = frame_parameters(self.experiment, frame, self.parent)
        masses = [self.m_parent, self.m_visible, m]
        if self.topology == sampler.KSTAR_PAIR:
            masses += [C.mass("K+"), C.mass("pi+")]
        masses = np.array(masses)
        if self.topology == sampler.TWO_BODY:
            kind, par = 0, np.zeros(spectra.FF_OFFSET + FF.BSZ_NPAR)
            edges = heights = np.zeros(2)
        else:
            kind = self.kind
            par = self.spectrum_par(m, cpl)
            if par[3] <= 0.0:
                raise PhiphiError(f"the coupling of {self.name} is zero: no events to generate")
            lo, hi = self.q2_limits(mass)
            edges, heights = sampler.build_envelope(kind, par, lo, hi)
        out = allocate((len(self.particles), 4, n), np.float64)
        q2 = allocate((n,), np.float64)
        na62_lab = self.experiment == "na62" and frame == "lab"
        vtx = allocate((3, n if na62_lab else 1), np.float64)  # written only for kaons in the lab
        bad = allocate((n,), np.int8)  # the kernel writes every entry except for two-body decays
        if self.topology == sampler.TWO_BODY:
            bad[:] = 0
        sampler.generate_kernel(
            self.topology,
            kind,
            par,
            masses,
            edges,
            heights,
            code,
            fpar,
            key[0],
            key[1],
            first,
            n,
            out,
            q2,
            vtx,
            bad,
        )
        nbad = int(np.count_nonzero(bad))
        del bad
        if nbad:
            raise RuntimeError(f"{nbad} q2 points above the sampling envelope for {self.name}: envelope too tight")
        cols: dict[str, np.ndarray] = {}
        for j, p in enumerate(self.particles):
            for c, comp in enumerate(("px", "py", "pz", "E")):
                cols[f"{p}_{comp}"] = out[j, c]
        cols["q2_true"] = q2
        if na62_lab:
            cols["vtx_x"], cols["vtx_y"], cols["vtx_z"] = vtx[0], vtx[1], vtx[2]
        return cols

    def generate(
        self,
        n: int,
        *,
        mass: float | None = None,
        couplings: dict[str, float] | None = None,
        seed: int | None = None,
        frame: str = "lab",
        options: dict | None = None,
        pool: OutputPool | None = None,
    ) -> ak.Array:
        """``n`` unweighted events as awkward records; with ``pool`` the output arrays come from
        memory the caller's :class:`OutputPool` got back from earlier results (a loop over chunks
        that drops each result before the next call skips the page faults of fresh memory)."""
        from .events import to_awkward

        key = rng.derive_key(seed)
        allocate = np.empty if pool is None else pool.empty
        cols = self.generate_block(0, n, key=key, mass=mass, couplings=couplings, frame=frame, allocate=allocate)
        return to_awkward(cols, self.particles)


class _Lease:
    # numpy arrays made from a lease (np.asarray) keep it alive through their base; when the last
    # of them is gone, the lease dies and its finalizer hands the memory back to the pool
    __slots__ = ("raw", "__array_interface__", "__weakref__")

    def __init__(self, raw: np.ndarray) -> None:
        self.raw = raw
        self.__array_interface__ = raw.__array_interface__


class OutputPool:
    """Output arrays of :meth:`DecayChannel.generate` (``pool=``) whose memory is reused once
    every array made from it (the awkward record's columns, any view of them) has been released.
    The caller owns the pool (there is no process-wide one): memory it keeps is the caller's.

    Why: a fresh array of 10^6 events is 136 MB of new pages, which the OS faults in and zeroes
    before the kernel writes them: ~20% of a B+ -> K+ phi phi event (benchmarks/bench_evtgen.py).
    Reused memory is already mapped. At most ``max_free_bytes`` of released memory is kept (the
    oldest is freed first), so a loop over chunks of one size runs on the same few buffers and a
    program that keeps its events allocates as before. The contents of a reused array are stale
    (like numpy.empty): every caller overwrites all of it."""

    def __init__(self, max_free_bytes: int = 1 << 30) -> None:
        self.max_free_bytes = int(max_free_bytes)
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()

    def empty(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """An uninitialised array (like numpy.empty), from released memory when some fits exactly."""
        shape, dtype = tuple(int(k) for k in shape), np.dtype(dtype)
        raw = None
        with self._lock:
            for i, a in enumerate(self._free):
                if a.shape == shape and a.dtype == dtype:
                    raw = self._free.pop(i)
                    break
        if raw is None:
            raw = np.empty(shape, dtype)
        lease = _Lease(raw)
        weakref.finalize(lease, self._release, raw)
        return np.asarray(lease)

    def _release(self, raw: np.ndarray) -> None:
        with self._lock:
            self._free.append(raw)
            total = sum(a.nbytes for a in self._free)
            while self._free and total > self.max_free_bytes:
                total -= self._free.pop(0).nbytes

    def free_bytes(self) -> int:
        """Bytes of released memory held for reuse."""
        with self._lock:
            return sum(a.nbytes for a in self._free)


@functools.lru_cache(maxsize=1024)
def _rate_cached(name: str, mass: float, couplings: tuple[tuple[str, float], ...]) -> DecayRate:
    return DECAY_CHANNELS[name]._rate(mass, dict(couplings))


#: registry names of topologies and spectra -> sampler / spectra codes
TOPOLOGIES = {
    "scalar_pair": sampler.SCALAR_PAIR,
    "kstar_pair": sampler.KSTAR_PAIR,
    "neutrino_pair": sampler.NEUTRINO_PAIR,
    "two_body": sampler.TWO_BODY,
}
SPECTRA = {
    "scalar_bsz": spectra.SCALAR_BSZ,
    "pseudo_bsz": spectra.PSEUDO_BSZ,
    "scalar_kpi": spectra.SCALAR_KPI,
    "vector_bsz": spectra.VECTOR_BSZ,
    "vector_quad": spectra.VECTOR_QUAD,
}


def _channels() -> dict[str, DecayChannel]:
    """One DecayChannel per decay row of the registry (evtgen.channels.ROWS)."""
    from .channels import ROWS
    from .couplings import COUPLINGS

    out = {}
    for name, r in ROWS.items():
        if r.kind != "decay":
            continue
        unit = COUPLINGS[next(iter(r.couplings))].unit if r.couplings else "GeV^-1"
        out[name] = DecayChannel(
            name,
            r.description,
            r.parent,
            r.visible,
            r.experiment,
            TOPOLOGIES[r.topology],
            SPECTRA[r.spectrum] if r.spectrum else None,
            r.particles,
            r.mass_option,
            dict(r.couplings),
            unit,
            r.visible_fraction,
        )
    return out


DECAY_CHANNELS: dict[str, DecayChannel] = _channels()
