"""The block passes of the ATLAS emulation (one jet per event: detector.atlas._block_one_jet)
against the event-by-event reference kernel, on parton-level events that hit every branch (|eta|
on each threshold, p_T = 0, E = 0, zero and infinite E_T^miss components, vetoed events): every
integer output and selection flag identical, floats within 4 ulp (the block passes smear with
log1p_vec, exp_vec and asinh_vec, the reference with libm: tolerances in tests/test_atlas_fastmath.py);
and the same outputs bit for bit whatever the block boundaries."""

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


def _ulps(got, ref):
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def assert_within_ulps_with_identical_selections(got, ref, jet_pt_true, ulps: float = 4.0) -> float:
    """Kernel outputs (flt, ints, flags, jets) against the reference's: integers and flags equal,
    the same non-finite and zero entries; jet p_T and eta within ``ulps`` ulp; E_T^miss and its
    angles (met_phi, min_dphi) carry the scale's few-ulp change times the jet p_T (the E_T^miss
    components are differences x - (s - 1) p_x): |d met| <= ulps eps (met + p_T^jet),
    |d phi| <= ulps eps (pi + p_T^jet / met). Returns the largest deviation in units of its bound x ulps."""
    eps = np.finfo(np.float64).eps
    flt, ints, flags, jets = got
    rflt, rints, rflags, rjets = ref
    np.testing.assert_array_equal(ints, rints)
    np.testing.assert_array_equal(flags, rflags)
    ptj = np.where(np.isfinite(jet_pt_true), jet_pt_true, 0.0)
    met = rflt[0]
    unit = {0: eps * (met + ptj), 1: eps * (np.pi + ptj / met), 2: eps * met, 3: eps * (np.pi + ptj / met)}
    pairs = [(f"flt{r}", flt[r], rflt[r], unit[r]) for r in range(4)]
    pairs += [(f"jets{r},{q}", jets[r, q], rjets[r, q], None) for r in range(4) for q in range(jets.shape[1])]
    worst = 0.0
    for name, a, b, u in pairs:
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b), err_msg=name)
        np.testing.assert_array_equal(a == 0.0, b == 0.0, err_msg=name)
        fin = np.isfinite(b) & (b != 0.0) & (np.isfinite(u) if u is not None else True)
        dev = np.abs(a[fin] - b[fin]) / (u[fin] if u is not None else np.spacing(np.abs(b[fin])))
        worst = max(worst, float(np.max(dev, initial=0.0)))
        assert np.max(dev, initial=0.0) <= ulps, name
    return worst


def test_one_jet_block_passes_equal_the_event_by_event_reference_to_a_few_ulp():
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
    assert_within_ulps_with_identical_selections(got, ref, np.hypot(cols[0][:, 0], cols[1][:, 0]))
    flt, ints, flags, jets = got
    # the branches are exercised: selected and rejected events, several E_T^miss bins, vetoes, no-jet events
    assert 0.05 < flags[1].mean() < 0.95 and len(np.unique(ints[1])) > 8
    assert np.any(flags[0] & ~flags[1]) and np.any(ints[0] == 0) and np.any(jets[0, 0] == 0.0)
    # the fast functions are used: some floats differ from libm's (else the ulp check guards nothing)
    assert np.any(flt[0] != ref[0][0]) and np.any(jets[1, 0] != ref[3][1, 0])
    # simulate's parton-level columns (the jet's own px, py and MET sign -1) give the kernel's events
    sim = atlas.simulate(ev, seed=5, first=777)
    flt, ints, flags, jets = _run(atlas.emulate_kernel, atlas.jets_from_events(ev, card), par, 777, 5)
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
