"""``phiphi shower`` of pp2vlq LHE files: the heavy mass eigenstates U, D1, D2 (codes of
evtgen.vlq.uv.HEAVY) are declared to Pythia (evtgen.shower.heavy_quark_settings), so an LHE file
with the on-shell resonances (status 2) showers; four-momentum is conserved event by event and the
same seed gives identical output."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pythia8mc", reason="pythia8mc (Pythia 8) is not installed")
pytest.importorskip("fastjet", reason="fastjet is not installed")
pyhepmc = pytest.importorskip("pyhepmc", reason="pyhepmc is not installed")

from evtgen.shower import heavy_quark_settings, shower_lhe  # noqa: E402
from evtgen.vlq.channel import PP2VLQ  # noqa: E402
from evtgen.vlq.lhe import write_lhe  # noqa: E402
from evtgen.vlq.uv import HEAVY  # noqa: E402

UV = {"mQ": 1500.0, "mD": 1700.0, "yq_d": 1.0, "yd_d": 1.0, "y1": 0.5}
OPT = {"groups": "Uphi,Dphi,UU", "vegas_points": 3000, "vegas_iterations": 2, "vegas_warmup": 2}


@pytest.fixture(scope="module")
def lhe_file(tmp_path_factory):
    ev, rate, _ = PP2VLQ().generate_with_stats(12, mass=1.0, couplings=UV, seed=5, options=OPT)
    path = tmp_path_factory.mktemp("vlqsh") / "vlq.lhe"
    write_lhe(path, ev, {"rate": rate.as_dict()}, resonances=True)
    return path, rate


def test_settings_carry_the_model_masses_and_widths(lhe_file):
    _, rate = lhe_file
    cmds = heavy_quark_settings({"rate": rate.as_dict()})
    for name, pid, _ in HEAVY:
        line = next(c for c in cmds if c.startswith(f"{pid}:all"))
        m0, width = (float(v) for v in line.split()[7:9])
        assert m0 == rate.extra["heavy_masses_GeV"][name] and width == rate.widths_GeV[name]


def test_shower_conserves_four_momentum_and_is_reproducible(lhe_file, tmp_path):
    path, _ = lhe_file
    outs = []
    for k in range(2):
        hep = tmp_path / f"s{k}.hepmc3"
        out = shower_lhe(path, tmp_path / f"s{k}.parquet", seed=11, mpi=False, hepmc=hep)
        outs.append((out.read_bytes(), hep))
    with pyhepmc.open(str(outs[0][1])) as f:
        n = 0
        for event in f:
            tot = np.zeros(4)
            for p in event.particles:
                if p.status == 1:
                    tot += [p.momentum.px, p.momentum.py, p.momentum.pz, p.momentum.e]
            # the beams: 13 TeV at rest; round-off of ~100 final particles of O(TeV): 1e-6 relative
            np.testing.assert_allclose(tot, [0.0, 0.0, 0.0, 13000.0], atol=1e-6 * 13000.0)
            n += 1
    assert n == 12
    # same seed: identical showered events (the Parquet bytes and the HepMC text)
    assert outs[0][0] == outs[1][0]
    assert outs[0][1].read_text() == outs[1][1].read_text()
