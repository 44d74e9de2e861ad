"""Export the likelihoods the package builds as pyhf workspaces + JSON Patch (pyhf patchsets).

A model point's new-physics (NP) sample is written the way HEPData likelihoods are published:
a background-only workspace (``FILE.json``; for Belle II the released workspace with one
measurement appended, ``NP_phiphi``: POI ``mu_np``, the SM ``mu`` fixed at 1 — the released
measurement stays first and unchanged) and a pyhf patchset (``FILE.patchset.json``, schema
``1.0.0/patchset.json``, written when the likelihood has an INSPIRE record, which the schema
requires; the bare JSON Patch is always written to ``FILE.patch.json``) whose one patch adds the NP sample at the model point (normfactor
``mu_np``; mu_np = 1 is the point, so the best-fit coupling is C_point sqrt(mu_np_hat) for a
coupling, BR_point mu_np_hat for a branching ratio).
Take it further with

.. code-block:: python

    ws = pyhf.Workspace(json.load(open("FILE.json")))
    patch = json.load(open("FILE.patch.json"))         # or pyhf.PatchSet(...).patches[0]
    model = ws.model(measurement_name="NP_phiphi", patches=[patch])
    pyhf.infer.mle.fit(ws.data(model), model)

or ``pyhf patchset apply FILE.json FILE.patchset.json --name NAME``, cabinetry or spey (both
read pyhf workspaces). Two sources are supported:

- an analysis whose module publishes a released HistFactory workspace
  (``load_workspace()``, ``add_np_sample(spec, yields)``) and whose Result gives the NP yields at
  the point (``extras["yields_at_point"]``: Belle II); the NP sample's form-factor normsys is set
  to the Result's ``formfactor_rel_error`` so the patched workspace is the package's likelihood;
- any analysis whose likelihood is :class:`analyses.stats.PoissonCounts` (the Result carries it
  as ``likelihood``, or the module has ``likelihood(point, *, data, **options)``): one channel
  ``counts``, sample ``background`` with a Gaussian-constrained ``staterror`` (uncorrelated
  absolute errors: b gamma, gamma ~ N(1, db/b) = b + db theta) or a ``histosys`` b +- db
  (correlated; pyhf's histosys is linear, code 0), and the NP sample with a ``histosys``
  s(1 +- signal_rel) (linear, as PoissonCounts; pyhf's normsys would be exponential).

The JSON Patch operations are written with the ``jsonpatch`` package (a pyhf dependency) and
checked to reproduce the patched workspace before anything is written.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from evtgen.errors import PhiphiError
from evtgen.model import ModelPoint

from . import registry, stats
from .result import Result

NP_SAMPLE = "new_physics"
NP_POI = "mu_np"
MU_NP_MAX = 1.0e4
PATCHSET_SUFFIX = ".patchset.json"
PATCH_SUFFIX = ".patch.json"
#: the measurement (POI mu_np) added to the background-only workspace
NP_MEASUREMENT = "NP_phiphi"
#: INSPIRE records of the likelihoods (the pyhf patchset schema requires one): analysis -> (id, source).
#: An analysis's data-file header may give its own as ``inspire: insNNNNNNN``.
INSPIRE = {
    "belle2": (
        "ins2947386",
        "HEPData record 10.17182/hepdata.166082 (Belle II likelihood release, arXiv:2507.12393), "
        "listed on hepdata.net as 'Inspire Record 2947386'",
    ),
}


def patch_name(point: ModelPoint, analysis: str) -> str:
    """A patch name allowed by the pyhf schema (``[a-zA-Z0-9_]+``) naming the point."""
    parts = [analysis] + [f"{k}_{v:.6g}" for k, v in point.masses.items()]
    parts += [f"{k}_{v:.6g}" for k, v in sorted(point.couplings.items()) if v]
    return re.sub(r"[^a-zA-Z0-9_]", "_", "__".join(parts).replace("+", "").replace("-", "m"))


def _digest(spec: Mapping[str, Any]) -> str:
    import pyhf

    return pyhf.utils.digest(spec, algorithm="sha256")


def patch_operations(background: Mapping[str, Any], patched: Mapping[str, Any]) -> list[dict[str, Any]]:
    """JSON Patch operations turning ``background`` into ``patched``: new samples appended to
    their channels (``add /channels/i/samples/-``), new channels; any other difference inside
    the channels through ``jsonpatch.make_patch``. Only ``/channels`` is touched, so the patch
    applies both to the workspace (``PatchSet.apply``) and to the model spec
    (``Workspace.model(patches=...)``). Checked to reproduce ``patched`` exactly."""
    import jsonpatch

    work = copy.deepcopy(dict(background))
    ops: list[dict[str, Any]] = []
    names = [c["name"] for c in work["channels"]]
    for ch in patched["channels"]:
        if ch["name"] not in names:
            ops.append({"op": "add", "path": "/channels/-", "value": copy.deepcopy(ch)})
            continue
        i = names.index(ch["name"])
        have = [s["name"] for s in work["channels"][i]["samples"]]
        for s in ch["samples"]:
            if s["name"] not in have:
                ops.append({"op": "add", "path": f"/channels/{i}/samples/-", "value": copy.deepcopy(s)})
    others = {k: v for k, v in patched.items() if k != "channels"}
    if others != {k: v for k, v in work.items() if k != "channels"}:
        raise PhiphiError(
            "internal error: the NP patch may only change the channels (measurements are in the workspace)"
        )
    work = jsonpatch.apply_patch(work, ops)
    ops.extend(op for op in jsonpatch.make_patch(work, dict(patched)).patch)
    if jsonpatch.apply_patch(copy.deepcopy(dict(background)), ops) != patched:
        raise PhiphiError("internal error: the JSON Patch does not reproduce the patched workspace")
    return ops


def patchset(
    background: Mapping[str, Any],
    patched: Mapping[str, Any],
    *,
    name: str,
    labels: list[str],
    values: list[float],
    description: str,
    inspire: str,
) -> dict[str, Any]:
    """A pyhf patchset (schema 1.0.0) with one patch turning ``background`` into ``patched``
    (``inspire``: the INSPIRE record ``insNNNNNNN`` of the likelihood, required by the schema)."""
    import pyhf

    spec = {
        "metadata": {
            "description": description,
            "digests": {"sha256": _digest(background)},
            "labels": labels,
            "references": {"hepdata": inspire},
        },
        "patches": [{"metadata": {"name": name, "values": values}, "patch": patch_operations(background, patched)}],
        "version": "1.0.0",
    }
    pyhf.PatchSet(spec)  # schema validation
    return spec


# --- PoissonCounts -> pyhf ----------------------------------------------------------------------
def counts_workspace(lik: stats.PoissonCounts, signal: np.ndarray | None = None) -> tuple[dict, dict]:
    """``(background-only, with NP)`` pyhf workspaces of a :class:`~analyses.stats.PoissonCounts`
    likelihood; ``signal`` (events per bin at mu_np = 1) defaults to the likelihood's reference."""
    s = np.asarray(lik.signal if signal is None else signal, float)
    b = np.asarray(lik.background, float)
    db = np.asarray(lik.background_err, float)
    bkg_mods: list[dict[str, Any]] = []
    if np.any(db > 0):
        if lik.correlated:
            bkg_mods.append(
                {
                    "type": "histosys",
                    "name": "background_syst",
                    "data": {"hi_data": list(b + db), "lo_data": list(b - db)},
                }
            )
        else:
            bkg_mods.append({"type": "staterror", "name": "background_err", "data": [float(x) for x in db]})
    channel = {
        "name": "counts",
        "samples": [{"name": "background", "data": [float(x) for x in b], "modifiers": bkg_mods}],
    }
    measurement = {
        "name": NP_MEASUREMENT,
        "config": {"poi": NP_POI, "parameters": [{"name": NP_POI, "bounds": [[0.0, MU_NP_MAX]], "inits": [1.0]}]},
    }
    background = {
        "channels": [channel],
        "observations": [{"name": "counts", "data": [float(x) for x in np.asarray(lik.observed, float)]}],
        "measurements": [measurement],
        "version": "1.0.0",
    }
    sig_mods: list[dict[str, Any]] = [{"type": "normfactor", "name": NP_POI, "data": None}]
    if lik.signal_rel > 0:
        r = float(lik.signal_rel)
        sig_mods.append(
            {
                "type": "histosys",
                "name": "signal_rel",
                "data": {"hi_data": list(s * (1 + r)), "lo_data": list(s * (1 - r))},
            }
        )
    patched = copy.deepcopy(background)
    patched["channels"][0]["samples"].append({"name": NP_SAMPLE, "data": [float(x) for x in s], "modifiers": sig_mods})
    patched["measurements"][0]["config"]["parameters"] = [
        {"name": NP_POI, "bounds": [[0.0, MU_NP_MAX]], "inits": [1.0]}
    ]
    return background, patched


