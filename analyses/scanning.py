"""Parameter scans: one recast per grid point (channel x mass x couplings), on Dask.

Every grid point is one validated :class:`evtgen.model.ModelPoint` and one task calling
``analyses.registry.recast(ANALYSIS, point, **options)`` — generate, emulate, bin, fit — on a
``dask.distributed`` cluster: a LocalCluster (one single-threaded worker process per core)
or any running scheduler (``scheduler="tcp://host:port"``). The whole grid, the options and
every output path are validated before any cluster starts.

Reproducibility: point ``i`` gets the seed ``evtgen.parallel.index_seed(seed, i)``, so a
point's result depends on the master seed and its index only, never on the number of
workers or on the order tasks finish in. Rows are stored sorted by index.

Grouped tasks: when the analysis module sets ``SCAN_GROUP = "couplings"`` (the ``combined``
analysis), the points that differ only in their couplings (one channel, mass and options) run as
one task, in index order, inside the module's ``scan_group()`` context, where the module may reuse
one likelihood along the coupling axis. The group's first grid point is always evaluated first
(also when it is already done, on resume), so a point's result does not depend on the number of
workers, on the task order or on what was computed before (:func:`run_group`).

Results file (``.csv`` or ``.parquet``): the whole table is rewritten to a temporary file
and renamed over the output (``os.replace``), at most every ``flush_seconds`` and at the
end (also on Ctrl-C). So the file on disk is always a complete, valid table — the same
code for CSV and Parquet (which cannot be appended to), no torn rows to repair — and a
crash loses at most the last few seconds of points, which a rerun recomputes identically.
The cost (one rewrite of the table per flush) is bounded by the flush interval. Rerunning
the same command resumes: points whose index is already in the file are skipped (points
that ended in an error are retried); a file written by a different grid is refused.

Rows are the common result schema (:meth:`analyses.result.Result.as_dict`) flattened into columns: ``interval_95 = [lo, hi]`` becomes
``interval_95_lo``, ``interval_95_hi``; a dict ``couplings = {...}`` becomes
``couplings_<name>``.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evtgen.errors import PhiphiError, check_finite, check_positive_int
from evtgen.parallel import index_seed

from .plotting import hep_style

RESULT_FORMATS = (".csv", ".parquet")
#: columns that identify a grid point; checked against an existing file on resume
KEY_COLUMNS = ("index", "seed", "analysis", "channel", "mphi", "mx", "ms")
#: prefix of the option columns of a point (part of its identity on resume)
OPTION_PREFIX = "option_"
#: columns plotted by default, first present wins
PLOT_COLUMNS = ("upper_limit_95", "interval_95_hi", "best_fit", "twice_nll_null")


# --- grid -------------------------------------------------------------------------------------
def parse_values(text: str | float | Sequence[float], name: str) -> list[float]:
    """Grid values from ``START:STOP:STEP`` (inclusive, linear), ``START:STOP:logN``
    (N log-spaced points), ``a,b,c``, a single number, or a sequence of numbers."""
    if isinstance(text, (int, float, np.floating, np.integer)):
        return [check_finite(name, text)]
    if not isinstance(text, str):
        vals = [check_finite(name, v) for v in text]
        if not vals:
            raise PhiphiError(f"{name}: empty list of values")
        return vals
    s = text.strip()
    if ":" not in s:
        return [check_finite(name, v) for v in s.split(",") if v.strip()] or parse_values([], name)
    parts = s.split(":")
    if len(parts) != 3:
        raise PhiphiError(f"{name} = {text!r} is not START:STOP:STEP or START:STOP:logN")
    start, stop = check_finite(name, parts[0]), check_finite(name, parts[1])
    step = parts[2].strip()
    if step.lower().startswith("log"):
        if not step[3:].isdigit() or int(step[3:]) < 1:
            raise PhiphiError(f"{name} = {text!r}: logN needs a positive integer N")
        n = int(step[3:])
        if start <= 0 or stop <= 0:
            raise PhiphiError(f"{name} = {text!r}: log spacing needs positive START and STOP")
        return [float(f"{v:.12g}") for v in np.geomspace(start, stop, n)]
    dx = check_finite(name, step)
    if dx <= 0 or stop < start:
        raise PhiphiError(f"{name} = {text!r}: need STEP > 0 and STOP >= START")
    count = int(math.floor((stop - start) / dx * (1 + 1e-12) + 1e-9)) + 1
    if count > 1_000_000:
        raise PhiphiError(f"{name} = {text!r} gives {count} values (more than 10^6)")
    return [float(f"{start + k * dx:.12g}") for k in range(count)]


def build_grid(
    analysis: str, grid: Mapping[str, Any], *, seed: int = 0, options: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The grid points, in index order: channel (outer) x mass x couplings (inner, in the
    order given), each validated against the analysis (channel, kinematic limits, couplings,
    options) before anything runs.

    ``grid``: exactly one of ``mphi``/``mx``/``ms`` (values, see :func:`parse_values`),
    optionally ``channel`` (a name or a list) and coupling names mapped to values.
    """
    from evtgen.model import check_seed, model_point

    from .registry import prepare

    if not isinstance(grid, Mapping):
        raise PhiphiError(f"grid = {grid!r} must be a mapping like {{'mphi': '0.1:1:0.1', 'CS_sb': [1e-8]}}")
    seed = check_seed(seed)
    if seed is None:
        seed = 0
    mass_names = [k for k in ("mphi", "mx", "ms") if grid.get(k) is not None]
    if len(mass_names) != 1:
        raise PhiphiError("give the masses of the scan with exactly one of --mphi, --mx or --ms")
    mass_name = mass_names[0]
    masses = parse_values(grid[mass_name], mass_name)
    channel = grid.get("channel")
    channels = [None] if channel is None else ([channel] if isinstance(channel, str) else list(channel))
    cnames = [k for k in grid if k not in ("mphi", "mx", "ms", "channel")]
    cvalues = [parse_values(grid[c], c) for c in cnames]
    opts = dict(options or {})
    points = []
    for i, (ch, m, combo) in enumerate(itertools.product(channels, masses, itertools.product(*cvalues))):
        p: dict[str, Any] = {"index": i, "seed": index_seed(seed, i), "analysis": analysis}
        point = model_point(**{mass_name: m}, couplings=dict(zip(cnames, combo)), channel=ch, seed=p["seed"])
        info, point, checked = prepare(analysis, point, opts)
        p["channel"] = point.channel
        p[mass_name] = m
        p.update(zip(cnames, combo))
        p.update({OPTION_PREFIX + k: v for k, v in checked.items()})
        points.append(p)
    return points


