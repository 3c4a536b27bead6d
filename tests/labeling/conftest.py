"""Fixtures of the labeler tests: a tiny locally built sequence-classification checkpoint, phantom data."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from radeval.data.labels import CTRATE_LABELS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _load_builder() -> Callable[..., Path]:
    spec = importlib.util.spec_from_file_location("tiny_classifier_fixture", FIXTURES / "tiny_classifier.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module.build_tiny_classifier


build_tiny_classifier = _load_builder()


@pytest.fixture(scope="session")
def classifier_factory() -> Callable[..., Path]:
    """:func:`build_tiny_classifier`, for tests that need a checkpoint of their own."""
    return build_tiny_classifier


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny 18-label classifier with named outputs."""
    return build_tiny_classifier(tmp_path_factory.mktemp("tiny_clf") / "model")


@pytest.fixture(scope="session")
def biased_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny classifier whose logits are +4 for labels 0, 2, 4 ... and -4 for the others, for any text."""
    bias = [4.0 if i % 2 == 0 else -4.0 for i in range(len(CTRATE_LABELS))]
    return build_tiny_classifier(tmp_path_factory.mktemp("biased_clf") / "model", bias=bias)


@pytest.fixture(scope="session")
def phantom_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small phantom CT-RATE dataset (tiny volumes; the reports and labels CSVs are what we use)."""
    from radeval.data.phantom import make_phantom_dataset

    return make_phantom_dataset(tmp_path_factory.mktemp("phantom"), n=240, seed=11, shape=(8, 8, 8))