# --- from an analysis -----------------------------------------------------------------------------
def _to_point_signal(res: Result, info: registry.AnalysisInfo, signal: np.ndarray) -> np.ndarray:
    from .combine import scaling_of

    ref = res.extras.get("reference")
    if res.value_at_point is None or not isinstance(ref, (int, float)) or ref == 0:
        raise PhiphiError(f"analysis {info.name}: the result has no value at the point or no reference to export")
    mu = stats.to_signal_strength(res.value_at_point, float(ref), scaling_of(res.parameter, info.header))
    return signal * mu


def workspaces(name: str, point: ModelPoint, **options: Any) -> tuple[dict, dict, Result]:
    """``(background-only workspace, workspace with the point's NP sample, the Result)`` of
    analysis ``name`` at ``point`` (see the module docstring for the supported likelihoods)."""
    info, p, opts = registry.prepare(name, point, options)
    module = info.load()
    res = registry.recast(info.name, p, **opts)
    if not res.sensitivity:
        raise PhiphiError(f"analysis {info.name} has no sensitivity at this point ({res.sensitivity_reason})")
    yields = res.extras.get("yields_at_point") if res.extras else None
    if hasattr(module, "load_workspace") and hasattr(module, "add_np_sample") and isinstance(yields, Mapping):
        background = module.load_workspace(opts.get("workspace"))
        ita = np.asarray(yields["ita"], float)
        hta = np.asarray(yields["hta"], float)
        n_a = int(len(ita)) - 3  # A: 9 bins, B: 3 bins (the released ITA rows)
        released = background
        patched = module.add_np_sample(released, (ita[:n_a], ita[n_a:], hta))
        ff = float(res.extras.get("formfactor_rel_error", 0.0))
        for ch in patched["channels"]:
            for s in ch["samples"]:
                if s["name"] == getattr(module, "NP_SAMPLE", NP_SAMPLE):
                    for m in s["modifiers"]:
                        if m["type"] == "normsys" and m["name"] == getattr(module, "NP_FF", "np_formfactor"):
                            m["data"] = {"hi": 1.0 + ff, "lo": max(1.0 - ff, 1e-3)}
        background = copy.deepcopy(released)
        np_meas = {"name": NP_MEASUREMENT, "config": copy.deepcopy(patched["measurements"][0]["config"])}
        np_meas["config"]["parameters"] = [
            {**par, "bounds": [[0.0, MU_NP_MAX]]} if par["name"] == NP_POI else par
            for par in np_meas["config"]["parameters"]
        ]
        background["measurements"] = [*copy.deepcopy(released["measurements"]), np_meas]
        patched = {**copy.deepcopy(background), "channels": patched["channels"]}
        return background, patched, res
    lik = getattr(res, "likelihood", None)
    if lik is None and hasattr(module, "likelihood"):
        lik = module.likelihood(p, data=info.data(), **opts)
    if isinstance(lik, stats.PoissonCounts):
        background, patched = counts_workspace(lik, _to_point_signal(res, info, np.asarray(lik.signal, float)))
        return background, patched, res
    raise PhiphiError(
        f"analysis {info.name} has no exportable likelihood (a released pyhf workspace or analyses.stats.PoissonCounts)"
    )


