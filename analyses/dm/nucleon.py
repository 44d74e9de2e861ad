"""Nucleon scalar matrix elements for spin-independent phi-nucleon scattering.

The numbers live in ``analyses/data/dm/nucleon_matrix_elements.yaml`` with their source; this module
reads one named set and derives what the cross section needs:

- f_Tq^(N) = <N| m_q qbar q |N> / m_N for q = u, d, s (a set either gives them directly, or gives the
  sigma terms sigma_q^N = m_N f_Tq^(N), converted with m_N = (m_p + m_n)/2),
- f_TG^(N) = 1 - sum_q f_Tq^(N) (trace anomaly with three light flavours; derived),
- f_TQ^(N) = 2/27 f_TG^(N) for the heavy quarks c, b (leading-order heavy-quark expansion; derived),
- the MS-bar quark masses and the alpha_s of the gluon term (data, with their scale).

Nucleon masses are the PDG values from ``particle``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from evtgen.errors import PhiphiError

DATA_FILE = "nucleon_matrix_elements.yaml"
LIGHT_QUARKS = ("u", "d", "s")
HEAVY_QUARKS = ("c", "b")
NUCLEONS = ("p", "n")
_PDG_ID = {"p": 2212, "n": 2112}
_BLOCK = {"p": "proton", "n": "neutron"}


@functools.cache
def _data() -> dict[str, Any]:
    with (resources.files("analyses") / "data" / "dm" / DATA_FILE).open("r") as fh:
        return yaml.safe_load(fh)


@functools.cache
def nucleon_mass(nucleon: str) -> float:
    """PDG mass in GeV of the proton (``"p"``) or neutron (``"n"``), from ``particle``."""
    if nucleon not in _PDG_ID:
        raise PhiphiError(f"nucleon = {nucleon!r}; choose p or n")
    from particle import Particle

    return Particle.from_pdgid(_PDG_ID[nucleon]).mass / 1000.0


def average_nucleon_mass() -> float:
    """(m_p + m_n)/2 in GeV."""
    return 0.5 * (nucleon_mass("p") + nucleon_mass("n"))


def quark_mass(q: str) -> float:
    """MS-bar mass in GeV of quark ``q`` (u, d, s at 2 GeV; c, b at their own mass), from the data file."""
    masses = _data()["quark_masses"]
    key = f"m_{q}"
    if key not in masses:
        raise PhiphiError(f"quark {q!r} has no mass in {DATA_FILE}; known: {', '.join(k[2:] for k in masses)}")
    return float(masses[key]["value"])


def default_alpha_s() -> float:
    """The alpha_s of the gluon term by default (alpha_s(M_Z), see the data file)."""
    return float(_data()["alpha_s"]["value"])


def set_names() -> tuple[str, ...]:
    """Names of the matrix-element sets in the data file."""
    return tuple(_data()["sets"])


def default_set() -> str:
    """The set used when none is named."""
    return str(_data()["default_set"])


@dataclass(frozen=True)
class NucleonMatrixElements:
    """f_Tq of one set for proton and neutron, with the derived f_TG and heavy-quark f_TQ."""

    name: str
    source: str
    f_Tq: dict[str, dict[str, float]]  # nucleon -> quark -> f_Tq
    derived: bool  # True when f_Tq was derived from sigma terms

    def f_TG(self, nucleon: str) -> float:
        """f_TG^(N) = 1 - sum_{u,d,s} f_Tq^(N) (derived)."""
        return 1.0 - sum(self.f_Tq[nucleon][q] for q in LIGHT_QUARKS)

    def f_TQ(self, nucleon: str) -> float:
        """Heavy-quark f_TQ^(N) = 2/27 f_TG^(N) (leading order, derived; the same for c and b)."""
        return 2.0 / 27.0 * self.f_TG(nucleon)

    def f(self, nucleon: str, q: str) -> float:
        """f_Tq^(N) for a light or heavy quark ``q``."""
        if nucleon not in NUCLEONS:
            raise PhiphiError(f"nucleon = {nucleon!r}; choose p or n")
        if q in LIGHT_QUARKS:
            return self.f_Tq[nucleon][q]
        if q in HEAVY_QUARKS:
            return self.f_TQ(nucleon)
        raise PhiphiError(f"quark {q!r}; choose one of {', '.join(LIGHT_QUARKS + HEAVY_QUARKS)}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary (for a Result's provenance)."""
        return {
            "set": self.name,
            "source": self.source,
            "f_Tq": {n: dict(v) for n, v in self.f_Tq.items()},
            "f_TG": {n: self.f_TG(n) for n in NUCLEONS},
            "f_TQ_heavy": {n: self.f_TQ(n) for n in NUCLEONS},
            "f_Tq_status": "derived from sigma terms, f = sigma/m_N" if self.derived else "published",
            "f_TG_status": "derived: 1 - sum f_Tq",
        }


@functools.cache
def matrix_elements(name: str | None = None) -> NucleonMatrixElements:
    """The nucleon matrix elements of set ``name`` (default: the data file's ``default_set``)."""
    sets = _data()["sets"]
    name = default_set() if name is None else name
    if name not in sets:
        raise PhiphiError(f"nucleon matrix-element set {name!r} is unknown; choose one of {', '.join(sets)}")
    block = sets[name]
    form = block["form"]
    if form == "f_Tq":
        scale = {"p": 1.0, "n": 1.0}
        derived = False
    elif form == "sigma_terms_GeV":
        m = average_nucleon_mass()
        scale = {"p": 1.0 / m, "n": 1.0 / m}
        derived = True
    else:
        raise PhiphiError(f"set {name!r} in {DATA_FILE} has unknown form {form!r}")
    f = {n: {q: float(block[_BLOCK[n]][q]) * scale[n] for q in LIGHT_QUARKS} for n in NUCLEONS}
    out = NucleonMatrixElements(name=name, source=" ".join(str(block["source"]).split()), f_Tq=f, derived=derived)
    for n in NUCLEONS:
        if not 0.0 < out.f_TG(n) < 1.0:
            raise PhiphiError(f"set {name!r}: f_TG^({n}) = {out.f_TG(n):g} is outside (0, 1)")
    return out
