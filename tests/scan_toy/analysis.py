"""A tiny deterministic "analysis" for the scan tests (importable by Dask worker processes).

generate -> bin -> statistics like a real recast, but small: B+ -> K+ phi phi events
(evtgen), the efficiency of a q2 window, and a one-bin Poisson counting experiment
(n_obs = 5 over b = 3.0) giving a best fit and a 95% CL upper limit on the branching
ratio. The result depends on the point's seed through the efficiency, so the scan tests
can tell whether each point got its own, worker-independent seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import optimize, stats

import evtgen

N_OBS, BACKGROUND, N_PARENTS = 5, 3.0, 1.0e9
Q2_WINDOW = (4.0, 16.0)  # GeV^2


def recast(
    *, channel=None, mphi=None, mx=None, couplings=None, cutoff=None, seed=1, n_events=None, plot=None, **_: Any
) -> dict[str, Any]:
    channel = channel or "b2kphiphi"
    events = evtgen.generate(channel, n_events or 500, mphi=mphi, couplings=couplings, seed=seed, frame="rest")
    q2 = np.asarray(events.q2_true)
    counts, _ = np.histogram(q2, bins=4, range=Q2_WINDOW)
    eff = counts.sum() / len(q2)
    br = evtgen.rate(channel, mphi=mphi, couplings=couplings).br
    s_per_br = N_PARENTS * eff
    # 95% CL upper limit on s: P(n <= n_obs | s + b) = 0.05
    s_up = optimize.brentq(lambda s: stats.poisson.cdf(N_OBS, s + BACKGROUND) - 0.05, 0.0, 100.0)
    best = max(N_OBS - BACKGROUND, 0.0) / s_per_br
    return {
        "analysis": "toy",
        "channel": channel,
        "mphi": mphi,
        "parameter": "br",
        "efficiency": eff,
        "counts": counts.tolist(),
        "best_fit": best,
        "interval_68": [0.0, best * 2.0],
        "upper_limit_95": s_up / s_per_br,
        "br_model": br,
        "excluded": bool(br > s_up / s_per_br),
    }
