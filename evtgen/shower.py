"""Parton shower, hadronisation and jets for monojet LHE files: ``phiphi shower IN.lhe -o OUT.parquet``.

Pythia 8 (``pythia8mc``) reads the LHE file (``Beams:frameType = 4``), showers (ISR, FSR), adds
multiparton interactions (on by default; ``--no-mpi`` to switch them off) and hadronises; the
new invisible particles (φ, S, S*) are declared stable and invisible. Final-state visible
particles are clustered into anti-k_t R = 0.4 jets (p_T > 20 GeV) with the ``fastjet`` package.

Output (Parquet): per event the jets (jagged Momentum4D ``jets``), the prompt leptons and
photons (``electrons``, ``muons`` with p_T > 7 GeV, ``photons`` with p_T > 10 GeV, whose mother
is not a hadron: the ATLAS veto thresholds), the true missing transverse momentum
(``met_true_x/y`` = the invisible final particles), and ``shat``, ``m2_invisible`` of the hard
process (read from Pythia's own record of it, so they stay aligned with the showered events).
Optionally (``hepmc=``, ``--hepmc FILE.hepmc3``) the full Pythia event records as HepMC3
ASCII (``pyhepmc``) for Delphes or Rivet.

Streaming: events are showered, clustered and written ``batch`` at a time (one Parquet row
group per batch, one HepMC3 event at a time), so the memory does not grow with N. Files are
written to hidden temporary names (removed on SIGINT/SIGTERM and, if a killed run left
them, by the next run) and renamed when complete, with the permissions of a plain ``open``.

Seeds: ``seed`` in [0, 899999999] is used as Pythia's ``Random:seed = seed + 1`` (Pythia
takes 1..900000000; its 0 means "from the clock" and negative values "the default seed"), so
the map is one-to-one and every seed, 0 included, is reproducible; other seeds are refused.

Metadata: the LHE file's phiphi metadata (channel, couplings, σ, generation seed) is carried
into the Parquet schema metadata (:func:`evtgen.io.read_metadata`) with a ``shower`` block
(seed, Pythia seed, MPI, Pythia and fastjet versions, number of events).

Cost (measured here, one core, 400 pp -> j phi phi events at m_phi = 10 GeV, including Pythia
initialisation, LHE parsing and the fastjet clustering): about 8 ms per event with MPI (~125
events/s), 2.3 ms per event with --no-mpi, i.e. 15-60 times slower than generating the
parton-level events themselves (~2 µs per event per core).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import vector

from evtgen.errors import PhiphiError, check_positive_int

vector.register_awkward()

#: Pythia's Random:seed range for explicit seeds is 1..900000000
PYTHIA_SEED_MAX = 900_000_000
#: largest phiphi shower seed (mapped to Pythia's largest, 900000000)
MAX_SHOWER_SEED = PYTHIA_SEED_MAX - 1
HEPMC_SUFFIXES = (".hepmc", ".hepmc3")


def pythia_seed(seed: Any) -> int:
    """Pythia's ``Random:seed`` for the shower seed ``seed``: ``seed + 1``, one-to-one from
    [0, 899999999] onto Pythia's explicit seeds 1..900000000; anything else is refused."""
    from evtgen.model import check_seed

    s = check_seed(seed)
    if s is None or s > MAX_SHOWER_SEED:
        raise PhiphiError(f"shower seed = {seed!r} must be an integer in [0, {MAX_SHOWER_SEED}] (Pythia's seed range)")
    return s + 1


_QUIET = (
    "Next:numberCount = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowLHA = 0",
    "Init:showChangedSettings = off",
    "Init:showProcesses = off",
    "Init:showChangedParticleData = off",
    "Init:showMultipartonInteractions = off",
)

INVISIBLE = (12, 14, 16)


