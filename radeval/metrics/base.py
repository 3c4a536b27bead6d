"""The metric contract: per-sample sufficient statistics first, the corpus score second.

A metric turns ``(refs, hyps)`` into an ``(n_samples, k)`` float64 array of statistics.
``aggregate`` maps *summed* statistics to the corpus score; it is pure, vectorised over leading
axes, and works on any subset of rows. That is what lets :mod:`radeval.stats` score every
bootstrap resample of every system with array sums, never calling the metric again.

Corpus metrics (BLEU, METEOR, label F1) aggregate counts; mean metrics (ROUGE, CIDEr, BERTScore,
GREEN, RadGraph, RaTEScore) carry ``[score, 1]`` per sample and aggregate to ``sum/count``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from radeval.errors import InputError
from radeval.version import __version__


#: Metric groups in the order leaderboards show them (wide tables are split / collapsed by group).
METRIC_GROUPS: tuple[str, ...] = ("lexical", "semantic", "clinical", "diagnostics", "other")


class Metric(ABC):
    """Base class of every metric.

    Class attributes:
        name: the metric's public name (``bleu4``, ``rougeL`` ...), as used by the CLI and tables.
        higher_is_better: direction of the score.
        kind: ``"corpus"`` (aggregates counts) or ``"mean"`` (aggregates a per-sample mean).
        cacheable: whether a sample's statistics depend only on its own (ref, hyp) pair, so they may
            be stored in the per-sample cache. CIDEr (idf from the whole corpus) is not.
        group: the family a leaderboard shows the metric under: one of :data:`METRIC_GROUPS`
            (``"lexical"`` n-gram overlap, ``"semantic"`` embedding similarity, ``"clinical"`` findings /
            entities / labels, ``"diagnostics"`` properties of the output itself, ``"other"``).
        descriptive: the metric describes the output (e.g. its share of distinct reports) rather than its
            quality: its paired tests are reported but stay out of the multiple-comparison family.

    Subclasses implement :meth:`statistics`, :meth:`aggregate` and :meth:`settings`.
    """

    name: ClassVar[str] = "metric"
    higher_is_better: ClassVar[bool] = True
    kind: ClassVar[str] = "corpus"
    cacheable: ClassVar[bool] = True
    group: ClassVar[str] = "other"
    descriptive: ClassVar[bool] = False

    # -- the two halves of the contract --------------------------------------------------------
    @abstractmethod
    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """Per-sample sufficient statistics, shape ``(n_samples, k)``, float64, one row per pair."""

    @abstractmethod
    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        """Corpus score from summed statistics.

        Args:
            stats: ``(k,)`` for one corpus or ``(..., k)`` for many (e.g. ``(B, k)`` resamples).

        Returns:
            a float for ``(k,)`` input, else an array of the leading shape.
        """

    # -- identity ------------------------------------------------------------------------------
    def settings(self) -> dict[str, str]:
        """Every setting that changes the numbers, as ``key -> value`` (goes into the signature)."""
        return {}

    @property
    def signature(self) -> str:
        """A string naming the metric, its settings and the toolkit version.

        Example: ``bleu4|conv:coco|tok:ws|case:keep|v:0.1.0``.
        """
        parts = [self.name] + [f"{k}:{v}" for k, v in self.settings().items()] + [f"v:{__version__}"]
        return "|".join(parts)

    @property
    def statistics_key(self) -> str:
        """Metrics with equal keys share one statistics computation (e.g. BLEU-1..4).

        Defaults to the signature; families override it to drop the member-specific part.
        """
        return self.signature

    # -- conveniences built on the contract ----------------------------------------------------
    def sample_scores(self, stats: np.ndarray) -> np.ndarray:
        """Per-sample scores: :meth:`aggregate` applied to each row on its own."""
        return np.asarray(self.aggregate(np.asarray(stats, dtype=np.float64)), dtype=np.float64)

    def corpus_score(self, refs: Sequence[str], hyps: Sequence[str]) -> float:
        """Score a whole corpus: ``aggregate(statistics(refs, hyps).sum(axis=0))``."""
        check_pairs(refs, hyps, metric=self.name)
        return float(self.aggregate(self.statistics(refs, hyps).sum(axis=0)))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.signature}>"


class MeanMetric(Metric):
    """A metric whose corpus score is the mean of per-sample scores.

    Subclasses implement :meth:`sample_values`; statistics are ``[score, 1]`` per sample.
    """

    kind: ClassVar[str] = "mean"

    @abstractmethod
    def sample_values(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """One float score per (ref, hyp) pair."""

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        check_pairs(refs, hyps, metric=self.name)
        values = np.asarray(self.sample_values(refs, hyps), dtype=np.float64).reshape(-1)
        return mean_statistics(values)

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        s = np.asarray(stats, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(s[..., 1] > 0, s[..., 0] / np.where(s[..., 1] > 0, s[..., 1], 1.0), 0.0)
        return float(out) if out.ndim == 0 else out


def mean_statistics(values: np.ndarray) -> np.ndarray:
    """Stack per-sample scores into mean-metric statistics ``[[score, 1], ...]``."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    return np.stack([v, np.ones_like(v)], axis=1)


def check_pairs(refs: Sequence[str], hyps: Sequence[str], *, metric: str) -> None:
    """Raise :class:`InputError` unless refs and hyps are equally long sequences of strings.

    Error messages give both lengths, or the index and the side of the first non-string item.
    """
    if isinstance(refs, str) or isinstance(hyps, str):
        raise InputError(f"{metric}: refs and hyps must be sequences of reports, not a single string")
    if len(refs) != len(hyps):
        raise InputError(f"{metric}: {len(refs)} references but {len(hyps)} hypotheses; they must be paired")
    for side, seq in (("reference", refs), ("hypothesis", hyps)):
        for i, text in enumerate(seq):
            if not isinstance(text, str):
                raise InputError(f"{metric}: {side} #{i} is {type(text).__name__}, not text")
