"""CMB: the f_eff data, the derived pi pi f_eff and the cmb analysis."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analyses import registry
from analyses.dm import annihilation as ann
from analyses.dm import cmb
from evtgen.model import model_point


@pytest.mark.parametrize(
    "name, fn", [("feff_e_slatyer2016_hazma.csv", "f_e"), ("feff_gamma_slatyer2016_hazma.csv", "f_gamma")]
)
def test_two_digitisations_of_slatyer_fig3_agree(name, fn):
    # micrOMEGAs' and hazma's independent digitisations of the same figure: |difference| < 0.03 (reading error)
    d = cmb._read_csv(name)
    ours = getattr(cmb, fn)(d[:, 0] / 1e9)
    assert np.max(np.abs(ours - d[:, 1])) < 0.03


def test_pi0pi0_box_spectrum(monkeypatch):
    # at threshold each photon has E = m/2; with f_gamma = 1 all energy is deposited (energy conservation)
    m0 = ann.pdg_mass(111)
    assert cmb.feff_pi0pi0(m0) == pytest.approx(float(cmb.f_gamma(m0 / 2)), rel=1e-9, abs=0)
    monkeypatch.setattr(cmb, "f_gamma", lambda e: np.ones_like(np.asarray(e, float)))
    assert cmb.feff_pi0pi0(0.4) == pytest.approx(1.0, rel=1e-12, abs=0)


def test_pipi_electron_energy(monkeypatch):
    # mean e energy: gamma_mu m_mu (7/20 - beta_mu/20) in the pion frame (polarised Michel, analytic), and the
    # isotropic boost keeps the mean x gamma_pi; with f_e = 1, f_eff = 2 <E_e> / (2 m). Quadrature: 1e-10.
    m_pi, m_mu = ann.pdg_mass(211), ann.pdg_mass(13)
    e_mu = (m_pi**2 + m_mu**2) / (2 * m_pi)
    g, b = e_mu / m_mu, math.sqrt(1 - (m_mu / e_mu) ** 2)
    mean_rest = g * m_mu * (0.35 - 0.05 * b)
    for m in (m_pi * 1.000001, 0.3):
        e, w = cmb.electron_energies_pipi(m)
        assert float(np.sum(w * e)) == pytest.approx(mean_rest * m / m_pi, rel=1e-10, abs=0)
    monkeypatch.setattr(cmb, "f_e", lambda e: np.ones_like(np.asarray(e, float)))
    assert cmb.feff_pipi(0.3) == pytest.approx(mean_rest / m_pi, rel=1e-10, abs=0)


def test_p_ann_scaling_and_limit():
    c = {"CS_uu": 2.2e-5, "CS_dd": 2.2e-5}
    p1 = cmb.p_ann(0.15, c)["p_ann"]
    p2 = cmb.p_ann(0.15, {k: 3 * v for k, v in c.items()})["p_ann"]
    assert p2 / p1 == pytest.approx(9.0, rel=1e-12, abs=0)
    res = registry.recast("cmb", model_point(mphi=0.15, couplings=c))
    d = json.loads(json.dumps(res.as_dict()))
    # the limit on the scale t: p_ann t^2 = UL -> t = sqrt(UL/p_ann) (one-sided Wilks on the half-Gaussian: exact)
    t95 = math.sqrt(cmb.p_ann_limit_95() / p1)  # sqrt(2.7055) = Phi^-1(0.95): the Wilks crossing is the UL
    z = 1.6448536269514722
    t_wilks = math.sqrt(math.sqrt(2.705543454095404) / z * cmb.p_ann_limit_95() / p1)
    assert d["upper_limit_95"] == pytest.approx(t_wilks, rel=1e-5, abs=0)
    assert t_wilks == pytest.approx(t95, rel=1e-6, abs=0)
    assert d["excluded_95"] is True  # thermal pi pi s-wave annihilation is excluded by ~400 in p_ann
    assert d["extras"]["channels_without_f_eff"] == []


def test_no_sensitivity_cases():
    below = registry.recast("cmb", model_point(mphi=0.12, couplings={"CS_uu": 1e-4, "CS_dd": 1e-4}))
    assert not below.sensitivity and "no s-wave" in below.sensitivity_reason
    # above the last mass of the derived table (100 GeV) the quark channels have no f_eff
    heavy = registry.recast("cmb", model_point(mphi=200.0, couplings={"CS_bb": 1e-4}))
    assert not heavy.sensitivity and "bb" in heavy.sensitivity_reason


def test_kaon_scenario_excluded_by_cmb():
    # the seed's m_phi = 1 GeV, C_ss at the relic value (1.50e-4 GeV^-1): s-wave K Kbar + eta eta at recombination
    # with the Pythia-derived f_eff: p_ann ~ 48x the Planck bound (every open channel has an f_eff)
    r = registry.recast("cmb", model_point(mphi=1.0, couplings={"CS_ss": 1.503e-4}))
    assert r.sensitivity and r.excluded_95
    assert r.extras["channels_without_f_eff"] == []
    assert 30 < r.extras["p_ann_over_limit"] < 70


def test_pythia_feff_method_reproduces_exact_pion_channels():
    # the Pythia fold (used for K K, eta eta, pi0 eta, quarks, gluons) against the exact derivations:
    # pi0 pi0 (box spectrum) within 2% (400 events: stat. ~0.5%); pi+ pi- within 8% (Pythia's mu decay is
    # unpolarised: +4% expected)
    from analyses.dm import feff_pythia

    py = feff_pythia.make_pythia(seed=7)
    f0, frac0 = feff_pythia.feff_pair(py, (111, 111), 0.3, n=400, seed=3)
    assert frac0 == pytest.approx(1.0, rel=1e-9, abs=0)  # all energy in photons
    assert f0 == pytest.approx(cmb.feff_pi0pi0(0.3), rel=0.02, abs=0)
    fc, _ = feff_pythia.feff_pair(py, (211, -211), 0.3, n=400, seed=3)
    assert fc == pytest.approx(cmb.feff_pipi(0.3), rel=0.08, abs=0)


def test_derived_table_covers_every_channel():
    tab = cmb.feff_derived_table()
    assert set(tab) == set(ann.CHANNELS) - set(cmb.DERIVED)
    for ch, (m, f) in tab.items():
        assert np.all(np.diff(m) > 0) and np.all((f > 0.1) & (f < 0.8)), ch
