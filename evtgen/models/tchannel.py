"""The t-channel vector-like-quark completion of the phiphi EFT (seed talk, He, Ma, Schmidt,
Valencia, Volkas, JHEP 07 (2024) 168, arXiv:2403.12485).

Fields (all Z2-odd): Q ~ (3, 2, 1/6), D ~ (3, 1, -1/3) vector-like quarks, phi a real singlet.

    L > - m_Q Qbar Q - m_D Dbar D - 1/2 m_phi^2 phi^2
        + y_q^p qbar_Lp Q_R phi + y_d^p Dbar_L d_Rp phi - y1 Qbar_L D_R H - y2 Qbar_R D_L H + h.c.

(Higgs portal kappa neglected.) p = 1, 2, 3 are the generations in the *down-quark mass basis*:
q_Lp = (V^dagger u_L, d_L)_p, so the up-type quark u_i couples with y~_q^i = sum_p V_ip y_q^p.

**Mass eigenstates.** With <H> = (0, v/sqrt 2) the down-type component D_Q of Q mixes with D:
Psi_L^bar M Psi_R with Psi = (D_Q, D) and M = [[m_Q, y1 v/sqrt2], [y2* v/sqrt2, m_D]], diagonalised
as M = U_L diag(m_1, m_2) U_R^dagger (m_1 <= m_2, :func:`heavy_down_states`). The up-type
component U_Q does not mix (mass m_Q). The heavy quarks do not mix with SM quarks (Z2).

**Tree-level matching** (derivation in docs/uv_model.md). Integrating out Psi at zero external
momentum, exactly in v/m and to first order in the light-quark momenta (EOM i dslash d = m_d d):

    A_ij  = y_q^i y_d^j (M^-1)_12          -> -y1 v y_q^i y_d^j / (sqrt2 m_Q m_D) at O(v/m)
    c_ij  = y_q^i y_q^j* [(M^dag M)^-1]_11  (-> 1/m_Q^2),   c'_ij = y_d^i* y_d^j [(M M^dag)^-1]_22 (-> 1/m_D^2)
    C_dphi^{S,ij}   = A_ij + A_ji* + (c_ij + c'_ij)(m_i + m_j)/2
    i C_dphi^{P,ij} = A_ij - A_ji* - (c_ij - c'_ij)(m_i - m_j)/2
    C_uphi^{S,ij}   = y~^i y~^j* (m_ui + m_uj)/(2 m_Q^2),  i C_uphi^{P,ij} = -y~^i y~^j* (m_ui - m_uj)/(2 m_Q^2)

in the project's convention L > 1/2 C^{S,ij} (dbar_i d_j) phi^2 + 1/2 C^{P,ij} (dbar_i i g5 d_j) phi^2.
Neglected: O(p^2/m^2) (p ~ m_B), one-loop matching (C_Gphi is zero at tree level), QCD running
of the coefficients between m_Q and the hadronic scale (the scalar density runs like 1/m_q: the
y1 term would grow by m_b(m_b)/m_b(m_Q) ~ 1.8 at m_Q ~ 50 TeV; NOT applied, as in the talk).
Quark masses in the m_q terms: MS-bar m_d, m_s at 2 GeV, m_b(m_b) (constants.yaml), m_u(2 GeV),
m_c(m_c) (PDG via ``particle``): the m_q C_S combination is RG invariant, so these are the values
at the scale where the analyses evaluate their matrix elements.

**Complex couplings.** C^{S,ii} are real (hermiticity). Off-diagonal C^{S,ij}, C^{P,ij} are complex
in general, and C^{P,ij} is purely *imaginary* for real (CP-conserving) Yukawas. The analyses take
real numbers and their rates go as |C|^2 (B -> K, B -> K*, K+ -> pi+: one coefficient each), so
:func:`to_eft` maps each off-diagonal coefficient to a signed modulus, |C| times the sign of its
larger (real or imaginary) part (``complex_map="modulus"``, default), or to Re C
(``complex_map="real"``). The complex values are kept in ``ModelPoint.uv["eft_complex"]`` and the
names with a non-zero phase are listed in ``uv["complex_couplings"]``. K_L -> pi0 phi phi goes as
(Re C^{S,sd})^2, not |C|^2: an analysis of it must read ``uv["eft_complex"]["CS_sd"][0]``.

**Widths** Gamma(F -> f phi) of each heavy mass eigenstate into each light flavour
(:func:`partial_width`, :func:`widths`) from the vertex fbar (a P_R + b P_L) F phi:

    Gamma = lambda^1/2(M^2, m^2, m_phi^2) / (16 pi M^3) [ (|a|^2 + |b|^2)(M^2 + m^2 - m_phi^2)/2 + 2 m M Re(a b*) ]

Decays between heavy states (D_2 -> D_1 h/Z, U_Q <-> D_a W) are NOT included (they are open when
the splitting exceeds m_h, m_Z or m_W, e.g. for m_Q = m_D and |y1| v/sqrt2 > m_h).

**Dipoles** (:func:`dipoles`): the one-loop phi-Psi_a loop with the photon (gluon) on Psi_a and the
chirality flip on the heavy line, C_dgamma^{ij} (dbar_i sigma^{mu nu} P_R d_j F_{mu nu}) =
-(e Q_D / 32 pi^2) sum_a m_a a_i^a b_j^a* I_a, I_a = int_0^1 dz (1-z)^2 / ((1-z) m_a^2 + z m_phi^2)
(-> 1/(2 m_a^2)); the terms proportional to the external m_b are neglected (relative size
~ m_b / (|y1| v) ~ 2%/|y1|; they are the only ones for y1 = y2 = 0, where this returns zero).

Pure numpy/scipy (2x2 and 3x3 algebra): nothing here is hot.
"""

