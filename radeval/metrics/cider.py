"""CIDEr-D as pycocoevalcap computes it (n = 1..4, sigma = 6, scores about 0-10).

Tokens are ``str.split()`` with case kept. The document frequency of an n-gram is the number of
*samples of the scored corpus* whose reference contains it, and ``idf = ln N - ln max(1, df)``. Each
text becomes one tf-idf vector per order; the sample score is
``10 * mean_n [sum_g min(v_h, v_r) v_r / (|v_h| |v_r|) * exp(-d^2 / (2 sigma^2))]`` where ``d`` is the
difference of the two texts' bigram counts (pycocoevalcap's "length"); a zero norm skips the
division. The corpus score is the mean of sample scores.

Because idf depends on the whole corpus, a sample's score changes when the corpus changes, and a
corpus of one sample always scores 0. Statistics are ``[score, 1]`` rows computed with the idf of the
corpus passed to :meth:`CiderD.statistics`; resampling (``radeval.stats``) therefore treats CIDEr-D
as a mean of per-sample scores with the full-corpus idf held fixed -- an approximation, since
pycocoevalcap would recompute the idf on each resample. For the same reason the metric is not
cacheable. A corpus whose references are all empty scores 0 for every sample (pycocoevalcap raises
a ``ValueError`` there).

Example:
    >>> m = CiderD()
    >>> refs = ["no pleural effusion .", "the heart is enlarged ."]
    >>> round(m.corpus_score(refs, ["no pleural effusion .", "the heart is big ."]), 4)
    6.9792
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from radeval.metrics.base import MeanMetric
from radeval.metrics.bleu import ngram_counts
from radeval.text import check_normalization, normalize_all

#: Highest n-gram order.
MAX_ORDER = 4
#: Width of the Gaussian length penalty.
SIGMA = 6.0


def _vectors(counts: Counter, idf: dict, default_idf: float) -> tuple[list[dict], list[float], int]:
    """tf-idf vectors per order, their norms, and the bigram count ("length")."""
    vec: list[dict] = [{} for _ in range(MAX_ORDER)]
    sq = [0.0] * MAX_ORDER
    length = 0
    for gram, tf in counts.items():
        k = len(gram) - 1
        w = float(tf) * idf.get(gram, default_idf)
        vec[k][gram] = w
        sq[k] += w ** 2
        if k == 1:
            length += tf
    return vec, [math.sqrt(x) for x in sq], length


class CiderD(MeanMetric):
    """CIDEr-D, pycocoevalcap convention (mean of per-sample scores; idf from the scored corpus).

    Args:
        sigma: the length-penalty width (default 6).
        normalize: a :mod:`radeval.text` normalisation applied to both sides first (default none).

    Raises:
        InputError: unknown normalisation; refs/hyps of different lengths or not text.

    Example:
        >>> CiderD().signature.split("|v:")[0]
        'cider|conv:coco|tok:ws|case:keep|n:4|sigma:6.0|idf:corpus|norm:none'
    """

    name: ClassVar[str] = "cider"
    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "lexical"
    cacheable: ClassVar[bool] = False

    def __init__(self, *, sigma: float = SIGMA, normalize: str = "none") -> None:
        self.sigma = float(sigma)
        self.normalize = check_normalization(normalize)

    def settings(self) -> dict[str, str]:
        return {"conv": "coco", "tok": "ws", "case": "keep", "n": str(MAX_ORDER), "sigma": f"{self.sigma}",
                "idf": "corpus", "norm": self.normalize}

    def sample_values(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """One CIDEr-D score per pair, with the idf of this corpus' references."""
        refs = normalize_all(refs, self.normalize)
        hyps = normalize_all(hyps, self.normalize)
        n = len(refs)
        if n == 0:
            return np.zeros(0)
        ref_counts = [ngram_counts(r.split()) for r in refs]
        hyp_counts = [ngram_counts(h.split()) for h in hyps]
        df: Counter = Counter()
        for counts in ref_counts:
            df.update(counts.keys())
        log_n = math.log(float(n))
        idf = {gram: log_n - math.log(max(1.0, d)) for gram, d in df.items()}
        two_sigma_sq = 2 * self.sigma ** 2
        out = np.empty(n)
        for i in range(n):
            vh, nh, lh = _vectors(hyp_counts[i], idf, log_n)
            vr, nr, lr = _vectors(ref_counts[i], idf, log_n)
            delta = float(lh - lr)
            penalty = math.e ** (-(delta ** 2) / two_sigma_sq)
            total = 0.0
            for k in range(MAX_ORDER):
                ref_k = vr[k]
                val = 0.0
                for gram, w in vh[k].items():
                    wr = ref_k.get(gram)
                    if wr:
                        val += (w if w < wr else wr) * wr
                if nh[k] != 0 and nr[k] != 0:
                    val /= nh[k] * nr[k]
                total += val * penalty
            out[i] = total / MAX_ORDER * 10.0
        return out
