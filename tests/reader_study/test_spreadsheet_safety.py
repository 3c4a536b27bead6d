"""Issue 17: no spreadsheet formula leaves the reader study; formulas in rating files are named; exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from radeval.cli.main import main
from radeval.types import Case
from radeval_reader_study.export import export_packet
from radeval_reader_study.ingestion import ingest
from radeval_reader_study.key import read_key

EVIL = '=HYPERLINK("http://evil.example","click")'


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _export(tmp_path: Path, formats: tuple[str, ...]):
    cases = [Case("c1", "+1 reference"), Case("c2", "Normal.")]
    systems = {"a": {"c1": EVIL, "c2": "\t=1+1"}, "b": {"c1": "@SUM(A1)", "c2": "-2+3"}}
    return export_packet(cases, systems, n=2, readers=1, seed=0, out_dir=tmp_path / "p",
                         key_path=tmp_path / "k.json", formats=formats)


def test_redcap_template_neutralises_formulas_but_keeps_action_tags(tmp_path: Path) -> None:
    res = _export(tmp_path, ("redcap",))
    template = _rows(res.packet_dir / "redcap" / "import_template.csv")
    cells = [c for row in template[1:] for c in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells
    texts = set(cells)
    # the leading tab is turned into a space and stripped by the display form: the "=" it exposed is quoted
    assert "'" + EVIL in texts and "'=1+1" in texts and "'@SUM(A1)" in texts and "'-2+3" in texts
    assert "'+1 reference" in texts
    dictionary = _rows(res.packet_dir / "redcap" / "data_dictionary.csv")
    annotations = [row[-1] for row in dictionary[1:]]
    assert "@READONLY" in annotations and "@READONLY @HIDDEN-SURVEY" in annotations


def test_ingest_comments_csv_is_neutralised_and_reads_back(tmp_path: Path) -> None:
    res = _export(tmp_path, ("html",))
    key = read_key(res.key_path)
    crits = key.rubric.criterion_ids
    doc = {"format": "radeval-reader-study-ratings", "version": 1, "packet_sha256": key.packet_sha256,
           "reader": "reader1", "ratings": [
               {"item_id": i, "comment": "=cmd|' /C calc'!A0", "scores": {c: 3 for c in crits}}
               for i in key.orders["reader1"]]}
    form = tmp_path / "r1.json"
    form.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["reader-study", "ingest", str(res.key_path), str(form), "--out", str(tmp_path / "ing")]) in (0, 1)
    comments = _rows(tmp_path / "ing" / "comments.csv")
    assert {row[2] for row in comments[1:]} == {"'=cmd|' /C calc'!A0"}


def test_xlsx_formula_rating_is_reported_as_a_formula(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    res = _export(tmp_path, ("xlsx",))
    book = res.packet_dir / "reader1" / "ratings.xlsx"
    key = read_key(res.key_path)
    wb = load_workbook(book)
    ws = wb["Ratings"]
    col = {c.value: c.column for c in ws[5]}
    for row in range(7, ws.max_row + 1):
        for c in key.rubric.criterion_ids:
            ws.cell(row=row, column=col[c]).value = 4
    ws.cell(row=7, column=col[key.rubric.criterion_ids[0]]).value = "=2+2"
    wb.save(book)
    result = ingest(res.key_path, [book])
    notes = [p.message for p in result.problems if "formula" in p.message]
    assert notes and "Ratings!E7" in notes[0] and "=2+2" in notes[0]
    # the score itself is an error naming the formula, not only a "missing" coverage warning
    assert any(p.severity == "error" and "=2+2" in p.message for p in result.problems)


def _filled_form(tmp_path: Path, key, score: int, *, extra: list | None = None) -> Path:
    crits = key.rubric.criterion_ids
    ratings = [{"item_id": i, "comment": "", "scores": {c: score for c in crits}} for i in key.orders["reader1"]]
    doc = {"format": "radeval-reader-study-ratings", "version": 1, "packet_sha256": key.packet_sha256,
           "reader": "reader1", "ratings": ratings + (extra or [])}
    path = tmp_path / f"form{score}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_reingesting_a_changed_rating_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = _export(tmp_path, ("html",))
    key = read_key(res.key_path)
    out = tmp_path / "ing"
    assert main(["reader-study", "ingest", str(res.key_path), str(_filled_form(tmp_path, key, 3)),
                 "--out", str(out)]) == 0
    before = (out / "ratings.csv").read_bytes()
    capsys.readouterr()
    assert main(["reader-study", "ingest", str(res.key_path), str(_filled_form(tmp_path, key, 4)),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "earlier score(s)" in err and "3 -> 4" in err and "--force" in err
    assert (out / "ratings.csv").read_bytes() == before
    assert main(["reader-study", "ingest", str(res.key_path), str(_filled_form(tmp_path, key, 4)),
                 "--out", str(out), "--force"]) == 0
    assert (out / "ratings.csv").read_bytes() != before
    # the same scores again are not a change
    assert main(["reader-study", "ingest", str(res.key_path), str(_filled_form(tmp_path, key, 4)),
                 "--out", str(out)]) == 0


def test_analyze_exits_nonzero_when_validation_fails(tmp_path: Path) -> None:
    res = _export(tmp_path, ("html",))
    key = read_key(res.key_path)
    bad = _filled_form(tmp_path, key, 3, extra=[{"item_id": "NOSUCHITEM", "scores": {}}])
    assert main(["reader-study", "analyze", str(res.key_path), str(bad), "--out", str(tmp_path / "rep"),
                 "--resamples", "200"]) == 1
    good = _filled_form(tmp_path, key, 4)
    assert main(["reader-study", "analyze", str(res.key_path), str(good), "--out", str(tmp_path / "rep2"),
                 "--resamples", "200"]) == 0
