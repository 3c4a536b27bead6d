"""The CT-RATE labels-CSV layout: round trip, id matching without extensions, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from radeval.data.labels import CTRATE_LABELS
from radeval.errors import AlignmentError, InputError, UnknownNameError
from radeval.labeling.base import LabelTable
from radeval.labeling.label_csv import align_tables, case_key, read_label_csv, write_label_csv


def _table(ids: list[str], rows: list[list[int]], labels: tuple[str, ...] = CTRATE_LABELS) -> LabelTable:
    return LabelTable(tuple(ids), labels, np.array(rows, dtype=np.int8), "test")


def test_round_trip_in_ctrate_layout(tmp_path: Path) -> None:
    rows = np.random.default_rng(0).integers(0, 2, size=(4, 18)).tolist()
    table = _table(["valid_1_a_1.nii.gz", "valid_1_a_2.nii.gz", "valid_2_a_1.nii.gz", "valid_3_a_1.nii.gz"], rows)
    path = tmp_path / "labels.csv"
    write_label_csv(path, table)
    header = path.read_text().splitlines()[0].split(",")
    assert header == ["VolumeName", *CTRATE_LABELS]
    back = read_label_csv(path)
    assert back.ids == table.ids and back.labels == CTRATE_LABELS
    np.testing.assert_array_equal(back.decisions, table.decisions)


def test_columns_may_come_in_any_order_and_be_selected(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("Emphysema,VolumeName,Atelectasis\n1,a,0\n0,b,1\n")
    t = read_label_csv(path, labels=["Atelectasis", "Emphysema"])
    assert t.labels == ("Atelectasis", "Emphysema") and t.decisions.tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize(("body", "error", "match"), [
    ("Emphysema\n1\n", InputError, "no 'VolumeName' column"),
    ("VolumeName,Emphysema,Pleural efusion\na,1,0\n", UnknownNameError, "Pleural effusion"),
    ("VolumeName,Emphysema\na,2\n", InputError, r"l.csv:2: column 'Emphysema': '2' is not 0 or 1"),
    ("VolumeName,Emphysema\na,yes\n", InputError, "'yes' is not 0 or 1"),
    ("VolumeName,Emphysema\na,1\na.nii.gz,0\n", InputError, "duplicate id 'a.nii.gz'"),
    ("VolumeName,Emphysema\na,1,0\n", InputError, "3 cells but the header has 2"),
    ("", InputError, "empty file"),
])
def test_bad_files(tmp_path: Path, body: str, error: type[Exception], match: str) -> None:
    path = tmp_path / "l.csv"
    path.write_text(body)
    with pytest.raises(error, match=match):
        read_label_csv(path)


def test_missing_requested_column(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("VolumeName,Emphysema\na,1\n")
    with pytest.raises(InputError, match="missing: 'Atelectasis'"):
        read_label_csv(path, labels=["Emphysema", "Atelectasis"])
    with pytest.raises(InputError, match="not found"):
        read_label_csv(tmp_path / "none.csv")


def test_alignment_ignores_extensions_and_reorders() -> None:
    ref = _table(["x.nii.gz", "y.nii.gz"], [[1], [0]], ("Emphysema",))
    hyp = _table(["y", "x"], [[1], [1]], ("Emphysema",))
    ids, r, h = align_tables(ref, hyp)
    assert ids == ["x.nii.gz", "y.nii.gz"] and r.tolist() == [[1], [0]] and h.tolist() == [[1], [1]]
    assert case_key("train_1_a_1.nii.gz") == "train_1_a_1"


def test_mismatched_ids_are_listed() -> None:
    ref = _table(["a", "b"], [[1], [0]], ("Emphysema",))
    hyp = _table(["a", "c"], [[1], [0]], ("Emphysema",))
    with pytest.raises(AlignmentError, match=r"no hypothesis: \['b'\].*not in the reference labels: \['c'\]") as info:
        align_tables(ref, hyp)
    assert info.value.missing == ["b"] and info.value.extra == ["c"]
    with pytest.raises(InputError, match="different label columns"):
        align_tables(ref, _table(["a", "b"], [[1], [0]], ("Atelectasis",)))


def test_non_utf8_labels_csv_is_an_input_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("VolumeName,Emphysema\na,1\ncaf\u00e9,0\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.csv:3: not valid UTF-8"):
        read_label_csv(path)
