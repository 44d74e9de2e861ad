"""pp -> j S against Pythia 8's H + jet hard processes, couplings, PDF, alpha_s and scales matched.

Pythia settings: 13 TeV (Pythia's default is 14 TeV!), NNPDF2.3 QCD+QED LO (its default), 1-loop
alpha_s(M_Z) = 0.130 with nf <= 6 (its default for hard processes), our ``--scale pythia``
(= Pythia's 2->2 default), p_T-hat > 150 GeV, no Breit-Wigner for the Higgs, parton and hadron
levels off. The gluon coupling is matched through Pythia's own Γ(H -> gg):
c² = π Γ/(2 m³) (monojet_matrix_elements.md).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evtgen.monojet.channel import PP2JS

pythia8mc = pytest.importorskip("pythia8mc", reason="pythia8mc (Pythia 8) is not installed")

M = 125.0


def _run(procs, n, extra=()):
    import awkward as ak

    from evtgen.shower import _silence

    py = pythia8mc.Pythia("", False)
    for s in [
        *procs,
        "Beams:eCM = 13000",
        f"25:m0 = {M}",
        "PhaseSpace:pTHatMin = 150",
        "PhaseSpace:useBreitWigners = off",
        "PartonLevel:all = off",
        "HadronLevel:all = off",
        "ProcessLevel:resonanceDecays = off",
        "Random:setSeed = on",
        "Random:seed = 4711",
        "Next:numberCount = 0",
        "Next:numberShowEvent = 0",
        "Next:numberShowProcess = 0",
        "Next:numberShowInfo = 0",
        *extra,
    ]:
        assert py.readString(s), s
    with _silence():
        assert py.init()
        batch = py.nextBatch(n)
    info = py.infoPython()
    return py, info.sigmaGen() * 1e9, info.sigmaErr() * 1e9, ak.to_numpy(np.sqrt(batch.info.pT2Hat)), batch


def test_hj_heavy_top_cross_section_matches_pythia():
    """σ(gg→gS + qg→qS + qq̄→gS) with c from Pythia's Γ(H→gg).

    Tolerance: 4σ of the combined MC errors (Pythia ~0.4% with 40k events, ours ~0.1%) plus 1%
    for the PDF interpolation (Pythia's cubic scheme differs from LHAPDF's by up to 0.3% per
    parton, see test_pdf.py; squared in gg) and Pythia's phase-space edges.
    """
    py, sp, ep, pt_p, _ = _run(
        ["HiggsSM:gg2Hg(l:t) = on", "HiggsSM:qg2Hq(l:t) = on", "HiggsSM:qqbar2Hg(l:t) = on"], 40000
    )
    gam = py.particleData.resWidthChan(25, M, 21, 21)
    c = math.sqrt(math.pi * gam / (2 * M**3))
    ch = PP2JS()
    r = ch.rate(mass=M, couplings={"CG": c}, options={"scale": "pythia"})
    assert abs(r.sigma_pb - sp) < 4 * math.hypot(ep, r.sigma_err_pb) + 0.01 * sp, (r.sigma_pb, sp, ep)
    # the p_T spectra agree bin by bin (normalised to each σ; statistical errors only + 3%)
    ev = ch.generate(40000, mass=M, couplings={"CG": c}, seed=11, options={"scale": "pythia"})
    edges = np.array([150, 175, 200, 250, 300, 400, 600, 1000.0])
    hp = np.histogram(pt_p, edges)[0]
    hm = np.histogram(ev.pt_parton.to_numpy(), edges)[0]
    fp, fm = hp / len(pt_p) * sp, hm / len(ev) * r.sigma_pb
    err = np.sqrt(hp / len(pt_p) ** 2 * sp**2 + hm / len(ev) ** 2 * r.sigma_pb**2)
    assert np.all(np.abs(fp - fm) < 4 * err + 0.03 * fp), (fp, fm)


def test_bg_to_hb_cross_section_matches_pythia():
    """b g → H b and c g → H c (HiggsSM:qg2Hq) with the SM Yukawa y = m_q/v of Pythia.

    Pythia 8.3 (src/SigmaHiggs.cc, Sigma2qg2Hq::sigmaKin) uses
    dσ/dt = (π/ŝ²) α_s α_EM/(24 sin²θ_W) (m_q,run(√ŝ)²/m_W²) × [kinematics], which for massless
    quarks is our (1/6) g_s² y² (t² + m⁴)/(−s u) with y² = π α_EM m_q²/(sin²θ_W m_W²); the H
    open-width fraction is 1. Two differences are matched here:
    - Pythia's Yukawa runs, m_q(√ŝ) (ParticleData::mRun(id, mHat)); we use a fixed y, so each Pythia
      event is reweighted by [m_q(M)/m_q(√ŝ)]² (⟨w⟩ ≈ 1.22).
    - Pythia's process is q g → H q only: it has no q q̄ → H g (only the 2 → 1 ffbar2H), while our
      pp2js with CS_qq ≠ 0 also contains q q̄ → g S (≈ 19% of σ here). Only our events with a quark
      jet (the q g channels) are compared: σ_qg = σ × N(quark jet)/N.
    """
    import awkward as ak

    py, sp, ep, pt_p, batch = _run(["HiggsSM:qg2Hq = on", "SigmaProcess:alphaEMorder = 0"], 40000)
    pd = py.particleData
    assert pd.resOpenFrac(25) == 1.0  # Pythia multiplies σ by the H open-width fraction
    id1, id2 = ak.to_numpy(batch.info.id1), ak.to_numpy(batch.info.id2)
    fl = np.where(np.abs(id1) == 21, np.abs(id2), np.abs(id1))
    mhat = np.sqrt(ak.to_numpy(batch.info.sHat))
    w = np.array([(pd.mRun(int(f), M) / pd.mRun(int(f), x)) ** 2 for f, x in zip(fl, mhat)])
    aem = py.settings.parm("StandardModel:alphaEM0")
    s2w = py.settings.parm("StandardModel:sin2thetaW")
    k = math.sqrt(math.pi * aem / (s2w * pd.m0(24) ** 2))
    cpl = {"CS_bb": k * pd.mRun(5, M), "CS_cc": k * pd.mRun(4, M)}
    ch = PP2JS()
    r = ch.rate(mass=M, couplings=cpl, options={"scale": "pythia"})
    ev = ch.generate(40000, mass=M, couplings=cpl, seed=12, options={"scale": "pythia"})
    qg = ev.id_j.to_numpy() != 21  # q g -> q S (quark jet); the rest is q qbar -> g S
    # Pythia at fixed coupling: σ·⟨w⟩, error from sigmaErr and the spread of w
    sp_fix = sp * w.mean()
    ep_fix = sp_fix * math.hypot(ep / sp, w.std() / (w.mean() * math.sqrt(len(w))))
    f_qg = qg.mean()
    sm = r.sigma_pb * f_qg
    em = sm * math.hypot(r.sigma_err_pb / r.sigma_pb, math.sqrt((1 - f_qg) / (f_qg * len(ev))))
    # Tolerance: 4σ of the combined MC errors (~0.3% each) plus 1% for the PDF interpolation
    # (Pythia's LHAGrid1 vs ours, measured ≤ 0.02% for b, c, g here) and Pythia's massive b/c in
    # the final state (s + t + u = m_H² + m_q², μ_F² = p_T² + m_q²: O(m_b²/p_T²) ≈ 0.1%).
    assert abs(sm - sp_fix) < 4 * math.hypot(ep_fix, em) + 0.01 * sp_fix, (sm, sp_fix, ep_fix, em)
    # the normalised p_T shapes of the q g events agree bin by bin (statistics + 3%)
    edges = np.array([150, 175, 200, 250, 300, 400, 600, 1000.0])
    hp = np.histogram(pt_p, edges, weights=w)[0]
    hp2 = np.histogram(pt_p, edges, weights=w * w)[0]
    hm = np.histogram(ev.pt_parton.to_numpy()[qg], edges)[0].astype(float)
    fp, fm = hp / hp.sum(), hm / hm.sum()
    err = np.sqrt(hp2 / hp.sum() ** 2 + hm / hm.sum() ** 2)
    assert np.all(np.abs(fp - fm) < 4 * err + 0.03 * fp), (fp, fm)
    # flavour content of the q g events: share of charm agrees within 4σ (statistics) + 2% (PDFs)
    frac_c_p = np.sum(w * (fl == 4)) / w.sum()
    err_c_p = math.sqrt(np.sum(w**2 * ((fl == 4) - frac_c_p) ** 2)) / w.sum()
    frac_c_m = np.mean(np.abs(ev.id_j.to_numpy()[qg]) == 4)
    err_c_m = math.sqrt(frac_c_m * (1 - frac_c_m) / qg.sum())
    assert abs(frac_c_p - frac_c_m) < 4 * math.hypot(err_c_p, err_c_m) + 0.02 * frac_c_p, (frac_c_p, frac_c_m)
