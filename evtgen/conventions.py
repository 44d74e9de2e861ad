"""Coupling conventions.

The project writes the phi-pair couplings with a factor 1/2 (physics README section 1):

    L > 1/2 C^{S,ij} (qbar_i q_j) phi^2 + 1/2 C^{P,ij} (qbar_i i gamma5 q_j) phi^2

so that the amplitude is C x <hadrons|qbar_i q_j|...>. Papers that write
L > C' (qbar q) phi^2 without the 1/2 describe the same physics with C' = C/2; the same
number put in both conventions gives rates 4x larger in theirs.
"""

from __future__ import annotations


def from_no_half(c_prime: float) -> float:
    """Project coupling C for a coupling C' written without the 1/2 (C = 2 C')."""
    return 2.0 * c_prime


def to_no_half(c: float) -> float:
    """Coupling C' without the 1/2 for a project coupling C (C' = C / 2)."""
    return 0.5 * c
