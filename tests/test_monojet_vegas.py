"""A cross section needs only VEGAS: the unweighting cell scan is done on the first request for events."""

from __future__ import annotations

import numpy as np
import pytest

from evtgen.errors import PhiphiError
from evtgen.monojet import generator as G
from evtgen.monojet.channel import PP2JS, _integrate_cached, _vegas_cached


def test_rate_without_cell_scan_and_same_numbers():
    ch = PP2JS()
    cpl = {"CG": 1e-5}
    opts = {"vegas_points": 20000, "vegas_warmup_points": 20000, "vegas_wmax_points": 200000}  # small: speed
    before = _integrate_cached.cache_info().misses
    r = ch.rate(mass=321.0, couplings=cpl, options=opts)
    assert _integrate_cached.cache_info().misses == before  # no scan for a rate
    setup, v = _vegas_cached(*ch._key(321.0, cpl, opts))
    assert v.cell_max is None
    with pytest.raises(PhiphiError, match="no unweighting tables"):
        G.generate(setup, v, 10, np.array([1, 2], dtype=np.uint64))
    ch.generate(100, mass=321.0, couplings=cpl, seed=1, options=opts)
    setup2, full = ch._prepare(321.0, cpl, opts)
    assert setup2 is setup and full.cell_max is not None and full.wmax > 0
    # the same VEGAS result, whichever is asked first (bit-identical: same points)
    assert full.sigma_pb == r.sigma_pb and full.sigma_err_pb == r.sigma_err_pb
    np.testing.assert_array_equal(full.edges, v.edges)
    assert ch.rate(mass=321.0, couplings=cpl, options=opts).as_dict() == r.as_dict()
