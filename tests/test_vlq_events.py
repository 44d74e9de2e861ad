"""pp2vlq events: four-momentum conservation, on-shell heavy quarks, reproducibility, LHE, ATLAS emulation."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from evtgen.errors import PhiphiError
from evtgen.vlq.channel import PP2VLQ

# second-generation Yukawas off: 2 flavour rows in the (costly) 2->3 group instead of 8
UV = {"mQ": 2000.0, "mD": 2200.0, "yq_d": 1.0, "yd_d": 1.0, "y1": 1.0}
OPT = {"groups": "Uphi,Dphi,UU,DD,UD,jphiphi", "vegas_points": 5000, "vegas_iterations": 3, "vegas_warmup": 3}


@pytest.fixture(scope="module")
def events():
    return PP2VLQ().generate_with_stats(400, mass=1.0, couplings=UV, seed=7, options=OPT)


def test_four_momentum_conservation_and_masses(events):
    ev, rate, stats = events
    eb = 6500.0
    x1, x2 = ev.x1.to_numpy(), ev.x2.to_numpy()
    tot = ak.sum(ev.jets, axis=1) + ev.phi1 + ev.phi2
    np.testing.assert_allclose(tot.E.to_numpy(), eb * (x1 + x2), rtol=1e-9)
    np.testing.assert_allclose(tot.pz.to_numpy(), eb * (x1 - x2), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(tot.px.to_numpy(), 0.0, atol=1e-6)
    np.testing.assert_allclose(ev.phi1.mass.to_numpy(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(ev.shat.to_numpy(), x1 * x2 * 13000.0**2, rtol=1e-9)
    has = ev.heavy1_id.to_numpy() != 0
    m1 = ev.heavy1.mass.to_numpy()[has]
    masses = list(rate.extra["heavy_masses_GeV"].values())  # U (2000), D1, D2 (Q_d-D mixing through y1 v)
    ok = np.zeros(m1.size, dtype=bool)
    for m in masses:
        ok |= np.isclose(m1, m, rtol=1e-6)
    assert ok.all() and masses[0] == 2000.0
    # every group that has a cross section produced events in proportion (multinomial)
    assert set(stats) <= set(rate.groups)
    # MET = -(sum of jets) at parton level
    np.testing.assert_allclose(
        ev.met_true_x.to_numpy(), -ak.sum(ev.jets.px, axis=1).to_numpy() + 0 * x1, atol=1e-6, rtol=1e-9
    )


def test_same_seed_same_events(events):
    ev2, _, _ = PP2VLQ().generate_with_stats(400, mass=1.0, couplings=UV, seed=7, options=OPT)
    ev = events[0]
    for f in ("shat", "x1", "met_true_x", "id1", "group"):
        np.testing.assert_array_equal(ev[f].to_numpy(), ev2[f].to_numpy())
    ev3, _, _ = PP2VLQ().generate_with_stats(100, mass=1.0, couplings=UV, seed=8, options=OPT)
    assert not np.array_equal(ev.shat.to_numpy()[:100], ev3.shat.to_numpy())


def test_lhe_round_trip_and_atlas(events, tmp_path):
    from detector.atlas import simulate
    from evtgen.lhe import read_lhe
    from evtgen.vlq.lhe import write_lhe

    ev, rate, _ = events
    for res in (False, True):
        path = write_lhe(tmp_path / f"e{res}.lhe", ev[:50], {"rate": rate.as_dict()}, resonances=res)
        _, lhe = read_lhe(path)
        assert len(lhe) == 50
        for e in lhe:
            pin = sum(np.array([q.px, q.py, q.pz, q.e]) for q in e.particles if q.status == -1)
            pout = sum(np.array([q.px, q.py, q.pz, q.e]) for q in e.particles if q.status == 1)
            np.testing.assert_allclose(pin, pout, atol=1e-6 * pin[3])
            cols = [q.color1 for q in e.particles if q.status == 1 and q.color1] + [
                q.color2 for q in e.particles if q.status == -1 and q.color2
            ]
            acols = [q.color2 for q in e.particles if q.status == 1 and q.color2] + [
                q.color1 for q in e.particles if q.status == -1 and q.color1
            ]
            assert sorted(cols) == sorted(acols)  # colour conservation
    reco = simulate(ev, seed=1)
    assert len(reco) == len(ev)
    assert reco.pass_sr.to_numpy().mean() > 0.1


def test_bad_input():
    with pytest.raises(PhiphiError, match="mD"):
        PP2VLQ().rate(mass=1.0, couplings={"mQ": 2000.0, "yq_d": 1.0})
    with pytest.raises(PhiphiError, match="unknown pp2vlq parameter"):
        PP2VLQ().rate(mass=1.0, couplings={"mQ": 2000.0, "mD": 2000.0, "yq_b": 1.0})
    with pytest.raises(PhiphiError, match="process group"):
        PP2VLQ().rate(mass=1.0, couplings={"mQ": 2000.0, "mD": 2000.0, "yq_d": 1.0}, options={"groups": "XX"})


def test_uv_point_from_a_model_file():
    """The generator takes its UV point from ModelPoint.uv (evtgen.modelfile.load_model of a
    tchannel-vlq file): three generations, the model layer's matching (same numbers)."""
    from pathlib import Path

    from evtgen.modelfile import load_model
    from evtgen.vlq.channel import uv_point_of

    path = Path(__file__).resolve().parents[1] / "examples" / "models" / "tchannel_benchmark_3TeV.yaml"
    point = load_model(path)
    opt = {"groups": "Uphi", "vegas_points": 2000, "vegas_iterations": 2, "vegas_warmup": 2}
    for uv in (point.uv, point.uv["parameters"], uv_point_of(point)):
        r = PP2VLQ().rate(mass=point.mphi, options={**opt, "uv": uv})
        assert r.uv == point.uv["parameters"]
        for k, v in r.matched_eft.items():
            assert v == point.couplings[k]
    assert r.extra["heavy_masses_GeV"]["D1"] == point.uv["heavy_masses"]["D1"]
    with pytest.raises(PhiphiError, match="differs from the UV point"):
        PP2VLQ().rate(mass=2.0, options={**opt, "uv": point.uv})
    with pytest.raises(PhiphiError, match="not both"):
        PP2VLQ().rate(mass=1.0, couplings={"mQ": 3000.0}, options={**opt, "uv": point.uv})
