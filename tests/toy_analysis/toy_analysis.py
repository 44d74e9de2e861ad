"""A toy analysis written as a user would: one module + one data file (``toy.yaml``), no
package file touched. Generate -> bin (boost-histogram) -> the package's statistics engine:
B -> K(*) phi phi events in the rest frame, the fraction in a q2 window, a one-bin Poisson
counting experiment with a Gaussian-constrained background."""

from __future__ import annotations

import boost_histogram as bh
import numpy as np

import evtgen
from analyses import result, stats
from evtgen.model import ModelPoint


def recast(point: ModelPoint, *, data: dict, n_events: int | None = None) -> result.Result:
    """The toy limit on the channel's coupling at ``point``."""
    sr = data["signal_region"]
    events = evtgen.generate(
        point.channel, n_events or 500, **point.masses, couplings=dict(point.couplings), seed=point.seed, frame="rest"
    )
    h = bh.Histogram(bh.axis.Regular(1, sr["q2_min"], sr["q2_max"]))
    h.fill(np.asarray(events.q2_true))
    eff = float(h.sum()) / len(events)
    br = evtgen.rate(point.channel, **point.masses, couplings=dict(point.couplings)).br
    signal = data["n_parents"] * br * eff
    lik = stats.PoissonCounts([data["observed"]], [data["background"]], [data["background_err"]], [signal])
    parameter = next(iter(point.couplings))
    res = result.from_fit(
        lik,
        stats.fit(lik, mu_scale=1.0 / max(signal, 1e-300)),
        analysis="toy",
        point=point,
        parameter=parameter,
        reference=point.couplings[parameter],
        scaling="quadratic",
        extras={"efficiency": eff, "signal_at_point": signal},
    )
    res.histograms = {"signal_q2": h}
    return res
