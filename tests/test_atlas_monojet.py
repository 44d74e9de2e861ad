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
    assert met_y.std() == pytest.approx(atlas.card()["met"]["soft_term_sigma"], rel=0.03)
    np.testing.assert_allclose(r.met_true.to_numpy(), pt)


def test_selection_cuts():
    c = atlas.card()["selection"]
    # leading jet |eta| = 2.6 > 2.4 fails; MET below 200 fails; a normal event passes
    r = atlas.simulate(_parton_events([500.0, 500.0, 180.0], [0.0, 2.6, 0.0]), seed=1)
    assert list(r.pass_sr.to_numpy()) == [True, False, False]
    em = np.asarray(atlas.card()["binning"]["em_edges"])
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


def test_single_bin_pyhf_limits_reproduce_published_s95():
    """pyhf (asymptotic CLs) on one IM region with the published numbers vs ATLAS's S95.

    ATLAS used pseudo-experiments and its own likelihood: asymptotics differ by O(10%) for
    small counts, so we require agreement within 12% for IM7-IM12 (observed and expected).
    """
    import pyhf

    _, im = A.tables()
    for j in range(7, 13):
        m = pyhf.simplemodels.uncorrelated_background([1.0], [float(im["n_bkg"][j])], [float(im["n_bkg_err"][j])])
        obs, exp = A._limit_on_model(m, [float(im["n_obs"][j])])
        assert obs == pytest.approx(im["S95_obs_events"][j], rel=0.12), (j, obs)
        assert exp == pytest.approx(im["S95_exp_events"][j], rel=0.12), (j, exp)


def test_recast_point_and_truncation():
    base = A.point(mass=10.0, couplings={"CG": 1e-6}, seed=2, n_events=4000)
    same = A.point(mass=10.0, couplings={"CG": 2e-6}, seed=2, n_events=4000)
    # the limit on the coefficient does not depend on the reference value (sigma ~ C^2)
    assert same["upper_limit"] == pytest.approx(base["upper_limit"], rel=2e-3)
    assert base["best_region"].startswith("IM")
    loose = A.point(mass=10.0, couplings={"CG": 1e-6}, seed=2, n_events=4000, cutoff=1e5)
    tight = A.point(mass=10.0, couplings={"CG": 1e-6}, seed=2, n_events=4000, cutoff=1500.0)
    assert loose["upper_limit_truncated"] == pytest.approx(loose["upper_limit"], rel=1e-6)
    assert tight["upper_limit_truncated"] > tight["upper_limit"]
    assert 0 < tight["fraction_kept"] < 1
    none = A.point(mass=10.0, couplings={"CG": 1e-6}, seed=2, n_events=4000, cutoff=100.0)
    assert none["upper_limit_truncated"] is None  # nothing left below the cut-off


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(mphi=10.0, couplings={"CG": 1e-6, "CS_uu": 1e-5}), "exactly one non-zero coupling"),
        (dict(mphi=10.0, couplings={"CG": 1e-6}, cutoff=-5.0), "--cutoff -5 GeV must be positive"),
        (dict(mphi=7000.0, couplings={"CG": 1e-6}), "is not below sqrt"),
        (dict(couplings={"CG": 1e-6}), "needs --mphi"),
        (dict(mphi=10.0, channel="b2kphiphi"), "supports channels"),
    ],
)
def test_recast_bad_input(kwargs, match):
    with pytest.raises(PhiphiError, match=match) as exc:
        A.recast(n_events=2000, **kwargs)
    assert "\n" not in str(exc.value)


def test_recast_cli_json_and_plot(tmp_path, capsys):
    from evtgen.cli import main

    png = tmp_path / "atlas.png"
    rc = main(["recast", "atlas", "--mphi", "10", "--coupling", "CG=1e-6", "--cutoff", "3000", "-n", "2000", "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("analysis", "mphi", "parameter", "upper_limit", "best_region", "upper_limit_truncated"):
        assert k in d
    assert d["parameter"] == "CG" and d["upper_limit"] > 0
    r = A.recast(mphi=10.0, couplings={"CG": 1e-6}, n_events=2000, plot=str(png), masses=[100.0])
    assert png.is_file() and png.stat().st_size > 10000 and r["plot"] == str(png)
