"""detector.fastrandom.fill_normals_scan8 (the ATLAS one-jet kernel's normals) against
fill_normals: the same numbers bit for bit, for block sizes that are and are not multiples of 8,
with garbage in the scratch beyond the block, and blocks whose events need redraws (1.5% of the
256-layer ziggurat draws leave its fast path: every 256-event block has several)."""

from __future__ import annotations

import awkward as ak
import numba as nb
import numpy as np
import pytest
from test_atlas_blocks import _edge_partons

from detector import atlas, fastrandom


@nb.njit(cache=True)
def _both(key0, key1, first, m, per_event, size):
    g1 = np.empty((per_event, size))
    g2 = np.empty((per_event, size))
    s0 = np.empty(size, dtype=np.uint64)
    redo = np.empty(size, dtype=np.uint8)
    fastrandom.fill_normals(key0, key1, first, m, g1, s0, redo)
    n_redo = 0
    for i in range(m):
        n_redo += redo[i] != 0
    for i in range(size):
        redo[i] = 255  # garbage marks: the scan must clear and ignore what lies beyond m
        s0[i] = np.uint64(12345)
    fastrandom.fill_normals_scan8(key0, key1, first, m, g2, s0, redo)
    return g1[:, :m].copy(), g2[:, :m].copy(), n_redo


@pytest.mark.parametrize("m", [1, 7, 8, 9, 255, 256])
@pytest.mark.parametrize("per_event", [1, 3, 8])
def test_fill_normals_scan8_equals_fill_normals_bit_for_bit(m, per_event):
    key0, key1 = np.uint64(0x1234_5678_9ABC_DEF0), np.uint64(2102_10874)
    total_redo = 0
    for first in (0, 1, 977, 10**9):
        a, b, n_redo = _both(key0, key1, first, m, per_event, 256)
        np.testing.assert_array_equal(a.view(np.uint64), b.view(np.uint64))
        total_redo += n_redo
    if m == 256:  # the slow path was exercised (expected ~1.5% x per_event x 1024 draws)
        assert total_redo > 0


def test_one_jet_kernel_output_does_not_depend_on_parallel_blocks_or_chunks():
    # events spanning several parallel blocks of the one-jet path (and a partial last one), cut
    # into chunks at a sub-block and at a block boundary and off both: bit-identical fields
    n = 2 * atlas._BLOCK_ONE_JET + 3 * atlas._SUB + 5
    ev = _edge_partons(n, 4)
    whole = atlas.simulate(ev, seed=9, first=31)
    cuts = [0, atlas._SUB, atlas._BLOCK_ONE_JET, atlas._BLOCK_ONE_JET + 1001, n]
    parts = ak.concatenate(
        [atlas.simulate(ev[a:b], seed=9, first=31 + a) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    )
    for f in whole.fields:
        np.testing.assert_array_equal(ak.to_numpy(parts[f]), ak.to_numpy(whole[f]), err_msg=f)


def test_parton_columns_from_stored_components_equal_vectors_properties():
    # simulate reads a parton-level jet's stored px, py, pz, E buffers directly; a jet stored in
    # other coordinates (here t for the energy) goes through vector's properties: the same events
    import vector

    vector.register_awkward()  # vector's awkward behaviours, as the generators register them

    ev = _edge_partons(3000, 12)
    j = ev["j"]
    other = ak.zip(
        {"j": ak.zip({"px": j["px"], "py": j["py"], "pz": j["pz"], "t": j["E"]}, with_name="Momentum4D"),
         "shat": ev["shat"]},
        depth_limit=1,
    )  # fmt: skip
    a, b = atlas.simulate(ev, seed=3), atlas.simulate(other, seed=3)
    assert a.fields == b.fields
    for f in a.fields:
        np.testing.assert_array_equal(ak.to_numpy(a[f]), ak.to_numpy(b[f]), err_msg=f)
