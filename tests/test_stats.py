"""The one statistics engine (analyses/stats.py) against independent calculations: pyhf on
toy workspaces of the same model, closed forms for one Poisson bin, and the conversions.
(The released Belle II workspace is checked against pyhf in tests/test_stats_belle2_pyhf.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize
from scipy import stats as sps

from analyses import result, stats
from evtgen.model import model_point


def _pyhf_model(s, b, db):
    """The same model in pyhf: Poisson bins, background b + db*theta per bin (histosys,
    piecewise-linear = additive), theta ~ N(0, 1), one per bin."""
    import pyhf

    samples = [
        {"name": "signal", "data": list(s), "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
        {
            "name": "bkg",
            "data": list(b),
            "modifiers": [
                {
                    "name": f"theta{i}",
                    "type": "histosys",
                    "data": {
                        "hi_data": [b[j] + (db[i] if j == i else 0.0) for j in range(len(b))],
                        "lo_data": [b[j] - (db[i] if j == i else 0.0) for j in range(len(b))],
                    },
                }
                for i in range(len(b))
            ],
        },
    ]
    return pyhf.Model({"channels": [{"name": "sr", "samples": samples}]}, poi_name="mu")


TOYS = [
    ([104.0, 68.0, 14.0], [100.0, 60.0, 10.0], [8.0, 5.0, 2.0], [3.0, 5.0, 2.5]),  # obs, bkg, err, signal
    ([4.0], [2.5], [0.6], [1.2]),
    ([250.0, 180.0], [240.0, 170.0], [12.0, 15.0], [10.0, 6.0]),
]


@pytest.mark.parametrize("obs,b,db,s", TOYS)
def test_profile_likelihood_and_cls_against_pyhf(obs, b, db, s):
    """Same model, same asymptotics: -2 ln L ratios to 1e-4 absolute (minimiser tolerances),
    mu_hat to 1e-3 relative, CLs at our upper limit 0.05 within 2% (pyhf's own fits)."""
    import pyhf

    lik = stats.PoissonCounts(obs, b, db, s)
    fit = stats.fit(lik, mu_scale=1.0)
    model = _pyhf_model(s, b, db)
    data = list(obs) + model.config.auxdata
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0.0, 100.0)
    best, twice_nll_best = pyhf.infer.mle.fit(data, model, par_bounds=bounds, return_fitted_val=True)
    assert float(best[model.config.poi_index]) == pytest.approx(fit.mu_hat, rel=1e-3, abs=1e-4)
    # pyhf's NLL includes the Gaussian constraint's normalisation; compare differences
    for mu in (0.0, 0.5 * fit.upper_limit_95, fit.upper_limit_95):
        _, t = pyhf.infer.mle.fixed_poi_fit(mu, data, model, par_bounds=bounds, return_fitted_val=True)
        ours = lik.twice_nll(mu) - fit.twice_nll_best
        assert float(t - twice_nll_best) == pytest.approx(ours, abs=1e-4)
    # pyhf's numpy backend evaluates both branches of its q~mu formula (one divides by zero there)
    with np.errstate(divide="ignore", invalid="ignore"):
        cls = pyhf.infer.hypotest(fit.upper_limit_95, data, model, test_stat="qtilde", par_bounds=bounds)
        cls_exp = pyhf.infer.hypotest(
            fit.expected_upper_limit_95, data, model, test_stat="qtilde", par_bounds=bounds, return_expected=True
        )[1]
    assert float(cls) == pytest.approx(0.05, rel=0.02)
    assert float(cls_exp) == pytest.approx(0.05, rel=0.02)


def test_intervals_are_wilks_crossings():
    lik = stats.PoissonCounts([20.0], [10.0], [0.0], [1.0])
    fit = stats.fit(lik, mu_scale=5.0)
    assert fit.mu_hat == pytest.approx(10.0, rel=1e-6)  # n - b
    for (lo, hi), level in ((fit.interval_68, 1.0), (fit.interval_95, 3.841458820694124)):
        for mu in (lo, hi):
            assert lik.twice_nll(mu) - fit.twice_nll_best == pytest.approx(level, abs=1e-6)


def test_exact_cls_at_zero_events_is_the_textbook_three():
    """n = 0: CLs = exp(-s), so the 95% limit is -ln 0.05 = 2.996 events for any b; the
    asymptotic formula (2.08 here) is not valid at zero counts."""
    lik = stats.PoissonCounts([0.0], [0.252], [0.0], [1.0])
    exact = stats.fit(lik, mu_scale=3.0, method="cls_exact")
    assert exact.upper_limit_95 == pytest.approx(-math.log(0.05), rel=1e-9, abs=0)
    asym = stats.fit(lik, mu_scale=3.0)
    assert asym.upper_limit_95 < 0.75 * exact.upper_limit_95


