"""Chunked monojet production (``generate_chunks``) is the unchunked ``generate``, bit for bit.

Both go through :func:`evtgen.monojet.generator.generate` (``first_trial`` resumes the trial
sequence), so the chunks must concatenate to exactly the events of one call, for any chunk size,
trial-chunk size and thread count.
"""

from __future__ import annotations

import awkward as ak
import numba
import numpy as np
import pytest

from evtgen.errors import PhiphiError
from evtgen.monojet import generator as G
from evtgen.monojet import kernels as K
from evtgen.monojet.channel import PP2JS, PP2JPhiPhi

CPL = {"CG": 1e-6, "CS_uu": 2e-5}
N = 2500


def _columns(ev: ak.Array) -> dict:
    cols = {}
    for f in ev.fields:
        a = ev[f]
        if a.fields:
            for c in a.fields:
                cols[f"{f}.{c}"] = ak.to_numpy(a[c])
        else:
            cols[f] = ak.to_numpy(a)
    return cols


def _assert_identical(a: ak.Array, b: ak.Array) -> None:
    ca, cb = _columns(a), _columns(b)
    assert ca.keys() == cb.keys()
    for k in ca:
        assert ca[k].dtype == cb[k].dtype, k
        np.testing.assert_array_equal(ca[k], cb[k], err_msg=k)


@pytest.mark.parametrize("chunk_size", [1, 977, N, 4 * N])
def test_chunks_concatenate_to_generate(chunk_size):
    ch = PP2JPhiPhi()
    ref = ch.generate(N, mass=3.0, couplings=CPL, seed=11)
    n_first = min(chunk_size, 50) if chunk_size == 1 else N  # chunk size 1: only the first 50 (speed)
    parts = list(ch.generate_chunks(n_first, mass=3.0, couplings=CPL, seed=11, chunk_size=chunk_size))
    assert all(len(p) <= chunk_size for p in parts)
    _assert_identical(ak.concatenate(parts), ref[:n_first])


def test_chunks_identical_for_trial_chunk_and_threads():
    ch = PP2JS()
    ref = ch.generate(N, mass=200.0, couplings={"CG": 1e-5}, seed=3)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        parts = list(
            ch.generate_chunks(
                N, mass=200.0, couplings={"CG": 1e-5}, seed=3, options={"trial_chunk": 3001}, chunk_size=613
            )
        )
    finally:
        numba.set_num_threads(old)
    _assert_identical(ak.concatenate(parts), ref)


def test_first_trial_resumes_the_sequence():
    setup, integ = PP2JPhiPhi()._prepare(3.0, CPL, {})
    key = np.array([5, 6], dtype=np.uint64)
    full, st = G.generate(setup, integ, 400, key)
    a, sa = G.generate(setup, integ, 150, key)
    b, sb = G.generate(setup, integ, 250, key, first_trial=sa["last_trial"] + 1)
    used = [r for r in range(K.NCOL) if not K.C_S <= r < K.C_S + 4]  # the S rows are not filled for φφ
    np.testing.assert_array_equal(np.concatenate([a["cols"], b["cols"]], axis=1)[used], full["cols"][used])
    np.testing.assert_array_equal(np.concatenate([a["ids"], b["ids"]], axis=1), full["ids"])
    assert sb["last_trial"] == st["last_trial"]
    assert sa["n_trials"] + sb["n_trials"] == st["n_trials"]
    with pytest.raises(PhiphiError, match="first_trial -1"):
        G.generate(setup, integ, 10, key, first_trial=-1)
