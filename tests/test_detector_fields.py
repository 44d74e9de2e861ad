"""detector.numpy_field (the layout-level column access of the emulations) gives what
ak.to_numpy of the high-level field gives, on plain, nested, sliced, indexed and option layouts."""

import awkward as ak
import numpy as np
import pytest

from detector import numpy_field


def _events():
    g = np.random.default_rng(7)
    n = 50
    k = ak.zip({c: g.normal(size=n) for c in ("px", "py", "pz", "E")}, with_name="Momentum4D")
    return ak.zip({"K": k, "vtx_z": g.normal(size=n), "n": np.arange(n, dtype=np.int16)}, depth_limit=1)


@pytest.mark.parametrize(
    "select",
    [
        lambda e: e,
        lambda e: e[7:31],  # a range of the record (contents sliced or longer than it)
        lambda e: e[::-3],  # an indexed layout: awkward's path
        lambda e: e[np.arange(len(e)) % 4 != 1],
        lambda e: ak.Array(ak.contents.RecordArray(e.layout.contents, e.layout.fields, length=9)),  # contents longer
    ],
)
@pytest.mark.parametrize("path", [("K", "px"), ("K", "E"), ("vtx_z",), ("n",)])
def test_numpy_field_is_to_numpy(select, path):
    ev = select(_events())
    want = ev
    for p in path:
        want = want[p]
    want = ak.to_numpy(want)
    got = numpy_field(ev, *path)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want)


def test_numpy_field_is_a_view_of_plain_columns():
    ev = _events()[3:20]
    assert np.shares_memory(numpy_field(ev, "K", "py"), ev.layout.content("K").content("py").data)


def test_numpy_field_missing_field_raises():
    with pytest.raises(Exception, match="nope"):
        numpy_field(_events(), "K", "nope")
