"""``radeval score`` run as a real subprocess on report files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from radeval.io import write_reports
from radeval.metrics import LEXICAL_METRICS
from radeval.metrics.output_diagnostics import DIAGNOSTIC_METRICS
from radeval.metrics.scoring import score

ROOT = Path(__file__).resolve().parents[2]
REFS = {
    "CT_001": "No pleural effusion. Heart size is normal.",
    "CT_002": "There is a 5 mm nodule in the right lower lobe.",
    "CT_003": "Mild emphysema in the upper lobes. No lymphadenopathy.",
}
HYPS = {
    "CT_002": "A 6 mm nodule is seen in the right lower lobe.",
    "CT_001": "No effusion.\nHeart size is normal.",
    "CT_003": "Emphysema in the upper lobes ||| no mediastinal lymphadenopathy.",
}
FAST = ["bleu1", "bleu4", "bleu_sacre", "rouge1", "rougeL", "rougeL_coco", "cider"]


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, RADEVAL_HOME=str(home), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "radeval.cli.main", "score", *args], capture_output=True,
                          text=True, env=env, cwd=str(ROOT), timeout=600)


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    refs, hyps = tmp_path / "refs.jsonl", tmp_path / "sysA.jsonl"
    write_reports(refs, REFS)
    write_reports(hyps, HYPS)
    return refs, hyps


def test_table_output(files, tmp_path) -> None:
    refs, hyps = files
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--metrics", *FAST, "--no-cache", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    # the degenerate-output diagnostics (issue 15) follow the requested metrics, in the same line format
    assert [ln.split()[0] for ln in lines] == FAST + list(DIAGNOSTIC_METRICS)
    expected = score(REFS, HYPS, metrics=FAST + list(DIAGNOSTIC_METRICS)).corpus
    for line, row in zip(lines, expected.itertuples()):
        name, value, signature = line.split()
        assert float(value) == pytest.approx(row.score, abs=5e-7)
        assert signature == row.signature


@pytest.mark.java
@pytest.mark.skipif(shutil.which("java") is None, reason="needs a Java runtime")
def test_json_has_every_lexical_metric_and_out_writes_per_sample_csv(files, tmp_path) -> None:
    refs, hyps = files
    out = tmp_path / "per_sample.csv"
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--json", "--out", str(out), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert list(result) == ["bleu1", "bleu2", "bleu3", "bleu4", "avg_bleu", "bleu_sacre", "meteor", "rouge1",
                            "rouge2", "avg_rouge12", "rougeL", "rougeL_coco", "cider"]
    assert list(result) == list(LEXICAL_METRICS)
    expected = score(REFS, HYPS, metrics=[m for m in LEXICAL_METRICS if m != "meteor"]).as_dict()
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-12)
    assert all(0.0 <= result[m] <= 1.0 for m in result if m not in ("bleu_sacre", "cider"))
    assert 1.0 < result["bleu_sacre"] <= 100.0
    assert 0.0 < result["meteor"] < 1.0
    table = pd.read_csv(out, index_col="case_id")
    assert list(table.index) == list(REFS)
    assert list(table.columns) == list(LEXICAL_METRICS)
    assert table.loc["CT_002", "rougeL_coco"] == pytest.approx(
        score({"x": REFS["CT_002"]}, {"x": HYPS["CT_002"]}, metrics=["rougeL_coco"]).as_dict()["rougeL_coco"])
    # the second run reads METEOR rows from the per-sample cache and gives the same numbers
    again = run_cli("--refs", str(refs), "--hyps", str(hyps), "--json", "--metrics", "meteor", home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["meteor"] == result["meteor"]


def test_missing_text_fails_with_exit_2_naming_the_case(tmp_path) -> None:
    refs, hyps = tmp_path / "refs.jsonl", tmp_path / "sysA.jsonl"
    write_reports(refs, REFS)
    hyps.write_text('{"id": "CT_001", "text": "x"}\n{"id": "CT_002", "text": null}\n{"id": "CT_003", "text": "y"}\n',
                    encoding="utf-8")
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--json", home=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "case 'CT_002'" in proc.stderr and "sysA.jsonl:2" in proc.stderr and "missing" in proc.stderr


def test_id_mismatch_fails_with_exit_2_and_no_numbers(files, tmp_path) -> None:
    refs, _ = files
    hyps = tmp_path / "short.jsonl"
    write_reports(hyps, {"CT_001": "x", "CT_002": "y", "CT_999": "z"})
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--json", home=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "'CT_003'" in proc.stderr and "'CT_999'" in proc.stderr


def test_non_utf8_file_fails_with_exit_2_naming_file_and_line(files, tmp_path) -> None:
    refs, _ = files
    hyps = tmp_path / "latin1.jsonl"
    hyps.write_bytes(b'{"id": "CT_001", "text": "ok"}\n{"id": "CT_002", "text": "caf\xe9"}\n')
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", home=tmp_path)
    assert proc.returncode == 2
    assert "latin1.jsonl:2: not valid UTF-8" in proc.stderr


def test_csv_input_with_custom_columns_and_normalisation_option(tmp_path) -> None:
    refs, hyps = tmp_path / "refs.csv", tmp_path / "hyps.csv"
    write_reports(refs, REFS, id_field="VolumeName", text_field="Findings_EN")
    write_reports(hyps, HYPS, id_field="VolumeName", text_field="Findings_EN")
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--id-field", "VolumeName", "--text-field",
                   "Findings_EN", "--metrics", "bleu4", "--metric-option", "bleu4.normalize=lower+punct",
                   "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    from radeval.metrics.bleu import bleu4

    assert json.loads(proc.stdout)["bleu4"] == pytest.approx(
        bleu4(normalize="lower+punct").corpus_score(list(REFS.values()), [HYPS[k] for k in REFS]), abs=1e-12)


def test_unknown_metric_is_exit_2_with_suggestion(files, tmp_path) -> None:
    refs, hyps = files
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu5", home=tmp_path)
    assert proc.returncode == 2
    assert "unknown metric 'bleu5'" in proc.stderr and "bleu4" in proc.stderr


def test_empty_files_are_exit_2_not_nan(tmp_path) -> None:
    refs, hyps = tmp_path / "refs.jsonl", tmp_path / "sysA.jsonl"
    refs.write_text("", encoding="utf-8")
    hyps.write_text("", encoding="utf-8")
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--metrics", "rougeL", "--json", "--no-cache",
                   home=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == "" and "no cases to score" in proc.stderr


def test_json_output_is_valid_json_when_a_metric_scored_no_sample(files, tmp_path, monkeypatch, capsys) -> None:
    import radeval.metrics.scoring as scoring
    from radeval.cli.main import main

    real = scoring.score

    def all_failed(*args, **kwargs):
        result = real(*args, **kwargs)
        result.corpus.loc[result.corpus["metric"] == "rougeL", "score"] = float("nan")
        return result

    monkeypatch.setattr(scoring, "score", all_failed)
    monkeypatch.setenv("RADEVAL_HOME", str(tmp_path))
    refs, hyps = files
    code = main(["score", "--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu1", "rougeL", "--json",
                 "--no-cache"])
    assert code == 0
    out = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    assert out["rougeL"] is None and isinstance(out["bleu1"], float)


def test_rexrank_text_field_names_the_prediction_key_only(tmp_path: Path) -> None:
    # One ReXrank file with references and predictions side by side: --text-field model_prediction must not make
    # the references read model_prediction too (that would score the predictions against themselves).
    # (issue 17: the references are ReXrank's official "Findings: ... Impression: ..." text by default)
    data = {cid: {"section_findings": REFS[cid], "section_impression": None, "model_prediction": HYPS[cid]}
            for cid in REFS}
    path = tmp_path / "rexrank.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    proc = run_cli("--refs", str(path), "--hyps", str(path), "--format", "rexrank", "--text-field", "model_prediction",
                   "--metrics", "bleu4", "--json", "--no-cache", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    official = {cid: f"Findings: {text} Impression: None" for cid, text in REFS.items()}
    assert json.loads(proc.stdout)["bleu4"] == pytest.approx(score(official, HYPS, metrics=["bleu4"]).as_dict()["bleu4"])


def test_degenerate_output_is_reported_and_warned(tmp_path) -> None:
    refs, hyps = tmp_path / "refs.jsonl", tmp_path / "const.jsonl"
    write_reports(refs, REFS)
    write_reports(hyps, {k: "No acute abnormality." for k in REFS})
    proc = run_cli("--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--no-cache", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == ["bleu4", *DIAGNOSTIC_METRICS]
    assert float(lines[1].split()[1]) == pytest.approx(1 / len(REFS))
    assert "warning: degenerate output: distinct_share =" in proc.stderr
    quiet = run_cli("--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--json", "--no-cache",
                    home=tmp_path)
    assert list(json.loads(quiet.stdout)) == ["bleu4"] and "degenerate output" in quiet.stderr
