"""The record building of evtgen.events.to_awkward: the direct layout for flat numpy columns is
the one ak.zip builds (same form, same values, Momentum4D behaviour, no copies)."""

from __future__ import annotations

import awkward as ak
import numpy as np

from evtgen.events import COMPONENTS, register_vector, to_awkward


def _zipped(cols, particles):
    register_vector()
    fields = {p: ak.zip({c: cols[f"{p}_{c}"] for c in COMPONENTS}, with_name="Momentum4D") for p in particles}
    fields.update({k: v for k, v in cols.items() if not any(k == f"{p}_{c}" for p in particles for c in COMPONENTS)})
    return ak.zip(fields, depth_limit=1)


def test_direct_layout_equals_ak_zip():
    rg = np.random.default_rng(3)
    cols = {f"{p}_{c}": rg.uniform(size=50) for p in ("B", "K") for c in COMPONENTS}
    cols["q2_true"] = rg.uniform(size=50)
    cols["vtx_z"] = rg.uniform(size=50)
    got, ref = to_awkward(cols, ("B", "K")), _zipped(cols, ("B", "K"))
    assert got.layout.form == ref.layout.form
    assert str(got.type) == str(ref.type)
    assert ak.to_list(got) == ak.to_list(ref)
    assert np.shares_memory(np.asarray(got.K.px), cols["K_px"])  # no copy
    assert np.allclose(
        np.asarray((got.B + got.K).mass), np.asarray((ref.B + ref.K).mass), rtol=0, atol=0, equal_nan=True
    )


def test_jagged_columns_still_go_through_ak_zip():
    cols = {f"j_{c}": np.ones(3) for c in COMPONENTS}
    cols["jets_px"] = ak.Array([[1.0], [], [2.0, 3.0]])
    got = to_awkward(cols, ("j",))
    assert got.fields == ["j", "jets_px"] and ak.to_list(got.jets_px) == [[1.0], [], [2.0, 3.0]]
