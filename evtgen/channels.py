"""The channel registry: one row per channel, pure data (no numba import), so that
validation and the CLI help read it cheaply.

A row names the particles, the mass the channel takes, its couplings with defaults, the
options it accepts, the experiment whose frame ``--frame lab`` means, and where its
implementation lives (``"module:attribute"``). Decay rows also name the topology and the
spectrum (matrix element) the sampler uses; a new decay channel is one row here plus, if
it is a new matrix element, one spectrum kind in :mod:`evtgen.spectra`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from .errors import PhiphiError, check_finite

#: options of the LHC generators (``--ptj-min`` ...)
LHC_OPTIONS = ("ptj_min", "scale", "pdf", "alphas_mz")


@dataclass(frozen=True)
class ChannelRow:
    """One channel of the registry."""

    name: str
    description: str
    implementation: str  # "module:attribute"
    mass_option: str | None  # "mphi", "mx", "ms" or None
    couplings: dict[str, float] = field(default_factory=dict)  # name -> default (project 1/2 convention)
    options: tuple[str, ...] = ()
    parent: str | None = None  # decays: key of evtgen.constants.PDG_IDS
    visible: str | None = None
    experiment: str | None = None  # the frame of --frame lab: belle2, na62, lhc
    particles: tuple[str, ...] = ()
    topology: str | None = None  # decays: scalar_pair, kstar_pair, neutrino_pair, two_body
    spectrum: str | None = None  # decays: the spectra kind (matrix element) name
    formats: tuple[str, ...] = (".root", ".parquet")
    needs_coupling: bool = False  # True: all couplings zero is an error (LHC channels)
    visible_fraction: str | None = None  # decays: the daughter fraction the events are in (constants.yaml)

    @property
    def kind(self) -> str:
        """``decay`` or ``lhc``."""
        return "lhc" if self.experiment == "lhc" else "decay"

    def mass_limit(self) -> float | None:
        """Largest allowed mass (GeV) of a decay channel: (M - m)/2 for a pair, M - m for one X."""
        if self.parent is None or self.visible is None or self.mass_option is None:
            return None
        from . import constants

        gap = constants.mass(self.parent) - constants.mass(self.visible)
        return gap / 2.0 if self.mass_option == "mphi" else gap

    def check_mass(self, mass: Any) -> float:
        """``mass`` checked against the channel's kinematic limit (PhiphiError giving it otherwise)."""
        m = check_finite(self.mass_option or "mass", mass)
        if m < 0.0:
            raise PhiphiError(f"{self.mass_option} = {m:g} GeV is negative")
        limit = self.mass_limit()
        if limit is not None and m >= limit:
            what = "(m_parent - m_daughter)/2" if self.mass_option == "mphi" else "m_parent - m_daughter"
            raise PhiphiError(
                f"{self.mass_option} = {m:g} GeV is above the kinematic limit {limit:.5f} GeV = {what} for {self.name}"
            )
        if self.kind == "lhc" and m <= 0.0 and self.mass_option == "ms":
            raise PhiphiError(f"ms = {m:g} GeV must be positive")
        return m

    def coupling_help(self) -> str:
        """``NAME (default)`` list for the help texts."""
        from .couplings import COUPLINGS

        return ", ".join(f"{k} [{COUPLINGS[k].unit}]" + (f" = {v:g}" if v else "") for k, v in self.couplings.items())


def _decay(
    name, description, parent, visible, experiment, particles, mass_option, couplings, topology, spectrum, fraction=None
):
    return ChannelRow(
        visible_fraction=fraction,
        name=name,
        description=description,
        implementation="evtgen.decays:DECAY_CHANNELS",
        mass_option=mass_option,
        couplings=couplings,
        parent=parent,
        visible=visible,
        experiment=experiment,
        particles=particles,
        topology=topology,
        spectrum=spectrum,
    )


_MONOJET_COUPLINGS = {"CG": 0.0, "CS_uu": 0.0, "CS_dd": 0.0, "CS_ss": 0.0, "CS_cc": 0.0, "CS_bb": 0.0}

