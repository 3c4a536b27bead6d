"""``radeval label``: labels CSV in CT-RATE layout, ground-truth scoring, threshold fitting, clear errors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from radeval.cli.main import main
from radeval.data.labels import CTRATE_LABELS
from radeval.labeling.label_csv import read_label_csv

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _write_jsonl(path: Path, records: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in records.items()))
    return path


@pytest.fixture()
def reports(tmp_path: Path) -> Path:
    return _write_jsonl(tmp_path / "R.jsonl", {
        "valid_1_a_1": "Cardiomegaly is observed. No pleural effusion was detected.",
        "valid_2_a_1": "",
        "valid_3_a_1": "Possible small pleural effusion. Pericardial effusion-thickening was not observed.",
    })


def test_label_writes_ctrate_layout(reports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "labels.csv"
    assert main(["label", "--reports", str(reports), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 empty report(s) labelled all-negative: 'valid_2_a_1'" in err
    assert out.read_text().splitlines()[0] == "VolumeName," + ",".join(CTRATE_LABELS)
    table = read_label_csv(out)
    assert table.ids == ("valid_1_a_1", "valid_2_a_1", "valid_3_a_1")
    row = dict(zip(table.labels, table.decisions[0]))
    assert row["Cardiomegaly"] == 1 and row["Pleural effusion"] == 0
    assert table.decisions[1].sum() == 0
    assert table.decisions[2, CTRATE_LABELS.index("Pleural effusion")] == 1      # uncertain counts as positive


def test_uncertain_ignore_writes_minus_one(reports: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    assert main(["label", "--reports", str(reports), "--out", str(out), "--uncertain", "ignore"]) == 0
    assert read_label_csv(out).decisions[2, CTRATE_LABELS.index("Pleural effusion")] == -1


def test_ground_truth_report(reports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt = tmp_path / "gt.csv"
    rows = {"valid_1_a_1.nii.gz": {"Cardiomegaly"}, "valid_2_a_1.nii.gz": set(),
            "valid_3_a_1.nii.gz": {"Pleural effusion", "Emphysema"}}
    gt.write_text("VolumeName," + ",".join(CTRATE_LABELS) + "\n" + "".join(
        k + "," + ",".join("1" if n in v else "0" for n in CTRATE_LABELS) + "\n" for k, v in rows.items()))
    assert main(["label", "--reports", str(reports), "--ground-truth", str(gt)]) == 0
    text = capsys.readouterr().out
    micro = next(line for line in text.splitlines() if line.startswith("micro"))
    assert micro.split()[1:4] == ["1.0000", "0.6667", "0.8000"]             # 2 TP, 0 FP, 1 FN (emphysema)
    assert "Emphysema" in text and "ref:file:gt.csv" in text


def test_mismatched_ground_truth_ids(reports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt = tmp_path / "gt.csv"
    gt.write_text("VolumeName,Cardiomegaly\nvalid_1_a_1,1\nvalid_9_a_1,0\n")
    code = main(["label", "--reports", str(reports), "--ground-truth", str(gt), "--labels", "Cardiomegaly"])
    err = capsys.readouterr().err
    assert code == 2
    assert "valid_2_a_1" in err and "valid_9_a_1" in err


@pytest.mark.parametrize(("extra", "message"), [
    (["--labels", "Pleural efusion"], "did you mean: 'Pleural effusion'"),
    (["--model", "x"], "--model apply to --labeler transformer only"),
    (["--labeler", "transformer", "--uncertain", "ignore"], "--uncertain applies to --labeler rules only"),
    (["--fit-thresholds", "t.json"], "--fit-thresholds needs --ground-truth"),
])
def test_bad_arguments(reports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str],
                       message: str) -> None:
    code = main(["label", "--reports", str(reports), "--out", str(tmp_path / "o.csv"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["label", "--out", str(tmp_path / "o.csv")]) == 2
    assert "--reports is required" in capsys.readouterr().err
    assert main(["label", "--reports", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_rules_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["label", "--rules"]) == 0
    out = capsys.readouterr().out
    assert all(f"{name}: " in out for name in CTRATE_LABELS)


def test_transformer_fit_thresholds_then_use_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("tiny_classifier_fixture", FIXTURES / "tiny_classifier.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    model = module.build_tiny_classifier(tmp_path / "model")
    texts = {f"valid_{i}_a_1": t for i, t in enumerate([
        "Emphysema in both lungs.", "No pleural effusion.", "A nodule in the right lung.",
        "Consolidation and ground-glass opacities.", "Heart size is increased.", "Hiatal hernia."])}
    reps = _write_jsonl(tmp_path / "val.jsonl", texts)
    rng = np.random.default_rng(5)
    gt = tmp_path / "val_labels.csv"
    gt.write_text("VolumeName," + ",".join(CTRATE_LABELS) + "\n" + "".join(
        f"{k}.nii.gz," + ",".join(str(v) for v in rng.integers(0, 2, 18)) + "\n" for k in texts))
    thr = tmp_path / "thr.json"
    assert main(["label", "--reports", str(reps), "--labeler", "transformer", "--model", str(model),
                 "--ground-truth", str(gt), "--fit-thresholds", str(thr)]) == 0
    fitted = json.loads(thr.read_text())
    assert fitted["labels"] == list(CTRATE_LABELS) and len(fitted["thresholds"]) == 18
    assert len(fitted["fitted_on"]) == len(texts)  # fingerprints of the validation reports (leakage check)
    capsys.readouterr()
    out = tmp_path / "tuned.csv"
    assert main(["label", "--reports", str(reps), "--labeler", "transformer", "--model", str(model),
                 "--threshold", str(thr), "--out", str(out)]) == 0
    assert "thr:tuned-" in capsys.readouterr().err
    assert read_label_csv(out).decisions.shape == (6, 18)


def test_explain_lists_mentions(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["label", "--reports", str(reports), "--explain", "--out", str(reports.with_suffix(".csv"))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "valid_1_a_1\tCardiomegaly\tpositive\tCardiomegaly" in lines
    assert "valid_1_a_1\tPleural effusion\tnegative\tpleural effusion" in lines
    assert "valid_3_a_1\tPleural effusion\tuncertain\tpleural effusion" in lines


def test_hypotheses_against_reference_reports(reports: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    refs = _write_jsonl(tmp_path / "refs.jsonl", {
        "valid_3_a_1": "Pleural effusion is observed.",
        "valid_1_a_1": "Cardiomegaly. Emphysema.",
        "valid_2_a_1": "",
    })
    assert main(["label", "--reports", str(reports), "--refs", str(refs)]) == 0
    out = capsys.readouterr().out
    micro = next(line for line in out.splitlines() if line.startswith("micro"))
    assert micro.split()[1:4] == ["1.0000", "0.6667", "0.8000"]
    code = main(["label", "--reports", str(reports), "--refs", str(refs), "--ground-truth", str(refs)])
    assert code == 2 and "not both" in capsys.readouterr().err


def test_label_inspect_writes_the_papers_21_columns_in_table6_order(tmp_path: Path) -> None:
    from radeval.data.labels import INSPECT_LABELS

    reports = _write_jsonl(tmp_path / "ctpa.jsonl", {
        "PE1": "Acute pulmonary emboli in the right lower lobe. Small right pleural effusion.",
        "PE2": "No pulmonary embolism. Mediastinal lymphadenopathy and a 2 cm left hilar mass.",
    })
    out = tmp_path / "inspect_labels.csv"
    assert main(["label", "--reports", str(reports), "--labels", "inspect", "--out", str(out)]) == 0
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["VolumeName", "Embolism", "Opacities", "Nodules", "Disease", "Atelectasis", "Infection",
                      "Thickening", "Effusions", "Edema", "Aspiration", "Consolidation", "Mass", "Pneumonia",
                      "Metastatic", "Lymphadenopathies", "Hypertension", "Metastases", "Lesions", "Malignancy",
                      "Node", "Others"]
    assert header[1:] == list(INSPECT_LABELS)
    table = read_label_csv(out)
    positives = [{name for name, v in zip(table.labels, row) if v == 1} for row in table.decisions]
    assert positives == [{"Embolism", "Effusions"}, {"Lymphadenopathies", "Mass"}]
