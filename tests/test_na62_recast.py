"""NA62 K+ -> pi+ nu nu recast (analyses/na62_kpinunu_2025.py, registered as "na62")."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import optimize
from scipy.stats import chi2 as stats_chi2

import evtgen
from analyses import na62_kpinunu_2025 as na62a
from analyses import registry, stats
from evtgen.errors import PhiphiError
from evtgen.model import model_point

N = 60_000  # signal events per mass in these tests: acceptance to ~1% (binomial)


@pytest.fixture(scope="module")
def data():
    return registry.get("na62").data()


@pytest.fixture(scope="module")
def res_01():
    return registry.recast("na62", model_point(mphi=0.1, seed=3), n_events=N)


def test_calibration_reproduces_published_sm_yield(data):
    meas = na62a.load_measurement(data, "2016-18")
    calib, _ = na62a.sm_calibration(meas, seed=5, n_events=400_000, data=data)
    # BR_SM / SES = 8.4e-11 / 0.839e-11 = 10.01; NA62 quotes 10.0 (arXiv:2103.15389)
    assert calib[0].expected_sm == pytest.approx(10.0, abs=0.05)
    assert calib[0].expected_sm == pytest.approx(meas.expected_sm_published, abs=0.05)
    # not a tautology of one sample: independent SM samples (seeds 5-8) through the same emulation
    # agree within their binomial errors: chi2 around their mean (3 dof) with 1e-3 < p < 0.999 (p
    # below: errors too small or samples inconsistent; above: samples not independent). Until
    # 2026-12-01 (late) this compared seed 6 with seed 5 at 3 sigma; under the sampler's new stream
    # the pair differs by 3.1 sigma, and a 12-seed study (seeds 5-16, 400k events each) gave a
    # spread 1.11x the binomial error and the old stream's mean acceptance to 1e-6 (0.141975): a
    # -2.5 sigma fluctuation of seed 5, not a bias. Here (new stream): chi2 = 9.9, p = 0.02.
    samples = [calib[0]] + [na62a.sm_calibration(meas, seed=s, n_events=400_000, data=data)[0][0] for s in (6, 7, 8)]
    a = np.array([c.a_sm for c in samples])
    err = np.array([c.a_sm_err for c in samples])
    w = 1.0 / err**2
    chi2 = float((w * (a - (w * a).sum() / w.sum()) ** 2).sum())
    p = stats_chi2.sf(chi2, len(a) - 1)
    assert 1e-3 < p < 0.999, (a, err, chi2)
    assert 0.02 < calib[0].a_sm < 0.5  # a fraction, not a yield


def test_derived_2016_22_ses_is_consistent_with_published_br(data):
    meas = na62a.load_measurement(data, "2016-22")
    assert any(s.ses_status == "derived" for s in meas.subsets)
    inv_ses = sum(1.0 / s.ses for s in meas.subsets)
    # the derivation: (n_obs - b) = BR_meas / SES_total (rounding of the data-file SES: 1e-3)
    assert (meas.observed - meas.background) / inv_ses == pytest.approx(meas.br_measured, rel=1e-3, abs=0)


def test_likelihood_without_uncertainties_matches_closed_form():
    n, b, s_sm = 51, 18.0, 21.3
    lik = na62a.BinnedLikelihood(np.array([n]), [b], [s_sm], [1.0], 0.0, 0.0, 0.0, 0.0)
    fit = stats.fit(lik, mu_scale=5.0, method="wilks")
    assert fit.mu_hat == pytest.approx(n - b - s_sm, abs=1e-4)  # Poisson MLE: nu_hat = n

    def q(s):  # independent -2 ln lambda of a Poisson count
        nu = b + s_sm + s
        return 2 * (nu - n - n * math.log(nu / n))

    ul = optimize.brentq(lambda s: q(s) - 2.705543454095404, n - b - s_sm, 200)
    assert fit.upper_limit_95 == pytest.approx(ul, abs=1e-4)
    lo68 = optimize.brentq(lambda s: q(s) - 1.0, 0, n - b - s_sm)
    assert fit.interval_68[0] == pytest.approx(lo68, abs=1e-4)
    assert fit.twice_nll_null - fit.twice_nll_best == pytest.approx(q(0.0), abs=1e-6)


@pytest.mark.filterwarnings("ignore:jsonschema.RefResolver is deprecated:DeprecationWarning")
def test_likelihood_agrees_with_pyhf(data):
    # independent implementation: the same model as a pyhf workspace (normsys, exponential code 1)
    pyhf = pytest.importorskip("pyhf")
    pyhf.set_backend("numpy")
    meas = na62a.load_measurement(data, "2016-22")
    lik = na62a.counting_likelihood(meas, [21.3], [10.0], rel_np=0.05)
    fit = stats.fit(lik, mu_scale=1.0, method="wilks")
    ws = pyhf.Workspace(lik.to_pyhf())
    model = ws.model(modifier_settings={"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}})
    d = ws.data(model)
    pars, best = pyhf.infer.mle.fit(d, model, return_fitted_val=True)
    # optimiser tolerances of the two minimisers: 1e-3 relative on mu, 2e-3 on q
    assert float(pars[model.config.poi_index]) == pytest.approx(fit.mu_hat, rel=1e-3)
    _, at_ul = pyhf.infer.mle.fixed_poi_fit(fit.upper_limit_95, d, model, return_fitted_val=True)
    assert float(at_ul - best) == pytest.approx(stats.Q_95_ONE_SIDED, abs=2e-3)
    _, at_lo = pyhf.infer.mle.fixed_poi_fit(fit.interval_68[0], d, model, return_fitted_val=True)
    assert float(at_lo - best) == pytest.approx(1.0, abs=2e-3)


def test_uncertainties_widen_the_limit(data):
    meas = na62a.load_measurement(data, "2016-22")
    full = stats.fit(na62a.counting_likelihood(meas, [21.3], [1.0]), method="wilks")
    bare = stats.fit(na62a.BinnedLikelihood(np.array([51.0]), [18.0], [21.3], [1.0], 0, 0, 0, 0), method="wilks")
    assert full.upper_limit_95 > bare.upper_limit_95
    assert full.interval_68[1] - full.interval_68[0] > bare.interval_68[1] - bare.interval_68[0]


def test_result_json_and_limit_consistency(res_01):
    d = res_01.as_dict()
    json.dumps(d, allow_nan=False)
    assert d["parameter"] == "CS_sd" and d["analysis"] == "na62" and d["convention"] == "half"
    assert d["no_half"]["upper_limit_95"] == pytest.approx(0.5 * d["upper_limit_95"], rel=1e-12)
    assert d["provenance"]["dataset"] == "2016-22" and "categories" in d["provenance"]
    assert d["twice_nll_best"] <= d["twice_nll_null"]
    lo68, hi68 = d["interval_68"]
    assert lo68 <= d["best_fit"] <= hi68 <= d["interval_95"][1]
    # the limit on |C| gives, through an independent rate evaluation, the limit in events:
    # NP events at the limit = s_ref * mu_UL (quadratic scaling)
    c_ul = d["upper_limit_95"]
    br = evtgen.rate("k2piphiphi", mphi=0.1, couplings={"CS_sd": c_ul}).br
    ex = d["extras"]
    events = sum(c["nk_eps"] * br * ex["acceptance_np"][c["subset"]] for c in ex["calibration"])
    assert events == pytest.approx(ex["expected_np"] * (c_ul / ex["reference"]) ** 2, rel=1e-9)


def test_limit_scale_matches_seed_paper(res_01):
    # He, Ma, Tandean, Valencia (arXiv:2505.02031): NA62 excludes |C_S^sd| above a few 1e-11
    # GeV^-1 at m_phi ~ 0.1 GeV (same 1/2 convention); one decade of tolerance for the
    # different data set and the emulated rather than published acceptance.
    assert 5e-12 < res_01.upper_limit_95 < 5e-11


def test_no_acceptance_versus_too_few_mc_events():
    r = registry.recast("na62", model_point(mphi=0.14, seed=3), n_events=20_000)
    assert not r.sensitivity and r.upper_limit_95 is None and r.sensitivity_reason.startswith("no acceptance")
    json.dumps(r.as_dict(), allow_nan=False)
    rx = registry.recast("na62", model_point(channel="k2pix", mx=evtgen.constants.mass("pi0"), seed=3), n_events=20_000)
    assert not rx.sensitivity and rx.sensitivity_reason.startswith("no acceptance")
    # m_phi = 0.131: 4 m^2 = 0.0686 just above Region 2 (0.068) but within the resolution: the
    # kinematics reach it, a small sample selects nothing -> blame the MC statistics
    few = registry.recast("na62", model_point(mphi=0.131, seed=3), n_events=2000, signal_sample="generate")
    assert not few.sensitivity and few.sensitivity_reason.startswith("too few MC events")
    # the reweighted SM sample (400k events) does reach it: a finite, weak limit
    rw = registry.recast("na62", model_point(mphi=0.131, seed=3))
    assert rw.sensitivity and rw.upper_limit_95 > 10 * registry.recast("na62", model_point(mphi=0.1)).upper_limit_95


def test_k2pix_expected_limits_versus_published_range():
    # NA62 2016-18, stable X: BR < (3-6)e-11 at 90% CL over m_X = 0-110 MeV (arXiv:2103.15389,
    # quoted in the data file as "unverified"; its mass-by-mass HEPData table was not available).
    # Mass by mass, the recast's expected 90% CL limit must lie within a factor 1.5 of that range.
    # Measured (seed 3, 60k events): 0: 3.6e-11, 30: 2.5e-11, 60: 2.3e-11, 90: 2.2e-11,
    # 100 MeV: 3.5e-11 -> agree; 105: 9.7e-11, 110 MeV: 6.7e-10 -> DISAGREE (the emulated peak at
    # m_X^2 = 0.0121 GeV^2 lies beyond the Region-1 edge 0.010; NA62's own reach to 110 MeV is
    # not reproduced by the emulation), asserted below as a known disagreement.
    lo, hi = registry.get("na62").data()["validation"]["kpix_limit_90_0_110MeV"]["value"]
    for mx in (0.0, 0.03, 0.06, 0.09, 0.10):
        r = registry.recast("na62", model_point(channel="k2pix", mx=mx, seed=3), dataset="2016-18", n_events=N)
        ul90 = r.extras["expected_upper_limit_90"]
        assert lo / 1.5 < ul90 < hi * 1.5, (mx, ul90)
        assert r.upper_limit_95 is None and "expected (Asimov) limit only" in r.provenance["k2pix"]
        # 90% from 95% expected CLs: sigma_A Phi^-1(0.95) / (sigma_A Phi^-1(0.975))
        assert ul90 / r.expected_upper_limit_95 == pytest.approx(1.6448536 / 1.9599640, rel=1e-6)
    edge = registry.recast("na62", model_point(channel="k2pix", mx=0.11, seed=3), dataset="2016-18", n_events=N)
    assert edge.extras["expected_upper_limit_90"] > 1.5 * hi  # the known disagreement at 110 MeV
    # 154-260 MeV: no published number was available; the recast must still give a finite limit
    r = registry.recast("na62", model_point(channel="k2pix", mx=0.2, seed=3), dataset="2016-18", n_events=N)
    assert 1e-12 < r.expected_upper_limit_95 < 1e-9


def _na62_2016_18_kpix_limit(mx: float) -> float:
    """NA62's observed 2016-18 90% CL limit at m_X (third-party digitisation, see
    analyses/data/na62_kpinunu_2025/SOURCES.md), log-linear between its nodes."""
    from importlib import resources

    import yaml

    path = resources.files("analyses") / "data" / "na62_kpinunu_2025" / "kpix_limits_2016_18.yaml"
    table = yaml.safe_load(path.read_text())
    assert table["status"] == "digitised" and table["cl"] == 0.90
    for block in table["ranges"].values():
        pts = np.asarray(block["points"], float)
        if pts[0, 0] <= mx <= pts[-1, 0]:
            return float(np.exp(np.interp(mx, pts[:, 0], np.log(pts[:, 1]))))
    raise AssertionError(f"m_X = {mx} outside NA62's published ranges")


#: m_X (MeV) where the recast's expected 90% CL limit (seed 3, 60k events) lies within a factor
#: 1.5 of NA62's observed 2016-18 limit, and where it does not (with the direction): see
#: docs/kaon_recasts.md ("K+ -> pi+ X mass by mass") for why the latter cannot be fixed with
#: the published inputs.
KPIX_AGREE_MEV = (0, 20, 40, 60, 80, 110, 160, 170, 180, 190, 220, 230, 250)
KPIX_RECAST_STRONGER_MEV = (90, 95, 100, 105, 240, 255)  # ratio < 1/1.5
KPIX_RECAST_WEAKER_MEV = (155, 200, 210)  # ratio > 1.5 (200 MeV: at the boundary, see below)


def test_k2pix_expected_limits_versus_na62_2016_18_mass_by_mass():
    # The recast's median expected 90% CL limit against NA62's OBSERVED 2016-18 limit, mass by
    # mass over 0-110 and 154-260 MeV. Target: within a factor 1.5 (the observed limit of a
    # counting experiment moves within roughly x0.6-x1.6 of the median expected one at +-1
    # sigma; digitisation: a few %). Measured (seed 3, 60k events; recast/published):
    # 0: 0.72, 20: 0.72, 40: 0.92, 60: 1.05, 80: 0.84, 90: 0.54, 95: 0.42, 100: 0.46, 105: 0.50,
    # 110: 1.12, 155: 3.13, 160: 1.30, 170: 1.11, 180: 0.72, 190: 0.86, 200: 1.49, 210: 1.62,
    # 220: 1.28, 230: 0.89, 240: 0.61, 250: 0.84, 255: 0.64 -> 14 of 22 agree. The test pins the
    # classification, so a change that moves any mass across the factor 1.5 shows up here.
    # 2026-12-01 (late), the sampler's new angle/q2 stream: 0: 0.73, 20: 0.74, 40: 0.94, 60: 1.07,
    # 80: 0.84, 90: 0.54, 95: 0.43, 100: 0.47, 105: 0.47, 110: 1.18, 155: 3.12, 160: 1.27, 170: 1.12,
    # 180: 0.72, 190: 0.87, 200: 1.508 (1.496 on the stream before), 210: 1.64, 220: 1.29, 230: 0.91,
    # 240: 0.62, 250: 0.84, 255: 0.66: every ratio moved by <= 3% (the binomial error of a 60k-event
    # acceptance), and 200 MeV crossed the factor 1.5 by 0.5% -> 13 of 22 agree.
    ratios = {}
    for mev in sorted(KPIX_AGREE_MEV + KPIX_RECAST_STRONGER_MEV + KPIX_RECAST_WEAKER_MEV):
        mx = mev / 1000
        r = registry.recast("na62", model_point(channel="k2pix", mx=mx, seed=3), dataset="2016-18", n_events=N)
        assert r.upper_limit_95 is None and "expected (Asimov) limit only" in r.provenance["k2pix"]
        ratios[mev] = r.extras["expected_upper_limit_90"] / _na62_2016_18_kpix_limit(mx)
    agree = {m for m, x in ratios.items() if 1 / 1.5 < x < 1.5}
    assert agree == set(KPIX_AGREE_MEV), ratios
    assert all(ratios[m] <= 1 / 1.5 for m in KPIX_RECAST_STRONGER_MEV), ratios
    assert all(ratios[m] >= 1.5 for m in KPIX_RECAST_WEAKER_MEV), ratios
    # the two edge failures stay within a factor 3.5 (no collapse of the acceptance)
    assert 1 / 3.5 < min(ratios.values()) and max(ratios.values()) < 3.5, ratios


def test_br_likelihood_2016_24_matches_closed_form():
    r = registry.recast("na62", model_point(mphi=0.05, seed=3), dataset="2016-24", n_events=N, method="wilks")
    assert r.provenance["likelihood"] == "br" and r.provenance["preliminary"]
    # one-sided Wilks on the asymmetric Gaussian: (BR_SM + x - BR_meas)^2 / (s_up^2 + s_SM^2) = 2.706
    x = (9.6e-11 - 8.4e-11) + math.sqrt(stats.Q_95_ONE_SIDED * (1.9e-11**2 + 1.0e-11**2))
    # x = R * BR(C_UL); BR is quadratic in C
    br_ul = evtgen.rate("k2piphiphi", mphi=0.05, couplings={"CS_sd": r.upper_limit_95}).br
    assert r.extras["acceptance_ratio_R"] * br_ul == pytest.approx(x, rel=1e-4)


def test_categories_split_the_count(data):
    # the product over categories: split the 2016-18 count into Region 1 and Region 2 (assumed
    # split, see split_by_region) and check that a m_phi = 0.1 signal lands only in Region 2
    d = na62a.split_by_region(data, "2016-18", 8)
    cats = d["datasets"]["2016-18"]["categories"]
    assert [c["observed"]["value"] for c in cats] == [8, 12] and all(
        "assumed" in c["background"]["status"] for c in cats
    )
    assert sum(c["background"]["value"] for c in cats) == pytest.approx(7.0, rel=1e-12)
    point = registry.prepare("na62", model_point(mphi=0.1, seed=3))[1]
    r = na62a.recast(point, data=d, dataset="2016-18", n_events=N)
    sm = r.extras["expected_sm_per_category"]
    assert sm["SR1"] + sm["SR2"] == pytest.approx(r.extras["expected_sm"], rel=1e-9)
    assert r.extras["expected_np_sr1"] == 0.0 and r.extras["expected_np_sr2"] > 0
    # the one-count treatment is conservative for a Region-2-only signal: with no excess in
    # Region 1 (4 = its expected background + SM) the split limit is within 5% of it, with the
    # whole excess in Region 1 (7) it is stronger (measured 0.97 and 0.83 of the one-count limit)
    one = registry.recast("na62", model_point(mphi=0.1, seed=3), dataset="2016-18").upper_limit_95
    lim = {
        k: na62a.recast(point, data=na62a.split_by_region(data, "2016-18", k), dataset="2016-18").upper_limit_95
        for k in (4, 7)
    }
    assert 0.9 < lim[4] / one <= 1.0 and lim[7] / one < 0.9
    with pytest.raises(PhiphiError, match="observed_sr1"):
        na62a.split_by_region(data, "2016-18", 21)


def test_scan_limits_weaken_towards_region2_edge_and_plot(tmp_path):
    out = tmp_path / "scan.png"
    res = [
        registry.recast("na62", model_point(mphi=m, seed=3), n_events=N, dataset=ds)
        for ds in ("2016-22", "2016-24")
        for m in (0.02, 0.08, 0.12, 0.15)
    ]
    ul = [r.upper_limit_95 for r in res[:3]]
    assert ul[0] < ul[1] < ul[2]  # acceptance in SR2 shrinks as 4 m_phi^2 approaches 0.068
    assert not res[3].sensitivity
    na62a.plot_scan(str(out), [r.as_dict() for r in res])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".phiphi-tmp-*"))


def test_spectrum_plot(tmp_path):
    out = tmp_path / "spec.png"
    r = registry.recast("na62", model_point(mphi=0.05, seed=3), n_events=20_000, plot=str(out))
    assert r.extras["plot"].endswith("spec.png") and out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "point, options, match",
    [
        ({"mphi": 0.2}, {}, "kinematic limit"),
        ({"mphi": -0.01}, {}, "negative"),
        ({"mphi": float("nan")}, {}, "finite"),
        ({"mx": 0.1}, {}, "takes --mphi"),
        ({"mphi": 0.1, "channel": "b2kphiphi"}, {}, "does not take channel"),
        ({"mphi": 0.1}, {"dataset": "1999"}, "choose one of"),
        ({"mphi": 0.1}, {"plot": "x.pdf"}, ".png"),
        ({"mx": 0.4, "channel": "k2pix"}, {}, "kinematic limit"),
        ({"mphi": 0.1}, {"likelihood": "counts", "dataset": "2016-24"}, "no published counts"),
    ],
)
def test_bad_inputs(point, options, match):
    with pytest.raises(PhiphiError, match=match) as exc:
        registry.recast("na62", model_point(**point), n_events=1000, **options)
    assert "\n" not in str(exc.value)


def test_reweighted_signal_acceptance_matches_generated_signal(data):
    # The K+ -> pi+ phi phi acceptance from the SM calibration sample reweighted in q2 against
    # generated signal events through the same emulation (independent samples, other seed).
    # Tolerance: 3 combined binomial/Poisson MC standard deviations per region and subset.
    meas = na62a.load_measurement(data, "2016-22")
    for mphi in (0.03, 0.09, 0.125):
        rw = na62a.reweighted_acceptances(mphi, meas.subsets, seed=na62a.CALIBRATION_SEED, n_events=400_000, data=data)
        gen = na62a.acceptances("k2piphiphi", mphi, meas.subsets, seed=7, n_events=N, data=data)
        for a_rw, a_gen in zip(rw, gen):
            assert a_rw.sumw2 is not None and a_gen.sumw2 is None
            for region in ("sr1", "sr2"):
                f_rw, f_gen = a_rw.fraction((region,)), a_gen.fraction((region,))
                w2 = float(getattr(a_rw, region).sum())  # only for the scale of the error below
                err = math.hypot(a_rw.fraction_error, math.sqrt(max(f_gen * N, 1.0)) / N)
                assert abs(f_rw - f_gen) < 3 * err + 1e-12, (mphi, region, f_rw, f_gen, err, w2)
        # the weights vanish below the phi phi threshold q2 = 4 m_phi^2: no Region-1 entries
        if 4 * mphi**2 > 0.0105:
            assert all(a.fraction(("sr1",)) == 0.0 for a in rw)


def test_newton_profile_matches_independent_minimisation():
    # the analytic-Hessian Newton profiling against scipy's Nelder-Mead on an independently
    # coded -2 ln L (4 nuisances, asymmetric background error, 5 bins); tolerance: the
    # simplex's own convergence (1e-6 on -2lnL)
    n = np.array([3.0, 0.0, 7.0, 12.0, 1.0])
    b, sm, sig = np.array([1.0, 0.4, 2.0, 5.0, 0.3]), np.array([0.5, 0.2, 3.0, 4.0, 0.6]), np.array([0, 0.1, 1, 2, 0.5])
    lb_up, lb_dn, lsm, lnorm, lnp = math.log(1.15), math.log(1 / 0.88), math.log(1.12), math.log(1.064), math.log(1.05)
    lik = na62a.BinnedLikelihood(n, b, sm, sig, lb_up, lb_dn, lsm, lnorm, lnp)

    def nll(t, mu):
        bb = b * math.exp(t[0] * (lb_up if t[0] >= 0 else lb_dn))
        nu = bb + (sm * math.exp(t[1] * lsm) + mu * sig * math.exp(t[3] * lnp)) * math.exp(t[2] * lnorm)
        return 2 * float(np.sum(nu - n * np.log(nu))) + 2 * float(np.sum([math.lgamma(k + 1) for k in n])) + t @ t

    for mu in (0.0, 0.7, 2.5, 6.0):
        ref = optimize.minimize(
            nll,
            np.zeros(4),
            args=(mu,),
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000},
        )
        assert lik.twice_nll(mu) == pytest.approx(ref.fun, abs=1e-6)
        assert lik.twice_nll(mu) <= ref.fun + 1e-9


def test_plot_per_dataset_low_stats(tmp_path):
    # the plot: limit and window band versus m_phi for each of 2016-18, 2016-22, 2016-24
    out = tmp_path / "na62_datasets.png"
    path, res = na62a.plot_datasets(str(out), [0.02, 0.07, 0.12, 0.14], sm_n_events=50_000)
    assert path.endswith("na62_datasets.png") and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [r.provenance["dataset"] for r in res] == ["2016-18"] * 4 + ["2016-22"] * 4 + ["2016-24"] * 4
    assert [r.sensitivity for r in res] == [True, True, True, False] * 3
    # 2016-24 (compatible with the SM) closes the window: its 68% band starts at zero
    assert res[9].interval_68[0] == 0.0 and res[5].interval_68[0] > 0.0
    with pytest.raises(PhiphiError, match="unknown NA62 data set"):
        na62a.plot_datasets(str(out), [0.05], datasets=["2099"])
