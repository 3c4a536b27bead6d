"""Ingest rating files: read, validate against the key, and keep every usable score.

Every problem is reported with its file:row, reader and item; nothing is dropped silently. A row that
cannot be used (unknown item, unknown reader, other packet) is reported and left out; a bad score is
reported and only that score is left out; an incomplete study is reported (``missing``) and stays
analysable.

Problem kinds (severity):

* ``unreadable`` (error) — a file that cannot be read at all.
* ``packet_mismatch`` (error) — a row carrying another packet's hash; the row is not used.
* ``no_packet_hash`` (warning) — a file whose rows carry no packet hash (cannot be verified).
* ``unknown_reader`` / ``no_reader`` (error) — a reader not in the key, or none given.
* ``unknown_item`` / ``no_item_id`` (error) — an item id not in the key, or a blank one.
* ``unknown_criterion`` (error) — a long-table row naming a criterion outside the rubric.
* ``out_of_range`` (error) — a score that is not a whole number on the scale.
* ``duplicate`` — the same reader rated the same item twice: a warning when the scores agree
  (counted once), an error when they conflict (that score is not used).
* ``missing`` (warning) — a reader's item, or one criterion of it, without a score.
* ``file_note`` (warning) — columns or cells a reader ignored (named).

Example:
    >>> import tempfile, pathlib
    >>> from radeval_reader_study.export import export_packet
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> refs = {f"c{i}": "Normal." for i in range(4)}
    >>> res = export_packet(refs, {"a": refs, "b": refs}, n=2, readers=1, seed=0, out_dir=d / "p",
    ...                     key_path=d / "key.json", formats=("html",))
    >>> result = ingest(res.key_path, [])
    >>> len(result.ratings), sorted({p.kind for p in result.problems})
    (0, ['missing'])
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from radeval.errors import InputError
from radeval_reader_study.key import StudyKey, read_key
from radeval_reader_study.rating_files import label_aliases, read_rating_file
from radeval_reader_study.records import RawRating
from radeval_reader_study.rubric import Rubric

RATING_COLUMNS = ["item_id", "reader", "criterion", "score", "source"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the ratings.

    Attributes:
        kind: see the module docstring.
        severity: ``"error"`` (data not used) or ``"warning"``.
        message: a full sentence naming the file:row, reader and item.
        source: the file (and row) concerned, if any.
        reader: the reader concerned, if known.
        item_id: the item concerned, if known.
        criterion: the criterion concerned, if one.
    """

    kind: str
    severity: str
    message: str
    source: str = ""
    reader: str | None = None
    item_id: str | None = None
    criterion: str | None = None

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


@dataclass(frozen=True)
class IngestResult:
    """Validated ratings of a study, still blinded, plus every problem found.

    Attributes:
        key: the study key.
        ratings: one row per usable score: ``item_id, reader, criterion, score, source``.
        comments: ``item_id, reader, comment, source`` for non-empty comments.
        problems: every problem, in the order found.
        files: the files read.
    """

    key: StudyKey
    ratings: pd.DataFrame
    comments: pd.DataFrame
    problems: tuple[Problem, ...]
    files: tuple[Path, ...]

    @property
    def errors(self) -> list[Problem]:
        """Problems whose data could not be used."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def complete(self) -> bool:
        """Every reader scored every criterion of every item."""
        expected = len(self.key.readers) * len(self.key.items) * len(self.key.rubric.criteria)
        return len(self.ratings) == expected

    def unblinded(self) -> pd.DataFrame:
        """The ratings with ``case_id`` and ``system`` from the key."""
        df = self.ratings.copy()
        df["case_id"] = [self.key.items[i].case_id for i in df["item_id"]]
        df["system"] = [self.key.items[i].system for i in df["item_id"]]
        return df[["case_id", "system", "reader", "criterion", "score", "item_id", "source"]]

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a table (one row each)."""
        cols = ["severity", "kind", "reader", "item_id", "criterion", "source", "message"]
        return pd.DataFrame([{c: getattr(p, c) for c in cols} for p in self.problems], columns=cols)

    def coverage(self) -> pd.DataFrame:
        """Per reader: scores expected, scores usable, and the fraction complete."""
        per_reader = len(self.key.items) * len(self.key.rubric.criteria)
        counts = self.ratings.groupby("reader").size() if len(self.ratings) else pd.Series(dtype=int)
        rows = [{"reader": r, "expected": per_reader, "rated": int(counts.get(r, 0)),
                 "fraction": (int(counts.get(r, 0)) / per_reader) if per_reader else math.nan}
                for r in self.key.readers]
        return pd.DataFrame(rows, columns=["reader", "expected", "rated", "fraction"])


