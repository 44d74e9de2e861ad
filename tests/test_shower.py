"""``phiphi shower`` reliability (GitHub issue 9): flat memory in N (streamed batches), one-to-one
reproducible seeds (0 included), metadata carried into the showered file and through
``simulate``, HepMC3 output, LHE written with pylhe.

The LHE input is a few real pp -> j phi phi events (coarse VEGAS settings: only the shower is
under test) repeated to the wanted length, so long files cost nothing to make.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

pytest.importorskip("pythia8mc", reason="pythia8mc (Pythia 8) is not installed")
pytest.importorskip("fastjet", reason="fastjet is not installed")

from evtgen.io import read_metadata  # noqa: E402
from evtgen.lhe import count_lhe, read_lhe_metadata, write_lhe  # noqa: E402
from evtgen.shower import pythia_seed, shower_lhe  # noqa: E402

CPL = {"CG": 1e-6}
COARSE = {"vegas_points": 20_000, "vegas_warmup_points": 5_000, "vegas_iterations": 3, "vegas_wmax_points": 100_000}


def make_lhe(path: Path, n: int, seed: int = 3) -> Path:
    """An LHE file of ``n`` events: 50 generated events repeated."""
    from evtgen.monojet.channel import PP2JPhiPhi
    from evtgen.production import run_metadata

    ch = PP2JPhiPhi()
    ev = ch.generate(50, mass=10.0, couplings=CPL, seed=seed, options=COARSE)
    rate = ch.rate(mass=10.0, couplings=CPL, options=COARSE)
    meta = run_metadata(ch, n=n, mass=10.0, couplings=CPL, seed=seed, frame="lab", rate=rate)
    reps = -(-n // 50)
    write_lhe(path, (ev for _ in range(reps)) if n % 50 == 0 else [ak.concatenate([ev] * reps)[:n]], meta)
    return path


@pytest.fixture(scope="module")
def lhe(tmp_path_factory) -> Path:
    return make_lhe(tmp_path_factory.mktemp("lhe") / "ev.lhe", 60)


def test_lhe_written_by_pylhe_round_trip(lhe):
    meta = read_lhe_metadata(lhe)
    assert meta["channel"] == "pp2jphiphi" and meta["couplings"] == CPL and meta["rate"]["sigma_pb"] > 0
    assert count_lhe(lhe) == 60
    assert oct(lhe.stat().st_mode & 0o777) == "0o644"  # like every other output (was 0600)


def test_seed_map_is_one_to_one_onto_pythia_range():
    assert pythia_seed(0) == 1 and pythia_seed(1) == 2 and pythia_seed(899_999_999) == 900_000_000


@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_same_file(lhe, tmp_path, seed):
    a = shower_lhe(lhe, tmp_path / "a.parquet", seed=seed, mpi=False, batch=25)
    b = shower_lhe(lhe, tmp_path / "b.parquet", seed=seed, mpi=False, batch=25)
    assert a.read_bytes() == b.read_bytes()
    c = shower_lhe(lhe, tmp_path / "c.parquet", seed=seed + 1, mpi=False, batch=25)
    ja, jc = ak.from_parquet(a).jets, ak.from_parquet(c).jets
    assert not np.array_equal(ak.to_numpy(ak.flatten(ja.px))[:20], ak.to_numpy(ak.flatten(jc.px))[:20])


def test_batches_do_not_change_the_events(lhe, tmp_path):
    a = ak.from_parquet(shower_lhe(lhe, tmp_path / "a.parquet", seed=3, mpi=False, batch=60))
    b = ak.from_parquet(shower_lhe(lhe, tmp_path / "b.parquet", seed=3, mpi=False, batch=7))
    assert ak.to_list(a.jets.px) == ak.to_list(b.jets.px)
    np.testing.assert_array_equal(a.met_true_x.to_numpy(), b.met_true_x.to_numpy())


def test_metadata_carried_into_shower_and_simulate(lhe, tmp_path):
    out = shower_lhe(lhe, tmp_path / "s.parquet", seed=0, mpi=False)
    meta = read_metadata(out)
    lhe_meta = read_lhe_metadata(lhe)
    assert meta["channel"] == "pp2jphiphi" and meta["couplings"] == CPL
    assert meta["rate"]["sigma_pb"] == lhe_meta["rate"]["sigma_pb"] and meta["seed"] == lhe_meta["seed"]
    sh = meta["shower"]
    assert sh["seed"] == 0 and sh["pythia_seed"] == 1 and sh["mpi"] is False and sh["n_events"] == 60
    assert sh["versions"]["pythia"].startswith("8.") and "FastJet" in sh["versions"]["fastjet_library"]
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    # shat from Pythia's copy of the hard process = the LHE value (10-11 significant digits written)
    np.testing.assert_allclose(ak.from_parquet(out).shat.to_numpy()[:50], _lhe_shat(lhe)[:50], rtol=1e-8)
    # ... and through the ATLAS emulation
    from detector import simulate_file

    sim = simulate_file(out, "atlas", tmp_path / "atlas.parquet", seed=1)
    m2 = read_metadata(sim)
    assert (
        m2["channel"] == "pp2jphiphi" and m2["couplings"] == CPL and m2["rate"]["sigma_pb"] == meta["rate"]["sigma_pb"]
    )
    assert m2["shower"]["seed"] == 0 and m2["detector"] == "atlas"


def _lhe_shat(path) -> np.ndarray:
    from evtgen.lhe import iter_lhe

    out = []
    for e in iter_lhe(path):
        inc = [q for q in e.particles if q.status == -1]
        out.append((inc[0].e + inc[1].e) ** 2 - (inc[0].pz + inc[1].pz) ** 2)
    return np.array(out)


def test_hepmc3_output(lhe, tmp_path):
    import pyhepmc

    out = shower_lhe(lhe, tmp_path / "s.parquet", seed=2, mpi=False, n_max=10, hepmc=tmp_path / "s.hepmc3")
    jets = ak.from_parquet(out).jets
    n = 0
    with pyhepmc.open(tmp_path / "s.hepmc3") as f:
        for ev in f:
            final = [p.momentum for p in ev.particles if p.status == 1]
            total = np.sum([[p.px, p.py, p.pz, p.e] for p in final], axis=0)
            # the full record: final-state momenta add up to the beams (13 TeV, at rest)
            np.testing.assert_allclose(total, [0.0, 0.0, 0.0, 13000.0], atol=1e-5)
            assert len([p for p in ev.particles if p.status == 4]) == 2
            n += 1
    assert n == 10 == len(jets)


RSS_SCRIPT = """
import resource, sys
from evtgen.shower import shower_lhe
shower_lhe(sys.argv[1], sys.argv[2], seed=1, mpi=False, batch=50)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_peak_memory_flat_in_n(tmp_path):
    """Peak RSS of showering 100 and 1000 events differs by < 20% (the unstreamed shower grew by
    ~0.6 MB per event: +540 MB here, ~+100% of its ~500 MB base). benchmarks/bench_shower_memory.py
    does 10^3 vs 10^4."""
    peaks = []
    for n in (100, 1000):
        src = make_lhe(tmp_path / f"ev{n}.lhe", n)
        r = subprocess.run(
            [sys.executable, "-c", RSS_SCRIPT, str(src), str(tmp_path / f"s{n}.parquet")],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        peaks.append(int(r.stdout.strip().splitlines()[-1]))
    assert peaks[1] < 1.2 * peaks[0], json.dumps(peaks)
