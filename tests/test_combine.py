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


# --- scans: one recast per (analysis, mass), the likelihood reused along the couplings ------------
def _grid_rows(analyses: str, couplings: list[float], masses=(0.1, 0.12)):
    from analyses import scanning

    grid = {"mphi": list(masses), "CS_sb": couplings}
    return scanning.build_grid("combined", grid, seed=5, options={"analyses": analyses, "mc_seed": 1})


def _counting_recasts(monkeypatch):
    calls = []
    original = registry.recast

    def counting(name, point, **options):
        calls.append((name, point.masses.get("mphi"), point.couplings.get("CS_sb")))
        return original(name, point, **options)

    monkeypatch.setattr(registry, "recast", counting)
    return calls


def test_group_equals_point_by_point_and_recasts_once_per_mass(monkeypatch):
    from analyses import scanning

    pts = _grid_rows("toy_counts,toy_kaon", [0.3e-8, 1e-8, 2e-8, 5e-8])
    # point by point (no group: every analysis recast at every point)
    single = [scanning.run_point("combined", p) for p in pts]
    calls = _counting_recasts(monkeypatch)
    anchors = {}
    for p in pts:
        anchors.setdefault(scanning.group_key(p), p)
    groups: dict = {}
    for p in pts:
        groups.setdefault(scanning.group_key(p), []).append(p)
    grouped = [row for k, g in groups.items() for row in scanning.run_group("combined", anchors[k], g)]
    # toy_counts recast once per mass (2), the combination itself at each of the 8 points
    assert sum(1 for c in calls if c[0] == "toy_counts") == 2
    assert sum(1 for c in calls if c[0] == "combined") == len(pts)
    for a, b in zip(single, grouped):
        assert a["index"] == b["index"]
        # the same likelihood object at the same mu: the toy's profile is closed-form (exact),
        # so only rounding of mu = (C / C_ref)^2 between the two references remains
        assert b["twice_dnll_point"] == pytest.approx(a["twice_dnll_point"], rel=1e-12, abs=1e-12)
        assert b["extras_twice_dnll_toy_counts"] == pytest.approx(
            a["extras_twice_dnll_toy_counts"], rel=1e-12, abs=1e-12
        )
        assert b["extras_excluded95_toy_counts"] == a["extras_excluded95_toy_counts"]
    # resume: a partial group (its anchor already done) gives bit-identical rows
    k = scanning.group_key(pts[0])
    rest = scanning.run_group("combined", anchors[k], groups[k][2:])
    assert rest == grouped[2:4]
    # outside a group nothing is memoised: the same point twice is two recasts
    n = len(calls)
    scanning.run_point("combined", pts[1])
    assert sum(1 for c in calls[n:] if c[0] == "toy_counts") == 1


def test_group_with_belle2_equals_point_by_point():
    # the real Belle II likelihood along the coupling: its profile fits are Newton-converged
    # (-2 ln L to ~1e-12), so reuse and fresh recast agree to far below any physics tolerance
    from analyses import scanning

    pts = _grid_rows("belle2", [0.5e-7, 1.2e-7, 2e-7], masses=(1.0,))
    single = [scanning.run_point("combined", p) for p in pts]
    grouped = scanning.run_group("combined", pts[0], pts)
    for a, b in zip(single, grouped):
        assert b["extras_status_belle2"] == "likelihood"
        assert b["twice_dnll_point"] == pytest.approx(a["twice_dnll_point"], rel=0, abs=1e-7)


def test_combined_scan_on_two_workers_equals_in_process_and_resumes(tmp_path):
    # one 2-worker cluster (the expensive part); the reference table is the in-process
    # evaluation of the groups, i.e. what one worker computes
    from analyses import scanning
    from evtgen.parallel import dask_client

    grid = {"mphi": [0.1, 0.12, 0.14], "CS_sb": [0.3e-8, 1e-8, 2e-8]}
    opts = {"analyses": "toy_counts,toy_kaon", "mc_seed": 1}
    pts = scanning.build_grid("combined", grid, seed=2, options=opts)
    local = [row for g in (pts[0:3], pts[3:6], pts[6:9]) for row in scanning.run_group("combined", g[0], g)]
    ref, two, part = tmp_path / "ref.csv", tmp_path / "two.csv", tmp_path / "part.csv"
    scanning.write_results(ref, [{k: r.get(k) for k in local[0]} for r in local])
    with dask_client(workers=2) as c:
        rows = scanning.run_scan("combined", grid, seed=2, options=opts, output=two, cluster={"client": c})
        assert two.read_bytes() == ref.read_bytes()
        # resume with two rows of a mass group missing, one of them its anchor: identical file
        scanning.write_results(part, [r for r in rows if r["index"] not in (3, 5)])
        scanning.run_scan("combined", grid, seed=2, options=opts, output=part, cluster={"client": c})
    assert part.read_bytes() == ref.read_bytes()
