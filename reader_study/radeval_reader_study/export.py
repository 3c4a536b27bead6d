"""Export a blinded reader-study packet (HTML forms, XLSX workbooks, REDCap files) and its key.

Packet layout (``out_dir``)::

    manifest.json                 the packet content; its SHA-256 is the packet hash
    README.txt                    instructions (no system names)
    <reader>/rating-form.html     self-contained offline form      (format "html")
    <reader>/ratings.xlsx         workbook with drop-downs          (format "xlsx")
    redcap/data_dictionary.csv    REDCap instrument                 (format "redcap")
    redcap/import_template.csv    pre-filled records for every reader

The unblinding key (item id -> system, case) goes to ``key_path``, which must lie outside
``out_dir``.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> refs = {f"c{i}": f"Reference {i}." for i in range(5)}
    >>> systems = {"base": {k: "No effusion." for k in refs}, "new": {k: "Small effusion." for k in refs}}
    >>> res = export_packet(refs, systems, n=3, readers=2, seed=0, out_dir=d / "packet",
    ...                     key_path=d / "key.json", formats=("html",))
    >>> res.n_items, len(res.case_ids), sorted(p.name for p in res.files)[:2]
    (6, 3, ['README.txt', 'manifest.json'])
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from radeval.errors import InputError
from radeval.paths import atomic_write_bytes, atomic_write_text
from radeval.types import Case, align
from radeval_reader_study.blinding import new_blinding_seed
from radeval_reader_study.html_form import render_form
from radeval_reader_study.key import StudyKey, write_key
from radeval_reader_study.packet import MANIFEST_FORMAT, Packet, build_packet
from radeval_reader_study.redcap import write_redcap
from radeval_reader_study.rubric import Rubric, default_rubric
from radeval_reader_study.sampling import sample_cases
from radeval_reader_study.xlsx_form import write_workbook

#: Packet formats :func:`export_packet` can write.
FORMATS = ("html", "xlsx", "redcap")

READER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_packet` wrote.

    Attributes:
        packet_dir: the packet folder (hand this to readers).
        key_path: the unblinding key (keep it away from readers).
        packet_sha256: the packet hash.
        files: every file in the packet.
        readers: reader ids.
        case_ids: the sampled cases.
        n_items: reports per reader (cases × systems).
        blinding_seed: seed of ids and orders (also in the key).
    """

    packet_dir: Path
    key_path: Path
    packet_sha256: str
    files: tuple[Path, ...]
    readers: tuple[str, ...]
    case_ids: tuple[str, ...]
    n_items: int
    blinding_seed: int


def _reader_ids(readers: int | Sequence[str]) -> list[str]:
    if isinstance(readers, int):
        if readers < 1:
            raise InputError(f"readers={readers}: at least one reader is needed")
        return [f"reader{i}" for i in range(1, readers + 1)]
    names = [str(r) for r in readers]
    if not names:
        raise InputError("readers: at least one reader is needed")
    for name in names:
        if not READER_ID.match(name):
            raise InputError(f"reader id {name!r} must be 1-32 letters, digits, '_' or '-'")
    # ids are folder names: "Ann" and "ann" would share one folder on macOS/Windows file systems
    folded = [n.casefold() for n in names]
    dups = sorted({n for n, f in zip(names, folded, strict=True) if folded.count(f) > 1})
    if dups:
        raise InputError(f"duplicate reader id(s): {', '.join(dups)}")
    return names


def _references(refs: Mapping[str, str] | Iterable[Case]) -> tuple[dict[str, str], dict[str, Mapping]]:
    if isinstance(refs, Mapping):
        return dict(refs), {}
    cases = list(refs)
    texts: dict[str, str] = {}
    meta: dict[str, Mapping] = {}
    for c in cases:
        if not isinstance(c, Case):
            raise InputError(f"references: expected a mapping id -> text or a list of Case, got {type(c).__name__}")
        if c.id in texts:
            raise InputError(f"references: duplicate case id {c.id!r}")
        texts[c.id] = c.reference
        meta[c.id] = c.metadata
    return texts, meta


def _strata(ids: Sequence[str], stratify_by: str | Sequence[str] | Mapping[str, Hashable],
            meta: Mapping[str, Mapping]) -> dict[str, str]:
    if isinstance(stratify_by, Mapping):
        missing = [i for i in ids if i not in stratify_by]
        if missing:
            raise InputError(f"stratify_by: {len(missing)} case(s) have no stratum, e.g. {missing[:5]}")
        return {i: str(stratify_by[i]) for i in ids}
    columns = [stratify_by] if isinstance(stratify_by, str) else list(stratify_by)
    if not meta:
        raise InputError(f"stratify_by={columns}: the references carry no metadata; pass cases "
                         "(radeval.io.read_cases) or a mapping case id -> stratum")
    out = {}
    for i in ids:
        values = []
        for col in columns:
            if col not in meta[i]:
                present = ", ".join(sorted(map(str, meta[i]))) or "none"
                raise InputError(f"case {i!r}: no field {col!r} to stratify by (fields: {present})")
            values.append(f"{col}={meta[i][col]}")
        out[i] = "; ".join(values)
    return out


