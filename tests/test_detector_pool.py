"""The caller's output pool of the NA62 and ATLAS emulations (``detector.simulate(..., pool=)``):
the output is the plain call's bit for bit although the pool hands out stale memory (every
element is written by the kernel), and a loop that drops each result reuses the memory."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

import detector
from evtgen.decays import OutputPool


class _GarbagePool:
    """A pool whose arrays hold garbage bytes (what reused memory may hold)."""

    def __init__(self) -> None:
        self.calls = 0

    def empty(self, shape, dtype):
        self.calls += 1
        a = np.empty(shape, dtype)
        a.view(np.uint8)[...] = 0x7F  # NaN-like doubles, 127 in int8, True in bool
        return a


def _kaons(n: int) -> ak.Array:
    # lab-frame K+ -> pi+ X-like records (the fields the NA62 emulation reads)
    g = np.random.default_rng(4)
    kz = 75.0 * (1 + 0.01 * g.standard_normal(n))
    k = ak.zip({"px": 1e-4 * kz * g.standard_normal(n), "py": 1e-4 * kz * g.standard_normal(n), "pz": kz,
                "E": np.hypot(kz, 0.4937)})  # fmt: skip
    pz = g.uniform(10, 40, n)
    pi = ak.zip({"px": 2e-3 * pz * g.standard_normal(n), "py": 2e-3 * pz * g.standard_normal(n), "pz": pz,
                 "E": np.hypot(pz, 0.1396)})  # fmt: skip
    return ak.zip({"K": k, "pi": pi, "vtx_x": 1e-3 * g.standard_normal(n), "vtx_y": 1e-3 * g.standard_normal(n),
                   "vtx_z": g.uniform(105, 165, n)}, depth_limit=1)  # fmt: skip


def _partons(n: int) -> ak.Array:
    g = np.random.default_rng(3)
    pt, eta, phi = 150 + g.exponential(300, n), g.uniform(-3, 3, n), g.uniform(-np.pi, np.pi, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    j = ak.zip({"px": px, "py": py, "pz": pz, "E": np.sqrt(px**2 + py**2 + pz**2)}, with_name="Momentum4D")
    return ak.zip({"j": j, "shat": np.full(n, 1e6)}, depth_limit=1)


def _showered(n: int) -> ak.Array:
    g = np.random.default_rng(5)
    nj = g.integers(0, 6, n)
    t = int(nj.sum())
    pt, eta, phi = 20 + g.exponential(150, t), g.uniform(-5, 5, t), g.uniform(-np.pi, np.pi, t)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    flat = ak.zip({"px": px, "py": py, "pz": pz, "E": np.sqrt(px**2 + py**2 + pz**2)}, with_name="Momentum4D")
    jets = ak.unflatten(flat, nj)
    return ak.zip({"jets": jets, "electrons": jets[:, :0], "muons": jets[:, :0], "photons": jets[:, :0],
                   "met_true_x": -ak.to_numpy(ak.sum(jets.px, axis=1)),
                   "met_true_y": -ak.to_numpy(ak.sum(jets.py, axis=1))}, depth_limit=1)  # fmt: skip


def _assert_same(a: ak.Array, b: ak.Array) -> None:
    assert a.fields == b.fields
    for f in a.fields:
        if a[f].fields:
            continue
        x, y = ak.to_numpy(a[f]), ak.to_numpy(b[f])
        assert x.dtype == y.dtype, f
        np.testing.assert_array_equal(x, y, err_msg=f)


@pytest.mark.parametrize("name,events", [("na62", _kaons), ("atlas", _partons), ("atlas", _showered)])
def test_pooled_output_equals_the_plain_call_whatever_the_memory_held(name, events):
    ev = events(3000)
    plain = detector.simulate(ev, name, seed=7, first=11)
    garbage = _GarbagePool()
    _assert_same(detector.simulate(ev, name, seed=7, first=11, pool=garbage), plain)
    assert garbage.calls >= 2  # the outputs came from the pool
    pool = OutputPool()
    for _ in range(3):  # each result dropped before the next call: its memory is reused
        _assert_same(detector.simulate(ev, name, seed=7, first=11, pool=pool), plain)
    assert pool.free_bytes() > 0


def test_pool_refused_by_an_emulation_without_one():
    ev = _partons(5)
    with pytest.raises(detector.PhiphiError, match="pool"):
        detector.simulate(ev, "belle2", pool=OutputPool())


def test_atlas_integer_columns_are_int16_and_overflow_is_one_line_error():
    """n_jets and em_bin are int16 for every input (one schema for all chunks); an event with more
    jets than int16 holds is refused in one line instead of wrapping around."""
    out = detector.simulate(_showered(50), "atlas", seed=1)
    assert ak.to_numpy(out.n_jets).dtype == np.int16 and ak.to_numpy(out.em_bin).dtype == np.int16
    n = 2**15
    flat = ak.zip({"px": np.full(n, 1.0), "py": np.zeros(n), "pz": np.zeros(n), "E": np.full(n, 1.0)},
                  with_name="Momentum4D")  # fmt: skip
    jets = ak.unflatten(flat, np.array([n]))
    ev = ak.zip({"jets": jets, "electrons": jets[:, :0], "muons": jets[:, :0], "photons": jets[:, :0],
                 "met_true_x": np.array([-float(n)]), "met_true_y": np.array([0.0])}, depth_limit=1)  # fmt: skip
    with pytest.raises(detector.PhiphiError, match="32767") as e:
        detector.simulate(ev, "atlas", seed=1)
    assert "\n" not in str(e.value)
