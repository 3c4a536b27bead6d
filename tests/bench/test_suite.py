"""Suite validation: every problem reported at once, with the key, file or name that is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from radeval.bench.suite import load_suite
from radeval.errors import InputError


def _edit(path: Path, **changes) -> Path:
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data))
    return path


def test_valid_suite_loads(make_suite):
    suite = load_suite(make_suite())
    assert [s.name for s in suite.systems] == ["poor", "medium", "good"]
    assert suite.baseline == "poor" and suite.significance.resamples == 500
    assert [m.name for m in suite.metrics] == ["bleu4", "rougeL", "cider"]


def test_all_problems_reported_together(make_suite, tmp_path):
    path = make_suite()
    data = yaml.safe_load(path.read_text())
    data["metrcs"] = ["bleu4"]
    data["metrics"] = ["bleu4", "rogueL"]
    data["systems"].append({"name": "ghost", "predictions": str(tmp_path / "missing.jsonl")})
    data["systems"].append({"name": "model", "model": "rad3d-prefix-v9"})
    data["baseline"] = "nobody"
    data["significance"]["resamples"] = 10
    data["significance"]["test"] = "t-test"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        load_suite(path)
    msg = str(err.value)
    assert "unknown key 'metrcs' (did you mean 'metrics'?)" in msg
    assert "unknown metric 'rogueL'" in msg and "rougeL" in msg
    assert "systems[3].predictions: file not found" in msg and "missing.jsonl" in msg
    assert "unknown model 'rad3d-prefix-v9'" in msg
    assert "'nobody' is not one of the systems" in msg
    assert "significance.resamples: resamples=10: at least 100" in msg
    assert "significance.test: test='t-test' is not supported; expected one of bootstrap, ar" in msg


def test_registry_models_on_a_references_file_fail_validation(make_suite):
    path = make_suite()
    data = yaml.safe_load(path.read_text())
    data["systems"].append({"name": "v3", "model": "rad3d-prefix-v3"})
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"v3: registry models need a CT dataset .*references file \(jsonl\)"):
        load_suite(path)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nsystems: [a, b\nmetrics: []\n")
    with pytest.raises(InputError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_suite(path)


def test_model_system_needs_checkpoint_xor_train(make_suite, tmp_path):
    path = make_suite()
    data = yaml.safe_load(path.read_text())
    data["systems"].append({"name": "v2", "model": "rad3d-prefix-v2", "checkpoint": str(tmp_path), "train": {}})
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="either 'checkpoint' or 'train'"):
        load_suite(path)


def test_shipped_suites_validate():
    root = Path(__file__).resolve().parents[2] / "benchmarks"
    for name in ("demo.yaml", "ctrate.yaml", "inspect.yaml", "scaling.yaml", "prefix-ablation.yaml"):
        suite = load_suite(root / name, check_files=False)
        assert suite.systems and suite.metrics


def test_default_output_dir_is_runs_name_under_the_current_directory(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    refs = suites / "refs.jsonl"
    refs.write_text('{"id": "c1", "text": "No effusion."}\n{"id": "c2", "text": "Small nodule."}\n')
    (suites / "a.jsonl").write_text(refs.read_text())
    (suites / "b.jsonl").write_text(refs.read_text())
    (suites / "s.yaml").write_text("name: mine\ndataset: {kind: jsonl, references: refs.jsonl}\n"
                                   "systems: [{name: a, predictions: a.jsonl}, {name: b, predictions: b.jsonl}]\n"
                                   "metrics: [bleu4]\nbaseline: a\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert load_suite(suites / "s.yaml").output_dir == work / "runs" / "mine"


def test_model_settings_and_section_keys_are_checked_before_anything_runs(make_suite, tmp_path):
    """train keys come from the training config, config keys from the generator's config class."""
    path = make_suite()
    data = yaml.safe_load(path.read_text())
    data["dataset"] = {"kind": "phantom", "n": 4, "references": "x.jsonl", "split": "valid"}
    data["systems"] = [{"name": "v2", "model": "rad3d-prefix-v2", "config": {"llm": "smollm2", "num_layer": 2},
                        "train": {"lr": 1e-3, "epoch": 3}, "generate": {"batch": 4}},
                       {"name": "ckpt", "model": "baseline", "checkpoint": str(tmp_path), "config": {"llm": "x"}},
                       {"name": "file", "predictions": str(tmp_path / "data" / "refs.jsonl"), "generate": {}}]
    data["baseline"] = "v2"
    data["embed"] = {"batch_sise": 2}
    data["reader_study"] = {"n": 0, "formats": ["pdf"], "out": "packet"}
    data["significance"] = {"resamples": 1000, "pvalue": "koehn", "ci": "bca", "alpha": 2}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        load_suite(path)
    msg = str(err.value)
    for expected in ("systems[0].config: unknown key 'num_layer' (did you mean 'num_layers'?)",
                     "systems[0].train: unknown key 'epoch' (did you mean 'epochs'?)",
                     "systems[0].generate: unknown key 'batch' (did you mean 'batch_size'?)",
                     "systems[1].config: applies to a model trained here",
                     "systems[2] (file): 'predictions' cannot be combined with 'generate'",
                     "dataset.references: applies to kind jsonl, csv, rexrank, not 'phantom'",
                     "embed: unknown key 'batch_sise' (did you mean 'batch_size'?)",
                     "reader_study.n: 0 must be >= 1", "reader_study.formats: 'pdf' is not one of html, xlsx, redcap",
                     "reader_study.out: applies to `radeval reader-study export`",
                     "significance.alpha: alpha=2.0 must lie strictly between 0 and 1"):
        assert expected in msg, expected
    assert "significance.pvalue" not in msg  # koehn is a bootstrap p-value convention


