"""BaBar 2013 B -> K(*) nu nubar recast (analyses/babar_bknunu_2013.py, registered as "babar2013")."""

from __future__ import annotations

import math

import pytest
from particle import Particle
from scipy import stats as sps

from analyses import babar_bknunu_2013 as b13
from analyses import belle_bhnunu_2017 as b17
from analyses import registry
from evtgen.errors import PhiphiError
from evtgen.model import model_point

#: published 90% CL limits as transcribed (arXiv:1303.7465 Tables IV, V via flavio and ALP-aca;
#: combined via ALP-aca)
PUBLISHED = {"kstar0": 9.3e-5, "kstarplus": 11.6e-5, "kstar": 7.9e-5, "kplus": 3.7e-5, "kzero": 8.1e-5, "k": 3.2e-5}
RATE = {
    "kstar0": "b0_kstar0",
    "kstarplus": "bplus_kstarplus",
    "kstar": "b0_kstar0",
    "kplus": "bplus_kplus",
    "kzero": "b0_kzero",
    "k": "bplus_kplus",
}
Z90, Z95 = sps.norm.ppf(0.90), sps.norm.ppf(0.95)


@pytest.fixture(scope="module")
def data():
    return registry.get("babar2013").data()


def _point(channel="b2kstarphiphi", mphi=1.0, c=1e-8):
    return model_point(channel=channel, mphi=mphi, couplings={b17.PARAMETERS[channel]: c})


@pytest.mark.parametrize("mode", list(PUBLISHED))
def test_each_mode_reproduces_its_published_90cl_limit(data, mode):
    """Published-limit check: the half-Gaussian's one-sided 90% CL crossing lies at the published
    BR limit; the coupling limit follows in closed form (1e-5: the engine's root tolerance)."""
    row = data["limits_90"]["modes"][mode]
    assert row["upper_limit"] == PUBLISHED[mode] and row["rate"] == RATE[mode]
    r = registry.recast("babar2013", _point(row["channel"]), mode=mode)
    lik = r.likelihood
    assert lik.twice_nll(Z90 * lik.sigma / lik.reference) == pytest.approx(Z90**2, rel=1e-12, abs=0)
    assert Z90 * lik.sigma == pytest.approx(PUBLISHED[mode], rel=1e-12, abs=0)
    br = b17.mode_br(RATE[mode], 1.0, 1e-8)
    assert r.extras["br_at_reference"] == pytest.approx(br, rel=1e-12, abs=0)
    assert r.upper_limit_95 == pytest.approx(1e-8 * math.sqrt(PUBLISHED[mode] * Z95 / Z90 / br), rel=1e-5, abs=0)
    assert r.analysis == "babar2013" and r.provenance["paper"] == "arXiv:1303.7465"


def test_babar_is_weaker_than_belle_for_kstar0_by_the_square_root_of_the_limits():
    """Same rate, same likelihood form: the ratio of coupling limits is sqrt(9.3/1.8) exactly."""
    belle = registry.recast("belle2017", _point(mphi=0.7))
    babar = registry.recast("babar2013", _point(mphi=0.7))
    assert babar.upper_limit_95 / belle.upper_limit_95 == pytest.approx(math.sqrt(9.3 / 1.8), rel=1e-5, abs=0)


def test_kzero_isospin(data):
    ratio = Particle.from_pdgid(521).lifetime / Particle.from_pdgid(511).lifetime
    kp = registry.recast("babar2013", _point("b2kphiphi"), mode="kplus").extras["br_at_reference"]
    kz = registry.recast("babar2013", _point("b2kphiphi"), mode="kzero").extras["br_at_reference"]
    assert kz * ratio == pytest.approx(kp, rel=1e-12, abs=0)


def test_mode_channel_mismatch_and_header(data):
    with pytest.raises(PhiphiError, match="constrains b2kstarphiphi"):
        registry.recast("babar2013", _point("b2kphiphi"), mode="kstar")
    assert data["analysis"]["channels"] == b17.PARAMETERS
    assert set(data["analysis"]["options"]["mode"]["choices"]) == set(data["limits_90"]["modes"])


def test_plot_writes_a_png(tmp_path):
    r = b13.recast(_point("b2kphiphi", mphi=1.2), data=registry.get("babar2013").data(), mode="k")
    assert r.extras["mode"] == "k"
    assert b13.plot(r, tmp_path / "b13.png").stat().st_size > 1000


def test_efficiency_bracket_is_the_same_fold_as_belle():
    """Both searches use the same SM reference spectra and efficiency models: identical ratios, and the
    BaBar/Belle limit ratio sqrt(9.3/1.8) holds under every model (1e-5: engine root tolerance)."""
    belle = registry.recast("belle2017", _point(mphi=1.3)).extras["efficiency_bracket"]
    babar = registry.recast("babar2013", _point(mphi=1.3)).extras["efficiency_bracket"]
    for model in b17.EFFICIENCY_MODELS:
        assert babar[model]["ratio_to_sm"] == belle[model]["ratio_to_sm"]
        assert babar[model]["upper_limit_95"] / belle[model]["upper_limit_95"] == pytest.approx(
            math.sqrt(9.3 / 1.8), rel=1e-5, abs=0
        )
    r = registry.recast("babar2013", _point(mphi=1.3), efficiency="belle2_hta_shape")
    assert r.upper_limit_95 == pytest.approx(babar["belle2_hta_shape"]["upper_limit_95"], rel=1e-5, abs=0)
