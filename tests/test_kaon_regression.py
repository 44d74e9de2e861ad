"""Regression pins of the kaon recasts' published-number checks and headline results.

Measured with the code before the migration onto the spine (issue 8, commit 3477c45):

    NA62 2016-18 expected SM (BR_SM / SES through the emulation)      10.01  (paper: 10.0)
    NA62 2016-22 |C_S^sd| 95% CL, one count SR1+SR2, Wilks one-sided  1.20e-11 (m_phi = 0.05 GeV)
                                                                      1.99e-11 (0.10), 4.28e-11 (0.12)
    KOTO 2021 |C_S^sd| 95% CL (exact CLs, n_obs = 0) at m_phi = 0.1   6.47e-11

The migrated code reproduces them with ``method="wilks"`` (the old statistics); its default,
the engine's asymptotic CLs, is pinned beside them (measured after the migration, 4150008+).
Tolerances: the SM yield is BR_SM/SES = 10.012 by construction (1e-3: rounding); the limits
depend on the emulated acceptance of 200k events per mass (binomial error ~0.5% on A, 0.25%
on |C|) and on the fitters' tolerances: 1% on |C|.
"""

from __future__ import annotations

import math

import pytest

from analyses import registry
from evtgen.model import model_point

NA62_EXPECTED_SM_2016_18 = 10.012
NA62_LIMITS_2016_22_WILKS = {0.05: 1.2022e-11, 0.10: 1.9908e-11, 0.12: 4.2813e-11}  # pre-migration
NA62_LIMITS_2016_22_CLS = {0.05: 1.2104e-11, 0.10: 2.0043e-11, 0.12: 4.3105e-11}  # engine default
KOTO_LIMIT_01_EXACT = 6.4735e-11  # pre-migration (exact Poisson CLs, n_obs = 0: s_UL = -ln 0.05)
KOTO_LIMIT_01_ENGINE = 5.4381e-11  # engine's asymptotic CLs with q_A per mu (s_UL = 2.11 events at n_obs = 0)


def test_na62_2016_18_expected_sm():
    r = registry.recast("na62", model_point(mphi=0.1, seed=1), dataset="2016-18")
    assert r.extras["expected_sm"] == pytest.approx(NA62_EXPECTED_SM_2016_18, rel=1e-3, abs=0)
    assert r.extras["expected_sm"] == pytest.approx(r.extras["expected_sm_published"], abs=0.05)  # the paper's 10.0


@pytest.mark.parametrize("mphi", sorted(NA62_LIMITS_2016_22_WILKS))
def test_na62_headline_limits(mphi):
    point = model_point(mphi=mphi, seed=1)
    old = registry.recast("na62", point, dataset="2016-22", method="wilks")
    assert old.upper_limit_95 == pytest.approx(NA62_LIMITS_2016_22_WILKS[mphi], rel=0.01, abs=0)
    new = registry.recast("na62", point, dataset="2016-22")
    assert new.upper_limit_95 == pytest.approx(NA62_LIMITS_2016_22_CLS[mphi], rel=0.01, abs=0)


def test_koto_headline_limit():
    r = registry.recast("koto", model_point(mphi=0.1))  # default: exact Poisson CLs (n_obs = 0)
    assert r.upper_limit_95 == pytest.approx(KOTO_LIMIT_01_EXACT, rel=0.01, abs=0)
    asym = registry.recast("koto", model_point(mphi=0.1), method="cls")
    assert asym.upper_limit_95 == pytest.approx(KOTO_LIMIT_01_ENGINE, rel=0.01, abs=0)
    # the pre-migration exact CLs number from the same expected yield (independent closed form)
    exact = r.value_at_point * math.sqrt(-math.log(0.05) / r.extras["expected_events"])
    assert exact == pytest.approx(KOTO_LIMIT_01_EXACT, rel=0.01, abs=0)