def test_significance_section_is_the_stats_settings(make_suite):
    from radeval.stats.signature import SignificanceSettings

    path = make_suite(extra={"significance": {"test": "ar", "resamples": 2000, "ci_resamples": 0,
                                              "pvalue": "ar-sacrebleu", "correction": "bh"}})
    suite = load_suite(path)
    assert suite.significance == SignificanceSettings.build(test="ar", resamples=2000, ci_resamples=0,
                                                            pvalue="ar-sacrebleu", correction="bh")


def test_scaling_section_checks_its_models_settings(make_suite):
    path = make_suite()
    data = yaml.safe_load(path.read_text())
    data["dataset"] = {"kind": "phantom", "n": 4}
    data["systems"] = [{"name": "a", "model": "rad3d-prefix-v2"}, {"name": "b", "model": "rad3d-prefix-v1"}]
    data["baseline"] = "a"
    data["scaling"] = {"variants": ["rad3d-prefix-v1", "rad3d-prefix-v2"], "llms": ["smollm2"], "metric": "rougeL",
                       "config": {"prefix_len": 4}, "train": {"max_step": 5}}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        load_suite(path)
    msg = str(err.value)
    assert msg.count("scaling.config: unknown key 'prefix_len' (did you mean 'prefix_length'?)") == 1
    assert "scaling.train: unknown key 'max_step' (did you mean 'max_steps'?)" in msg


def test_generate_section_takes_decoding_settings_checked_before_anything_runs(make_suite):
    path = make_suite()
    data = yaml.safe_load(path.read_text())
    data["dataset"] = {"kind": "phantom", "n": 4}
    data["systems"] = [{"name": "r2g", "model": "r2gengpt",
                        "generate": {"num_beams": 4, "repetition_penalty": 1.5, "length_penalty": -0.5,
                                     "min_new_tokens": 2, "max_new_tokens": 64, "early_stopping": "never"}},
                       {"name": "nn", "model": "dummy"}]
    data["baseline"] = "r2g"
    path.write_text(yaml.safe_dump(data))
    suite = load_suite(path)
    assert suite.systems[0].generate["num_beams"] == 4 and suite.systems[0].generate["early_stopping"] == "never"
    data["systems"] = [{"name": "r2g", "model": "r2gengpt",
                        "generate": {"num_beams": 0, "repetition_penalty": 0, "early_stopping": "sometimes",
                                     "beams": 3}},
                       {"name": "nn", "model": "dummy", "generate": {"num_beams": 3, "batch_size": 2}}]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        load_suite(path)
    msg = str(err.value)
    for expected in ("systems[0].generate.num_beams: 0 must be >= 1",
                     "systems[0].generate.repetition_penalty: 0 must be > 0.0",
                     "systems[0].generate.early_stopping: expected true, false or \"never\", got 'sometimes'",
                     "systems[0].generate: unknown key 'beams'",
                     "systems[1].generate: model 'dummy' decodes no tokens: num_beams do not apply"):
        assert expected in msg, expected