#: channel id -> row
ROWS: dict[str, ChannelRow] = {
    r.name: r
    for r in (
        _decay("b2kphiphi", "B+ -> K+ phi phi (scalar current, f0 GRvDV 2023)", "B+", "K+", "belle2",
               ("B", "K", "phi1", "phi2"), "mphi", {"CS_sb": 1e-8}, "scalar_pair", "scalar_bsz"),
        _decay("b2kstarphiphi", "B0 -> K*0(-> K+ pi-) phi phi (pseudoscalar current, A0 BSZ 2015)", "B0", "K*0",
               "belle2", ("B", "Kstar", "K", "pi", "phi1", "phi2"), "mphi", {"CP_sb": 1e-8}, "kstar_pair", "pseudo_bsz",
               "kstar0_to_kplus_piminus"),
        _decay("k2piphiphi", "K+ -> pi+ phi phi (scalar current, dispersive f0)", "K+", "pi+", "na62",
               ("K", "pi", "phi1", "phi2"), "mphi", {"CS_sd": 1e-11}, "scalar_pair", "scalar_kpi"),
        _decay("b2kx", "B+ -> K+ X, one invisible X (BR given)", "B+", "K+", "belle2", ("B", "K", "X"), "mx",
               {"br": 1e-5}, "two_body", None),
        _decay("k2pix", "K+ -> pi+ X, one invisible X (BR given)", "K+", "pi+", "na62", ("K", "pi", "X"), "mx",
               {"br": 1e-10}, "two_body", None),
        _decay("b2knunu", "B+ -> K+ nu nubar, SM short distance (f+ GRvDV 2023)", "B+", "K+", "belle2",
               ("B", "K", "nu", "nubar"), None, {}, "neutrino_pair", "vector_bsz"),
        _decay("k2pinunu", "K+ -> pi+ nu nubar, SM (NA62 f+ shape, BR normalised to the SM)", "K+", "pi+", "na62",
               ("K", "pi", "nu", "nubar"), None, {}, "neutrino_pair", "vector_quad"),
        ChannelRow("pp2jphiphi", "pp -> j phi phi at 13 TeV, LO contact operators (quark scalar and gluon)",
                   "evtgen.monojet.channel:PP2JPhiPhi", "mphi", dict(_MONOJET_COUPLINGS), LHC_OPTIONS,
                   experiment="lhc", formats=(".root", ".parquet", ".lhe"), needs_coupling=True),
        ChannelRow("pp2js", "pp -> j S at 13 TeV, LO, L = -y S qbar q (CS_qq = y) and c S G G (CG = c [GeV^-1])",
                   "evtgen.monojet.channel:PP2JS", "ms", {"CG": 0.0, "CS_qq": 0.0}, LHC_OPTIONS,
                   experiment="lhc", formats=(".root", ".parquet", ".lhe"), needs_coupling=True),
        ChannelRow("pp2vlq", "pp -> jets + phi phi at 13 TeV, LO, t-channel vector-like-quark UV model (Q phi, QQ, jphiphi)",
                   "evtgen.vlq.channel:PP2VLQ", "mphi", {},
                   LHC_OPTIONS + ("uv", "mQ", "mD", "yq_d", "yq_s", "yd_d", "yd_s", "y1", "y2", "groups", "window",
                                  "vegas_points", "widths_in_propagators"),
                   experiment="lhc", formats=(".root", ".parquet", ".lhe")),
    )
}  # fmt: skip

#: channel id -> "module:attribute" (kept for readers of the old name)
CHANNELS: dict[str, str] = {name: row.implementation for name, row in ROWS.items()}


def row(name: str) -> ChannelRow:
    """The registry row of channel ``name`` (PhiphiError listing the known ones otherwise)."""
    if name not in ROWS:
        raise PhiphiError(f"unknown channel {name!r}; choose one of {', '.join(ROWS)}")
    return ROWS[name]


def get(name: str) -> Any:
    """The implementation object of channel ``name`` (imports its module)."""
    r = row(name)
    module, attr = r.implementation.split(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise PhiphiError(f"channel {name!r} is not available: {exc}") from None
    if isinstance(obj, dict):
        return obj[name]
    return obj() if isinstance(obj, type) else obj
