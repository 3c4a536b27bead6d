"""ROUGE-L in the pycocoevalcap convention (F with beta = 1.2), as R2Gen-style papers report it.

Tokens are ``text.split(" ")`` -- a single space only, so a double space yields an empty token and
an empty text is one empty token -- with case kept and no stemming. Per pair
``P = LCS/|hyp|``, ``R = LCS/|ref|`` and ``F = (1 + b^2) P R / (R + b^2 P)`` (0 if P or R is 0).
The corpus value is the mean of F.

Example:
    >>> CocoRougeL().corpus_score(["the lungs are clear ."], ["lungs are clear"])
    0.7176470588235294
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from radeval.metrics.base import MeanMetric
from radeval.metrics.lcs import lcs_length
from radeval.text import check_normalization, normalize_all

#: pycocoevalcap's recall weight.
BETA = 1.2


def coco_rouge_l(ref: str, hyp: str, beta: float = BETA) -> float:
    """pycocoevalcap ROUGE-L F of one pair (single reference).

    Example:
        >>> round(coco_rouge_l("no  effusion", "no effusion"), 4)  # ref has a double space
        0.7722
    """
    c = hyp.split(" ")
    r = ref.split(" ")
    lcs = lcs_length(r, c)
    precision = lcs / float(len(c))
    recall = lcs / float(len(r))
    if precision != 0 and recall != 0:
        return ((1 + beta ** 2) * precision * recall) / float(recall + beta ** 2 * precision)
    return 0.0


class CocoRougeL(MeanMetric):
    """ROUGE-L, pycocoevalcap convention (beta = 1.2; mean of per-pair F; 0-1 scale).

    Args:
        normalize: a :mod:`radeval.text` normalisation applied to both sides first (default none).

    Raises:
        InputError: unknown normalisation; refs/hyps of different lengths or not text.

    Example:
        >>> CocoRougeL().signature.split("|v:")[0]
        'rougeL_coco|conv:coco|tok:space|case:keep|beta:1.2|norm:none'
    """

    name: ClassVar[str] = "rougeL_coco"
    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "lexical"
    cacheable: ClassVar[bool] = False

    def __init__(self, *, normalize: str = "none") -> None:
        self.normalize = check_normalization(normalize)

    def settings(self) -> dict[str, str]:
        return {"conv": "coco", "tok": "space", "case": "keep", "beta": f"{BETA}", "norm": self.normalize}

    def sample_values(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """One pycocoevalcap ROUGE-L F per pair."""
        refs = normalize_all(refs, self.normalize)
        hyps = normalize_all(hyps, self.normalize)
        return np.fromiter((coco_rouge_l(r, h) for r, h in zip(refs, hyps)), dtype=np.float64, count=len(refs))
