"""`radeval bench` with listed comparison pairs and system fidelity, on a phantom CT-RATE layout (offline):
both p-values in significance.md / comparisons.csv / leaderboard.json / leaderboard.html, one forest plot per
pair, the fidelity of each system in the leaderboard and the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radeval.bench.suite import load_suite
from radeval.cli.main import main
from radeval.data.ctrate import CTRateDataset
from radeval.errors import InputError
from radeval.io import write_reports
from radeval.leaderboard.json_export import SCHEMA_PATH
from radeval.leaderboard.schema_check import validate_document


def _suite(tmp_path: Path) -> Path:
    assert main(["data", "phantom", "--out", str(tmp_path / "ph"), "--n", "24", "--seed", "2",
                 "--shape", "32", "32", "24", "--valid-fraction", "0.5", "--quiet"]) == 0
    root = tmp_path / "ph" / "dataset"
    refs = {c.id: c.reference for c in CTRateDataset(root).cases("valid")}
    assert len(refs) >= 6
    files = {"good": refs, "medium": {k: v.split(". ")[0] for k, v in refs.items()},
             "poor": {k: "No pleural effusion." for k in refs}}
    for name, preds in files.items():
        write_reports(tmp_path / f"{name}.jsonl", preds)
    data = {
        "name": "listed", "output_dir": str(tmp_path / "out"),
        "dataset": {"kind": "ctrate", "root": str(root), "split": "valid", "train_split": "train"},
        "embed": {"encoder": "small", "label_head_epochs": 5},
        "systems": [
            {"name": "poor", "predictions": str(tmp_path / "poor.jsonl")},
            {"name": "medium", "predictions": str(tmp_path / "medium.jsonl"), "fidelity": "reproduced",
             "fidelity_note": "first sentence of the reference"},
            {"name": "good", "predictions": str(tmp_path / "good.jsonl"), "fidelity": "reconstructed",
             "fidelity_note": "the reference itself"},
            {"name": "nn", "model": "dummy", "fidelity": "reconstructed"},
        ],
        "metrics": ["bleu4", "rougeL"],
        "baseline": "poor",
        "significance": {"resamples": 300, "seed": 7, "correction": "holm",
                         "comparisons": [["good", "medium"], ["nn", "medium"]]},
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.slow
def test_listed_pairs_reach_every_significance_output(tmp_path: Path) -> None:
    path = _suite(tmp_path)
    assert main(["bench", str(path), "--quiet"]) == 0
    out = tmp_path / "out"
    listed = pd.read_csv(out / "comparisons.csv")
    assert list(zip(listed["system"], listed["reference"])) == [("good", "medium")] * 2 + [("nn", "medium")] * 2
    assert list(listed["metric"]) == ["bleu4", "rougeL"] * 2
    pairs = pd.read_csv(out / "pairs.csv")
    for row in listed.itertuples():
        same = pairs[(pairs["system_a"] == row.reference) & (pairs["system_b"] == row.system)
                     & (pairs["metric"] == row.metric)]
        assert len(same) == 1 and same["p"].iloc[0] == pytest.approx(row.p)
        assert row.p_corrected >= row.p  # Holm over the family: corrected beside uncorrected
    good = listed[(listed["system"] == "good") & (listed["metric"] == "rougeL")].iloc[0]
    assert good["delta"] > 0
    sig = (out / "significance.md").read_text()
    assert "## Listed comparisons" in sig and "### good vs medium" in sig and "p (uncorrected)" in sig
    assert "family:systems×metrics+listed(2)" in sig
    for png in ("forest-good-vs-medium.png", "forest-nn-vs-medium.png"):
        assert (out / "comparisons" / png).read_bytes()[:4] == b"\x89PNG"
    doc = json.loads((out / "leaderboard.json").read_text())
    validate_document(doc, SCHEMA_PATH)
    assert len(doc["comparisons"]) == 4 and doc["comparisons"][0]["p"] is not None
    fidelity = {s["name"]: s["fidelity"] for s in doc["systems"]}
    assert fidelity["poor"] is None and fidelity["good"] == {"level": "reconstructed", "note": "the reference itself"}
    board_md = (out / "leaderboard.md").read_text()
    assert "## Systems and their sources" in board_md and "| medium | reproduced | first sentence" in board_md
    assert "(uncorrected)" in (out / "leaderboard.html").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["significance"]["comparisons"] == [["good", "medium"], ["nn", "medium"]]
    assert manifest["fidelity"]["nn"] == {"fidelity": "reconstructed", "note": ""}
    assert "comparisons/forest-good-vs-medium.png" in manifest["outputs"]


def test_listed_pairs_and_fidelity_are_validated(tmp_path: Path) -> None:
    path = _suite(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["significance"]["comparisons"] = [["good", "mediun"], ["good"]]
    data["systems"][1]["fidelity"] = "exact"
    data["systems"][0]["fidelity_note"] = "a note without a level"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        load_suite(path)
    msg = str(err.value)
    assert "comparisons[1]: expected a pair [system, reference]" in msg
    assert "systems[1].fidelity: 'exact' is not one of reproduced, reconstructed" in msg
    assert "systems[0].fidelity_note: explains a 'fidelity'" in msg
    data["significance"]["comparisons"] = [["good", "mediun"]]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"significance.comparisons\[0\]: 'mediun' is not one of the systems"):
        load_suite(path)
