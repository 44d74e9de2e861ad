"""LHAPDF6 grid reader and LO alpha_s against Pythia 8's own evaluation of the same grids."""

from __future__ import annotations

import numpy as np
import pytest

from evtgen.errors import PhiphiError
from evtgen.pdf import find_member_file, load_pdf, parse_lhagrid1, pythia_pdfdata_dir

pythia8mc = pytest.importorskip(
    "pythia8mc", reason="pythia8mc (Pythia 8) is not installed: no reference PDF evaluation"
)

FLAVOURS = (21, 1, 2, 3, 4, 5, -1, -2, -3, -4, -5)


def _pythia_pdf(pset: str | None = None):
    py = pythia8mc.Pythia("", False)
    if pset:
        assert py.readString(f"PDF:pSet = {pset}")
    return py, py.getPDFPtr(2212)


def _points(n, seed):
    rng = np.random.default_rng(seed)
    x = 10 ** rng.uniform(-4.0, np.log10(0.7), n)
    q = 10 ** rng.uniform(np.log10(2.0), np.log10(5000.0), n)
    return x, q


@pytest.mark.parametrize(
    "name,pset", [("NNPDF23_lo_as_0130_qed", None), ("NNPDF31_lo_as_0130", "LHAGrid1:NNPDF31_lo_as_0130_0000.dat")]
)
def test_pdf_matches_pythia(name, pset):
    """~330 (x, Q, flavour) points per set, x in [1e-4, 0.7], Q in [2, 5000] GeV.

    Pythia's LHAGrid1 interpolates with its own cubic scheme (not LHAPDF's Hermite with averaged
    slopes), so the two differ at the 1e-3 level between knots; we require a median relative
    difference below 2e-4 and a maximum below 5e-3 where x f > 1e-3 (heavy-quark thresholds and
    vanishing high-x tails excluded, where a relative difference is meaningless).
    """
    _keep, pdf_p = _pythia_pdf(pset)
    pdf = load_pdf(name, alphas_mz=0.130)
    rels = []
    for k, pid in enumerate(FLAVOURS):
        x, q = _points(30, 100 + k)
        mine = pdf.xfx(pid, x, q)
        ref = np.array([pdf_p.xf(pid, xi, qi * qi) for xi, qi in zip(x, q)])
        ok = ref > 1e-3
        rels.append(np.abs(mine[ok] / ref[ok] - 1.0))
    rel = np.concatenate(rels)
    assert rel.size > 250
    assert np.median(rel) < 2e-4, np.median(rel)
    assert rel.max() < 5e-3, rel.max()


def test_known_value_and_alphas_vs_pythia():
    pdf = load_pdf()
    # pdf README: gluon at x = 0.01, Q^2 = 1e4 GeV^2 is about 7.98 in Pythia
    assert pdf.xfx(21, 0.01, 100.0)[0] == pytest.approx(7.980, rel=1e-3)
    a = pythia8mc.AlphaStrong()
    a.init(0.130, 1, 6, False)  # Pythia's hard-process alpha_s: 1-loop, nf_max = 6
    q = np.array([2.0, 4.0, 10.0, 50.0, 91.188, 150.0, 500.0, 3000.0])
    mine = pdf.alphas(q)
    ref = np.array([a.alphaS(v * v) for v in q])
    np.testing.assert_allclose(mine, ref, rtol=1e-6)


def test_grid_found_through_pythia8mc_distribution():
    d = pythia_pdfdata_dir()
    assert d is not None and (d / "NNPDF23_lo_as_0130_qed_0000.dat").is_file()
    assert find_member_file("NNPDF23_lo_as_0130_qed").parent == d


def test_lhapdf_data_path_takes_precedence(tmp_path, monkeypatch):
    src = find_member_file("NNPDF23_lo_as_0130_qed")
    (tmp_path / "MYSET").mkdir()
    (tmp_path / "MYSET" / "MYSET_0000.dat").write_text(src.read_text())
    monkeypatch.setenv("LHAPDF_DATA_PATH", str(tmp_path))
    pdf = load_pdf("MYSET", alphas_mz=0.130)
    assert pdf.xfx(2, 0.1, 100.0)[0] == pytest.approx(load_pdf().xfx(2, 0.1, 100.0)[0], rel=1e-12)
    with pytest.raises(PhiphiError, match="alpha_s"):
        load_pdf("MYSET")  # alpha_s(M_Z) of an unlisted set must be given


def test_unknown_set():
    with pytest.raises(PhiphiError, match="unknown PDF set 'NOPE'"):
        load_pdf("NOPE")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[: len(t) // 2],  # truncated
        lambda t: t.replace("e-01", "e-0x", 5),  # non-numeric
        lambda t: t.replace("---", "", 1),  # no header separator
    ],
)
def test_corrupted_grid(tmp_path, monkeypatch, mangle):
    src = find_member_file("NNPDF23_lo_as_0130_qed")
    bad = tmp_path / "BAD_0000.dat"
    bad.write_text(mangle(src.read_text()))
    monkeypatch.setenv("LHAPDF_DATA_PATH", str(tmp_path))
    with pytest.raises(PhiphiError, match="corrupted PDF grid file") as exc:
        load_pdf("BAD", alphas_mz=0.13)
    assert "\n" not in str(exc.value)


def test_subgrids_parsed():
    sub = parse_lhagrid1(find_member_file("NNPDF31_lo_as_0130"))
    assert len(sub) >= 2
    assert sub[0][1][-1] == pytest.approx(sub[1][1][0])  # blocks share the threshold Q
