"""BLEU-1..4 in the pycocoevalcap convention (what R2Gen, CT2Rep and R2GenGPT papers report).

Tokens are ``str.split()`` (runs of any whitespace; punctuation stays glued to words) and case is
kept. Per sample the statistics are ``[testlen, reflen, guess_1..4, correct_1..4]``; the corpus score
sums them and applies

    p_k = (C_k + 1e-15) / (G_k + 1e-9),   BLEU-n = (prod_{k<=n} p_k)^(1/n) * BP,
    BP = exp(1 - 1/rho) if rho < 1 else 1,   rho = (T + 1e-15) / (L + 1e-9).

The epsilons mean an order with no matches gives a tiny but non-zero BLEU, and an order with no
n-grams at all gives p_k = 1e-6 (not 0). A per-sample score is the same formula on one row, which is
exactly pycocoevalcap's per-image list. The four metrics share one statistics computation, and so
does ``avg_bleu`` (the RAD3D-Prefix paper's "Avg. BLEU"): the mean of BLEU-1..4, each computed from the
same summed counts, so it gets CIs and paired tests from the very same rows.

Example:
    >>> m = bleu4()
    >>> round(m.corpus_score(["no pleural effusion ."], ["no pleural effusion ."]), 6)
    1.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from radeval.metrics.base import Metric, check_pairs
from radeval.text import check_normalization, normalize_all

#: Added to the matched-n-gram counts (pycocoevalcap's ``tiny``).
TINY = 1e-15
#: Added to the guessed-n-gram counts and the reference length (pycocoevalcap's ``small``).
SMALL = 1e-9
#: Highest n-gram order collected.
MAX_ORDER = 4
#: Columns of the statistics array.
COLUMNS: tuple[str, ...] = (
    "testlen", "reflen", *(f"guess{k}" for k in range(1, MAX_ORDER + 1)),
    *(f"correct{k}" for k in range(1, MAX_ORDER + 1)),
)


def ngram_counts(tokens: Sequence[str], max_order: int = MAX_ORDER) -> Counter:
    """Counts of every n-gram (as a tuple) of order 1..``max_order``.

    Example:
        >>> sorted(ngram_counts(["a", "b", "a"], 2).items())
        [(('a',), 2), (('a', 'b'), 1), (('b',), 1), (('b', 'a'), 1)]
    """
    counts: Counter = Counter()
    for k in range(1, max_order + 1):
        counts.update(zip(*(tokens[i:] for i in range(k))))
    return counts


def bleu_row(ref: str, hyp: str) -> list[int]:
    """One sample's statistics ``[testlen, reflen, guess_1..4, correct_1..4]`` (single reference).

    Example:
        >>> bleu_row("the lungs are clear .", "lungs are clear")
        [3, 5, 3, 2, 1, 0, 3, 2, 1, 0]
    """
    h = hyp.split()
    r = ref.split()
    n = len(h)
    correct = [0] * MAX_ORDER
    if n:
        ref_counts = ngram_counts(r)
        for gram, count in ngram_counts(h).items():
            rc = ref_counts.get(gram)
            if rc:
                correct[len(gram) - 1] += count if count < rc else rc
    return [n, len(r), *(max(0, n - k + 1) for k in range(1, MAX_ORDER + 1)), *correct]


def bleu_from_counts(stats: np.ndarray, order: int) -> np.ndarray:
    """Cumulative BLEU-``order`` from summed statistics, vectorised over leading axes.

    Args:
        stats: ``(..., 10)`` array laid out as :data:`COLUMNS`.
        order: 1..4.

    Returns:
        ``(...)`` array of BLEU values in [0, 1].
    """
    s = np.asarray(stats, dtype=np.float64)
    guess = s[..., 2:2 + MAX_ORDER]
    correct = s[..., 2 + MAX_ORDER:2 + 2 * MAX_ORDER]
    product = np.ones(s.shape[:-1])
    for k in range(order):
        product = product * ((correct[..., k] + TINY) / (guess[..., k] + SMALL))
    score = product ** (1.0 / order)
    ratio = (s[..., 0] + TINY) / (s[..., 1] + SMALL)
    with np.errstate(divide="ignore", over="ignore"):
        penalty = np.where(ratio < 1, np.exp(1 - 1 / ratio), 1.0)
    return score * penalty


class CocoBleu(Metric):
    """BLEU-n, pycocoevalcap convention (corpus counts; 0-1 scale).

    Args:
        n: the highest n-gram order, 1..4.
        normalize: a :mod:`radeval.text` normalisation applied to both sides first (default none).

    Raises:
        ValueError: ``n`` outside 1..4.
        InputError: unknown normalisation; refs/hyps of different lengths or not text.

    Example:
        >>> m = CocoBleu(2)
        >>> m.signature.split("|v:")[0]
        'bleu2|conv:coco|tok:ws|case:keep|norm:none'
        >>> s = m.statistics(["the lungs are clear ."], ["lungs are clear"])
        >>> round(float(m.aggregate(s.sum(axis=0))), 6)
        0.513417
    """

    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "lexical"
    kind: ClassVar[str] = "corpus"
    cacheable: ClassVar[bool] = False

    def __init__(self, n: int = 4, *, normalize: str = "none") -> None:
        if n not in range(1, MAX_ORDER + 1):
            raise ValueError(f"BLEU order must be 1..{MAX_ORDER}, got {n!r}")
        self.n = int(n)
        self.normalize = check_normalization(normalize)

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"bleu{self.n}"

    def settings(self) -> dict[str, str]:
        return {"conv": "coco", "tok": "ws", "case": "keep", "norm": self.normalize}

    @property
    def statistics_key(self) -> str:
        return "bleu|" + "|".join(f"{k}:{v}" for k, v in self.settings().items())

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """``(n, 10)`` counts laid out as :data:`COLUMNS`."""
        check_pairs(refs, hyps, metric=self.name)
        refs = normalize_all(refs, self.normalize)
        hyps = normalize_all(hyps, self.normalize)
        rows = [bleu_row(r, h) for r, h in zip(refs, hyps)]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(COLUMNS))

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        out = bleu_from_counts(stats, self.n)
        return float(out) if out.ndim == 0 else out


def bleu1(**options: object) -> CocoBleu:
    """BLEU-1 (pycocoevalcap convention)."""
    return CocoBleu(1, **options)  # type: ignore[arg-type]


def bleu2(**options: object) -> CocoBleu:
    """BLEU-2 (pycocoevalcap convention)."""
    return CocoBleu(2, **options)  # type: ignore[arg-type]


def bleu3(**options: object) -> CocoBleu:
    """BLEU-3 (pycocoevalcap convention)."""
    return CocoBleu(3, **options)  # type: ignore[arg-type]


def bleu4(**options: object) -> CocoBleu:
    """BLEU-4 (pycocoevalcap convention)."""
    return CocoBleu(4, **options)  # type: ignore[arg-type]


class CocoBleuAverage(CocoBleu):
    """Avg. BLEU: the mean of corpus BLEU-1, -2, -3 and -4 (pycocoevalcap convention).

    The RAD3D-Prefix paper reports this mean as its headline n-gram metric (its Tables 1, 2, 4, 8).
    Statistics are the BLEU family's own ``(n, 10)`` counts (same :attr:`statistics_key`), so a run
    that also asks for ``bleu1..4`` computes them once. Per sample the score is the mean of that row's
    four BLEU values, i.e. the mean of pycocoevalcap's four per-image lists.

    Args:
        normalize: a :mod:`radeval.text` normalisation applied to both sides first (default none).

    Raises:
        InputError: unknown normalisation; refs/hyps of different lengths or not text.

    Example:
        >>> m = avg_bleu()
        >>> m.signature.split("|v:")[0]
        'avg_bleu|conv:coco|tok:ws|case:keep|norm:none|mean:bleu1-4'
        >>> s = m.statistics(["the lungs are clear ."], ["lungs are clear"])
        >>> round(float(m.aggregate(s.sum(axis=0))), 6)
        0.389122
    """

    def __init__(self, *, normalize: str = "none") -> None:
        super().__init__(MAX_ORDER, normalize=normalize)

    @property
    def name(self) -> str:  # type: ignore[override]
        return "avg_bleu"

    def settings(self) -> dict[str, str]:
        return {**super().settings(), "mean": f"bleu1-{MAX_ORDER}"}

    @property
    def statistics_key(self) -> str:
        return CocoBleu(MAX_ORDER, normalize=self.normalize).statistics_key

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        out = sum(bleu_from_counts(stats, k) for k in range(1, MAX_ORDER + 1)) / MAX_ORDER
        out = np.asarray(out, dtype=np.float64)
        return float(out) if out.ndim == 0 else out


def avg_bleu(**options: object) -> CocoBleuAverage:
    """Avg. BLEU: mean of BLEU-1..4 (pycocoevalcap convention)."""
    return CocoBleuAverage(**options)  # type: ignore[arg-type]
