"""Channel classes ``pp2jphiphi`` and ``pp2js`` (registered in :mod:`evtgen.channels`).

``pp2jphiphi``: pp → j + φφ at the 13 TeV LHC through ½ C^{S,qq} (q̄q) φ² (``CS_uu`` … ``CS_bb``,
GeV⁻¹) and (C_Gφ/Λ²) G G φ² (``CG``, GeV⁻²), any combination at once.
``pp2js``: pp → j + S, one invisible scalar of mass ``--ms`` with L = −y S q̄q (``CS_qq`` = y,
dimensionless) and L = c S G G (``CG`` = c, GeV⁻¹): the 2→2 kernel of pp2jphiphi on its own.

Both: LO, NNPDF2.3 QCD+QED LO by default (``options['pdf']`` for another LHAPDF set), parton
p_T > ``ptj_min`` (150 GeV), scale H_T/2 (``scale='pythia'``: Pythia 8's 2→2 default), 7-point
scale variation as the uncertainty. No interference between the gluon and the quark operators
(massless quarks: different chirality structure) nor between quark flavours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import awkward as ak

from evtgen import rng
from evtgen.errors import PhiphiError, check_positive_int
from evtgen.monojet import generator as G


@dataclass
class MonojetRate:
    """Cross section of an LHC channel at one model point (pb), with its errors and scale variation."""

    channel: str
    mass_name: str
    mass: float
    couplings: dict
    sigma_pb: float
    sigma_err_pb: float
    scale_up_pb: float
    scale_down_pb: float
    variations_pb: list
    pdf: str
    alphas_mz: float
    scale: str
    ptj_min: float
    sqrt_s: float
    chi2_dof: float
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {
            "channel": self.channel,
            self.mass_name: self.mass,
            "couplings": dict(self.couplings),
            "sigma_pb": self.sigma_pb,
            "sigma_err_pb": self.sigma_err_pb,
            "scale_up_pb": self.scale_up_pb,
            "scale_down_pb": self.scale_down_pb,
            "scale_variations_pb": list(self.variations_pb),
            "scale_variation_factors": "(muR,muF) = (1,1),(2,2),(.5,.5),(2,1),(1,2),(.5,1),(1,.5)",
            "pdf": self.pdf,
            "alphas_mz": self.alphas_mz,
            "alphas_running": "1-loop, thresholds m_c=1.5, m_b=4.8, m_t=171 GeV (Pythia 8 defaults)",
            "scale": self.scale,
            "scale_definition": (
                "muF^2 = pT^2, muR^2 = pT*sqrt(pT^2+m^2) (Pythia 8 2->2 default)"
                if self.scale == "pythia"
                else "muR = muF = H_T/2 = (pT + sqrt(pT^2 + m^2))/2"
            ),
            "ptj_min_GeV": self.ptj_min,
            "sqrt_s_GeV": self.sqrt_s,
            "vegas_chi2_dof": self.chi2_dof,
        }
        d.update(self.extra)
        return d

    def summary(self) -> str:
        cpl = ", ".join(f"{k}={v:g}" for k, v in self.couplings.items() if v)
        up = self.scale_up_pb - self.sigma_pb
        dn = self.sigma_pb - self.scale_down_pb
        return "\n".join(
            [
                f"{self.channel} at sqrt(s) = {self.sqrt_s / 1000:g} TeV, {self.mass_name} = {self.mass:g} GeV, {cpl}",
                f"  sigma = {self.sigma_pb:.5g} +- {self.sigma_err_pb:.2g} (MC) +{up:.3g} -{dn:.3g} (scale) pb",
                f"  parton pT > {self.ptj_min:g} GeV; PDF {self.pdf} (alpha_s(MZ) = {self.alphas_mz}, LO running);"
                f" scale: {self.as_dict()['scale_definition']}",
            ]
        )


def _vegas_seed() -> int:
    return int(G.config()["integration"].get("seed", 20210210))


@lru_cache(maxsize=32)
def _vegas_cached(mode, mass, cpl_items, opt_items):
    """(setup, VEGAS integration) of a model point: all that a cross section needs."""
    setup = G.make_setup(mode, mass, dict(cpl_items), dict(opt_items))
    return setup, G.integrate_vegas(setup, seed=_vegas_seed(), options=dict(opt_items))


@lru_cache(maxsize=32)
def _integrate_cached(mode, mass, cpl_items, opt_items):
    """(setup, VEGAS integration with the unweighting cell maxima): what event generation needs.
    The cell scan is done only when events are asked for (a rate needs none of it)."""
    setup, integ = _vegas_cached(mode, mass, cpl_items, opt_items)
    return setup, G.add_unweighting(setup, integ, seed=_vegas_seed(), options=dict(opt_items))


def _key_opts(options: dict | None) -> tuple:
    keep = (
        "ptj_min",
        "scale",
        "pdf",
        "alphas_mz",
        "sqrt_s",
        "vegas_points",
        "vegas_warmup_points",
        "vegas_iterations",
        "vegas_wmax_points",
        "cell_scan",
        "cells_per_dim",
    )
    return tuple(sorted((k, v) for k, v in (options or {}).items() if k in keep and v is not None))


class _Monojet:
    mode = "phiphi"
    name = ""
    description = ""
    mass_option = "mphi"
    couplings = {"CG": 0.0, "CS_uu": 0.0, "CS_dd": 0.0, "CS_ss": 0.0, "CS_cc": 0.0, "CS_bb": 0.0}
    particles: tuple = ()

    def _key(self, mass, couplings, options):
        if not couplings or all(float(v) == 0 for v in couplings.values()):
            raise PhiphiError(
                f"{self.name} needs a non-zero coupling: --coupling NAME=VALUE with NAME in {', '.join(self.couplings)}"
            )
        for k in couplings:
            if k not in self.couplings:
                raise PhiphiError(f"unknown coupling {k!r} for {self.name} (known: {', '.join(self.couplings)})")
        cpl = tuple(sorted((k, float(v)) for k, v in couplings.items()))
        if mass is None:
            raise PhiphiError(f"{self.name} needs --{self.mass_option}")
        return self.mode, float(mass), cpl, _key_opts(options)

    def _prepare(self, mass, couplings, options):
        """(setup, integration with the unweighting tables) of a model point (cached)."""
        return _integrate_cached(*self._key(mass, couplings, options))

    def resolve_couplings(self, couplings):
        return {k: float(v) for k, v in (couplings or {}).items()}

    def rate(self, *, mass, couplings, options=None) -> MonojetRate:
        # VEGAS only: the unweighting maxima (w_max) are in the generation statistics instead
        setup, integ = _vegas_cached(*self._key(mass, couplings, options))
        return MonojetRate(
            channel=self.name,
            mass_name=self.mass_option,
            mass=float(mass),
            couplings={k: v for k, v in setup.couplings.items() if v},
            sigma_pb=integ.sigma_pb,
            sigma_err_pb=integ.sigma_err_pb,
            scale_up_pb=integ.scale_up_pb,
            scale_down_pb=integ.scale_down_pb,
            variations_pb=[float(v) for v in integ.variations_pb],
            pdf=setup.pdf.name,
            alphas_mz=setup.pdf.alphas_mz,
            scale=setup.scale,
            ptj_min=setup.ptj_min,
            sqrt_s=setup.sqrt_s,
            chi2_dof=integ.chi2_dof,
            extra={"pdf_file": setup.pdf.path, "beams": [2212, 2212]},
        )

    def generate(self, n, *, mass, couplings, seed=None, frame="lab", options=None) -> ak.Array:
        n = check_positive_int("n", n)
        if frame not in (None, "lab"):
            raise PhiphiError(f"frame {frame!r}: {self.name} events exist only in the lab (pp centre-of-mass) frame")
        setup, integ = self._prepare(mass, couplings, options)
        key = rng.derive_key(seed)
        chunk = (options or {}).get("trial_chunk")
        cols, stats = G.generate(setup, integ, n, key, chunk=chunk)
        ev = G.to_awkward(setup, cols)
        return ev

    def generate_chunks(self, n, *, mass, couplings, seed=None, options=None, chunk_size: int = 1 << 18):
        """The events of :meth:`generate` (same seed: identical events) as chunks of at most
        ``chunk_size`` events, so a single-file production of any ``n`` needs the memory of
        one chunk. Trial ``i`` uses the stream (key, i) and the events are the accepted trials
        in order (an overweight trial may give several), so each chunk resumes where the last one
        stopped (``next_trial``, ``next_copy`` of the generation statistics)."""
        n = check_positive_int("n", n)
        chunk_size = check_positive_int("chunk_size", chunk_size)
        setup, integ = self._prepare(mass, couplings, options)
        key = rng.derive_key(seed)
        first_trial, first_copy = 0, 0
        for start in range(0, n, chunk_size):
            m = min(chunk_size, n - start)
            cols, stats = G.generate(
                setup,
                integ,
                m,
                key,
                chunk=(options or {}).get("trial_chunk"),
                first_trial=first_trial,
                first_copy=first_copy,
            )
            first_trial, first_copy = stats["next_trial"], stats["next_copy"]
            yield G.to_awkward(setup, cols)

    def generate_with_stats(self, n, *, mass, couplings, seed=None, options=None):
        """(events, rate, generation statistics) — used by the analyses and the benchmark."""
        setup, integ = self._prepare(mass, couplings, options)
        cols, stats = G.generate(
            setup, integ, check_positive_int("n", n), rng.derive_key(seed), chunk=(options or {}).get("trial_chunk")
        )
        return G.to_awkward(setup, cols), self.rate(mass=mass, couplings=couplings, options=options), stats


class PP2JPhiPhi(_Monojet):
    """pp -> j phi phi at 13 TeV through the quark and gluon contact operators."""

    mode = "phiphi"
    name = "pp2jphiphi"
    description = (
        "pp -> j phi phi at 13 TeV, LO, contact operators 1/2 C^S_qq (qbar q) phi^2 [GeV^-1] "
        "and C_G/Lambda^2 G G phi^2 [GeV^-2]"
    )
    mass_option = "mphi"
    particles = ("j", "phi1", "phi2")


class PP2JS(_Monojet):
    """pp -> j S at 13 TeV with one invisible scalar S (Yukawa and gluon couplings)."""

    mode = "S"
    name = "pp2js"
    description = "pp -> j S at 13 TeV, LO, L = -y S qbar q (CS_qq = y) and c S G G (CG = c [GeV^-1])"
    mass_option = "ms"
    particles = ("j", "S")


__all__ = ["PP2JPhiPhi", "PP2JS", "MonojetRate"]
