"""LHC side of the t-channel UV model (vector-like quarks Q ~ (3,2,1/6), D ~ (3,1,-1/3), real scalar φ).

Modules: :mod:`evtgen.vlq.uv` (UV parameters, widths, matched EFT coefficient),
:mod:`evtgen.vlq.kernels` (numba |M|², phase space, decays), :mod:`evtgen.vlq.generator`
(integration, unweighting, events), :mod:`evtgen.vlq.channel` (the ``pp2vlq`` channel class),
:mod:`evtgen.vlq.lhe` (LHE writer of these events).
"""
