"""UV parameters of the t-channel model for the LHC generator, widths Γ(Q → qφ), matched EFT coefficient.

Model (seed talk, He–Ma–Schmidt–Valencia–Volkas, JHEP 07 (2024) 168):
L ⊃ y_q^p q̄_{Lp} Q_R φ + y_d^p D̄_L d_{Rp} φ − y₁ Q̄_L D_R H − y₂ Q̄_R D_L H + h.c.

Flavour labels p = d (first generation), s (second): the doublet q_{Ld} = (u_L, d_L), q_{Ls} = (c_L, s_L)
(CKM set to 1). So Q_u (charge 2/3) couples to u (y_q^d) and c (y_q^s); Q_d (−1/3) to d (y_q^d) and s
(y_q^s); D (−1/3) to d_R (y_d^d) and s_R (y_d^s). Couplings are real.

Widths (derived, standard two-body decay of a Dirac fermion through a chiral Yukawa, massless quark):
    Γ(F → q φ) = |y|² m_F (1 − m_φ²/m_F²)² / (32π)
summed over the quark flavours. Q → D h/Z/W (y₁, y₂) are not included: with m_Q = m_D (the seed's
benchmark) they are closed; the heavy states are taken as the gauge eigenstates (Q–D mixing through
y₁ v/√2 is neglected in production and decay; it is kept exactly in the 2→3 amplitude,
:func:`evtgen.vlq.kernels.amp2_qg_qphiphi`). :mod:`evtgen.models.tchannel`, when present, is used
for the widths and the matching (see :func:`width_Q`); this local formula is its cross-check.

Matched coefficient (seed talk, Matchete): in the project's ½ convention
    C_dφ^{S,ij} = (y_q^i y_d^j y₁ + y_q^j y_d^i y₁) v/(√2 m_Q m_D) + O(m_d)
so C^{S,dd} = √2 y_q^d y_d^d y₁ v/(m_Q m_D) (v = 246.22 GeV, from G_F).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from evtgen.errors import PhiphiError, check_finite

#: UV parameter names accepted as couplings of the pp2vlq channel (masses go in as mQ, mD)
UV_NAMES = ("mQ", "mD", "yq_d", "yq_s", "yd_d", "yd_s", "y1", "y2")

#: heavy species index -> (name, PDG-style code written to LHE files, charge)
HEAVY = ((("Q_u"), 9000002, 2 / 3), (("Q_d"), 9000001, -1 / 3), (("D"), 9000011, -1 / 3))


def vev() -> float:
    """v = (√2 G_F)^(-1/2) in GeV (G_F = 1.1663787e-5 GeV⁻², PDG; the physics README's value)."""
    return (math.sqrt(2.0) * 1.1663787e-5) ** -0.5


@dataclass(frozen=True)
class UVPoint:
    """One point of the UV model (GeV, dimensionless Yukawas)."""

    mQ: float
    mD: float
    mphi: float
    yq_d: float = 0.0
    yq_s: float = 0.0
    yd_d: float = 0.0
    yd_s: float = 0.0
    y1: float = 0.0
    y2: float = 0.0

    def yukawa_table(self) -> list[list[float]]:
        """Y[X][pid]: coupling of heavy species X (0 Q_u, 1 Q_d, 2 D) to quark pid 1..5 (index = pid)."""
        y = [[0.0] * 6 for _ in range(3)]
        y[0][2], y[0][4] = self.yq_d, self.yq_s  # Q_u -> u, c
        y[1][1], y[1][3] = self.yq_d, self.yq_s  # Q_d -> d, s
        y[2][1], y[2][3] = self.yd_d, self.yd_s  # D -> d, s
        return y

    def masses(self) -> tuple[float, float, float]:
        return (self.mQ, self.mQ, self.mD)


def uv_point(params: dict, mphi: float) -> UVPoint:
    """Validated :class:`UVPoint` from a dict with keys in :data:`UV_NAMES` (mQ, mD required)."""
    bad = [k for k in params if k not in UV_NAMES]
    if bad:
        raise PhiphiError(f"unknown UV parameter {bad[0]!r}; known: {', '.join(UV_NAMES)}")
    vals = {k: check_finite(k, v) for k, v in params.items()}
    for m in ("mQ", "mD"):
        if m not in vals:
            raise PhiphiError(
                f'pp2vlq needs the heavy-quark mass {m} (GeV), given as an option, e.g. options={{"{m}": 3000}} in evtgen.rate/generate'
            )
        if vals[m] <= 0:
            raise PhiphiError(f"{m} = {vals[m]:g} GeV must be positive")
    mphi = check_finite("mphi", mphi)
    if mphi < 0:
        raise PhiphiError(f"mphi = {mphi:g} GeV must not be negative")
    for m in ("mQ", "mD"):
        if vals[m] <= mphi:
            raise PhiphiError(f"{m} = {vals[m]:g} GeV must exceed mphi = {mphi:g} GeV (Q -> q phi must be open)")
    return UVPoint(mphi=mphi, **vals)


def width_local(p: UVPoint, species: int) -> float:
    """Γ(X → q φ) summed over quark flavours (GeV), this module's formula (see the docstring)."""
    m = p.masses()[species]
    y2 = sum(v * v for v in p.yukawa_table()[species])
    return y2 * m * (1.0 - (p.mphi / m) ** 2) ** 2 / (32.0 * math.pi)


def widths(p: UVPoint) -> tuple[float, float, float]:
    """(Γ_Q_u, Γ_Q_d, Γ_D) in GeV."""
    return tuple(width_local(p, k) for k in range(3))


def matched_C(p: UVPoint) -> dict[str, float]:
    """Tree-level matched φLEFT coefficients (GeV⁻¹, project's ½ convention), the y₁ v term only
    (the O(m_d) terms vanish for the massless quarks of the LHC kernels)."""
    k = math.sqrt(2.0) * p.y1 * vev() / (p.mQ * p.mD)
    return {
        "CS_dd": k * p.yq_d * p.yd_d,
        "CS_ss": k * p.yq_s * p.yd_s,
        "CS_sd": 0.5 * k * (p.yq_s * p.yd_d + p.yq_d * p.yd_s),
    }
