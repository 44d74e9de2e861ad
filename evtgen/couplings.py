"""The registry of coupling names: one row per Wilson coefficient (or pseudo-coupling).

Every coupling a user can give (``--coupling NAME=VALUE``, ``couplings={...}``, model files)
is listed here with its unit and meaning, so that validation, help texts and the
convention conversion read one table. The project's convention (physics README section 1):

    L > 1/2 C_qphi^{S,ij} (qbar_i q_j) phi^2 + 1/2 C_qphi^{P,ij} (qbar_i i g5 q_j) phi^2 + (C_Gphi/Lambda^2) G G phi^2

Quark couplings carry the 1/2 (``half = True``): papers without it have C' = C/2.
This module is pure Python (no numba), so the CLI help can read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Coupling:
    """One coupling name: unit, meaning, and whether the project's 1/2 applies to it."""

    name: str
    unit: str
    meaning: str
    half: bool = True  # True: written with the 1/2 of the project's convention (C' = C/2 without it)


def _quark_rows() -> list[Coupling]:
    rows = []
    for q, kind in (("u", "u"), ("d", "d"), ("s", "d"), ("c", "u"), ("b", "d")):
        rows.append(Coupling(f"CS_{q}{q}", "GeV^-1", f"C_{kind}phi^{{S,{q}{q}}}: scalar (qbar q) phi^2, q = {q}"))
    for ij in ("sb", "sd", "db"):
        rows.append(Coupling(f"CS_{ij}", "GeV^-1", f"C_dphi^{{S,{ij}}}: scalar ({ij[0]}bar {ij[1]}) phi^2"))
        rows.append(Coupling(f"CP_{ij}", "GeV^-1", f"C_dphi^{{P,{ij}}}: pseudoscalar ({ij[0]}bar i g5 {ij[1]}) phi^2"))
    rows.append(Coupling("CP_uc", "GeV^-1", "C_uphi^{P,uc}: pseudoscalar (ubar i g5 c) phi^2"))
    rows.append(Coupling("CS_uc", "GeV^-1", "C_uphi^{S,uc}: scalar (ubar c) phi^2"))
    return rows


#: name -> Coupling
COUPLINGS: dict[str, Coupling] = {
    c.name: c
    for c in [
        *_quark_rows(),
        Coupling("CG", "GeV^-2", "C_Gphi/Lambda^2: (G G) phi^2 (no 1/2 in the project's Lagrangian)", half=False),
        Coupling("br", "1", "branching ratio of a two-body decay B -> K X, K -> pi X (the input itself)", half=False),
        Coupling("CS_qq", "1", "pp2js: Yukawa y of one scalar S, L = -y S qbar q (all light quarks)", half=False),
    ]
}


def get(name: str) -> Coupling:
    """The registry row of coupling ``name`` (KeyError if unknown; callers turn it into a PhiphiError)."""
    return COUPLINGS[name]


def to_no_half(name: str, value: float) -> float:
    """The value of coupling ``name`` in the papers' convention without the 1/2 (C' = C/2 for quark couplings)."""
    return 0.5 * value if COUPLINGS[name].half else value


def from_no_half(name: str, value: float) -> float:
    """The project's value of coupling ``name`` given in the no-1/2 convention (C = 2 C')."""
    return 2.0 * value if COUPLINGS[name].half else value
