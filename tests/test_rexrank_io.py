"""Issue 17 item 1: ReXrank files are scored the way ReXrank's official evaluation script scores them.

Fixtures are ReXrank-shaped files written here: the test-set layout (``section_findings``,
``section_impression``, ``model_prediction`` per study id) and the submission layout of ReXrank's
example ``prediction.json`` (``findings``, ``impression``, ``model_prediction``). The expected
references are spelled out by hand from the rule in ReXrank's ``example_files/evaluation_script.md``:
``f"Findings: {findings} Impression: {impression}"`` with a null section formatted as ``None``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from radeval.errors import InputError
from radeval.io import read_cases, read_reports
from radeval.metrics.scoring import score

ROOT = Path(__file__).resolve().parents[1]

TEST_SET = {
    "50051329": {"image_path": ["p10/s1/a.jpg"], "key_image_path": "p10/s1/a.jpg",
                 "context": {"age": "50-60", "gender": "M"}, "frontal_lateral": "frontal",
                 "section_findings": "The lungs are low in volume. No focal consolidation.",
                 "section_impression": "No acute cardiopulmonary process.",
                 "model_prediction": "Low lung volumes. No consolidation. No acute process."},
    "53492798": {"section_findings": None, "section_impression": "No pneumonia.",
                 "model_prediction": "No acute cardiopulmonary process."},
    "57379357": {"section_findings": "Heart size normal.", "section_impression": None,
                 "model_prediction": "Heart size is normal. Lungs are clear."},
    "58000001": {"section_findings": "", "section_impression": "Clear lungs.",
                 "model_prediction": "Clear lungs."},
}
EXPECTED_TEST_SET = {
    "50051329": "Findings: The lungs are low in volume. No focal consolidation. "
                "Impression: No acute cardiopulmonary process.",
    "53492798": "Findings: None Impression: No pneumonia.",
    "57379357": "Findings: Heart size normal. Impression: None",
    "58000001": "Findings:  Impression: Clear lungs.",
}
SUBMISSION = {
    "50051329": {"dicom_id": ["427446c1"], "img_root_dir": "/p10/p10046166/s50051329",
                 "findings": "Lateral view limited.\nThe lungs are low in volume.",
                 "impression": "No evidence of acute cardiopulmonary process.", "subject_id": 10046166,
                 "split": "test", "context": "<context>Age:50-60.</context>",
                 "model_prediction": "Findings:The lungs are low in volume.Impression:No acute process."},
    "53492798": {"findings": "No pleural effusion.", "impression": None,
                 "model_prediction": "Findings:No effusion.Impression:Normal."},
}
EXPECTED_SUBMISSION = {
    "50051329": "Findings: Lateral view limited.\nThe lungs are low in volume. "
                "Impression: No evidence of acute cardiopulmonary process.",
    "53492798": "Findings: No pleural effusion. Impression: None",
}


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, RADEVAL_HOME=str(home), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "radeval.cli.main", "score", *args], capture_output=True,
                          text=True, env=env, cwd=str(ROOT), timeout=600)


@pytest.mark.parametrize(("data", "expected"), [(TEST_SET, EXPECTED_TEST_SET), (SUBMISSION, EXPECTED_SUBMISSION)],
                         ids=["test-set-layout", "submission-layout"])
def test_references_follow_the_official_script(tmp_path: Path, data: dict, expected: dict) -> None:
    path = _write(tmp_path, "rexrank.json", data)
    cases = read_cases(path)
    assert {c.id: c.reference for c in cases} == expected
    preds = read_reports(path)
    assert dict(preds) == {k: v["model_prediction"] for k, v in data.items()}


@pytest.mark.parametrize(("data", "expected"), [(TEST_SET, EXPECTED_TEST_SET), (SUBMISSION, EXPECTED_SUBMISSION)],
                         ids=["test-set-layout", "submission-layout"])
def test_cli_scores_against_the_official_reference_and_signs_it(tmp_path: Path, data: dict, expected: dict) -> None:
    path = _write(tmp_path, "rexrank.json", data)
    proc = _cli("--refs", str(path), "--hyps", str(path), "--format", "rexrank", "--metrics", "bleu4", "rougeL",
                "--no-cache", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    hyps = {k: v["model_prediction"] for k, v in data.items()}
    want = score(expected, hyps, metrics=["bleu4", "rougeL"]).as_dict()
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    for metric, value in want.items():
        assert float(lines[metric].split()[1]) == pytest.approx(value, abs=1e-6)
        assert "|ref:rexrank-findings+impression" in lines[metric]


def test_ref_text_field_still_chooses_one_section(tmp_path: Path) -> None:
    data = {k: v for k, v in TEST_SET.items() if v["section_findings"]}
    path = _write(tmp_path, "rexrank.json", data)
    proc = _cli("--refs", str(path), "--hyps", str(path), "--format", "rexrank", "--ref-text-field",
                "section_findings", "--metrics", "bleu4", "--json", "--no-cache", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    findings = {k: v["section_findings"] for k, v in data.items()}
    hyps = {k: v["model_prediction"] for k, v in data.items()}
    assert json.loads(proc.stdout)["bleu4"] == pytest.approx(score(findings, hyps, metrics=["bleu4"]).as_dict()["bleu4"])
    # one section only is not the official convention: no ref: mark in the signature
    plain = _cli("--refs", str(path), "--hyps", str(path), "--format", "rexrank", "--ref-text-field",
                 "section_findings", "--metrics", "bleu4", "--no-cache", home=tmp_path)
    assert "|ref:" not in plain.stdout


def test_a_missing_section_key_is_an_error_naming_the_study(tmp_path: Path) -> None:
    path = _write(tmp_path, "rexrank.json", {"s1": {"section_findings": "Clear.", "model_prediction": "Clear."}})
    with pytest.raises(InputError, match=r"study 's1'.*'section_impression'.*--ref-text-field section_findings"):
        read_cases(path)
    path = _write(tmp_path, "other.json", {"s1": {"report": "Clear.", "model_prediction": "Clear."}})
    with pytest.raises(InputError, match=r"study 's1'.*no ReXrank sections"):
        read_cases(path)
    path = _write(tmp_path, "num.json", {"s1": {"findings": 3, "impression": "x", "model_prediction": "Clear."}})
    with pytest.raises(InputError, match=r"study 's1'.*'findings' must be text"):
        read_cases(path)


def test_bench_rexrank_dataset_uses_and_records_the_official_reference(tmp_path: Path) -> None:
    import yaml

    from radeval.cli.main import main

    path = _write(tmp_path, "rexrank.json", TEST_SET)
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({"id": k, "text": "No acute process."}) + "\n" for k in TEST_SET),
                     encoding="utf-8")
    suite = {"name": "rx", "output_dir": str(tmp_path / "out"),
             "dataset": {"kind": "rexrank", "references": str(path)},
             "systems": [{"name": "model", "predictions": str(other)}, {"name": "other", "predictions": str(other)}],
             "metrics": ["rougeL"], "baseline": "other",
             "significance": {"test": "bootstrap", "resamples": 100, "seed": 1, "correction": "holm"}}
    suite_path = tmp_path / "suite.yaml"
    suite_path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    assert main(["bench", str(suite_path), "--quiet"]) == 0
    board = (tmp_path / "out" / "leaderboard.md").read_text(encoding="utf-8")
    assert "ref:rexrank-findings+impression" in board
    want = score(EXPECTED_TEST_SET, {k: "No acute process." for k in TEST_SET}, metrics=["rougeL"]).as_dict()
    per = __import__("pandas").read_csv(tmp_path / "out" / "leaderboard.csv")
    got = per[(per["system"] == "model") & (per["metric"] == "rougeL")]["score"].iloc[0]
    assert got == pytest.approx(want["rougeL"], abs=1e-6)
