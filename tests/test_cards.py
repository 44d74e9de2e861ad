"""Every packaged detector is one card: the packaged card given as --card reproduces the
packaged detector exactly, and a card's emulation type must match --detector."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from detector import EMULATIONS
from evtgen.cli import main
from evtgen.io import read_events

CHANNEL = {"belle2": ("b2kphiphi", "--mphi", "1.0"), "na62": ("k2piphiphi", "--mphi", "0.1")}


@pytest.mark.parametrize("name", sorted(CHANNEL))
def test_packaged_card_as_a_user_card(tmp_path, name):
    channel, opt, mass = CHANNEL[name]
    ev = tmp_path / "ev.parquet"
    assert main(["generate", channel, "-n", "3000", opt, mass, "--seed", "5", "-o", str(ev)]) == 0
    card = tmp_path / "my_card.yaml"
    shutil.copy(Path(str(resources.files("detector") / "data" / EMULATIONS[name][1])), card)
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert main(["simulate", str(ev), "--detector", name, "--seed", "2", "-o", str(a)]) == 0
    assert main(["simulate", str(ev), "--card", str(card), "--seed", "2", "-o", str(b)]) == 0
    ra, rb = read_events(a), read_events(b)
    for field in ra.fields:
        if field in ("K", "pi", "B", "phi1", "phi2"):
            continue
        np.testing.assert_array_equal(ak.to_numpy(ra[field]), ak.to_numpy(rb[field]))
    other = "na62" if name == "belle2" else "belle2"
    assert main(["simulate", str(ev), "--detector", other, "--card", str(card), "-o", str(tmp_path / "c.parquet")]) == 2
