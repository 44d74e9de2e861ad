"""Azimuths from the two 32-bit halves of one 64-bit word (rng.open_unit_halves) and the
directly drawn directions of the sampler (no accept-reject since 2026-12).

Tolerances: the chi2 tests use fixed seeds and ask for a p-value above 1e-3 (a correct sampler
fails one of them with probability 1e-3); they have power against the breakages named in
each docstring (checked by hand: a half-range azimuth, cos theta on [0, 1], an always positive K*
helicity cosine, the two halves taken from the same bits)."""

from __future__ import annotations

import numba as nb
import numpy as np
import vector
from scipy import stats

import evtgen
from evtgen import rng, sampler

N = 200_000


@nb.njit(cache=True)
def _halves_of_events(key0, key1, n):
    out = np.empty((n, 2))
    for i in range(n):
        s0 = rng.event_state(key0, key1, i)
        a, b = rng.open_unit_halves(sampler.word_at(s0, sampler.STEP_AZIMUTHS, 0))
        out[i, 0] = a
        out[i, 1] = b
    return out


def test_halves_are_exact_and_inside_the_open_interval():
    """(top 32 bits + 1/2) 2^-32 and (low 32 bits + 1/2) 2^-32, exactly; never 0 or 1."""
    for z in (0, 1, 2**32 - 1, 2**32, 2**64 - 1, 0x9E3779B97F4A7C15):
        hi, lo = rng.open_unit_halves(np.uint64(z))
        assert hi == ((z >> 32) + 0.5) / 2**32
        assert lo == ((z & 0xFFFFFFFF) + 0.5) / 2**32
        assert 0.0 < hi < 1.0 and 0.0 < lo < 1.0


def test_word_at_is_the_word_behind_uniform_at():
    """uniform_at is the 53-bit uniform of the same word whose halves give the azimuths."""
    key = rng.derive_key(7)
    s0 = rng.event_state(key[0], key[1], 3)
    for step, k in ((0, 0), (0, 5), (7, 1), (2, 2)):
        assert sampler.uniform_at(s0, step, k) == rng.open_unit(sampler.word_at(s0, step, k))


def test_the_two_halves_are_uniform_and_independent():
    """Each half flat in 100 bins and the pair flat in 20 x 20 bins (taking both halves from
    the same bits fails the joint test)."""
    key = rng.derive_key(11)
    u = _halves_of_events(key[0], key[1], N)
    for j in (0, 1):
        counts, _ = np.histogram(u[:, j], bins=100, range=(0.0, 1.0))
        assert stats.chisquare(counts).pvalue > 1e-3
    joint, _, _ = np.histogram2d(u[:, 0], u[:, 1], bins=20, range=[[0, 1], [0, 1]])
    assert stats.chisquare(joint.ravel()).pvalue > 1e-3


def _flat_pvalue(x, lo, hi, bins=40):
    counts, _ = np.histogram(x, bins=bins, range=(lo, hi))
    return stats.chisquare(counts).pvalue


def test_decay_directions_are_isotropic():
    """In the parent rest frame the K direction (decay axis) and the phi1 direction in the phi phi
    frame are isotropic: cos theta flat on [-1, 1], azimuth flat on [-pi, pi], and (cos theta,
    azimuth) flat in 10 x 10 bins."""
    ev = evtgen.generate("b2kphiphi", N, mphi=1.0, seed=21, frame="rest")
    k = ev.K
    ck = np.asarray(k.pz / k.p)
    fk = np.asarray(np.arctan2(k.py, k.px))
    pair = ev.phi1 + ev.phi2
    d = ev.phi1.boostCM_of_p4(pair)
    cd = np.asarray(d.pz / d.p)
    fd = np.asarray(np.arctan2(d.py, d.px))
    for c, f in ((ck, fk), (cd, fd)):
        assert _flat_pvalue(c, -1.0, 1.0) > 1e-3
        assert _flat_pvalue(f, -np.pi, np.pi) > 1e-3
        joint, _, _ = np.histogram2d(c, f, bins=10, range=[[-1, 1], [-np.pi, np.pi]])
        assert stats.chisquare(joint.ravel()).pvalue > 1e-3
    # the axis and the pair direction are independent: cos of the angle between them is flat
    ca = np.asarray(k.px) * np.asarray(d.px) + np.asarray(k.py) * np.asarray(d.py) + np.asarray(k.pz) * np.asarray(d.pz)
    ca = ca / (np.asarray(k.p) * np.asarray(d.p))
    assert _flat_pvalue(ca, -1.0, 1.0) > 1e-3


def test_belle2_b_azimuth_is_flat_about_the_beam_axis():
    """The B direction in the Upsilon(4S) frame: azimuth about the beam axis flat (its half of
    word 0), cos theta ~ sin^2 (the median of three)."""
    from evtgen.frames import belle2_beams

    beams = belle2_beams()
    ev = evtgen.generate("b2kx", N, mx=1.0, seed=4)
    b = ev.B.boost_beta3(vector.obj(x=-beams.beta_cm[0], y=-beams.beta_cm[1], z=-beams.beta_cm[2]))
    axis = beams.beam_axis_cm()
    e1 = np.cross([0.0, 1.0, 0.0], axis)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    p = np.stack([np.asarray(b.px), np.asarray(b.py), np.asarray(b.pz)], axis=1)
    c = p @ axis / np.linalg.norm(p, axis=1)
    f = np.arctan2(p @ e2, p @ e1)
    assert _flat_pvalue(f, -np.pi, np.pi) > 1e-3
    counts, edges = np.histogram(c, bins=20, range=(-1.0, 1.0))
    cdf = 0.75 * (edges - edges**3 / 3.0)
    expect = np.diff(cdf) / (cdf[-1] - cdf[0]) * counts.sum()
    assert stats.chisquare(counts, expect).pvalue > 1e-3


def test_kstar_helicity_sign_is_a_fair_coin():
    """The sign of the K* helicity cosine is the spare low bit of a word: cos theta symmetric
    (half of the events on each side within 4 sigma; always one sign fails), and |cos| ~ 3 x^2."""
    ev = evtgen.generate("b2kstarphiphi", 40_000, mphi=0.5, seed=13, frame="rest")
    d, a = ev.K.boostCM_of_p4(ev.Kstar), ev.Kstar  # the K in the K* frame, the K* direction
    c = np.asarray((d.px * a.px + d.py * a.py + d.pz * a.pz) / (d.p * a.p))
    n = c.size
    assert abs(np.count_nonzero(c > 0) - n / 2) < 4 * np.sqrt(n / 4)
    counts, edges = np.histogram(np.abs(c), bins=20, range=(0.0, 1.0))
    expect = np.diff(edges**3) * n
    assert stats.chisquare(counts, expect).pvalue > 1e-3
