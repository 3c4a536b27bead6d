"""What a run derives from its primary metric (``rank_by``): the rank groups and the qualitative examples.

:func:`board_ranking` turns a run's comparison (table, pair table, per-sample statistics) into a
:class:`~radeval.stats.ranking.Ranking`, or explains why there is none; :func:`example_documents` writes
the largest per-case differences of every compared pair as Markdown and HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from radeval.leaderboard.examples import examples_html, examples_markdown, select_examples
from radeval.leaderboard.table import Leaderboard
from radeval.metrics.base import Metric
from radeval.stats.ranking import Ranking, rank_systems


def board_ranking(rank_by: str | None, *, metrics: Mapping[str, Metric], statistics: Mapping[str, np.ndarray],
                  table: pd.DataFrame, pairs: pd.DataFrame, systems: Sequence[str], case_ids: Sequence[str],
                  significance: Any) -> tuple[Ranking | None, str]:
    """Rank groups of a run by ``rank_by``.

    Args:
        rank_by: the primary metric, or ``None``.
        metrics: computed metrics (name -> Metric).
        statistics: name -> ``(K, N, k)`` per-sample statistics (NaN rows = cases a system could not score;
            they are left out for every system, as in the run's own test).
        table: the run's per-(system, metric) table (``score`` column).
        pairs: the run's pair table with ``p_corrected`` (used in all-pairs mode).
        systems: system names in the order of ``statistics``.
        case_ids: the N case ids.
        significance: the run's settings (``test``, ``resamples``, ``seed``, ``ci``, ``confidence``,
            ``correction``, ``mode``, ``alpha``): a suite's :class:`~radeval.stats.signature.SignificanceSettings`
            (used as is, ``pvalue`` and ``ci_resamples`` included) or any object with those attributes.

    Returns:
        ``(ranking, "")``, or ``(None, why)`` — ``why`` is empty when no ``rank_by`` was set.
    """
    from radeval.stats.signature import SignificanceSettings

    if rank_by is None:
        return None, ""
    if rank_by not in metrics:
        return None, (f"The primary metric {rank_by} (`rank_by`) was not computed (see 'Metrics not computed'): "
                      "systems are listed in suite order and are not ranked.")
    settings = significance if isinstance(significance, SignificanceSettings) else SignificanceSettings.build(
        test=significance.test, resamples=significance.resamples, seed=significance.seed, ci=significance.ci,
        confidence=significance.confidence, correction=significance.correction, alpha=significance.alpha,
        mode=significance.mode)
    arr = np.asarray(statistics[rank_by], dtype=np.float64)
    ok = np.all(np.isfinite(arr), axis=(0, 2))
    sub = table[table["metric"] == rank_by].set_index("system")["score"]
    scores = {s: float(sub.get(s, np.nan)) for s in systems}
    ranking = rank_systems(scores, metric=metrics[rank_by], mode=settings.mode, pairs=pairs,
                           statistics=arr[:, ok, :], systems=list(systems), settings=settings,
                           case_ids=[case_ids[i] for i in np.where(ok)[0]])
    return ranking, ""


def example_documents(board: Leaderboard, per_sample: pd.DataFrame, references: Mapping[str, str],
                      predictions: Mapping[str, Mapping[str, str]], pairs: pd.DataFrame, *,
                      n: int = 5) -> tuple[str, str]:
    """``examples.md`` and ``examples.html`` for every pair of the run's comparisons.

    The differences are taken on the ranking's metric; without a ranking, on the first metric of the
    leaderboard (the documents say which and why).

    Args:
        board: the leaderboard (its ranking, metrics and title).
        per_sample: one row per (case_id, system), one column per metric.
        references: case id -> reference.
        predictions: system -> case id -> output.
        pairs: the run's pair table (``system_a``, ``system_b``); each pair is shown once.
        n: cases per pair and direction.

    Returns:
        ``(markdown, html)``.
    """
    if board.ranking is not None:
        metric, why = board.ranking.metric, "the primary metric, `rank_by`"
        hib = board.ranking.higher_is_better
    else:
        metric = board.metrics[0]
        why = "no primary metric was ranked, so the leaderboard's first metric"
        rows = board.table[board.table["metric"] == metric]
        hib = bool(rows["higher_is_better"].iloc[0]) if not rows.empty else True
    seen: list[tuple[str, str]] = []
    for r in pairs.itertuples():
        pair = (str(r.system_a), str(r.system_b))
        if pair not in seen:
            seen.append(pair)
    chosen = select_examples(per_sample, references, predictions, seen, metric=metric, higher_is_better=hib, n=n)
    title = f"{board.title}: qualitative examples"
    return examples_markdown(chosen, title=title, why=why), examples_html(chosen, title=title, why=why)


__all__ = ["board_ranking", "example_documents"]
