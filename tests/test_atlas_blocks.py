"""The block passes of the ATLAS emulation (one jet per event: detector.atlas._block_one_jet)
against the event-by-event reference kernel: the same outputs bit for bit, on parton-level
events that hit every branch (|eta| on each threshold, p_T = 0, E = 0, zero and infinite
E_T^miss components, vetoed events), whatever the block boundaries."""

from __future__ import annotations

import awkward as ak
import numpy as np

from detector import atlas


def _edge_partons(n: int, seed: int) -> ak.Array:
    g = np.random.default_rng(seed)
    pt, eta, phi = 20 + g.exponential(200, n), g.uniform(-5.5, 5.5, n), g.uniform(-np.pi, np.pi, n)
    # on the |eta| thresholds (calorimeter 4.9, selection 2.8, resolution bins 1.7/3.2, leading jet 2.4)
    eta[::7] = g.choice([4.9, -4.9, 2.8, -2.8, 1.7, -1.7, 3.2, -3.2, 2.4, 0.0], size=len(eta[::7]))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    px[::101], py[::101] = 0.0, 0.0  # p_T = 0 (eta = 0 by convention, phi from atan2(0, 0))
    px[5::103], py[5::103] = np.inf, 1.0  # non-finite components (the atan2 fallback)
    px[7::103], py[7::103] = -np.inf, np.inf
    e = np.sqrt(px**2 + py**2 + pz**2)
    e[::211] = 0.0  # no jet
    j = ak.zip({"px": px, "py": py, "pz": pz, "E": e}, with_name="Momentum4D")
    return ak.zip({"j": j, "shat": np.full(n, 1e6)}, depth_limit=1)


def _run(kernel, cols, par, first, seed):
    px = cols[0]
    n = px.shape[0]
    res, edges = atlas.parameters(atlas.packaged_card())[1:]
    key = atlas.detector_key(seed)
    out = (np.empty((4, n)), np.empty((2, n), np.int32), np.empty((2, n), np.bool_), np.empty((4, 1, n)))
    kernel(*cols, par, res, edges, key[0], key[1], first, *out)
    return out


def test_one_jet_block_passes_equal_the_event_by_event_reference():
    n = 5 * atlas._BLOCK + 123
    ev = _edge_partons(n, 21)
    card = atlas.packaged_card()
    cols = list(atlas.jets_from_events(ev, card))
    veto = np.zeros(n, bool)
    veto[::13] = True
    cols[6] = veto
    cols[4][3::97], cols[5][3::97] = 0.0, 0.0  # true MET (0, 0) with a soft term
    par = atlas.parameters(card)[0]
    got = _run(atlas.emulate_kernel, cols, par, 777, 5)
    ref = _run(atlas.reference_kernel, cols, par, 777, 5)
    for a, b, name in zip(got, ref, ("flt", "ints", "flags", "jets")):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8), err_msg=name)  # bits, NaNs included
    flt, ints, flags, jets = got
    # the branches are exercised: selected and rejected events, several E_T^miss bins, vetoes, no-jet events
    assert 0.05 < flags[1].mean() < 0.95 and len(np.unique(ints[1])) > 8
    assert np.any(flags[0] & ~flags[1]) and np.any(ints[0] == 0) and np.any(jets[0, 0] == 0.0)
    # simulate's parton-level columns (the jet's own px, py and MET sign -1) give the reference's events
    sim = atlas.simulate(ev, seed=5, first=777)
    flt, ints, flags, jets = _run(atlas.reference_kernel, atlas.jets_from_events(ev, card), par, 777, 5)
    for name, want in (("met", flt[0]), ("met_phi", flt[1]), ("min_dphi", flt[3]), ("em_bin", ints[1]),
                       ("jet1_pt", jets[0, 0]), ("jet1_eta", jets[1, 0]), ("jet1_phi", jets[2, 0])):  # fmt: skip
        np.testing.assert_array_equal(ak.to_numpy(sim[name]), want, err_msg=name)


def test_one_jet_output_does_not_depend_on_blocks():
    ev = _edge_partons(3 * atlas._BLOCK, 8)
    whole = atlas.simulate(ev, seed=2)
    cut = atlas._BLOCK + 17
    parts = ak.concatenate([atlas.simulate(ev[:cut], seed=2), atlas.simulate(ev[cut:], seed=2, first=cut)])
    for f in whole.fields:
        np.testing.assert_array_equal(ak.to_numpy(parts[f]), ak.to_numpy(whole[f]), err_msg=f)
