"""``llm: findings-lm`` systems and the ``findings_lm`` section (issue 15 item 2): validated against the dataset,
built once before the systems train (corpus drawn with a disjoint seed), substituted into each using system's
config and training key, recorded in the manifest, cached on re-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from radeval.bench.findings_lm import CORPUS_SEED_OFFSET, FINDINGS_LM, FindingsLMSpec, with_llm
from radeval.bench.suite import load_suite, parse_suite
from radeval.bench.system_spec import SystemSpec
from radeval.errors import InputError

PHANTOM = {"kind": "phantom", "n": 12, "seed": 3, "negation_rate": 0.1, "shape": [32, 32, 24]}
V3 = {"name": "v3", "model": "rad3d-prefix-v3",
      "config": {"llm": FINDINGS_LM, "prefix_length": 2, "clip_length": 2, "num_layers": 1, "max_target_tokens": 24,
                 "max_new_tokens": 12},
      "train": {"epochs": 1, "max_steps": 2, "lr": 1.0e-3, "batch_size": 4}}
TINY_LM = {"reports": 24, "steps": 3, "hidden_size": 32, "num_heads": 2, "vocab_size": 400, "batch_size": 8}


def _suite(dataset: dict, systems: list, findings_lm: dict | None = None) -> dict:
    dataset = dict(dataset)
    scaling = dataset.pop("_scaling", False)
    data = {"name": "t", "dataset": dataset, "systems": [{"name": "nn", "model": "dummy"}, *systems],
            "baseline": "nn", "metrics": ["bleu4"], "significance": {"resamples": 100, "seed": 1},
            "embed": {"encoder": "small", "label_head_epochs": 5}}
    if findings_lm is not None:
        data["findings_lm"] = findings_lm
    if scaling:
        data["scaling"] = {"variants": ["rad3d-prefix-v2"], "llms": [FINDINGS_LM], "metric": "bleu4"}
    return data


@pytest.mark.parametrize("dataset, systems, section, message", [
    ({"kind": "ctrate", "root": "."}, [V3], None, r"systems: llm: findings-lm .* dataset kind is 'ctrate'"),
    ({**PHANTOM, "seed": CORPUS_SEED_OFFSET}, [V3], None, r"dataset.seed: 2000003: with llm: findings-lm"),
    (PHANTOM, [], TINY_LM, r"findings_lm: no system uses it"),
    (PHANTOM, [V3], {**TINY_LM, "stepz": 3}, r"findings_lm.*stepz"),
    (PHANTOM, [V3], {**TINY_LM, "vocab_size": 10}, r"findings_lm.vocab_size"),
    ({**PHANTOM, "_scaling": True}, [V3], TINY_LM, r"scaling.llms: 'findings-lm': the demo's stand-in"),
])
def test_suite_validation_names_the_problem(tmp_path: Path, dataset: dict, systems: list, section: dict | None,
                                            message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_suite(_suite(dataset, systems, section), base_dir=tmp_path, check_files=False)


def test_corpus_is_drawn_like_the_dataset_with_another_seed(tmp_path: Path) -> None:
    suite = parse_suite(_suite(PHANTOM, [V3], TINY_LM), base_dir=tmp_path)
    settings = suite.findings_lm.settings(dataset_seed=suite.dataset.seed, report_options={"negation_rate": 0.1})
    assert settings["corpus_seed"] == 3 + CORPUS_SEED_OFFSET and settings["reports"] == 24
    assert FindingsLMSpec().settings(dataset_seed=0, report_options={})["corpus_seed"] == CORPUS_SEED_OFFSET


def test_with_llm_replaces_only_the_placeholder() -> None:
    using = SystemSpec(name="a", model="rad3d-prefix-v3", train={}, config={"llm": FINDINGS_LM, "prefix_length": 2})
    other = SystemSpec(name="b", model="rad3d-prefix-v3", train={}, config={"llm": "smollm2"})
    assert with_llm(using, "findings-lm-" + "a" * 20).config == {"llm": "findings-lm-" + "a" * 20, "prefix_length": 2}
    assert with_llm(other, "findings-lm-" + "a" * 20) is other and with_llm(using, None) is using


@pytest.mark.slow
def test_bench_builds_the_stand_in_once_and_trains_on_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from radeval.bench.runner import run_suite

    monkeypatch.setenv("RADEVAL_HOME", str(tmp_path / "home"))
    data = {**_suite(PHANTOM, [V3], TINY_LM), "output_dir": str(tmp_path / "out")}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    suite = load_suite(path)
    run_suite(suite, quiet=True)
    manifest = json.loads((suite.output_dir / "manifest.json").read_text(encoding="utf-8"))
    record = manifest["findings_lm"]
    spec = record["spec"]
    assert spec.startswith("findings-lm-") and record["config"]["corpus_seed"] == 3 + CORPUS_SEED_OFFSET
    assert record["n_texts"] == 24 and manifest["cached_stages"]["findings_lm"] is False
    assert str(tmp_path) not in json.dumps(record)  # the spec, never a local path
    built = tmp_path / "home" / "llm" / spec
    assert (built / "model.safetensors").is_file()
    [model_dir] = [p for p in (suite.output_dir / ".work" / "models").iterdir() if p.name.startswith("v3-")]
    assert json.loads((model_dir / "config.json").read_text())["config"]["llm"] == spec
    board = (suite.output_dir / "leaderboard.csv").read_text()
    run_suite(suite, quiet=True)  # unchanged re-run: the stand-in and the system come from the caches
    again = json.loads((suite.output_dir / "manifest.json").read_text(encoding="utf-8"))
    assert again["cached_stages"]["findings_lm"] is True and again["cached_stages"]["train:v3"] is True
    assert (suite.output_dir / "leaderboard.csv").read_text() == board
