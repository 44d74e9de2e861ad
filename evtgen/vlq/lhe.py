"""Les Houches Event files of ``pp2vlq`` events (the monojet writer :mod:`evtgen.lhe` only knows j + φφ).

Per event: the two incoming partons (status −1), optionally the on-shell heavy quarks X, X̄
(status 2, PDG-style codes of :data:`evtgen.vlq.uv.HEAVY`; ``resonances=True``), the final
partons (status 1; a top from U → t φ with its mass) and the two φ (status 1, code of
``evtgen/data/monojet.yaml``). ``phiphi shower`` declares the heavy codes to Pythia
(:func:`evtgen.shower.heavy_quark_settings`, masses and widths from the metadata ``rate``), so
both forms shower; the colour flow is then the one of the production with the decay quark
carrying the colour of its parent: q g → X φ: q(501) g(502, 501̄) → q(502); g g → X X̄:
(501, 502)(503, 501) → q(503) q̄(502̄); q q̄ → X X̄ and q g → q φφ, q q̄ → g φφ: the unique flows.
IDWTUP = 3, XWGTUP = σ (pb), SCALUP = μ_R, AQCDUP = α_s(μ_R); metadata as JSON in <header>.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

import awkward as ak
import numpy as np

from evtgen.errors import PhiphiError


def _colours(ids_in, ids_out):
    """Colour lines (col, acol) of the incoming and final partons (LHE convention)."""
    a, b = ids_in
    cin = []
    if a == 21 and b == 21:
        cin = [(501, 502), (503, 501)]
        out = []
        for q in ids_out:
            out.append((503, 0) if q > 0 else (0, 502))
        return cin, out
    if a != 21 and b != 21 and (a > 0) == (b > 0):  # q q -> X Y or qbar qbar (t-channel flow)
        if a > 0:
            return [(501, 0), (502, 0)], [(501, 0), (502, 0)]
        return [(0, 501), (0, 502)], [(0, 501), (0, 502)]
    if a != 21 and b != 21:  # q qbar
        ca = (501, 0) if a > 0 else (0, 502)
        cb = (501, 0) if b > 0 else (0, 502)
        cin = [ca, cb]
        if len(ids_out) == 1:  # -> g
            return cin, [(501, 502)]
        return cin, [(501, 0) if q > 0 else (0, 502) for q in ids_out]
    q = a if a != 21 else b
    if q > 0:
        cq, cg, co = (501, 0), (502, 501), (502, 0)
    else:
        cq, cg, co = (0, 501), (501, 502), (0, 502)
    cin = [cq, cg] if a != 21 else [cg, cq]
    return cin, [co]


def _p(pid, st, m1, m2, col, p, mass):
    return (
        f"{pid:9d} {st:2d} {m1:4d} {m2:4d} {col[0]:4d} {col[1]:4d} "
        f"{p[0]: .10e} {p[1]: .10e} {p[2]: .10e} {p[3]: .10e} {mass: .10e} 0.0000e+00 9.0000e+00\n"
    )


def write_lhe(path, events: ak.Array, metadata: dict, *, resonances: bool = False) -> Path:
    """Write ``pp2vlq`` events to an LHE v3 file atomically; returns the path."""
    from evtgen.lhe import pdg_ids

    p = Path(path)
    if not p.resolve().parent.is_dir():
        raise PhiphiError(f"output directory {str(p.resolve().parent)!r} does not exist")
    rate = metadata.get("rate", {})
    sigma = float(rate.get("sigma_pb", 1.0))
    err = float(rate.get("sigma_err_pb", 0.0))
    ebeam = 0.5 * float(rate.get("sqrt_s_GeV", 13000.0))
    phi_id = int(pdg_ids()["phi"])
    fd, tmp = tempfile.mkstemp(prefix=f".phiphi-tmp-{p.stem}-", suffix=".lhe", dir=p.resolve().parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write('<LesHouchesEvents version="3.0">\n<header>\n<phiphi>\n<![CDATA[\n')
            f.write(json.dumps(metadata, default=str, sort_keys=True))
            f.write("\n]]>\n</phiphi>\n</header>\n<init>\n")
            f.write(f"2212 2212 {ebeam:.6e} {ebeam:.6e} 0 0 247000 247000 3 1\n")
            f.write(f"{sigma:.8e} {err:.8e} 1.00000e+00 1\n</init>\n")
            _write_events(f, events, ebeam, sigma, phi_id, resonances)
            f.write("</LesHouchesEvents>\n")
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p


def _vec(rec, name):
    return np.stack([ak.to_numpy(rec[name][c]) for c in ("px", "py", "pz", "E")], axis=1)


def _write_events(f, ev: ak.Array, ebeam, sigma, phi_id, resonances):
    n = len(ev)
    if n == 0:
        raise PhiphiError("no events to write")
    jets = ak.to_list(ev.jets)
    pids = ak.to_list(ev.parton_id)
    f1, f2 = _vec(ev, "phi1"), _vec(ev, "phi2")
    h1, h2 = _vec(ev, "heavy1"), _vec(ev, "heavy2")
    hid1, hid2 = ak.to_numpy(ev.heavy1_id), ak.to_numpy(ev.heavy2_id)
    x1, x2 = ak.to_numpy(ev.x1), ak.to_numpy(ev.x2)
    id1, id2 = ak.to_numpy(ev.id1), ak.to_numpy(ev.id2)
    scale, alphas = ak.to_numpy(ev.scale), ak.to_numpy(ev.alphas)
    mphi = float(np.sqrt(max(f1[0, 3] ** 2 - (f1[0, :3] ** 2).sum(), 0.0)))
    out = []
    for i in range(n):
        outs = [int(q) for q in pids[i]]
        cin, cout = _colours((int(id1[i]), int(id2[i])), outs)
        lines = [
            _p(int(id1[i]), -1, 0, 0, cin[0], (0.0, 0.0, x1[i] * ebeam, x1[i] * ebeam), 0.0),
            _p(int(id2[i]), -1, 0, 0, cin[1], (0.0, 0.0, -x2[i] * ebeam, x2[i] * ebeam), 0.0),
        ]
        mothers = [(1, 2)] * len(outs)
        phim = [(1, 2), (1, 2)]
        if resonances:
            heavies = [(hid1[i], h1[i]), (hid2[i], h2[i])]
            k = 3
            for j, (hid, hp) in enumerate(heavies):
                if hid == 0:
                    continue
                m = float(np.sqrt(max(hp[3] ** 2 - (hp[:3] ** 2).sum(), 0.0)))
                lines.append(_p(int(hid), 2, 1, 2, cout[j], hp, m))
                mothers[j] = (k, k)
                phim[j] = (k, k)
                k += 1
        for j, (q, pj) in enumerate(zip(outs, jets[i])):
            mom = (pj["px"], pj["py"], pj["pz"], pj["E"])
            # light partons are massless; a top (U -> t phi) carries its mass
            mq = math.sqrt(max(mom[3] ** 2 - mom[0] ** 2 - mom[1] ** 2 - mom[2] ** 2, 0.0)) if abs(q) == 6 else 0.0
            lines.append(_p(q, 1, mothers[j][0], mothers[j][1], cout[j], mom, mq))
        lines.append(_p(phi_id, 1, phim[0][0], phim[0][1], (0, 0), f1[i], mphi))
        lines.append(_p(phi_id, 1, phim[1][0], phim[1][1], (0, 0), f2[i], mphi))
        out.append("<event>\n")
        out.append(f"{len(lines):2d} 1 {sigma: .8e} {scale[i]: .8e} 7.8125000e-03 {alphas[i]: .8e}\n")
        out.extend(lines)
        out.append("</event>\n")
    f.write("".join(out))
