"""Shared fixtures of the metric tests: the contract checker, seeded report pairs, edge cases, vectors."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from radeval.metrics.base import Metric

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

_FINDINGS = [
    "no pleural effusion", "no pneumothorax", "the heart size is normal", "mild cardiomegaly",
    "there is a {n} mm nodule in the {side} {lobe} lobe", "no focal consolidation",
    "mild emphysema in the upper lobes", "no mediastinal lymphadenopathy", "the trachea is midline",
    "atelectasis at the {side} lung base", "a small hiatal hernia", "degenerative changes of the thoracic spine",
    "the aorta is calcified", "ground-glass opacity in the {side} {lobe} lobe", "bronchial wall thickening",
    "the liver shows a hypodense lesion of {n} mm", "coronary artery calcifications", "no acute abnormality",
    "status post median sternotomy", "stable pulmonary nodules", "bilateral pleural thickening",
]
_SWAPS = {
    "no": "minimal", "normal": "enlarged", "mild": "moderate", "small": "large", "right": "left",
    "upper": "lower", "nodule": "mass", "effusion": "effusions", "heart": "cardiac silhouette",
}
_UNICODE = ["café", "naïve", "µm", "≥", "–", "Größe", "ﬁbrosis", "İnfiltrate", "é", "\u00a0"]


def _finding(rng: random.Random) -> str:
    return rng.choice(_FINDINGS).format(n=rng.randint(2, 30), side=rng.choice(["right", "left"]),
                                        lobe=rng.choice(["upper", "middle", "lower"]))


def _report(rng: random.Random, n_sentences: int) -> str:
    sentences = []
    for _ in range(n_sentences):
        s = _finding(rng)
        s = s[0].upper() + s[1:] if rng.random() < 0.6 else s
        sentences.append(s + rng.choice([".", ".", " .", ";", ""]))
    return rng.choice([" ", " ", "  ", "\n", " \n "]).join(sentences)


def _perturb(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    out = []
    for w in words:
        r = rng.random()
        if r < 0.08:
            continue
        if r < 0.16 and w.lower() in _SWAPS:
            w = _SWAPS[w.lower()]
        elif r < 0.20:
            w = w.upper()
        elif r < 0.23:
            w = w + rng.choice([",", ".", ":", "!", "?"])
        elif r < 0.25:
            w = w + " " + rng.choice(_UNICODE)
        out.append(w)
    if rng.random() < 0.3 and len(out) > 3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    sep = rng.choice([" ", " ", " ", "  ", "\t"])
    return sep.join(out)


def generate_pairs(n: int = 240, seed: int = 20260401) -> tuple[list[str], list[str], list[str]]:
    """Seeded radiology-like (ids, refs, hyps): paraphrases, case and punctuation changes, unicode,
    multiple spaces, tabs, newlines, unrelated pairs and very short reports."""
    rng = random.Random(seed)
    ids, refs, hyps = [], [], []
    for i in range(n):
        ref = _report(rng, rng.randint(1, 6))
        kind = rng.random()
        if kind < 0.08:
            hyp = _report(rng, rng.randint(1, 4))  # unrelated
        elif kind < 0.14:
            hyp = " ".join(ref.split()[: rng.randint(1, 3)])  # very short
        elif kind < 0.18:
            hyp = ref  # identical
        else:
            hyp = _perturb(rng, ref)
        ids.append(f"gen{i:03d}")
        refs.append(ref)
        hyps.append(hyp)
    return ids, refs, hyps


#: Edge cases: (case id, reference, hypothesis). None/NaN are tested separately (they must error).
EDGE_CASES: list[tuple[str, str, str]] = [
    ("empty_hyp", "No pleural effusion.", ""),
    ("empty_ref", "", "No pleural effusion."),
    ("both_empty", "", ""),
    ("ws_hyp", "No pleural effusion.", "   \t "),
    ("ws_ref", "  \n ", "No pleural effusion."),
    ("punct_only_hyp", "No pleural effusion.", "... ; !? -- ,"),
    ("punct_only_both", ".,;:!?", ". , ; : ! ?"),
    ("identical", "Mild emphysema in the upper lobes.", "Mild emphysema in the upper lobes."),
    ("identical_lower", "no acute process .", "no acute process ."),
    ("newlines_tabs", "Heart size is normal.\nNo effusion.", "Heart size\tis normal.\r\nNo\teffusion."),
    ("pipes", "no effusion ||| heart normal", "no ||| effusion |||| heart | normal"),
    ("double_spaces", "no  effusion", "no effusion"),
    ("leading_trailing", "  no effusion  ", " no effusion "),
    ("unicode", "Größe 5 µm café nodule", "groesse 5 um cafe nodule"),
    ("one_word", "effusion", "effusion"),
    ("long_hyp", "There is a 5 mm nodule in the right lower lobe.",
     " ".join(["the", "nodule", "is", "stable", "in", "size", "and", "there", "is", "no", "effusion."] * 910)),
]


@pytest.fixture(scope="session")
def lexical_pairs() -> tuple[list[str], list[str], list[str]]:
    """>= 200 seeded varied pairs plus every edge case, as (ids, refs, hyps)."""
    ids, refs, hyps = generate_pairs()
    for cid, ref, hyp in EDGE_CASES:
        ids.append(cid)
        refs.append(ref)
        hyps.append(hyp)
    return ids, refs, hyps


@pytest.fixture(scope="session")
def edge_cases() -> list[tuple[str, str, str]]:
    """The edge cases alone."""
    return list(EDGE_CASES)


@pytest.fixture(scope="session")
def lexical_vectors() -> dict:
    """The fixed expectations of ``tests/fixtures/lexical_vectors.json``."""
    return json.loads((FIXTURES / "lexical_vectors.json").read_text(encoding="utf-8"))


@dataclass
class MetricChecker:
    """Checks the metric contract on real inputs.

    - summed statistics aggregate to :meth:`Metric.corpus_score`;
    - ``aggregate`` is vectorised: a ``(B, k)`` stack gives the ``B`` separate scores;
    - split-and-merge: aggregating the sum of the two halves' row sums equals the whole; for metrics
      whose rows depend only on their own pair, statistics computed on the halves equal the rows of
      the whole;
    - row order: permuting the input permutes the rows and leaves the corpus score unchanged;
    - per-sample scores are ``aggregate`` of each row, and mean metrics average them.
    """

    rtol: float = 1e-12

    def __call__(self, metric: Metric, refs: list[str], hyps: list[str], *, rows_independent: bool = True) -> np.ndarray:
        stats = metric.statistics(refs, hyps)
        n = len(refs)
        assert stats.shape[0] == n and stats.ndim == 2 and stats.dtype == np.float64
        total = metric.aggregate(stats.sum(axis=0))
        assert isinstance(total, float)
        assert np.isclose(total, metric.corpus_score(refs, hyps), rtol=self.rtol, atol=1e-15)
        half = n // 2
        merged = metric.aggregate(stats[:half].sum(axis=0) + stats[half:].sum(axis=0))
        assert np.isclose(merged, total, rtol=self.rtol, atol=1e-15)
        if rows_independent:
            parts = np.concatenate([metric.statistics(refs[:half], hyps[:half]),
                                    metric.statistics(refs[half:], hyps[half:])])
            np.testing.assert_allclose(parts, stats, rtol=self.rtol, atol=1e-15)
        perm = np.random.default_rng(7).permutation(n)
        permuted = metric.statistics([refs[i] for i in perm], [hyps[i] for i in perm])
        np.testing.assert_allclose(permuted, stats[perm], rtol=self.rtol, atol=1e-15)
        assert np.isclose(metric.aggregate(permuted.sum(axis=0)), total, rtol=self.rtol, atol=1e-15)
        batch = np.stack([stats.sum(axis=0), stats[:half].sum(axis=0), stats[half:].sum(axis=0)])
        vec = metric.aggregate(batch)
        assert vec.shape == (3,)
        np.testing.assert_allclose(vec, [total, metric.aggregate(batch[1]), metric.aggregate(batch[2])],
                                   rtol=self.rtol, atol=1e-15)
        per = metric.sample_scores(stats)
        assert per.shape == (n,)
        np.testing.assert_allclose(per, [metric.aggregate(row) for row in stats], rtol=self.rtol, atol=1e-15)
        if metric.kind == "mean":
            assert np.isclose(total, per.mean(), rtol=1e-12, atol=1e-15)
        return stats


@pytest.fixture(scope="session")
def check_metric() -> Callable[..., np.ndarray]:
    """The shared contract checker (see :class:`MetricChecker`)."""
    return MetricChecker()


@pytest.fixture(scope="session")
def java_available() -> bool:
    """Whether a ``java`` executable is on PATH."""
    return shutil.which("java") is not None
