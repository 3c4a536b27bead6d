"""Issue 17 items 4 and 7: every bad option is a clear error; small CLI/reader conventions."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radeval.cli.main import main
from radeval.data.ctrate import CTRateDataset
from radeval.data.inspect_ct import InspectDataset
from radeval.data.labels import INSPECT_LABELS
from radeval.data.phantom import make_phantom_dataset

REFS = {"a": "No pleural effusion.", "b": "Heart size is normal.", "c": "Small nodule in the left lung."}
HYPS = {"a": "No effusion.", "b": "Heart size normal.", "c": "Nodule in the left lung."}


def _jsonl(path: Path, items: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in items.items()), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return _jsonl(tmp_path / "refs.jsonl", REFS), _jsonl(tmp_path / "hyps.jsonl", HYPS)


def test_unknown_metric_option_names_metric_option_and_valid_options(files, capsys) -> None:
    refs, hyps = files
    assert main(["score", "--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--no-cache",
                 "--metric-option", "bleu4.nosuch=1"]) == 2
    err = capsys.readouterr().err
    assert "'bleu4'" in err and "'nosuch'" in err and "valid options:" in err and "normalize" in err


def test_an_option_for_a_metric_not_computed_is_an_error(files, capsys) -> None:
    refs, hyps = files
    assert main(["score", "--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--no-cache",
                 "--metric-option", "rougeL.use_stemmer=false"]) == 2
    assert "'rougeL'" in capsys.readouterr().err
    config = refs.parent / "metrics.yaml"
    config.write_text(yaml.safe_dump({"cider": {"sigma": 6.0}}), encoding="utf-8")
    assert main(["score", "--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--no-cache",
                 "--metric-config", str(config)]) == 2
    assert "not being computed" in capsys.readouterr().err


def test_suite_metric_option_typo_fails_validate_with_valid_options(files, tmp_path: Path, capsys) -> None:
    refs, hyps = files
    suite = {"name": "t", "output_dir": str(tmp_path / "out"), "dataset": {"kind": "jsonl", "references": str(refs)},
             "systems": [{"name": "a", "predictions": str(hyps)}, {"name": "b", "predictions": str(refs)}],
             "metrics": [{"name": "bleu4", "options": {"nosuch": 1}}], "baseline": "a"}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    assert main(["bench", str(path), "--validate"]) == 2
    err = capsys.readouterr().err
    assert "'bleu4'" in err and "'nosuch'" in err and "valid options:" in err


def test_phantom_zero_shape_is_an_input_error_before_work(tmp_path: Path, capsys) -> None:
    assert main(["data", "phantom", "--out", str(tmp_path / "ph"), "--n", "2", "--shape", "0", "0", "0"]) == 2
    assert "sizes >= 8" in capsys.readouterr().err
    assert not (tmp_path / "ph").exists()


def test_hyps_path_containing_equals_sign(files, tmp_path: Path, monkeypatch, capsys) -> None:
    refs, _ = files
    monkeypatch.chdir(tmp_path)
    _jsonl(tmp_path / "preds_lr=1e-4.jsonl", HYPS)
    (tmp_path / "lr=3").mkdir()
    _jsonl(tmp_path / "lr=3" / "p.jsonl", REFS)
    assert main(["compare", "--refs", str(refs), "--hyps", "preds_lr=1e-4.jsonl", "best=lr=3/p.jsonl",
                 "--metrics", "bleu4", "--no-cache", "--resamples", "200", "--json", "--quiet"]) == 0
    systems = {r["system"] for r in json.loads(capsys.readouterr().out)}
    assert {"preds_lr=1e-4", "best"} <= systems


def test_comma_separated_metrics_equal_space_separated(files, capsys) -> None:
    refs, hyps = files
    assert main(["score", "--refs", str(refs), "--hyps", str(hyps), "--no-cache", "--json",
                 "--metrics", "bleu4,rougeL"]) == 0
    comma = json.loads(capsys.readouterr().out)
    assert main(["score", "--refs", str(refs), "--hyps", str(hyps), "--no-cache", "--json",
                 "--metrics", "bleu4", "rougeL"]) == 0
    assert comma == json.loads(capsys.readouterr().out) and set(comma) == {"bleu4", "rougeL"}


def test_ctrate_report_literally_none_or_na_stays_text(tmp_path: Path) -> None:
    root = make_phantom_dataset(tmp_path, n=4, seed=0, shape=(16, 16, 8))
    ds = CTRateDataset(root)
    path = ds.path("train", "reports")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    tokens = ["None", "NA", "null", "n/a"]
    table.loc[: len(tokens) - 1, "Findings_EN"] = tokens[: len(table)]
    table.to_csv(path, index=False)
    fresh = CTRateDataset(root)
    findings = fresh.reports("train")["Findings_EN"].tolist()
    assert findings[: len(table)] == tokens[: len(table)]


def test_inspect_impression_literally_none_or_na_stays_text(tmp_path: Path) -> None:
    ids = [str(1000 + i) for i in range(20)]
    texts = ["None", "NA", "NaN", "null"] + [f"Finding {i}." for i in range(16)]
    pd.DataFrame({"impression_id": ids, "impressions": texts}).to_csv(tmp_path / "Final_Impressions.csv", index=False)
    labels = pd.DataFrame([[i % 2] * len(INSPECT_LABELS) for i in range(20)], columns=list(INSPECT_LABELS))
    labels.assign(impression_id=ids).to_csv(tmp_path / "labels.csv", index=False)
    ds = InspectDataset(tmp_path, labels=tmp_path / "labels.csv", seed=0)
    got = ds.reports()["impressions"]
    assert [got[i] for i in ids[:4]] == ["None", "NA", "NaN", "null"]
