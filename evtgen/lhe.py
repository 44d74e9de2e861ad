"""Les Houches Event files (Alwall et al., hep-ph/0609017) for the monojet channels.

:func:`write_lhe` is called by :func:`evtgen.io.write_events` for ``.lhe`` paths. The file is
written to a temporary name beside the target and renamed when complete. One ``<event>`` per
unweighted event: the two incoming partons (status −1, with x·E_beam along ±z), the outgoing
parton (status 1), and either the invisible S (status 1) or the off-shell S* (status 2) with its
two φ (status 1). Colour flow is the unique one of each 2→2 channel. IDWTUP = 3 (unit weights,
XWGTUP = σ in pb); SCALUP = μ_R, AQCDUP = α_s(μ_R). The run metadata is in ``<header>`` as JSON.

:func:`read_lhe` reads a file back with ``pylhe`` and turns any parse failure into a one-line
:class:`~evtgen.errors.PhiphiError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import awkward as ak
import numpy as np

from evtgen.errors import PhiphiError


def pdg_ids() -> dict:
    from evtgen.monojet.generator import config

    return dict(config()["pdg_ids"])


def _colours(id1: int, id2: int, idj: int):
    """((c1, a1), (c2, a2), (cj, aj)) for the 2->2 channel."""
    if id1 == 21 and id2 == 21:
        return (501, 502), (503, 501), (503, 502)
    if id1 != 21 and id2 != 21:  # q qbar -> g
        q = (501, 0) if id1 > 0 else (0, 502)
        qb = (0, 502) if id2 < 0 else (501, 0)
        return q, qb, (501, 502)
    # q g -> q (either order)
    iq = id1 if id1 != 21 else id2
    if iq > 0:
        cq, cg, co = (501, 0), (502, 501), (502, 0)
    else:
        cq, cg, co = (0, 501), (501, 502), (0, 502)
    return (cq, cg, co) if id1 != 21 else (cg, cq, co)


def _fmt_particle(pid, status, m1, m2, col, p, mass):
    return (
        f"{pid:9d} {status:2d} {m1:4d} {m2:4d} {col[0]:4d} {col[1]:4d} "
        f"{p[0]: .10e} {p[1]: .10e} {p[2]: .10e} {p[3]: .10e} {mass: .10e} 0.0000e+00 9.0000e+00\n"
    )


def write_lhe(path: str | os.PathLike, chunks: Iterable[ak.Array], metadata: dict) -> Path:
    """Write monojet events to an LHE v3 file atomically; returns the path."""
    from evtgen.io import check_writable

    p = check_writable(path)
    rate = metadata.get("rate", {})
    sigma = float(rate.get("sigma_pb", 1.0))
    sigma_err = float(rate.get("sigma_err_pb", 0.0))
    sqrt_s = float(rate.get("sqrt_s_GeV", 13000.0))
    ebeam = 0.5 * sqrt_s
    ids = pdg_ids()
    fd, tmp = tempfile.mkstemp(prefix=f".phiphi-tmp-{p.stem}-", suffix=".lhe", dir=p.parent)
    n_written = 0
    try:
        with os.fdopen(fd, "w") as f:
            f.write('<LesHouchesEvents version="3.0">\n<header>\n<phiphi>\n<![CDATA[\n')
            f.write(
                json.dumps(
                    metadata, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o), sort_keys=True
                )
            )
            f.write("\n]]>\n</phiphi>\n</header>\n<init>\n")
            f.write(f"2212 2212 {ebeam:.6e} {ebeam:.6e} 0 0 247000 247000 3 1\n")
            f.write(f"{sigma:.8e} {sigma_err:.8e} 1.00000e+00 1\n</init>\n")
            for chunk in chunks:
                n_written += _write_chunk(f, chunk, ebeam, sigma, ids)
            f.write("</LesHouchesEvents>\n")
        if n_written == 0:
            raise PhiphiError("no events to write")
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(path)


def _col(ev, name, comp):
    return ak.to_numpy(ev[name][comp])


def _write_chunk(f, ev: ak.Array, ebeam: float, sigma: float, ids: dict) -> int:
    if not isinstance(ev, ak.Array):
        from evtgen.events import to_awkward

        ev = to_awkward(ev)
    n = len(ev)
    phiphi = "phi1" in ev.fields
    jet = np.stack([_col(ev, "j", c) for c in ("px", "py", "pz", "E")], axis=1)
    if phiphi:
        p1 = np.stack([_col(ev, "phi1", c) for c in ("px", "py", "pz", "E")], axis=1)
        p2 = np.stack([_col(ev, "phi2", c) for c in ("px", "py", "pz", "E")], axis=1)
        sv = p1 + p2
        mphi = np.sqrt(np.maximum(p1[:, 3] ** 2 - (p1[:, :3] ** 2).sum(1), 0.0))
        m2 = ak.to_numpy(ev["m2_phiphi"])
    else:
        sv = np.stack([_col(ev, "S", c) for c in ("px", "py", "pz", "E")], axis=1)
        m2 = ak.to_numpy(ev["m2_S"])
    x1, x2 = ak.to_numpy(ev["x1"]), ak.to_numpy(ev["x2"])
    id1, id2, idj = ak.to_numpy(ev["id1"]), ak.to_numpy(ev["id2"]), ak.to_numpy(ev["id_j"])
    scale = ak.to_numpy(ev["scale"]) if "scale" in ev.fields else np.full(n, 100.0)
    alphas = ak.to_numpy(ev["alphas"]) if "alphas" in ev.fields else np.full(n, 0.118)
    out = []
    for i in range(n):
        c1, c2, cj = _colours(int(id1[i]), int(id2[i]), int(idj[i]))
        e1, e2 = x1[i] * ebeam, x2[i] * ebeam
        npart = 6 if phiphi else 4
        out.append("<event>\n")
        out.append(f"{npart:2d} 1 {sigma: .8e} {scale[i]: .8e} 7.8125000e-03 {alphas[i]: .8e}\n")
        out.append(_fmt_particle(int(id1[i]), -1, 0, 0, c1, (0.0, 0.0, e1, e1), 0.0))
        out.append(_fmt_particle(int(id2[i]), -1, 0, 0, c2, (0.0, 0.0, -e2, e2), 0.0))
        out.append(_fmt_particle(int(idj[i]), 1, 1, 2, cj, jet[i], 0.0))
        m = float(np.sqrt(m2[i]))
        if phiphi:
            out.append(_fmt_particle(ids["S"], 2, 1, 2, (0, 0), sv[i], m))
            out.append(_fmt_particle(ids["phi"], 1, 4, 4, (0, 0), p1[i], mphi[i]))
            out.append(_fmt_particle(ids["phi"], 1, 4, 4, (0, 0), p2[i], mphi[i]))
        else:
            out.append(_fmt_particle(ids["S"], 1, 1, 2, (0, 0), sv[i], m))
        out.append("</event>\n")
    f.write("".join(out))
    return n


def read_lhe(path: str | os.PathLike):
    """(init dict, list of pylhe events) with one-line errors for missing or malformed files."""
    import pylhe

    p = Path(path)
    if not p.is_file():
        raise PhiphiError(f"LHE file {str(path)!r} does not exist")
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # pylhe only warns on XML parse errors
            lhe = pylhe.LHEFile.fromfile(str(p))
            init = lhe.init
            events = list(lhe.events)
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else ""
        raise PhiphiError(f"malformed LHE file {str(path)!r}: {type(exc).__name__}: {msg}") from None
    if not events:
        raise PhiphiError(f"malformed LHE file {str(path)!r}: no <event> blocks")
    for k, e in enumerate(events):
        if not e.particles or any(not np.isfinite(q.e) for q in e.particles):
            raise PhiphiError(f"malformed LHE file {str(path)!r}: event {k} has no or non-finite particles")
    return init, events
