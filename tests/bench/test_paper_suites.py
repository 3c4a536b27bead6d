"""The shipped paper suites (benchmarks/ctrate.yaml, inspect.yaml): they validate as shipped and against phantom
layouts, carry the paper's systems (each marked reproduced or reconstructed), its comparisons and settings, and a
suite whose label set disagrees with a prior width fails validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from radeval.bench.suite import load_suite
from radeval.cli.main import main
from radeval.errors import InputError

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

#: The paper's systems on CT-RATE (Tables 1, 2, 4, 8) and the suite names they go by.
CTRATE_PAPER_SYSTEMS = {
    "baseline-distilgpt2": ("baseline", "distilgpt2"), "baseline-gpt2": ("baseline", "gpt2"),
    "baseline-gpt2-medium": ("baseline", "gpt2-medium"), "baseline-llama32-1b": ("baseline", "meta-llama/Llama-3.2-1B"),
    "v1-distilgpt2": ("rad3d-prefix-v1", "distilgpt2"), "v1-gpt2": ("rad3d-prefix-v1", "gpt2"),
    "v1-gpt2-medium": ("rad3d-prefix-v1", "gpt2-medium"),
    "rad3d-prefix-v1": ("rad3d-prefix-v1", "meta-llama/Llama-3.2-1B"),
    "rad3d-prefix-v2": ("rad3d-prefix-v2", "meta-llama/Llama-3.2-1B"),
    "rad3d-prefix-v3": ("rad3d-prefix-v3", "meta-llama/Llama-3.2-1B"),
    "rad3d-prefix-linear": ("rad3d-prefix-linear", "meta-llama/Llama-3.2-1B"),
    "baseline-biogpt-large": ("baseline", "microsoft/BioGPT-Large"),
    "r2gengpt-biogpt-large": ("r2gengpt", "microsoft/BioGPT-Large"),
    "r2gengpt-llama32-1b-instruct": ("r2gengpt", "meta-llama/Llama-3.2-1B-Instruct"),
    "r2gengpt-llama2-7b-chat": ("r2gengpt", "meta-llama/Llama-2-7b-chat-hf"),
    "rad3d-prefix-v3-deepseek-r1-8b": ("rad3d-prefix-v3", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"),
}


def test_shipped_suites_validate_on_a_machine_without_the_data(capsys) -> None:
    for name in ("ctrate.yaml", "inspect.yaml"):
        assert main(["bench", str(BENCHMARKS / name), "--validate"]) == 0
        out = capsys.readouterr().out
        assert f"{name}: valid" in out


def test_ctrate_suite_holds_the_papers_systems_and_protocol() -> None:
    suite = load_suite(BENCHMARKS / "ctrate.yaml", check_files=False)
    systems = {s.name: s for s in suite.systems}
    assert len(set(CTRATE_PAPER_SYSTEMS) & set(systems)) >= 9
    for name, (model, llm) in CTRATE_PAPER_SYSTEMS.items():
        s = systems[name]
        assert (s.model, s.config["llm"]) == (model, llm), name
        assert s.fidelity in ("reproduced", "reconstructed") and s.fidelity_note, name
    for name in ("rad3d-prefix-v1", "rad3d-prefix-v2", "rad3d-prefix-v3", "rad3d-prefix-v3-deepseek-r1-8b"):
        cfg, train = systems[name].config, systems[name].train
        assert (cfg["prefix_length"], cfg["clip_length"], cfg["num_layers"]) == (10, 10, 8)
        assert (train["epochs"], train["lr"], train["optimizer"]) == (10, 2e-5, "adam")
    for name in ("r2gengpt-biogpt-large", "r2gengpt-llama32-1b-instruct", "r2gengpt-llama2-7b-chat"):
        cfg, train = systems[name].config, systems[name].train
        assert (cfg["num_beams"], cfg["repetition_penalty"], cfg["length_penalty"]) == (3, 2.0, 2.0)
        assert (train["optimizer"], train["lr"], train["lr_schedule"], train["lr_min"]) == ("adamw", 1e-4, "cosine", 1e-6)
        assert train["select_by"] == "bleu4+cider" and train["validation_fraction"] > 0 and train["grad_clip"] is None
    sig = suite.significance
    assert sig.resamples == 5000 and sig.test == "bootstrap"
    assert sig.comparisons == (("rad3d-prefix-v3", "rad3d-prefix-v2"), ("rad3d-prefix-v3", "r2gengpt-llama2-7b-chat"),
                               ("rad3d-prefix-v3", "r2gengpt-llama32-1b-instruct"))
    metrics = [m.name for m in suite.metrics]
    assert {"avg_bleu", "avg_rouge12", "meteor", "rougeL", "green", "radgraph_partial", "ratescore"} <= set(metrics)
    assert "bertscore_roberta" in metrics and "bertscore" not in metrics  # raw F1: the paper's 0.86-0.89 range


def test_inspect_suite_holds_the_papers_inspect_systems() -> None:
    suite = load_suite(BENCHMARKS / "inspect.yaml", check_files=False)
    assert [s.name for s in suite.systems] == ["rad3d-prefix-v1", "rad3d-prefix-v2", "rad3d-prefix-v3"]
    assert all(s.fidelity is not None for s in suite.systems)
    assert suite.system("rad3d-prefix-v3").config["n_logits"] == 21
    assert suite.significance.comparisons == (("rad3d-prefix-v3", "rad3d-prefix-v2"),)
    assert suite.significance.resamples == 5000 and "bertscore_roberta" in [m.name for m in suite.metrics]


def _pointed_at(tmp_path: Path, name: str, root: Path, split_file: Path | None = None) -> Path:
    """The shipped suite with its data paths pointed at a phantom layout (the encoder weights left out)."""
    data = yaml.safe_load((BENCHMARKS / name).read_text(encoding="utf-8"))
    data["dataset"]["root"] = str(root)
    if split_file is not None:
        data["dataset"]["split_file"] = str(split_file)
    data["embed"] = {"encoder": "small", **{k: v for k, v in data["embed"].items() if k == "slab_tokens"}}
    data["output_dir"] = str(tmp_path / "out")
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_suites_validate_against_phantom_layouts(tmp_path: Path, capsys) -> None:
    assert main(["data", "phantom", "--out", str(tmp_path / "ct"), "--n", "8", "--shape", "16", "16", "16",
                 "--quiet"]) == 0
    assert main(["data", "phantom", "--out", str(tmp_path / "insp"), "--n", "12", "--shape", "16", "16", "16",
                 "--labels", "inspect", "--quiet"]) == 0
    split = tmp_path / "split.csv"
    assert main(["data", "inspect-split", str(tmp_path / "insp" / "dataset"), "--seed", "0", "--out", str(split)]) == 0
    capsys.readouterr()
    ctrate = _pointed_at(tmp_path, "ctrate.yaml", tmp_path / "ct" / "dataset")
    inspect = _pointed_at(tmp_path, "inspect.yaml", tmp_path / "insp" / "dataset", split)
    for path in (ctrate, inspect):
        suite = load_suite(path)  # every file check on: the phantom layouts are where the suites now point
        assert suite.dataset.root is not None and suite.dataset.root.is_dir()
        assert main(["bench", str(path), "--validate"]) == 0
        out = capsys.readouterr().out
        assert "valid" in out and "not found on this machine" not in out
    # the INSPECT label set against an 18-prior V-3 fails; CT-RATE's 18 labels against 21 priors too
    broken = yaml.safe_load(ctrate.read_text(encoding="utf-8"))
    broken["dataset"]["label_set"] = "inspect"
    ctrate.write_text(yaml.safe_dump(broken, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError, match=r"rad3d-prefix-v3\).*18 diagnostic priors.*21 labels"):
        load_suite(ctrate)
    assert main(["bench", str(ctrate), "--validate"]) == 2
    broken = yaml.safe_load(inspect.read_text(encoding="utf-8"))
    broken["dataset"]["label_set"] = "ct-rate"
    broken["dataset"].pop("split_file")
    inspect.write_text(yaml.safe_dump(broken, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError, match="21 diagnostic priors.*18 labels"):
        load_suite(inspect)


def test_validate_still_fails_on_a_schema_problem_next_to_absent_inputs(tmp_path: Path, capsys) -> None:
    data = yaml.safe_load((BENCHMARKS / "ctrate.yaml").read_text(encoding="utf-8"))
    data["significance"]["comparisons"].append(["rad3d-prefix-v3", "r2gengpt-llama3-70b"])
    path = tmp_path / "ctrate.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert main(["bench", str(path), "--validate"]) == 2
    assert "'r2gengpt-llama3-70b' is not one of the systems" in capsys.readouterr().err


def test_readme_maps_every_table_and_figure_to_a_shipped_suite(capsys) -> None:
    import re

    text = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    for n in range(1, 9):
        assert re.search(rf"\| Table {n} ", text), f"Table {n}"
    for n in range(4, 13):
        assert re.search(rf"Fig\. {n}\b", text), f"Fig. {n}"
    named = set(re.findall(r"benchmarks/([\w-]+\.yaml)", text))
    assert {"ctrate.yaml", "inspect.yaml", "scaling.yaml", "prefix-ablation.yaml"} <= named
    for name in sorted(named):
        assert main(["bench", str(BENCHMARKS / name), "--validate"]) == 0, name
    assert "prefix-ablation.yaml: valid (8 systems" in capsys.readouterr().out
