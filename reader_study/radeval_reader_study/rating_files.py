"""Read any rating file a study produces into raw rows, without judging them.

Recognised files (by extension, then by columns):

* ``.xlsx`` — a filled workbook from the packet (:mod:`radeval_reader_study.xlsx_form`).
* ``.json`` — the HTML form's JSON download (``"format": "radeval-reader-study-ratings"``).
* ``.csv`` / ``.tsv`` with a ``criterion`` and a ``score`` column — a long table (one score per
  row: ``item_id, reader, criterion, score[, packet_sha256, comment]``), e.g. ``radeval
  reader-study ingest --out`` output.
* ``.csv`` / ``.tsv`` with ``record_id`` or ``redcap_*`` columns — a REDCap export of the
  ``report_rating`` instrument (raw values or labels; variable names or field labels as headings).
* any other ``.csv`` / ``.tsv`` — the HTML form's CSV download (one row per report).

Every row becomes a :class:`~radeval_reader_study.records.RawRating` carrying ``file:row``; validation
happens in :mod:`radeval_reader_study.ingestion`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from radeval.csv_safe import restore_cell
from radeval.errors import InputError
from radeval_reader_study.records import RatingFile, RawRating
from radeval_reader_study.rubric import Rubric

#: Columns of wide rating files that are not criteria.
BOOKKEEPING_COLUMNS = frozenset({"packet_sha256", "reader", "item_id", "comment", "saved_at", "record_id",
                                 "case_number", "reference_report", "generated_report"})

#: Headings REDCap gives its own columns in a "labels" export -> their variable names.
REDCAP_SYSTEM_LABELS = {
    "Data Access Group": "redcap_data_access_group", "Event Name": "redcap_event_name",
    "Repeat Instrument": "redcap_repeat_instrument", "Repeat Instance": "redcap_repeat_instance",
    "Survey Identifier": "redcap_survey_identifier", "Survey Timestamp": "report_rating_timestamp",
    "Complete?": "report_rating_complete",
}

#: ``format`` field of the HTML form's JSON download.
FORM_JSON_FORMAT = "radeval-reader-study-ratings"


def label_aliases(rubric: Rubric) -> dict[str, str]:
    """Column headings of a REDCap "labels" export (field labels) -> field names."""
    from radeval_reader_study.redcap import field_labels

    out = {label: name for name, label in field_labels(rubric).items()}
    out.update(REDCAP_SYSTEM_LABELS)
    return out


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not valid UTF-8") from None


def _delimiter(text: str, path: Path) -> str:
    """Tab for ``.tsv``; otherwise comma, unless the header line only has semicolons (a CSV re-saved
    by a spreadsheet in a locale that uses the decimal comma)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > 0 and header.count(",") == 0 else ","


def _is_redcap_extra(column: str) -> bool:
    return column.startswith("redcap_") or column.endswith("_complete") or column.endswith("_timestamp")


def _opt(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _read_csv(path: Path, criteria: Sequence[str], aliases: Mapping[str, str]) -> RatingFile:
    text = _read_text(path)
    delimiter = _delimiter(text, path)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InputError(f"{path}: empty file (no header row)")
    if "item_id" not in header:  # e.g. a REDCap export with field labels as column headings
        header = [aliases.get(h, h) for h in header]
    reader.fieldnames = header
    if "item_id" not in header:
        raise InputError(f"{path}: no 'item_id' column (columns: {', '.join(header)})")
    long_form = "criterion" in header and "score" in header
    fmt = "table" if long_form else ("redcap" if "record_id" in header or any(map(_is_redcap_extra, header))
                                     else "form-csv")
    notes: list[str] = []
    if not long_form:
        unknown = [h for h in header if h not in BOOKKEEPING_COLUMNS and h not in criteria
                   and not _is_redcap_extra(h)]
        if unknown:
            notes.append(f"{path}: column(s) {', '.join(map(repr, unknown))} are not criteria of the rubric "
                         f"({', '.join(criteria)}) and were not read")
    rows = []
    for record in reader:
        record = {k: restore_cell(v) for k, v in record.items()}  # undo radeval's own '=... neutralisation
        where = f"{path}:{reader.line_num}"
        if None in record:  # more cells than header columns
            notes.append(f"{where}: {len(record[None])} cell(s) beyond the header were not read")
        if all(v in (None, "") for k, v in record.items() if k is not None):
            continue  # blank line
        if long_form:
            crit = _opt(record.get("criterion")) or ""
            scores = {crit: record.get("score")}
        else:
            scores = {c: record.get(c) for c in criteria if c in header}
        rows.append(RawRating(source=where, reader=_opt(record.get("reader")), item_id=_opt(record.get("item_id")),
                              scores=scores, comment=record.get("comment") or "",
                              packet_sha256=_opt(record.get("packet_sha256"))))
    return RatingFile(path=path, format=fmt, rows=tuple(rows), problems=tuple(notes))


def _read_form_json(path: Path, criteria: Sequence[str]) -> RatingFile:
    try:
        doc = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORM_JSON_FORMAT:
        raise InputError(f"{path}: not a rating-form JSON file (expected \"format\": \"{FORM_JSON_FORMAT}\")")
    ratings = doc.get("ratings")
    if not isinstance(ratings, list):
        raise InputError(f"{path}: 'ratings' must be a list")
    notes: list[str] = []
    rows = []
    for i, entry in enumerate(ratings):
        where = f"{path}: ratings[{i}]"
        if not isinstance(entry, dict):
            notes.append(f"{where}: expected an object, got {type(entry).__name__}; not read")
            continue
        scores = entry.get("scores") if isinstance(entry.get("scores"), dict) else {}
        extra = sorted(set(scores) - set(criteria))
        if extra:
            notes.append(f"{where}: score(s) {', '.join(map(repr, extra))} are not criteria of the rubric; not read")
        rows.append(RawRating(source=where, reader=_opt(entry.get("reader", doc.get("reader"))),
                              item_id=_opt(entry.get("item_id")),
                              scores={c: scores.get(c) for c in criteria},
                              comment=str(entry.get("comment") or ""),
                              packet_sha256=_opt(entry.get("packet_sha256", doc.get("packet_sha256")))))
    return RatingFile(path=path, format="form-json", rows=tuple(rows), problems=tuple(notes))


def read_rating_file(path: str | Path, *, criteria: Sequence[str],
                     aliases: Mapping[str, str] | None = None) -> RatingFile:
    """Read one rating file (format recognised as described in the module docstring).

    Args:
        path: the file.
        criteria: the rubric's criterion ids (the score columns to read).
        aliases: column heading -> field name, used when a CSV has no ``item_id`` column (a REDCap
            export with labels as headings); see :func:`label_aliases`.

    Raises:
        InputError: unreadable or unrecognised file, naming it.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        from radeval_reader_study.xlsx_form import read_workbook

        return read_workbook(p, criteria=criteria)
    if suffix == ".json":
        return _read_form_json(p, criteria)
    if suffix in {".csv", ".tsv"}:
        return _read_csv(p, criteria, aliases or {})
    raise InputError(f"{p}: unknown rating file type {suffix!r}; expected .csv, .tsv, .json or .xlsx")