def test_exact_cls_matches_closed_form_with_background():
    n, b = 3, 1.7
    s_ul = optimize.brentq(lambda s: sps.poisson.cdf(n, s + b) / sps.poisson.cdf(n, b) - 0.05, 0, 50, xtol=1e-12)
    fit = stats.fit(stats.PoissonCounts([n], [b], [0.0], [2.0]), mu_scale=1.0, method="cls_exact")
    assert 2.0 * fit.upper_limit_95 == pytest.approx(s_ul, rel=1e-8, abs=0)


def test_gaussian_limit_reproduces_the_published_one_sided_limit():
    g = stats.GaussianLimit(upper_limit=4.0e-5, cl=0.90, reference=1.0e-5)
    # at the published limit 2 Delta NLL equals z_0.90^2 (one-sided 90%)
    assert g.twice_nll(4.0) == pytest.approx(sps.norm.ppf(0.90) ** 2, rel=1e-12, abs=0)
    fit = stats.fit(g, mu_scale=1.0)
    # CLs of a half-Gaussian at 0: the 95% limit is 1.96 sigma = UL_90 * 1.96/1.2816
    assert fit.upper_limit_95 * 1e-5 == pytest.approx(4.0e-5 * 1.959964 / 1.281552, rel=1e-5, abs=0)


def test_parameter_conversion_and_schema():
    assert stats.to_parameter(4.0, 1e-8, "quadratic") == pytest.approx(2e-8, rel=1e-15, abs=0)
    assert stats.to_parameter(4.0, 1e-6, "linear") == pytest.approx(4e-6, rel=1e-15, abs=0)
    assert stats.to_signal_strength(2e-8, 1e-8, "quadratic") == pytest.approx(4.0, rel=1e-15, abs=0)
    lik = stats.PoissonCounts([5.0], [3.0], [0.5], [2.0])
    fit = stats.fit(lik)
    p = model_point(mphi=1.0, couplings={"CS_sb": 3e-8}, channel="b2kphiphi")
    r = result.from_fit(lik, fit, analysis="t", point=p, parameter="CS_sb", reference=1e-8, scaling="quadratic")
    d = r.as_dict()
    assert d["upper_limit_95"] == pytest.approx(1e-8 * math.sqrt(fit.upper_limit_95), rel=1e-12, abs=0)
    assert d["no_half"]["upper_limit_95"] == pytest.approx(0.5 * d["upper_limit_95"], rel=1e-15, abs=0)
    assert d["twice_nll_point"] == pytest.approx(lik.twice_nll(9.0), rel=1e-12, abs=0)  # (3e-8/1e-8)^2
    assert d["excluded_95"] == (9.0 > fit.upper_limit_95)
    for key in ("analysis", "channel", "mphi", "parameter", "unit", "convention", "best_fit", "interval_68",
                "interval_95", "upper_limit_95", "expected_upper_limit_95", "twice_nll_best", "twice_nll_null",
                "sensitivity", "sensitivity_reason", "provenance"):  # fmt: skip
        assert key in d


def test_no_sensitivity_when_the_signal_vanishes():
    lik = stats.PoissonCounts([5.0], [5.0], [0.5], [1e-300])
    fit = stats.fit(lik)
    assert not fit.sensitivity and fit.upper_limit_95 is None and "does not reach" in fit.reason
    assert np.isfinite(fit.twice_nll_null)


def test_profile_is_deterministic_and_no_spurious_limit_near_zero():
    """The per-bin nuisances are profiled in closed form: -2 ln L(mu) does not depend on what
    was evaluated before, and CLs never excludes a signal strength the data cannot test (a
    monojet-like signal in the last bins once gave an 'observed limit' of 1e-9 from minimiser
    noise against an Asimov q_A of 1e-12)."""
    obs = [1791624.0, 752328.0, 313912.0, 1663.0, 738.0, 413.0, 187.0, 207.0]
    bkg = [1783000.0, 753000.0, 314000.0, 1640.0, 754.0, 359.0, 182.0, 218.0]
    err = [26000.0, 9000.0, 3500.0, 40.0, 20.0, 10.0, 6.0, 9.0]
    sig = [0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 4.3, 34.6]
    a = stats.PoissonCounts(obs, bkg, err, sig)
    b = stats.PoissonCounts(obs, bkg, err, sig)
    first = a.twice_nll(0.0)
    for mu in (3.0, 0.5, 1e-6):
        a.twice_nll(mu)
    assert a.twice_nll(0.0) == first == b.twice_nll(0.0)
    fit = stats.fit(a)
    assert 0.3 < fit.upper_limit_95 / fit.expected_upper_limit_95 < 3.0