from __future__ import annotations

import cmath
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import yaml

from .. import constants
from ..errors import PhiphiError

MODEL_NAME = "tchannel-vlq"
DOWN = ("d", "s", "b")
UP = ("u", "c", "t")
Q_D = -1.0 / 3.0
#: off-diagonal down-type pairs of the coupling registry (i, j) -> names
_DOWN_PAIRS = {("s", "b"): ("CS_sb", "CP_sb"), ("s", "d"): ("CS_sd", "CP_sd"), ("d", "b"): ("CS_db", "CP_db")}
COMPLEX_MAPS = ("modulus", "real")


# ----------------------------------------------------------------------------- inputs


@functools.cache
def _inputs() -> dict[str, Any]:
    with (resources.files("evtgen.models") / "data" / "tchannel_inputs.yaml").open("r") as fh:
        return yaml.safe_load(fh)


@functools.cache
def vev() -> float:
    """v = (sqrt2 G_F)^-1/2 in GeV (derived from G_F of constants.yaml; 246.22 GeV)."""
    return 1.0 / math.sqrt(math.sqrt(2.0) * constants.value("bknunu_sm", "G_F"))


@functools.cache
def quark_masses() -> dict[str, float]:
    """Light-quark masses (GeV) used in the matching and the widths: d, s, b MS-bar from
    constants.yaml (m_d, m_s at 2 GeV, m_b(m_b)); u (2 GeV), c (m_c), t (direct) from ``particle``."""
    from particle import Particle

    out = {q: constants.value("quark_masses", f"m_{q}") for q in DOWN}
    for q, pid in (("u", 2), ("c", 4), ("t", 6)):
        out[q] = Particle.from_pdgid(pid).mass / 1000.0
    return out


@functools.cache
def ckm() -> np.ndarray:
    """The CKM matrix V (rows u, c, t; columns d, s, b), standard parametrisation from the
    PDG 2024 Wolfenstein parameters (exactly unitary; PDG CKM review eqs. 12.4, 12.26)."""
    w = _inputs()["ckm_wolfenstein"]
    lam, a, rho, eta = (float(w[k]["value"]) for k in ("lambda", "A", "rhobar", "etabar"))
    s12, s23 = lam, a * lam**2
    rb = complex(rho, eta)
    s13e = a * lam**3 * rb * math.sqrt(1 - a**2 * lam**4) / (math.sqrt(1 - lam**2) * (1 - a**2 * lam**4 * rb))
    s13, delta = abs(s13e), cmath.phase(s13e)
    c12, c23, c13 = (math.sqrt(1 - s * s) for s in (s12, s23, s13))
    e = cmath.exp(1j * delta)
    return np.array(
        [
            [c12 * c13, s12 * c13, s13 / e],
            [-s12 * c23 - c12 * s23 * s13 * e, c12 * c23 - s12 * s23 * s13 * e, s23 * c13],
            [s12 * s23 - c12 * c23 * s13 * e, -c12 * s23 - s12 * c23 * s13 * e, c23 * c13],
        ]
    )


