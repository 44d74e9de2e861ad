"""Belle II B+ -> K+ nu nubar recast: the fast likelihood against pyhf, the released fit,
folded versus event-level yields, the Result through the registry, histograms, plots and bad inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analyses import belle2_bknunu_2023 as A
from analyses import belle2_likelihood as L
from analyses import registry, stats
from evtgen.errors import PhiphiError
from evtgen.model import model_point

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def lik():
    return A._default_likelihood().fork()


def test_fast_likelihood_equals_pyhf(lik):
    # same log-likelihood as pyhf (all constants) at random points, all interpolation branches
    # (|alpha| > 1 and < 1): agreement to rounding, 1e-9 absolute on values of O(1e4)
    model, fl = lik.model, lik.fast
    rng = np.random.default_rng(2)
    data = np.concatenate([lik.main, model.config.auxdata])
    for _ in range(3):
        p = fl.init.copy()
        free = ~fl.fixed
        p[free] += rng.normal(0.0, 0.7, free.sum())
        p[fl.gamma_of[fl.gamma_of >= 0]] = np.abs(p[fl.gamma_of[fl.gamma_of >= 0]]) + 0.05
        p[lik.poi] = abs(p[lik.poi])
        ref = float(model.logpdf(p, data)[0])
        val, grad = fl.logpdf_and_grad(p, lik.main)
        assert val == pytest.approx(ref, abs=1e-9 * max(1.0, abs(ref)))
        # gradient against central finite differences (step 1e-6: FD error ~1e-6 relative)
        for i in rng.choice(fl.npars, 8, replace=False):
            e = 1e-6
            hi, lo = p.copy(), p.copy()
            hi[i] += e
            lo[i] -= e
            fd = (fl.logpdf_and_grad(hi, lik.main)[0] - fl.logpdf_and_grad(lo, lik.main)[0]) / (2 * e)
            assert grad[i] == pytest.approx(fd, rel=1e-4, abs=1e-4)


def test_swapped_np_sample_equals_a_rebuilt_pyhf_model(lik):
    # after set_np (new yields, histosys rescaled, form-factor normsys changed) the fast
    # likelihood must equal pyhf on a workspace built directly with those inputs
    import pyhf

    ita, hta = A.folded_yields("b2kphiphi", 0.7)
    ita, hta = ita * 40, hta * 40
    fork = lik.fork()
    fork.set_np(ita, hta, 0.2)
    spec = A.add_np_sample(A.load_workspace(), [ita[:9], ita[9:], hta])
    for c in spec["channels"]:
        for smp in c["samples"]:
            for m in smp["modifiers"]:
                if m["name"] == A.NP_FF:
                    m["data"] = {"hi": 1.2, "lo": 0.8}
    model = pyhf.Workspace(spec).model()
    data = np.concatenate([fork.main, model.config.auxdata])
    rng = np.random.default_rng(5)
    for _ in range(3):
        p = fork.null.pars + rng.normal(0.0, 0.3, fork.fast.npars) * ~fork.fast.fixed
        p[fork.poi] = 1.3
        assert fork.fast.logpdf_and_grad(p, fork.main)[0] == pytest.approx(float(model.logpdf(p, data)[0]), abs=1e-8)


def _np_fit(lik, ita, hta, ff_rel=0.0):
    return stats.fit(A.NPStrengthLikelihood(lik.fork(), ita, hta, ff_rel), mu_scale=1.0)


def test_formfactor_uncertainty(lik):
    # the NP yield spread over the GRvDV covariance is a few percent (the rate's own error at
    # m_phi = 1 GeV is 2.6%); the two-body channel has none (its BR is the input)
    rel = A.formfactor_rel_error("b2kphiphi", 1.0)
    assert 0.01 < rel < 0.1
    assert A.formfactor_rel_error("b2kx", 1.0) == 0.0
    # a larger normalisation uncertainty can only widen the profile-likelihood interval
    ita, hta = A.folded_yields("b2kphiphi", 1.0)
    s = 187.0 / (ita.sum() + hta.sum())
    w0 = np.diff(_np_fit(lik, ita * s, hta * s, 0.0).interval_68)[0]
    w1 = np.diff(_np_fit(lik, ita * s, hta * s, 0.3).interval_68)[0]
    assert w1 > w0 * 1.05


def test_released_fit_reproduces_belle2():
    r = A.fit_released()
    # Belle II: mu = 4.6 +- 1.3 (combined ITA + HTA), B = (2.3 +- 0.7)e-5; the published numbers
    # carry one decimal, so we require agreement within half a unit of the last digit
    assert r["mu_hat"] == pytest.approx(4.6, abs=0.05)
    assert r["mu_err_hesse"] == pytest.approx(1.3, abs=0.05)
    lo, hi = r["mu_68"]
    assert (hi - lo) / 2 == pytest.approx(1.3, abs=0.05)
    assert r["br"] == pytest.approx(2.3e-5, abs=0.05e-5)
    assert r["br_err"] == pytest.approx(0.7e-5, abs=0.05e-5)
    # Belle II quotes 3.5 sigma significance of the combined result over the background-only
    # hypothesis (arXiv:2311.14647 abstract): one decimal, +-0.05
    assert r["significance"] == pytest.approx(3.5, abs=0.05)


def test_np_with_sm_shape_closes_on_the_released_fit(lik):
    # an NP sample with exactly the SM signal yields on top of the SM at mu = 1 is the released
    # fit with mu = 1 + mu_np. The NP sample lacks only the SM form-factor histosys (corr_ff_*),
    # which moves mu_np by 0.016 and -2lnL by ~0.03: tolerances 0.05 and 0.15
    rel = A.fit_released()
    ita = np.concatenate(lik.sm_yields[:2])
    out = _np_fit(lik, ita, lik.sm_yields[2])
    assert out.mu_hat == pytest.approx(rel["mu_hat"] - 1.0, abs=0.05)
    rl = A.ReleasedLikelihood()
    q1 = rl.twice_nll(1.0) - rel["twice_nll"]
    assert out.twice_nll_null - out.twice_nll_best == pytest.approx(q1, abs=0.15)
    # profile-likelihood 68% half-width in mu_np is the released one (1.3 +- 0.1)
    lo, hi = out.interval_68
    assert (hi - lo) / 2 == pytest.approx(1.33, abs=0.1)


def test_folded_yields_against_an_independent_fold():
    # the NP yield at m_phi = 1 GeV from the README recipe coded here independently: the rate
    # formula of physics README section 2 integrated with scipy over each map bin, divided by
    # the SM template per bin. Agreement 1e-6 (quadrature accuracy); this pins the absolute
    # normalisation entering the likelihood (a yield scaled by 1.2 fails it)
    from scipy.integrate import quad

    from detector.belle2 import response
    from evtgen import constants as C
    from evtgen import formfactors as FF

    resp = response()
    mb, mk = C.mass("B+"), C.mass("K+")
    mq = C.value("quark_masses", "m_b") - C.value("quark_masses", "m_s")
    c, mphi = 1e-8, 1.0
    # f0 as in physics README section 3, coded here: BSZ with GRvDV 2023 means (alpha0^0 = alpha0^+)
    blk = C.load_yaml("constants.yaml")["bk_formfactors"]
    vec = FF.grvdv2023_bk().mean
    a0, a1, a2 = vec[0], vec[3], vec[4]
    mbf, mkf, mr = (float(blk[k]["value"]) for k in ("m_B", "m_K", "pole_0plus"))
    tp, tm = (mbf + mkf) ** 2, (mbf - mkf) ** 2
    t0 = tp * (1 - math.sqrt(1 - tm / tp))

    def z(t):
        return (math.sqrt(tp - t) - math.sqrt(tp - t0)) / (math.sqrt(tp - t) + math.sqrt(tp - t0))

    def dgamma(q2):
        lam = mb**4 + mk**4 + q2 * q2 - 2 * (mb * mb * mk * mk + mb * mb * q2 + mk * mk * q2)
        beta = math.sqrt(max(1 - 4 * mphi**2 / q2, 0.0))
        dz = z(q2) - z(0.0)
        f0 = (a0 + a1 * dz + a2 * dz * dz) / (1 - q2 / mr**2)
        return (
            c**2
            * ((mb * mb - mk * mk) / mq) ** 2
            * f0**2
            * math.sqrt(max(lam, 0.0))
            * beta
            / (512 * math.pi**3 * mb**3)
        )

    e = resp.q2_edges
    qmax = (mb - mk) ** 2
    br = np.array(
        [
            quad(dgamma, max(e[j], 4 * mphi**2), min(e[j + 1], qmax), epsabs=0, epsrel=1e-10)[0]
            if min(e[j + 1], qmax) > max(e[j], 4 * mphi**2)
            else 0.0
            for j in range(100)
        ]
    )
    br /= C.total_width("B+")
    ita_ref = resp.n_ita[:, 1:] @ (br / resp.br_sm_bins)
    ita, hta = A.folded_yields("b2kphiphi", mphi, {"CS_sb": c})
    np.testing.assert_allclose(ita, ita_ref, rtol=1e-6)


def test_folded_and_event_yields_agree():
    # the two routes to the NP yields: per-bin chi2 over the 18 bins below the 0.999 quantile of
    # chi2(18) = 42.3 (MC errors only; the fold has none), and totals within 4 sigma
    for channel, mass in (("b2kphiphi", 1.0), ("b2kx", 2.0)):
        f_ita, f_hta = A.folded_yields(channel, mass, smoothing=0.0)
        e_ita, e_hta, s_ita, s_hta = A.event_yields(channel, mass, n_events=150_000, seed=3)
        fold = np.concatenate([f_ita, f_hta])
        ev = np.concatenate([e_ita, e_hta])
        err = np.concatenate([s_ita, s_hta])
        err = np.where(err > 0, err, fold.max() * 1e-3)
        chi2 = float(np.sum(((ev - fold) / err) ** 2))
        assert chi2 < 42.3, (channel, chi2)
        assert abs(ev.sum() - fold.sum()) < 4 * math.sqrt(np.sum(err**2)), channel


def test_result_through_the_registry(tmp_path):
    from analyses import belle2_plots

    info = registry.get("belle2")
    assert info.channels == A.PARAMETERS and info.module == "analyses.belle2_bknunu_2023"
    r = registry.recast("belle2", model_point(channel="b2kphiphi", mphi=1.0))
    assert r.analysis == "belle2" and r.channel == "b2kphiphi" and r.masses == {"mphi": 1.0}
    lo68, hi68 = r.interval_68
    lo95, hi95 = r.interval_95
    assert lo95 <= lo68 <= r.best_fit <= hi68 <= hi95
    # CLs (one-sided) limit lies above the best fit and below the two-sided 95% edge
    assert r.best_fit < r.upper_limit_95 <= hi95 * (1 + 1e-6)
    assert r.limit_method.startswith("CLs") and r.expected_upper_limit_95 > 0
    assert r.twice_nll_best <= r.twice_nll_null
    json.dumps(r.as_dict())
    # the default coupling 1e-8 is far below the limit: not excluded, -2lnL at the point ~ null
    assert r.excluded_95 is False and r.value_at_point == 1e-8
    # rates scale as |C|^2: the result cannot depend on the reference coupling used to build
    # the NP sample (fit precision ~1e-5 relative)
    r2 = registry.recast("belle2", model_point(channel="b2kphiphi", mphi=1.0, couplings={"CS_sb": 3e-7}))
    assert r2.best_fit == pytest.approx(r.best_fit, rel=1e-4, abs=0)
    assert r2.upper_limit_95 == pytest.approx(r.upper_limit_95, rel=1e-4, abs=0)
    assert r2.excluded_95 is True
    # the best-fit BR is the one evtgen gives for the best-fit coupling
    import evtgen

    assert r.extras["br_best_fit"] == pytest.approx(
        evtgen.rate("b2kphiphi", mphi=1.0, couplings={"CS_sb": r.best_fit}).br, rel=1e-6, abs=0
    )
    # signal regions as histograms: eta(BDT2) x q2_rec for ITA, 6 bins for HTA; they hold the
    # workspace's numbers (data) and the NP at the best fit = mu_hat x the reference
    h = r.histograms
    assert h["ita_A:data"].axes[0].edges.tolist() == pytest.approx([0.94, 0.96, 0.98, 1.0])
    assert h["ita_A:data"].axes[1].edges.tolist() == pytest.approx([-1.0, 4.0, 8.0, 25.0])
    assert h["hta:data"].values().shape == (6,)
    spec = A.load_workspace()
    obs = {o["name"]: o["data"] for o in spec["observations"]}
    a_name = next(n for n in obs if n.startswith("A__"))
    np.testing.assert_array_equal(h["ita_A:data"].values().ravel(), obs[a_name])
    total_np = sum(h[f"{g}:new_physics_reference"].sum() for g in A.REGIONS)
    assert total_np == pytest.approx(sum(float(np.sum(y)) for y in A._default_likelihood().sm_yields), rel=1e-9)
    np_fit = sum(h[f"{g}:new_physics"].sum() for g in A.REGIONS)
    assert np_fit / total_np == pytest.approx(r.extras["mu_hat"], rel=0.05)  # nuisance pulls of a few %
    png = belle2_plots.plot_spectrum(r, tmp_path / "spec.png")
    assert png.stat().st_size > 10_000


def test_recast_leaves_the_shared_likelihood_alone():
    # recasts work on a fork: the cached likelihood (shared by threads) keeps its NP placeholder
    shared = A._default_likelihood()
    before = shared.fast.nominal.copy()
    registry.recast("belle2", model_point(channel="b2kx", mx=1.0))
    assert np.array_equal(shared.fast.nominal, before)


def test_b2kx_scan_and_plot(tmp_path):
    from analyses import belle2_plots

    res = A.scan([1.0, 4.7839], channel="b2kx")  # q2 = 22.886 GeV^2: beyond the map
    assert res[0].parameter == "br" and res[0].masses == {"mx": 1.0}
    # the excess sits at low q2: a light X fits it with BR of order 1e-6..1e-5; sanity range only
    assert 1e-7 < res[0].best_fit < 3e-5
    assert res[1].sensitivity is False and "outside the map range" in res[1].sensitivity_reason
    assert belle2_plots.plot_scan(res, tmp_path / "scan.png").stat().st_size > 10_000


def test_recast_events_method():
    r = registry.recast("belle2", model_point(channel="b2kphiphi", mphi=1.0, seed=2), n_events=100_000)
    f = registry.recast("belle2", model_point(channel="b2kphiphi", mphi=1.0))
    # the event-level yields carry ~1.5% MC error at 100k events (about 8000 selected): the
    # coupling (~ yield^-1/2) must agree within 3% with the folded result
    assert r.extras["method"] == "events"
    assert r.best_fit == pytest.approx(f.best_fit, rel=0.03, abs=0)
    assert r.extras["yield_mc_error"] > 0


def test_fit_retries_when_the_first_optimiser_fails(lik, monkeypatch):
    # make TNC return its start point unconverged: the fit must fall back and still find the
    # same minimum; if every optimiser fails it must raise, never return a wrong number
    ita = np.concatenate(lik.sm_yields[:2])
    lik.set_np(ita, lik.sm_yields[2])
    ref = lik.fast.fit(lik.main, fixed={lik.poi: 2.0}, init=lik.null.pars)
    real = L.minimize

    def broken_tnc(fun, x0, **kw):
        if kw.get("method") == "TNC":
            from scipy.optimize import OptimizeResult

            return OptimizeResult(x=np.asarray(x0), fun=fun(x0)[0], success=False)
        return real(fun, x0, **kw)

    monkeypatch.setattr(L, "minimize", broken_tnc)
    got = lik.fast.fit(lik.main, fixed={lik.poi: 2.0}, init=lik.null.pars)
    assert got.method != "TNC"
    assert got.twice_nll == pytest.approx(ref.twice_nll, abs=1e-4)

    class FakeMinuit:
        LEAST_SQUARES = 1.0

        def __init__(self, f, x0, grad=None):
            self.values, self.fval, self.valid = np.asarray(x0), f(x0), False

        def migrad(self, ncall=None):
            return self

    import iminuit

    monkeypatch.setattr(L, "minimize", lambda fun, x0, **kw: broken_tnc(fun, x0, method="TNC"))
    monkeypatch.setattr(iminuit, "Minuit", FakeMinuit)
    with pytest.raises(RuntimeError, match="did not converge"):
        lik.fast.fit(lik.main, fixed={lik.poi: 2.0}, init=lik.fast.init)


def test_newton_hessian_and_minimum(lik):
    # the exact Hessian of the Newton fit against central finite differences of the analytic
    # gradient (step 1e-6) at a point with |alpha| > 1 and < 1, and its
    # minimum against the TNC/L-BFGS-B/minuit fit (converged to a projected gradient < 1e-3,
    # i.e. -2 ln L within ~1e-6 of the minimum: Newton's, converged to ~1e-12, can only be
    # lower, and by less than 1e-5)
    fork = lik.fork()
    ita, hta = A.folded_yields("b2kphiphi", 0.8)
    s = 187.0 / (ita.sum() + hta.sum())
    fork.set_np(ita * s, hta * s, 0.04)
    fl = fork.fast
    fix = fl.fixed.copy()
    fix[fork.poi] = True
    free = np.where(~fix)[0]
    idx = np.full(fl.npars, -1)
    idx[free] = np.arange(len(free))
    rng = np.random.default_rng(4)
    x = fork.null.pars.copy()
    x[fork.poi] = 1.7
    x[free] += rng.normal(0.0, 0.3, len(free)) * (np.isin(free, fl.constrained) & ~np.isin(free, fl.gamma_of))
    val, grad, hess = fl.twice_nll_grad_hess(x, fork.main, idx)
    lp, g_lnl = fl.logpdf_and_grad(x, fork.main)
    assert val == pytest.approx(-2.0 * lp, rel=1e-12, abs=0)
    assert np.max(np.abs(grad + 2.0 * g_lnl[free])) < 1e-9 * max(1.0, np.max(np.abs(grad)))
    for a in range(len(free)):  # every column (measured agreement 4e-7: FD truncation and rounding)
        e = 1e-6
        hi, lo = x.copy(), x.copy()
        hi[free[a]] += e
        lo[free[a]] -= e
        fd = -(fl.logpdf_and_grad(hi, fork.main)[1][free] - fl.logpdf_and_grad(lo, fork.main)[1][free]) / e
        assert np.max(np.abs(hess[:, a] - fd) / (1.0 + np.abs(fd))) < 3e-6
    for mu, asimov in ((0.6, False), (2.5, False), (1.5, True)):
        main, aux = (fork.asimov_main, fork.asimov_aux) if asimov else (fork.main, None)
        ref = fl.fit(main, fixed={fork.poi: mu}, init=fork.null.pars, aux=aux)
        new, state = fl.newton_fit(main, fixed={fork.poi: mu}, init=fork.null.pars, aux=aux, track=fork.poi)
        assert new.method == "newton" and state.slope is not None
        assert -1e-5 < new.twice_nll - ref.twice_nll <= 1e-9
        # warm start from the neighbour's tangent and Cholesky factor: the same minimum
        warm, _ = fl.newton_fit(
            main, fixed={fork.poi: mu * 1.1}, init=new.pars + 0.1 * mu * state.slope, aux=aux, hint=state
        )
        cold, _ = fl.newton_fit(main, fixed={fork.poi: mu * 1.1}, init=fork.null.pars, aux=aux)
        assert warm.twice_nll == pytest.approx(cold.twice_nll, rel=0, abs=1e-9)


def test_recast_with_newton_off_gives_the_same_result(monkeypatch):
    # the fallback optimisers alone (Newton disabled) reproduce the recast: limits and
    # intervals to the fallback's own convergence (1e-4 relative is far below the 2e-3 pins)
    p = model_point(channel="b2kphiphi", mphi=0.6)
    new = registry.recast("belle2", p)
    monkeypatch.setattr(L.FastLikelihood, "newton_fit", lambda self, *a, **k: None)
    A._likelihood.cache_clear()
    try:
        old = registry.recast("belle2", p)
    finally:
        A._likelihood.cache_clear()
    for k in ("best_fit", "upper_limit_95", "expected_upper_limit_95"):
        assert getattr(new, k) == pytest.approx(getattr(old, k), rel=1e-4, abs=0)
    assert new.interval_68[1] == pytest.approx(old.interval_68[1], rel=1e-4, abs=0)
    assert new.twice_nll_null - new.twice_nll_best == pytest.approx(old.twice_nll_null - old.twice_nll_best, abs=1e-4)


def test_bad_inputs(tmp_path):
    with pytest.raises(PhiphiError, match="kinematic limit"):
        registry.recast("belle2", model_point(channel="b2kphiphi", mphi=2.5))
    with pytest.raises(PhiphiError, match="does not take channel"):
        registry.recast("belle2", model_point(channel="b2kstarphiphi", mphi=1.0))
    with pytest.raises(PhiphiError, match="not supported"):
        A.recast(model_point(channel="b2kstarphiphi", mphi=1.0))
    with pytest.raises(PhiphiError, match="takes --mphi, not --mx"):
        registry.recast("belle2", model_point(channel="b2kphiphi", mx=1.0))
    with pytest.raises(PhiphiError, match="needs --mx"):
        registry.recast("belle2", model_point(channel="b2kx"))
    with pytest.raises(PhiphiError, match="does not apply"):
        registry.recast("belle2", model_point(channel="b2kx", mx=1.0), nonsense=3)
    with pytest.raises(PhiphiError, match="b2kx only"):
        registry.recast("belle2", model_point(channel="b2kphiphi", mphi=1.0), width=0.1)
    with pytest.raises(PhiphiError, match="must be >= 0"):
        registry.recast("belle2", model_point(channel="b2kx", mx=1.0), width=-0.1)
    with pytest.raises(PhiphiError, match="choose one of"):
        registry.recast("belle2", model_point(channel="b2kx", mx=1.0), method="magic")
    p = tmp_path / "ws.json"
    p.write_text("{not json")
    with pytest.raises(PhiphiError, match="cannot read likelihood"):
        A.load_workspace(p)
    p.write_text(json.dumps({"channels": [{"name": "x"}]}))
    with pytest.raises(PhiphiError, match="is not a pyhf workspace") as exc:
        A.load_workspace(p)
    assert "\n" not in str(exc.value)
    spec = A.load_workspace()
    spec["channels"] = [c for c in spec["channels"] if c["name"] != "sgn1_had"]
    spec["observations"] = [o for o in spec["observations"] if o["name"] != "sgn1_had"]
    p.write_text(json.dumps(spec))
    with pytest.raises(PhiphiError, match="sgn1_had"):
        registry.recast("belle2", model_point(channel="b2kx", mx=1.0), workspace=str(p))
