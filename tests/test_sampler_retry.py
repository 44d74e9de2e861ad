"""The q2 retries of rejected tries run as a gathered block (issue 14): each event must still
take try t from its own fixed counters (words 2t and 2t + 1 of STEP_Q2) and keep the first
accepted try, exactly as a one-event-at-a-time accept-reject written here from the stream layout."""

from __future__ import annotations

import numpy as np
import pytest

from evtgen import rng, sampler, spectra
from evtgen.decays import DECAY_CHANNELS

CASES = [("b2kstarphiphi", 1.0), ("k2piphiphi", 0.1), ("k2pinunu", None)]
N_EVENTS = 3000  # ~5% of them retry (q2 acceptance ~0.95): ~150 retried events, some twice


def reference_q2(s0: np.uint64, kind: int, par: np.ndarray, edges: np.ndarray, heights: np.ndarray):
    """(q2, tries) of one event by the sequential accept-reject over tries t = 0, 1, ..."""
    t = 0
    while True:
        b, f = sampler.q2_bin(sampler.uniform_at(s0, sampler.STEP_Q2, 2 * t), heights.shape[0])
        b = int(b)
        q2 = edges[b] + (edges[b + 1] - edges[b]) * f
        h = heights[b]
        g = spectra.dgamma_dq2(kind, q2, par)
        assert g <= h, "a q2 point above the envelope in the reference"
        if sampler.uniform_at(s0, sampler.STEP_Q2, 2 * t + 1) * h < g:
            return q2, t + 1
        t += 1


@pytest.mark.parametrize("name,mass", CASES)
def test_retried_events_keep_their_own_tries(name, mass):
    """Bit-identical q2 for every event, and retried events (more than one try) among them, so
    the gathered retry pass (indices, stream states and the try counter) is really exercised."""
    ch = DECAY_CHANNELS[name]
    key = rng.derive_key(2024)
    cols = ch.generate_block(0, N_EVENTS, key=key, mass=mass, couplings=None, frame="rest")
    par = ch.spectrum_par(ch.check_mass(mass), ch.resolve_couplings(None))
    lo, hi = ch.q2_limits(mass)
    edges, heights = sampler.build_envelope(ch.kind, par, lo, hi)
    tries = np.empty(N_EVENTS, dtype=np.int64)
    ref = np.empty(N_EVENTS)
    for i in range(N_EVENTS):
        s0 = np.uint64(rng.event_state(np.uint64(key[0]), np.uint64(key[1]), np.uint64(i)))
        ref[i], tries[i] = reference_q2(s0, ch.kind, par, edges, heights)
    assert np.count_nonzero(tries > 1) > 50
    assert np.count_nonzero(tries > 2) > 0
    np.testing.assert_array_equal(cols["q2_true"], ref)
