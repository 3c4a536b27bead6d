"""``radeval train`` / ``generate`` / ``models`` end to end on a tiny local LLaMA."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from radeval.cli.main import main

REPORTS = ["No pleural effusion.", "Small nodule in the right upper lobe.", "Normal chest CT.",
           "Emphysema in both upper lobes."]
LLAMA_1B = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "llama-3.2-1b.json"


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    from radeval.data.embeddings import EmbeddingSet, save_embeddings
    from radeval.io import write_reports

    ids = [f"c{i}" for i in range(len(REPORTS))]
    rng = np.random.default_rng(1)
    save_embeddings(tmp_path / "train.safetensors",
                    EmbeddingSet(ids, rng.normal(size=(4, 512)), rng.normal(size=(4, 18))))
    write_reports(tmp_path / "train.jsonl", dict(zip(ids, REPORTS)))
    return tmp_path


@pytest.fixture()
def llama(tmp_path: Path) -> Path:
    from models.tiny_llm import write_tiny_llama

    return write_tiny_llama(tmp_path / "llama", texts=[f"Case {i}:\n{r}" for i, r in enumerate(REPORTS)],
                            vocab_size=300, steps=150)


def test_train_then_generate(data: Path, llama: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--model", "rad3d-prefix-v3", "--data", str(data), "--out", str(data / "run"),
                 "--llm", str(llama), "--set", "num_layers=1", "--set", "prefix_length=4", "--set", "clip_length=4",
                 "--set", "num_heads=4", "--epochs", "40", "--lr", "1e-2", "--batch-size", "4", "--quiet"])
    assert code == 0
    assert "rad3d-prefix-v3: 40 epoch(s)" in capsys.readouterr().out
    code = main(["generate", "--model", str(data / "run"), "--embeddings", str(data / "train.safetensors"),
                 "--out", str(data / "preds.jsonl"), "--batch-size", "3", "--quiet"])
    assert code == 0
    rows = [json.loads(x) for x in (data / "preds.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["c0", "c1", "c2", "c3"]
    assert [r["text"] for r in rows] == REPORTS
    assert not (data / "preds.jsonl.partial.jsonl").exists()


def test_generate_resumes_from_partial_file(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--model", "dummy", "--embeddings", str(data / "train.safetensors"),
                 "--reports", str(data / "train.jsonl"), "--out", str(data / "nn"), "--quiet"]) == 0
    (data / "p.jsonl.partial.jsonl").write_text('{"id": "c0", "text": "kept from before"}\n{"id": "c1", "te')
    assert main(["generate", "--model", str(data / "nn"), "--embeddings", str(data / "train.safetensors"),
                 "--out", str(data / "p.jsonl"), "--quiet"]) == 0
    rows = [json.loads(x) for x in (data / "p.jsonl").read_text().splitlines()]
    assert rows[0]["text"] == "kept from before" and [r["text"] for r in rows[1:]] == REPORTS[1:]
    assert "(3 generated now)" in capsys.readouterr().out


def test_models_list_and_params(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    assert {"rad3d-prefix-v3", "r2gengpt", "baseline", "dummy"} <= set(capsys.readouterr().out.split())
    assert main(["models", "params", "rad3d-prefix-v2", "--llm-config", str(LLAMA_1B), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"trainable": 279_093_248, "total": 1_514_907_648}
    assert main(["models", "params", "rad3d-prefix-v1", "--llm-config", str(LLAMA_1B), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trainable"] == 1_514_907_648


def test_cli_errors_exit_2(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--model", "rad3d-prefix-v9", "--data", str(data), "--out", str(data / "x")]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["generate", "--model", str(data / "missing"), "--embeddings", str(data / "train.safetensors"),
                 "--out", str(data / "p.jsonl")]) == 2
    assert "generator directory not found" in capsys.readouterr().err
    assert main(["train", "--model", "dummy", "--data", str(data / "nowhere"), "--out", str(data / "x")]) == 2
