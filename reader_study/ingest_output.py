"""What an ingest leaves behind: the ratings/comments/problems tables (never losing earlier scores) and summaries.

``radeval reader-study ingest`` and ``analyze`` print :func:`coverage_lines` and :func:`problem_lines` and save
with :func:`write_ingest_tables`, which refuses to replace an earlier ``ratings.csv`` holding scores the new
ingest lacks (:func:`check_not_losing_scores`) unless told to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radeval import number_format
from radeval.errors import InputError
from radeval.paths import atomic_write_text
from reader_study.ingestion import IngestResult

#: The columns that identify one score.
SCORE_KEY: tuple[str, ...] = ("item_id", "reader", "criterion")


@dataclass(frozen=True)
class IngestFiles:
    """Paths written by :func:`write_ingest_tables`."""

    ratings: Path
    comments: Path
    problems: Path


def coverage_lines(result: IngestResult) -> list[str]:
    """One line per reader: ``reader r1: 17/18 scores (94.4%)``."""
    return [f"reader {r.reader}: {r.rated}/{r.expected} scores "
            f"({number_format.percent(100 * r.fraction, signed=False)})" for r in result.coverage().itertuples()]


def problem_lines(result: IngestResult, show: int) -> list[str]:
    """A count by severity and kind, then the first ``show`` problems (indented), then how many more there are;
    empty when there is no problem."""
    counts = Counter((p.severity, p.kind) for p in result.problems)
    if not counts:
        return []
    lines = [f"{len(result.problems)} problem(s): "
             + ", ".join(f"{n} {k} ({s})" for (s, k), n in sorted(counts.items()))]
    lines += [f"  {p}" for p in result.problems[:show]]
    if len(result.problems) > show:
        lines.append(f"  ... {len(result.problems) - show} more (all are in problems.csv with --out)")
    return lines


def check_not_losing_scores(path: str | Path, ratings: pd.DataFrame) -> None:
    """Refuse to replace an earlier ratings table at ``path`` that holds scores ``ratings`` does not have.

    Nothing happens when ``path`` does not exist.

    Raises:
        InputError: the earlier file is unreadable, is not a ratings table, or holds scores (by item, reader and
            criterion) missing from ``ratings``; the message names the readers and the ways out.
    """
    path = Path(path)
    if not path.exists():
        return
    try:
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: exists and cannot be read ({exc}); pass --force to replace it") from None
    cols = list(SCORE_KEY)
    if not set(cols) <= set(old.columns):
        raise InputError(f"{path}: exists and is not a ratings table; pass --force to replace it")
    new = set(zip(*(ratings[c].astype(str) for c in cols), strict=True))
    lost = sorted({t for t in zip(*(old[c] for c in cols), strict=True)} - new)
    if lost:
        readers = sorted({r for _, r, _ in lost})
        raise InputError(f"{path}: holds {len(lost)} score(s) (reader(s) {', '.join(readers)}) that this ingest "
                         "does not have; pass that ratings.csv as an input too, choose another --out, or pass "
                         "--force to replace it")


def write_ingest_tables(out_dir: str | Path, result: IngestResult, *, overwrite: bool = False) -> IngestFiles:
    """Write ``ratings.csv`` (with the packet's SHA-256 on every row), ``comments.csv`` and ``problems.csv``.

    Args:
        out_dir: the folder (created if needed).
        result: what :func:`reader_study.ingestion.ingest` returned.
        overwrite: replace an earlier ``ratings.csv`` even if it holds scores this ingest lacks.

    Raises:
        InputError: see :func:`check_not_losing_scores` (nothing is written then).
    """
    out = Path(out_dir)
    files = IngestFiles(out / "ratings.csv", out / "comments.csv", out / "problems.csv")
    if not overwrite:
        check_not_losing_scores(files.ratings, result.ratings)
    table = result.ratings.assign(packet_sha256=result.key.packet_sha256)
    atomic_write_text(files.ratings, table.to_csv(index=False))
    atomic_write_text(files.comments, result.comments.to_csv(index=False))
    atomic_write_text(files.problems, result.problems_frame().to_csv(index=False))
    return files
