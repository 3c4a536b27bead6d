"""Fixtures for the significance tests: the reference-sheet vectors and small real metrics."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from radeval.metrics.base import MeanMetric

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "significance_vectors.json"


class ParsedScore(MeanMetric):
    """A mean metric whose per-sample score is written in the hypothesis text (``"0.62"``).

    It lets tests drive :func:`radeval.stats.compare.compare` end to end with chosen per-sample
    values; ``calls`` counts how often statistics were computed.
    """

    name = "parsed"

    def __init__(self) -> None:
        self.calls = 0

    def sample_values(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.array([float(h) for h in hyps], dtype=np.float64)


@pytest.fixture(scope="session")
def vectors() -> dict:
    """The significance reference sheet's test vectors R0, S1, S2, M1."""
    return json.loads(VECTORS.read_text(encoding="utf-8"))


@pytest.fixture
def parsed_metric() -> ParsedScore:
    """A fresh :class:`ParsedScore` metric."""
    return ParsedScore()


@pytest.fixture
def sacre_bleu():
    """The project's sacreBLEU-convention BLEU with whitespace tokenisation (the sheet's setting)."""
    from radeval.metrics import get_metric

    return get_metric("bleu_sacre", tokenize="none")


@pytest.fixture(scope="session")
def synthetic_corpus() -> tuple[list[str], list[str], list[str]]:
    """300 synthetic radiology-like (ref, baseline, system) triples; the system is closer to the refs."""
    rng = np.random.default_rng(7)
    words = ("no pleural effusion pneumothorax the heart size is normal mild emphysema upper lobes nodule "
             "right lower lobe mediastinal lymphadenopathy airways patent small hiatal hernia degenerative "
             "changes thoracic spine consolidation coronary artery calcifications bilateral atelectasis").split()
    refs, base, system = [], [], []
    for _ in range(300):
        ref = list(rng.choice(words, size=int(rng.integers(4, 14))))
        keep_sys = rng.random(len(ref)) < 0.8
        keep_base = rng.random(len(ref)) < 0.55
        refs.append(" ".join(ref) + " .")
        system.append(" ".join(w for w, k in zip(ref, keep_sys) if k) + " .")
        base.append(" ".join(w if k else str(rng.choice(words)) for w, k in zip(ref, keep_base)) + " .")
    return refs, base, system
