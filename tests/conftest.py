"""Test-wide settings: offline, hermetic, one private RADEVAL_HOME per session."""

from __future__ import annotations

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets a RADEVAL_HOME of its own unless it sets one."""
    if "RADEVAL_HOME_SHARED" not in os.environ:
        monkeypatch.setenv("RADEVAL_HOME", str(tmp_path_factory.mktemp("radeval_home")))
