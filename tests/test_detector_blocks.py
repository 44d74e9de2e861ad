"""The block kernels of the NA62 and ATLAS emulations: same events, same output, whatever the blocks.

NA62's ``smear_columns`` draws the normals of a block in vectorised passes and does the
arithmetic as loops over the block; ``smear_kernel`` is the event-by-event evaluation
(one ``fastrandom.normal`` after the other on the event's stream). They must agree bit for bit.
ATLAS draws 2 + min(k, _BLOCK_JETS) normals block-wise and continues on the event's stream
for events with more calorimeter jets; an event's output must not depend on its block.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

import evtgen
from detector import atlas, na62


def _na62_columns(n: int, seed: int) -> list[np.ndarray]:
    ev = evtgen.generate("k2pinunu", n, seed=seed)
    cols = [np.ascontiguousarray(ak.to_numpy(ev[p][c])) for p in ("K", "pi") for c in ("px", "py", "pz")]
    return cols + [np.ascontiguousarray(ak.to_numpy(ev[f])) for f in ("vtx_x", "vtx_y", "vtx_z")]


def test_na62_block_kernel_equals_event_by_event_reference():
    n, first = 3 * na62._BLOCK + 77, 12_345  # a partial last block, an offset inside a block
    cols = _na62_columns(n, 5)
    par, straw_z = na62.parameters()
    key = na62.detector_key(9)
    out = np.empty((5, n))
    b1, b2 = np.empty(n, np.bool_), np.empty(n, np.bool_)
    i1, i2 = np.empty(n, np.int8), np.empty(n, np.int8)
    assert na62.smear_columns(*cols, par, straw_z, key[0], key[1], first, out, b1, b2, i1, i2) == 0
    k4, p4 = np.zeros((4, n)), np.zeros((4, n))
    for j in range(3):
        k4[j], p4[j] = cols[j], cols[3 + j]
    ref, flags = np.empty((5, n)), np.empty((4, n), np.int8)
    na62.smear_kernel(k4, p4, np.stack(cols[6:]), par, straw_z, key[0], key[1], first, ref, flags)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(b1, flags[0] == 1)
    np.testing.assert_array_equal(b2, flags[1] == 1)
    np.testing.assert_array_equal(i1, flags[2])
    np.testing.assert_array_equal(i2, flags[3])
    assert np.any(b2) and np.any(~b2) and len(np.unique(i1)) > 3  # the cuts and bands are exercised
    # and in pieces cut anywhere: events first + i keep their output
    part = np.empty((5, 100))
    pb1, pb2 = np.empty(100, np.bool_), np.empty(100, np.bool_)
    pi1, pi2 = np.empty(100, np.int8), np.empty(100, np.int8)
    sl = slice(500, 600)
    na62.smear_columns(*(c[sl] for c in cols), par, straw_z, key[0], key[1], first + 500, part, pb1, pb2, pi1, pi2)
    np.testing.assert_array_equal(part, out[:, sl])


def test_na62_bad_events_counted_not_raised_inside_the_kernel():
    cols = _na62_columns(50, 6)
    cols[2] = cols[2].copy()
    cols[2][[3, 40]] = (0.0, np.nan)  # kaon pz = 0 (a division by zero) and a NaN
    par, straw_z = na62.parameters()
    key = na62.detector_key(1)
    out = np.empty((5, 50))
    b = [np.empty(50, np.bool_), np.empty(50, np.bool_), np.empty(50, np.int8), np.empty(50, np.int8)]
    assert na62.smear_columns(*cols, par, straw_z, key[0], key[1], 0, out, *b) == 2


def _many_jet_events(n: int, seed: int) -> ak.Array:
    g = np.random.default_rng(seed)
    nj = g.integers(0, 3 * atlas._BLOCK_JETS, n)  # many events beyond the block-wise normals
    t = int(nj.sum())
    pt, eta, phi = 10 + g.exponential(150, t), g.uniform(-5.5, 5.5, t), g.uniform(-np.pi, np.pi, t)
    eta[::40], eta[1::40], eta[2::40] = 4.9, -2.8, 1.7  # on the thresholds (eta itself decides there)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    rec = ak.zip({"px": px, "py": py, "pz": pz, "E": np.sqrt(px**2 + py**2 + pz**2)}, with_name="Momentum4D")
    jets = ak.unflatten(rec, nj)
    none = jets[:, :0]
    mx, my = -ak.to_numpy(ak.sum(jets.px, axis=1)), -ak.to_numpy(ak.sum(jets.py, axis=1))
    return ak.zip(
        {"jets": jets, "electrons": none, "muons": none, "photons": none, "met_true_x": mx, "met_true_y": my},
        depth_limit=1,
    )


def test_atlas_output_independent_of_blocks_and_jet_count():
    ev = _many_jet_events(2 * atlas._BLOCK + 31, 3)
    whole = atlas.simulate(ev, seed=4)
    cut = atlas._BLOCK - 5
    parts = ak.concatenate([atlas.simulate(ev[:cut], seed=4), atlas.simulate(ev[cut:], seed=4, first=cut)])
    for f in whole.fields:
        np.testing.assert_array_equal(ak.to_numpy(parts[f]), ak.to_numpy(whole[f]), err_msg=f)
    # an event smeared alone (its own k, fewer block-wise normals) is the same event
    i = int(np.argmax(ak.to_numpy(ak.num(ev.jets))))
    alone = atlas.simulate(ev[i : i + 1], seed=4, first=i)
    for f in whole.fields:
        np.testing.assert_array_equal(ak.to_numpy(alone[f]), ak.to_numpy(whole[f])[i : i + 1], err_msg=f)
    assert np.any(ak.to_numpy(whole.pass_sr))
