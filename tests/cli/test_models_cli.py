"""``radeval models show`` prints a generator's model card (or its docstring); ``params`` checks its options."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from radeval.cli.main import main
from radeval.cli.models import model_card


def test_show_falls_back_to_the_docstring(capsys: pytest.CaptureFixture[str]) -> None:
    from radeval_models.rad3d_prefix import Rad3dPrefixV3

    assert Rad3dPrefixV3.card == ""
    assert main(["models", "show", "rad3d-prefix-v3"]) == 0
    assert capsys.readouterr().out.strip() == inspect.getdoc(Rad3dPrefixV3).strip()


def test_card_attribute_wins_over_the_docstring() -> None:
    from radeval_models.rad3d_prefix import Rad3dPrefixV3

    class Carded(Rad3dPrefixV3):
        """Docstring that is not the card."""

        card = "# Carded\n\n| component | status |\n|---|---|\n| mapper | reconstructed |\n"

    assert model_card(Carded) == Carded.card.strip()


def test_show_unknown_name_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "show", "rad3d-prefix-v9"]) != 0
    assert "rad3d-prefix-v" in capsys.readouterr().err


def test_params_of_an_llm_generator_needs_llm_config_and_refuses_vocab_size(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["models", "params", "rad3d-prefix-v3"]) == 2
    assert "--llm-config" in capsys.readouterr().err
    cfg = tmp_path / "config.json"
    cfg.write_text('{"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, '
                   '"num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 100}')
    assert main(["models", "params", "rad3d-prefix-v3", "--llm-config", str(cfg), "--vocab-size", "10"]) == 2
    assert "drop --vocab-size" in capsys.readouterr().err
