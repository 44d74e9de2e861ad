"""The channel registry rows: what a row declares is what the channel does."""

from __future__ import annotations

import numpy as np
import pytest

import evtgen
from evtgen import constants as C
from evtgen.channels import ROWS


def test_kstar_rate_states_the_visible_fraction_and_events_agree():
    """b2kstarphiphi: br is the total B0 -> K*0 phi phi rate; every event is K*0 -> K+ pi-, whose
    fraction is 2/3 by isospin (constants.yaml), and the rate says so."""
    r = evtgen.rate("b2kstarphiphi", mphi=1.0)
    assert r.visible_fraction == pytest.approx(2.0 / 3.0, rel=1e-15, abs=0)
    assert r.br_visible == pytest.approx(r.br * 2.0 / 3.0, rel=1e-15, abs=0)
    d = r.as_dict()
    assert d["br_visible"] == r.br_visible and d["visible_mode"] == "kstar0_to_kplus_piminus"
    assert "BR visible" in r.summary()
    ev = evtgen.generate("b2kstarphiphi", 2000, mphi=1.0, seed=3, frame="rest")
    np.testing.assert_allclose(ev.K.mass.to_numpy(), C.mass("K+"), rtol=1e-6)
    np.testing.assert_allclose(ev.pi.mass.to_numpy(), C.mass("pi+"), rtol=1e-6)
    # channels without a declared fraction: br_visible is br
    r2 = evtgen.rate("b2kphiphi", mphi=1.0)
    assert r2.visible_fraction == 1.0 and r2.br_visible == r2.br


@pytest.mark.parametrize("name", [n for n, r in ROWS.items() if r.kind == "decay" and r.mass_option])
def test_mass_limit_is_the_kinematic_one(name):
    row = ROWS[name]
    gap = C.mass(row.parent) - C.mass(row.visible)
    limit = gap / 2 if row.mass_option == "mphi" else gap
    assert row.mass_limit() == pytest.approx(limit, rel=1e-15, abs=0)
    with pytest.raises(evtgen.PhiphiError, match="kinematic limit"):
        evtgen.rate(name, **{row.mass_option: limit * 1.0001})
