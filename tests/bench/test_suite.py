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
    assert "missing.jsonl" in msg and "ghost" in msg
    assert "unknown model 'rad3d-prefix-v9'" in msg
    assert "'nobody' is not one of the systems" in msg
    assert "10 is too few" in msg
    assert "'t-test' is not one of bootstrap, ar" in msg


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
    for name in ("demo.yaml", "ctrate.yaml", "inspect.yaml", "scaling.yaml"):
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
