"""Experiment frames: Belle II e+e- -> Upsilon(4S) -> B B, and the NA62 K+ beam.

Beam parameters come from ``data/beams.yaml``. Coordinates: Belle II's, z along the
solenoid axis which bisects the crossing angle, x in the ring plane; NA62's, z along the
beam line from the target (vertex in metres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import constants as C
from .errors import PhiphiError
from .sampler import BELLE2, NA62, REST

FRAMES = ("lab", "rest")
ELECTRON_MASS = 0.51099895e-3  # GeV, CODATA 2018


@dataclass(frozen=True)
class Belle2Beams:
    """Belle II collision kinematics derived from the beam energies and crossing angle."""

    p_e_minus: np.ndarray
    p_e_plus: np.ndarray

    @property
    def p_cm(self) -> np.ndarray:
        return self.p_e_minus + self.p_e_plus

    @property
    def sqrt_s(self) -> float:
        p = self.p_cm
        return float(np.sqrt(p[3] ** 2 - p[0] ** 2 - p[1] ** 2 - p[2] ** 2))

    @property
    def beta_cm(self) -> np.ndarray:
        p = self.p_cm
        return p[:3] / p[3]

    def beam_axis_cm(self) -> np.ndarray:
        """Direction of the e- beam in the c.m. frame (the Upsilon(4S) spin axis)."""
        from .kinematics import boost

        b = self.beta_cm
        v = boost(*self.p_e_minus, -b[0], -b[1], -b[2])
        n = np.array(v[:3])
        return n / np.linalg.norm(n)


def belle2_beams() -> Belle2Beams:
    """The SuperKEKB beam four-momenta and boost of the Belle II c.m. frame (from beams.yaml)."""
    cfg = C.load_yaml("beams.yaml")["belle2"]
    half = 0.5 * float(cfg["crossing_angle"])
    e1, e2 = float(cfg["e_minus_energy"]), float(cfg["e_plus_energy"])
    p1 = np.sqrt(e1**2 - ELECTRON_MASS**2)
    p2 = np.sqrt(e2**2 - ELECTRON_MASS**2)
    pm = np.array([p1 * np.sin(half), 0.0, p1 * np.cos(half), e1])
    pp = np.array([p2 * np.sin(half), 0.0, -p2 * np.cos(half), e2])
    return Belle2Beams(pm, pp)


def check_frame(frame: object) -> str:
    """``frame`` if it is one of FRAMES (lab, rest), else a PhiphiError."""
    if frame not in FRAMES:
        raise PhiphiError(f"frame = {frame!r}; choose one of {', '.join(FRAMES)}")
    return str(frame)


def frame_parameters(experiment: str, frame: str, parent: str) -> tuple[int, np.ndarray]:
    """(frame code, parameter array) for the sampler kernel."""
    if frame not in FRAMES:
        raise PhiphiError(f"unknown frame {frame!r}; choose one of {', '.join(FRAMES)}")
    if frame == "rest":
        return REST, np.zeros(7)
    if experiment == "belle2":
        beams = belle2_beams()
        m = C.mass(parent)
        s4 = beams.sqrt_s**2 / 4.0
        if s4 <= m * m:
            raise PhiphiError(f"sqrt(s) = {beams.sqrt_s:.4f} GeV is below the {parent} pair threshold")
        p_star = np.sqrt(s4 - m * m)
        beta = beams.beta_cm
        b2 = float(beta @ beta)
        gamma = 1.0 / np.sqrt(1.0 - b2)
        axis = beams.beam_axis_cm()
        e1 = np.cross([0.0, 1.0, 0.0], axis)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(axis, e1)
        return BELLE2, np.concatenate([beta, axis, [p_star, gamma, (gamma - 1.0) / b2], e1, e2])
    if experiment == "na62":
        cfg = C.load_yaml("beams.yaml")["na62"]
        return NA62, np.array(
            [
                float(cfg["kaon_momentum"]),
                float(cfg["kaon_momentum_rms"]),
                float(cfg["beam_slope_x"]),
                float(cfg["fiducial_z_min"]),
                float(cfg["fiducial_z_max"]),
                C.ctau_m(parent),
            ]
        )
    raise PhiphiError(f"no lab frame for experiment {experiment!r}")