def _check_key_outside(out_dir: Path, key_path: Path) -> None:
    out_res, key_res = out_dir.resolve(), key_path.resolve()
    if key_res == out_res or out_res in key_res.parents:
        raise InputError(f"key_path {key_path} lies inside the packet folder {out_dir}; "
                         "the key must stay outside the packet")


def _check_key_free(key_path: Path, overwrite: bool) -> None:
    # the key holds the secret blinding seed: overwriting it makes the earlier packet impossible to unblind
    if key_path.exists() and not overwrite:
        raise InputError(f"{key_path}: a key file already exists (it may unblind an earlier packet); choose "
                         "another key path, or pass overwrite=True / --force to replace it")


def _check_replaceable(out_dir: Path, overwrite: bool) -> None:
    """Refuse a non-empty ``out_dir`` unless ``overwrite`` and it is an earlier packet (deleted only once the new
    packet is complete, so a failed export leaves the earlier one as it was)."""
    if out_dir.exists() and any(out_dir.iterdir()):
        manifest = out_dir / "manifest.json"
        if not overwrite:
            raise InputError(f"{out_dir}: folder exists and is not empty (pass overwrite=True / --force "
                             "to replace an earlier packet)")
        if not manifest.exists() or MANIFEST_FORMAT not in manifest.read_text(encoding="utf-8", errors="replace"):
            raise InputError(f"{out_dir}: not an earlier reader-study packet (no manifest.json); refusing to "
                             "delete it")


_README = """Reader study packet
===================

Each reader has a folder with the same reports in that reader's own random order:

  rating-form.html  open in a web browser (works offline). Rate every report on every criterion,
                    then press "Save ratings (CSV)" or "Save ratings (JSON)" and return the
                    downloaded file. Unsaved work is kept in the browser between sessions.
  ratings.xlsx      the same ratings as a spreadsheet: pick a score from the drop-down in each
                    score cell, save, and return the file.

Use one of the two. redcap/ holds a REDCap data dictionary and an import template for studies run
in REDCap.

Reports are anonymised and do not identify their source. Please rate independently.

Packet {sha}
"""


def export_packet(references: Mapping[str, str] | Iterable[Case], systems: Mapping[str, Mapping[str, str]], *,
                  n: int, readers: int | Sequence[str], seed: int, out_dir: str | Path, key_path: str | Path,
                  rubric: Rubric | None = None,
                  stratify_by: str | Sequence[str] | Mapping[str, Hashable] | None = None,
                  show_reference: bool = True, formats: Sequence[str] = FORMATS, baseline: str | None = None,
                  blinding_seed: int | None = None, overwrite: bool = False) -> ExportResult:
    """Sample cases, blind every system's report and write the packet plus its unblinding key.

    Args:
        references: case id -> reference report, or a list of :class:`~radeval.types.Case` (whose
            metadata can be stratified on).
        systems: system name -> (case id -> report). Each must cover exactly the references' ids.
        n: number of cases to sample.
        readers: number of readers (ids ``reader1``...) or a list of reader ids.
        seed: seed of the case sample (publishable).
        out_dir: the packet folder to create.
        key_path: where to write the key; must be outside ``out_dir``.
        rubric: criteria and scale (default: :func:`~radeval_reader_study.rubric.default_rubric`).
        stratify_by: a metadata field (or several) of the cases, or a mapping case id -> stratum.
        show_reference: show the reference report as ground truth.
        formats: any of ``"html"``, ``"xlsx"``, ``"redcap"``.
        baseline: the system others are compared with (default: the first of ``systems``).
        blinding_seed: seed of item ids and orders; default: a fresh secret (stored in the key).
        overwrite: replace an earlier packet in ``out_dir``.

    Returns:
        an :class:`ExportResult`.

    Raises:
        InputError: bad arguments, a key path inside the packet, a non-empty folder, an existing key file
            (without ``overwrite``).
        AlignmentError: a system that does not cover the references' cases (named).
    """
    rubric = rubric or default_rubric()
    out = Path(out_dir)
    key_file = Path(key_path)
    _check_key_outside(out, key_file)
    refs, meta = _checked_inputs(references, systems, formats=formats, baseline=baseline)
    reader_ids = _reader_ids(readers)
    ids = list(refs)
    strata = _strata(ids, stratify_by, meta) if stratify_by is not None else {}
    case_ids = sample_cases(ids, n=n, seed=seed, strata=strata or None)
    _check_key_free(key_file, overwrite)
    _check_replaceable(out, overwrite)
    bseed = new_blinding_seed() if blinding_seed is None else int(blinding_seed)
    packet = build_packet(refs, systems, case_ids=case_ids, readers=reader_ids, rubric=rubric,
                          show_reference=show_reference, blinding_seed=bseed)
    hashes = _write_packet_in_place(out, packet, rubric=rubric, formats=formats, show_reference=show_reference)
    key = StudyKey(packet_sha256=packet.sha256, items=dict(packet.origins), readers=tuple(reader_ids),
                   systems=tuple(systems), case_ids=tuple(case_ids), rubric=rubric, seed=seed, blinding_seed=bseed,
                   orders={rp.reader: tuple(rp.item_ids) for rp in packet.readers}, files=hashes,
                   strata={i: strata[i] for i in case_ids} if strata else {},
                   baseline=baseline or next(iter(systems)))
    write_key(key_file, key)
    return ExportResult(packet_dir=out, key_path=key_file, packet_sha256=packet.sha256,
                        files=tuple(out / rel for rel in hashes), readers=tuple(reader_ids),
                        case_ids=tuple(case_ids), n_items=len(case_ids) * len(systems), blinding_seed=bseed)


