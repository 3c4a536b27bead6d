"""ROUGE-1, ROUGE-2 and ROUGE-L F1 in the rouge-score convention (``use_stemmer=True`` by default).

This is what RadEval reports: each pair is scored with rouge-score's rules and the corpus value is
the mean F1. Tokenisation follows rouge-score 0.1.2 exactly: lowercase, every run of characters
outside ``[a-z0-9]`` becomes a space (so non-ASCII letters are separators), split, Porter-stem
(NLTK, default mode) the tokens longer than 3 characters, drop empty tokens. ROUGE-N is the clipped
n-gram overlap; ROUGE-L uses the LCS of the whole token sequences; an empty side scores 0.

The three metrics share one statistics computation: rows are ``[F_rouge1, F_rouge2, F_rougeL, 1]``
and each metric averages its own column. ``avg_rouge12`` (the RAD3D-Prefix paper's "Avg. ROUGE (1-2)")
reads the same rows and averages ``(F_rouge1 + F_rouge2) / 2``.

Example:
    >>> m = rougeL()
    >>> m.corpus_score(["No acute cardiopulmonary process."], ["no acute cardiopulmonary process"])
    1.0
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np

from radeval.errors import InputError, MissingDependencyError
from radeval.metrics.base import Metric, check_pairs
from radeval.metrics.lcs import lcs_length
from radeval.text import check_normalization, normalize_all

#: The members of the family, in the column order of the statistics.
VARIANTS: tuple[str, ...] = ("rouge1", "rouge2", "rougeL")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _porter() -> Callable[[str], str]:
    try:
        from nltk.stem import porter
    except ImportError:  # pragma: no cover - nltk comes with rouge-score
        raise MissingDependencyError("rouge1/rouge2/rougeL need nltk (a rouge-score dependency): "
                                     "pip install 'rouge-score==0.1.2'") from None
    return porter.PorterStemmer().stem


class RougeTokenizer:
    """rouge-score's default tokenizer, with a per-word stem cache.

    Args:
        use_stemmer: Porter-stem tokens longer than 3 characters.

    Example:
        >>> RougeTokenizer(use_stemmer=True)("Nodules were SEEN; no café.")
        ['nodul', 'were', 'seen', 'no', 'caf']
    """

    def __init__(self, use_stemmer: bool = True) -> None:
        self.use_stemmer = use_stemmer
        self._stem = _porter() if use_stemmer else None
        self._cache: dict[str, str] = {}

    def __call__(self, text: str) -> list[str]:
        tokens = _NON_ALNUM.sub(" ", text.lower()).split()
        if self._stem is None:
            return tokens
        cache, out = self._cache, []
        for tok in tokens:
            if len(tok) > 3:
                stemmed = cache.get(tok)
                if stemmed is None:
                    stemmed = cache[tok] = self._stem(tok)
                tok = stemmed
            if tok:
                out.append(tok)
        return out


def f1(overlap: int, n_hyp: int, n_ref: int) -> float:
    """rouge-score's F1 from an overlap count and the two sizes (0 when both P and R are 0).

    Example:
        >>> f1(2, 3, 4)
        0.5714285714285715
    """
    precision = overlap / max(n_hyp, 1)
    recall = overlap / max(n_ref, 1)
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(zip(*(tokens[i:] for i in range(n)))) if n > 1 else Counter(tokens)


def rouge_row(ref_tokens: Sequence[str], hyp_tokens: Sequence[str]) -> list[float]:
    """``[F_rouge1, F_rouge2, F_rougeL, 1.0]`` for one tokenised pair."""
    row: list[float] = []
    for n in (1, 2):
        ref_ngrams, hyp_ngrams = _ngrams(ref_tokens, n), _ngrams(hyp_tokens, n)
        overlap = 0
        for gram, count in ref_ngrams.items():
            hc = hyp_ngrams.get(gram, 0)
            overlap += count if count < hc else hc
        row.append(f1(overlap, sum(hyp_ngrams.values()), sum(ref_ngrams.values())))
    if not ref_tokens or not hyp_tokens:
        row.append(0.0)
    else:
        lcs = lcs_length(ref_tokens, hyp_tokens)
        precision, recall = lcs / len(hyp_tokens), lcs / len(ref_tokens)
        row.append(2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0)
    row.append(1.0)
    return row


class RougeScore(Metric):
    """ROUGE-1/2/L F1, rouge-score convention; the corpus value is the mean over pairs (0-1 scale).

    Args:
        variant: ``rouge1``, ``rouge2`` or ``rougeL``.
        use_stemmer: Porter stemming (default True, as RadEval).
        normalize: a :mod:`radeval.text` normalisation applied to both sides first (default none).

    Raises:
        InputError: unknown variant or normalisation; refs/hyps of different lengths or not text.

    Example:
        >>> RougeScore("rouge2").signature.split("|v:")[0]
        'rouge2|conv:rouge-score|tok:alnum|case:lower|stem:porter|norm:none'
    """

    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "lexical"
    kind: ClassVar[str] = "mean"
    cacheable: ClassVar[bool] = False

    def __init__(self, variant: str = "rougeL", *, use_stemmer: bool = True, normalize: str = "none") -> None:
        if variant not in VARIANTS:
            raise InputError(f"unknown ROUGE variant {variant!r}; expected one of {', '.join(VARIANTS)}")
        self.variant = variant
        self.column = VARIANTS.index(variant)
        self.use_stemmer = bool(use_stemmer)
        self.normalize = check_normalization(normalize)
        self._tokenize = RougeTokenizer(self.use_stemmer)

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.variant

    def settings(self) -> dict[str, str]:
        return {"conv": "rouge-score", "tok": "alnum", "case": "lower",
                "stem": "porter" if self.use_stemmer else "none", "norm": self.normalize}

    @property
    def statistics_key(self) -> str:
        return "rouge|" + "|".join(f"{k}:{v}" for k, v in self.settings().items())

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """``(n, 4)`` rows ``[F_rouge1, F_rouge2, F_rougeL, 1]``."""
        check_pairs(refs, hyps, metric=self.name)
        refs = normalize_all(refs, self.normalize)
        hyps = normalize_all(hyps, self.normalize)
        tok = self._tokenize
        rows = [rouge_row(tok(r), tok(h)) for r, h in zip(refs, hyps)]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(VARIANTS) + 1)

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        s = np.asarray(stats, dtype=np.float64)
        count = s[..., -1]
        out = np.where(count > 0, s[..., self.column] / np.where(count > 0, count, 1.0), 0.0)
        return float(out) if out.ndim == 0 else out


def rouge1(**options: object) -> RougeScore:
    """ROUGE-1 F1 (rouge-score, stemmed)."""
    return RougeScore("rouge1", **options)  # type: ignore[arg-type]


def rouge2(**options: object) -> RougeScore:
    """ROUGE-2 F1 (rouge-score, stemmed)."""
    return RougeScore("rouge2", **options)  # type: ignore[arg-type]


def rougeL(**options: object) -> RougeScore:  # noqa: N802 - the metric's public name
    """ROUGE-L F1 (rouge-score, stemmed)."""
    return RougeScore("rougeL", **options)  # type: ignore[arg-type]


class RougeAverage12(RougeScore):
    """Avg. ROUGE (1-2): the mean of ROUGE-1 F1 and ROUGE-2 F1 (rouge-score convention, stemmed).

    The RAD3D-Prefix paper reports this mean (its Tables 1, 2, 4, 8). The statistics are the ROUGE
    family's ``(n, 4)`` rows (same :attr:`statistics_key`); the corpus value is the mean over pairs
    of ``(F_rouge1 + F_rouge2) / 2``, which equals the mean of the corpus ROUGE-1 and ROUGE-2.

    Args:
        use_stemmer: Porter stemming (default True).
        normalize: a :mod:`radeval.text` normalisation applied to both sides first (default none).

    Raises:
        InputError: unknown normalisation; refs/hyps of different lengths or not text.

    Example:
        >>> m = avg_rouge12()
        >>> m.signature.split("|v:")[0]
        'avg_rouge12|conv:rouge-score|tok:alnum|case:lower|stem:porter|norm:none|mean:rouge1+rouge2'
        >>> m.corpus_score(["no pleural effusion"], ["no effusion"])
        0.4
    """

    def __init__(self, *, use_stemmer: bool = True, normalize: str = "none") -> None:
        super().__init__("rouge1", use_stemmer=use_stemmer, normalize=normalize)

    @property
    def name(self) -> str:  # type: ignore[override]
        return "avg_rouge12"

    def settings(self) -> dict[str, str]:
        return {**super().settings(), "mean": "rouge1+rouge2"}

    @property
    def statistics_key(self) -> str:
        return RougeScore("rouge1", use_stemmer=self.use_stemmer, normalize=self.normalize).statistics_key

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        s = np.asarray(stats, dtype=np.float64)
        count = s[..., -1]
        pair = (s[..., 0] + s[..., 1]) / 2.0
        out = np.where(count > 0, pair / np.where(count > 0, count, 1.0), 0.0)
        return float(out) if out.ndim == 0 else out


def avg_rouge12(**options: object) -> RougeAverage12:
    """Avg. ROUGE (1-2): mean of ROUGE-1 and ROUGE-2 F1 (rouge-score, stemmed)."""
    return RougeAverage12(**options)  # type: ignore[arg-type]
