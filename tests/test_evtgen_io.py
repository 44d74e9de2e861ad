"""Reproducibility, event files and the command line of the generators."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import evtgen
from evtgen import io, rng
from evtgen.cli import main
from evtgen.decays import DECAY_CHANNELS


def _cols(ev):
    from evtgen.events import to_columns

    return to_columns(ev)


def test_same_events_with_one_and_two_threads():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = _cols(evtgen.generate("b2kphiphi", 30_000, mphi=1.0, seed=42))
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = _cols(evtgen.generate("b2kphiphi", 30_000, mphi=1.0, seed=42))
    finally:
        numba.set_num_threads(before)
    for k in a:
        assert np.array_equal(a[k], b[k]), k


@pytest.mark.parametrize(
    "name,kw", [("b2kphiphi", {"mass": 1.0}), ("k2pinunu", {"mass": None}), ("b2kstarphiphi", {"mass": 0.3})]
)
def test_same_events_whatever_the_chunking(name, kw):
    ch = DECAY_CHANNELS[name]
    key = rng.derive_key(7)
    whole = ch.generate_block(0, 10_000, key=key, couplings=None, **kw)
    parts = [ch.generate_block(a, b - a, key=key, couplings=None, **kw) for a, b in ((0, 1), (1, 3333), (3333, 10_000))]
    for k in whole:
        assert np.array_equal(whole[k], np.concatenate([p[k] for p in parts])), k


def test_different_seeds_give_different_events():
    a = evtgen.generate("b2kphiphi", 100, mphi=1.0, seed=1)
    b = evtgen.generate("b2kphiphi", 100, mphi=1.0, seed=2)
    assert not np.array_equal(np.asarray(a.q2_true), np.asarray(b.q2_true))


def test_rng_uniforms_are_uniform():
    """Kolmogorov-Smirnov on 200k uniforms from the per-event streams (fixed key)."""
    from scipy import stats

    key = rng.derive_key(123)
    u = rng.uniforms(key[0], key[1], 0, 50_000, 4).ravel()
    assert 0.0 < u.min() and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("ext", [".root", ".parquet"])
def test_round_trip(tmp_path, ext):
    path = tmp_path / f"ev{ext}"
    from evtgen.production import generate_file

    out, meta = generate_file("k2piphiphi", 5000, path, mphi=0.1, seed=3, chunk_size=1500)
    back = io.read_events(path)
    ref = evtgen.generate("k2piphiphi", 5000, mphi=0.1, seed=3)
    assert len(back) == 5000
    for k, v in _cols(ref).items():
        assert np.array_equal(_cols(back)[k], v), k
    # Momentum4D behaviour survives the round trip
    assert np.allclose(np.asarray(back.K.mass), DECAY_CHANNELS["k2piphiphi"].m_parent)
    md = io.read_metadata(path)
    assert md["channel"] == "k2piphiphi" and md["seed"] == 3 and md["mphi"] == 0.1
    assert md["couplings"] == {"CS_sd": 1e-11}
    assert md["rate"]["br"] == pytest.approx(evtgen.rate("k2piphiphi", mphi=0.1).br)
    assert md["rate"]["br_err"] > 0 and md["version"] == evtgen.__version__
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_root_file_has_flat_branches(tmp_path):
    import uproot

    path = tmp_path / "ev.root"
    main(["generate", "b2kphiphi", "-n", "2000", "--mphi", "1", "--seed", "1", "-o", str(path)])
    with uproot.open(path) as f:
        names = set(f["events"].keys())
    assert {"B_px", "K_E", "phi1_pz", "phi2_E", "q2_true"} <= names


def test_interrupted_write_leaves_no_file(tmp_path):
    def chunks():
        yield {"a": np.arange(10.0)}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        io.write_events(tmp_path / "x.parquet", chunks(), {})
    assert os.listdir(tmp_path) == []


def test_cli_rate_json(capsys):
    assert main(["rate", "b2kphiphi", "--mphi", "1.0", "--coupling", "CS_sb=5e-8", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"channel", "mphi", "couplings", "width_GeV", "br", "br_err"} <= set(d)
    assert d["couplings"] == {"CS_sb": 5e-8} and d["mphi"] == 1.0


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["generate", "b2kphiphi", "-n", "10", "--mphi", "2.5"], "kinematic limit 2.39"),
        (["generate", "k2piphiphi", "-n", "10", "--mphi", "0.2"], "kinematic limit 0.17"),
        (["generate", "b2kx", "-n", "10", "--mx", "5.0"], "kinematic limit 4.78"),
        (["generate", "b2kphiphi", "-n", "0", "--mphi", "1"], "-n: '0'"),
        (["generate", "b2kphiphi", "-n", "-5", "--mphi", "1"], "-n: '-5'"),
        (["generate", "b2kfoo", "-n", "10"], "unknown channel 'b2kfoo'"),
        (["generate", "b2kphiphi", "-n", "10", "--mphi", "1", "--coupling", "CS_sd=1e-8"], "unknown coupling 'CS_sd'"),
        (["generate", "b2kphiphi", "-n", "10", "--mphi", "nan"], "mphi = nan"),
        (["generate", "b2kphiphi", "-n", "10", "--mphi", "1", "--coupling", "CS_sb=nan"], "CS_sb = 'nan'"),
        (["generate", "b2kphiphi", "-n", "10", "--mphi", "-1"], "negative"),
        (["generate", "b2kphiphi", "-n", "10", "--mx", "1"], "not --mx"),
    ],
)
def test_cli_bad_input(tmp_path, capsys, argv, needle):
    out = tmp_path / "out.root"
    assert main(argv + ["-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and needle in err, err
    assert os.listdir(tmp_path) == []


def test_cli_unwritable_output(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # running as root: permissions do not bind, /proc does
            target = Path("/proc/phiphi-test.root")
        else:
            target = ro / "x.root"
        assert main(["generate", "b2kphiphi", "-n", "10", "--mphi", "1", "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("phiphi: error:") and str(target.parent) in err and err.count("\n") == 1
    finally:
        ro.chmod(0o700)
    assert not (ro / "x.root").exists()


def test_cli_bad_extension(tmp_path, capsys):
    assert main(["generate", "b2kphiphi", "-n", "10", "--mphi", "1", "-o", str(tmp_path / "x.txt")]) == 2
    assert "must end in" in capsys.readouterr().err


def test_console_script_exit_code(tmp_path):
    """The installed entry point exits non-zero with one line on stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "evtgen.cli", "rate", "b2kphiphi", "--mphi", "3"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("phiphi: error: mphi = 3") and "2.39" in proc.stderr