def alpha_em() -> float:
    """alpha(0) (CODATA 2018), for the on-shell photon of the dipole."""
    return float(_inputs()["alpha_em_0"]["value"])


# ----------------------------------------------------------------------------- the UV point


def _complex(name: str, value: Any) -> complex:
    """A coupling given as a number, a complex, or [re, im]; finite, else PhiphiError."""
    if isinstance(value, bool):
        raise PhiphiError(f"{name} = {value!r} is not a number")
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise PhiphiError(f"{name} = {value!r}: a complex coupling is [re, im]")
        re, im = (_real(f"{name}", v) for v in value)
        z = complex(re, im)
    elif isinstance(value, complex):
        z = value
    else:
        z = complex(_real(name, value), 0.0)
    if not (math.isfinite(z.real) and math.isfinite(z.imag)):
        raise PhiphiError(f"{name} = {value!r} is not a finite number")
    return z


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise PhiphiError(f"{name} = {value!r} is not a number")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PhiphiError(f"{name} = {value!r} is not a number") from None
    if not math.isfinite(x):
        raise PhiphiError(f"{name} = {value!r} is not a finite number")
    return x


def _vector(name: str, value: Any) -> tuple[complex, complex, complex]:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in DOWN]
        if unknown:
            raise PhiphiError(f"{name} has unknown generation {unknown[0]!r}; use d, s, b (or a list of 3)")
        return tuple(_complex(f"{name}[{q}]", value.get(q, 0.0)) for q in DOWN)  # type: ignore[return-value]
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 3:
        raise PhiphiError(f"{name} = {value!r} must be three couplings (d, s, b), each a number or [re, im]")
    return tuple(_complex(f"{name}[{q}]", v) for q, v in zip(DOWN, value))  # type: ignore[return-value]


@dataclass(frozen=True)
class TChannelPoint:
    """A UV parameter point: masses (GeV) and Yukawas (complex; generations d, s, b in the
    down-quark mass basis). Build it with :func:`tchannel_point` (validated)."""

    m_Q: float
    m_D: float
    m_phi: float
    y_q: tuple[complex, complex, complex]
    y_d: tuple[complex, complex, complex]
    y1: complex
    y2: complex = 0j

    def as_dict(self) -> dict[str, Any]:
        """JSON-able parameters (a complex coupling as [re, im], a real one as a float)."""

        def c(z: complex):
            return [z.real, z.imag] if z.imag != 0.0 else z.real

        return {
            "m_Q": self.m_Q,
            "m_D": self.m_D,
            "m_phi": self.m_phi,
            "y_q": [c(z) for z in self.y_q],
            "y_d": [c(z) for z in self.y_d],
            "y1": c(self.y1),
            "y2": c(self.y2),
        }


PARAMETERS = ("m_Q", "m_D", "m_phi", "y_q", "y_d", "y1", "y2")


def tchannel_point(*, m_Q: Any, m_D: Any, m_phi: Any, y_q: Any, y_d: Any, y1: Any, y2: Any = 0.0) -> TChannelPoint:
    """Validate and build a :class:`TChannelPoint`: finite positive masses with m_Q, m_D > m_phi
    (phi is the lightest Z2-odd state, the dark-matter candidate); Yukawas finite."""
    masses = {}
    for name, value in (("m_Q", m_Q), ("m_D", m_D), ("m_phi", m_phi)):
        m = _real(name, value)
        if m <= 0.0:
            raise PhiphiError(f"{name} = {m:g} GeV must be positive")
        masses[name] = m
    for name in ("m_Q", "m_D"):
        if masses[name] <= masses["m_phi"]:
            raise PhiphiError(f"{name} = {masses[name]:g} GeV must exceed m_phi = {masses['m_phi']:g} GeV")
    point = TChannelPoint(
        y_q=_vector("y_q", y_q), y_d=_vector("y_d", y_d), y1=_complex("y1", y1), y2=_complex("y2", y2), **masses
    )
    m1, _, _ = heavy_down_states(point)
    if m1[0] <= masses["m_phi"]:
        raise PhiphiError(
            f"the lighter heavy down-type state has mass {m1[0]:g} GeV <= m_phi (Q-D mixing through y1 v, y2 v); "
            "phi must be the lightest Z2-odd state"
        )
    return point


