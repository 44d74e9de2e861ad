"""The statistics engine (analyses.stats) on the released Belle II workspace, against pyhf.

pyhf is the independent party for (1) the likelihood: pyhf's ``model.logpdf`` at every
parameter point our fits return; (2) the minimisation: pyhf's own optimiser (scipy), started
from our profile point, finds no deeper minimum; (3) the asymptotic formulae: pyhf's q~mu
transformation and ``AsymptoticTestStatDistribution`` p-values (the code behind
``pyhf.infer.hypotest(..., test_stat="qtilde", calctype="asymptotics")``) applied to the test
statistics give the engine's CLs, and CLs = 0.05 at the engine's upper limit.

A full ``pyhf.infer.hypotest`` with minuit from pyhf's suggested start takes ~80 s per fit on
this 232-parameter workspace (4 fits per mu), too slow for the suite; run once by hand it stopped
with pyhf's FailedMinimization (minuit) at the first mu, so (2) is checked from our points instead.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analyses import belle2_bknunu_2023 as A
from analyses import stats

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def released():
    rl = A.ReleasedLikelihood()
    return rl, stats.fit(rl, mu_scale=1.0, method="cls")


def _pyhf_cls(q_tilde: float, q_asimov: float) -> float:
    # pyhf 0.7 AsymptoticCalculator.teststatistic (qtilde branch) and pvalues, verbatim in logic
    from pyhf.infer.calculators import AsymptoticTestStatDistribution

    sq, sqa = math.sqrt(max(q_tilde, 0.0)), math.sqrt(q_asimov)
    teststat = sq - sqa if sq <= sqa else (q_tilde - q_asimov) / (2 * sqa)
    sb = AsymptoticTestStatDistribution(-sqa)
    b = AsymptoticTestStatDistribution(0.0)
    clsb, clb = float(sb.pvalue(teststat)), float(b.pvalue(teststat))
    return clsb / clb


def test_engine_best_fit_and_interval_on_the_released_workspace(released):
    rl, fit = released
    # pyhf numpy+minuit fit of the released workspace (run once, 80 s): mu_hat = 4.59905, -2lnL = -23.33428
    assert fit.mu_hat == pytest.approx(4.59905, abs=2e-4)
    assert fit.twice_nll_best == pytest.approx(-23.33428, abs=1e-4)
    # the interval edges are where 2 Delta NLL = 1 (Wilks), checked on the likelihood itself
    for edge in fit.interval_68:
        assert rl.twice_nll(edge) - fit.twice_nll_best == pytest.approx(1.0, abs=1e-4)


def test_likelihood_values_and_minima_are_pyhf_s(released):
    import pyhf

    rl, fit = released
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())
    data = np.asarray(pyhf.Workspace(rl.spec).data(rl.model))
    for mu in (fit.mu_hat, fit.upper_limit_95):
        ours = rl.fast.fit(rl.main, fixed={rl.poi: mu}, init=rl.best.pars)
        # (1) the same function: pyhf's logpdf at our point (rounding of O(1e4) sums)
        assert -2.0 * float(rl.model.logpdf(ours.pars, data)[0]) == pytest.approx(ours.twice_nll, abs=1e-8)
        # (2) a minimum: pyhf's optimiser from there goes no deeper than its tolerance (1e-6)
        _, twice = pyhf.infer.mle.fixed_poi_fit(mu, data, rl.model, init_pars=list(ours.pars), return_fitted_val=True)
        assert ours.twice_nll <= float(twice) + 1e-6


def test_cls_against_pyhf_asymptotics(released):
    rl, fit = released
    a0 = rl.twice_nll_asimov(0.0)
    for mu in (5.5, fit.upper_limit_95, 8.0):
        q = max(rl.twice_nll(mu) - fit.twice_nll_best, 0.0) if mu > fit.mu_hat else 0.0
        qa = rl.twice_nll_asimov(mu) - a0  # q~mu on the Asimov data, as pyhf computes it at each mu
        ref = _pyhf_cls(q, qa)
        assert stats.cls_value(q, qa) == pytest.approx(ref, rel=1e-9, abs=0)
        # the engine takes sigma_A from one Asimov fit (at the 95% interval edge) and uses
        # q_A = (mu/sigma_A)^2 elsewhere; on this nearly parabolic Asimov likelihood that costs
        # < 3% relative in CLs over mu in [5.5, 8]
        sigma_a = fit.interval_95[1] / math.sqrt(rl.twice_nll_asimov(fit.interval_95[1]) - a0)
        assert stats.cls_value(q, (mu / sigma_a) ** 2) == pytest.approx(ref, rel=0.03, abs=0)
    # at the engine's limit pyhf's CLs is 0.05 (the sigma_A approximation: +-0.002)
    q = rl.twice_nll(fit.upper_limit_95) - fit.twice_nll_best
    qa = rl.twice_nll_asimov(fit.upper_limit_95) - a0
    assert _pyhf_cls(q, qa) == pytest.approx(0.05, abs=0.002)
