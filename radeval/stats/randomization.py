"""Paired approximate randomization (AR) from per-sample statistics, every pair and metric at once.

For a pair of systems (a, b) each trial keeps or swaps the two outputs of every case with
probability ½. With the swap mask ``pos`` (``True`` = keep), the pseudo-systems' summed statistics
are ``a_r = Σ_b + pos_r · (S_a − S_b)`` and ``b_r = Σ_a + Σ_b − a_r`` — one matrix product of the
mask chunk with the stacked differences ``S_a − S_b`` of every pair and metric. The test statistic
is ``|S(a_r) − S(b_r)|``; p-values follow :mod:`radeval.stats.pvalues`.

The masks are ``default_rng(seed).integers(2, size=(R, N), dtype=bool)``, shared by every pair and
metric, as sacreBLEU ``--paired-ar`` draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from radeval.metrics.base import Metric
from radeval.stats.columns import ColumnPack
from radeval.stats.resample import chunk_rows, iter_swap_masks, resampled_sums

#: Default number of randomization trials.
DEFAULT_TRIALS = 10000

__all__ = ["DEFAULT_TRIALS", "randomization_null"]


def randomization_null(statistics: Mapping[str, np.ndarray], metrics: Mapping[str, Metric],
                       pairs: Sequence[tuple[int, int]], trials: int, rng: np.random.Generator, *,
                       progress: bool = False) -> dict[str, np.ndarray]:
    """Null distributions ``|S(a_r) − S(b_r)|`` of every pair and metric on shared swap masks.

    Args:
        statistics: metric name -> ``(K, N, k)`` statistics.
        metrics: metric name -> the metric (its ``aggregate`` is used).
        pairs: ``(a, b)`` system positions to compare.
        trials: number of trials R.
        rng: the generator (consumed: ``R × N`` booleans).
        progress: show a tqdm bar over the chunks.

    Returns:
        metric name -> ``(R, len(pairs))`` float64.
    """
    if not pairs:
        return {name: np.zeros((trials, 0)) for name in statistics}
    pack = ColumnPack()
    positions: dict[str, np.ndarray] = {}
    totals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    a_idx = np.array([a for a, _ in pairs])
    b_idx = np.array([b for _, b in pairs])
    n = None
    for name, block in statistics.items():
        arr = np.asarray(block, dtype=np.float64)
        n = arr.shape[1]
        diff = arr[a_idx] - arr[b_idx]                     # (P, N, k)
        positions[name] = pack.add(diff.transpose(1, 0, 2))  # (P, k)
        total = arr.sum(axis=1)
        totals[name] = (total[a_idx], total[b_idx])         # (P, k) each
    if n is None:
        return {}
    rows = chunk_rows(n)
    chunks = iter_swap_masks(n, trials, rng, rows=rows)
    if progress and trials > rows:  # no bar for a single chunk
        from tqdm import tqdm

        chunks = iter(tqdm(chunks, total=-(-trials // rows), desc="randomization", unit="chunk"))
    sums = resampled_sums(pack.matrix(), chunks)
    out: dict[str, np.ndarray] = {}
    for name, pos in positions.items():
        total_a, total_b = totals[name]
        pseudo_a = total_b[None] + sums[:, pos]            # (R, P, k)
        pseudo_b = (total_a + total_b)[None] - pseudo_a
        metric = metrics[name]
        score_a = np.asarray(metric.aggregate(pseudo_a), dtype=np.float64).reshape(trials, len(pairs))
        score_b = np.asarray(metric.aggregate(pseudo_b), dtype=np.float64).reshape(trials, len(pairs))
        out[name] = np.abs(score_a - score_b)
    return out
