"""The UV low-energy constraints (bsgamma, mixing): inputs, formulas, verdicts, refusals."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from analyses import bsgamma_dipole as BSG
from analyses import meson_mixing_dim8 as MIX
from analyses import registry
from evtgen import constants as C
from evtgen.errors import PhiphiError
from evtgen.modelfile import load_model
from evtgen.models import tchannel as T

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "models"


def test_dipole_equals_tree_structure_in_light_phi_limit():
    """For m_phi << m: dC7 = -Q_D A_sb / (4 m_b N), A_sb = y_q^s y_d^b (M^-1)_12 the tree-level
    coefficient (derived in docs/uv_model.md); corrections O(m_phi^2/m^2 ln) ~ 1e-9 here."""
    uv = T.tchannel_point(m_Q=20e3, m_D=30e3, m_phi=1.0, y_q=[0, 0.8, 0.3], y_d=[0, 0.2, 1.1], y1=0.9, y2=0.4)
    a_sb = uv.y_q[1] * uv.y_d[2] * __import__("numpy").linalg.inv(T.down_mass_matrix(uv))[0, 1]
    expect = -T.Q_D * a_sb / (4 * C.value("quark_masses", "m_b") * BSG.normalisation())
    got = BSG.wilson_shifts(uv)["dC7"]
    assert abs(got - expect) <= 1e-6 * abs(expect)
    assert BSG.wilson_shifts(uv)["dC8"] == pytest.approx(got / T.Q_D, rel=1e-12, abs=0)  # C7 = Q_D C8 for this loop


def test_bsgamma_verdicts():
    data = registry.get("bsgamma").data()
    window = load_model(EXAMPLES / "tchannel_bwindow_50TeV.yaml")
    r = registry.recast("bsgamma", window)
    assert r.excluded_95 is False and r.value_at_point < 1e-3  # the slide: B -> Xs gamma satisfied
    assert r.extras["slide_bound_ratio"] < 0.01
    bench = load_model(EXAMPLES / "tchannel_benchmark_3TeV.yaml")
    rb = registry.recast("bsgamma", bench)
    assert rb.excluded_95 is True  # universal y = 1 at 3 TeV: flavour-violating dipole far too large
    # the limit on dC7_eff from a Gaussian: sigma = 0.255e-4 / 8.22e-4; weaker sign puts the shift towards B_exp
    sig = math.hypot(data["br_exp"]["error"], data["br_sm"]["error"]) / 8.22e-4
    diff = (data["br_exp"]["value"] - data["br_sm"]["value"]) / 8.22e-4
    assert rb.upper_limit_95 == pytest.approx(diff + sig * math.sqrt(2.705543454095404), rel=1e-5, abs=0)


def test_mixing_estimate_and_verdicts():
    data = registry.get("mixing").data()
    bench = load_model(EXAMPLES / "tchannel_benchmark_3TeV.yaml")
    uv = T.uv_from_model_point(bench)
    c_np, r = MIX.coefficient_ratio(uv, "Bs", data)
    assert c_np == pytest.approx(3 * 3.0e-8, rel=1e-14, abs=0)  # 3 structures x y1^2 at m = 3 TeV
    assert r == pytest.approx(3 * 3.0e-8 / 1.9e-6, rel=1e-14, abs=0)
    assert registry.recast("mixing", bench).excluded_95 is False
    assert registry.recast("mixing", bench, system="Bd").excluded_95 is True  # |V_td/V_ts|^2 smaller SM
    k = registry.recast("mixing", bench, system="K")
    assert k.sensitivity is False and "K mixing" in k.sensitivity_reason
    window = load_model(EXAMPLES / "tchannel_bwindow_50TeV.yaml")
    rw = registry.recast("mixing", window)
    assert rw.value_at_point == pytest.approx(3.0e-8 / 1.9e-6 * (3 / 50) ** 4, rel=1e-12, abs=0)
    assert rw.excluded_95 is False and "order-of-magnitude" in rw.likelihood_form


@pytest.mark.parametrize("name", ["bsgamma", "mixing"])
def test_eft_only_point_is_refused(name):
    eft = load_model(EXAMPLES / "eft_belle2_bestfit.yaml").replace(channel=None)
    with pytest.raises(PhiphiError, match="needs a UV point") as exc:
        registry.recast(name, eft)
    assert "\n" not in str(exc.value)


def test_registered_as_constraints():
    for name in ("bsgamma", "mixing"):
        assert registry.get(name).kind == "constraint"
