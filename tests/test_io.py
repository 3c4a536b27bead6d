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
    cases = read_cases(path, text_field="section_findings")  # issue 17: the default is ReXrank's official reference
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


def test_csv_row_with_more_cells_than_the_header_is_an_error_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,text\na,ok\nb,No effusion, normal heart\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.csv:3: 3 cells but the header has 2 columns.*' normal heart'"):
        read_reports(path)
    path.write_text("id,text,\na,ok,\n", encoding="utf-8")  # a trailing delimiter loses nothing
    assert dict(read_reports(path)) == {"a": "ok"}


def test_csv_duplicate_header_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,text,text\na,first,second\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.csv:1: header names column\(s\) \['text'\] more than once"):
        read_reports(path)


def test_csv_bad_quoting_names_the_line_and_does_not_swallow_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('id,text\na,"unterminated\nb,ok\nc,ok\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.csv:\d+: malformed CSV \(unexpected end of data\)"):
        read_reports(path)
    path.write_text('id,text\na,ok\nb,"5" nodule\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.csv:3: malformed CSV"):
        read_reports(path)


def test_csv_reads_reports_longer_than_the_csv_module_cell_limit(tmp_path: Path) -> None:
    import csv

    long_report = " ".join(["effusion"] * 30_000)  # 269,999 characters
    path = tmp_path / "x.csv"
    write_reports(path, {"a": long_report, "b": "short"})
    limit = csv.field_size_limit()
    assert dict(read_reports(path)) == {"a": long_report, "b": "short"}
    assert csv.field_size_limit() == limit  # the process-wide limit is restored


def test_json_keys_given_twice_are_errors_not_last_wins(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "first", "text": "second"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.jsonl:2: field 'text' is given twice"):
        read_reports(path)
    rex = tmp_path / "x.json"
    rex.write_text('{"s1": {"model_prediction": "a"}, "s2": {"model_prediction": "b"}, '
                   '"s1": {"model_prediction": "c"}}', encoding="utf-8")
    with pytest.raises(AlignmentError, match=r"x\.json: duplicate study id\(s\) \['s1'\]") as exc:
        read_reports(rex)
    assert exc.value.duplicates == ["s1"]
    rex.write_text('{"s1": {"model_prediction": "a", "model_prediction": "b"}}', encoding="utf-8")
    with pytest.raises(InputError, match="'model_prediction' is given twice"):
        read_reports(rex)


def test_rexrank_record_field_named_like_the_internal_key_does_not_replace_the_study_id(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"s1": {"__key__": "other", "model_prediction": "a"}}), encoding="utf-8")
    assert dict(read_reports(path)) == {"s1": "a"}


def test_non_scalar_case_ids_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    for raw in ('["c1"]', '{"k": 1}', "true"):
        path.write_text(f'{{"id": {raw}, "text": "x"}}\n', encoding="utf-8")
        with pytest.raises(InputError, match=r"x\.jsonl:1: case id in field 'id' must be a string or a number"):
            read_reports(path)
    path.write_text('{"id": 7, "text": "x"}\n', encoding="utf-8")
    assert dict(read_reports(path)) == {"7": "x"}  # numbers are ids, as in CSV
