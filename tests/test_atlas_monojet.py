"""ATLAS monojet emulation (detector/atlas.py) and recast (analyses/atlas_monojet_2021.py)."""

from __future__ import annotations

import json
import math

import awkward as ak
import numpy as np
import pytest
import vector

import analyses.atlas_monojet_2021 as A
from detector import atlas
from evtgen.errors import PhiphiError

vector.register_awkward()


def _parton_events(pt, eta, phi=0.0, shat=None):
    pt = np.asarray(pt, float)
    eta = np.broadcast_to(np.asarray(eta, float), pt.shape)
    phi = np.broadcast_to(np.asarray(phi, float), pt.shape)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2)
    j = ak.zip({"px": px, "py": py, "pz": pz, "E": e}, with_name="Momentum4D")
    return ak.zip({"j": j, "shat": np.full(pt.shape, 1e6) if shat is None else shat}, depth_limit=1)


def test_published_tables_consistent():
    em, im = A.tables()
    assert list(em["region"]) == [f"EM{i}" for i in range(13)]
    # sigma95 = S95 / 139 fb^-1 (derived in the CSV); IM observed = sum of EM observed above the edge (checked on load)
    np.testing.assert_allclose(im["sigma95_obs_fb"], im["S95_obs_events"] / 139.0, rtol=0.02)
    assert im["sigma95_obs_fb"][0] == 736 and im["sigma95_obs_fb"][-1] == 0.288  # the ATLAS abstract


def test_jet_response_and_resolution_follow_card():
    """Smeared/true jet p_T: mean 1 and relative width = card resolution (log-normal), ±3%."""
    n = 40000
    for pt, eta in [(200.0, 0.3), (600.0, 2.0)]:
        r = atlas.simulate(_parton_events(np.full(n, pt), eta), seed=3)
        ratio = r.jet1_pt.to_numpy()[r.jet1_pt.to_numpy() > 0] / pt
        sig = atlas.jet_resolution(np.array([pt * np.cosh(eta)]), np.array([eta]))[0]
        assert ratio.mean() == pytest.approx(1.0, abs=3 * sig / math.sqrt(n) + 1e-3)
        assert ratio.std() == pytest.approx(sig, rel=0.03)


def test_met_is_truth_minus_mismeasurement_plus_soft_term():
    n = 40000
    pt = 400.0
    r = atlas.simulate(_parton_events(np.full(n, pt), 0.0), seed=4)
    # jet along x: MET_x fluctuates with the jet response, MET_y only with the soft term
    met_y = r.met.to_numpy() * np.sin(r.met_phi.to_numpy())
    assert met_y.std() == pytest.approx(atlas.packaged_card()["met"]["soft_term_sigma"], rel=0.03)
    np.testing.assert_allclose(r.met_true.to_numpy(), pt)


def test_selection_cuts():
    c = atlas.packaged_card()["selection"]
    # leading jet |eta| = 2.6 > 2.4 fails; MET below 200 fails; a normal event passes
    r = atlas.simulate(_parton_events([500.0, 500.0, 180.0], [0.0, 2.6, 0.0]), seed=1)
    assert list(r.pass_sr.to_numpy()) == [True, False, False]
    em = np.asarray(atlas.packaged_card()["binning"]["em_edges"])
    b = r.em_bin.to_numpy()[0]
    assert em[b] < r.met.to_numpy()[0] <= em[b + 1]
    assert c["max_jets"] == 4 and c["min_dphi"] == 0.4


def test_showered_input_with_lepton_veto():
    def objs(px, py):
        px, py = ak.Array(px, with_name=None), ak.Array(py)
        return ak.zip(
            {
                "px": ak.values_astype(px, np.float64),
                "py": ak.values_astype(py, np.float64),
                "pz": ak.values_astype(px * 0, np.float64),
                "E": ak.values_astype(np.hypot(px, py), np.float64),
            },
            with_name="Momentum4D",
        )

    jets = objs([[400.0], [400.0]], [[0.0], [0.0]])
    e = objs([[], [0.0]], [[], [30.0]])
    empty = objs([[], []], [[], []])
    ev = ak.zip(
        {
            "jets": jets,
            "electrons": e,
            "muons": empty,
            "photons": empty,
            "met_true_x": np.array([-400.0, -400.0]),
            "met_true_y": np.array([0.0, 0.0]),
        },
        depth_limit=1,
    )
    r = atlas.simulate(ev, seed=2)
    assert list(r.veto.to_numpy()) == [False, True]
    assert list(r.pass_sr.to_numpy()) == [True, False]


