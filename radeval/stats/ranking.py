"""Ranks that respect uncertainty: order systems by one primary metric and give each a rank *group*.

The rule (written into every leaderboard that uses it, see :data:`RANK_RULE`):

1. Sort the systems by their corpus score on the primary metric, best first (``higher_is_better`` decides
   the direction); equal scores keep the suite order.
2. Walk down the sorted list. The first system opens group 1 and *leads* it. Every next system joins the
   current group unless it is significantly worse than that group's leader, i.e. the paired test of
   (leader, system) on the primary metric has a corrected p below ``alpha`` and the system's score is
   worse. Then it opens the next group and leads it.

So a group holds systems that no test separates from the best system of the group; a system is only
compared with its group's leader (not with every member), which keeps the groups contiguous in the score
order. Group numbers are dense (1, 2, 3 …) and are what the leaderboards print as the rank.

Which paired tests: in ``all-pairs`` mode the run's own pair table (its p-values corrected over all
pairs × metrics). In ``baseline`` mode the run only tested each system against the baseline, so the
pairs the rule needs are computed by :func:`ranking_pairs` from the same per-sample statistics with the
same settings (test, resamples, seed, p-value convention, interval): every pair of systems on the
primary metric, corrected with the run's method over that family of K(K−1)/2 pairs. This is a
*reconstruction* (no source prescribes it); the family is named in :attr:`Ranking.family`.

Example:
    >>> import pandas as pd
    >>> pairs = pd.DataFrame({"system_a": ["a", "a", "b"], "system_b": ["b", "c", "c"], "metric": ["m"] * 3,
    ...                       "p_corrected": [0.40, 0.001, 0.002]})
    >>> r = rank_groups({"a": 0.9, "b": 0.88, "c": 0.5}, pairs, metric="m", higher_is_better=True, alpha=0.05)
    >>> r.order, [r.groups[s] for s in r.order]
    (('a', 'b', 'c'), [1, 1, 2])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from radeval.errors import InputError

#: The rank-group rule in one sentence (shown in leaderboards and leaderboard.json).
RANK_RULE = ("Systems are sorted by the primary metric (best first). Walking down the list, a system opens a "
             "new rank group only if it is significantly worse than the best system of the current group "
             "(paired test on the primary metric, corrected p < alpha); otherwise it shares that group's rank.")


@dataclass(frozen=True)
class Ranking:
    """Systems ordered by a primary metric, with rank groups.

    Attributes:
        metric: the primary metric.
        higher_is_better: its direction.
        order: system names, best first.
        groups: system -> rank group (1 = best group); systems without a score are absent.
        leaders: system -> the leader of its group (itself for a leader).
        compared_with: system -> the leader it was tested against when its turn came (absent for the
            first system); for a new leader that is the previous group's leader.
        p_compared: system -> the corrected p of that test.
        alpha: the significance level.
        family: which tests and correction family the groups come from.
        rule: the rule text (:data:`RANK_RULE`).
    """

    metric: str
    higher_is_better: bool
    order: tuple[str, ...]
    groups: dict[str, int]
    leaders: dict[str, str]
    compared_with: dict[str, str]
    p_compared: dict[str, float]
    alpha: float
    family: str
    rule: str = RANK_RULE

    @property
    def n_groups(self) -> int:
        """How many distinct rank groups there are."""
        return len(set(self.groups.values()))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN -> ``None``)."""
        return {"metric": self.metric, "higher_is_better": self.higher_is_better, "alpha": self.alpha,
                "family": self.family, "rule": self.rule, "order": list(self.order),
                "groups": {s: self.groups[s] for s in self.order if s in self.groups},
                "leaders": {s: self.leaders[s] for s in self.order if s in self.leaders},
                "compared_with": dict(self.compared_with),
                "p_compared": {s: (None if math.isnan(p) else p) for s, p in self.p_compared.items()}}

    def format(self) -> str:
        """Plain-text lines: ``group  system  (vs leader p)``, then the rule."""
        lines = [f"ranked by {self.metric} ({'higher' if self.higher_is_better else 'lower'} is better); "
                 f"{self.family}"]
        for s in self.order:
            g = self.groups.get(s)
            p = self.p_compared.get(s, float("nan"))
            vs = f"  (vs {self.compared_with[s]}: corrected p={p:.4g})" if s in self.compared_with else ""
            lines.append(f"  {g if g is not None else '-':>3}  {s}{vs}")
        lines.append(f"rule: {self.rule}")
        return "\n".join(lines)


