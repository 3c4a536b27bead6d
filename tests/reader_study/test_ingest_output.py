"""Ingest outputs: the tables, the no-lost-scores rule and the printed summaries (radeval_reader_study.ingest_output)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from radeval.errors import InputError
from radeval_reader_study.ingestion import check_replacement
from radeval_reader_study.ingest_output import coverage_lines, problem_lines, write_ingest_tables
from radeval_reader_study.ingestion import ingest


def test_tables_summaries_and_no_lost_scores(exported, write_form_csv, tmp_path: Path) -> None:
    both = ingest(exported.key_path, [write_form_csv(exported.key_path, r) for r in ("reader1", "reader2")])
    n_crit = len(both.key.rubric.criterion_ids)
    assert coverage_lines(both) == [f"reader reader{i}: {36 * n_crit}/{36 * n_crit} scores (100.0%)" for i in (1, 2)]
    assert problem_lines(both, 5) == []
    files = write_ingest_tables(tmp_path / "out", both)
    saved = pd.read_csv(files.ratings, dtype=str)
    assert len(saved) == len(both.ratings) and set(saved["packet_sha256"]) == {both.key.packet_sha256}
    assert files.comments.is_file() and files.problems.is_file()

    # a later ingest of reader1 only would drop reader2's scores: refused, nothing replaced
    one = ingest(exported.key_path, [write_form_csv(exported.key_path, "reader1", name="r1-only.csv")])
    before = files.ratings.read_bytes()
    with pytest.raises(InputError, match=r"holds \d+ score\(s\) \(reader\(s\) reader2\)"):
        write_ingest_tables(tmp_path / "out", one)
    assert files.ratings.read_bytes() == before
    lines = problem_lines(one, 1)
    assert lines[0].startswith(f"{len(one.problems)} problem(s): ") and lines[1].startswith("  ")
    assert lines[-1] == f"  ... {len(one.problems) - 1} more (all are in problems.csv with --out)"
    assert coverage_lines(one)[1] == f"reader reader2: 0/{36 * n_crit} scores (0.0%)"
    write_ingest_tables(tmp_path / "out", one, overwrite=True)  # told to: replaced
    assert files.ratings.read_bytes() != before


def test_an_earlier_file_that_is_not_a_ratings_table_is_not_replaced(tmp_path: Path) -> None:
    other = tmp_path / "ratings.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="is not a ratings table"):
        check_replacement(other, SimpleNamespace(ratings=pd.DataFrame(columns=["item_id", "reader", "criterion"])))
    check_replacement(tmp_path / "absent.csv", SimpleNamespace(ratings=pd.DataFrame()))  # nothing there: nothing to lose
