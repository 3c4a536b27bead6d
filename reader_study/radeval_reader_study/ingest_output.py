"""What an ingest leaves behind: the ratings/comments/problems tables (never losing earlier scores) and summaries.

``radeval reader-study ingest`` and ``analyze`` print :func:`coverage_lines` and :func:`problem_lines` and save
with :func:`write_ingest_tables`, which refuses to replace an earlier ``ratings.csv`` holding scores the new
ingest lacks (:func:`radeval_reader_study.ingestion.check_replacement`) unless told to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path


from radeval import number_format
from radeval.csv_safe import frame_to_csv
from radeval.paths import atomic_write_text
from radeval_reader_study.ingestion import IngestResult, check_replacement

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


def write_ingest_tables(out_dir: str | Path, result: IngestResult, *, overwrite: bool = False) -> IngestFiles:
    """Write ``ratings.csv`` (with the packet's SHA-256 on every row), ``comments.csv`` and ``problems.csv``.

    Args:
        out_dir: the folder (created if needed).
        result: what :func:`radeval_reader_study.ingestion.ingest` returned.
        overwrite: replace an earlier ``ratings.csv`` even if it holds scores this ingest lacks.

    Raises:
        InputError: see :func:`radeval_reader_study.ingestion.check_replacement` (nothing is written then).
    """
    out = Path(out_dir)
    files = IngestFiles(out / "ratings.csv", out / "comments.csv", out / "problems.csv")
    if not overwrite:
        check_replacement(files.ratings, result)
    table = result.ratings.assign(packet_sha256=result.key.packet_sha256)
    atomic_write_text(files.ratings, frame_to_csv(table))
    atomic_write_text(files.comments, frame_to_csv(result.comments))
    atomic_write_text(files.problems, frame_to_csv(result.problems_frame()))
    return files
