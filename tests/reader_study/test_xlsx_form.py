from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import load_workbook

from radeval.types import Case
from radeval_reader_study.export import export_packet
from radeval_reader_study.ingestion import ingest
from radeval_reader_study.key import read_key



def _fill(path: Path, key, reader: str, rule, *, override: dict | None = None) -> None:
    wb = load_workbook(path)
    ws = wb["Ratings"]
    header = [c.value for c in ws[5]]
    col = {name: j + 1 for j, name in enumerate(header)}
    for row in range(7, ws.max_row + 1):
        item = ws.cell(row=row, column=col["item_id"]).value
        o = key.items[item]
        for crit in key.rubric.criterion_ids:
            ws.cell(row=row, column=col[crit]).value = rule(reader, o.system, o.case_id, crit)
        for (it, crit), value in (override or {}).items():
            if it == item:
                ws.cell(row=row, column=col[crit]).value = value
    wb.save(path)


def test_workbook_structure(exported) -> None:
    key = read_key(exported.key_path)
    path = exported.packet_dir / "reader1" / "ratings.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["Ratings", "Instructions"]
    ws = wb["Ratings"]
    assert ws["A1"].value == "Reader" and ws["B1"].value == "reader1"
    assert ws["B2"].value == key.packet_sha256
    header = [c.value for c in ws[5]]
    assert header == ["case_number", "item_id", "reference_report", "generated_report", "clinical_accuracy",
                      "technical_quality", "comment"]
    assert ws.row_dimensions[5].hidden
    assert ws.protection.sheet is True
    items = [ws.cell(row=r, column=2).value for r in range(7, ws.max_row + 1)]
    assert items == list(key.orders["reader1"])
    for r in range(7, ws.max_row + 1):
        assert ws.cell(row=r, column=4).protection.locked  # report text locked
        assert ws.cell(row=r, column=3).protection.locked
        for j in (5, 6, 7):
            assert not ws.cell(row=r, column=j).protection.locked
    dvs = ws.data_validations.dataValidation
    assert sorted(str(dv.sqref) for dv in dvs) == [f"E7:E{ws.max_row}", f"F7:F{ws.max_row}"]
    assert all(dv.type == "list" and dv.formula1 == '"1,2,3,4,5"' and dv.showErrorMessage for dv in dvs)
    assert wb.properties.creator == "radeval-ct reader study"
    assert "Excellent" in " ".join(str(c.value) for c in wb["Instructions"]["A"])


def test_formula_like_report_stays_text(tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://evil.example","click")'
    res = export_packet([Case("c1", "=1+1")], {"a": {"c1": evil}, "b": {"c1": "+cmd|' /C calc'!A0"}}, n=1,
                        readers=1, seed=0, out_dir=tmp_path / "p", key_path=tmp_path / "k.json", formats=("xlsx",))
    path = res.packet_dir / "reader1" / "ratings.xlsx"
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    ws = load_workbook(path)["Ratings"]
    texts = {ws.cell(row=r, column=4).value for r in (7, 8)}
    assert evil in texts and ws.cell(row=7, column=3).value == "=1+1"


def test_filled_workbook_round_trip(exported, score_rule) -> None:
    key = read_key(exported.key_path)
    paths = []
    for reader in key.readers:
        path = exported.packet_dir / reader / "ratings.xlsx"
        _fill(path, key, reader, score_rule)
        paths.append(path)
    result = ingest(exported.key_path, paths)
    assert result.problems == ()
    assert result.complete and len(result.ratings) == 2 * 36 * 2
    for row in result.unblinded().itertuples():
        assert row.score == score_rule(row.reader, row.system, row.case_id, row.criterion)


def test_bad_cells_are_named_with_sheet_and_row(exported, score_rule) -> None:
    key = read_key(exported.key_path)
    path = exported.packet_dir / "reader1" / "ratings.xlsx"
    first, second, third = key.orders["reader1"][:3]
    _fill(path, key, "reader1", score_rule, override={(first, "clinical_accuracy"): 7,
                                                      (second, "technical_quality"): "good-ish",
                                                      (third, "clinical_accuracy"): 2.5})
    result = ingest(exported.key_path, [path])
    bad = [p for p in result.problems if p.kind == "out_of_range"]
    assert [(p.item_id, p.criterion, p.reader) for p in bad] == [
        (first, "clinical_accuracy", "reader1"), (second, "technical_quality", "reader1"),
        (third, "clinical_accuracy", "reader1")]
    assert bad[0].source == f"{path}:Ratings!7" and "= 7 is not a whole number from 1 to 5" in bad[0].message
    assert len(result.ratings[result.ratings["reader"] == "reader1"]) == 72 - 3
