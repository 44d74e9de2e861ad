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
