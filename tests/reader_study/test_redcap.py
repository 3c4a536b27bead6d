from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from radeval_reader_study.ingestion import ingest
from radeval_reader_study.key import read_key
from radeval_reader_study.redcap import DICTIONARY_COLUMNS



def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def test_data_dictionary(exported) -> None:
    path = exported.packet_dir / "redcap" / "data_dictionary.csv"
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert tuple(header) == DICTIONARY_COLUMNS
    rows = {r["Variable / Field Name"]: r for r in _rows(path)}
    assert list(rows)[0] == "record_id"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in rows)
    assert {r["Form Name"] for r in rows.values()} == {"report_rating"}
    ca = rows["clinical_accuracy"]
    assert ca["Field Type"] == "radio" and ca["Required Field?"] == "y"
    assert ca["Choices, Calculations, OR Slider Labels"] == (
        "1, 1 Very Poor | 2, 2 Poor | 3, 3 Acceptable | 4, 4 Good | 5, 5 Excellent")
    assert "no invented, false-positive findings" in ca["Field Note"]
    assert rows["generated_report"]["Field Annotation"] == "@READONLY"
    assert rows["comment"]["Field Type"] == "notes"


def test_import_template(exported) -> None:
    key = read_key(exported.key_path)
    rows = _rows(exported.packet_dir / "redcap" / "import_template.csv")
    dictionary = {r["Variable / Field Name"] for r in _rows(exported.packet_dir / "redcap" / "data_dictionary.csv")}
    assert set(rows[0]) <= dictionary
    assert len(rows) == 2 * 36 and len({r["record_id"] for r in rows}) == len(rows)
    for reader in key.readers:
        assert [r["item_id"] for r in rows if r["reader"] == reader] == list(key.orders[reader])
    assert {r["packet_sha256"] for r in rows} == {key.packet_sha256}
    assert all(r["clinical_accuracy"] == "" for r in rows)


def _export(exported, tmp_path: Path, rule, *, labels: bool) -> Path:
    """What REDCap's "export data" gives back after readers filled the imported records.

    With ``labels``, REDCap writes choice labels as values and field labels as column headings.
    """
    key = read_key(exported.key_path)
    template = _rows(exported.packet_dir / "redcap" / "import_template.csv")
    out = io.StringIO(newline="")
    cols = ["record_id", "redcap_data_access_group", *template[0].keys(), "report_rating_complete"]
    w = csv.DictWriter(out, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in template:
        o = key.items[r["item_id"]]
        for crit in key.rubric.criterion_ids:
            v = rule(r["reader"], o.system, o.case_id, crit)
            r[crit] = f"{v} {key.rubric.label(v)}" if labels else str(v)
        w.writerow(r | {"redcap_data_access_group": r["reader"], "report_rating_complete": "2"})
    text = out.getvalue()
    if labels:
        from radeval_reader_study.redcap import field_labels

        head, _, body = text.partition("\n")
        names = field_labels(key.rubric) | {"redcap_data_access_group": "Data Access Group",
                                            "report_rating_complete": "Complete?"}
        text = ",".join(f'"{names[h]}"' for h in head.split(",")) + "\n" + body
    path = tmp_path / ("labels.csv" if labels else "raw.csv")
    path.write_text(text, encoding="utf-8")
    return path


def test_redcap_exports_raw_and_labels_are_ingested(exported, tmp_path: Path, score_rule) -> None:
    for labels in (False, True):
        result = ingest(exported.key_path, [_export(exported, tmp_path, score_rule, labels=labels)])
        assert result.problems == (), [str(p) for p in result.problems[:3]]
        assert result.complete
        for row in result.unblinded().itertuples():
            assert row.score == score_rule(row.reader, row.system, row.case_id, row.criterion)
