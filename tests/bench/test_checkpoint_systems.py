"""A suite system naming a registry model and a checkpoint directory: its predictions are keyed by the checkpoint's
content, so a checkpoint overwritten in place with a differently trained model is generated again, never served
from the cache of the old one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from radeval_models.train import train_generator
from radeval.bench.runner import run_suite
from radeval.bench.suite import load_suite
from radeval.data.embeddings import load_embeddings
from radeval.io import read_reports


def _suite(tmp_path: Path, systems: list[dict], name: str) -> Path:
    data = {
        "name": name,
        "output_dir": str(tmp_path / "out"),
        "dataset": {"kind": "phantom", "n": 8, "seed": 5, "shape": [32, 32, 24]},
        "embed": {"encoder": "small", "label_head_epochs": 2},
        "systems": systems,
        "metrics": ["bleu4"],
        "baseline": systems[0]["name"],
        "significance": {"resamples": 100, "seed": 1},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _ckpt_reports(work: Path) -> tuple[dict[str, str], bool]:
    """The predictions the last run used for system ``ckpt`` and whether they came from the cache."""
    manifest = json.loads((work.parent / "manifest.json").read_text(encoding="utf-8"))
    newest = max((work / "predictions").glob("ckpt-*.jsonl"), key=lambda p: p.stat().st_mtime_ns)
    return dict(read_reports(newest)), manifest["cached_stages"]["generate:ckpt"]


def test_checkpoint_overwritten_in_place_is_generated_again(tmp_path: Path) -> None:
    # a first suite embeds the phantom cases (same dataset and embed settings: the embeddings are shared)
    run_suite(load_suite(_suite(tmp_path, [{"name": "a", "model": "dummy"}, {"name": "b", "model": "dummy"}],
                                "embed-only")), quiet=True)
    work = tmp_path / "out" / ".work"
    train_emb = next(work.glob("embeddings-*")) / "train.safetensors"
    ids = load_embeddings(train_emb).case_ids
    checkpoint = tmp_path / "ckpt"
    train_generator("dummy", {}, train_emb, {c: f"first model report {i}" for i, c in enumerate(ids)}, checkpoint)
    suite = load_suite(_suite(tmp_path, [{"name": "a", "model": "dummy"},
                                         {"name": "ckpt", "model": "dummy", "checkpoint": str(checkpoint)}], "ckpt"))

    run_suite(suite, quiet=True)
    before, cached = _ckpt_reports(work)
    assert not cached and before and all(v.startswith("first model") for v in before.values())
    run_suite(suite, quiet=True)  # unchanged checkpoint: the cached predictions are reused
    assert _ckpt_reports(work) == (before, True)

    other = tmp_path / "other"
    train_generator("dummy", {}, train_emb, {c: f"second model report {i}" for i, c in enumerate(ids)}, other)
    for f in other.iterdir():  # overwrite in place: same folder, same file names, new content
        shutil.copy2(f, checkpoint / f.name)
    run_suite(suite, quiet=True)
    after, cached = _ckpt_reports(work)
    assert not cached and after.keys() == before.keys()
    assert all(v.startswith("second model") for v in after.values()), after


def test_decoding_settings_key_the_predictions_and_are_recorded_in_the_manifest(tmp_path: Path) -> None:
    """A system's generate: decoding keys reach the generator; other settings are generated again, never served
    from the cache of the old ones, and the manifest records the effective settings (cached or not)."""
    run_suite(load_suite(_suite(tmp_path, [{"name": "a", "model": "dummy"}, {"name": "b", "model": "dummy"}],
                                "embed-only")), quiet=True)
    work = tmp_path / "out" / ".work"
    train_emb = next(work.glob("embeddings-*")) / "train.safetensors"
    ids = load_embeddings(train_emb).case_ids
    checkpoint = tmp_path / "ckpt"
    train_generator("baseline", {"llm": "gpt2-offline-small", "max_new_tokens": 4}, train_emb,
                    {c: f"report {i}" for i, c in enumerate(ids)}, checkpoint, {"epochs": 1, "batch_size": 8},
                    quiet=True)

    def run(generate: dict) -> tuple[dict[str, str], bool, dict]:
        suite = load_suite(_suite(tmp_path, [{"name": "a", "model": "dummy"},
                                             {"name": "ckpt", "model": "baseline", "checkpoint": str(checkpoint),
                                              "generate": generate}], "beam"))
        run_suite(suite, quiet=True)
        reports, cached = _ckpt_reports(work)
        manifest = json.loads((work.parent / "manifest.json").read_text(encoding="utf-8"))
        return reports, cached, manifest["decoding"]["ckpt"]

    _, cached, decoding = run({"num_beams": 2, "length_penalty": 0.5})
    assert not cached and decoding == {"num_beams": 2, "max_new_tokens": 4, "min_new_tokens": 0,
                                       "repetition_penalty": 1.0, "length_penalty": 0.5, "early_stopping": False}
    assert run({"num_beams": 2, "length_penalty": 0.5})[1:] == (True, decoding)  # unchanged: cached, same record
    _, cached, greedy = run({})
    assert not cached and greedy["num_beams"] == 1  # other settings: generated again
