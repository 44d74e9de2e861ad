"""``phiphi shower``: Pythia 8 reads our LHE files; jets with fastjet; malformed input rejected."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pythia8mc", reason="pythia8mc (Pythia 8) is not installed")
pytest.importorskip("fastjet", reason="fastjet is not installed")

from evtgen.lhe import write_lhe  # noqa: E402
from evtgen.monojet.channel import PP2JPhiPhi  # noqa: E402
from evtgen.shower import shower_lhe  # noqa: E402

CPL = {"CG": 1e-6}


@pytest.fixture(scope="module")
def lhe_file(tmp_path_factory):
    ch = PP2JPhiPhi()
    ev = ch.generate(40, mass=10.0, couplings=CPL, seed=3)
    path = tmp_path_factory.mktemp("lhe") / "ev.lhe"
    write_lhe(path, [ev], {"rate": ch.rate(mass=10.0, couplings=CPL, options={}).as_dict()})
    return path, ev


def test_shower_produces_jets_and_true_met(lhe_file, tmp_path):
    import awkward as ak

    path, ev = lhe_file
    out = shower_lhe(path, tmp_path / "sh.parquet", seed=2, mpi=False)
    a = ak.from_parquet(out)
    assert len(a) == len(ev)
    lead = ak.fill_none(ak.firsts(a.jets.px) ** 2 + ak.firsts(a.jets.py) ** 2, 0.0)
    assert np.median(np.sqrt(ak.to_numpy(lead))) > 100.0  # the recoiling jet survives the shower
    # true MET = p_T of the phi pair, unchanged by the shower except for ISR recoil (< p_T scale)
    met = np.hypot(a.met_true_x.to_numpy(), a.met_true_y.to_numpy())
    ptphi = (ev.phi1 + ev.phi2).pt.to_numpy()
    assert np.median(np.abs(met - ptphi) / ptphi) < 0.3
    np.testing.assert_allclose(a.shat.to_numpy(), ev.shat.to_numpy(), rtol=1e-6)


def test_malformed_lhe_rejected_without_output(tmp_path, capsys):
    from evtgen.cli import main

    bad = tmp_path / "bad.lhe"
    bad.write_text(
        '<LesHouchesEvents version="3.0">\n<init>\n2212 2212 6500 6500 0 0 0 0 3 1\n1 0 1 1\n</init>\n<event>\n 3 1 1.0\n'
    )
    out = tmp_path / "out.parquet"
    assert main(["shower", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "malformed LHE file" in err and err.count("\n") == 0
    assert not out.exists() and not list(tmp_path.glob(".phiphi-tmp-*"))
    assert main(["shower", str(tmp_path / "missing.lhe"), "-o", str(out)]) == 2
