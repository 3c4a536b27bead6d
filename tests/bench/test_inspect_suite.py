"""An INSPECT suite end to end on a phantom INSPECT layout: the label set reaches the label head, V-3's priors
(21 sigmoid probabilities), the label-F1 metrics and the leaderboard; mismatched widths fail validation."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radeval.bench.suite import load_suite
from radeval.cli.main import main
from radeval.data.labels import INSPECT_LABELS
from radeval.errors import InputError

V3_CONFIG = {"prefix_length": 2, "clip_length": 2, "num_layers": 1, "max_target_tokens": 24, "max_new_tokens": 12}


def _write(tmp_path: Path, data: dict, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _suite_data(tmp_path: Path, *, root: Path | str = "unused", split_file: Path | None = None,
                v3_config: dict | None = None, label_set: str = "inspect", llm: str = "smollm2") -> dict:
    dataset = {"kind": "ctrate", "root": str(root), "label_set": label_set}
    if split_file is not None:
        dataset["split_file"] = str(split_file)
    return {
        "name": "inspect-phantom",
        "output_dir": str(tmp_path / "out"),
        "dataset": dataset,
        "embed": {"encoder": "small", "label_head_epochs": 20},
        "systems": [
            {"name": "nn", "model": "dummy"},
            {"name": "v3", "model": "rad3d-prefix-v3", "config": {"llm": llm, **(v3_config or {})},
             "train": {"epochs": 1, "max_steps": 2, "lr": 1.0e-3, "batch_size": 4}},
        ],
        "metrics": ["avg_bleu", "avg_rouge12", "label_f1_macro"],
        "baseline": "nn",
        "significance": {"resamples": 200, "seed": 1},
    }


def test_a_label_set_that_disagrees_with_the_prior_width_fails_validation(tmp_path: Path, capsys) -> None:
    bad = _write(tmp_path, _suite_data(tmp_path, v3_config={}))  # V-3 defaults to 18 priors
    with pytest.raises(InputError, match=r"v3.*18 diagnostic priors.*21 labels.*n_logits: 21"):
        load_suite(bad, check_files=False)
    assert main(["bench", str(bad), "--validate"]) != 0
    assert "18 diagnostic priors" in capsys.readouterr().err
    ctrate_with_21 = _write(tmp_path, _suite_data(tmp_path, v3_config={"n_logits": 21}, label_set="ct-rate"), "b.yaml")
    with pytest.raises(InputError, match="21 diagnostic priors.*18 labels"):
        load_suite(ctrate_with_21, check_files=False)
    data = _suite_data(tmp_path, v3_config={"n_logits": 21})
    data["metrics"] = [{"name": "label_f1_macro", "options": {"labels": "ct-rate"}}]
    with pytest.raises(InputError, match="differs from dataset.label_set"):
        load_suite(_write(tmp_path, data, "c.yaml"), check_files=False)
    data["dataset"]["label_set"] = "chexpert"
    with pytest.raises(InputError, match="'chexpert' is not one of"):
        load_suite(_write(tmp_path, data, "d.yaml"), check_files=False)


def test_label_set_is_bound_to_label_f1_and_the_shipped_inspect_suite_validates(tmp_path: Path) -> None:
    suite = load_suite(_write(tmp_path, _suite_data(tmp_path, v3_config={"n_logits": 21})), check_files=False)
    f1 = next(m for m in suite.metrics if m.name == "label_f1_macro")
    assert f1.options["labels"] == "inspect"
    shipped = load_suite(Path(__file__).resolve().parents[2] / "benchmarks" / "inspect.yaml", check_files=False)
    assert shipped.dataset.label_set == "inspect" and shipped.dataset.split_file is not None
    assert {"avg_bleu", "avg_rouge12"} <= {m.name for m in shipped.metrics}


@pytest.mark.slow
def test_phantom_inspect_suite_runs_end_to_end_with_21_probability_priors(tmp_path: Path) -> None:
    from radeval_models.tiny_llm import write_tiny_llama
    from radeval.data.embeddings import load_embeddings
    from radeval.data.phantom import make_phantom_dataset

    root = make_phantom_dataset(tmp_path / "ph", n=20, seed=4, shape=(32, 32, 24), labels="inspect")
    split = tmp_path / "split.csv"
    assert main(["data", "inspect-split", str(root), "--seed", "0", "--out", str(split)]) == 0
    llm = write_tiny_llama(tmp_path / "llm", hidden_size=32, num_heads=4, vocab_size=300, steps=20,
                           texts=["1. Acute pulmonary embolism. 2. Small left pleural effusion.",
                                  "1. No pulmonary embolism. 2. A 5 mm nodule in the right upper lobe."] * 4)
    data = _suite_data(tmp_path, root=root, split_file=split, v3_config={"n_logits": 21, **V3_CONFIG}, llm=str(llm))
    suite = load_suite(_write(tmp_path, data))
    from radeval.bench.runner import run_suite

    run_suite(suite, quiet=True)
    board = pd.read_csv(suite.output_dir / "leaderboard.csv")
    assert set(board["system"]) == {"nn", "v3"}
    assert {"avg_bleu", "avg_rouge12", "label_f1_macro"} <= set(board["metric"]) and board["score"].notna().all()
    assert (board.loc[board["metric"] == "label_f1_macro", "metric_signature"].str.contains("entities:approx-rexkg")).all()
    manifest = json.loads((suite.output_dir / "manifest.json").read_text())
    assert manifest["diagnostic_priors"] == {"v3": {"width": 21, "mode": "probability"}}
    work = suite.output_dir / ".work"
    emb_dir = next(work.glob("embeddings-*"))
    emb = load_embeddings(emb_dir / "valid.safetensors")
    assert emb.logits.shape[1] == 21 and list(emb.label_names) == list(INSPECT_LABELS)
    test_ids = set(pd.read_csv(split).query("split == 'test'")["case_id"])
    assert set(emb.case_ids) == test_ids  # the evaluation part is the split file's test part
    model_cfg = json.loads((next((work / "models").glob("v3-*")) / "config.json").read_text())["config"]
    assert model_cfg["n_logits"] == 21 and model_cfg["prior"] == "probability"
    assert "INSPECT" in (suite.output_dir / "leaderboard.md").read_text()
