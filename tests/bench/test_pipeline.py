"""`radeval bench` with registry-model systems on phantom CT-RATE: embed → train → generate → score, cached;
and the scaling study (variants × LLMs) on two tiny local LLaMAs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from radeval.bench.runner import run_suite
from radeval.bench.suite import load_suite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_llms(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two small LLaMAs of different widths, pretrained on phantom-style report text."""
    from radeval_models.tiny_llm import write_tiny_llama

    texts = ["Trachea and main bronchi are in the midline and patent. No pleural effusion.",
             "Heart size is normal. No pericardial effusion. Mild emphysema in both upper lobes.",
             "There is a 6 mm nodule in the right lower lobe. No consolidation.",
             "Bilateral pleural effusion is seen. Cardiomegaly. Coronary artery calcification."] * 4
    root = tmp_path_factory.mktemp("llms")
    small = write_tiny_llama(root / "small", hidden_size=32, num_heads=4, texts=texts, vocab_size=300, steps=60)
    large = write_tiny_llama(root / "large", hidden_size=64, num_heads=4, texts=texts, vocab_size=300, steps=60)
    return small, large


def _suite(tmp_path: Path, llm: Path, extra: dict | None = None) -> Path:
    data = {
        "name": "pipeline",
        "output_dir": str(tmp_path / "out"),
        "dataset": {"kind": "phantom", "n": 16, "seed": 3, "shape": [32, 32, 24]},
        "embed": {"encoder": "small", "label_head_epochs": 20},
        "systems": [
            {"name": "nn", "model": "dummy"},
            {"name": "v2", "model": "rad3d-prefix-v2",
             "config": {"llm": str(llm), "prefix_length": 2, "clip_length": 2, "num_layers": 1,
                        "max_target_tokens": 24, "max_new_tokens": 16},
             "train": {"epochs": 1, "max_steps": 2, "lr": 1.0e-3, "batch_size": 4}},
        ],
        "metrics": ["bleu4", "rougeL"],
        "baseline": "nn",
        "significance": {"resamples": 200, "seed": 1},
    }
    data.update(extra or {})
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_model_systems_are_trained_generated_and_cached(tmp_path, tiny_llms):
    suite = load_suite(_suite(tmp_path, tiny_llms[0]))
    first = run_suite(suite, quiet=True)
    board = pd.read_csv(suite.output_dir / "leaderboard.csv")
    assert set(board["system"]) == {"nn", "v2"} and board["score"].notna().all()
    per_sample = pd.read_csv(suite.output_dir / "per_sample.csv")
    assert len(per_sample) == len(first.per_sample) and set(per_sample["system"]) == {"nn", "v2"}
    work = suite.output_dir / ".work"
    assert len(list((work / "models").iterdir())) == 2 and len(list((work / "predictions").glob("*.jsonl"))) == 2
    manifest = (suite.output_dir / "manifest.json").read_text()
    assert '"train:v2": false' in manifest
    # the priors' held-out quality is part of the run's outputs (issue 15): label_head.csv + the manifest
    import json

    head = pd.read_csv(suite.output_dir / "label_head.csv")
    assert head["label"].iloc[-1] == "macro" and len(head) == 19
    facts = json.loads(manifest)["run_facts"]
    scored = head["auroc"].iloc[:-1].dropna()
    assert facts["label_head"]["macro_auroc"] == pytest.approx(scored.mean())
    assert facts["label_head"]["n_labels_scored"] == len(scored) and facts["n_cases"] == len(first.per_sample) // 2
    md = (suite.output_dir / "leaderboard.md").read_text()
    assert "## What this run shows" in md and f"**{facts['n_cases']} evaluation cases**" in md
    assert f"macro AUROC **{facts['label_head']['macro_auroc']:.3f}**" in md
    # Unchanged re-run: every stage comes from the work folder, and the numbers are identical.
    run_suite(suite, quiet=True)
    assert '"train:v2": true' in (suite.output_dir / "manifest.json").read_text()
    assert '"generate:v2": true' in (suite.output_dir / "manifest.json").read_text()
    assert pd.read_csv(suite.output_dir / "leaderboard.csv").equals(board)


def test_scaling_study_writes_metric_vs_parameters(tmp_path, tiny_llms):
    small, large = tiny_llms
    extra = {"scaling": {"variants": ["rad3d-prefix-v1", "rad3d-prefix-v2"], "llms": [str(small), str(large)],
                         "metric": "rougeL",
                         "config": {"prefix_length": 2, "clip_length": 2, "num_layers": 1, "max_target_tokens": 24,
                                    "max_new_tokens": 16},
                         "train": {"epochs": 1, "max_steps": 2, "lr": 1.0e-3, "batch_size": 4}}}
    suite = load_suite(_suite(tmp_path, small, extra))
    result = run_suite(suite, quiet=True)
    table = pd.read_csv(suite.output_dir / "scaling.csv")
    assert len(table) == 4 and set(table["variant"]) == {"rad3d-prefix-v1", "rad3d-prefix-v2"}
    params = table.groupby("llm")["llm_parameters"].first()
    assert params[str(large)] > params[str(small)] > 0
    assert ((table["ci_low"] <= table["score"]) & (table["score"] <= table["ci_high"])).all()
    assert (suite.output_dir / "scaling.png").stat().st_size > 0
    assert suite.output_dir / "scaling.csv" in result.files