def from_dict(params: Mapping[str, Any]) -> TChannelPoint:
    """A :class:`TChannelPoint` from a mapping of :data:`PARAMETERS` (unknown keys are an error)."""
    unknown = [k for k in params if k not in PARAMETERS]
    if unknown:
        raise PhiphiError(f"unknown {MODEL_NAME} parameter {unknown[0]!r}; known: {', '.join(PARAMETERS)}")
    missing = [k for k in PARAMETERS[:-1] if k not in params]
    if missing:
        raise PhiphiError(f"{MODEL_NAME} parameter {missing[0]!r} is missing")
    return tchannel_point(**params)


# ----------------------------------------------------------------------------- mass eigenstates


def down_mass_matrix(uv: TChannelPoint) -> np.ndarray:
    """M of Psibar_L M Psi_R, Psi = (D_Q, D): [[m_Q, y1 v/sqrt2], [y2* v/sqrt2, m_D]]."""
    h = vev() / math.sqrt(2.0)
    return np.array([[uv.m_Q, uv.y1 * h], [np.conj(uv.y2) * h, uv.m_D]], dtype=complex)


def heavy_down_states(uv: TChannelPoint) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(masses ascending, U_L, U_R) with M = U_L diag(masses) U_R^dagger; column a of U_L (U_R)
    is the (D_Q, D) content of the left- (right-) handed mass eigenstate D_a."""
    w, s, vh = np.linalg.svd(down_mass_matrix(uv))
    order = np.argsort(s)
    return s[order], w[:, order], vh.conj().T[:, order]


def up_yukawas(uv: TChannelPoint) -> np.ndarray:
    """y~_q^i = sum_p V_ip y_q^p: the couplings of u, c, t (mass basis) to U_Q."""
    return ckm() @ np.array(uv.y_q)


# ----------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Matching:
    """Complex LEFT coefficients (GeV^-1, project's 1/2 convention): 3x3 matrices over (d, s, b)
    and over (u, c) for the up sector (the top is not in the LEFT)."""

    CS_d: np.ndarray
    CP_d: np.ndarray
    CS_u: np.ndarray
    CP_u: np.ndarray


def match(uv: TChannelPoint) -> Matching:
    """Tree-level matching of the UV point onto C_dphi^{S,P}, C_uphi^{S,P} (module docstring)."""
    mq = quark_masses()
    md = np.array([mq[q] for q in DOWN])
    yq, yd = np.array(uv.y_q), np.array(uv.y_d)
    M = down_mass_matrix(uv)
    minv = np.linalg.inv(M)
    x11 = np.linalg.inv(M.conj().T @ M)[0, 0].real
    x22 = np.linalg.inv(M @ M.conj().T)[1, 1].real
    A = np.outer(yq, yd) * minv[0, 1]
    c = np.outer(yq, yq.conj()) * x11
    cp = np.outer(yd.conj(), yd) * x22
    msum = md[:, None] + md[None, :]
    mdiff = md[:, None] - md[None, :]
    cs_d = A + A.conj().T + 0.5 * (c + cp) * msum
    icp_d = A - A.conj().T - 0.5 * (c - cp) * mdiff
    yu = up_yukawas(uv)[:2]
    mu = np.array([mq["u"], mq["c"]])
    cu = np.outer(yu, yu.conj()) / uv.m_Q**2
    cs_u = 0.5 * cu * (mu[:, None] + mu[None, :])
    icp_u = -0.5 * cu * (mu[:, None] - mu[None, :])
    return Matching(CS_d=cs_d, CP_d=-1j * icp_d, CS_u=cs_u, CP_u=-1j * icp_u)


def _signed_modulus(z: complex) -> float:
    if z == 0:
        return 0.0
    lead = z.real if abs(z.real) >= abs(z.imag) else z.imag
    return math.copysign(abs(z), lead)


def eft_complex(uv: TChannelPoint) -> dict[str, complex]:
    """The matched couplings under the registry names, as complex numbers."""
    m = match(uv)
    ix = {q: k for k, q in enumerate(DOWN)}
    out: dict[str, complex] = {}
    for q in DOWN:
        out[f"CS_{q}{q}"] = complex(m.CS_d[ix[q], ix[q]].real, 0.0)  # real by hermiticity
    for (i, j), (s_name, p_name) in _DOWN_PAIRS.items():
        out[s_name] = complex(m.CS_d[ix[i], ix[j]])
        out[p_name] = complex(m.CP_d[ix[i], ix[j]])
    out["CS_uu"] = complex(m.CS_u[0, 0].real, 0.0)
    out["CS_cc"] = complex(m.CS_u[1, 1].real, 0.0)
    out["CS_uc"] = complex(m.CS_u[0, 1])
    out["CP_uc"] = complex(m.CP_u[0, 1])
    return out


def to_eft(uv: TChannelPoint, complex_map: str = "modulus") -> dict[str, float]:
    """The real couplings (project's 1/2 convention, GeV^-1) every analysis consumes, under the
    names of :mod:`evtgen.couplings`. Complex off-diagonal coefficients become their signed
    modulus (default) or real part (``complex_map="real"``); see the module docstring."""
    if complex_map not in COMPLEX_MAPS:
        raise PhiphiError(f"complex_map = {complex_map!r}; choose {' or '.join(COMPLEX_MAPS)}")
    conv = _signed_modulus if complex_map == "modulus" else (lambda z: z.real)
    return {k: float(conv(z)) for k, z in eft_complex(uv).items()}


def uv_info(uv: TChannelPoint, complex_map: str = "modulus") -> dict[str, Any]:
    """What a ModelPoint of this UV point carries in ``uv``: the model name, its parameters, the
    complex matched couplings ([re, im]), which of them have a phase, and the heavy spectrum."""
    cplx = eft_complex(uv)
    masses, _, _ = heavy_down_states(uv)
    return {
        "model": MODEL_NAME,
        "parameters": uv.as_dict(),
        "complex_map": complex_map,
        "eft_complex": {k: [z.real, z.imag] for k, z in cplx.items()},
        "complex_couplings": sorted(k for k, z in cplx.items() if z.imag != 0.0 and abs(z.imag) > 1e-12 * abs(z)),
        "heavy_masses": {"U": uv.m_Q, "D1": float(masses[0]), "D2": float(masses[1])},
        "convention": "half: L > 1/2 C (qbar q) phi^2 (tree-level matching, docs/uv_model.md)",
    }


def to_model_point(uv: TChannelPoint, *, complex_map: str = "modulus", channel: str | None = None, seed=None):
    """An :class:`evtgen.model.ModelPoint` of the UV point: mphi, the matched couplings, ``uv`` info."""
    from ..model import model_point

    return model_point(
        mphi=uv.m_phi, couplings=to_eft(uv, complex_map), channel=channel, seed=seed, uv=uv_info(uv, complex_map)
    )


def uv_from_model_point(point) -> TChannelPoint:
    """The :class:`TChannelPoint` a ModelPoint was matched from (PhiphiError for an EFT-only point)."""
    uv = getattr(point, "uv", None)
    if not uv or uv.get("model") != MODEL_NAME or "parameters" not in uv:
        raise PhiphiError(
            f"this analysis needs a UV point (model: {MODEL_NAME}, e.g. --model FILE); got EFT couplings only"
        )
    return from_dict(uv["parameters"])


# ----------------------------------------------------------------------------- widths


def partial_width(M: float, m: float, m_s: float, a: complex, b: complex) -> float:
    """Gamma(F -> f S) in GeV for the vertex fbar (a P_R + b P_L) F S (+ h.c.), F, f Dirac
    fermions of masses M, m, S a real scalar of mass m_s; zero below threshold."""
    if M <= m + m_s:
        return 0.0
    lam = (M * M - (m + m_s) ** 2) * (M * M - (m - m_s) ** 2)
    amp2 = (abs(a) ** 2 + abs(b) ** 2) * (M * M + m * m - m_s * m_s) / 2.0 + 2.0 * m * M * (a * np.conj(b)).real
    return math.sqrt(lam) / (16.0 * math.pi * M**3) * float(amp2)


def couplings_to_light(uv: TChannelPoint) -> dict[str, dict[str, tuple[complex, complex]]]:
    """(a, b) of fbar (a P_R + b P_L) F phi for each heavy eigenstate F in (U, D1, D2) and flavour f."""
    _, ul, ur = heavy_down_states(uv)
    out: dict[str, dict[str, tuple[complex, complex]]] = {"U": {}}
    for q, y in zip(UP, up_yukawas(uv)):
        out["U"][q] = (complex(y), 0j)
    for k, name in enumerate(("D1", "D2")):
        out[name] = {q: (uv.y_q[p] * ur[0, k], np.conj(uv.y_d[p]) * ul[1, k]) for p, q in enumerate(DOWN)}
    return out


def widths(uv: TChannelPoint) -> dict[str, dict[str, float]]:
    """Partial widths (GeV) Gamma(F -> q phi) of F = U (up component of Q, mass m_Q), D1, D2 (the
    down-type mass eigenstates) into each flavour, plus ``"mass"`` and ``"total_q_phi"`` per state.
    Heavy-to-heavy modes (h, Z, W) are not included (module docstring)."""
    masses, _, _ = heavy_down_states(uv)
    mstate = {"U": uv.m_Q, "D1": float(masses[0]), "D2": float(masses[1])}
    mq = quark_masses()
    out: dict[str, dict[str, float]] = {}
    for state, cpl in couplings_to_light(uv).items():
        row = {q: partial_width(mstate[state], mq[q], uv.m_phi, a, b) for q, (a, b) in cpl.items()}
        row["total_q_phi"] = sum(row.values())
        row["mass"] = mstate[state]
        out[state] = row
    return out


# ----------------------------------------------------------------------------- dipoles


def _loop_i(m: float, m_phi: float) -> float:
    """I = int_0^1 dz (1-z)^2 / ((1-z) m^2 + z m_phi^2) (closed form; -> 1/(2 m^2) for m_phi -> 0)."""
    r = (m_phi / m) ** 2  # 0 < r < 1 (validated: m > m_phi)
    d = 1.0 - r
    # with u = 1 - z: int_0^1 du u^2 / (m^2 (r + u d)) = (1/m^2) [1/(2d) - r/d^2 + (r^2/d^3) ln(1/r)]
    return (0.5 / d - r / d**2 + r * r / d**3 * math.log(1.0 / r)) / (m * m)


def dipoles(uv: TChannelPoint) -> dict[str, np.ndarray]:
    """One-loop dipole coefficients (GeV^-1), 3x3 over (d, s, b): ``"photon"``: C of
    dbar_i sigma^{mu nu} P_R d_j F_{mu nu}; ``"gluon"``: C of dbar_i sigma^{mu nu} T^A P_R d_j G^A_{mu nu}
    divided by g_s (i.e. the coefficient for g_s = 1). Chirally enhanced (heavy-mass) part only."""
    masses, _, _ = heavy_down_states(uv)
    cpl = couplings_to_light(uv)
    s = np.zeros((3, 3), dtype=complex)
    for k, name in enumerate(("D1", "D2")):
        a = np.array([cpl[name][q][0] for q in DOWN])
        b = np.array([cpl[name][q][1] for q in DOWN])
        s += masses[k] * _loop_i(float(masses[k]), uv.m_phi) * np.outer(a, b.conj())
    e = math.sqrt(4.0 * math.pi * alpha_em())
    return {"photon": -e * Q_D / (32.0 * math.pi**2) * s, "gluon": -1.0 / (32.0 * math.pi**2) * s}
