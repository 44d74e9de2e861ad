"""Belle II's coordinate convention, pinned from outside the code under test.

Reference (typed here, not read from evtgen): Belle II's own software, basf2
``framework/scripts/beamparameters.py``, preset "SuperKEKB": beam angles to the solenoid
axis z ``angleXHER = +0.0415`` rad and ``angleXLER = -0.0415`` rad, "negative gets converted
into pi - |angle|", each four-vector (0, 0, p, E) rotated about y by that angle
(RotationY). So both beams have p_x > 0 and the c.m. system moves towards +x (and +z, the HER
direction). Beam energies 7.004 / 4.002 GeV: SuperKEKB design (Belle II Physics Book,
arXiv:1808.10567, sec. 2), giving sqrt(s) at the Upsilon(4S) (10.579 GeV, PDG) and the
boost beta*gamma = 0.287 quoted there ("about 0.28").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evtgen.frames import belle2_beams

M_E = 0.51099895e-3
E_HER, E_LER, HALF_ANGLE = 7.004, 4.002, 0.0415


def _rot_y(p: float, e: float, angle: float) -> np.ndarray:
    # ROOT::Math::RotationY(angle) applied to (0, 0, p): (p sin, 0, p cos)
    return np.array([p * math.sin(angle), 0.0, p * math.cos(angle), e])


def _reference_beta() -> np.ndarray:
    her = _rot_y(math.sqrt(E_HER**2 - M_E**2), E_HER, HALF_ANGLE)
    ler = _rot_y(math.sqrt(E_LER**2 - M_E**2), E_LER, math.pi - HALF_ANGLE)
    tot = her + ler
    return tot[:3] / tot[3]


def test_cm_boost_direction_and_size():
    beta = np.asarray(belle2_beams().beta_cm, float)
    ref = _reference_beta()
    # the same arithmetic on the same inputs: rounding-level agreement
    np.testing.assert_allclose(beta, ref, rtol=1e-12, atol=1e-15)
    # the convention, stated as signs: +x (both beams tilted to +x), +z (HER direction), no y
    assert beta[0] > 0.04 and beta[2] > 0.27 and beta[1] == 0.0
    bg = np.linalg.norm(beta) / math.sqrt(1 - beta @ beta)
    assert bg == pytest.approx(0.287, abs=0.002)  # Physics Book: beta*gamma = 0.287 (three digits)


def test_sqrt_s_at_upsilon4s():
    # PDG m(Upsilon(4S)) = 10.5794 GeV; the design energies give it to 2 MeV (their digits)
    assert belle2_beams().sqrt_s == pytest.approx(10.5794, abs=0.002)