def _exact_card():
    """The packaged card with every smearing switched off: reconstructed = true."""
    import copy

    c = copy.deepcopy(atlas.packaged_card())
    c["jets"]["resolution"] = [[lo, hi, 0.0, 0.0, 0.0] for lo, hi, *_ in c["jets"]["resolution"]]
    c["met"]["soft_term_sigma"] = 0.0
    return c


def test_selection_thresholds_at_the_boundaries():
    """Events just above/below the E_T^miss > 200 GeV and leading-jet p_T > 150 GeV cuts of
    arXiv:2102.10874 (numbers from the paper, not from the card), with smearing off."""
    c = _exact_card()
    # one recoiling parton: E_T^miss = jet p_T
    r = atlas.simulate(_parton_events([199.0, 201.0, 249.0, 251.0], 0.0), seed=1, card=c)
    assert list(r.pass_sr.to_numpy()) == [False, True, True, True]
    assert list(r.em_bin.to_numpy()) == [-1, 0, 0, 1]  # EM0 = 200-250, EM1 = 250-300 GeV

    def one_jet(pt_jet, met):
        px = ak.Array([[pt_jet]])
        zero = ak.values_astype(px * 0.0, np.float64)
        j = ak.zip({"px": px, "py": zero, "pz": zero, "E": px}, with_name="Momentum4D")
        empty = ak.zip(
            {"px": zero[:, :0], "py": zero[:, :0], "pz": zero[:, :0], "E": zero[:, :0]}, with_name="Momentum4D"
        )
        ev = ak.zip(
            {"jets": j, "electrons": empty, "muons": empty, "photons": empty,
             "met_true_x": np.array([-met]), "met_true_y": np.array([0.0])},
            depth_limit=1,
        )  # fmt: skip
        return bool(atlas.simulate(ev, seed=1, card=c).pass_sr.to_numpy()[0])

    assert not one_jet(149.0, 400.0) and one_jet(151.0, 400.0)  # leading jet p_T > 150 GeV


def test_engine_em_limit_matches_pyhf_shapesys():
    """The engine's EM0-EM12 CLs limit (Gaussian-constrained background) against pyhf's
    uncorrelated_background (Poisson-constrained shapesys) on the same signal: the two
    constraint terms differ at O((db/b)^2) and the asymptotic CLs is the same formula, so 1%."""
    import pyhf

    em, _ = A.tables()
    s = np.linspace(5.0, 40.0, 13) * np.exp(-np.arange(13) / 6)  # a falling monojet-like signal
    obs, exp = A.em_limit(s)
    m = pyhf.simplemodels.uncorrelated_background(s.tolist(), em["n_bkg"].tolist(), em["n_bkg_err"].tolist())
    data = em["n_obs"].tolist() + m.config.auxdata
    for mu, target in ((obs, 0.05),):
        bounds = m.config.suggested_bounds()
        bounds[m.config.poi_index] = (0.0, 10 * mu)
        cls = float(pyhf.infer.hypotest(mu, data, m, test_stat="qtilde", par_bounds=bounds))
        assert cls == pytest.approx(target, rel=0.1)  # CLs at our limit; a 1% shift in mu moves CLs by ~5%
    assert exp > 0 and obs > 0


