"""The ATLAS emulation's own log1p and asinh (detector.atlas.log1p_vec, asinh_vec: no libm call,
so the one-jet block loops vectorise) against mpmath, and the one-jet block passes that use them
against the event-by-event reference kernel (libm's log1p, exp and asinh).

Tolerances: log_vec and exp_vec (evtgen.kinematics) are within 2 ulp of the exact value; the
Goldberg form log(u) * x / (u - 1) adds ~2 roundings (measured max 2 ulp), asinh's argument
w = |x| + x^2 / (1 + sqrt(1 + x^2)) one more (measured max 3 ulp): 4 ulp is asserted. The kernel
outputs against the reference (libm): helper and bounds in tests/test_atlas_blocks.py (integers and
selection flags identical; p_T, eta 4 ulp; E_T^miss and its angles 4 eps times the jet p_T they
carry), here on 2e5 parton-level events of a fixed seed."""

from __future__ import annotations

import awkward as ak
import mpmath
import numba as nb
import numpy as np
from test_atlas_blocks import _run, assert_within_ulps_with_identical_selections

from detector import atlas


@nb.njit  # not cached: numba's cache would not see a change of the inlined atlas functions
def _apply(which, x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = atlas.log1p_vec(x[i]) if which == 0 else atlas.asinh_vec(x[i])
    return out


def _ulps(got, ref):
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def test_log1p_is_within_four_ulp_of_mpmath():
    mpmath.mp.prec = 120
    rg = np.random.default_rng(31)
    # the kernel's arguments rel^2 ~ 1e-3..1e-1, and from 1e-20 (u rounds to 1) to 1e3
    x = np.concatenate([rg.uniform(1e-3, 0.1, 4000), 10.0 ** rg.uniform(-20.0, 3.0, 8000), [0.0, 2.0**-53, 2.0**-52]])
    ref = np.array([float(mpmath.log1p(mpmath.mpf(float(v)))) for v in x])
    got = _apply(0, x)
    assert got[-3] == 0.0
    assert np.max(_ulps(got[:-3], ref[:-3])) <= 4.0
    assert np.max(_ulps(got[-2:], ref[-2:])) <= 4.0


def test_asinh_is_within_four_ulp_of_mpmath():
    mpmath.mp.prec = 120
    rg = np.random.default_rng(32)
    # the kernel's arguments p_z / p_T of selected jets (|eta| < 2.8: |t| < 8.2), tiny, and large (> 2^28)
    a = np.concatenate(
        [rg.uniform(0.0, 8.3, 4000), 10.0 ** rg.uniform(-20.0, 2.0, 4000), 10.0 ** rg.uniform(5, 300, 2000)]
    )
    x = np.concatenate([a, -a])
    ref = np.array([float(mpmath.asinh(mpmath.mpf(float(v)))) for v in x])
    assert np.max(_ulps(_apply(1, x), ref)) <= 4.0
    assert _apply(1, np.array([0.0]))[0] == 0.0


def test_every_selection_of_two_hundred_thousand_parton_events_equals_the_reference():
    n = 200_000
    g = np.random.default_rng(2026)
    pt, eta, phi = 30 + g.exponential(300, n), g.uniform(-5.0, 5.0, n), g.uniform(-np.pi, np.pi, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2)
    jet = ak.zip({"px": px, "py": py, "pz": pz, "E": e}, with_name="Momentum4D")
    ev = ak.zip({"j": jet, "shat": np.full(n, 1e6)}, depth_limit=1)
    card = atlas.packaged_card()
    cols = list(atlas.jets_from_events(ev, card))
    par = atlas.parameters(card)[0]
    got = _run(atlas.emulate_kernel, cols, par, 0, 11)
    ref = _run(atlas.reference_kernel, cols, par, 0, 11)
    assert_within_ulps_with_identical_selections(got, ref, pt)
    assert 0.05 < got[2][1].mean() < 0.95  # both outcomes of the signal-region selection occur
