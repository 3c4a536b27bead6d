"""Paired bootstrap from per-sample statistics: every resample of every system and metric at once.

The resample-index matrix is drawn once (:mod:`radeval.stats.resample`), turned into count
matrices chunk by chunk, and multiplied with the stacked statistics of all systems and metrics
(:class:`~radeval.stats.columns.ColumnPack`). Each metric then maps its ``(B, K, k)`` summed
statistics to ``(B, K)`` corpus scores with one vectorised ``aggregate`` call — a metric's
``statistics()`` is never called here.

Example:
    >>> import numpy as np
    >>> from radeval.metrics.base import mean_statistics, MeanMetric
    >>> class Mean(MeanMetric):
    ...     name = "mean"
    ...     def sample_values(self, refs, hyps):
    ...         return [0.0] * len(refs)
    >>> x = np.array([0.62, 0.48, 0.91, 0.33, 0.75, 0.58, 0.44, 0.80, 0.67, 0.52, 0.39, 0.71])
    >>> stats = {"mean": np.stack([mean_statistics(x)])}
    >>> scores = bootstrap_corpus_scores(stats, {"mean": Mean()}, 1000, make_rng(12345))
    >>> scores["mean"].shape
    (1000, 1)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from radeval.metrics.base import Metric
from radeval.stats.columns import ColumnPack
from radeval.stats.resample import chunk_rows, iter_bootstrap_counts, make_rng, resampled_sums

#: Default number of bootstrap resamples (as in the RAD3D-Prefix study).
DEFAULT_RESAMPLES = 5000

#: Fewer resamples than this are refused: the tails of the distribution would be guesswork.
MIN_RESAMPLES = 100

__all__ = [
    "DEFAULT_RESAMPLES", "MIN_RESAMPLES", "bootstrap_corpus_scores", "jackknife_corpus_scores",
    "corpus_scores", "make_rng",
]


def _progress(chunks: Iterator[np.ndarray], total: int, rows: int, desc: str, enabled: bool) -> Iterator[np.ndarray]:
    if not enabled or total <= rows:  # no bar for a single chunk
        return chunks
    from tqdm import tqdm

    return iter(tqdm(chunks, total=-(-total // rows), desc=desc, unit="chunk"))


def corpus_scores(statistics: np.ndarray, metric: Metric) -> np.ndarray:
    """Full-corpus scores of K systems: ``aggregate`` of the column sums.

    Args:
        statistics: ``(K, N, k)`` per-sample statistics.
        metric: the metric that produced them.

    Returns:
        ``(K,)`` float64.
    """
    totals = np.asarray(statistics, dtype=np.float64).sum(axis=1)
    return np.asarray(metric.aggregate(totals), dtype=np.float64).reshape(totals.shape[0])


def bootstrap_corpus_scores(statistics: Mapping[str, np.ndarray], metrics: Mapping[str, Metric],
                            resamples: int, rng: np.random.Generator, *,
                            progress: bool = False) -> dict[str, np.ndarray]:
    """Corpus scores of every bootstrap resample, for every system and metric, on shared indices.

    Args:
        statistics: metric name -> ``(K, N, k)`` statistics (K systems on the same N cases).
        metrics: metric name -> the metric (its ``aggregate`` is used).
        resamples: number of bootstrap resamples B.
        rng: the generator; the indices are ``rng.choice(N, (B, N))``, identical to sacreBLEU's
            with a fresh ``default_rng(seed)``.
        progress: show a tqdm bar over the chunks.

    Returns:
        metric name -> ``(B, K)`` float64 corpus scores.
    """
    pack = ColumnPack()
    positions: dict[str, np.ndarray] = {}
    n = None
    for name, block in statistics.items():
        arr = np.asarray(block, dtype=np.float64)
        n = arr.shape[1]
        positions[name] = pack.add(arr.transpose(1, 0, 2))  # (K, k) column positions
    if n is None:
        return {}
    rows = chunk_rows(n)
    chunks = _progress(iter_bootstrap_counts(n, resamples, rng, rows=rows), resamples, rows, "bootstrap", progress)
    sums = resampled_sums(pack.matrix(), chunks)
    out: dict[str, np.ndarray] = {}
    for name, pos in positions.items():
        out[name] = np.asarray(metrics[name].aggregate(sums[:, pos]), dtype=np.float64).reshape(resamples, pos.shape[0])
    return out


def jackknife_corpus_scores(statistics: np.ndarray, metric: Metric) -> np.ndarray:
    """Leave-one-out corpus scores (for BCa), from sums: ``aggregate(total − stats[i])``.

    Args:
        statistics: ``(K, N, k)`` per-sample statistics.
        metric: the metric.

    Returns:
        ``(N, K)`` float64: row ``i`` is every system's score without case ``i``.
    """
    arr = np.asarray(statistics, dtype=np.float64)
    loo = arr.sum(axis=1)[None, :, :] - arr.transpose(1, 0, 2)
    return np.asarray(metric.aggregate(loo), dtype=np.float64).reshape(arr.shape[1], arr.shape[0])
