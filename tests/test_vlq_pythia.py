"""σ(pp → Q Q̄) of the UV-model generator against Pythia 8's heavy-quark pair production.

Pythia: ``FourthTop:gg2tPrimetPrimebar`` + ``FourthTop:qqbar2tPrimetPrimebar`` with the t' mass
8:m0 = M (a fourth-generation top has exactly the QCD couplings of a colour-triplet Dirac fermion;
the ordinary top is not used because Pythia's alpha_s thresholds follow 6:m0), 13 TeV, NNPDF2.3
QCD+QED LO (its default), 1-loop alpha_s(M_Z) = 0.130 (its default), fixed mass (no Breit–Wigner),
its 2→2 scales μ_F² = min(m_T3², m_T4²), μ_R² = m_T3 m_T4 = our ``scale='pythia'``.
Ours: the ``UU`` group at zero Yukawas = QCD pair production of the up component U of Q (one species).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys

import pytest

from evtgen.vlq.channel import PP2VLQ

pythia8mc = pytest.importorskip("pythia8mc", reason="pythia8mc (Pythia 8) is not installed")

M = 1500.0


@contextlib.contextmanager
def _quiet():
    """Send the C++ stdout (Pythia's banner) to /dev/null."""
    sys.stdout.flush()
    fd = os.dup(1)
    try:
        with open(os.devnull, "w") as dn:
            os.dup2(dn.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(fd, 1)
        os.close(fd)


def _pythia_sigma(n: int) -> tuple[float, float]:
    py = pythia8mc.Pythia("", False)
    for s in [
        "FourthTop:gg2tPrimetPrimebar = on",
        "FourthTop:qqbar2tPrimetPrimebar = on",
        "Beams:eCM = 13000",
        f"8:m0 = {M}",
        "PhaseSpace:useBreitWigners = off",
        "PartonLevel:all = off",
        "HadronLevel:all = off",
        "ProcessLevel:resonanceDecays = off",
        "Random:setSeed = on",
        "Random:seed = 4712",
        "Next:numberCount = 0",
        "Next:numberShowEvent = 0",
        "Next:numberShowProcess = 0",
        "Next:numberShowInfo = 0",
    ]:
        assert py.readString(s), s
    with _quiet():
        assert py.init()
        py.nextBatch(n)
    info = py.infoPython()
    return info.sigmaGen() * 1e9, info.sigmaErr() * 1e9


def test_qqbar_pair_cross_section_matches_pythia():
    """Tolerance 2% (the issue's requirement): Pythia's MC error with 20k events is ~0.3%, ours
    ~0.1%; the rest is the PDF interpolation (Pythia's cubic LHAGrid1 vs our LHAPDF scheme,
    ≤ 0.3% per parton at these x, test_pdf.py)."""
    sp, ep = _pythia_sigma(20000)
    r = PP2VLQ().rate(
        mass=1.0, couplings={"mQ": M, "mD": M}, options={"groups": "UU", "scale": "pythia", "vegas_points": 20000}
    )
    ours = r.groups["UU"]["sigma_pb"]
    err = r.groups["UU"]["sigma_err_pb"]
    assert abs(ours - sp) < 0.02 * sp, (ours, err, sp, ep)
    # and within the combined MC errors plus the 1% PDF-interpolation allowance
    assert abs(ours - sp) < 4 * math.hypot(ep, err) + 0.01 * sp, (ours, err, sp, ep)
