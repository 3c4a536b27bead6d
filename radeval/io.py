"""Readers and writers for reports and predictions: JSONL, CSV and ReXrank-style JSON.

Every reader returns :class:`~radeval.types.Predictions` (an ordered id -> text mapping) or a list of
:class:`~radeval.types.Case`; every error names the file, the line/row and the field.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from radeval.csv_safe import restore_cell, rows_to_csv
from radeval.errors import AlignmentError, InputError
from radeval.paths import atomic_write_text
from radeval.types import Case, Predictions, check_text

#: File formats understood by :func:`read_reports`.
FORMATS = ("jsonl", "csv", "rexrank")


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    # Drop a BOM first so the decoder's error offset indexes ``raw`` itself.
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = raw[:offset].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not valid UTF-8 (byte {raw[offset]:#04x} at offset {offset})") from None


def detect_format(path: str | Path) -> str:
    """Guess the format from the file name: ``.jsonl`` -> jsonl, ``.csv``/``.tsv`` -> csv, ``.json`` -> rexrank."""
    suffix = Path(path).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    if suffix == ".json":
        return "rexrank"
    raise InputError(f"{path}: cannot tell the format from the extension {suffix!r}; pass format= one of {FORMATS}")


def _loads(text: str) -> tuple[Any, list[str], list[str]]:
    """``json.loads`` that also reports keys given twice in one object (``json`` keeps the last silently).

    Returns:
        ``(obj, top_level_duplicates, nested_duplicates)``.
    """
    per_object: list[list[str]] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for key, _ in pairs:
            counts[key] = counts.get(key, 0) + 1
        per_object.append([k for k, c in counts.items() if c > 1])
        return dict(pairs)

    obj = json.loads(text, object_pairs_hook=hook)
    # Objects are built innermost first: a top-level object is the last one the hook saw.
    top = per_object.pop() if isinstance(obj, dict) and per_object else []
    return obj, top, [k for dups in per_object for k in dups]


def _records_jsonl(path: Path) -> list[tuple[str, dict[str, Any]]]:
    out = []
    # Split at "\n" only: str.splitlines() would also break inside a JSON string at U+2028/U+0085,
    # which json.dumps(ensure_ascii=False) writes unescaped.
    for lineno, line in enumerate(_read_text(path).split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            obj, top_dups, nested_dups = _loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        if top_dups or nested_dups:
            raise InputError(f"{path}:{lineno}: field {(top_dups or nested_dups)[0]!r} is given twice in one object")
        out.append((f"{path}:{lineno}", obj))
    return out


def _records_csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    text = _read_text(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    # strict: an unterminated quote or text after a closing quote is an error, not a cell that silently
    # swallows the following rows or loses its quote characters
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    # a report may be longer than the csv module's default cell limit (131,072 characters)
    old_limit = csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        return _csv_rows(path, reader, delimiter)
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.reader.line_num}: malformed CSV ({exc})") from None
    finally:
        csv.field_size_limit(old_limit)


def _csv_rows(path: Path, reader: csv.DictReader, delimiter: str) -> list[tuple[str, dict[str, Any]]]:
    if reader.fieldnames is None:  # reads the header row
        raise InputError(f"{path}: empty CSV (no header row)")
    header = list(reader.fieldnames)
    dup_columns = sorted({c for c in header if header.count(c) > 1})
    if dup_columns:
        raise InputError(f"{path}:{reader.line_num}: header names column(s) {dup_columns} more than once")
    out = []
    end = reader.line_num  # the header's last line
    for row in reader:
        # DictReader's line_num is the *last* physical line of the record; a quoted multi-line cell
        # makes the record span several lines, which the location then shows as a range.
        start, end = end + 1, reader.line_num
        where = f"{path}:{start}" if start >= end else f"{path}:{start}-{end}"
        extra = row.pop(None, None)  # cells beyond the header (DictReader's restkey)
        if extra and any(cell != "" for cell in extra):
            raise InputError(
                f"{where}: {len(header) + len(extra)} cells but the header has {len(header)} columns "
                f"(extra: {extra!r}); quote cells that contain the delimiter {delimiter!r}")
        # undo radeval's own formula neutralisation ('=... written by csv_safe), so a round trip is exact
        out.append((where, {k: restore_cell(v) for k, v in row.items()}))
    return out


def _records_rexrank(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        obj, top_dups, nested_dups = _loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: ReXrank JSON must be an object mapping study id -> record")
    if top_dups:
        raise AlignmentError(f"{path}: duplicate study id(s) {top_dups}", duplicates=top_dups)
    if nested_dups:
        raise InputError(f"{path}: field {nested_dups[0]!r} is given twice in one study record")
    out = []
    for study_id, record in obj.items():
        if not isinstance(record, dict):
            raise InputError(f"{path}: study {study_id!r}: expected an object, got {type(record).__name__}")
        # the study key last: a record's own "__key__" field must not replace the study id
        out.append((f"{path}: study {study_id!r}", {**record, "__key__": study_id}))
    return out


#: Pseudo text field: ReXrank's official reference, ``Findings: {findings} Impression: {impression}``.
REXRANK_REFERENCE = "rexrank-findings+impression"

#: Section keys of the two ReXrank layouts: the test-set files (``section_findings``/``section_impression``)
#: and the submission layout of ReXrank's example ``prediction.json`` (``findings``/``impression``).
REXRANK_SECTIONS = (("section_findings", "section_impression"), ("findings", "impression"))


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def rexrank_reference(record: Mapping[str, Any], where: str) -> str:
    """ReXrank's official reference text of one study record.

    Facts taken from ReXrank's evaluation script (rajpurkarlab/ReXrank, ``example_files/evaluation_script.md``,
    ``split_json``): the ground truth is ``f"Findings: {findings} Impression: {impression}"``; a section that is
    null/NaN is formatted as Python's ``None`` (the script maps ``pd.notna``-false values to ``None``), so it
    reads ``Findings: None Impression: ...``; an empty string stays empty; a section key absent from the
    record makes the script fail (``KeyError``), here an :class:`InputError` naming the study and the key.
    Records in the submission layout (ReXrank's example ``prediction.json``: ``findings``/``impression``)
    are read the same way.

    Raises:
        InputError: neither layout's section keys are present, or a section is not text.

    Example:
        >>> rexrank_reference({"section_findings": "Clear.", "section_impression": None}, "s1")
        'Findings: Clear. Impression: None'
    """
    for f_key, i_key in REXRANK_SECTIONS:
        if f_key in record or i_key in record:
            break
    else:
        raise InputError(f"{where}: no ReXrank sections: expected 'section_findings' and 'section_impression' "
                         "(test-set layout) or 'findings' and 'impression' (submission layout); pass "
                         "--ref-text-field to choose another field")
    parts = []
    for key in (f_key, i_key):
        if key not in record:
            raise InputError(f"{where}: no field {key!r}: ReXrank's official reference needs both sections "
                             f"({f_key!r}, {i_key!r}); pass --ref-text-field {f_key} to score one section only")
        value = record[key]
        if _is_missing(value):
            parts.append("None")  # the official script formats a missing section as None
        elif isinstance(value, str):
            parts.append(value)
        else:
            raise InputError(f"{where}: field {key!r} must be text or null, got {type(value).__name__} {value!r}")
    return f"Findings: {parts[0]} Impression: {parts[1]}"


def _text_of(record: dict[str, Any], key: str, cid: str, where: str) -> str:
    if key == REXRANK_REFERENCE:
        return check_text(rexrank_reference(record, where), case_id=cid, field_name=key, source=where)
    return check_text(_get(record, key, where), case_id=cid, field_name=key, source=where)


_DEFAULT_FIELDS = {
    "jsonl": ("id", "text"),
    "csv": ("id", "text"),
    "rexrank": ("__key__", "model_prediction"),
}


def _records(path: Path, fmt: str) -> list[tuple[str, dict[str, Any]]]:
    if fmt == "jsonl":
        return _records_jsonl(path)
    if fmt == "csv":
        return _records_csv(path)
    if fmt == "rexrank":
        return _records_rexrank(path)
    raise InputError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def _get(record: dict[str, Any], key: str, where: str) -> Any:
    if key not in record:
        fields = ", ".join(repr(k) for k in record if k != "__key__")
        raise InputError(f"{where}: no field {key!r} (fields present: {fields})")
    return record[key]


def _case_id(record: dict[str, Any], key: str, where: str) -> str:
    raw_id = _get(record, key, where)
    if raw_id is None or (isinstance(raw_id, float) and math.isnan(raw_id)) or str(raw_id).strip() == "":
        raise InputError(f"{where}: empty case id in field {key!r}")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int, float)):
        raise InputError(f"{where}: case id in field {key!r} must be a string or a number, "
                         f"got {type(raw_id).__name__} {raw_id!r}")
    return str(raw_id)


def read_reports(path: str | Path, *, format: str | None = None, id_field: str | None = None,
                 text_field: str | None = None, name: str = "") -> Predictions:
    """Read an id -> report mapping from a file.

    Args:
        path: a ``.jsonl`` (one object per line), ``.csv``/``.tsv`` (header row) or ReXrank-style
            ``.json`` file (``{study_id: {field: value, ...}}``).
        format: ``"jsonl"``, ``"csv"`` or ``"rexrank"``; guessed from the extension when omitted.
        id_field: the id column/key (default ``id``; ReXrank: the study key).
        text_field: the text column/key (default ``text``; ReXrank: ``model_prediction``), or
            :data:`REXRANK_REFERENCE` for ReXrank's official ``Findings: ... Impression: ...`` reference.
        name: the system name for error messages.

    Returns:
        :class:`Predictions` in file order.

    Raises:
        InputError: unreadable file, non-UTF-8 bytes (with line), missing field (with line), missing text.
        AlignmentError: duplicate ids.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp(); p = os.path.join(d, "h.jsonl")
        >>> _ = open(p, "w").write('{"id": "c1", "text": "No effusion."}\\n')
        >>> dict(read_reports(p))
        {'c1': 'No effusion.'}
    """
    p = Path(path)
    fmt = format or detect_format(p)
    default_id, default_text = _DEFAULT_FIELDS.get(fmt, ("id", "text"))
    id_key = id_field or default_id
    text_key = text_field or default_text
    pairs: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for where, record in _records(p, fmt):
        cid = _case_id(record, id_key, where)
        if cid in seen:
            raise AlignmentError(f"{where}: duplicate case id {cid!r} (first at {seen[cid]})", duplicates=[cid])
        seen[cid] = where
        pairs.append((cid, _text_of(record, text_key, cid, where)))
    return Predictions(pairs, name=name or p.stem, source=str(p),
                       convention=REXRANK_REFERENCE if text_key == REXRANK_REFERENCE else "")


def read_cases(path: str | Path, *, format: str | None = None, id_field: str | None = None,
               text_field: str | None = None) -> list[Case]:
    """Read evaluation cases (id, reference, metadata = every other field) from a file.

    Same formats and errors as :func:`read_reports`; ReXrank files default to ReXrank's official reference,
    ``Findings: {findings} Impression: {impression}`` (:data:`REXRANK_REFERENCE`, :func:`rexrank_reference`).
    """
    p = Path(path)
    fmt = format or detect_format(p)
    default_id, default_text = _DEFAULT_FIELDS.get(fmt, ("id", "text"))
    if fmt == "rexrank":
        default_text = REXRANK_REFERENCE
    id_key, text_key = id_field or default_id, text_field or default_text
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for where, record in _records(p, fmt):
        cid = _case_id(record, id_key, where)
        if cid in seen:
            raise AlignmentError(f"{where}: duplicate case id {cid!r} (first at {seen[cid]})", duplicates=[cid])
        seen[cid] = where
        text = _text_of(record, text_key, cid, where)
        meta = {k: v for k, v in record.items() if k not in {id_key, text_key, "__key__"}}
        cases.append(Case(cid, text, meta))
    return cases


def write_reports(path: str | Path, reports: Mapping[str, str] | Iterable[tuple[str, str]], *,
                  format: str | None = None, id_field: str = "id", text_field: str = "text") -> None:
    """Write an id -> text mapping as JSONL, CSV or ReXrank-style JSON (atomically).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
        >>> write_reports(p, {"a": "line one\\nline two"})
        >>> dict(read_reports(p))
        {'a': 'line one\\nline two'}
    """
    p = Path(path)
    fmt = format or detect_format(p)
    items = list(reports.items()) if isinstance(reports, Mapping) else list(reports)
    if fmt == "jsonl":
        body = "".join(json.dumps({id_field: k, text_field: v}, ensure_ascii=False) + "\n" for k, v in items)
    elif fmt == "csv":
        body = rows_to_csv([[id_field, text_field], *items], delimiter="\t" if p.suffix.lower() == ".tsv" else ",",
                           lineterminator="\r\n")
    elif fmt == "rexrank":
        key = text_field if text_field != "text" else "model_prediction"
        body = json.dumps({k: {key: v} for k, v in items}, ensure_ascii=False, indent=1)
    else:
        raise InputError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    atomic_write_text(p, body)