def test_phantom_report_length_and_split_keys_are_phantom_only_and_checked(make_suite) -> None:
    """dataset.negation_rate / valid_fraction (issue 15's demo: short reports, 42 evaluation cases of many)."""
    from radeval.bench.dataset import DatasetSpec
    from radeval.schema import Context, Problems

    problems = Problems("s")
    spec = DatasetSpec.from_section({"kind": "phantom", "n": 40, "negation_rate": 0.1, "valid_fraction": 0.1},
                                    problems, Context(Path(".")))
    assert not len(problems) and (spec.negation_rate, spec.valid_fraction) == (0.1, 0.1)
    path = make_suite()
    data = yaml.safe_load(path.read_text())
    data["dataset"] = {**data["dataset"], "negation_rate": 2, "valid_fraction": 0.5}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        load_suite(path)
    assert "dataset.valid_fraction: applies to kind phantom" in str(err.value)
    assert "dataset.negation_rate" in str(err.value)


def test_textured_findings_key_is_a_phantom_only_flag() -> None:
    """dataset.textured_findings (issue 15's demo): a true/false flag, phantom datasets only."""
    from radeval.bench.dataset import DatasetSpec
    from radeval.schema import Context, Problems

    problems = Problems("s")
    spec = DatasetSpec.from_section({"kind": "phantom", "n": 40, "textured_findings": True}, problems,
                                    Context(Path(".")))
    assert not len(problems) and spec.textured_findings is True
    assert DatasetSpec.from_section({"kind": "phantom"}, Problems("s"), Context(Path("."))).textured_findings is False
    for raw, message in (({"kind": "phantom", "textured_findings": "yes"}, "expected true or false"),
                         ({"kind": "jsonl", "references": "r.jsonl", "textured_findings": True},
                          "applies to kind phantom")):
        problems = Problems("s")
        DatasetSpec.from_section(raw, problems, Context(Path("."), check_files=False))
        assert any(item.startswith("dataset.textured_findings") and message in item for item in problems.items), \
            problems.items


def test_textured_findings_reach_the_phantom_and_its_cache_key(tmp_path: Path, monkeypatch) -> None:
    """The shipped demo sets dataset.textured_findings: its phantom folder is keyed apart from the plain one and
    holds the same labels (only the volumes are textured)."""
    import dataclasses

    from radeval.bench.dataset import resolve_dataset

    demo = load_suite(Path(__file__).resolve().parents[2] / "benchmarks" / "demo.yaml")
    assert demo.dataset.textured_findings is True
    small = dataclasses.replace(demo.dataset, n=6, shape=(16, 16, 12))
    textured = resolve_dataset(dataclasses.replace(demo, dataset=small), tmp_path, quiet=True)
    plain = resolve_dataset(dataclasses.replace(demo, dataset=dataclasses.replace(small, textured_findings=False)),
                            tmp_path, quiet=True)
    folders = sorted(p.name for p in tmp_path.glob("phantom-*"))
    assert len(folders) == 2
    assert textured.references == plain.references
    # a new version of the textured drawing is redrawn into its own folder, never served from the old one
    import radeval.data.phantom as phantom_module

    monkeypatch.setattr(phantom_module, "TEXTURED_VERSION", phantom_module.TEXTURED_VERSION + 1)
    resolve_dataset(dataclasses.replace(demo, dataset=small), tmp_path, quiet=True)
    assert len(list(tmp_path.glob("phantom-*"))) == 3