def _coupling_names(point: dict[str, Any]) -> list[str]:
    return [k for k in point if k not in KEY_COLUMNS and not k.startswith(OPTION_PREFIX)]


# --- one point --------------------------------------------------------------------------------
def flatten(result: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flat columns from a result dict: [lo, hi] -> _lo/_hi, lists -> _0, _1 ..., dicts -> _key."""
    out: dict[str, Any] = {}
    for k, v in result.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, f"{name}_"))
        elif isinstance(v, (list, tuple, np.ndarray)):
            v = list(v)
            if len(v) == 2 and not any(isinstance(x, (list, tuple, dict)) for x in v):
                out[f"{name}_lo"], out[f"{name}_hi"] = _scalar(v[0]), _scalar(v[1])
            elif all(not isinstance(x, (list, tuple, dict, np.ndarray)) for x in v) and len(v) <= 16:
                out.update({f"{name}_{j}": _scalar(x) for j, x in enumerate(v)})
            else:
                out[name] = json.dumps(v, default=float)
        else:
            out[name] = _scalar(v)
    return out


def _scalar(x: Any) -> Any:
    if isinstance(x, str) and x == "":
        return None  # CSV cannot tell "" from a missing value: both are None in a table
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)


def _options_of(point: dict[str, Any]) -> dict[str, Any]:
    return {k[len(OPTION_PREFIX) :]: v for k, v in point.items() if k.startswith(OPTION_PREFIX)}


def use_shared(analysis: str, shared: Any) -> None:
    """Install in this process what the analysis module's ``scan_shared()`` computed in the
    scan's client (see :func:`_compute`); nothing when ``shared`` is None."""
    if shared is None:
        return
    from .registry import get

    get(analysis).load().use_scan_shared(shared)


def warm_up(analysis: str) -> None:
    """Import the analysis module in this (worker) process and run its ``scan_warm_up()``
    if it has one (data files, compiled kernels from the numba cache): the first task a scan
    gives each worker, while the client prepares the rest. Changes no result."""
    from .registry import get

    hook = getattr(get(analysis).load(), "scan_warm_up", None)
    if hook is not None:
        hook()


def run_point(analysis: str, point: dict[str, Any], shared: Any = None) -> dict[str, Any]:
    """Recast one grid point (a row of :func:`build_grid`); returns its table row.

    The grid was validated before the scan, so an error here is a failure of the point
    itself (e.g. too few events); it gives a row with an ``error`` column. Runs on a Dask worker.
    ``shared``: what the module's ``scan_shared()`` computed in the client (installed first).
    """
    from evtgen.model import model_point

    from .registry import recast

    use_shared(analysis, shared)

    masses = {k: point[k] for k in ("mphi", "mx", "ms") if point.get(k) is not None}
    options = _options_of(point)
    row = dict(point)
    try:
        mp = model_point(
            **masses,
            couplings={k: point[k] for k in _coupling_names(point)},
            channel=point.get("channel"),
            seed=point["seed"],
        )
        result = recast(analysis, mp, **options).as_dict()
    except PhiphiError as exc:
        row["error"] = str(exc)
        return row
    for k, v in flatten(result).items():
        if k not in row:
            row[k] = v
        elif row[k] != v and not _close(row[k], v):
            row[f"result_{k}"] = v
    return row


def run_group(
    analysis: str, anchor: dict[str, Any], points: list[dict[str, Any]], shared: Any = None
) -> list[dict[str, Any]]:
    """Recast points that differ only in their couplings (rows of :func:`build_grid`, in
    index order) in one task, inside the analysis module's ``scan_group()`` context (where
    it may reuse one likelihood along the couplings, see :data:`analyses.combine.SCAN_GROUP`).

    ``anchor`` is the group's first point in the whole grid: it is evaluated first (its row
    is dropped when it is not in ``points``, e.g. on resume), so every point's result is the
    same however the grid is split into tasks and whatever was computed before."""
    from .registry import get

    module = get(analysis).load()
    use_shared(analysis, shared)
    with module.scan_group():
        if not points or anchor["index"] != points[0]["index"]:
            run_point(analysis, anchor)
        return [run_point(analysis, p) for p in points]


def group_key(point: dict[str, Any]) -> tuple:
    """What the points of one :func:`run_group` task share: everything but the index, the
    seed and the couplings."""
    keep = {k: v for k, v in point.items() if k in KEY_COLUMNS or k.startswith(OPTION_PREFIX)}
    return tuple(sorted((k, repr(v)) for k, v in keep.items() if k not in ("index", "seed")))


def _close(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-12)
    except (TypeError, ValueError):
        return False


# --- results file -----------------------------------------------------------------------------
def _results_format(path: str | os.PathLike) -> str:
    ext = Path(path).suffix.lower()
    if ext not in RESULT_FORMATS:
        raise PhiphiError(f"results file {str(path)!r} must end in .csv or .parquet")
    return ext


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    if "error" in cols:  # keep the error column last
        cols.pop("error")
        cols["error"] = None
    return list(cols)


def _parse_cell(s: str) -> Any:
    if s == "":
        return None
    for conv in (int, float):
        try:
            return conv(s)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(s, s)


def read_results(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a results file (empty list if it does not exist); empty cells are None."""
    p = Path(path)
    fmt = _results_format(p)
    if not p.exists():
        return []
    try:
        if fmt == ".csv":
            with open(p, newline="") as f:
                return [{k: _parse_cell(v) for k, v in r.items()} for r in csv.DictReader(f)]
        import pyarrow.parquet as pq

        return pq.read_table(p).to_pylist()
    except Exception as exc:
        raise PhiphiError(f"cannot read results file {str(p)!r}: {type(exc).__name__}: {exc}") from None


def write_results(path: str | os.PathLike, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` (sorted by index) to ``path`` atomically: temp file + rename."""
    p = Path(path).expanduser().resolve()
    fmt = _results_format(p)
    rows = sorted(rows, key=lambda r: r["index"])
    cols = _columns(rows)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.tmp-", dir=p.parent)
    try:
        if fmt == ".csv":
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow(
                    {k: ("" if r.get(k) is None else (repr(r[k]) if isinstance(r[k], float) else r[k])) for k in cols}
                )
            with os.fdopen(fd, "w", newline="") as f:
                f.write(buf.getvalue())
                f.flush()
                os.fsync(f.fileno())
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            os.close(fd)
            table = pa.Table.from_pylist([{k: r.get(k) for k in cols} for r in rows])
            pq.write_table(table, tmp)
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _same_point(row: dict[str, Any], point: dict[str, Any]) -> str | None:
    """Name of the first key column where ``row`` differs from ``point`` (None if same)."""
    for k, v in point.items():
        have = row.get(k)
        if have != v and not _close(have, v):
            return k
    return None


# --- the scan -----------------------------------------------------------------------------------
def run_scan(
    analysis: str,
    grid: Mapping[str, Any],
    *,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    output: str | os.PathLike | None = None,
    cluster: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    flush_seconds: float = 2.0,
    callback: Callable[[dict], None] | None = None,
    plot: str | os.PathLike | None = None,
    plot_column: str | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Scan ``analysis`` over the ``grid`` (see :func:`build_grid`) on Dask; returns the rows by index.

    ``cluster``: ``{"workers": N}``, ``{"scheduler": "tcp://host:port"}`` or ``{"client": c}``
    (default: a LocalCluster, one process per core). With ``output`` (.csv/.parquet) finished
    points are saved as they come and a rerun skips them. ``callback(row)`` is called in this
    process after each new point. Everything is validated before the cluster starts;
    ``on_start(n_todo, n_points)`` is called then, just before it starts (the CLI says so on
    stderr: a cluster takes seconds to start).
    """
    from .plotting import check_png
    from .registry import get

    cluster = dict(cluster or {})
    unknown = set(cluster) - {"workers", "scheduler", "client"}
    if unknown:
        raise PhiphiError(f"cluster option {sorted(unknown)[0]!r}; use workers, scheduler or client")
    if cluster.get("workers") is not None and cluster.get("scheduler") is not None:
        raise PhiphiError("give either --workers or --scheduler, not both")
    if cluster.get("workers") is not None:
        check_positive_int("workers", cluster["workers"])
    short = get(analysis).name
    points = build_grid(short, grid, seed=seed, options=options)
    if plot is not None:
        check_png(plot)
    if output is not None:
        out = Path(output).expanduser().resolve()
        _results_format(out)
        if not out.parent.is_dir():
            raise PhiphiError(f"output directory {str(out.parent)!r} does not exist")
        if not os.access(out.parent, os.W_OK):
            raise PhiphiError(f"output directory {str(out.parent)!r} is not writable")
    done: dict[int, dict[str, Any]] = {}
    if output is not None:
        for row in read_results(out):
            i = row.get("index")
            if not isinstance(i, int) or not 0 <= i < len(points):
                raise PhiphiError(
                    f"{str(out)!r} holds point index {i!r}, not in this {len(points)}-point grid; use another -o"
                )
            bad = _same_point(row, points[i])
            if bad is not None:
                raise PhiphiError(
                    f"{str(out)!r} was written by a different scan (point {i}: {bad} = {row.get(bad)!r} there, {points[i].get(bad)!r} now); use another -o"
                )
            if not row.get("error"):
                done[i] = row
    todo = [p for p in points if p["index"] not in done]
    rows = dict(done)
    anchors: dict[tuple, dict[str, Any]] | None = None
    if getattr(get(short).load(), "SCAN_GROUP", None) == "couplings":
        anchors = {}
        for p in points:
            anchors.setdefault(group_key(p), p)
    if todo:
        if on_start is not None:
            on_start(len(todo), len(points))
        rows.update(
            _compute(
                short,
                todo,
                anchors,
                rows,
                len(points),
                output=out if output is not None else None,
                cluster=cluster,
                progress=progress,
                flush_seconds=flush_seconds,
                callback=callback,
            )
        )
    cols = _columns(rows[i] for i in sorted(rows))
    result = [{k: rows[i].get(k) for k in cols} for i in sorted(rows)]  # one uniform table
    if output is not None and todo:
        write_results(out, result)
    if all(r.get("error") for r in result):
        raise PhiphiError(f"every point of the scan failed; first error: {result[0]['error']}")
    if plot is not None:
        plot_scan(
            result, plot, column=plot_column, group_by=[c for c in grid if c not in ("mphi", "mx", "ms", "channel")]
        )
    return result


def _compute(
    analysis: str,
    todo: list[dict],
    anchors: dict[tuple, dict] | None,
    rows: dict[int, dict],
    total: int,
    *,
    output: Path | None,
    cluster: dict,
    progress,
    flush_seconds: float,
    callback,
) -> dict[int, dict]:
    """Run the points of ``todo`` on Dask (one task per point, or per group of points that
    differ only in their couplings when ``anchors`` maps each group key to its first grid
    point); save ``rows`` + new rows every ``flush_seconds``.

    When the analysis module has ``scan_shared(options)`` (e.g. the Belle II likelihood: one
    workspace, null fit and preconditioning), its value is computed once here, in the client
    (cached per process), sent once to every worker (``Client.scatter(broadcast=True)``) and
    installed there by the module's ``use_scan_shared()`` before the points run: no worker
    builds it again, and every worker uses the very numbers an in-process scan uses."""
    from distributed import as_completed

    from evtgen.parallel import dask_client, progress_bar

    from .registry import get

    make_shared = getattr(get(analysis).load(), "scan_shared", None)
    shared = None

    new: dict[int, dict] = {}
    bar = progress_bar(total, total - len(todo), "scan points", "pt", progress)
    last_flush = time.monotonic()
    try:
        with dask_client(cluster.get("workers"), cluster.get("scheduler"), cluster.get("client")) as c:
            # the workers import the analysis while this process builds what it shares with them
            warm = [c.submit(warm_up, analysis, workers=[w], pure=False) for w in c.scheduler_info()["workers"]]
            if make_shared is not None:
                opts = [_options_of(p) for p in todo]
                shared = make_shared([dict(t) for t in {tuple(sorted(o.items())) for o in opts}])
            if shared is not None:
                shared = c.scatter([shared], broadcast=True, hash=False)[0]  # a list: a dict would be split
            if anchors is None:
                futures = [c.submit(run_point, analysis, p, shared, pure=False) for p in todo]
            else:
                groups: dict[tuple, list[dict]] = {}
                for p in todo:
                    groups.setdefault(group_key(p), []).append(p)
                futures = [c.submit(run_group, analysis, anchors[k], g, shared, pure=False) for k, g in groups.items()]
            try:
                for fut in as_completed(futures):
                    out = fut.result()
                    for row in out if isinstance(out, list) else [out]:
                        new[row["index"]] = row
                        if bar is not None:
                            bar.update(1)
                        if callback is not None:
                            callback(row)
                    if output is not None and time.monotonic() - last_flush >= flush_seconds:
                        write_results(output, list({**rows, **new}.values()))
                        last_flush = time.monotonic()
            finally:
                c.cancel([f for f in futures + warm if not f.done()])
    except BaseException:
        if output is not None and new:  # keep what is finished (also on Ctrl-C)
            write_results(output, list({**rows, **new}.values()))
        raise
    finally:
        if bar is not None:
            bar.close()
    return new


# --- plot ---------------------------------------------------------------------------------------
@hep_style
def plot_scan(
    rows: list[dict[str, Any]], path: str | os.PathLike, *, column: str | None = None, group_by: Sequence[str] = ()
) -> Path:
    """PNG of ``column`` (default: the first of PLOT_COLUMNS present) against the mass,
    one line per channel and per value of the ``group_by`` columns (e.g. the couplings)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if not r.get("error")]
    if not ok:
        raise PhiphiError("no successful point to plot")
    column = column or next((c for c in PLOT_COLUMNS if any(isinstance(r.get(c), (int, float)) for r in ok)), None)
    if column is None or not any(isinstance(r.get(column), (int, float)) for r in ok):
        raise PhiphiError(f"cannot plot column {column!r}: no numeric values in the results")
    mass = next(k for k in ("mphi", "mx", "ms") if ok[0].get(k) is not None)
    keys = ["channel", *group_by]
    lines: dict[tuple, list] = {}
    for r in ok:
        lines.setdefault(tuple(r.get(k) for k in keys), []).append((r[mass], r.get(column)))
    fig, ax = plt.subplots(figsize=(10, 7.5))
    for key, pts in lines.items():
        pts = sorted((x, y) for x, y in pts if isinstance(y, (int, float)) and math.isfinite(y))
        if pts:
            lab = ", ".join(
                f"{k}={v:g}" if isinstance(v, float) else str(v) for k, v in zip(keys, key) if v is not None
            )
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, label=lab or None)
    ys = [r[column] for r in ok if isinstance(r.get(column), (int, float)) and r[column] > 0]
    if ys and len(ys) == sum(isinstance(r.get(column), (int, float)) for r in ok) and max(ys) / min(ys) > 30:
        ax.set_yscale("log")
    ax.set_xlabel(f"{'m_phi' if mass == 'mphi' else 'm_X'} [GeV]")
    parameter = ok[0].get("parameter")
    ax.set_ylabel(f"{column} ({parameter})" if isinstance(parameter, str) and column in PLOT_COLUMNS[:3] else column)
    ax.set_title(f"{ok[0].get('analysis')} scan")
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=16)
    fig.tight_layout()
    from .plotting import save_figure

    return save_figure(fig, path)


# --- CLI ---------------------------------------------------------------------------------------
