"""Validation at ingest: every bad-input case is reported with file:row, reader and item; nothing is lost."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from radeval.errors import InputError
from radeval_reader_study.ingestion import ingest, parse_score
from radeval_reader_study.key import read_key
from radeval_reader_study.rubric import default_rubric


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _kinds(result) -> list[str]:
    return sorted({p.kind for p in result.problems})


def test_clean_study_has_no_problems(exported, write_form_csv) -> None:
    files = [write_form_csv(exported.key_path, r) for r in ("reader1", "reader2")]
    result = ingest(exported.key_path, files)
    assert result.problems == () and result.complete
    assert result.coverage()["fraction"].tolist() == [1.0, 1.0]
    assert set(result.unblinded()["system"]) == {"baseline", "v2", "v3"}


def test_out_of_range_scores(exported, write_form_csv, tmp_path: Path) -> None:
    path = write_form_csv(exported.key_path, "reader1")
    rows = _rows(path)
    rows[1][3], rows[2][4], rows[3][3], rows[4][4] = "6", "0", "2.5", "great"
    _write(path, rows)
    result = ingest(exported.key_path, [path])
    bad = [p for p in result.problems if p.kind == "out_of_range"]
    assert [(p.source, p.reader, p.item_id, p.criterion) for p in bad] == [
        (f"{path}:2", "reader1", rows[1][2], "clinical_accuracy"),
        (f"{path}:3", "reader1", rows[2][2], "technical_quality"),
        (f"{path}:4", "reader1", rows[3][2], "clinical_accuracy"),
        (f"{path}:5", "reader1", rows[4][2], "technical_quality")]
    assert "'6' is not a whole number from 1 to 5" in bad[0].message
    # only the bad score is left out; the same row's other criterion is used
    kept = result.ratings[result.ratings["item_id"] == rows[1][2]]
    assert kept["criterion"].tolist() == ["technical_quality"]
    assert {(p.item_id, p.criterion) for p in result.problems if p.kind == "missing" and p.reader == "reader1"} == {
        (rows[1][2], "clinical_accuracy"), (rows[2][2], "technical_quality"), (rows[3][2], "clinical_accuracy"),
        (rows[4][2], "technical_quality")}


def test_missing_items_and_blank_scores(exported, write_form_csv) -> None:
    key = read_key(exported.key_path)
    order = key.orders["reader2"]
    path = write_form_csv(exported.key_path, "reader2", items=list(order[:-2]))
    rows = _rows(path)
    rows[1][4] = ""
    _write(path, rows)
    result = ingest(exported.key_path, [write_form_csv(exported.key_path, "reader1"), path])
    missing = [(p.reader, p.item_id, p.criterion) for p in result.problems if p.kind == "missing"]
    assert missing == [("reader2", order[0], "technical_quality"), ("reader2", order[-2], None),
                       ("reader2", order[-1], None)]
    assert all(p.severity == "warning" for p in result.problems if p.kind == "missing")
    assert not result.complete
    cov = result.coverage().set_index("reader")
    assert cov.loc["reader2", "rated"] == 72 - 4 - 1 and cov.loc["reader1", "fraction"] == 1.0


def test_duplicates_agreeing_and_conflicting(exported, write_form_csv, tmp_path: Path) -> None:
    path = write_form_csv(exported.key_path, "reader1")
    rows = _rows(path)
    same = list(rows[1])
    conflict = list(rows[2])
    conflict[3] = str(1 + int(conflict[3]) % 5)
    _write(path, rows + [same, conflict])
    result = ingest(exported.key_path, [path])
    dups = [p for p in result.problems if p.kind == "duplicate"]
    assert {(p.severity, p.item_id) for p in dups} == {("warning", rows[1][2]), ("warning", rows[2][2]),
                                                       ("error", rows[2][2])}
    conflict_problem = next(p for p in dups if p.severity == "error")
    assert conflict_problem.criterion == "clinical_accuracy" and f"{path}:3" in conflict_problem.message
    assert f"{path}:{len(rows) + 2}" in conflict_problem.message
    r = result.ratings
    assert len(r[(r["item_id"] == rows[1][2])]) == 2  # agreeing duplicate counted once
    assert r[(r["item_id"] == rows[2][2])]["criterion"].tolist() == ["technical_quality"]


def test_duplicate_across_files(exported, write_form_csv) -> None:
    a = write_form_csv(exported.key_path, "reader1", name="a.csv")
    b = write_form_csv(exported.key_path, "reader1", name="b.csv")
    result = ingest(exported.key_path, [a, b])
    dups = [p for p in result.problems if p.kind == "duplicate"]
    assert len(dups) == 36 and all(p.severity == "warning" and "a.csv" in p.message and "b.csv" in p.message
                                   for p in dups)


def test_unknown_items_readers_and_packet(exported, write_form_csv, tmp_path: Path) -> None:
    path = write_form_csv(exported.key_path, "reader1")
    rows = _rows(path)
    rows[1][2] = "ZZZZZZZZZZ"
    rows[2][1] = "reader9"
    rows[3][0] = "0" * 64
    rows[4][2] = ""
    rows[5][1] = ""
    _write(path, rows)
    result = ingest(exported.key_path, [path])
    by_kind = {p.kind: p for p in result.problems if p.severity == "error"}
    assert set(by_kind) == {"unknown_item", "unknown_reader", "packet_mismatch", "no_item_id", "no_reader"}
    assert by_kind["unknown_item"].item_id == "ZZZZZZZZZZ" and by_kind["unknown_item"].source == f"{path}:2"
    assert by_kind["unknown_reader"].reader == "reader9"
    assert "readers: reader1, reader2" in by_kind["unknown_reader"].message
    assert by_kind["packet_mismatch"].item_id == rows[3][2] and by_kind["packet_mismatch"].source == f"{path}:4"
    assert len(result.ratings) == (36 - 5) * 2


def test_whole_file_from_another_packet(exported, write_form_csv, tmp_path: Path) -> None:
    path = write_form_csv(exported.key_path, "reader2")
    rows = _rows(path)
    for r in rows[1:]:
        r[0] = "f" * 64
    _write(path, rows)
    result = ingest(exported.key_path, [path])
    mismatch = [p for p in result.problems if p.kind == "packet_mismatch"]
    assert len(mismatch) == 36 and len(result.ratings) == 0
    assert "ffffffffffff... is not this study's packet" in mismatch[0].message


def test_missing_hash_is_a_warning(exported, write_form_csv) -> None:
    path = write_form_csv(exported.key_path, "reader1")
    rows = [r[1:] for r in _rows(path)]
    _write(path, rows)
    result = ingest(exported.key_path, [path])
    assert [p.kind for p in result.problems if p.reader is None and p.kind != "missing"] == ["no_packet_hash"]
    assert len(result.ratings) == 72


def test_unreadable_files_do_not_stop_the_others(exported, write_form_csv, tmp_path: Path) -> None:
    good = write_form_csv(exported.key_path, "reader1")
    broken_json = tmp_path / "broken.json"
    broken_json.write_text("{not json", encoding="utf-8")
    wrong_json = tmp_path / "other.json"
    wrong_json.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    fake_xlsx = tmp_path / "fake.xlsx"
    fake_xlsx.write_text("not a zip", encoding="utf-8")
    txt = tmp_path / "notes.txt"
    txt.write_text("5 5 5", encoding="utf-8")
    no_id = _write(tmp_path / "noid.csv", [["reader", "clinical_accuracy"], ["reader1", "3"]])
    result = ingest(exported.key_path, [broken_json, wrong_json, fake_xlsx, txt, no_id, tmp_path / "gone.csv", good])
    unreadable = [p for p in result.problems if p.kind == "unreadable"]
    assert [Path(p.source).name for p in unreadable] == ["broken.json", "other.json", "fake.xlsx", "notes.txt",
                                                         "noid.csv", "gone.csv"]
    assert "no 'item_id' column" in unreadable[4].message and "file not found" in unreadable[5].message
    assert len(result.ratings) == 72


def test_extra_columns_are_reported(exported, write_form_csv) -> None:
    path = write_form_csv(exported.key_path, "reader1")
    rows = _rows(path)
    rows[0].append("overall")
    for r in rows[1:]:
        r.append("4")
    _write(path, rows)
    result = ingest(exported.key_path, [path])
    notes = [p for p in result.problems if p.kind == "file_note"]
    assert len(notes) == 1 and "'overall'" in notes[0].message


def test_nothing_is_dropped_silently(exported, write_form_csv, tmp_path: Path) -> None:
    """Every input row is either used or named by a problem."""
    path = write_form_csv(exported.key_path, "reader1")
    rows = _rows(path)
    rows[1][2] = "UNKNOWN000"
    rows[2][3] = "9"
    rows[3][1] = "nobody"
    rows[4][0] = "1" * 64
    rows.append(list(rows[5]))
    _write(path, rows)
    result = ingest(exported.key_path, [path])
    used = set(result.ratings["source"])
    named = {p.source for p in result.problems} | {s for p in result.problems for s in p.message.split("; ")}
    for line in range(2, len(rows) + 1):
        where = f"{path}:{line}"
        assert where in used or any(where in n for n in named), where


def test_long_table_round_trip(exported, write_form_csv, tmp_path: Path) -> None:
    files = [write_form_csv(exported.key_path, r) for r in ("reader1", "reader2")]
    first = ingest(exported.key_path, files)
    table = tmp_path / "ratings.csv"
    table.write_text(first.ratings.assign(packet_sha256=first.key.packet_sha256).to_csv(index=False),
                     encoding="utf-8")
    again = ingest(exported.key_path, [table])
    assert again.problems == ()
    cols = ["item_id", "reader", "criterion", "score"]
    assert again.ratings[cols].values.tolist() == first.ratings[cols].values.tolist()
    rows = _rows(table)
    rows[1][2] = "overall"
    _write(table, rows)
    bad = ingest(exported.key_path, [table])
    assert [p.kind for p in bad.problems if p.severity == "error"] == ["unknown_criterion"]


def test_form_json_is_read(exported, tmp_path: Path, score_rule) -> None:
    key = read_key(exported.key_path)
    doc = {"format": "radeval-reader-study-ratings", "version": 1, "packet_sha256": key.packet_sha256,
           "reader": "reader2", "ratings": [
               {"item_id": i, "scores": {c: score_rule("reader2", key.items[i].system, key.items[i].case_id, c)
                                         for c in key.rubric.criterion_ids}, "comment": ""}
               for i in key.orders["reader2"]]}
    doc["ratings"][0]["scores"]["clinical_accuracy"] = None
    path = tmp_path / "r2.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = ingest(exported.key_path, [path])
    assert len(result.ratings) == 71
    assert [p.kind for p in result.problems if p.reader == "reader2"] == ["missing"]


def test_bad_key(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="key file not found"):
        ingest(tmp_path / "none.json", [])
    (tmp_path / "k.json").write_text('{"format": "something"}', encoding="utf-8")
    with pytest.raises(InputError, match="not a reader-study key"):
        ingest(tmp_path / "k.json", [])


@pytest.mark.parametrize("value, expected", [
    (1, (1, True)), ("  3 ", (3, True)), ("4.0", (4, True)), (5.0, (5, True)), ("Very Poor", (1, True)),
    ("3 Acceptable", (3, True)), ("3 - Acceptable", (3, True)), (None, (None, True)), (float("nan"), (None, True)),
    ("", (None, True)), (True, (None, False)), ("3 Good", (None, False)), ("-1", (None, False)), (6, (None, False)),
])
def test_parse_score(value, expected) -> None:
    assert parse_score(value, default_rubric()) == expected


def test_workbook_of_another_packet_is_rejected(tmp_path: Path, study_inputs, score_rule) -> None:
    """Two exports of the same study differ only in blinding; ratings of one never count for the other."""
    from openpyxl import load_workbook

    from radeval_reader_study.export import export_packet

    kw = dict(n=4, readers=1, seed=0, formats=("xlsx",))
    a = export_packet(study_inputs.cases, study_inputs.systems, out_dir=tmp_path / "a", key_path=tmp_path / "a.json",
                      blinding_seed=1, **kw)
    b = export_packet(study_inputs.cases, study_inputs.systems, out_dir=tmp_path / "b", key_path=tmp_path / "b.json",
                      blinding_seed=2, **kw)
    book = a.packet_dir / "reader1" / "ratings.xlsx"
    wb = load_workbook(book)
    ws = wb["Ratings"]
    for row in range(7, ws.max_row + 1):
        ws.cell(row=row, column=5).value = 3
        ws.cell(row=row, column=6).value = 4
    wb.save(book)
    result = ingest(b.key_path, [book])
    mismatch = [p for p in result.problems if p.kind == "packet_mismatch"]
    assert len(mismatch) == 12 and mismatch[0].source == f"{book}:Ratings!7"
    assert len(result.ratings) == 0 and sum(p.kind == "missing" for p in result.problems) == 12
    assert ingest(a.key_path, [book]).problems == ()


def test_spreadsheet_resaved_csv_with_semicolons(exported, write_form_csv) -> None:
    path = write_form_csv(exported.key_path, "reader1")
    rows = _rows(path)
    path.write_text("\ufeff" + "\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    result = ingest(exported.key_path, [path])
    assert [p for p in result.problems if p.reader in (None, "reader1")] == []
    assert len(result.ratings) == 72


def test_cli_ingest_does_not_overwrite_an_earlier_partial_ingest(exported, write_form_csv, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    from radeval.cli.main import main

    key, out = str(exported.key_path), tmp_path / "ing"
    r1, r2 = write_form_csv(exported.key_path, "reader1"), write_form_csv(exported.key_path, "reader2")
    assert main(["reader-study", "ingest", key, str(r1), "--out", str(out)]) == 1  # reader2 missing
    first = (out / "ratings.csv").read_bytes()
    capsys.readouterr()
    # a later ingest of only the second reader's file would silently drop reader1's scores
    assert main(["reader-study", "ingest", key, str(r2), "--out", str(out)]) == 2
    assert "holds 72 score(s) (reader(s) reader1)" in capsys.readouterr().err
    assert (out / "ratings.csv").read_bytes() == first
    # passing the earlier table along (or every file) keeps everything
    assert main(["reader-study", "ingest", key, str(out / "ratings.csv"), str(r2), "--out", str(out)]) == 0
    assert len(pd.read_csv(out / "ratings.csv")) == 2 * 36 * 2
    assert main(["reader-study", "ingest", key, str(r1), "--out", str(out), "--force"]) == 1
    assert set(pd.read_csv(out / "ratings.csv")["reader"]) == {"reader1"}