def inspire_record(info: registry.AnalysisInfo) -> str | None:
    """The INSPIRE record of an analysis's likelihood (header ``inspire`` or :data:`INSPIRE`), or None."""
    rec = info.header.get("inspire") or INSPIRE.get(info.name, (None, ""))[0]
    return str(rec) if rec else None


def export_workspace(name: str, point: ModelPoint, path: str | os.PathLike, **options: Any) -> dict[str, Any]:
    """Write analysis ``name``'s background-only workspace to ``path`` (.json), the JSON Patch
    adding the point's NP sample to ``<path>.patch.json`` (plain list of operations, for
    ``Workspace.model(patches=[...])``) and, when the likelihood has an INSPIRE record (the
    patchset schema requires one), the pyhf patchset to ``<path>.patchset.json``. Returns the
    paths, the patch name and the Result."""
    from evtgen.io import atomic_path, check_writable

    out = Path(path)
    if out.suffix.lower() != ".json":
        raise PhiphiError(f"workspace file {str(path)!r} must end in .json")
    check_writable(out)
    stem = out.name[: -len(".json")]
    ps_path, patch_path = out.with_name(stem + PATCHSET_SUFFIX), out.with_name(stem + PATCH_SUFFIX)
    info = registry.get(name)
    background, patched, res = workspaces(info.name, point, **options)
    ops = patch_operations(background, patched)
    labels = [*point.masses, *sorted(k for k, v in point.couplings.items() if v)]
    values = [*point.masses.values(), *(point.couplings[k] for k in labels[len(point.masses) :])]
    pname = patch_name(point, info.name)
    files: list[tuple[Path, Any]] = [(out, background), (patch_path, ops)]
    inspire = inspire_record(info)
    if inspire is not None:
        ps = patchset(
            background,
            patched,
            name=pname,
            labels=labels,
            values=[float(v) for v in values],
            description=(
                f"phiphi: {info.title}; NP sample '{NP_SAMPLE}' at the model point "
                f"(mu_np = 1 is the point; {res.parameter} in the project's 1/2 convention, {res.unit})"
            ),
            inspire=inspire,
        )
        files.append((ps_path, ps))
    for target, spec in files:
        with atomic_path(target) as tmp:
            Path(tmp).write_text(json.dumps(spec, indent=1))
    return {
        "workspace": str(out),
        "patch": str(patch_path),
        "patchset": str(ps_path) if inspire is not None else None,
        "patch_name": pname,
        "result": res,
    }