def heavy_quark_settings(lhe_meta: dict | None) -> list[str]:
    """Pythia ``ParticleData`` commands declaring the heavy mass eigenstates U, D1, D2 of the
    ``pp2vlq`` LHE files (:data:`evtgen.vlq.uv.HEAVY`: spin ½, colour triplet, charge 2/3, −1/3),
    with the mass and width of the model point when the LHE metadata carries them
    (``rate.heavy_masses_GeV``, ``rate.widths_GeV``, written by :func:`evtgen.vlq.lhe.write_lhe`);
    otherwise a placeholder m0 = 1 TeV, Γ = 0 (the masses of the events are taken from the file).
    ``mayDecay = off``: their decays X → q φ are in the file (status 2 with daughters) or absent."""
    from evtgen.vlq.uv import HEAVY

    rate = (lhe_meta or {}).get("rate") or {}
    masses = rate.get("heavy_masses_GeV") or {}
    widths = rate.get("widths_GeV") or {}
    cmds = []
    for name, pid, charge in HEAVY:
        m0 = float(masses.get(name, 1000.0))
        w = float(widths.get(name, 0.0))
        ct = int(round(3 * charge))
        cmds += [
            f"{pid}:all = {name} {name}bar 2 {ct} 1 {m0!r} {w!r} 0.0 0.0 0.0",
            f"{pid}:mayDecay = off",
        ]
    return cmds


def _pythia(lhe_path: str, seed: int, mpi: bool, hadronise: bool = True, extra: tuple = ()):
    """An initialised Pythia reading ``lhe_path``; ``seed`` is Pythia's own (1..900000000);
    ``extra``: further settings (e.g. :func:`heavy_quark_settings`)."""
    import pythia8mc

    from evtgen.lhe import pdg_ids

    ids = pdg_ids()
    py = pythia8mc.Pythia("", False)
    cmds = [
        "Beams:frameType = 4",
        f"Beams:LHEF = {lhe_path}",
        "Random:setSeed = on",
        f"Random:seed = {int(seed)}",
        f"PartonLevel:MPI = {'on' if mpi else 'off'}",
        f"HadronLevel:all = {'on' if hadronise else 'off'}",
        f"{ids['phi']}:all = phi void 1 0 0 1.0",
        f"{ids['S']}:all = S void 1 0 0 100.0",
        *_QUIET,
    ]
    for pid in (ids["phi"], ids["S"]):
        cmds += [f"{pid}:isVisible = off", f"{pid}:mayDecay = off", f"{pid}:mWidth = 0.0"]
    cmds += list(extra)
    for c in cmds:
        if not py.readString(c):
            raise PhiphiError(f"Pythia rejected the setting {c!r}")
    with _silence():
        ok = py.init()
    if not ok:
        raise PhiphiError(f"Pythia could not initialise from LHE file {lhe_path!r}")
    return py


@contextlib.contextmanager
def _silence():
    """Redirect the C++ stdout (Pythia banners) to /dev/null."""
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


def _select(prt, mask):
    p = prt.p[mask]
    return ak.zip({"px": p.px, "py": p.py, "pz": p.pz, "E": p.e}, with_name="Momentum4D")


def _hard_process(prt, id_s: int) -> tuple[np.ndarray, np.ndarray]:
    """(shat, m^2 of the invisible S/S*) per event from Pythia's copy of the hard process
    (status -21 incoming; the first S with |status| in 21..29)."""
    inc = prt.p[prt.status == -21]
    shat = ak.to_numpy((inc.e[:, 0] + inc.e[:, 1]) ** 2 - (inc.pz[:, 0] + inc.pz[:, 1]) ** 2)
    hard_s = (prt.id == id_s) & (abs(prt.status) >= 21) & (abs(prt.status) <= 29)
    m = ak.firsts(prt.m[hard_s])
    m2 = ak.to_numpy(ak.fill_none(m**2, np.nan))
    return shat, m2


def _analyse(prt, ids: dict, jetdef) -> ak.Array:
    """The per-event output record of one batch of Pythia events."""
    import fastjet

    final = prt.status > 0
    aid = abs(prt.id)
    invisible = final & ((aid == 12) | (aid == 14) | (aid == 16) | (aid == ids["phi"]) | (aid == ids["S"]))
    visible = final & ~invisible
    vis = _select(prt, visible)
    cs = fastjet.ClusterSequence(vis, jetdef)
    jets = cs.inclusive_jets(20.0)
    jets = ak.zip({"px": jets.px, "py": jets.py, "pz": jets.pz, "E": jets.E}, with_name="Momentum4D")
    jets = jets[ak.argsort(jets.pt, ascending=False)]
    inv = _select(prt, invisible)
    pt2 = prt.p.px**2 + prt.p.py**2
    # prompt: the mother is not a hadron (leptons/photons from hadron decays sit inside jets)
    prompt = abs(prt.id[prt.mother1]) < 100
    shat, m2 = _hard_process(prt, ids["S"])
    return ak.zip(
        {
            "jets": jets,
            "electrons": _select(prt, final & prompt & (aid == 11) & (pt2 > 7.0**2)),
            "muons": _select(prt, final & prompt & (aid == 13) & (pt2 > 7.0**2)),
            "photons": _select(prt, final & prompt & (aid == 22) & (pt2 > 10.0**2)),
            "met_true_x": ak.sum(inv.px, axis=1),
            "met_true_y": ak.sum(inv.py, axis=1),
            "shat": shat,
            "m2_invisible": m2,
        },
        depth_limit=1,
    )


