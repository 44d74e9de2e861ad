"""Unweighted event generation for the decay channels (numba, parallel over events).

q2 is drawn from the exact dGamma/dq2 by accept-reject under a piecewise-constant
envelope (tabulated from the same kernel at 8 points per bin, 5% headroom; any point above the envelope is
counted and reported, so a too-tight envelope cannot pass silently). The decay angles
follow the physics README: isotropic phi phi (S-wave), sin^2 for nu nubar (P-wave),
cos^2 for the K* helicity angle (longitudinal K*). Each event has its own counter-based
random stream (``evtgen.rng``), so events do not depend on chunking or thread count.
"""

from __future__ import annotations

import functools

import numba as nb
import numpy as np

from . import jit_notice, rng
from .kinematics import (
    along,
    boost,
    boost_with,
    cos_from_cos2,
    direction_with_cos,
    gamma_factors,
    isotropic,
    sample_sin2,
    two_body_momentum,
    unit_circle,
)
from .spectra import dgamma_dq2

jit_notice.announce(__file__, "the decay samplers")

# topologies
TWO_BODY = 0  # P -> a X
SCALAR_PAIR = 1  # P -> a (phi phi), isotropic pair
NEUTRINO_PAIR = 2  # P -> a (nu nubar), sin^2 in the pair frame
KSTAR_PAIR = 3  # P -> K*(-> K pi) (phi phi)

# frames
REST = 0
BELLE2 = 1
NA62 = 2

N_ENVELOPE_BINS = 512
ENVELOPE_HEADROOM = 1.05


def build_envelope(kind: int, par: np.ndarray, lo: float, hi: float, nbins: int = N_ENVELOPE_BINS):
    """(edges, heights, alias_prob, alias_index) of a piecewise-constant envelope above
    dGamma/dq2 on [lo, hi]; the bin is drawn in O(1) with Walker's alias method.

    Cached per model point, so chunked productions build it once (treat as read-only)."""
    return _envelope(int(kind), np.asarray(par, dtype=np.float64).tobytes(), float(lo), float(hi), int(nbins))


@functools.lru_cache(maxsize=64)
def _envelope(kind: int, par_bytes: bytes, lo: float, hi: float, nbins: int):
    from .spectra import dgamma_dq2_array

    par = np.frombuffer(par_bytes, dtype=np.float64)
    edges = np.linspace(lo, hi, nbins + 1)
    sub = 8  # sample points per bin (edges included)
    f = dgamma_dq2_array(kind, np.linspace(lo, hi, nbins * sub + 1), par)
    heights = np.maximum(f[:-1].reshape(nbins, sub).max(axis=1), f[sub::sub]) * ENVELOPE_HEADROOM
    prob, alias = alias_table(heights * np.diff(edges))
    for a in (edges, heights, prob, alias):
        a.flags.writeable = False
    return edges, heights, prob, alias


def alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table: draw k uniformly, keep it with prob[k], else take alias[k]."""
    n = len(weights)
    scaled = np.asarray(weights, float) * n / np.sum(weights)
    prob = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s_, l_ = small.pop(), large.pop()
        prob[s_] = scaled[s_]
        alias[s_] = l_
        scaled[l_] -= 1.0 - scaled[s_]
        (small if scaled[l_] < 1.0 else large).append(l_)
    return prob, alias


@nb.njit(cache=True, inline="always")
def _sample_q2(kind, par, edges, heights, prob, alias, state):
    nbins = heights.shape[0]
    while True:
        u, state = rng.uniform(state)
        x = u * nbins
        b = min(int(x), nbins - 1)
        if x - b >= prob[b]:  # the fractional part is a fresh uniform for the alias test
            b = alias[b]
        u2, state = rng.uniform(state)
        q2 = edges[b] + (edges[b + 1] - edges[b]) * u2
        f = dgamma_dq2(kind, q2, par)
        u3, state = rng.uniform(state)
        if f > heights[b]:
            return q2, state, 1
        if u3 * heights[b] < f:
            return q2, state, 0


@nb.njit(cache=True, inline="always")
def _put(out, i, j, v):
    out[j, 0, i] = v[0]
    out[j, 1, i] = v[1]
    out[j, 2, i] = v[2]
    out[j, 3, i] = v[3]


@nb.njit(cache=True, parallel=True)
def generate_kernel(
    topology,
    kind,
    par,
    masses,
    edges,
    heights,
    prob,
    alias,
    frame,
    frame_par,
    key0,
    key1,
    first,
    n,
    out,
    q2_out,
    vtx_out,
    violations,
):
    """Fill ``out[n_particles, 4, n]`` (lab four-momenta), ``q2_out`` and ``vtx_out``.

    masses: [M_parent, m_a, m_inv, (m_K, m_pi for K*)]; particle order in ``out``:
    TWO_BODY [P, a, X]; SCALAR/NEUTRINO_PAIR [P, a, inv1, inv2]; KSTAR_PAIR [P, K*, K, pi, phi1, phi2].
    frame_par: BELLE2 [beta_cm(3), beam axis in cm (3), p_star, gamma_cm, (gamma_cm - 1)/beta_cm^2,
    two unit vectors orthogonal to the beam axis (6)]; NA62 [p0, rel_sigma, slope, zmin, zmax, ctau].
    """
    M = masses[0]
    ma = masses[1]
    minv = masses[2]
    for i in nb.prange(n):
        state = rng.event_state(key0, key1, first + i)
        # --- q2 ---
        if topology == TWO_BODY:
            q2 = minv * minv
        else:
            q2, state, bad = _sample_q2(kind, par, edges, heights, prob, alias, state)
            violations[i] = bad
        q2_out[i] = q2
        mq = np.sqrt(q2)
        # --- parent rest frame: a + Q ---
        n0, n1, n2, state = isotropic(state)
        p = two_body_momentum(M, ma, mq)
        a = along(n0, n1, n2, p, ma)
        qv = along(-n0, -n1, -n2, p, mq)
        qb0, qb1, qb2 = qv[0] / qv[3], qv[1] / qv[3], qv[2] / qv[3]
        # --- parent in the lab ---
        pb0, pb1, pb2 = 0.0, 0.0, 0.0
        parent = (0.0, 0.0, 0.0, M)
        if frame == BELLE2:
            cb0, cb1, cb2 = frame_par[0], frame_par[1], frame_par[2]
            ct, state = sample_sin2(state)  # Upsilon(4S) -> B B: P-wave about the beam axis
            cp, sp, state = unit_circle(state)
            st = np.sqrt(1.0 - ct * ct)
            d0 = ct * frame_par[3] + st * (cp * frame_par[9] + sp * frame_par[12])
            d1 = ct * frame_par[4] + st * (cp * frame_par[10] + sp * frame_par[13])
            d2 = ct * frame_par[5] + st * (cp * frame_par[11] + sp * frame_par[14])
            b_cm = along(d0, d1, d2, frame_par[6], M)
            parent = boost_with(b_cm[0], b_cm[1], b_cm[2], b_cm[3], cb0, cb1, cb2, frame_par[7], frame_par[8])
            pb0, pb1, pb2 = parent[0] / parent[3], parent[1] / parent[3], parent[2] / parent[3]
        elif frame == NA62:
            g, state = rng.normal(state)
            pk = frame_par[0] * (1.0 + frame_par[1] * g)
            slope = frame_par[2]
            nn = np.sqrt(1.0 + slope * slope)
            parent = along(slope / nn, 0.0, 1.0 / nn, pk, M)
            pb0, pb1, pb2 = parent[0] / parent[3], parent[1] / parent[3], parent[2] / parent[3]
            # decay z: exponential with decay length beta*gamma*c*tau, truncated to the fiducial volume
            length = pk / M * frame_par[5]
            zmin, zmax = frame_par[3], frame_par[4]
            u, state = rng.uniform(state)
            z = zmin - length * np.log(1.0 - u * (1.0 - np.exp(-(zmax - zmin) / length)))
            vtx_out[0, i] = slope * z
            vtx_out[1, i] = 0.0
            vtx_out[2, i] = z
        _put(out, i, 0, parent)
        pg, pg2 = gamma_factors(pb0, pb1, pb2)
        # --- daughters: decay in the parent frame, then boost to the lab ---
        if topology == KSTAR_PAIR:
            mk, mpi = masses[3], masses[4]
            # K* helicity angle: cos^2 about the K* direction in the parent frame
            u, state = rng.uniform(state)
            ct = cos_from_cos2(u)
            cp, sp, state = unit_circle(state)
            d0, d1, d2 = direction_with_cos(n0, n1, n2, ct, cp, sp)
            pk_star = two_body_momentum(ma, mk, mpi)
            ab0, ab1, ab2 = a[0] / a[3], a[1] / a[3], a[2] / a[3]
            kk = along(d0, d1, d2, pk_star, mk)
            pp = along(-d0, -d1, -d2, pk_star, mpi)
            kk = boost(kk[0], kk[1], kk[2], kk[3], ab0, ab1, ab2)
            pp = boost(pp[0], pp[1], pp[2], pp[3], ab0, ab1, ab2)
            _put(out, i, 2, boost(kk[0], kk[1], kk[2], kk[3], pb0, pb1, pb2))
            _put(out, i, 3, boost(pp[0], pp[1], pp[2], pp[3], pb0, pb1, pb2))
            j_inv = 4
        else:
            j_inv = 2
        _put(out, i, 1, boost_with(a[0], a[1], a[2], a[3], pb0, pb1, pb2, pg, pg2))
        if topology == TWO_BODY:
            _put(out, i, 2, boost_with(qv[0], qv[1], qv[2], qv[3], pb0, pb1, pb2, pg, pg2))
            continue
        # --- the invisible pair in its rest frame ---
        pf = two_body_momentum(mq, minv, minv)
        if topology == NEUTRINO_PAIR:
            # sin^2 about the pair direction in the parent frame: boost via the parent frame
            ct, state = sample_sin2(state)
            cp, sp, state = unit_circle(state)
            e0, e1, e2 = direction_with_cos(-n0, -n1, -n2, ct, cp, sp)
            f1 = along(e0, e1, e2, pf, minv)
            f2 = along(-e0, -e1, -e2, pf, minv)
            f1 = boost(f1[0], f1[1], f1[2], f1[3], qb0, qb1, qb2)
            f2 = boost(f2[0], f2[1], f2[2], f2[3], qb0, qb1, qb2)
            _put(out, i, j_inv, boost(f1[0], f1[1], f1[2], f1[3], pb0, pb1, pb2))
            _put(out, i, j_inv + 1, boost(f2[0], f2[1], f2[2], f2[3], pb0, pb1, pb2))
        else:
            # isotropic S-wave pair: any rest frame of the pair will do (a Wigner rotation
            # of an isotropic distribution is isotropic), so boost once with its lab velocity
            e0, e1, e2, state = isotropic(state)
            ql = boost_with(qv[0], qv[1], qv[2], qv[3], pb0, pb1, pb2, pg, pg2)
            lb0, lb1, lb2 = ql[0] / ql[3], ql[1] / ql[3], ql[2] / ql[3]
            lg, lg2 = gamma_factors(lb0, lb1, lb2)
            f1 = along(e0, e1, e2, pf, minv)
            f2 = along(-e0, -e1, -e2, pf, minv)
            _put(out, i, j_inv, boost_with(f1[0], f1[1], f1[2], f1[3], lb0, lb1, lb2, lg, lg2))
            _put(out, i, j_inv + 1, boost_with(f2[0], f2[1], f2[2], f2[3], lb0, lb1, lb2, lg, lg2))
