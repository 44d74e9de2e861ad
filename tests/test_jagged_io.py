"""Event files with a variable number of jets per event (pp2vlq) round-trip through .parquet and
.root, whole and streamed, and a UV model file reaches the pp2vlq generator as its own point."""

from __future__ import annotations

import argparse

import awkward as ak
import numpy as np
import pytest

from evtgen import cliutil
from evtgen.events import register_vector
from evtgen.io import iter_events, read_events, write_events


def _jagged_events(n: int, seed: int) -> ak.Array:
    register_vector()
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, n)  # 0..3 jets, including events without any
    flat = {c: rng.normal(size=counts.sum()) for c in ("px", "py", "pz")}
    flat["E"] = np.sqrt(flat["px"] ** 2 + flat["py"] ** 2 + flat["pz"] ** 2) + 1.0
    jets = ak.unflatten(ak.zip(flat, with_name="Momentum4D"), counts)
    phi = ak.zip({c: rng.normal(size=n) for c in ("px", "py", "pz", "E")}, with_name="Momentum4D")
    return ak.zip({"jets": jets, "phi1": phi, "met_true_x": rng.normal(size=n), "group": counts}, depth_limit=1)


@pytest.mark.parametrize("ext", ["parquet", "root"])
def test_jagged_round_trip(tmp_path, ext):
    events = _jagged_events(1000, seed=4)
    chunks = [events[:300], events[300:]]  # written in two chunks
    path = write_events(tmp_path / f"ev.{ext}", chunks, {"channel": "toy"})
    back = read_events(path)
    assert ak.to_list(ak.num(back.jets)) == ak.to_list(ak.num(events.jets))
    for c in ("px", "py", "pz", "E"):
        assert ak.all(ak.flatten(back.jets[c]) == ak.flatten(events.jets[c]))
    assert np.array_equal(back.met_true_x, events.met_true_x)
    blocks = list(iter_events(path, 128))  # streamed in blocks independent of the written chunks
    assert [len(b) for b in blocks] == [128] * 7 + [104]
    streamed = ak.concatenate(blocks)
    assert ak.all(ak.flatten(streamed.jets.px) == ak.flatten(events.jets.px))
    assert back.jets.layout.content.parameter("__record__") == "Momentum4D"


def test_uv_model_file_drives_pp2vlq_by_its_own_parameters():
    """`phiphi generate pp2vlq --model UV.yaml`: the point carries the UV parameters as option `uv`
    and not the matched EFT couplings (which pp2vlq does not take); other channels keep the EFT."""
    args = argparse.Namespace(model="examples/models/tchannel_benchmark_3TeV.yaml", coupling=None)
    vlq = cliutil.point_from_args(args, channel="pp2vlq", seed=1)
    assert vlq.options["uv"]["m_Q"] == 3000.0 and vlq.options["uv"]["y1"] == 1.0
    assert not vlq.couplings
    b2k = cliutil.point_from_args(args, channel="b2kphiphi", seed=1)
    assert "uv" not in b2k.options and b2k.couplings["CS_sb"] != 0


def test_pp2vlq_lhe_from_generate_file(tmp_path):
    """`phiphi generate pp2vlq -o FILE.lhe` goes through the channel's own LHE writer (heavy quarks
    as resonances, which the shower declares): one LHE event per generated event, the heavy-quark
    ids of the model present, with the cheapest group only (U phi) to keep the test short."""
    from evtgen.lhe import iter_lhe
    from evtgen.modelfile import load_model
    from evtgen.production import generate_file

    uv = dict(load_model("examples/models/tchannel_benchmark_3TeV.yaml").uv["parameters"])
    path, meta = generate_file(
        "pp2vlq", 40, tmp_path / "vlq.lhe", mphi=1.0, seed=5, options={"uv": uv, "groups": "Uphi"}
    )
    events = list(iter_lhe(path))
    assert len(events) == 40 == meta["n_events"]
    ids = {int(p.id) for ev in events for p in ev.particles}
    assert 9000002 in ids or -9000002 in ids  # U, the heavy up-type quark (evtgen/shower.py)