def test_regression_published_checks_before_the_refactor():
    """Pinned before the refactor (pyhf shapesys engine, seed 1, 20000 events): m_phi = 10 GeV,
    CG = 1e-6: UL 5.837e-8, expected 4.611e-8, best IM region IM9 with 7.156e-8, truncated at
    3 TeV 7.749e-8 GeV^-2. Both streams changed since: the detector smearing (per-event ziggurat
    streams, 2026-12-01) and the generator's (exact overweights, 2026-12-01 evening), so the pins
    hold within the sample's own MC spread. Smearing: the old code with detector seeds 2-4 on the
    old events gave UL 7.53-7.79e-8 (+-1.7%), hence 3%. The expected limit barely depends on the
    smearing but moves with the events: over generator seeds 1-6 it averaged 4.503e-8 with the old
    generator and 4.485e-8 with the new one (0.4% apart) with a +-2.5% spread from seed to seed,
    hence 5% (seed 1 gives 4.529e-8 now, -1.8%). The best IM region is the
    one with the best expected limit; IM8 and IM9 are within a few % of each other, so the stream
    picks either and its observed limit moves with the region (IM8 7.60e-8): 10%."""
    from evtgen.model import model_point

    r = A.recast(
        model_point(mphi=10.0, couplings={"CG": 1e-6}, seed=1).for_channel("pp2jphiphi"), data={}, cutoff=3000.0
    )
    assert r.upper_limit_95 == pytest.approx(7.749e-8, rel=0.03, abs=0)
    assert r.extras["upper_limit_untruncated"] == pytest.approx(5.837e-8, rel=0.03, abs=0)
    assert r.extras["upper_limit_untruncated_expected"] == pytest.approx(4.611e-8, rel=0.05, abs=0)
    assert r.extras["upper_limit_im"] == pytest.approx(7.156e-8, rel=0.10, abs=0)
    assert r.extras["best_region"] in ("IM8", "IM9")


def _recast(**kw):
    import analyses

    return analyses.recast("atlas", **kw)


def test_recast_point_and_truncation():
    base = _recast(mphi=10.0, couplings={"CG": 1e-6}, seed=2, n_events=4000)
    same = _recast(mphi=10.0, couplings={"CG": 2e-6}, seed=2, n_events=4000)
    # the limit on the coefficient does not depend on the reference value (sigma ~ C^2)
    assert same.upper_limit_95 == pytest.approx(base.upper_limit_95, rel=2e-3)
    assert base.extras["best_region"].startswith("IM")
    loose = _recast(mphi=10.0, couplings={"CG": 1e-6}, seed=2, n_events=4000, cutoff=1e5)
    tight = _recast(mphi=10.0, couplings={"CG": 1e-6}, seed=2, n_events=4000, cutoff=1500.0)
    assert loose.upper_limit_95 == pytest.approx(loose.extras["upper_limit_untruncated"], rel=1e-6)
    assert tight.upper_limit_95 > tight.extras["upper_limit_untruncated"]
    assert 0 < tight.extras["fraction_kept"] < 1
    none = _recast(mphi=10.0, couplings={"CG": 1e-6}, seed=2, n_events=4000, cutoff=100.0)
    assert none.upper_limit_95 is None and not none.sensitivity  # nothing left below the cut-off
    assert "cut-off" in none.sensitivity_reason


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(mphi=10.0, couplings={"CG": 1e-6, "CS_uu": 1e-5}), "exactly one non-zero coupling"),
        (dict(mphi=10.0, couplings={"CG": 1e-6}, cutoff=-5.0), "cutoff = -5 GeV must be positive"),
        (dict(mphi=7000.0, couplings={"CG": 1e-6}), "is not below sqrt"),
        (dict(couplings={"CG": 1e-6}), "needs --mphi"),
        (dict(mphi=10.0, channel="b2kphiphi"), "does not take channel"),
        (dict(mphi=10.0, couplings={"CG": 1e-6}, dataset="2016-22"), "does not apply to analysis atlas"),
    ],
)
def test_recast_bad_input(kwargs, match):
    with pytest.raises(PhiphiError, match=match) as exc:
        _recast(n_events=2000, **kwargs)
    assert "\n" not in str(exc.value)


def test_recast_cli_json_and_plot(tmp_path, capsys):
    from evtgen.cli import main

    png = tmp_path / "atlas.png"
    argv = ["recast", "atlas", "--mphi", "10", "--coupling", "CG=1e-6", "--cutoff", "3000", "--n-events", "2000"]
    rc = main([*argv, "--json", "--plot", str(png)])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("analysis", "mphi", "parameter", "upper_limit_95", "expected_upper_limit_95", "no_half", "extras"):
        assert k in d
    assert d["parameter"] == "CG" and d["upper_limit_95"] > 0 and d["extras"]["best_region_truncated"].startswith("IM")
    assert png.is_file() and png.stat().st_size > 10000
