"""The architecture holds: layers one way, no import cycles, no private names across
modules, a light ``phiphi --help``, and the CLI's commands come from the registries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("evtgen", "detector", "analyses")


def test_layer_contract_with_import_linter():
    """import-linter's layers contract of pyproject.toml (analyses -> detector -> evtgen)."""
    out = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "0 broken" in out.stdout


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), ignoring the edge
    from a package's ``__init__`` to its own submodules' parent (``from . import x``)."""
    mods = sorted(graph.modules)

    def edges(m):
        for n in graph.find_modules_directly_imported_by(m):
            if m.startswith(n + ".") or n.startswith(m + "."):
                continue  # a module and its own package
            yield n

    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges(v):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for m in mods:
        if m not in index:
            strong(m)
    return out


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES)
    assert _cycles(graph) == []


def test_no_private_name_imported_from_another_module():
    bad = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.module is not None
                    or (isinstance(node, ast.ImportFrom) and node.level)
                ):
                    for alias in node.names:
                        if alias.name.startswith("_") and not alias.name.startswith("__"):
                            bad.append(f"{path.relative_to(ROOT)}: from {node.module or '.'} import {alias.name}")
    assert bad == []


def test_help_imports_no_numba_pyhf_or_dask():
    code = (
        "import sys\n"
        "from evtgen.cli import build_parser\n"
        "build_parser().format_help()\n"
        "print(','.join(m for m in ('numba', 'pyhf', 'dask', 'distributed', 'awkward') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_help_texts_come_from_the_registries():
    from analyses.registry import analyses
    from evtgen.channels import ROWS
    from evtgen.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    rate_help = sub.choices["rate"].format_help()
    recast_help = sub.choices["recast"].format_help()
    for name in ROWS:
        assert name in rate_help
    for name in analyses():
        assert name in recast_help


@pytest.mark.parametrize("pkg", PACKAGES)
def test_public_functions_have_docstrings(pkg):
    missing = []
    for path in (ROOT / pkg).rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                if ast.get_docstring(node) is None:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert missing == []


def test_every_command_help_formats():
    """Help texts come from data files (registry headers): a stray '%' must not break argparse."""
    from evtgen.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert len(sub.choices) >= 10
    for name, p in sub.choices.items():
        assert name in parser.format_help()
        assert p.format_help()
