"""Les Houches Event files (Alwall et al., hep-ph/0609017) for the monojet channels.

:func:`write_lhe` is called by :func:`evtgen.io.write_events` for ``.lhe`` paths. It writes with
``pylhe`` (which can write LHE files since 0.8; the hand-written writer it replaced is gone), chunk
by chunk, to a hidden temporary name beside the target that is renamed when complete. One ``<event>`` per
unweighted event: the two incoming partons (status −1, with x·E_beam along ±z), the outgoing
parton (status 1), and either the invisible S (status 1) or the off-shell S* (status 2) with its
two φ (status 1). Colour flow is the unique one of each 2→2 channel. IDWTUP = 3 (unit weights,
XWGTUP = σ in pb); SCALUP = μ_R, AQCDUP = α_s(μ_R). The run metadata is in ``<header>`` as JSON.

:func:`read_lhe` reads a file back with ``pylhe`` and turns any parse failure into a one-line
:class:`~evtgen.errors.PhiphiError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import awkward as ak
import numpy as np

from evtgen.errors import PhiphiError


def pdg_ids() -> dict:
    """Parton name -> PDG id of the LHC generators (evtgen/data/monojet.yaml)."""
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


def _lhe_format():
    """pylhe's LHE v3 format with 11 significant digits for momenta and masses."""
    import dataclasses

    import pylhe

    return dataclasses.replace(
        pylhe.DEFAULT_FORMAT,
        eventinfo="{nparticles:2d} {pid:d} {weight: .8e} {scale: .8e} {aqed: .8e} {aqcd: .8e}",
        particle="{id:9d} {status:2d} {mother1:4d} {mother2:4d} {color1:4d} {color2:4d} "
        "{px: .10e} {py: .10e} {pz: .10e} {e: .10e} {m: .10e} {lifetime: .4e} {spin: .4e}",
    )


def write_lhe(path: str | os.PathLike, chunks: Iterable[ak.Array], metadata: dict) -> Path:
    """Write monojet events to an LHE v3 file with ``pylhe`` (streamed chunk by chunk, written
    to a hidden temporary name and renamed when complete); returns the path."""
    import xml.etree.ElementTree as ET

    import pylhe

    from evtgen.files import atomic_path

    rate = metadata.get("rate", {})
    sigma = float(rate.get("sigma_pb", 1.0))
    sigma_err = float(rate.get("sigma_err_pb", 0.0))
    ebeam = 0.5 * float(rate.get("sqrt_s_GeV", 13000.0))
    ids = pdg_ids()
    meta_el = ET.Element("phiphi")
    meta_el.text = json.dumps(
        metadata, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o), sort_keys=True
    )
    init = pylhe.LHEInit(
        initInfo=pylhe.LHEInitInfo(2212, 2212, ebeam, ebeam, 0, 0, 247000, 247000, 3, 1),
        procInfo=[pylhe.LHEProcInfo(sigma, sigma_err, 1.0, 1)],
        generators=[],
    )
    counter = {"n": 0}

    def events():
        for chunk in chunks:
            for ev in _chunk_events(chunk, ebeam, sigma, ids):
                counter["n"] += 1
                yield ev

    lhe = pylhe.LHEFile(
        init=init, events=events(), header=pylhe.LHEHeader(initrwgt=pylhe.LHEInitRWGT(), extra_elements=[meta_el])
    )
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            lhe.write(f, lheformat=_lhe_format())
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        if counter["n"] == 0:
            raise PhiphiError("no events to write")
    return Path(path)


def _col(ev, name, comp):
    return ak.to_numpy(ev[name][comp])


