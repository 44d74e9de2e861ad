"""Model files: exact YAML/JSON round trips for EFT and UV points, the no-1/2 basis, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evtgen import modelfile as MF
from evtgen.errors import PhiphiError
from evtgen.model import model_point

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "models"


@pytest.mark.parametrize("ext", [".yaml", ".json"])
def test_eft_round_trip_exact(tmp_path, ext):
    p = model_point(
        mphi=1.0, couplings={"CS_sb": 1.2345678901234567e-7, "CS_ss": 3.0e-4 / 7}, channel="b2kphiphi", seed=42
    )
    path = MF.dump_model(p, tmp_path / f"p{ext}")
    q = MF.load_model(path)
    assert q == p  # exact (floats written with repr precision)
    MF.dump_model(q, tmp_path / f"q{ext}")
    assert (tmp_path / f"q{ext}").read_text() == path.read_text()
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize("ext", [".yaml", ".json"])
def test_uv_round_trip_exact_with_complex_yukawas(tmp_path, ext):
    src = tmp_path / f"uv{ext}"
    d = {"model": "tchannel-vlq", "parameters": {"m_Q": 4000.0, "m_D": 5000.0, "m_phi": 1.0, "y_q": [0.1, [0.9, 0.3], 0.0],
         "y_d": [0.0, 0.0, 1.0 / 3], "y1": [1.0, -0.25], "y2": 0.5}}  # fmt: skip
    src.write_text(json.dumps(d))
    p = MF.load_model(src)
    assert p.uv["parameters"]["y_q"][1] == [0.9, 0.3] and p.coupling("CS_sb") != 0.0
    out = MF.dump_model(p, tmp_path / f"out{ext}")
    assert MF.load_model(out) == p
    MF.dump_model(MF.load_model(out), tmp_path / f"out2{ext}")
    assert (tmp_path / f"out2{ext}").read_text() == out.read_text()


def test_no_half_basis(tmp_path):
    """A file in the papers' convention (L > C' (qbar q) phi^2) is converted on reading: C = 2 C'."""
    f = tmp_path / "nohalf.yaml"
    f.write_text("eft: phiLEFT\nbasis: phiphi-no-half\nmasses: {mphi: 1.0}\nvalues: {CS_sb: 6.3e-8, CG: 1.0e-7}\n")
    p = MF.load_model(f)
    assert p.coupling("CS_sb") == 1.26e-7 and p.coupling("CG") == 1.0e-7  # CG has no 1/2
    assert MF.to_no_half(p) == {"CS_sb": 6.3e-8, "CG": 1.0e-7}
    MF.dump_model(p, tmp_path / "back.yaml", basis="phiphi-no-half")
    assert MF.load_model(tmp_path / "back.yaml") == p


def test_examples_load():
    bench = MF.load_model(EXAMPLES / "tchannel_benchmark_3TeV.yaml")
    assert bench.uv["parameters"]["m_Q"] == 3000.0 and bench.mphi == 1.0
    window = MF.load_model(EXAMPLES / "tchannel_bwindow_50TeV.yaml")
    assert 3e-8 < abs(window.coupling("CS_sb")) < 8e-8  # the talk's (3-8)/(10^5 TeV)
    eft = MF.load_model(EXAMPLES / "eft_belle2_bestfit.yaml")
    assert eft.coupling("CS_sb") == 1.26e-7 and eft.channel == "b2kphiphi" and eft.uv is None


def test_for_channel_keeps_the_channel_couplings_of_a_uv_point():
    window = MF.load_model(EXAMPLES / "tchannel_bwindow_50TeV.yaml")
    q = MF.for_channel(window, "b2kphiphi")
    from evtgen import channels

    assert set(q.couplings) == set(channels.row("b2kphiphi").couplings)
    assert q.coupling("CS_sb") == window.coupling("CS_sb")
    assert "CS_dd" not in q.couplings and q.uv == window.uv


@pytest.mark.parametrize(
    "text,msg",
    [
        ("eft: phiLEFT\nbasis: half\nvalues: {}\n", "basis = 'half'; choose phiphi-half or phiphi-no-half"),
        ("eft: SMEFT\nbasis: phiphi-half\nvalues: {}\n", "eft = 'SMEFT'"),
        ("eft: phiLEFT\nbasis: phiphi-half\nvalues: {C_sb: 1}\n", "unknown coupling 'C_sb'"),
        ("eft: phiLEFT\nbasis: phiphi-half\nmasses: {mchi: 1}\nvalues: {}\n", "unknown mass 'mchi'"),
        ("eft: phiLEFT\nbasis: phiphi-half\nvalues: {CS_sb: [1, 2]}\n", "values.CS_sb"),
        ("eft: phiLEFT\nbasis: phiphi-half\nvalues: {CS_sb: 1}\nscale: 2\n", "unknown key 'scale'"),
        (
            "model: tchannel-vlq\nparameters: {m_Q: 1, m_D: 1, m_phi: 2, y_q: [1,1,1], y_d: [1,1,1], y1: 1}\n",
            "m_Q = 1 GeV must exceed m_phi",
        ),
        (
            "model: tchannel-vlq\nparameters: {m_Q: 1e3, m_D: 1e3, m_phi: 1, y_q: [1,1,1], y_d: [1,1,1]}\n",
            "parameter 'y1' is missing",
        ),
        (
            "model: tchannel-vlq\nparameters: {m_Q: 1e3, m_D: 1e3, m_phi: 1, y_q: [1,1,1], y_d: [1,1,1], y1: 1, y3: 0}\n",
            "unknown tchannel-vlq parameter 'y3'",
        ),
        ("model: leptoquark\nparameters: {}\n", "model = 'leptoquark'"),
        ("[1, 2]\n", "must hold a mapping"),
        ("eft: [\n", "is not valid YAML"),
        ("values: {}\n", "needs the key 'eft'"),
    ],
)
def test_errors_are_one_line(tmp_path, text, msg):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(PhiphiError) as exc:
        MF.load_model(f)
    assert msg in str(exc.value) and "\n" not in str(exc.value)


def test_bad_extension_and_missing_file(tmp_path):
    with pytest.raises(PhiphiError, match="must end in .yaml, .yml or .json"):
        MF.load_model(tmp_path / "x.toml")
    with pytest.raises(PhiphiError, match="cannot read model file"):
        MF.load_model(tmp_path / "missing.yaml")
