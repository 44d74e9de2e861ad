"""The analysis registry parses each data file's header once per version of the file: repeated
calls are cheap (scans call it per point) and an edited file is read again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from analyses import registry

TOY = Path(__file__).parent / "toy_analysis"


def test_edited_header_is_read_again(tmp_path, monkeypatch):
    for f in ("toy.yaml", "toy_analysis.py"):
        shutil.copy(TOY / f, tmp_path / f)
    monkeypatch.setenv(registry.PATH_VARIABLE, str(tmp_path))
    first = registry.analyses()["toy"]
    assert registry.analyses()["toy"] is first  # same file version: the parsed header is shared
    path = tmp_path / "toy.yaml"
    text = path.read_text().replace("title: toy q2-window", "title: edited toy q2-window")
    path.write_text(text)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a later mtime, whatever the clock
    edited = registry.analyses()["toy"]
    assert edited.title.startswith("edited toy")
    assert edited.data()["analysis"]["title"].startswith("edited")  # the data file too, not a stale parse
