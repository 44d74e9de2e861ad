"""Channel class ``pp2vlq``: the LHC side of the t-channel UV model (same interface as
:mod:`evtgen.monojet.channel`: ``rate``, ``generate``, ``generate_with_stats``).

pp → jets + φφ at 13 TeV, LO, from the process groups of :mod:`evtgen.vlq.generator`
(Qphi, Dphi: q g → Q φ / D φ with Q → q φ; QQ, DD, QD: heavy pairs → q q̄ φφ; jphiphi: the
non-resonant t-channel q g → q φφ, q q̄ → g φφ with p_T(j) > ``ptj_min``, resonant region
|m(jφ) − M| < ``window``·Γ removed). ``mass`` = m_φ (GeV).

UV parameters: the option ``uv`` — a :class:`evtgen.models.tchannel.TChannelPoint`, or
``ModelPoint.uv`` as :func:`evtgen.modelfile.load_model` builds it from a ``tchannel-vlq`` model
file (three generations, complex Yukawas), or its ``parameters`` mapping — or, legacy, the flat
names :data:`evtgen.vlq.uv.UV_NAMES` as ``couplings`` or ``options`` (mQ, mD in GeV, yq_d, yq_s,
yd_d, yd_s, y1, y2: first two generations, real). Other options: ``groups`` (comma list or tuple, default all), ``scale`` (default: H_T/2 of
the 2→2 final state, ``pythia``: Pythia 8's 2→2 default), ``ptj_min``, ``window``, ``pdf``,
``alphas_mz``, ``sqrt_s``, ``vegas_points``, ``vegas_iterations``, ``widths_in_propagators``.

Events (awkward records): ``jets`` (the final-state partons as parton-level jets, Momentum4D,
jagged; read by :func:`detector.atlas.simulate` like showered jets), ``parton_id`` (jagged),
``phi1``, ``phi2``, ``met_true_x``/``met_true_y`` (= the φφ transverse momentum), ``heavy1``,
``heavy2`` (the on-shell heavy mass eigenstates U, D1, D2 of :data:`evtgen.vlq.uv.HEAVY`; zero
vectors when absent) with ``heavy1_id``, ``heavy2_id``,
``id1``, ``id2``, ``shat``, ``x1``, ``x2``, ``scale``, ``alphas``, ``group`` (index into
the set-up's sub-groups, in the order of the rate's ``groups``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import awkward as ak
import numpy as np
import vector

from evtgen import rng
from evtgen.errors import PhiphiError, check_positive_int
from evtgen.models import tchannel as T
from evtgen.vlq import generator as G
from evtgen.vlq.uv import HEAVY, UV_NAMES, as_tchannel_point, matched_C, point_from_inputs

vector.register_awkward()

_OPTION_KEYS = (
    "scale",
    "ptj_min",
    "window",
    "pdf",
    "alphas_mz",
    "sqrt_s",
    "vegas_points",
    "vegas_iterations",
    "vegas_warmup",
    "safety",
)


@dataclass
class VLQRate:
    """Cross sections (pb) of the UV model at one point, per process group and in total."""

    channel: str
    mphi: float
    uv: dict
    sigma_pb: float
    sigma_err_pb: float
    scale_up_pb: float
    scale_down_pb: float
    groups: dict
    widths_GeV: dict
    matched_eft: dict
    pdf: str
    alphas_mz: float
    scale: str
    sqrt_s: float
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {
            "channel": self.channel,
            "mphi": self.mphi,
            "uv": dict(self.uv),
            "sigma_pb": self.sigma_pb,
            "sigma_err_pb": self.sigma_err_pb,
            "scale_up_pb": self.scale_up_pb,
            "scale_down_pb": self.scale_down_pb,
            "groups": self.groups,
            "widths_GeV": self.widths_GeV,
            "matched_eft_GeV-1": self.matched_eft,
            "pdf": self.pdf,
            "alphas_mz": self.alphas_mz,
            "scale": self.scale,
            "sqrt_s_GeV": self.sqrt_s,
        }
        d.update(self.extra)
        return d

    def summary(self) -> str:
        lines = [f"pp2vlq at sqrt(s) = {self.sqrt_s / 1000:g} TeV, mphi = {self.mphi:g} GeV, {self.uv}"]
        lines.append(f"  sigma = {self.sigma_pb:.5g} +- {self.sigma_err_pb:.2g} (MC) pb")
        for k, v in self.groups.items():
            lines.append(f"    {k:8s} {v['sigma_pb']:.5g} +- {v['sigma_err_pb']:.2g} pb")
        return "\n".join(lines)


def split_parameters(couplings: dict | None, options: dict | None) -> tuple[dict, dict]:
    """(legacy flat UV parameters, generator options incl. ``uv``) from couplings and/or options."""
    uvp, opts = {}, {}
    for k, v in (couplings or {}).items():
        if k not in UV_NAMES:
            raise PhiphiError(
                f"unknown pp2vlq parameter {k!r}; known: {', '.join(UV_NAMES)} (or a UV point as option uv)"
            )
        uvp[k] = float(v)
    for k, v in (options or {}).items():
        if k in UV_NAMES:
            uvp[k] = float(v)
        elif v is not None:
            opts[k] = v
    return uvp, opts


def _groups(opts: dict) -> tuple:
    g = opts.get("groups")
    if g is None:
        return G.GROUPS
    if isinstance(g, str):
        g = tuple(x.strip() for x in g.split(",") if x.strip())
    return tuple(g)


@lru_cache(maxsize=16)
def _setup_cached(uv: T.TChannelPoint, opt_items: tuple, groups: tuple):
    st = G.make_setup(uv, dict(opt_items), groups=groups)
    return G.integrate(st)


def uv_point_of(point) -> T.TChannelPoint:
    """The generator's UV point of a :class:`evtgen.model.ModelPoint` (``point.uv``, as written by
    :func:`evtgen.modelfile.load_model` for a ``tchannel-vlq`` file)."""
    return as_tchannel_point(point)


class PP2VLQ:
    """pp -> jets + phi phi of the t-channel vector-like-quark model (registry row ``pp2vlq``)."""

    name = "pp2vlq"
    description = "pp -> jets + phi phi at 13 TeV, LO, t-channel vector-like-quark UV model (Q, D, phi)"
    mass_option = "mphi"
    couplings: dict = {}
    particles = ("jets", "phi1", "phi2")

    def _prepare(self, mass, couplings, options):
        uvp, opts = split_parameters(couplings, options)
        uv = point_from_inputs(opts.pop("uv", None), uvp, mass)
        groups = _groups(opts)
        keep = {k: opts[k] for k in _OPTION_KEYS if k in opts}
        if "widths_in_propagators" in opts:
            keep["widths_in_propagators"] = bool(opts["widths_in_propagators"])
        st = _setup_cached(uv, tuple(sorted(keep.items())), groups)
        if not st.groups:
            raise PhiphiError("no open process group for this point (all couplings zero or masses above sqrt(s))")
        return st

    def rate(self, *, mass, couplings=None, options=None) -> VLQRate:
        st = self._prepare(mass, couplings, options)
        sig = sum(g.sigma_pb for g in st.groups)
        err = float(np.sqrt(sum(g.sigma_err_pb**2 for g in st.groups)))
        var = np.sum([g.variations_pb for g in st.groups], axis=0)
        uv = st.uv
        fam: dict = {}
        for g in st.groups:
            f = fam.setdefault(g.family, {"sigma_pb": 0.0, "sigma_err_pb": 0.0})
            f["sigma_pb"] += g.sigma_pb
            f["sigma_err_pb"] = float(np.hypot(f["sigma_err_pb"], g.sigma_err_pb))
        return VLQRate(
            channel=self.name,
            mphi=uv.m_phi,
            uv=uv.as_dict(),
            sigma_pb=float(sig),
            sigma_err_pb=err,
            scale_up_pb=float(var.max()),
            scale_down_pb=float(var.min()),
            groups={
                g.name: {
                    "sigma_pb": g.sigma_pb,
                    "sigma_err_pb": g.sigma_err_pb,
                    "scale_up_pb": float(g.variations_pb.max()),
                    "scale_down_pb": float(g.variations_pb.min()),
                    "vegas_chi2_dof": g.chi2_dof,
                    "family": g.family,
                }
                for g in st.groups
            },
            widths_GeV={name: float(w) for (name, _, _), w in zip(HEAVY, st.widths)},
            matched_eft={k: v for k, v in matched_C(uv).items() if v != 0.0},
            pdf=st.pdf.name,
            alphas_mz=st.pdf.alphas_mz,
            scale=st.options["scale"],
            sqrt_s=float(st.options["sqrt_s"]),
            extra={
                "beams": [2212, 2212],
                "families": fam,
                "heavy_masses_GeV": {name: float(m) for (name, _, _), m in zip(HEAVY, st.mass)},
                "ptj_min_GeV (jphiphi)": float(st.options["ptj_min"]),
                "resonance_window (jphiphi)": f"|m(j phi) - M| > {st.options['window']} Gamma",
                "scale_variation": "7-point (muR, muF) for the 2->2 groups; none for jphiphi",
            },
        )

    def generate_with_stats(self, n, *, mass, couplings=None, seed=None, options=None):
        """(events, rate, statistics): events from all groups, numbers per group ∝ σ (multinomial)."""
        n = check_positive_int("n", n)
        st = self._prepare(mass, couplings, options)
        seed = rng.resolve_seed(seed)
        sig = np.array([g.sigma_pb for g in st.groups])
        if not np.any(sig > 0):
            raise PhiphiError("the cross section is zero for this point: no events to generate")
        gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1207])))
        counts = gen.multinomial(n, sig / sig.sum())
        recs, stats = [], {}
        for ig, (g, k) in enumerate(zip(st.groups, counts)):
            if k == 0:
                continue
            key = np.random.SeedSequence([seed, 1208, ig]).generate_state(2, dtype=np.uint64)
            rec, s = G.generate_group(st, g, int(k), key)
            rec["group"] = np.full(int(k), ig, dtype=np.int64)
            recs.append(rec)
            stats[g.name] = s
        ev = _to_awkward(recs)
        perm = gen.permutation(len(ev))
        return ev[perm], self.rate(mass=mass, couplings=couplings, options=options), stats

    def generate(self, n, *, mass, couplings=None, seed=None, frame="lab", options=None) -> ak.Array:
        if frame not in (None, "lab"):
            raise PhiphiError(f"frame {frame!r}: pp2vlq events exist only in the lab frame")
        return self.generate_with_stats(n, mass=mass, couplings=couplings, seed=seed, options=options)[0]

    def write_lhe(self, path, chunks, metadata: dict):
        """Write generated chunks to an LHE file with the heavy quarks as intermediate resonances
        (what ``phiphi generate pp2vlq -o FILE.lhe`` calls; the shower declares U, D1, D2)."""
        from .lhe import write_lhe

        chunks = list(chunks)
        events = chunks[0] if len(chunks) == 1 else ak.concatenate(chunks)
        return write_lhe(path, events, metadata, resonances=True)

    def resolve_couplings(self, couplings):
        return {k: float(v) for k, v in (couplings or {}).items()}


def _mom(a: np.ndarray) -> ak.Array:
    return ak.zip({"px": a[0], "py": a[1], "pz": a[2], "E": a[3]}, with_name="Momentum4D")


def _to_awkward(recs: list[dict]) -> ak.Array:
    """One record array from the per-group event records (jagged parton lists)."""
    parts = []
    for rec in recs:
        n = rec["phi1"].shape[1]
        npart = len(rec["partons"])
        px = np.stack([p[0][0] for p in rec["partons"]], axis=1).ravel()
        py = np.stack([p[0][1] for p in rec["partons"]], axis=1).ravel()
        pz = np.stack([p[0][2] for p in rec["partons"]], axis=1).ravel()
        e = np.stack([p[0][3] for p in rec["partons"]], axis=1).ravel()
        pid = np.stack([p[1] for p in rec["partons"]], axis=1).ravel()
        off = np.arange(n + 1) * npart
        jets = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": e}, with_name="Momentum4D"), np.diff(off))
        phi = rec["phi1"] + rec["phi2"]
        parts.append(
            ak.zip(
                {
                    "jets": jets,
                    "parton_id": ak.unflatten(pid, np.diff(off)),
                    "phi1": _mom(rec["phi1"]),
                    "phi2": _mom(rec["phi2"]),
                    "met_true_x": phi[0],
                    "met_true_y": phi[1],
                    "heavy1": _mom(rec["heavy"][0][0]),
                    "heavy2": _mom(rec["heavy"][1][0]),
                    "heavy1_id": rec["heavy"][0][1],
                    "heavy2_id": rec["heavy"][1][1],
                    "id1": rec["id1"],
                    "id2": rec["id2"],
                    "shat": rec["shat"],
                    "x1": rec["x1"],
                    "x2": rec["x2"],
                    "scale": rec["scale"],
                    "alphas": rec["alphas"],
                    "group": rec["group"],
                },
                depth_limit=1,
            )
        )
    return ak.concatenate(parts) if len(parts) > 1 else parts[0]


__all__ = ["PP2VLQ", "VLQRate", "split_parameters", "uv_point_of"]
