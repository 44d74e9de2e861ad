"""Physics inputs: the package data files and PDG values from ``particle``.

Nothing here is a literal physics number: constants live in ``data/constants.yaml`` with
their sources, masses and lifetimes come from the ``particle`` package (PDG).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import yaml

#: hbar in GeV s (CODATA 2018, exact SI definition of h and e).
HBAR_GEV_S = 6.582119569e-25
#: speed of light in m/s (exact).
C_M_PER_S = 299792458.0


def data_path(name: str):
    """Path of a data file shipped in ``evtgen/data``."""
    return resources.files("evtgen") / "data" / name


@functools.cache
def load_yaml(name: str) -> dict[str, Any]:
    """Parsed YAML data file from ``evtgen/data`` (cached, do not mutate)."""
    with data_path(name).open("r") as fh:
        return yaml.safe_load(fh)


@functools.cache
def load_json(name: str) -> dict[str, Any]:
    """Parsed JSON data file from ``evtgen/data`` (cached, do not mutate)."""
    with data_path(name).open("r") as fh:
        return json.load(fh)


def value(block: str, key: str) -> float:
    """A constant's value from ``constants.yaml``: ``value("quark_masses", "m_b")``."""
    return float(load_yaml("constants.yaml")[block][key]["value"])


#: PDG Monte Carlo ids of the particles the decays use.
PDG_IDS = {"B+": 521, "B0": 511, "K+": 321, "K*0": 313, "pi+": 211, "pi0": 111, "Upsilon(4S)": 300553}


@functools.cache
def mass(name: str) -> float:
    """PDG mass in GeV of ``name`` (a key of :data:`PDG_IDS`)."""
    from particle import Particle

    return Particle.from_pdgid(PDG_IDS[name]).mass / 1000.0


@functools.cache
def lifetime_s(name: str) -> float:
    """PDG mean lifetime in seconds."""
    from particle import Particle

    return Particle.from_pdgid(PDG_IDS[name]).lifetime * 1e-9


def total_width(name: str) -> float:
    """Total width in GeV from the PDG lifetime (hbar / tau)."""
    return HBAR_GEV_S / lifetime_s(name)


def ctau_m(name: str) -> float:
    """Mean decay length c*tau in metres."""
    return C_M_PER_S * lifetime_s(name)


def kallen(a, b, c):
    """Kallen function lambda(a, b, c) (numpy-vectorised)."""
    return a * a + b * b + c * c - 2.0 * (a * b + a * c + b * c)
