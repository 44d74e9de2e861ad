"""`simulate` streams its input in fixed blocks: the output depends on the events and the seed
only — not on the input file's row groups — and a file smaller than one block is emulated
exactly as in memory."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

import detector
import evtgen
from evtgen.io import read_events
from evtgen.production import generate_file


@pytest.mark.parametrize("name,channel,mphi", [("belle2", "b2kphiphi", 1.0), ("na62", "k2piphiphi", 0.1)])
def test_output_independent_of_input_chunking(tmp_path, monkeypatch, name, channel, mphi):
    monkeypatch.setattr(detector, "SIMULATE_BLOCK", 700)  # several blocks from a small file
    outs = []
    for chunk in (300, 2500):
        ev = tmp_path / f"ev{chunk}.parquet"
        generate_file(channel, 2000, ev, mphi=mphi, seed=4, chunk_size=chunk, progress=False)
        out = tmp_path / f"out{chunk}.parquet"
        detector.simulate_file(ev, name, out, seed=9)
        outs.append(read_events(out))
    a, b = outs
    assert len(a) == len(b) == 2000
    for field in a.fields:
        if a[field].fields:  # particle records: identical inputs
            continue
        np.testing.assert_array_equal(ak.to_numpy(a[field]), ak.to_numpy(b[field]))


def test_small_file_equals_in_memory_emulation(tmp_path):
    ev = tmp_path / "ev.root"
    generate_file("b2kphiphi", 1500, ev, mphi=1.0, seed=4, progress=False)
    out = tmp_path / "out.parquet"
    detector.simulate_file(ev, "belle2", out, seed=3)
    direct = detector.simulate(evtgen.generate("b2kphiphi", 1500, mphi=1.0, seed=4), "belle2", seed=3)
    np.testing.assert_array_equal(ak.to_numpy(read_events(out).q2_rec), ak.to_numpy(direct.q2_rec))


@pytest.mark.parametrize("name,channel,mphi", [("belle2", "b2kphiphi", 1.0), ("na62", "k2piphiphi", 0.1)])
def test_streamed_file_equals_in_memory_emulation(tmp_path, monkeypatch, name, channel, mphi):
    # every event has its own smearing stream (seed, index in the file): blocks of 700 events
    # give exactly the in-memory emulation of the whole file
    monkeypatch.setattr(detector, "SIMULATE_BLOCK", 700)
    ev = tmp_path / "ev.parquet"
    generate_file(channel, 2000, ev, mphi=mphi, seed=4, chunk_size=900, progress=False)
    out = tmp_path / "out.parquet"
    detector.simulate_file(ev, name, out, seed=9)
    streamed = read_events(out)
    direct = detector.simulate(read_events(ev), name, seed=9)
    assert streamed.fields == direct.fields
    for field in direct.fields:
        if direct[field].fields:
            continue
        np.testing.assert_array_equal(ak.to_numpy(streamed[field]), ak.to_numpy(direct[field]), err_msg=field)


def _parton_jets(n: int) -> ak.Array:
    g = np.random.default_rng(3)
    pt, eta, phi = 150 + g.exponential(300, n), g.uniform(-3, 3, n), g.uniform(-np.pi, np.pi, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    j = ak.zip({"px": px, "py": py, "pz": pz, "E": np.sqrt(px**2 + py**2 + pz**2)}, with_name="Momentum4D")
    return ak.zip({"j": j, "shat": np.full(n, 1e6)}, depth_limit=1)


@pytest.mark.parametrize("name", ["belle2", "na62", "atlas"])
def test_blocks_and_threads_do_not_change_the_output(name):
    import numba

    if name == "atlas":
        ev = _parton_jets(5000)
    else:
        channel, mphi = ("b2kphiphi", 1.0) if name == "belle2" else ("k2piphiphi", 0.05)
        ev = evtgen.generate(channel, 5000, mphi=mphi, seed=2)
    whole = detector.simulate(ev, name, seed=5)
    blocks = [detector.simulate(ev[lo:hi], name, seed=5, first=lo) for lo, hi in ((0, 1), (1, 2345), (2345, 5000))]
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = detector.simulate(ev, name, seed=5)
    finally:
        numba.set_num_threads(threads)
    other_seed = detector.simulate(ev, name, seed=6)
    smeared = {"belle2": "q2_rec", "na62": "m2_miss", "atlas": "met"}[name]
    for field in whole.fields:
        if whole[field].fields:
            continue
        w = ak.to_numpy(whole[field])
        np.testing.assert_array_equal(np.concatenate([ak.to_numpy(b[field]) for b in blocks]), w, err_msg=field)
        np.testing.assert_array_equal(ak.to_numpy(single[field]), w, err_msg=field)
    if name != "belle2":  # Belle II's q2_rec is not smeared (its random draws are the bins)
        assert not np.array_equal(ak.to_numpy(other_seed[smeared]), ak.to_numpy(whole[smeared]))
    else:
        assert not np.array_equal(ak.to_numpy(other_seed.ita_bin), ak.to_numpy(whole.ita_bin))


def test_first_must_be_a_nonnegative_integer():
    ev = evtgen.generate("b2kphiphi", 10, mphi=1.0, seed=2)
    with pytest.raises(detector.PhiphiError, match="first = -1"):
        detector.simulate(ev, "belle2", first=-1)