def _pair_p(pairs: pd.DataFrame, metric: str) -> dict[frozenset[str], float]:
    need = {"system_a", "system_b", "metric", "p_corrected"}
    missing = need - set(pairs.columns)
    if missing:
        raise InputError(f"pair table lacks column(s) {sorted(missing)}")
    sub = pairs[pairs["metric"] == metric]
    return {frozenset((str(r.system_a), str(r.system_b))): float(r.p_corrected) for r in sub.itertuples()}


def rank_groups(scores: Mapping[str, float], pairs: pd.DataFrame, *, metric: str, higher_is_better: bool,
                alpha: float, family: str = "the run's paired tests") -> Ranking:
    """Order systems by ``scores`` and assign rank groups from corrected paired p-values.

    Pure: reads only the scores and the pair table (``system_a, system_b, metric, p_corrected``; either
    orientation of a pair is accepted).

    Args:
        scores: system -> corpus score on ``metric``, in suite order (ties keep this order); NaN scores
            are ranked last without a group.
        pairs: the comparison's pair table.
        metric: the primary metric (rows of ``pairs`` for other metrics are ignored).
        higher_is_better: direction of ``metric``.
        alpha: significance level for the corrected p.
        family: description of where the tests come from (recorded on the result).

    Returns:
        :class:`Ranking`.

    Raises:
        InputError: a pair the rule needs is missing from ``pairs`` (naming both systems), bad ``alpha``.

    Example:
        >>> import pandas as pd
        >>> pairs = pd.DataFrame({"system_a": ["x"], "system_b": ["y"], "metric": ["ter"], "p_corrected": [0.01]})
        >>> r = rank_groups({"x": 0.3, "y": 0.2}, pairs, metric="ter", higher_is_better=False, alpha=0.05)
        >>> r.order, r.groups
        (('y', 'x'), {'y': 1, 'x': 2})
    """
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}")
    names = [str(s) for s in scores]
    values = {str(s): float(v) for s, v in scores.items()}
    scored = [s for s in names if not math.isnan(values[s])]
    sign = -1.0 if higher_is_better else 1.0
    ordered = sorted(scored, key=lambda s: (sign * values[s], names.index(s)))
    p_of = _pair_p(pairs, metric)
    groups: dict[str, int] = {}
    leaders: dict[str, str] = {}
    compared: dict[str, str] = {}
    p_vs: dict[str, float] = {}
    group, leader = 0, None
    for s in ordered:
        if leader is None:
            group, leader = 1, s
        else:
            key = frozenset((leader, s))
            if key not in p_of:
                raise InputError(f"ranking by {metric!r} needs the paired test of {leader!r} vs {s!r}, "
                                 "which is not in the pair table")
            compared[s], p_vs[s] = leader, p_of[key]
            worse = (values[s] < values[leader]) if higher_is_better else (values[s] > values[leader])
            if not math.isnan(p_vs[s]) and p_vs[s] < alpha and worse:
                group, leader = group + 1, s
        groups[s], leaders[s] = group, leader
    order = tuple(ordered + [s for s in names if s not in scored])
    return Ranking(metric=metric, higher_is_better=bool(higher_is_better), order=order, groups=groups,
                   leaders=leaders, compared_with=compared, p_compared=p_vs, alpha=float(alpha), family=family)