def _chunk_events(ev: ak.Array, ebeam: float, sigma: float, ids: dict):
    """pylhe events of one chunk of monojet events."""
    import pylhe

    if not isinstance(ev, ak.Array):
        from evtgen.events import to_awkward

        ev = to_awkward(ev)
    n = len(ev)
    phiphi = "phi1" in ev.fields
    jet = np.stack([_col(ev, "j", c) for c in ("px", "py", "pz", "E")], axis=1).tolist()
    if phiphi:
        p1a = np.stack([_col(ev, "phi1", c) for c in ("px", "py", "pz", "E")], axis=1)
        p2a = np.stack([_col(ev, "phi2", c) for c in ("px", "py", "pz", "E")], axis=1)
        sva = p1a + p2a
        mphi = np.sqrt(np.maximum(p1a[:, 3] ** 2 - (p1a[:, :3] ** 2).sum(1), 0.0)).tolist()
        m2 = ak.to_numpy(ev["m2_phiphi"])
        p1, p2 = p1a.tolist(), p2a.tolist()
    else:
        sva = np.stack([_col(ev, "S", c) for c in ("px", "py", "pz", "E")], axis=1)
        m2 = ak.to_numpy(ev["m2_S"])
    sv = sva.tolist()
    msv = np.sqrt(m2).tolist()
    e1 = (ak.to_numpy(ev["x1"]) * ebeam).tolist()
    e2 = (ak.to_numpy(ev["x2"]) * ebeam).tolist()
    id1, id2, idj = (ak.to_numpy(ev[k]).tolist() for k in ("id1", "id2", "id_j"))
    scale = (ak.to_numpy(ev["scale"]) if "scale" in ev.fields else np.full(n, 100.0)).tolist()
    alphas = (ak.to_numpy(ev["alphas"]) if "alphas" in ev.fields else np.full(n, 0.118)).tolist()
    P = pylhe.LHEParticle
    for i in range(n):
        c1, c2, cj = _colours(id1[i], id2[i], idj[i])
        parts = [
            P(id1[i], -1, 0, 0, c1[0], c1[1], 0.0, 0.0, e1[i], e1[i], 0.0, 0.0, 9.0),
            P(id2[i], -1, 0, 0, c2[0], c2[1], 0.0, 0.0, -e2[i], e2[i], 0.0, 0.0, 9.0),
            P(idj[i], 1, 1, 2, cj[0], cj[1], *jet[i], 0.0, 0.0, 9.0),
        ]
        if phiphi:
            parts.append(P(ids["S"], 2, 1, 2, 0, 0, *sv[i], msv[i], 0.0, 9.0))
            parts.append(P(ids["phi"], 1, 4, 4, 0, 0, *p1[i], mphi[i], 0.0, 9.0))
            parts.append(P(ids["phi"], 1, 4, 4, 0, 0, *p2[i], mphi[i], 0.0, 9.0))
        else:
            parts.append(P(ids["S"], 1, 1, 2, 0, 0, *sv[i], msv[i], 0.0, 9.0))
        info = pylhe.LHEEventInfo(len(parts), 1, sigma, scale[i], 7.8125e-03, alphas[i])
        yield pylhe.LHEEvent(eventinfo=info, particles=parts)


def _open_lhe(path: str | os.PathLike):
    import pylhe

    p = Path(path)
    if not p.is_file():
        raise PhiphiError(f"LHE file {str(path)!r} does not exist")
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # pylhe warns (then raises) on XML parse errors: one message
            return pylhe.LHEFile.fromfile(str(p), generator=True)
    except Exception as exc:
        raise _malformed(path, exc) from None


def _malformed(path, exc: BaseException) -> PhiphiError:
    msg = (str(exc).splitlines() or [""])[0]
    return PhiphiError(f"malformed LHE file {str(path)!r}: {type(exc).__name__}: {msg}")


def iter_lhe(path: str | os.PathLike, n_max: int | None = None):
    """The events of an LHE file one by one (pylhe events, streamed: memory does not grow with
    the file), validated as they come; a malformed file is a one-line PhiphiError."""
    yield from _iter_events(_open_lhe(path), path, n_max)


def _iter_events(lhe, path, n_max: int | None):
    import warnings

    k = 0
    events = lhe.events
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # pylhe only warns on XML parse errors
            for e in events:
                if n_max is not None and k >= n_max:
                    break
                if not e.particles or any(not np.isfinite(q.e) for q in e.particles):
                    raise PhiphiError(f"malformed LHE file {str(path)!r}: event {k} has no or non-finite particles")
                k += 1
                yield e
    except PhiphiError:
        raise
    except Exception as exc:
        raise _malformed(path, exc) from None
    finally:
        if hasattr(events, "close"):
            events.close()  # closes the file when the reading stops early
    if k == 0:
        raise PhiphiError(f"malformed LHE file {str(path)!r}: no <event> blocks")


def count_lhe(path: str | os.PathLike, n_max: int | None = None) -> int:
    """Number of (valid) events in an LHE file, read through once without keeping them."""
    return sum(1 for _ in iter_lhe(path, n_max))


def read_lhe_metadata(path: str | os.PathLike) -> dict:
    """The phiphi run metadata in the ``<header>`` of an LHE file written by phiphi."""
    import warnings

    lhe = _open_lhe(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            header = lhe.header
    except Exception as exc:
        raise _malformed(path, exc) from None
    finally:
        if hasattr(lhe.events, "close"):
            lhe.events.close()
    for el in getattr(header, "extra_elements", None) or []:
        if el.tag == "phiphi" and el.text:
            try:
                return json.loads(el.text)
            except ValueError as exc:
                raise PhiphiError(f"LHE file {str(path)!r}: damaged phiphi metadata ({exc})") from None
    raise PhiphiError(f"LHE file {str(path)!r} carries no phiphi metadata (not written by phiphi)")


def read_lhe(path: str | os.PathLike):
    """(init, list of pylhe events) with one-line errors for missing or malformed files."""
    lhe = _open_lhe(path)
    events = list(_iter_events(lhe, path, None))
    return lhe.init, events
