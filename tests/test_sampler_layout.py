"""The blocked, fixed-offset sampler: its spectrum kernels equal the form-factor module's,
are finite everywhere, and events do not depend on where the blocks start."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evtgen import formfactors as FF
from evtgen import rng, sampler, spectra
from evtgen.decays import DECAY_CHANNELS

CASES = [("b2kphiphi", 1.0), ("b2kstarphiphi", 0.8), ("k2piphiphi", 0.08), ("b2knunu", None), ("k2pinunu", None)]


@pytest.mark.parametrize("name,mass", CASES)
def test_spectrum_kernels_equal_the_formfactor_module(name, mass):
    """dGamma/dq2 reads the form-factor parameters in place; it must equal the README formula
    evaluated with evtgen.formfactors (rel 1e-13: the same operations, only regrouped)."""
    ch = DECAY_CHANNELS[name]
    par = ch.spectrum_par(mass or 0.0, ch.resolve_couplings(None))
    lo, hi = ch.q2_limits(mass)
    M, m, minv, norm = par[:4]
    ff = par[spectra.FF_OFFSET :]
    for q2 in np.linspace(lo, hi, 13)[1:-1]:
        lam = (M * M - m * m - q2) ** 2 - 4 * m * m * q2
        beta = math.sqrt(1 - 4 * minv * minv / q2)
        if ch.kind == spectra.SCALAR_BSZ:
            ref = norm * FF.bsz(q2, ff) ** 2 * math.sqrt(lam) * beta
        elif ch.kind == spectra.PSEUDO_BSZ:
            ref = norm * FF.bsz(q2, ff) ** 2 * lam**1.5 * beta
        elif ch.kind == spectra.SCALAR_KPI:
            ref = norm * FF.kpi_f0(q2, ff) ** 2 * math.sqrt(lam) * beta
        elif ch.kind == spectra.VECTOR_BSZ:
            ref = norm * FF.bsz(q2, ff) ** 2 * lam**1.5
        else:
            x = q2 / ff[0]
            ref = norm * (1 + ff[1] * x + 0.5 * ff[2] * x * x) ** 2 * lam**1.5
        assert spectra.dgamma_dq2(ch.kind, q2, par) == pytest.approx(ref, rel=1e-13, abs=0)


@pytest.mark.parametrize("name,mass", CASES)
def test_spectrum_is_zero_and_finite_outside_the_range(name, mass):
    """The branch-free kernels clamp q2 internally: no NaN, inf or exception outside the range."""
    ch = DECAY_CHANNELS[name]
    par = ch.spectrum_par(mass or 0.0, ch.resolve_couplings(None))
    lo, hi = ch.q2_limits(mass)
    for q2 in (-1.0, 0.0, lo, hi, hi + 1e-9, 2 * hi + 50.0):
        assert spectra.dgamma_dq2(ch.kind, q2, par) == 0.0
    inside = spectra.dgamma_dq2_array(ch.kind, np.linspace(lo, hi, 101)[1:-1], par)
    assert np.all(np.isfinite(inside)) and np.all(inside > 0.0)


@pytest.mark.parametrize("name,mass", [("b2kphiphi", 1.0), ("k2piphiphi", 0.1), ("b2kx", 1.0), ("b2knunu", None)])
@pytest.mark.parametrize("frame", ["lab", "rest"])
def test_events_do_not_depend_on_block_boundaries(name, mass, frame):
    """Blocks of sampler.BLOCK events are cut from the start of each call: an event must be the
    same whether it sits at the start, the middle or the end of a block, or in the short tail."""
    ch = DECAY_CHANNELS[name]
    key = rng.derive_key(99)
    b = sampler.BLOCK
    whole = ch.generate_block(0, 3 * b + 17, key=key, mass=mass, couplings=None, frame=frame)
    cuts = (0, 5, b - 1, b + 1, 2 * b + 3, 3 * b + 17)
    parts = [
        ch.generate_block(a, e - a, key=key, mass=mass, couplings=None, frame=frame) for a, e in zip(cuts, cuts[1:])
    ]
    for k in whole:
        assert np.array_equal(whole[k], np.concatenate([p[k] for p in parts])), k


def test_steps_use_their_own_counters():
    """uniform_at(s0, step, k) is the uniform of state s0 + (step 2^32 + k) gamma of the
    SplitMix64 stream, i.e. rng.uniform after that many increments."""
    key = rng.derive_key(5)
    s0 = rng.event_state(key[0], key[1], 12)
    state = s0
    seq = []
    for _ in range(4):
        u, state = rng.uniform(state)
        seq.append(u)
    assert [sampler.uniform_at(s0, 0, k) for k in range(4)] == seq
    far = sampler.uniform_at(s0, 3, 1)
    gamma = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        st = np.uint64(s0) + np.uint64((3 << 32) + 1) * gamma
    assert far == rng.uniform(st)[0]
