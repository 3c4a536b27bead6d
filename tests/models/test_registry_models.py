"""Generators are found through the ``radeval.models`` entry-point group — bundled ones and a third-party plug-in."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from radeval.errors import InputError, UnknownNameError
from radeval.registry import GenerationBatch, ReportGenerator, Registry, generators

PLUGIN = '''
class EchoGenerator:
    name = "echo"

    def generate(self, batch):
        return [f"case {c}" for c in batch.case_ids]

    def save_pretrained(self, directory):
        pass

    @classmethod
    def from_pretrained(cls, directory, **kwargs):
        return cls()
'''


def test_bundled_names_are_registered() -> None:
    names = set(generators.names())
    assert {"rad3d-prefix-v1", "rad3d-prefix-v2", "rad3d-prefix-v3", "rad3d-prefix-linear", "r2gengpt", "baseline",
            "dummy"} <= names


def test_installed_plugin_registers_through_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "echo_plugin.py").write_text(PLUGIN)
    info = tmp_path / "echo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[radeval.models]\necho = echo_plugin:EchoGenerator\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry: Registry = Registry("report generator", entry_point_group="radeval.models")
    assert "echo" in registry.names() and "rad3d-prefix-v3" in registry.names()
    generator = registry.get("echo")()
    assert isinstance(generator, ReportGenerator)
    assert generator.generate(GenerationBatch(["a", "b"], np.zeros((2, 4)))) == ["case a", "case b"]
    sys.modules.pop("echo_plugin", None)


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownNameError, match="did you mean: 'r2gengpt'"):
        generators.get("r2gen-gpt")


def test_checkpoint_errors_name_the_file(tmp_path: Path) -> None:
    from radeval_models.checkpoint import load_checkpoint_tensors, load_generator, read_checkpoint_config

    with pytest.raises(InputError, match="generator directory not found"):
        read_checkpoint_config(tmp_path / "nope")
    (tmp_path / "config.json").write_text('{"format": "something-else"}')
    with pytest.raises(InputError, match=r"config.json: format 'something-else'"):
        load_generator(tmp_path)
    with pytest.raises(InputError, match="model.safetensors: not found"):
        load_checkpoint_tensors(tmp_path)


def test_legacy_weights_are_read_weights_only(tmp_path: Path) -> None:
    import torch

    from radeval_models.checkpoint import load_checkpoint_tensors

    torch.save({"w": torch.ones(2)}, tmp_path / "pytorch_model.bin")
    assert torch.equal(load_checkpoint_tensors(tmp_path)["w"], torch.ones(2))
    torch.save({"w": object()}, tmp_path / "pytorch_model.bin")  # a pickle of arbitrary objects is refused
    with pytest.raises(InputError, match="not a weights-only torch file"):
        load_checkpoint_tensors(tmp_path)


def test_bundled_generators_fulfil_the_training_contract() -> None:
    import dataclasses

    from radeval.registry import TrainableGenerator, generator_config_fields, trainable_generator

    for name in ("rad3d-prefix-v1", "rad3d-prefix-v2", "rad3d-prefix-v3", "rad3d-prefix-linear", "r2gengpt",
                 "baseline", "dummy"):
        cls = trainable_generator(name)
        assert isinstance(cls, TrainableGenerator) and cls.training == ("fit" if name == "dummy" else "loop")
        fields = generator_config_fields(name)
        assert fields == tuple(f.name for f in dataclasses.fields(cls.config_class)) and "embedding_dim" in fields
    assert {"llm", "n_logits", "prefix_length"} <= set(generator_config_fields("rad3d-prefix-v3"))


def test_echo_plugin_is_a_report_generator_but_not_trainable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from radeval.registry import TrainableGenerator

    (tmp_path / "echo_plugin2.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    import echo_plugin2

    assert isinstance(echo_plugin2.EchoGenerator(), ReportGenerator)
    assert not isinstance(echo_plugin2.EchoGenerator, TrainableGenerator)
    sys.modules.pop("echo_plugin2", None)


def test_models_params_refuses_a_fit_generator_by_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from radeval.cli.main import main

    assert main(["models", "params", "dummy", "--llm-config", str(tmp_path / "config.json")]) == 2
    assert "'dummy' learns in one fit() call: it has no parameters to count" in capsys.readouterr().err
