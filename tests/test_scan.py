"""Parameter scans on Dask and the extension points, through the normal CLI and API:
grid parsing, validation before any work, worker-independent results, resume after an
interruption, the results file, and a user's analysis + detector card living in tests/
(``tests/toy_analysis/``), found through PHIPHI_ANALYSIS_PATH with no package file touched.

One LocalCluster (2 worker processes, 1 thread each) serves the whole module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import analyses
from analyses import scanning
from evtgen.errors import PhiphiError
from evtgen.parallel import index_seed

TOY = str(Path(__file__).parent / "toy_analysis")
GRID = {"mphi": "0.5:1.25:0.25", "CS_sb": "1e-8,3e-8"}
OPTIONS = {"n_events": 400}
N_POINTS = 8  # 4 masses x 2 couplings


@pytest.fixture(scope="module", autouse=True)
def toy_path():
    saved = os.environ.get("PHIPHI_ANALYSIS_PATH")
    os.environ["PHIPHI_ANALYSIS_PATH"] = TOY  # inherited by the Dask workers spawned below
    yield
    if saved is None:
        del os.environ["PHIPHI_ANALYSIS_PATH"]
    else:
        os.environ["PHIPHI_ANALYSIS_PATH"] = saved


@pytest.fixture(scope="module")
def client(toy_path):
    from evtgen.parallel import dask_client

    with dask_client(workers=2) as c:  # LocalCluster: 2 processes x 1 thread, 1 numba thread each
        yield c


# --- grid --------------------------------------------------------------------------------------
def test_parse_values():
    assert scanning.parse_values("0.1:0.5:0.1", "mphi") == [
        0.1,
        0.2,
        0.3,
        0.4,
        0.5,
    ]  # inclusive, no 0.30000000000000004
    assert scanning.parse_values("1e-9:1e-7:log3", "CS_sb") == [1e-9, 1e-8, 1e-7]
    assert scanning.parse_values("0.2, 0.7", "mphi") == [0.2, 0.7]
    assert scanning.parse_values([1, 2.5], "mx") == [1.0, 2.5]
    for bad in ("1:0:0.1", "0:1:-0.1", "0:1", "0:1:logx", "0:1:log3", "a,b", "nan"):
        with pytest.raises(PhiphiError):
            scanning.parse_values(bad, "mphi")


def test_grid_and_seeds():
    grid = {"mphi": GRID["mphi"], "channel": ["b2kphiphi", "b2kstarphiphi"], "CS_sb": GRID["CS_sb"]}
    with pytest.raises(PhiphiError, match="unknown coupling 'CS_sb' for channel b2kstarphiphi"):
        scanning.build_grid("toy", grid, seed=11)  # validated before any work
    pts = scanning.build_grid("toy", {"mphi": GRID["mphi"], "CS_sb": GRID["CS_sb"]}, seed=11)
    assert len(pts) == N_POINTS and [p["index"] for p in pts] == list(range(N_POINTS))
    assert (pts[0]["channel"], pts[0]["mphi"], pts[0]["CS_sb"]) == ("b2kphiphi", 0.5, 1e-8)
    assert (pts[1]["mphi"], pts[1]["CS_sb"]) == (0.5, 3e-8)  # couplings vary fastest
    # the seed of a point is a function of (master seed, index) only: all distinct, reproducible
    assert len({p["seed"] for p in pts}) == len(pts)
    assert [p["seed"] for p in pts] == [index_seed(11, i) for i in range(N_POINTS)]
    assert index_seed(12, 0) != pts[0]["seed"]
    with pytest.raises(PhiphiError, match="exactly one"):
        scanning.build_grid("toy", {"mphi": "1", "mx": "1"})
    with pytest.raises(PhiphiError, match="above the kinematic limit"):
        scanning.build_grid("toy", {"mphi": "1:3:1"})
    with pytest.raises(PhiphiError, match="does not apply to analysis toy"):
        scanning.build_grid("toy", {"mphi": "1"}, options={"cutoff": 3.0})


def test_flatten():
    flat = scanning.flatten(
        {"interval_95": [0.1, 0.9], "counts": [1, 2, 3], "couplings": {"CS_sb": 1e-8}, "upper_limit_95": None}
    )
    assert flat == {
        "interval_95_lo": 0.1,
        "interval_95_hi": 0.9,
        "counts_0": 1,
        "counts_1": 2,
        "counts_2": 3,
        "couplings_CS_sb": 1e-8,
        "upper_limit_95": None,
    }


def test_user_analysis_recast_through_the_cli(capsys):
    from evtgen.cli import main

    rc = main(["recast", "toy", "--mphi", "1.0", "--coupling", "CS_sb=2e-8", "--n-events", "300", "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["analysis"] == "toy" and d["parameter"] == "CS_sb" and d["upper_limit_95"] > 0
    assert d["no_half"]["upper_limit_95"] == pytest.approx(d["upper_limit_95"] / 2, rel=1e-15)
    assert main(["recast", "toy", "--mphi", "1.0", "--cutoff", "3"]) == 2  # an option toy does not declare


def test_user_detector_card_through_the_cli(tmp_path):
    """tests/toy_analysis/toy_atlas_card.yaml (emulation: atlas, 40 GeV soft term) runs through
    `phiphi simulate --card`; the wider soft term widens the E_T^miss - truth difference."""
    import awkward as ak
    import numpy as np

    from evtgen.cli import main
    from evtgen.io import read_events, read_metadata

    ev = tmp_path / "mj.parquet"
    assert (
        main(
            [
                "generate",
                "pp2jphiphi",
                "-n",
                "2000",
                "--mphi",
                "10",
                "--coupling",
                "CG=1e-6",
                "--seed",
                "3",
                "-o",
                str(ev),
            ]
        )
        == 0
    )
    std, toy = tmp_path / "std.parquet", tmp_path / "toy.parquet"
    assert main(["simulate", str(ev), "--detector", "atlas", "-o", str(std)]) == 0
    assert main(["simulate", str(ev), "--card", str(Path(TOY) / "toy_atlas_card.yaml"), "-o", str(toy)]) == 0
    spread = [np.std(ak.to_numpy(r.met - r.met_true)) for r in (read_events(std), read_events(toy))]
    assert spread[1] > 1.5 * spread[0]
    assert read_metadata(toy)["detector_card"].endswith("toy_atlas_card.yaml")
    assert (
        main(
            [
                "simulate",
                str(ev),
                "--detector",
                "na62",
                "--card",
                str(Path(TOY) / "toy_atlas_card.yaml"),
                "-o",
                str(tmp_path / "x.parquet"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "x.parquet").exists()


# --- scans on the cluster -------------------------------------------------------------------------
def test_scan_independent_of_workers_and_resumable(client, tmp_path):
    two = tmp_path / "two.csv"
    rows = analyses.scan("toy", GRID, seed=11, options=OPTIONS, output=two, cluster={"client": client})
    assert [r["index"] for r in rows] == list(range(N_POINTS))
    assert scanning.read_results(two) == rows  # the CSV round-trips exactly (repr floats)
    # each point equals a direct, in-process recast with that point's seed
    direct = analyses.recast("toy", mphi=0.75, couplings={"CS_sb": 3e-8}, seed=index_seed(11, 3), n_events=400)
    assert rows[3]["upper_limit_95"] == direct.upper_limit_95
    assert rows[3]["extras_efficiency"] == direct.extras["efficiency"]

    # one worker: a fresh LocalCluster built by the scan itself
    one = tmp_path / "one.csv"
    analyses.scan("toy", GRID, seed=11, options=OPTIONS, output=one, cluster={"workers": 1}, progress=False)
    assert one.read_bytes() == two.read_bytes()

    # interrupted after 3 points (Ctrl-C in the client), then resumed
    resumed = tmp_path / "resumed.csv"
    seen = []

    def stop_after_three(row):
        seen.append(row["index"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyses.scan(
            "toy", GRID, seed=11, options=OPTIONS, output=resumed, cluster={"client": client}, callback=stop_after_three
        )
    partial = scanning.read_results(resumed)
    assert sorted(r["index"] for r in partial) == sorted(seen)  # finished points were saved on the interrupt
    assert all(r == rows[r["index"]] for r in partial)
    recomputed, started = [], []
    analyses.scan(
        "toy",
        GRID,
        seed=11,
        options=OPTIONS,
        output=resumed,
        cluster={"client": client},
        callback=lambda r: recomputed.append(r["index"]),
        on_start=lambda n, total: started.append((n, total)),
    )
    assert sorted(recomputed) == sorted(set(range(N_POINTS)) - set(seen))  # only the missing points ran
    assert started == [(N_POINTS - len(seen), N_POINTS)]  # told once, before the points ran
    assert resumed.read_bytes() == two.read_bytes()


def test_scan_cli_with_plot(client, tmp_path, capsys):
    from evtgen.cli import main

    out, png = tmp_path / "scan.csv", tmp_path / "scan.png"
    argv = ["scan", "toy", "--mphi", "0.5,1.0", "--coupling", "CS_sb=1e-8", "--n-events", "300", "-o", str(out)]
    assert main([*argv, "--workers", "1", "--plot", str(png)]) == 0
    assert out.is_file() and png.is_file() and png.stat().st_size > 5000
    # one line before the cluster starts (issue 14: no command silent for more than 5 s)
    assert "phiphi: scanning toy: 2 of 2 points on 1 local Dask worker(s)..." in capsys.readouterr().err
    bad = tmp_path / "missing_dir" / "scan.png"
    assert main([*argv[:-2], "-o", str(tmp_path / "b.csv"), "--plot", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("phiphi: error:"), err  # bad input: one line, no start line
    assert not (tmp_path / "b.csv").exists()  # failed validation: nothing written, no cluster started
