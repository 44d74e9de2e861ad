"""Recast of BaBar's B -> K(*) nu nubar search with hadronic tagging (471e6 BBbar, arXiv:1303.7465,
PRD 87 (2013) 112005) for B -> K* phi phi (|C_P^sb|, channel ``b2kstarphiphi``) and B -> K phi phi
(|C_S^sb|, ``b2kphiphi``). Registered as ``babar2013`` by ``analyses/data/babar_bknunu_2013.yaml``;
entry point :func:`recast`.

Same method as :mod:`analyses.belle_bhnunu_2017` (whose public functions this module uses): the
published 90% CL limit of the chosen mode (B0 -> K*0, B+ -> K*+, combined K*, B+ -> K+, B0 -> K0,
combined K) as an :class:`analyses.stats.GaussianLimit` on the total B -> K(*) phi phi branching
ratio, with a FLAT efficiency in s_B = q2/m_B^2 by default (BaBar's efficiencies versus s_B were not
found in any source the project could read: see the data file's ``efficiency.searched_not_found``).
Option ``efficiency`` folds a DERIVED proxy instead (the q2 shape of Belle II's released hadronic-tag
or inclusive-tag efficiency map); every result lists the three readings in
``extras["efficiency_bracket"]``; option ``efficiency_ratio`` rescales whichever is used.
"""

from __future__ import annotations

from typing import Any

from evtgen.model import ModelPoint

from .belle_bhnunu_2017 import plot as _plot_limits
from .belle_bhnunu_2017 import published_limit_recast
from .result import Result

ANALYSIS = "babar2013"


def recast(point: ModelPoint, *, data: dict[str, Any], **options: Any) -> Result:
    """BaBar 2013 (hadronic tag) recast at one model point; options ``mode``, ``method``,
    ``efficiency_ratio`` (see the data file's header)."""
    return published_limit_recast(point, data=data, analysis=ANALYSIS, **options)


def plot(result: Result, path, *, point: ModelPoint | None = None, **options: Any):
    """The limits of every published BaBar mode of the result's channel versus m_phi, the
    result's point marked (``phiphi recast babar2013 ... --plot FILE.png``)."""
    return _plot_limits(result, path, point=point, **options)
