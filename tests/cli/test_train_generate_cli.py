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
    from radeval_models.tiny_llm import write_tiny_llama

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
    capsys.readouterr()
    # R2GenGPT's schedule and checkpoint selection reach the training config through --train-config (checked there)
    (data / "r2g.yaml").write_text("{select_by: bleu4+cider, lr_schedule: cosine, lr_min: 1.0e-6}\n")
    assert main(["train", "--model", "rad3d-prefix-v2", "--data", str(data), "--out", str(data / "y"),
                 "--train-config", str(data / "r2g.yaml")]) == 2
    assert "validation_fraction > 0" in capsys.readouterr().err



def test_generate_refuses_partial_file_of_another_model(data: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from radeval_models.dummy import NearestNeighbourGenerator
    from radeval_models.generation import generate_reports

    other = data / "other.jsonl"
    other.write_text("".join(json.dumps({"id": f"c{i}", "text": f"other {i}"}) + "\n" for i in range(4)))
    for name, reports in (("nn", data / "train.jsonl"), ("nn2", other)):
        assert main(["train", "--model", "dummy", "--embeddings", str(data / "train.safetensors"),
                     "--reports", str(reports), "--out", str(data / name), "--quiet"]) == 0
    out, partial = data / "p.jsonl", data / "p.jsonl.partial.jsonl"
    real, calls = NearestNeighbourGenerator.generate, []

    def killed_on_second_batch(self, batch):  # noqa: ANN001, ANN202
        calls.append(batch)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, batch)

    with monkeypatch.context() as m:  # a run of nn2 killed after its first batch
        m.setattr(NearestNeighbourGenerator, "generate", killed_on_second_batch)
        with pytest.raises(KeyboardInterrupt):
            generate_reports(data / "nn2", data / "train.safetensors", out, batch_size=2, quiet=True)
    assert "other 0" in partial.read_text()
    capsys.readouterr()
    assert main(["generate", "--model", str(data / "nn"), "--embeddings", str(data / "train.safetensors"),
                 "--out", str(out), "--quiet"]) == 2
    assert "another model" in capsys.readouterr().err and not out.exists()
    assert main(["generate", "--model", str(data / "nn"), "--embeddings", str(data / "train.safetensors"),
                 "--out", str(out), "--no-resume", "--quiet"]) == 0
    assert [json.loads(x)["text"] for x in out.read_text().splitlines()] == REPORTS


def test_generator_failing_on_one_case_spares_the_others(data: Path) -> None:
    from radeval_models.generation import generate_reports
    from radeval.errors import RadevalError

    class Flaky:
        name = "flaky"

        def __init__(self) -> None:
            self.fail = True

        def generate(self, batch):  # noqa: ANN001, ANN202
            if self.fail and "c2" in batch.case_ids:
                raise RuntimeError("decoder blew up")
            return [f"report {c}" for c in batch.case_ids]

    flaky, out = Flaky(), data / "f.jsonl"
    with pytest.raises(RadevalError, match=r"1 case\(s\) \(c2: RuntimeError: decoder blew up\)"):
        generate_reports(flaky, data / "train.safetensors", out, batch_size=4, quiet=True)
    assert not out.exists()
    flaky.fail = False
    summary = generate_reports(flaky, data / "train.safetensors", out, batch_size=4, quiet=True)
    assert summary.n_generated == 1  # only the failed case is decoded again
    assert [json.loads(x)["text"] for x in out.read_text().splitlines()] == [f"report c{i}" for i in range(4)]


def test_generator_returning_too_few_texts_is_an_error(data: Path) -> None:
    from radeval_models.generation import generate_reports
    from radeval.errors import RadevalError

    class Short:
        name = "short"

        def generate(self, batch):  # noqa: ANN001, ANN202
            return ["only one"]

    with pytest.raises(RadevalError, match="c1"):
        generate_reports(Short(), data / "train.safetensors", data / "s.jsonl", batch_size=4, quiet=True)
    assert not (data / "s.jsonl").exists()


def test_models_params_with_malformed_llm_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, body in (("unknown.json", '{"model_type": "no-such-llm"}'),
                       ("typed.json", '{"model_type": "llama", "hidden_size": "wide"}'),
                       ("scalar.json", '"model_type"')):
        (tmp_path / name).write_text(body)
        assert main(["models", "params", "rad3d-prefix-v2", "--llm-config", str(tmp_path / name)]) == 2
        assert name in capsys.readouterr().err
