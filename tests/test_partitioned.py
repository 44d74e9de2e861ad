"""Partitioned chunked productions: exact row counts, the same events as an in-memory run,
crash safety (a part is complete or absent), resume, and Dask workers (2 processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import awkward as ak
import numpy as np
import pytest

import evtgen
from evtgen import partitioned
from evtgen.errors import PhiphiError
from evtgen.events import to_columns

ARGS = {"mphi": 0.8, "couplings": {"CS_sb": 2e-8}, "seed": 42}
N, CHUNK = 25_000, 10_000  # 3 parts: 10000 + 10000 + 5000 (a short last part)


def columns(directory) -> dict[str, np.ndarray]:
    return to_columns(partitioned.read_dataset(directory))


@pytest.fixture(scope="module")
def reference():
    """The same events generated in memory in one go."""
    return to_columns(evtgen.generate("b2kphiphi", N, **ARGS))


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    d = tmp_path_factory.mktemp("serial") / "ds"
    man = evtgen.generate_to("b2kphiphi", N, d, chunk_size=CHUNK, progress=False, **ARGS)
    return d, man


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("distributed")
    with partitioned.dask_client(workers=2) as c:  # LocalCluster: 2 processes x 1 thread
        yield c


def test_rows_and_events_match_in_memory_run(serial, reference):
    d, man = serial
    assert [p["n_events"] for p in man["parts"]] == [10_000, 10_000, 5_000]
    assert man["complete"] and man["parts_written"] == 3
    assert sorted(os.listdir(d)) == ["manifest.json", "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    on_disk = json.loads((d / "manifest.json").read_text())
    assert on_disk["complete"] and on_disk["seed"] == 42 and on_disk["metadata"]["rate"]["br"] > 0
    cols = columns(d)
    assert cols.keys() == reference.keys()
    for k in reference:  # bit-identical: per-event RNG streams do not see the chunking
        np.testing.assert_array_equal(cols[k], reference[k], err_msg=k)
    # the directory opens as one dataset with plain awkward too
    assert len(ak.from_parquet(str(d))) == N
    assert evtgen.io.read_metadata(d / "part-00001.parquet")["first_event"] == 10_000


def test_dask_workers_write_the_same_parts(client, serial, tmp_path):
    d = tmp_path / "dask"
    man = evtgen.generate_to("b2kphiphi", N, d, chunk_size=CHUNK, client=client, progress=False, **ARGS)
    assert man["parts_written"] == 3 and man["peak_rss_bytes"] > 0
    a, b = columns(d), columns(serial[0])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    # the workers ran numba kernels without vector's numba extension (vector + sympy, ~120 MB each)
    # (a lambda: pickled by value, the workers need not import this test module)
    loaded = client.run(lambda: [m for m in ("vector", "sympy") if m in __import__("sys").modules])
    assert all(v == [] for v in loaded.values()), loaded


def test_resume_after_crash_regenerates_only_missing_parts(serial, tmp_path, monkeypatch):
    d = tmp_path / "crash"
    ref = columns(serial[0])
    # crash while writing part 1: the writer dies half-way through the file
    from evtgen import io as evio

    real = evio._write_parquet

    def dying_writer(tmp, chunks, meta):
        if meta["part"] == 1:
            tmp.write_bytes(b"PAR1 half a file")
            raise MemoryError("simulated crash")
        return real(tmp, chunks, meta)

    monkeypatch.setattr(evio, "_write_parquet", dying_writer)
    with pytest.raises(MemoryError):
        evtgen.generate_to("b2kphiphi", N, d, chunk_size=CHUNK, progress=False, **ARGS)
    monkeypatch.setattr(evio, "_write_parquet", real)
    stage = partitioned.staging_dir(d)
    assert not d.exists()  # DIR appears only when complete: no reader can take the partial parts for data
    assert sorted(os.listdir(stage)) == ["manifest.json", "part-00000.parquet"]  # part 1 absent, no temp left
    assert not json.loads((stage / "manifest.json").read_text())["complete"]
    with pytest.raises(PhiphiError, match="incomplete"):
        partitioned.read_dataset(d)
    # a killed process leaves its temp file behind; a rerun removes it
    (stage / ".part-00002.parquet.tmp-abc123").write_bytes(b"junk")
    man = evtgen.generate_to(
        "b2kphiphi", N, d, chunk_size=CHUNK, progress=False, **{**ARGS, "seed": None}
    )  # seed from the manifest
    assert man["parts_written"] == 2 and man["seed"] == 42
    assert sorted(os.listdir(d)) == ["manifest.json", "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert not stage.exists()
    cols = columns(d)
    for k in ref:  # no duplicate, no missing event
        np.testing.assert_array_equal(cols[k], ref[k], err_msg=k)
    # a deleted part is regenerated, nothing else
    (d / "part-00000.parquet").unlink()
    assert evtgen.generate_to("b2kphiphi", N, d, chunk_size=CHUNK, progress=False, **ARGS)["parts_written"] == 1
    np.testing.assert_array_equal(columns(d)["K_px"], ref["K_px"])
    # a complete dataset is not rewritten
    assert evtgen.generate_to("b2kphiphi", N, d, chunk_size=CHUNK, progress=False, **ARGS)["parts_written"] == 0


def test_killed_cli_run_resumes(tmp_path):
    """SIGKILL a real `phiphi generate -o DIR/` mid-run: every part on disk is complete, and a
    rerun finishes the rest (checked against one in-memory run)."""
    d = tmp_path / "killed"
    argv = [
        sys.executable,
        "-m",
        "evtgen.cli",
        "generate",
        "k2piphiphi",
        "-n",
        "400000",
        "--mphi",
        "0.1",
        "--seed",
        "9",
        "--chunk-size",
        "5000",
        "-o",
        f"{d}/",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stage = partitioned.staging_dir(d)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (stage / "part-00002.parquet").exists() and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not d.exists()
    done = sorted(p.name for p in stage.glob("part-*.parquet"))
    if len(done) == 80:
        pytest.skip("the run finished before it could be killed")
    import pyarrow.parquet as pq

    for name in done:  # each part present is complete (its reader sees all its rows)
        assert pq.ParquetFile(stage / name).metadata.num_rows == 5000
    assert subprocess.run(argv, capture_output=True).returncode == 0
    assert sorted(p.name for p in d.glob("*")) == ["manifest.json"] + [f"part-{k:05d}.parquet" for k in range(80)]
    cols = columns(d)
    ref = to_columns(evtgen.generate("k2piphiphi", 400_000, mphi=0.1, seed=9))
    for k in ref:
        np.testing.assert_array_equal(cols[k], ref[k], err_msg=k)


def test_root_parts_open_with_uproot_dask(tmp_path):
    dask = pytest.importorskip("dask")
    uproot = pytest.importorskip("uproot")
    d = tmp_path / "root"
    evtgen.generate_to("k2pix", 12_000, d, chunk_size=5_000, mx=0.2, seed=3, format="root", progress=False)
    # the file list in event order (a glob "part-*.root" is expanded in directory order)
    lazy = uproot.dask({str(f): "events" for f in partitioned.part_files(d)})
    # dask-awkward 2025.3's column optimisation fails with dask 2026 ("Missing dependency"): off
    with dask.config.set({"awkward.optimization.enabled": False}):
        arr = lazy.compute()
    ref = to_columns(evtgen.generate("k2pix", 12_000, mx=0.2, seed=3))
    assert len(arr) == 12_000
    np.testing.assert_array_equal(ak.to_numpy(arr["vtx_z"]), ref["vtx_z"])
    np.testing.assert_array_equal(columns(d)["pi_px"], ref["pi_px"])


def test_dask_awkward_from_parquet(serial, reference):
    dask = pytest.importorskip("dask")
    dak = pytest.importorskip("dask_awkward")
    lazy = dak.from_parquet(str(serial[0]))
    assert lazy.npartitions == 3
    with dask.config.set({"awkward.optimization.enabled": False}):
        np.testing.assert_array_equal(ak.to_numpy(lazy["q2_true"].compute()), reference["q2_true"])


def test_bad_input(serial, tmp_path):
    d = serial[0]
    with pytest.raises(PhiphiError, match=r"different production \(seed = 42 there, 43 now\)"):
        evtgen.generate_to("b2kphiphi", N, d, chunk_size=CHUNK, progress=False, **{**ARGS, "seed": 43})
    with pytest.raises(PhiphiError, match="chunk_size"):
        evtgen.generate_to("b2kphiphi", N, d, chunk_size=5_000, progress=False, **ARGS)
    with pytest.raises(PhiphiError, match="chunk_size"):
        evtgen.generate_to("b2kphiphi", N, tmp_path / "x", chunk_size=0, **ARGS)
    with pytest.raises(PhiphiError, match="format"):
        evtgen.generate_to("b2kphiphi", N, tmp_path / "x", format="csv", **ARGS)
    with pytest.raises(PhiphiError, match="not both"):
        evtgen.generate_to("b2kphiphi", N, tmp_path / "x", workers=2, scheduler="tcp://127.0.0.1:1", **ARGS)
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "part-00000.parquet").write_bytes(b"foreign")
    with pytest.raises(PhiphiError, match="no manifest.json"):
        evtgen.generate_to("b2kphiphi", N, tmp_path / "y", **ARGS)
    with pytest.raises(PhiphiError, match="does not exist"):
        evtgen.generate_to("b2kphiphi", N, tmp_path / "no" / "such", **ARGS)


def test_part_names_sort_in_event_order():
    names = [partitioned.part_name(k, "parquet", 123_456) for k in (9, 10, 99_999, 100_000)]
    assert names == sorted(names) and names[0] == "part-000009.parquet"
    assert partitioned.part_name(7, "root", 12) == "part-00007.root"


def test_cli_directory_output(client, tmp_path, capsys):
    from evtgen.cli import main

    d = tmp_path / "sched"
    assert (
        main(
            [
                "generate",
                "k2pix",
                "-n",
                "6000",
                "--mx",
                "0.1",
                "--seed",
                "2",
                "--chunk-size",
                "2500",
                "--format",
                "root",
                "--scheduler",
                client.scheduler.address,
                "-o",
                f"{d}/",
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(
        columns(d)["pi_pz"], to_columns(evtgen.generate("k2pix", 6000, mx=0.1, seed=2))["pi_pz"]
    )

    d = tmp_path / "cli"
    assert (
        main(["generate", "b2kx", "-n", "7000", "--mx", "1.5", "--seed", "1", "--chunk-size", "3000", "-o", f"{d}/"])
        == 0
    )
    assert "3 parts, 3 new" in capsys.readouterr().err
    assert partitioned.read_manifest(d)["mass"] == 1.5
    assert len(partitioned.read_dataset(d)) == 7000
    assert (
        main(["generate", "b2kx", "-n", "7000", "--mx", "1.5", "--chunk-size", "3000", "-o", str(d)]) == 0
    )  # existing dir, resume
    assert "0 new" in capsys.readouterr().err
    assert (
        main(["generate", "b2kx", "-n", "10", "--mx", "1.5", "--workers", "2", "-o", str(tmp_path / "f.parquet")]) == 2
    )
    assert "need a partitioned output directory" in capsys.readouterr().err
