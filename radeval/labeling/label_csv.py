"""Reading and writing label decisions in the CT-RATE labels-CSV layout.

The layout is ``VolumeName`` followed by one column per label, values 0/1 (CT-RATE's
``*_predicted_labels.csv``). We also accept -1 (a masked, uncertain decision written by the
rule-based labeler in ``uncertain="ignore"`` mode).

Ids are matched after stripping a volume extension (``.nii.gz``, ``.nii``, ``.npz``, ``.nrrd``):
CT-RATE's VolumeName carries ``.nii.gz`` while report files and some third-party CSVs do not.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from radeval.csv_safe import restore_cell, rows_to_csv
from radeval.data.labels import all_label_names
from radeval.errors import AlignmentError, InputError, UnknownNameError
from radeval.labeling.base import LabelTable, resolve_labels
from radeval.paths import atomic_write_text

#: The id column of the CT-RATE labels CSV.
ID_COLUMN = "VolumeName"
_VOLUME_SUFFIXES = (".nii.gz", ".nii", ".npz", ".nrrd", ".mha", ".mhd")


def case_key(name: str) -> str:
    """The id used for matching: ``name`` without a volume-file extension.

    Example:
        >>> case_key("valid_53_a_1.nii.gz"), case_key("valid_53_a_1")
        ('valid_53_a_1', 'valid_53_a_1')
    """
    for suffix in _VOLUME_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def write_label_csv(path: str | Path, table: LabelTable) -> None:
    """Write ``table`` as ``VolumeName,<label 1>,...,<label L>`` with integer cells (atomically).

    Example:
        >>> import tempfile, os
        >>> t = LabelTable(("a",), ("Emphysema",), np.array([[1]], dtype=np.int8), "rules")
        >>> p = os.path.join(tempfile.mkdtemp(), "l.csv"); write_label_csv(p, t)
        >>> open(p).read().splitlines()
        ['VolumeName,Emphysema', 'a,1']
    """
    rows = [[ID_COLUMN, *table.labels], *([rid, *(int(v) for v in row)] for rid, row in zip(table.ids, table.decisions))]
    atomic_write_text(path, rows_to_csv(rows))


def _cell(value: str, where: str, column: str) -> int:
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"{where}: column {column!r}: {value!r} is not 0 or 1") from None
    if number not in (0.0, 1.0, -1.0):
        raise InputError(f"{where}: column {column!r}: {value!r} is not 0 or 1")
    return int(number)


def read_label_csv(path: str | Path, *, labels: str | Sequence[str] | None = None) -> LabelTable:
    """Read a labels CSV (CT-RATE layout) into a :class:`LabelTable`.

    Args:
        path: the CSV file.
        labels: the label columns to read, in this order (a set name or names); default: every
            column after ``VolumeName``, each of which must be a known label name.

    Raises:
        InputError: missing file, no ``VolumeName`` column, a missing label column, a cell that is
            not 0/1 (naming file:line and column), a duplicate id.
        UnknownNameError: a column that is not a known label (with close matches).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "l.csv")
        >>> _ = open(p, "w").write("VolumeName,Emphysema,Atelectasis\\nx.nii.gz,1,0\\n")
        >>> t = read_label_csv(p); t.ids, t.labels, t.decisions.tolist()
        (('x.nii.gz',), ('Emphysema', 'Atelectasis'), [[1, 0]])
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except UnicodeDecodeError as exc:
        raw = p.read_bytes()
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{p}:{line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise InputError(f"{p}: empty file (no header row)")
    header = [h.strip() for h in header]
    if ID_COLUMN not in header:
        raise InputError(f"{p}: no {ID_COLUMN!r} column (header: {', '.join(header)})")
    label_columns = [h for h in header if h != ID_COLUMN]
    if labels is None:
        for column in label_columns:
            try:
                resolve_labels([column])
            except UnknownNameError:
                close = difflib.get_close_matches(column, all_label_names(), n=3, cutoff=0.5)
                hint = f"; did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
                raise UnknownNameError(f"{p}: unknown label column {column!r}{hint}") from None
        wanted = resolve_labels(label_columns) if label_columns else resolve_labels("ct-rate")
    else:
        wanted = resolve_labels(labels)
    missing = [name for name in wanted if name not in header]
    if missing:
        raise InputError(f"{p}: label column(s) missing: {', '.join(repr(m) for m in missing)}")
    index = {name: header.index(name) for name in (ID_COLUMN, *wanted)}
    ids: list[str] = []
    rows: list[list[int]] = []
    seen: dict[str, int] = {}
    for line_no, record in enumerate(reader, start=2):
        if not record or all(not c.strip() for c in record):
            continue
        where = f"{p}:{line_no}"
        if len(record) != len(header):
            raise InputError(f"{where}: {len(record)} cells but the header has {len(header)}")
        rid = restore_cell(record[index[ID_COLUMN]].strip())
        if not rid:
            raise InputError(f"{where}: empty {ID_COLUMN}")
        key = case_key(rid)
        if key in seen:
            raise InputError(f"{where}: duplicate id {rid!r} (first on line {seen[key]})")
        seen[key] = line_no
        ids.append(rid)
        rows.append([_cell(record[index[name]], where, name) for name in wanted])
    decisions = np.array(rows, dtype=np.int8).reshape(len(rows), len(wanted))
    return LabelTable(tuple(ids), tuple(wanted), decisions, f"file:{p.name}")


def align_tables(reference: LabelTable, hypothesis: LabelTable) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Pair two label tables by id (volume extensions ignored), in the reference's order.

    Returns:
        ``(ids, reference decisions, hypothesis decisions)``.

    Raises:
        InputError: the tables have different label columns.
        AlignmentError: ids on one side only (both lists are named).
    """
    if tuple(reference.labels) != tuple(hypothesis.labels):
        only_ref = [n for n in reference.labels if n not in hypothesis.labels]
        only_hyp = [n for n in hypothesis.labels if n not in reference.labels]
        detail = f"only in reference: {only_ref}; only in hypothesis: {only_hyp}" if only_ref or only_hyp \
            else "same labels in a different order"
        raise InputError(f"the label tables have different label columns ({detail})")
    hyp_index = {case_key(i): k for k, i in enumerate(hypothesis.ids)}
    ref_keys = [case_key(i) for i in reference.ids]
    missing = [i for i, k in zip(reference.ids, ref_keys) if k not in hyp_index]
    ref_set = set(ref_keys)
    extra = [i for i in hypothesis.ids if case_key(i) not in ref_set]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} id(s) of the reference labels have no hypothesis: {missing[:10]}")
        if extra:
            parts.append(f"{len(extra)} hypothesis id(s) are not in the reference labels: {extra[:10]}")
        raise AlignmentError("; ".join(parts), missing=missing, extra=extra)
    order = [hyp_index[k] for k in ref_keys]
    return list(reference.ids), reference.decisions, hypothesis.decisions[order]
