"""The combination (analyses.combine): one analysis alone equals its own result, an analysis
without sensitivity changes nothing, limits become the stated approximate likelihood, the
combined pseudo-analysis, applicability, allowed regions and the memo along a scan.

Toy analyses: tests/combine_toys/*.yaml (found through PHIPHI_ANALYSIS_PATH), deterministic."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from analyses import combine, registry, stats
from evtgen.errors import PhiphiError
from evtgen.model import model_point

TOYS = str(Path(__file__).parent / "combine_toys")
TOY_NAMES = ["toy_counts", "toy_kaon", "toy_blind", "toy_limit"]


@pytest.fixture(autouse=True)
def toys(monkeypatch):
    monkeypatch.setenv(registry.PATH_VARIABLE, TOYS)


def point(**cpl):
    return model_point(mphi=0.1, couplings=cpl or {"CS_sb": 1e-8, "CS_sd": 1e-11}, seed=3)


def test_one_analysis_alone_equals_its_own_result():
    p = point(CS_sb=1.2e-8)
    own = registry.recast("toy_counts", p)
    comb = combine.fit(p, ["toy_counts"])
    # exact: the combination reads the same Result (same seed, same options)
    assert comb.twice_dnll == own.twice_nll_point - own.twice_nll_null
    assert comb.by_name["toy_counts"].status == combine.LIKELIHOOD
    assert comb.dominant == "toy_counts"
    combined = registry.recast("combined", p, analyses="toy_counts")
    assert combined.twice_dnll_point == pytest.approx(own.twice_dnll_point, rel=1e-12, abs=0)
    assert combined.extras["twice_dnll_toy_counts"] == own.twice_dnll_point


def test_real_analysis_alone_equals_its_own_result():
    # KOTO is cheap (a counting likelihood): the combination of it alone is its result
    p = model_point(mphi=0.12, couplings={"CS_sd": 3e-11}, seed=1)
    own = registry.recast("koto", p)
    comb = combine.fit(p, ["koto"])
    assert comb.twice_dnll == own.twice_dnll_point
    assert comb.excluded_95 == (own.twice_dnll_point > stats.Q_95)


def test_insensitive_analysis_changes_nothing():
    p = point()
    base = combine.fit(p, ["toy_counts", "toy_kaon"])
    more = combine.fit(p, ["toy_counts", "toy_kaon", "toy_blind"])
    assert more.twice_dnll == base.twice_dnll
    assert more.verdict == base.verdict and more.dominant == base.dominant
    blind = more.by_name["toy_blind"]
    assert blind.status == combine.NO_SENSITIVITY and blind.twice_dnll == 0.0 and "blind" in blind.reason


def test_independent_analyses_add():
    p = point()
    a = registry.recast("toy_counts", p.replace(couplings={"CS_sb": 1e-8})).twice_dnll_point
    b = registry.recast("toy_kaon", p.replace(couplings={"CS_sd": 1e-11})).twice_dnll_point
    comb = combine.fit(p, ["toy_counts", "toy_kaon"])
    assert comb.twice_dnll == pytest.approx(a + b, rel=1e-14, abs=0)
    assert "independent" in comb.note and "sum" in comb.note
    # two couplings -> 2 dof: thresholds chi2_2(0.68, 0.95)
    assert comb.n_parameters == 2
    assert comb.threshold_95 == pytest.approx(5.991464547107979, rel=1e-12, abs=0)


def test_limit_only_gives_the_stated_half_gaussian():
    # value = UL/2 of a coupling: rate ratio 1/4, -2 Delta ln L = (1.6449 / 4)^2
    p = model_point(mphi=0.1, couplings={"CS_ss": 5e-7}, seed=1)
    c = combine.fit(p, ["toy_limit"]).by_name["toy_limit"]
    assert c.status == combine.LIMIT
    z = 1.6448536269514722
    assert c.twice_dnll == pytest.approx((z / 4) ** 2, rel=1e-12, abs=0)
    assert "half-Gaussian" in c.likelihood_form
    # at the limit itself the approximate likelihood gives z^2 = 2.706 (the one-sided 95% CL value)
    assert combine.limit_twice_dnll(1.0, 1.0, "quadratic") == pytest.approx(stats.Q_95_ONE_SIDED, rel=1e-12, abs=0)


def test_applicability_and_channel_choice():
    p = model_point(mphi=0.1, couplings={"CS_sd": 1e-11}, seed=1)
    comb = combine.fit(p, TOY_NAMES)
    st = {c.analysis: c.status for c in comb.contributions}
    assert st["toy_counts"] == combine.NOT_APPLICABLE  # no CS_sb
    assert st["toy_limit"] == combine.NOT_APPLICABLE  # no CS_ss
    assert st["toy_kaon"] == combine.LIKELIHOOD
    # the point is restricted to the couplings each channel takes (CS_sb would be refused by k2piphiphi)
    p2 = point()
    assert combine.fit(p2, ["toy_kaon"]).by_name["toy_kaon"].status == combine.LIKELIHOOD
    # KOTO (a channel outside the channel registry) gets only the couplings its header names
    koto = combine.fit(model_point(mphi=0.1, couplings={"CS_sd": 1e-11, "CS_sb": 1e-8}, seed=1), ["koto"])
    assert koto.by_name["koto"].status == combine.LIKELIHOOD


def test_no_contribution_and_errors():
    p = model_point(mphi=0.1, couplings={"CS_uu": 1e-6}, seed=1)
    comb = combine.fit(p, ["toy_counts", "toy_kaon"])
    assert comb.twice_dnll == 0.0 and comb.dominant is None and "not constrained" in comb.verdict
    with pytest.raises(PhiphiError, match="unknown analysis"):
        combine.fit(p, ["nope"])
    with pytest.raises(PhiphiError, match="is a combination"):
        combine.fit(p, ["combined"])
    with pytest.raises(PhiphiError, match="ANALYSIS.OPTION=VALUE"):
        registry.recast("combined", p, analyses="toy_counts", analysis_options="attach")


def test_memo_reuses_the_likelihood_exactly():
    memo = combine.ProfileMemo()
    opts = {"toy_counts": {"attach": True}}
    for c in (0.5e-8, 1e-8, 2e-8):
        p = point(CS_sb=c)
        fresh = combine.fit(p, ["toy_counts"], options=opts).twice_dnll
        memo_val = combine.fit(p, ["toy_counts"], options=opts, memo=memo).twice_dnll
        # same likelihood object evaluated at the same mu; the profile is warm-started, so agreement
        # is to the optimiser's tolerance (L-BFGS-B on 2 nuisances: < 1e-6 in -2 ln L)
        assert memo_val == pytest.approx(fresh, rel=0, abs=1e-6)
    assert len(memo.entries) == 1


def test_allowed_regions_from_a_table():
    p_rows = []
    for i, (m, c) in enumerate((m, c) for m in (0.1, 0.12) for c in (0.0, 0.5e-8, 1e-8, 2e-8, 4e-8)):
        res = registry.recast(
            "combined", model_point(mphi=m, couplings={"CS_sb": c or 1e-30}, seed=1), analyses="toy_counts"
        )
        from analyses.scanning import flatten

        p_rows.append({"index": i, "mphi": m, "CS_sb": c, **flatten(res.as_dict())})
    reg = combine.allowed_regions(p_rows, ["CS_sb"])
    assert reg["dof"] == 1 and reg["thresholds"]["95"] == pytest.approx(stats.Q_95, rel=1e-12, abs=0)
    own = registry.recast("toy_counts", model_point(mphi=0.1, couplings={"CS_sb": 1e-8}, seed=1))
    lo, hi = own.interval_95
    per = reg["intervals"]["toy_counts"]["95"][0]
    # the allowed grid values are exactly those inside the analysis's own 95% CL interval
    inside = [c for c in (0.0, 0.5e-8, 1e-8, 2e-8, 4e-8) if lo <= c <= hi]
    assert per["lo"] == min(inside) and per["hi"] == max(inside)
    assert reg["intervals"]["combined"]["95"][0]["hi"] == per["hi"]
    with pytest.raises(PhiphiError, match="no column"):
        combine.allowed_regions(p_rows, ["CS_sd"])
    assert math.isfinite(reg["thresholds"]["68"])
