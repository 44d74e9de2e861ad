"""Parameter scans on Dask: grid parsing, worker-independent results, resume after an
interruption, the results file, the CLI against a running scheduler, and one real analysis.

One LocalCluster (2 worker processes, 1 thread each) serves the whole module; the scanned
analysis is ``tests/scan_toy/analysis.py`` (generate -> bin -> Poisson limit, small), so
these tests do not depend on the cost of the published analyses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import analyses
from analyses import scanning
from evtgen.errors import PhiphiError

TESTS = str(Path(__file__).parent)
GRID = {"mphi": "0.5:1.25:0.25", "couplings": {"CS_sb": "1e-8,3e-8"}, "seed": 11, "n_events": 400}
N_POINTS = 8  # 4 masses x 2 couplings


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("distributed")
    from evtgen.parallel import dask_client

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([TESTS, saved or ""])  # workers import the toy analysis
    try:
        with dask_client(workers=2) as c:  # LocalCluster: 2 processes x 1 thread, 1 numba thread each
            yield c
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


@pytest.fixture(autouse=True)
def toy(monkeypatch):
    monkeypatch.syspath_prepend(TESTS)
    monkeypatch.setitem(analyses.ANALYSES, "toy", "scan_toy.analysis")


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
    pts = scanning.build_grid(
        "toy", mphi=GRID["mphi"], couplings=GRID["couplings"], seed=11, channel=["b2kphiphi", "b2kstarphiphi"]
    )
    assert len(pts) == 2 * N_POINTS and [p["index"] for p in pts] == list(range(16))
    assert (pts[0]["channel"], pts[0]["mphi"], pts[0]["CS_sb"]) == ("b2kphiphi", 0.5, 1e-8)
    assert (pts[1]["mphi"], pts[1]["CS_sb"]) == (0.5, 3e-8)  # couplings vary fastest
    assert pts[-1]["channel"] == "b2kstarphiphi"
    # the seed of a point is a function of (master seed, index) only: all distinct, reproducible
    assert len({p["seed"] for p in pts}) == len(pts)
    assert [p["seed"] for p in pts] == [scanning.point_seed(11, i) for i in range(16)]
    assert scanning.point_seed(12, 0) != pts[0]["seed"]
    with pytest.raises(PhiphiError, match="exactly one"):
        scanning.build_grid("toy", mphi="1", mx="1")


def test_flatten():
    flat = scanning.flatten(
        {
            "interval_95": [0.1, 0.9],
            "counts": [1, 2, 3],
            "couplings": {"CS_sb": 1e-8},
            "upper_limit_95": None,
            "ok": True,
        }
    )
    assert flat == {
        "interval_95_lo": 0.1,
        "interval_95_hi": 0.9,
        "counts_0": 1,
        "counts_1": 2,
        "counts_2": 3,
        "couplings_CS_sb": 1e-8,
        "upper_limit_95": None,
        "ok": True,
    }


# --- scans on the cluster -------------------------------------------------------------------------
def test_scan_independent_of_workers_and_resumable(client, tmp_path):
    two = tmp_path / "two.csv"
    rows = analyses.scan(
        "toy",
        GRID["mphi"],
        couplings=GRID["couplings"],
        seed=GRID["seed"],
        n_events=GRID["n_events"],
        output=two,
        client=client,
    )
    assert [r["index"] for r in rows] == list(range(N_POINTS))
    assert scanning.read_results(two) == rows  # the CSV round-trips exactly (repr floats)
    # each point equals a direct, in-process recast with that point's seed
    from scan_toy import analysis as scan_toy_analysis

    direct = scan_toy_analysis.recast(
        mphi=0.75, couplings={"CS_sb": 3e-8}, seed=scanning.point_seed(11, 3), n_events=400
    )
    assert rows[3]["upper_limit_95"] == direct["upper_limit_95"] and rows[3]["efficiency"] == direct["efficiency"]

    # one worker: a fresh LocalCluster built by the scan itself
    one = tmp_path / "one.csv"
    analyses.scan(
        "toy",
        GRID["mphi"],
        couplings=GRID["couplings"],
        seed=GRID["seed"],
        n_events=GRID["n_events"],
        output=one,
        workers=1,
        progress=False,
    )
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
            "toy",
            GRID["mphi"],
            couplings=GRID["couplings"],
            seed=GRID["seed"],
            n_events=GRID["n_events"],
            output=resumed,
            client=client,
            callback=stop_after_three,
        )
    partial = scanning.read_results(resumed)
    assert sorted(r["index"] for r in partial) == sorted(seen)  # finished points were saved on the interrupt
    assert all(r == rows[r["index"]] for r in partial)
    recomputed = []
    analyses.scan(
        "toy",
        GRID["mphi"],
        couplings=GRID["couplings"],
        seed=GRID["seed"],
        n_events=GRID["n_events"],
        output=resumed,
        client=client,
        callback=lambda r: recomputed.append(r["index"]),
    )
    assert sorted(recomputed) == sorted(set(range(N_POINTS)) - set(seen))  # only the missing points ran
    assert resumed.read_bytes() == two.read_bytes()


def test_scan_parquet_errors_and_plot(client, tmp_path):
    out = tmp_path / "scan.parquet"
    # 2.5 GeV is above (m_B - m_K)/2 = 2.39 GeV: that point gets an error row, the rest runs
    rows = analyses.scan("toy", [1.0, 2.5], seed=3, n_events=300, output=out, client=client, plot=tmp_path / "scan.png")
    assert rows[0].get("error") is None and rows[0]["upper_limit_95"] > 0
    assert "kinematic limit" in rows[1]["error"]
    assert scanning.read_results(out) == rows
    assert (tmp_path / "scan.png").stat().st_size > 1000
    # a rerun retries only the failed point
    again = []
    analyses.scan(
        "toy", [1.0, 2.5], seed=3, n_events=300, output=out, client=client, callback=lambda r: again.append(r["index"])
    )
    assert again == [1]
    with pytest.raises(PhiphiError, match="every point"):
        analyses.scan("toy", [2.5], seed=3, client=client)


def test_resume_refuses_a_different_scan(tmp_path):
    out = tmp_path / "s.csv"
    pts = scanning.build_grid("toy", mphi="0.5,1.0", seed=1)
    scanning.write_results(out, [dict(p, upper_limit_95=1.0) for p in pts])
    with pytest.raises(PhiphiError, match="different scan .*seed"):
        analyses.scan("toy", "0.5,1.0", seed=2, output=out)
    with pytest.raises(PhiphiError, match="different scan .*mphi"):
        analyses.scan("toy", "0.5,1.5", seed=1, output=out)
    with pytest.raises(PhiphiError, match="not in this 1-point grid"):
        analyses.scan("toy", "0.5", seed=1, output=out)
    with pytest.raises(PhiphiError, match="must end in"):
        analyses.scan("toy", "0.5", output=tmp_path / "s.txt")
    with pytest.raises(PhiphiError, match="unknown analysis"):
        analyses.scan("nonsense", "0.5")


def test_cli_scan_on_running_scheduler(client, tmp_path, capsys):
    from evtgen.cli import main

    out = tmp_path / "cli.csv"
    argv = [
        "scan",
        "toy",
        "--mphi",
        "0.5:1.0:0.5",
        "--coupling",
        "CS_sb=1e-8",
        "-n",
        "300",
        "--seed",
        "4",
        "--scheduler",
        client.scheduler.address,
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    rows = scanning.read_results(out)
    assert [r["mphi"] for r in rows] == [0.5, 1.0] and [r["seed"] for r in rows] == [
        scanning.point_seed(4, i) for i in range(2)
    ]
    assert main(argv) == 0  # resume: nothing left to do
    assert "2 points (2 already" in capsys.readouterr().err
    assert main(["scan", "toy", "--mphi", "1:0:1", "-o", str(out)]) == 2
    assert "phiphi: error: mphi" in capsys.readouterr().err


def test_scan_real_analysis(client, tmp_path):
    """A scan of a published analysis equals its direct recasts with the point seeds."""
    try:
        module = analyses.get("na62")
    except PhiphiError as exc:
        pytest.skip(f"the NA62 analysis is not available yet: {exc}")
    rows = analyses.scan("na62", [0.05, 0.1], couplings={"CS_sd": 1e-11}, seed=5, n_events=2000, client=client)
    for i, m in enumerate((0.05, 0.1)):
        direct = scanning.flatten(
            module.recast(
                channel=None,
                mphi=m,
                mx=None,
                couplings={"CS_sd": 1e-11},
                cutoff=None,
                seed=scanning.point_seed(5, i),
                n_events=2000,
                plot=None,
            )
        )
        assert rows[i].get("error") is None, rows[i].get("error")
        for k, v in direct.items():
            got = (
                rows[i][f"result_{k}"] if f"result_{k}" in rows[i] else rows[i][k]
            )  # result_<k>: the analysis's own value of a grid column
            assert got == v or (k == "mphi" and got == pytest.approx(v, rel=1e-12)), k
