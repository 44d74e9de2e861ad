"""The (m_Q, y) limit plane of the ATLAS monojet recast of the UV model at tiny statistics (the
code path of docs/figures/uv_limit_plane.png: generation, ATLAS emulation, EM0-EM12 CLs, figure)."""

from __future__ import annotations

import math

import numpy as np

from analyses.atlas_uv_figures import limit_plane, plot_limit_plane

TINY = {"vegas_points": 6000, "vegas_iterations": 2, "vegas_warmup": 4}  # a grid good enough to unweight 2->3


def test_limit_plane_tiny(tmp_path):
    p = limit_plane([2000.0, 3000.0], [1.0], n_events=200, options=TINY)
    mu = np.array(p["mu95_obs"])
    sig = np.array(p["sigma_pb"])
    assert mu.shape == (2, 1) and np.all(np.isfinite(mu)) and np.all(mu > 0)
    assert np.all(np.isfinite(np.array(p["mu95_exp"])))
    # sigma falls steeply with M (2 -> 3 TeV: x 20 in the full run); the limit on mu follows
    assert sig[0, 0] > 5 * sig[1, 0] and mu[0, 0] < mu[1, 0]
    assert math.isclose(sum(p["families_pb"][0][0].values()), sig[0, 0], rel_tol=1e-12)
    # the figure needs a 2 x 2 grid for its contours: this plane extended by a synthetic y = 2 column
    # (mu / 4, sigma x 4; only the plotting code is under test here)
    p2 = dict(p, yukawas=[1.0, 2.0])
    for k, f in (("mu95_obs", 0.25), ("mu95_exp", 0.25), ("sigma_pb", 4.0)):
        p2[k] = [[row[0], row[0] * f] for row in p[k]]
    out = tmp_path / "plane.png"
    plot_limit_plane(out, p2)
    assert out.stat().st_size > 10_000
