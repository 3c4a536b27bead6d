"""Per-label threshold optimisation: a brute-force oracle, ties, persistence, fitting on reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from radeval.data.labels import CTRATE_LABELS
from radeval.errors import AlignmentError, InputError
from radeval.labeling.base import LabelTable
from radeval.labeling.thresholds import (
    DEFAULT_GRID, Thresholds, apply_thresholds, fit_thresholds, fit_thresholds_on_reports,
)
from radeval.labeling.transformer import TransformerLabeler


def test_fit_matches_brute_force_sklearn() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random((300, 6)) < 0.3).astype(int)
    probs = np.clip(0.35 * y + rng.random((300, 6)) * 0.65, 0, 1)
    labels = CTRATE_LABELS[:6]
    fitted = fit_thresholds(probs, y, labels)
    for k in range(6):
        scores = [f1_score(y[:, k], (probs[:, k] >= t).astype(int), zero_division=0) for t in DEFAULT_GRID]
        assert np.isclose(f1_score(y[:, k], (probs[:, k] >= fitted.values[k]).astype(int)), max(scores))
    tuned = apply_thresholds(probs, fitted.for_labels(labels))
    assert f1_score(y, tuned, average="macro") >= f1_score(y, apply_thresholds(probs, 0.5), average="macro")


def test_label_without_positives_keeps_half_and_ignores_masked() -> None:
    y = np.array([[0, 1], [0, -1], [0, 0]])
    p = np.array([[0.9, 0.7], [0.1, 0.1], [0.2, 0.05]])
    fitted = fit_thresholds(p, y, ["Emphysema", "Atelectasis"])
    assert fitted.values[0] == 0.5
    assert 0.1 < fitted.values[1] <= 0.7


def test_save_load_and_validation(tmp_path: Path) -> None:
    t = Thresholds(("Emphysema", "Atelectasis"), (0.3, 0.65), "val")
    t.save(tmp_path / "t.json")
    back = Thresholds.load(tmp_path / "t.json")
    assert back == t and back.tag == t.tag and back.tag.startswith("tuned-")
    with pytest.raises(InputError, match="no threshold for label"):
        t.for_labels(["Cardiomegaly"])
    with pytest.raises(InputError, match=r"\(0, 1\]"):
        Thresholds(("Emphysema",), (0.0,))
    (tmp_path / "bad.json").write_text("{\"labels\": 1}")
    with pytest.raises(InputError, match="bad.json"):
        Thresholds.load(tmp_path / "bad.json")
    with pytest.raises(InputError, match="do not agree"):
        fit_thresholds(np.zeros((2, 2)), np.zeros((3, 2)), ["Emphysema", "Atelectasis"])


def test_fit_on_reports_with_tiny_classifier(tiny_classifier: Path) -> None:
    reports = {f"valid_{i}_a_1.nii.gz": text for i, text in enumerate(
        ["Emphysema in both lungs.", "No pleural effusion.", "A nodule in the right lung.",
         "Consolidation and ground-glass opacities.", "Heart size is increased.", "Hiatal hernia."])}
    rng = np.random.default_rng(0)
    truth = LabelTable(tuple(k.replace(".nii.gz", "") for k in reports), CTRATE_LABELS,
                       rng.integers(0, 2, size=(6, 18)).astype(np.int8), "file:valid.csv")
    lab = TransformerLabeler(tiny_classifier)
    fitted = fit_thresholds_on_reports(lab, reports, truth)
    expected = fit_thresholds(lab.probabilities(list(reports.values())), truth.decisions, CTRATE_LABELS)
    assert fitted.values == expected.values and fitted.source == "file:valid.csv"
    short = LabelTable(truth.ids[:5], CTRATE_LABELS, truth.decisions[:5], "x")
    with pytest.raises(AlignmentError, match="no ground-truth row"):
        fit_thresholds_on_reports(lab, reports, short)