def ranking_pairs(statistics: np.ndarray, metric: Any, systems: Sequence[str], *, settings: Any,
                  case_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Every pair of systems on one metric, tested with a run's settings (for baseline-mode runs).

    Args:
        statistics: ``(K, N, k)`` per-sample statistics of the primary metric (finite rows only).
        metric: its :class:`~radeval.metrics.base.Metric`.
        systems: the K system names.
        settings: the run's :class:`~radeval.stats.signature.SignificanceSettings`; test, resamples,
            seed, interval, p-value convention and correction are reused, the mode becomes all-pairs.
        case_ids: for error messages.

    Returns:
        the pair table (``system_a, system_b, metric, delta, …, p, p_corrected, significant``), corrected
        over the K(K−1)/2 pairs of this one metric.
    """
    from radeval.stats.compare import compare_statistics

    result = compare_statistics(
        {metric.name: statistics}, {metric.name: metric}, list(systems), baseline=None, mode="all-pairs",
        test=settings.test, resamples=settings.resamples, seed=settings.seed, ci=settings.ci,
        confidence=settings.confidence, correction=settings.correction, alpha=settings.alpha,
        pvalue=settings.pvalue, ci_resamples=0 if settings.test == "ar" else None, case_ids=case_ids)
    return result.pairs


def rank_systems(scores: Mapping[str, float], *, metric: Any, mode: str, pairs: pd.DataFrame | None,
                 statistics: np.ndarray | None, systems: Sequence[str], settings: Any,
                 case_ids: Sequence[str] | None = None) -> Ranking:
    """Rank groups for a run: its own pairs in all-pairs mode, :func:`ranking_pairs` in baseline mode.

    Args:
        scores: system -> corpus score on the primary metric.
        metric: the primary :class:`~radeval.metrics.base.Metric` (its ``name`` and ``higher_is_better``).
        mode: the run's mode (``"baseline"`` or ``"all-pairs"``).
        pairs: the run's pair table (used in all-pairs mode).
        statistics: ``(K, N, k)`` statistics of the primary metric (used in baseline mode).
        systems: system names in the order of ``statistics``.
        settings: the run's :class:`~radeval.stats.signature.SignificanceSettings`.
        case_ids: for error messages.

    Returns:
        :class:`Ranking` with :attr:`Ranking.family` naming where its tests come from.

    Raises:
        InputError: baseline mode without statistics, or all-pairs mode without pairs.
    """
    if mode == "all-pairs":
        if pairs is None:
            raise InputError("all-pairs ranking needs the run's pair table")
        family = (f"the run's own all-pairs tests ({settings.test}), corrected with {settings.correction} over "
                  "all pairs × metrics")
        table = pairs
    else:
        if statistics is None:
            raise InputError("baseline-mode ranking needs the primary metric's per-sample statistics")
        family = (f"all pairs of systems on {metric.name}, tested with the run's settings ({settings.test}, "
                  f"seed {settings.seed}) on the shared per-sample statistics and corrected with "
                  f"{settings.correction} over those {len(systems) * (len(systems) - 1) // 2} pairs "
                  "(the run itself tests only against the baseline)")
        table = ranking_pairs(statistics, metric, systems, settings=settings, case_ids=case_ids)
    return rank_groups(scores, table, metric=metric.name, higher_is_better=bool(metric.higher_is_better),
                       alpha=settings.alpha, family=family)


def rank_comparison(result: Any, metric: str, *, refs: Any = None, systems: Any = None,
                    metric_options: Mapping[str, Mapping[str, Any]] | None = None, cache: Any = None) -> Ranking:
    """Rank groups of a :func:`radeval.stats.compare.compare` result (what ``radeval compare --rank-by`` shows).

    In all-pairs mode the result's own pairs are used. In baseline mode every pair of systems on ``metric``
    is tested again from the same reports with the same settings (statistics come from the per-sample
    cache when one is given), corrected over those pairs — the rule of :func:`rank_systems`.

    Args:
        result: the :class:`~radeval.stats.compare.ComparisonResult`.
        metric: the primary metric; one of the result's metrics.
        refs: the references given to ``compare`` (baseline mode only).
        systems: the systems given to ``compare`` (baseline mode only).
        metric_options: the metric options given to ``compare``.
        cache: the cache given to ``compare``.

    Returns:
        :class:`Ranking`.

    Raises:
        InputError: ``metric`` is not in the result, or baseline mode without ``refs`` / ``systems``.
    """
    from radeval.stats.compare import compare

    rows = result.table[result.table["metric"] == metric]
    if rows.empty:
        raise InputError(f"--rank-by {metric!r} is not one of the compared metrics: "
                         f"{', '.join(dict.fromkeys(result.table['metric']))}")
    scores = {str(r.system): float(r.score) for r in rows.itertuples()}
    higher = bool(rows["higher_is_better"].iloc[0])
    s = result.settings
    n = len(result.systems)
    if s.mode == "all-pairs":
        family = f"the comparison's own all-pairs tests ({s.test}), corrected with {s.correction} over all pairs × metrics"
        pairs = result.pairs
    else:
        if refs is None or systems is None:
            raise InputError("ranking a baseline-mode comparison needs its refs and systems to test all pairs")
        options = {metric: dict((metric_options or {}).get(metric, {}))} if metric_options else None
        pairs = compare(refs, systems, metrics=[metric], metric_options=options, cache=cache, mode="all-pairs",
                        test=s.test, resamples=s.resamples, seed=s.seed, ci=s.ci, confidence=s.confidence,
                        correction=s.correction, alpha=s.alpha, pvalue=s.pvalue,
                        ci_resamples=0 if s.test == "ar" else None).pairs
        family = (f"all pairs of systems on {metric}, tested with the comparison's settings ({s.test}, seed {s.seed}) "
                  f"and corrected with {s.correction} over those {n * (n - 1) // 2} pairs")
    return rank_groups(scores, pairs, metric=metric, higher_is_better=higher, alpha=s.alpha, family=family)


__all__ = ["RANK_RULE", "Ranking", "rank_comparison", "rank_groups", "rank_systems", "ranking_pairs"]