def _hepmc_status(status: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """HepMC status codes as Pythia's ``Particle::statusHepMC``: 1 final, 4 beam, 2 decayed
    hadron/mu/tau, otherwise |Pythia status| (generator-specific codes >= 11)."""
    apid = np.abs(pid)
    diquark = (apid > 1000) & (apid < 10000) & ((apid // 10) % 10 == 0)
    hadron = (apid > 100) & ~diquark
    out = np.abs(status).astype(np.int32)
    out[(status < 0) & (hadron | (apid == 13) | (apid == 15))] = 2
    out[status == -12] = 4
    out[status > 0] = 1
    return out


def _mother_list(i: int, status: np.ndarray, m1: np.ndarray, m2: np.ndarray) -> list[int]:
    """Pythia's ``Particle::motherList`` of entry ``i``."""
    st = abs(int(status[i]))
    a, b = int(m1[i]), int(m2[i])
    if st in (11, 12) or (a == 0 and b == 0):
        return []
    if b == 0 or b == a:
        return [a]
    if 80 < st < 90 or 100 < st < 107:  # a range of mothers (string fragmentation)
        return list(range(a, b + 1))
    return [min(a, b), max(a, b)]


def _topological(mother_lists: list[list[int]]) -> list[int]:
    """Entries 1..n-1 ordered so that every mother comes before its daughters."""
    seen = [False] * len(mother_lists)
    seen[0] = True
    order: list[int] = []
    for start in range(1, len(mother_lists)):
        stack = [(start, False)]
        while stack:
            k, expanded = stack.pop()
            if expanded:
                order.append(k)
                continue
            if seen[k]:
                continue
            seen[k] = True
            stack.append((k, True))
            stack.extend((q, False) for q in reversed(mother_lists[k]) if not seen[q])
    return order


def _write_hepmc_batch(writer, prt, first_event: int) -> None:
    """Write the events of one Pythia batch as HepMC3 GenEvents, built as Pythia's own
    ``Pythia8ToHepMC3`` interface does (that C++ header is not in the pythia8mc bindings):
    a particle is an outgoing particle of its first mother's end vertex (a new vertex if no
    mother has one yet), and its mothers without an end vertex become incoming particles of
    that vertex; Pythia's system entry 0 is dropped, beams carry HepMC status 4. Particles
    are attached mothers first, so the HepMC ids are in topological order (the ASCII reader
    needs that). No vertex positions are written (the prompt record of the shower)."""
    import pyhepmc

    for i in range(len(prt)):
        ev = prt[i]
        px, py_, pz, e = (ak.to_numpy(ev.p[c]) for c in ("px", "py", "pz", "e"))
        m = ak.to_numpy(ev.m)
        pid = ak.to_numpy(ev.id).astype(np.int32)
        status = ak.to_numpy(ev.status)
        m1, m2 = ak.to_numpy(ev.mother1), ak.to_numpy(ev.mother2)
        hstatus = _hepmc_status(status, pid)
        gen = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
        gen.event_number = first_event + i
        parts = [None]
        for k in range(1, len(pid)):
            gp = pyhepmc.GenParticle(pyhepmc.FourVector(px[k], py_[k], pz[k], e[k]), int(pid[k]), int(hstatus[k]))
            gp.generated_mass = float(m[k])
            parts.append(gp)
        mother_lists = [[q for q in _mother_list(k, status, m1, m2) if q > 0] for k in range(len(pid))]
        for k in _topological(mother_lists):  # mothers before daughters (ISR partons come later in Pythia's record)
            mothers = mother_lists[k]
            if not mothers:
                gen.add_particle(parts[k])  # a beam: no production vertex
                continue
            vtx = None
            for q in mothers:
                vtx = parts[q].end_vertex
                if vtx is not None:
                    break
            if vtx is None:
                vtx = pyhepmc.GenVertex()
                gen.add_vertex(vtx)
            for q in mothers:  # incoming first: a particle gets its event id when it is attached
                if parts[q].end_vertex is None:
                    vtx.add_particle_in(parts[q])
            vtx.add_particle_out(parts[k])
        writer.write(gen)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("pythia8mc", "fastjet", "pyhepmc"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def shower_lhe(
    lhe_path,
    out_path,
    *,
    seed: int = 1,
    mpi: bool = True,
    n_max: int | None = None,
    batch: int = 200,
    hepmc: str | os.PathLike | None = None,
) -> Path:
    """Shower + hadronise + cluster the events of ``lhe_path``; write ``out_path`` (.parquet)
    and, if given, the full events to ``hepmc`` (.hepmc3). Streams ``batch`` events at a time.
    Returns the Parquet path."""
    import fastjet
    import pyarrow.parquet as pq

    from evtgen.io import METADATA_KEY, atomic_path, check_writable, metadata_json
    from evtgen.lhe import count_lhe, pdg_ids, read_lhe_metadata

    out = Path(out_path)
    if str(out_path).strip() == "" or out.suffix.lower() != ".parquet":
        raise PhiphiError(f"shower output {str(out_path)!r} must be a .parquet file")
    check_writable(out)
    if hepmc is not None:
        if str(hepmc).strip() == "" or Path(hepmc).suffix.lower() not in HEPMC_SUFFIXES:
            raise PhiphiError(f"HepMC output {str(hepmc)!r} must end in {' or '.join(HEPMC_SUFFIXES)}")
        check_writable(hepmc)
        if Path(hepmc).resolve() == out.resolve():
            raise PhiphiError("the HepMC and Parquet outputs must be different files")
    if n_max is not None:
        n_max = check_positive_int("n", n_max)
    batch = check_positive_int("batch", batch)
    py_seed = pythia_seed(seed)
    if Path(lhe_path).resolve() == out.resolve():
        raise PhiphiError(f"the output {str(out_path)!r} is the input file")
    n_ev = count_lhe(lhe_path, n_max)  # validates every event (one-line error if malformed), keeps none
    try:
        lhe_meta = read_lhe_metadata(lhe_path)
    except PhiphiError:  # an LHE file from another generator
        lhe_meta = {"generator": "unknown (LHE file without phiphi metadata)"}
    ids = pdg_ids()
    meta = dict(lhe_meta)
    meta.update(
        n_events=n_ev,
        lhe_n_events=lhe_meta.get("n_events"),
        level="showered: Pythia 8 shower + hadronisation, anti-kt R = 0.4 jets (pT > 20 GeV)",
        shower={
            "input": str(Path(lhe_path).resolve()),
            "seed": int(seed),
            "pythia_seed": py_seed,
            "mpi": bool(mpi),
            "n_events": n_ev,
            "jets": "anti-kt R = 0.4, pT > 20 GeV, fastjet",
            "versions": _versions(),
        },
    )
    py = _pythia(str(Path(lhe_path).resolve()), py_seed, mpi, extra=tuple(heavy_quark_settings(lhe_meta)))
    meta["shower"]["versions"]["pythia"] = f"{py.settings.parm('Pythia:versionNumber'):.3f}"
    meta["shower"]["versions"]["fastjet_library"] = fastjet.fastjet_version_string().strip()
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(out))
        hep_writer = None
        if hepmc is not None:
            import pyhepmc

            hep_tmp = stack.enter_context(atomic_path(hepmc))
            hep_writer = stack.enter_context(pyhepmc.open(str(hep_tmp), "w", format="hepmc3"))
        writer = None
        done = 0
        try:
            while done < n_ev:
                with _silence():
                    b = py.nextBatch(min(batch, n_ev - done))
                if len(b) == 0:
                    break
                prt = b.prt
                with _silence():  # the fastjet banner
                    table = ak.to_arrow_table(_analyse(prt, ids, jetdef), extensionarray=True)
                if writer is None:
                    schema = table.schema.with_metadata({METADATA_KEY: metadata_json(meta)})
                    writer = pq.ParquetWriter(tmp, schema, compression="zstd")
                writer.write_table(table.cast(writer.schema))
                if hep_writer is not None:
                    _write_hepmc_batch(hep_writer, prt, done)
                done += len(b)
                del b, prt, table
            if done < n_ev:
                raise PhiphiError(f"Pythia stopped after {done} of {n_ev} events of {str(lhe_path)!r}")
        finally:
            if writer is not None:
                writer.close()
        if hep_writer is not None:
            hep_writer.close()
    return out
