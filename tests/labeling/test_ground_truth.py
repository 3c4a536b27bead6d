"""Reference decisions read from a labels CSV through the reports' text."""

from __future__ import annotations

from pathlib import Path

import pytest

from radeval.errors import InputError
from radeval.labeling.ground_truth import GroundTruthLabeler


def _files(tmp_path: Path, labels: str, reports: str) -> tuple[Path, Path]:
    (tmp_path / "labels.csv").write_text(labels)
    (tmp_path / "reports.csv").write_text(reports)
    return tmp_path / "labels.csv", tmp_path / "reports.csv"


def test_lookup_by_text_and_shared_reconstructions(tmp_path: Path) -> None:
    lab, rep = _files(tmp_path, "VolumeName,Emphysema,Atelectasis\nv_1_a_1.nii.gz,1,0\nv_1_a_2.nii.gz,1,0\n"
                                "v_2_a_1.nii.gz,0,1\n",
                      "VolumeName,Findings_EN\nv_1_a_1.nii.gz,Bullae.\nv_1_a_2.nii.gz,Bullae.\nv_2_a_1,Collapse.\n")
    gt = GroundTruthLabeler(lab, rep, labels=["Atelectasis", "Emphysema"])
    assert gt.decide(["Collapse.", "Bullae."]).tolist() == [[1, 0], [0, 1]]
    assert gt.decide(["  Collapse.\n"]).tolist() == [[1, 0]]          # whitespace differences do not matter
    assert gt.signature.startswith("ground-truth|file:labels.csv|sha:")
    with pytest.raises(InputError, match=r"reference #0 \('Unknown text.'\) is not a report"):
        gt.decide(["Unknown text."])


def test_conflicting_labels_for_one_text(tmp_path: Path) -> None:
    lab, rep = _files(tmp_path, "VolumeName,Emphysema\na,1\nb,0\n", "VolumeName,Findings_EN\na,Same.\nb,Same.\n")
    with pytest.raises(InputError, match="'a' and 'b' have the same report text but different labels"):
        GroundTruthLabeler(lab, rep, labels=["Emphysema"])


def test_report_without_label_row(tmp_path: Path) -> None:
    lab, rep = _files(tmp_path, "VolumeName,Emphysema\na,1\n", "VolumeName,Findings_EN\na,x\nb,y\n")
    with pytest.raises(InputError, match=r"1 report id\(s\) have no row .*\['b'\]"):
        GroundTruthLabeler(lab, rep, labels=["Emphysema"])