_INT = re.compile(r"^[+-]?\d+(\.0*)?$")
_LEADING_INT = re.compile(r"^(\d+)\s*[-:.=]?\s*(\S.*)$")


def parse_score(value: Any, rubric: Rubric) -> tuple[int | None, bool]:
    """Turn a cell into a scale value.

    Returns:
        ``(score, ok)``: ``(None, True)`` for a blank cell, ``(int, True)`` for a value on the scale,
        ``(None, False)`` for anything else (off the scale, fractional, unrecognised text).

    Example:
        >>> from radeval_reader_study.rubric import default_rubric
        >>> r = default_rubric()
        >>> [parse_score(v, r) for v in (4, "5", 3.0, "2 Poor", "excellent", "")]
        [(4, True), (5, True), (3, True), (2, True), (5, True), (None, True)]
        >>> [parse_score(v, r) for v in (7, 2.5, "x")]
        [(None, False), (None, False), (None, False)]
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, True
    if isinstance(value, bool):
        return None, False
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    else:
        text = str(value).strip()
        if not text:
            return None, True
        labels = {lab.casefold(): v for v, lab in rubric.scale}
        if _INT.match(text):
            number = int(float(text))
        elif text.casefold() in labels:
            number = labels[text.casefold()]
        else:
            m = _LEADING_INT.match(text)  # "5 Excellent", "5 - Excellent" (a REDCap label export)
            if m and int(m.group(1)) in rubric.values and m.group(2).casefold() == rubric.label(
                    int(m.group(1))).casefold():
                number = int(m.group(1))
    if number is None or number not in rubric.values:
        return None, False
    return number, True


def _who(reader: str | None, item: str | None) -> str:
    return f"reader {reader!r}, item {item!r}"


def ingest(key: StudyKey | str | Path, files: Sequence[str | Path]) -> IngestResult:
    """Read and validate rating files against a study key.

    Args:
        key: the study key or its path.
        files: rating files in any recognised format (see :mod:`radeval_reader_study.rating_files`).

    Returns:
        an :class:`IngestResult`; it always comes back, however many problems were found.

    Raises:
        InputError: only for an unreadable key.
    """
    study = key if isinstance(key, StudyKey) else read_key(key)
    rubric = study.rubric
    criteria = rubric.criterion_ids
    problems: list[Problem] = []
    accepted: list[RawRating] = []
    paths = [Path(f) for f in files]
    for path in paths:
        try:
            rf = read_rating_file(path, criteria=criteria, aliases=label_aliases(rubric))
        except InputError as exc:
            problems.append(Problem("unreadable", "error", str(exc), source=str(path)))
            continue
        for note in rf.problems:
            problems.append(Problem("file_note", "warning", note, source=str(path)))
        mismatched = [r for r in rf.rows if r.packet_sha256 and r.packet_sha256 != study.packet_sha256]
        if mismatched:
            for r in mismatched:
                problems.append(Problem(
                    "packet_mismatch", "error",
                    f"{r.source}: {_who(r.reader, r.item_id)}: packet hash {r.packet_sha256[:12]}... is not this "
                    f"study's packet {study.packet_sha256[:12]}...; row not used",
                    source=r.source, reader=r.reader, item_id=r.item_id))
        unhashed = [r for r in rf.rows if not r.packet_sha256]
        if unhashed:
            problems.append(Problem("no_packet_hash", "warning",
                                    f"{path}: {len(unhashed)} row(s) carry no packet hash; cannot verify they "
                                    "belong to this packet", source=str(path)))
        for r in rf.rows:
            if r.packet_sha256 and r.packet_sha256 != study.packet_sha256:
                continue
            if not r.reader:
                problems.append(Problem("no_reader", "error", f"{r.source}: item {r.item_id!r}: no reader given; "
                                        "row not used", source=r.source, item_id=r.item_id))
            elif r.reader not in study.readers:
                problems.append(Problem("unknown_reader", "error",
                                        f"{r.source}: {_who(r.reader, r.item_id)}: reader is not in the key "
                                        f"(readers: {', '.join(study.readers)}); row not used",
                                        source=r.source, reader=r.reader, item_id=r.item_id))
            elif not r.item_id:
                problems.append(Problem("no_item_id", "error", f"{r.source}: reader {r.reader!r}: blank item id; "
                                        "row not used", source=r.source, reader=r.reader))
            elif r.item_id not in study.items:
                problems.append(Problem("unknown_item", "error",
                                        f"{r.source}: {_who(r.reader, r.item_id)}: item id is not in the key; "
                                        "row not used", source=r.source, reader=r.reader, item_id=r.item_id))
            else:
                accepted.append(r)
    ratings, comments = _scores(accepted, rubric, problems)
    _missing(study, ratings, problems)
    return IngestResult(key=study, ratings=ratings, comments=comments, problems=tuple(problems),
                        files=tuple(paths))


def _scores(rows: list[RawRating], rubric: Rubric, problems: list[Problem]) -> tuple[pd.DataFrame, pd.DataFrame]:
    # (item, reader, criterion) -> list of (score, source) of parsed, non-blank values
    seen: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    rows_of: dict[tuple[str, str], list[tuple[str, set[str]]]] = {}
    comments = []
    for r in rows:
        item, reader = str(r.item_id), str(r.reader)  # ingest() passes only rows with both
        rows_of.setdefault((item, reader), []).append((r.source, set(r.scores)))
        if r.comment.strip():
            comments.append({"item_id": item, "reader": reader, "comment": r.comment, "source": r.source})
        for crit, raw in r.scores.items():
            if crit not in rubric.criterion_ids:
                problems.append(Problem("unknown_criterion", "error",
                                        f"{r.source}: {_who(r.reader, r.item_id)}: criterion {crit!r} is not in "
                                        f"the rubric ({', '.join(rubric.criterion_ids)}); score not used",
                                        source=r.source, reader=r.reader, item_id=r.item_id, criterion=crit))
                continue
            score, ok = parse_score(raw, rubric)
            if not ok:
                problems.append(Problem("out_of_range", "error",
                                        f"{r.source}: {_who(r.reader, r.item_id)}: {crit} = {raw!r} is not a whole "
                                        f"number from {rubric.minimum} to {rubric.maximum}; score not used",
                                        source=r.source, reader=r.reader, item_id=r.item_id, criterion=crit))
            elif score is not None:
                seen.setdefault((item, reader, crit), []).append((score, r.source))
    for (item, reader), entries in rows_of.items():
        if len(entries) < 2:
            continue
        counts: dict[str, int] = {}
        for _, crits in entries:
            for c in crits:
                counts[c] = counts.get(c, 0) + 1
        if any(n > 1 for n in counts.values()):  # long tables legitimately split one item over rows
            sources = [src for src, _ in entries]
            problems.append(Problem("duplicate", "warning",
                                    f"{_who(reader, item)}: rated in {len(sources)} rows ({'; '.join(sources)})",
                                    source=sources[0], reader=reader, item_id=item))
    out = []
    for (item, reader, crit), values in seen.items():
        scores = {s for s, _ in values}
        if len(values) > 1 and len(scores) > 1:
            where = "; ".join(f"{src} = {s}" for s, src in values)
            problems.append(Problem("duplicate", "error",
                                    f"{_who(reader, item)}: conflicting {crit} scores ({where}); score not used",
                                    source=values[0][1], reader=reader, item_id=item, criterion=crit))
            continue
        out.append({"item_id": item, "reader": reader, "criterion": crit, "score": values[0][0],
                    "source": values[0][1]})
    ratings = pd.DataFrame(out, columns=RATING_COLUMNS)
    ratings["score"] = ratings["score"].astype("int64")
    return ratings, pd.DataFrame(comments, columns=["item_id", "reader", "comment", "source"])


def _missing(study: StudyKey, ratings: pd.DataFrame, problems: list[Problem]) -> None:
    have: dict[tuple[str, str], set[str]] = {}
    for item, reader, crit in zip(ratings["item_id"], ratings["reader"], ratings["criterion"], strict=True):
        have.setdefault((item, reader), set()).add(crit)
    criteria = study.rubric.criterion_ids
    for reader in study.readers:
        order = study.orders.get(reader) or tuple(study.items)
        for item in order:
            got = have.get((item, reader), set())
            if not got:
                problems.append(Problem("missing", "warning", f"{_who(reader, item)}: no usable score",
                                        reader=reader, item_id=item))
            else:
                for crit in criteria:
                    if crit not in got:
                        problems.append(Problem("missing", "warning", f"{_who(reader, item)}: no usable {crit} score",
                                                reader=reader, item_id=item, criterion=crit))


def check_replacement(path: str | Path, result: IngestResult) -> None:
    """Refuse to replace an earlier ingest's ``ratings.csv`` when that would lose or change a score.

    A score present in the old table but absent from ``result`` (lost), or present in both with a
    different value (changed), needs ``--force``: a re-ingest must never silently rewrite the record.

    Args:
        path: the ``ratings.csv`` about to be replaced (nothing happens when it does not exist).
        result: the new ingest.

    Raises:
        InputError: naming the file, how many scores would be lost/changed and the first few of them.
    """
    import pandas as pd

    from radeval.csv_safe import restore_cell

    p = Path(path)
    if not p.exists():
        return
    try:
        old = pd.read_csv(p, dtype=str, keep_default_na=False).map(restore_cell)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: exists and cannot be read ({exc}); pass --force to replace it") from None
    cols = ["item_id", "reader", "criterion"]
    if not set(cols) <= set(old.columns) or "score" not in old.columns:
        raise InputError(f"{p}: exists and is not a ratings table; pass --force to replace it")
    new = {tuple(str(v) for v in key): str(score) for *key, score in
           zip(*(result.ratings[c] for c in cols), result.ratings["score"], strict=True)}
    lost, changed = [], []
    for *key, score in zip(*(old[c] for c in cols), old["score"], strict=True):
        k = tuple(key)
        if k not in new:
            lost.append(k)
        elif new[k] != str(score).strip():
            changed.append((k, str(score).strip(), new[k]))
    if lost:
        readers = sorted({r for _, r, _ in lost})
        raise InputError(f"{p}: holds {len(lost)} score(s) (reader(s) {', '.join(readers)}) that this ingest "
                         "does not have; pass that ratings.csv as an input too, choose another --out, or pass "
                         "--force to replace it")
    if changed:
        shown = "; ".join(f"item {k[0]!r} reader {k[1]!r} {k[2]}: {a} -> {b}" for k, a, b in changed[:3])
        raise InputError(f"{p}: this ingest changes {len(changed)} earlier score(s) ({shown}"
                         f"{' ...' if len(changed) > 3 else ''}); pass --force to replace them")
