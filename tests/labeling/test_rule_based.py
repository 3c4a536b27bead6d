"""The rule-based labeler end to end: phantom CT-RATE reports, realistic normal reports, options, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from radeval.data.labels import CTRATE_LABELS, INSPECT_LABELS
from radeval.errors import InputError, UnknownNameError
from radeval.io import read_reports
from radeval.labeling import get_labeler
from radeval.labeling.label_csv import align_tables, read_label_csv
from radeval.labeling.rule_based import RuleBasedLabeler

#: A normal CT-RATE findings section (wording of the dataset's reports): every label is negative.
CTRATE_NORMAL = (
    "Trachea and both main bronchi are in the midline and no obstructive pathology is observed in the lumen. "
    "Mediastinal structures cannot be evaluated optimally because contrast material is not given. As far as can "
    "be observed: Heart contour and size are normal. Pericardial effusion-thickening was not observed. Thoracic "
    "esophagus calibration was normal and no significant tumoral wall thickening was detected. No lymph node was "
    "observed in mediastinal and bilateral hilar pathological size and appearance. When examined in the lung "
    "parenchyma window; Aeration of both lungs is normal and no nodular or infiltrative lesion was detected in the "
    "lung parenchyma. Pleural effusion-thickening was not detected. No upper abdominal organs included in the "
    "sections. No lytic-destructive lesions were detected in the bone structures within the sections."
)

#: An abnormal CT-RATE-style findings section and its labels.
CTRATE_ABNORMAL = (
    "Trachea and both main bronchi are in the midline. Calcific atheromatous plaques are observed in the aorta and "
    "coronary arteries. Heart contour and size are normal. Pericardial effusion-thickening was not observed. "
    "Sliding type hiatal hernia is observed at the lower end of the esophagus. Lymph nodes with a short axis of "
    "12 mm in pathological size are observed in the mediastinum. Centrilobular emphysematous changes are observed "
    "in both lungs. A 5 mm nonspecific nodule is observed in the upper lobe of the right lung. Subsegmental "
    "atelectasis is observed in the lower lobe of the left lung. Pleural effusion-thickening was not detected."
)
ABNORMAL_LABELS = {"Arterial wall calcification", "Coronary artery wall calcification", "Hiatal hernia",
                   "Lymphadenopathy", "Emphysema", "Lung nodule", "Atelectasis"}


def test_phantom_reports_reach_095_macro_f1(phantom_root: Path) -> None:
    labeler = RuleBasedLabeler()
    truth_all, decided_all = [], []
    for split, prefix in (("train", "train"), ("validation", "valid")):
        reports = read_reports(phantom_root / "radiology_text_reports" / f"{split}_reports.csv",
                               id_field="VolumeName", text_field="Findings_EN")
        truth = read_label_csv(phantom_root / "multi_abnormality_labels" / f"{prefix}_predicted_labels.csv")
        assert truth.labels == CTRATE_LABELS
        _, y, h = align_tables(truth, labeler.label(reports))
        truth_all.append(y)
        decided_all.append(h)
    y, h = np.concatenate(truth_all), np.concatenate(decided_all)
    assert y.shape == (240, 18) and y.sum() > 100          # enough positives for every label to matter
    assert (y.sum(axis=0) > 0).all()
    macro = f1_score(y, h, average="macro", zero_division=0)
    assert macro >= 0.95, f1_score(y, h, average=None, zero_division=0)


def test_ctrate_normal_report_is_all_negative() -> None:
    assert RuleBasedLabeler().decide([CTRATE_NORMAL]).sum() == 0


def test_ctrate_abnormal_report() -> None:
    lab = RuleBasedLabeler()
    row = lab.decide([CTRATE_ABNORMAL])[0]
    assert {n for n, v in zip(lab.labels, row) if v} == ABNORMAL_LABELS


def test_empty_reports_are_all_negative_and_reported() -> None:
    table = RuleBasedLabeler().label({"a": "", "b": "  \n", "c": "Cardiomegaly."})
    assert table.decisions[:2].sum() == 0
    assert table.empty_ids == ("a", "b")
    assert table.decisions[2, CTRATE_LABELS.index("Cardiomegaly")] == 1


@pytest.mark.parametrize(("mode", "value"), [("positive", 1), ("negative", 0), ("ignore", -1)])
def test_uncertainty_modes(mode: str, value: int) -> None:
    lab = RuleBasedLabeler(uncertain=mode)
    row = lab.decide(["Possible small pleural effusion. Cardiomegaly."])[0]
    assert row[CTRATE_LABELS.index("Pleural effusion")] == value
    assert row[CTRATE_LABELS.index("Cardiomegaly")] == 1
    assert f"unc:{mode}" in lab.signature


def test_inspect_label_set_and_custom_subsets() -> None:
    lab = RuleBasedLabeler(labels="inspect")
    assert lab.labels == INSPECT_LABELS and "labels:inspect" in lab.signature
    sub = RuleBasedLabeler(labels=["Consolidation", "Emphysema"])
    assert sub.decide(["Emphysema. No consolidation."]).tolist() == [[0, 1]]


def test_unknown_label_and_mode_errors() -> None:
    with pytest.raises(UnknownNameError, match="Pleural effusion"):
        RuleBasedLabeler(labels=["Pleural efusion"])
    with pytest.raises(UnknownNameError, match="ct-rate"):
        RuleBasedLabeler(labels="ctrate")
    with pytest.raises(InputError, match="uncertain"):
        RuleBasedLabeler(uncertain="maybe")
    with pytest.raises(InputError, match="duplicated"):
        RuleBasedLabeler(labels=["Emphysema", "Emphysema"])
    with pytest.raises(InputError, match="report #1"):
        RuleBasedLabeler().decide(["ok", None])  # type: ignore[list-item]
    with pytest.raises(UnknownNameError, match="rules"):
        get_labeler("rule")


def test_mentions_carry_offsets() -> None:
    text = "Heart is normal. Pleural effusion was not observed."
    (m,) = RuleBasedLabeler().annotate(text)
    assert text[m.start:m.end] == m.text == "Pleural effusion"
    assert m.status == "negative"


def test_repeated_texts_get_identical_rows() -> None:
    lab = RuleBasedLabeler()
    out = lab.decide([CTRATE_ABNORMAL, CTRATE_NORMAL, CTRATE_ABNORMAL])
    assert np.array_equal(out[0], out[2]) and out.dtype == np.int8
