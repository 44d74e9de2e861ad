"""Mutation check of the test suite, run by hand (not in CI):

    python tests/mutation/mutate.py [--only NAME ...] [--full]

Each mutant is one deliberate bug (a string replaced in one file). For each, the tests that
guard it run (``-x``); a mutant that no test catches "survives". ``--full`` runs the whole
suite for the survivors. The tree is restored after every mutant (also on Ctrl-C), and the
numba caches of the package are cleared before each run so kernels are recompiled.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: name -> (file, old text, new text, tests that should catch it)
MUTANTS: dict[str, tuple[str, str, str, list[str]]] = {
    "bkphiphi_512pi3_halved": (
        "evtgen/decays.py",
        'couplings["CS_sb"] ** 2 * ((M * M - m * m) / mq) ** 2 / (512 * pi3',
        'couplings["CS_sb"] ** 2 * ((M * M - m * m) / mq) ** 2 / (256 * pi3',
        ["tests/test_evtgen_physics.py"],
    ),
    "bkphiphi_M2_times4": (
        "evtgen/decays.py",
        'norm = couplings["CS_sb"] ** 2 *',
        'norm = 4.0 * couplings["CS_sb"] ** 2 *',
        ["tests/test_evtgen_physics.py"],
    ),
    "kpiphiphi_512pi3_halved": (
        "evtgen/decays.py",
        'couplings["CS_sd"] ** 2 * ((M * M - m * m) / mq) ** 2 / (512 * pi3',
        'couplings["CS_sd"] ** 2 * ((M * M - m * m) / mq) ** 2 / (256 * pi3',
        ["tests/test_evtgen_physics.py", "tests/test_na62_koto.py"],
    ),
    "atlas_met_cut_250": (
        "detector/data/atlas_card.yaml",
        "  met_min: 200.0",
        "  met_min: 250.0",
        ["tests/test_atlas_monojet.py"],
    ),
    "atlas_lead_jet_200": (
        "detector/data/atlas_card.yaml",
        "  leading_jet_pt_min: 150.0",
        "  leading_jet_pt_min: 200.0",
        ["tests/test_atlas_monojet.py"],
    ),
    "belle2_crossing_sign": (
        "evtgen/data/beams.yaml",
        "crossing_angle: 0.083",
        "crossing_angle: -0.083",
        ["tests/test_belle2_frame.py", "tests/test_belle2_detector.py"],
    ),
    "stats_q95": ("analyses/stats.py", "Q_95 = 3.841458820694124", "Q_95 = 2.705543454095404", ["tests/test_stats.py"]),
    "stats_cls_level": ("analyses/stats.py", "CLS_LEVEL = 0.05", "CLS_LEVEL = 0.10", ["tests/test_stats.py"]),
    "result_no_half": (
        "analyses/result.py",
        "out[k] = 0.5 * v",
        "out[k] = 2.0 * v",
        ["tests/test_stats.py", "tests/test_scan.py"],
    ),
    "result_quadratic": (
        "analyses/stats.py",
        "return abs(reference) * math.sqrt(max(mu, 0.0))",
        "return abs(reference) * max(mu, 0.0)",
        ["tests/test_stats.py"],
    ),
    "exact_cls_ratio": (
        "analyses/stats.py",
        "return clsb / clb if clb > 0 else 0.0",
        "return clsb if clb > 0 else 0.0",
        ["tests/test_stats.py"],
    ),
    "na62_region2_edge": (
        "detector/data/na62_card.yaml",
        "sr2: {value: [0.026, 0.068]",
        "sr2: {value: [0.030, 0.068]",
        ["tests/test_na62_detector.py", "tests/test_kaon_regression.py"],
    ),
    "atomic_no_rename": (
        "evtgen/files.py",
        "os.replace(tmp_path, p)",
        "shutil.copyfile(tmp_path, p)",
        ["tests/test_evtgen_io.py", "tests/test_faults.py"],
    ),
    "couplings_half_flag": (
        "evtgen/couplings.py",
        "    half: bool = True",
        "    half: bool = False",
        ["tests/test_stats.py", "tests/test_scan.py"],
    ),
    "registry_unknown_option": (
        "analyses/registry.py",
        "        if k not in info.options:\n",
        "        if False:\n",
        ["tests/test_scan.py", "tests/test_atlas_monojet.py"],
    ),
    "seed_negative_ok": (
        "evtgen/model.py",
        "    if s < 0 or s > MAX_SEED:",
        "    if s > MAX_SEED:",
        ["tests/test_bad_input.py"],
    ),
    "relic_gstar": (
        "analyses/dm/relic.py",
        "* m * dof.gstar_half(T, self.eos)",
        "* m * 1.1 * dof.gstar_half(T, self.eos)",
        ["tests/test_dm_relic.py"],
    ),
    "dd_four_pi": (
        "analyses/dm/direct_detection.py",
        "return mu * mu / (4.0 * math.pi * mphi * mphi)",
        "return mu * mu / (8.0 * math.pi * mphi * mphi)",
        ["tests/test_dm_direct.py"],
    ),
}


def _clear_numba_caches() -> None:
    for pkg in ("evtgen", "detector", "analyses"):
        for f in (ROOT / pkg).rglob("__pycache__/*"):
            if f.suffix in (".nbi", ".nbc"):
                f.unlink()


def run(name: str, full: bool) -> str:
    """Apply mutant ``name``, run its tests, restore; returns killed / survived / n/a."""
    path, old, new, tests = MUTANTS[name]
    f = ROOT / path
    text = f.read_text()
    if old not in text:
        return "n/a (text not found)"
    backup = f.with_name(f.name + ".mutation-backup")
    shutil.copy2(f, backup)
    try:
        f.write_text(text.replace(old, new, 1))
        _clear_numba_caches()
        tests = [t for t in tests if (ROOT / t).exists()]
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
        killed = subprocess.run(cmd, cwd=ROOT, capture_output=True).returncode != 0
        if not killed and full:
            full_cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
            killed = subprocess.run(full_cmd, cwd=ROOT, capture_output=True).returncode != 0
        return "killed" if killed else "SURVIVED"
    finally:
        shutil.move(backup, f)
        _clear_numba_caches()


def main() -> int:
    """Run the mutants and print the kill rate."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="mutant names (default: all)")
    ap.add_argument("--full", action="store_true", help="run the whole suite for survivors")
    args = ap.parse_args()
    names = args.only or list(MUTANTS)
    results = {}
    for name in names:
        t0 = time.perf_counter()
        results[name] = run(name, args.full)
        print(f"{name:<28} {results[name]:<22} {time.perf_counter() - t0:6.0f} s", flush=True)
    applied = [r for r in results.values() if not r.startswith("n/a")]
    killed = sum(r == "killed" for r in applied)
    print(f"kill rate: {killed}/{len(applied)} ({len(results) - len(applied)} not applicable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
