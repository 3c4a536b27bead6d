"""Issue 17 item 2: every CSV radeval writes neutralises formula cells (OWASP CSV injection); numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from radeval.cli.main import main
from radeval.csv_safe import TRIGGERS, frame_to_csv, restore_cell, rows_to_csv, safe_cell
from radeval.io import read_reports, write_reports

EVIL_IDS = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "\t=1", "\r=1", "-1+2"]


def _cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def _unsafe(cells: list[list[str]]) -> list[str]:
    return [c for row in cells for c in row if c.startswith(TRIGGERS) and c.lstrip("+-").replace(".", "", 1)
            .replace("e-", "", 1).replace("e+", "", 1).isdigit() is False]


def test_safe_cell_rules() -> None:
    for value in EVIL_IDS:
        assert safe_cell(value) == "'" + value and restore_cell(safe_cell(value)) == value
    assert safe_cell(-0.5) == -0.5 and safe_cell("-1") == "-1" and safe_cell("+2.5e-3") == "+2.5e-3"
    assert safe_cell("'=x") == "''=x" and restore_cell("''=x") == "'=x"
    assert safe_cell("plain") == "plain" and restore_cell("'plain") == "'plain"
    text = rows_to_csv([["id", "v"], ["=x", -0.5]])
    assert text == "id,v\n'=x,-0.5\n"
    frame = pd.DataFrame({"system": ["@evil", "ok"], "score": [-0.5, 1.0]})
    assert frame_to_csv(frame) == "system,score\n'@evil,-0.5\nok,1.0\n"


def test_written_report_csv_round_trips_exactly(tmp_path: Path) -> None:
    reports = {cid: f"text {i}" for i, cid in enumerate(EVIL_IDS)} | {"x": "=HYPERLINK(\"http://e\")", "-1": "-2"}
    path = tmp_path / "r.csv"
    write_reports(path, reports)
    assert not _unsafe(_cells(path))
    assert dict(read_reports(path)) == reports


def _jsonl(path: Path, items: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in items.items()), encoding="utf-8")
    return path


def test_score_and_compare_csvs_have_no_formula_cells(tmp_path: Path) -> None:
    refs = {cid: "No pleural effusion. Heart normal." for cid in EVIL_IDS} | {"-1": "Small nodule."}
    hyps = {cid: "No effusion." for cid in refs}
    r, h = _jsonl(tmp_path / "r.jsonl", refs), _jsonl(tmp_path / "h.jsonl", hyps)
    assert main(["score", "--refs", str(r), "--hyps", str(h), "--metrics", "bleu1", "rougeL", "--no-cache",
                 "--out", str(tmp_path / "scores.csv")]) == 0
    cells = _cells(tmp_path / "scores.csv")
    assert not _unsafe(cells)
    assert {row[0] for row in cells[1:]} == {"'" + c for c in EVIL_IDS} | {"-1"}  # "-1" is a number-like id: kept
    other = _jsonl(tmp_path / "o.jsonl", refs)
    assert main(["compare", "--refs", str(r), "--hyps", f"+plus={h}", f"@sys={other}", "--metrics", "bleu1",
                 "--no-cache", "--resamples", "100", "--quiet", "--out", str(tmp_path / "cmp.csv")]) == 0
    cells = _cells(tmp_path / "cmp.csv")
    assert not _unsafe(cells) and "'@sys" in {row[0] for row in cells[1:]}


def test_label_csv_has_no_formula_cells(tmp_path: Path) -> None:
    reports = _jsonl(tmp_path / "r.jsonl", {cid: "Mild emphysema." for cid in EVIL_IDS})
    assert main(["label", "--reports", str(reports), "--out", str(tmp_path / "labels.csv")]) == 0
    cells = _cells(tmp_path / "labels.csv")
    assert not _unsafe(cells) and {row[0] for row in cells[1:]} == {"'" + c for c in EVIL_IDS}