def _checked_inputs(references: Mapping[str, str] | Iterable[Case], systems: Mapping[str, Mapping[str, str]], *,
                    formats: Sequence[str], baseline: str | None) -> tuple[dict[str, str], dict[str, Mapping]]:
    """The references (id -> text) and their metadata, after checking formats, systems and the baseline.

    Raises:
        InputError: unknown formats, no system, an unnamed system, a baseline that is not a system.
        AlignmentError: a system that does not cover the references' cases (named).
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InputError(f"formats {list(formats)}: expected a non-empty subset of {', '.join(FORMATS)}")
    if not systems:
        raise InputError("systems: at least one system is needed")
    refs, meta = _references(references)
    for name, preds in systems.items():
        if not str(name).strip():
            raise InputError("systems: a system has an empty name")
        align(refs, preds, ref_name="references", hyp_name=f"system {name!r}")
    if baseline is not None and baseline not in systems:
        raise InputError(f"baseline {baseline!r} is not one of the systems: {', '.join(systems)}")
    return refs, meta


def _write_packet_in_place(out: Path, packet: Packet, *, rubric: Rubric, formats: Sequence[str],
                           show_reference: bool) -> dict[str, str]:
    """Write the packet beside ``out`` and swap it in at the end, so a failure part-way keeps any earlier packet
    intact; returns relative path -> SHA-256 of every file, in writing order."""
    build = out.parent / f".{out.name}.building-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    try:
        built = _write_packet_files(build, packet, rubric=rubric, formats=formats, show_reference=show_reference)
        hashes = {p.relative_to(build).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in built}
        if out.exists():
            shutil.rmtree(out)
        build.rename(out)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return hashes


def _write_packet_files(out: Path, packet: Packet, *, rubric: Rubric, formats: Sequence[str],
                        show_reference: bool) -> list[Path]:
    """Write the manifest, README, each reader's form/workbook and the REDCap files; returns the files."""
    sha = packet.sha256
    written = [out / "manifest.json", out / "README.txt"]
    atomic_write_bytes(out / "manifest.json", packet.manifest_bytes())
    atomic_write_text(out / "README.txt", _README.format(sha=sha))
    for rp in packet.readers:
        if "html" in formats:
            form = out / rp.reader / "rating-form.html"
            atomic_write_text(form, render_form(rp, rubric=rubric, packet_sha256=sha))
            written.append(form)
        if "xlsx" in formats:
            book = out / rp.reader / "ratings.xlsx"
            write_workbook(book, rp, rubric=rubric, packet_sha256=sha, show_reference=show_reference)
            written.append(book)
    if "redcap" in formats:
        written += write_redcap(out / "redcap", list(packet.readers), rubric=rubric, packet_sha256=sha,
                                show_reference=show_reference)
    return written


def verify_packet(packet_dir: str | Path, key: StudyKey) -> list[str]:
    """Compare a packet folder with the file hashes in its key; returns one message per difference."""
    root = Path(packet_dir)
    problems = []
    for rel, digest in key.files.items():
        f = root / rel
        if not f.exists():
            problems.append(f"{f}: missing from the packet")
        elif hashlib.sha256(f.read_bytes()).hexdigest() != digest:
            problems.append(f"{f}: content differs from the exported packet")
    return problems
