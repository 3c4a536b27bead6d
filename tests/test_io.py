"""Readers and writers of report files: round trips, configurable fields, errors naming file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from radeval.errors import AlignmentError, InputError
from radeval.io import detect_format, read_cases, read_reports, write_reports
from radeval.types import Case

REPORTS = {
    "CT_001": "No pleural effusion.\nHeart size is normal.",
    "CT_002": 'Quotes "inside", commas, and ; semicolons',
    "CT_003": "",
    "CT_004": "Unicode: café µm ≥ 5 – İ",
    "CT_005": "Line separators\u2028and\x85NEL and\ttabs\r\nand CRLF",
}


@pytest.mark.parametrize("name", ["r.jsonl", "r.csv", "r.tsv", "r.json"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    write_reports(path, REPORTS)
    back = read_reports(path)
    assert dict(back) == REPORTS
    assert list(back) == list(REPORTS)  # file order is kept


def test_round_trip_with_configurable_fields(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write_reports(path, REPORTS, id_field="VolumeName", text_field="Findings_EN")
    assert dict(read_reports(path, id_field="VolumeName", text_field="Findings_EN")) == REPORTS
    csv_path = tmp_path / "r.csv"
    write_reports(csv_path, REPORTS, id_field="case", text_field="findings")
    assert dict(read_reports(csv_path, id_field="case", text_field="findings")) == REPORTS
    # the first record spans lines 2-3 (a newline inside a quoted cell)
    with pytest.raises(InputError, match=r"r\.csv:2-3: no field 'id' \(fields present: 'case', 'findings'\)"):
        read_reports(csv_path)
    with pytest.raises(InputError, match=r"r\.csv:2-3: no field 'text' \(fields present: 'case', 'findings'\)"):
        read_reports(csv_path, id_field="case")


def test_rexrank_layout(tmp_path: Path) -> None:
    path = tmp_path / "rexrank.json"
    path.write_text(json.dumps({
        "s1": {"section_findings": "Ref one.", "model_prediction": "Hyp one.", "image_path": ["a.png"]},
        "s2": {"section_findings": "Ref two.", "model_prediction": "Hyp two."},
    }), encoding="utf-8")
    assert dict(read_reports(path)) == {"s1": "Hyp one.", "s2": "Hyp two."}
    assert dict(read_reports(path, text_field="section_findings")) == {"s1": "Ref one.", "s2": "Ref two."}
    cases = read_cases(path)
    assert cases[0] == Case("s1", "Ref one.", {"model_prediction": "Hyp one.", "image_path": ["a.png"]})
    path.write_text(json.dumps({"s1": "not an object"}), encoding="utf-8")
    with pytest.raises(InputError, match="study 's1': expected an object"):
        read_reports(path)


def test_read_cases_keeps_metadata(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("id,text,split,label\nc1,No effusion.,valid,0\nc2,Effusion.,valid,1\n", encoding="utf-8")
    cases = read_cases(path)
    assert [c.id for c in cases] == ["c1", "c2"]
    assert cases[1].metadata == {"split": "valid", "label": "1"}


def test_non_utf8_bytes_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:2: not valid UTF-8 \(byte 0xe9"):
        read_reports(path)


def test_non_utf8_after_a_bom_reports_the_right_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfid,text\na,x\xff\n")
    with pytest.raises(InputError, match=r"bom\.csv:2: not valid UTF-8 \(byte 0xff at offset 14\)"):
        read_reports(path)
    path.write_bytes(b"\xef\xbb\xbfid,text\na,ok\n")
    assert dict(read_reports(path)) == {"a": "ok"}


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n{"id": "a", "text": "z"}\n', encoding="utf-8")
    with pytest.raises(AlignmentError, match=r"dup\.jsonl:3: duplicate case id 'a' \(first at .*dup\.jsonl:1\)") as exc:
        read_reports(path)
    assert exc.value.duplicates == ["a"]
    with pytest.raises(AlignmentError, match="duplicate case id 'a'"):
        read_cases(path)


def test_missing_and_bad_fields_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.jsonl:3: no field 'text' \(fields present: 'id'\)"):
        read_reports(path)
    path.write_text('{"id": "a", "text": null}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"case 'a' in .*m\.jsonl:1: field 'text' is missing \(None/NaN\)"):
        read_reports(path)
    path.write_text('{"id": "a", "text": 3}\n', encoding="utf-8")
    with pytest.raises(InputError, match="field 'text' must be text, got int"):
        read_reports(path)
    path.write_text('{"id": "", "text": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.jsonl:1: empty case id in field 'id'"):
        read_reports(path)
    with pytest.raises(InputError, match=r"m\.jsonl:1: empty case id in field 'id'"):
        read_cases(path)
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.jsonl:2: invalid JSON"):
        read_reports(path)
    path.write_text('["a", "x"]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.jsonl:1: expected a JSON object, got list"):
        read_reports(path)


def test_csv_short_row_and_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('id,text\na,"two\nlines"\nb\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"case 'b' in .*s\.csv:4: field 'text' is missing"):
        read_reports(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty CSV"):
        read_reports(path)


def test_file_and_format_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.jsonl: file not found"):
        read_reports(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match=r"cannot tell the format from the extension '\.txt'"):
        detect_format("reports.txt")
    assert detect_format("x.NDJSON") == "jsonl"
    path = tmp_path / "x.txt"
    path.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    assert dict(read_reports(path, format="jsonl")) == {"a": "x"}
    with pytest.raises(InputError, match="unknown format 'xml'"):
        read_reports(path, format="xml")
    with pytest.raises(InputError, match="unknown format 'xml'"):
        write_reports(path, {"a": "x"}, format="xml")


def test_predictions_carry_name_and_source(tmp_path: Path) -> None:
    path = tmp_path / "sysA.jsonl"
    write_reports(path, {"a": "x"})
    p = read_reports(path)
    assert p.name == "sysA" and p.source == str(path)
