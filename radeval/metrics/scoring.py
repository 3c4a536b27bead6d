"""Score systems with several metrics at once: shared statistics, the per-sample cache, error isolation.

This is what ``radeval.score`` and ``radeval score`` call. Metrics whose ``statistics_key`` agree
(BLEU-1..4) are computed once. Cacheable metrics look their rows up in the SQLite cache, compute only
what is missing, in chunks committed as they finish. A sample a metric cannot score (a judge timeout)
comes back as a NaN row plus an entry in ``metric.last_errors``; it is reported by case id and the
rest of the corpus is still scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from radeval.cache import StatisticsCache, open_cache
from radeval.metrics import DEFAULT_METRICS, get_metric
from radeval.metrics.base import Metric, check_pairs
from radeval.types import align, as_mapping

#: Rows computed between two cache commits.
CHUNK = 256


@dataclass(frozen=True)
class SampleFailure:
    """One (metric, case) that could not be scored."""

    metric: str
    case_id: str
    reason: str


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score` returns.

    Attributes:
        corpus: one row per metric: ``metric, score, signature, higher_is_better, n, n_failed``.
        per_sample: one row per case id, one column per metric (NaN where a sample failed).
        statistics: metric name -> ``(n, k)`` statistics (for :mod:`radeval.stats`).
        failures: every sample a metric could not score.
        metrics: the metric objects, by name.
        empty_references: ids whose reference text is empty or blank (scored, but counted and reported:
            a blank reference scores 0 on most metrics whatever the hypothesis says).
    """

    corpus: pd.DataFrame
    per_sample: pd.DataFrame
    statistics: dict[str, np.ndarray]
    failures: list[SampleFailure] = field(default_factory=list)
    metrics: dict[str, Metric] = field(default_factory=dict)
    empty_references: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, float]:
        """``{metric: corpus score}``, the shape of ``radeval score --json``."""
        return {str(r.metric): float(r.score) for r in self.corpus.itertuples()}


def empty_reference_ids(refs: Mapping[str, str]) -> list[str]:
    """Ids whose reference is empty or only whitespace.

    Example:
        >>> empty_reference_ids({"a": "Clear.", "b": "  "})
        ['b']
    """
    return [k for k, v in refs.items() if not str(v).strip()]


def empty_reference_warning(ids: Sequence[str]) -> str:
    """The warning printed for references that are empty (counted, named, never silently scored)."""
    shown = ", ".join(repr(i) for i in list(ids)[:10]) + (" ..." if len(ids) > 10 else "")
    return (f"warning: {len(ids)} empty reference text(s) ({shown}): they are scored, but a blank reference "
            "scores 0 on most metrics whatever the hypothesis says; check the references file")


def build_metrics(names: Iterable[str | Metric] | None,
                  options: Mapping[str, Mapping[str, Any]] | None = None) -> list[Metric]:
    """Instantiate metrics from names (or pass Metric objects through), with per-metric options.

    Raises:
        InputError: options for a metric that is not in ``names`` (they would be silently ignored), or an
            option a metric does not take (naming the metric, the option and the valid options).
    """
    options = options or {}
    items = list(names if names is not None else DEFAULT_METRICS)
    computed = {item if isinstance(item, str) else item.name for item in items}
    stray = sorted(k for k in options if k not in computed)
    if stray:
        from radeval.errors import InputError

        raise InputError(f"metric option(s) given for {', '.join(map(repr, stray))}, which "
                         f"{'is' if len(stray) == 1 else 'are'} not being computed (metrics: "
                         f"{', '.join(sorted(computed))}); add it to --metrics or drop the option")
    out: list[Metric] = []
    for item in items:
        out.append(item if isinstance(item, Metric) else get_metric(item, **dict(options.get(item, {}))))
    return out


def _fatal(exc: BaseException) -> bool:
    """Errors that concern the metric or the input as a whole (re-raised), not one sample."""
    from radeval.errors import InputError, MissingDependencyError, MissingWeightsError

    return isinstance(exc, (InputError, MissingDependencyError, MissingWeightsError, KeyboardInterrupt,
                            MemoryError, SystemExit))


def _isolated_statistics(metric: Metric, refs: Sequence[str], hyps: Sequence[str]) -> tuple[np.ndarray, dict[int, str]]:
    """``metric.statistics`` where one sample that makes the metric raise fails alone.

    A batch that raises is split in halves and retried, down to single samples; a sample that still raises
    becomes a NaN row whose reason names the exception. The others are scored as usual.

    Returns:
        ``(stats, errors)``: ``(n, k)`` array (NaN rows for failed samples); row index -> reason.
    """
    try:
        stats = np.asarray(metric.statistics(refs, hyps), dtype=np.float64)
        return stats, dict(getattr(metric, "last_errors", {}) or {})
    except Exception as exc:  # noqa: BLE001 - isolated per sample below; whole-run errors re-raised
        if _fatal(exc):
            raise
        if len(refs) <= 1:
            reason = f"{type(exc).__name__}: {str(exc)[:500]}"
            return np.full((len(refs), 1), np.nan), {i: reason for i in range(len(refs))}
    mid = len(refs) // 2
    parts = [_isolated_statistics(metric, refs[:mid], hyps[:mid]), _isolated_statistics(metric, refs[mid:], hyps[mid:])]
    width = max(p[0].shape[1] for p in parts)
    stats = np.full((len(refs), width), np.nan)
    errors: dict[int, str] = {}
    for offset, (part, errs) in zip((0, mid), parts):
        if part.shape[1] == width:
            stats[offset:offset + len(part)] = part
        errors.update({offset + i: msg for i, msg in errs.items()})
    return stats, errors


def _compute_one(metric: Metric, refs: Sequence[str], hyps: Sequence[str],
                 cache: StatisticsCache | None) -> tuple[np.ndarray, dict[int, str]]:
    errors: dict[int, str] = {}
    if cache is None or not metric.cacheable:
        return _isolated_statistics(metric, list(refs), list(hyps))
    rows = cache.get(metric.signature, refs, hyps)
    todo = [i for i, r in enumerate(rows) if r is None]
    # Unique (ref, hyp) pairs only: identical pairs are computed once.
    first: dict[tuple[str, str], int] = {}
    unique = []
    for i in todo:
        key = (refs[i], hyps[i])
        if key not in first:
            first[key] = i
            unique.append(i)
    computed: dict[int, np.ndarray] = {}
    for start in range(0, len(unique), CHUNK):
        idx = unique[start:start + CHUNK]
        part, part_errors = _isolated_statistics(metric, [refs[i] for i in idx], [hyps[i] for i in idx])
        for local, msg in part_errors.items():
            errors[idx[local]] = msg
        cache.put(metric.signature, [refs[i] for i in idx], [hyps[i] for i in idx], part)
        for local, i in enumerate(idx):
            computed[i] = part[local]
    for i in todo:
        rows[i] = computed[first[(refs[i], hyps[i])]]
        if first[(refs[i], hyps[i])] in errors:
            errors.setdefault(i, errors[first[(refs[i], hyps[i])]])
    # a chunk in which every sample failed comes back one NaN column wide: pad it to the metric's width
    width = max((len(r) for r in rows), default=1)
    rows = [r if len(r) == width else np.full(width, np.nan) for r in rows]
    return np.stack(rows) if rows else np.zeros((0, 1)), errors


def _check_metric_names(metrics: Sequence[Metric]) -> None:
    """Results are keyed by metric name: two metrics with one name but different settings would mix up."""
    signatures: dict[str, str] = {}
    for m in metrics:
        if signatures.setdefault(m.name, m.signature) != m.signature:
            from radeval.errors import InputError

            raise InputError(f"two metrics are named {m.name!r} with different settings "
                             f"({signatures[m.name]} and {m.signature}); give each a distinct name")


def compute_statistics(metrics: Sequence[Metric], refs: Sequence[str], hyps: Sequence[str], *,
                       cache: StatisticsCache | None = None) -> tuple[dict[str, np.ndarray], dict[str, dict[int, str]]]:
    """Statistics of every metric on aligned ``refs``/``hyps``; shared families computed once.

    Returns:
        ``(stats, errors)``: metric name -> ``(n, k)`` array; metric name -> {row index: reason}.
    """
    check_pairs(refs, hyps, metric="score")
    _check_metric_names(metrics)
    by_key: dict[str, tuple[np.ndarray, dict[int, str]]] = {}
    stats: dict[str, np.ndarray] = {}
    errors: dict[str, dict[int, str]] = {}
    for metric in metrics:
        key = metric.statistics_key
        if key not in by_key:
            by_key[key] = _compute_one(metric, refs, hyps, cache)
        stats[metric.name], errors[metric.name] = by_key[key]
    return stats, errors


def score(refs: Mapping[str, str] | Sequence[str], hyps: Mapping[str, str] | Sequence[str], *,
          metrics: Iterable[str | Metric] | None = None,
          metric_options: Mapping[str, Mapping[str, Any]] | None = None,
          cache: StatisticsCache | str | bool | None = None) -> ScoreResult:
    """Score hypotheses against references with several metrics.

    Args:
        refs: ``{case_id: reference}`` or a list of references.
        hyps: ``{case_id: hypothesis}`` (aligned by id, never by position) or a list as long as ``refs``.
        metrics: names (``bleu4``, ``rougeL`` ...) or Metric objects; default: every lexical metric.
        metric_options: per-metric keyword options, e.g. ``{"green": {"judge": "http://..."}}``.
        cache: a :class:`StatisticsCache`, a path, ``True`` for the default cache, or ``None``.

    Returns:
        :class:`ScoreResult` with corpus and per-sample DataFrames.

    Raises:
        AlignmentError: ids missing on one side or extra on the other.
        InputError: a missing or non-text report (naming the case).

    Example:
        >>> r = score({"a": "no pleural effusion ."}, {"a": "no pleural effusion ."}, metrics=["rougeL"])
        >>> r.as_dict()
        {'rougeL': 1.0}
    """
    ref_map = as_mapping(refs, name="references")
    hyp_map = as_mapping(hyps, name="hypotheses")
    if not isinstance(refs, Mapping) and not isinstance(hyps, Mapping) and len(ref_map) != len(hyp_map):
        from radeval.errors import InputError

        raise InputError(f"{len(ref_map)} references but {len(hyp_map)} hypotheses; they must be paired")
    ids, ref_list, hyp_list = align(ref_map, hyp_map)
    if not ids:
        from radeval.errors import InputError

        raise InputError("no cases to score: the references are empty")
    metric_objs = build_metrics(metrics, metric_options)
    stats, errors = compute_statistics(metric_objs, ref_list, hyp_list, cache=open_cache(cache))
    rows, per_sample, failures = [], {}, []
    # how the references were assembled from their file, when that was a choice (ReXrank's official
    # "Findings: ... Impression: ..." reference): part of what the score means, so part of its signature
    convention = getattr(refs, "convention", "")
    ref_note = f"|ref:{convention}" if convention else ""
    for m in metric_objs:
        s = stats[m.name]
        ok = np.all(np.isfinite(s), axis=1) if s.size else np.ones(len(ids), dtype=bool)
        per = np.full(len(ids), np.nan)
        if ok.any():
            per[ok] = m.sample_scores(s[ok])
        per_sample[m.name] = per
        bad = [i for i in range(len(ids)) if not ok[i]]
        for i in bad:
            failures.append(SampleFailure(m.name, ids[i], errors[m.name].get(i, "statistics are not finite")))
        corpus = float(m.aggregate(s[ok].sum(axis=0))) if ok.any() else float("nan")
        rows.append({"metric": m.name, "score": corpus, "signature": m.signature + ref_note,
                     "higher_is_better": m.higher_is_better, "n": int(ok.sum()), "n_failed": len(bad)})
    return ScoreResult(
        corpus=pd.DataFrame(rows, columns=["metric", "score", "signature", "higher_is_better", "n", "n_failed"]),
        per_sample=pd.DataFrame(per_sample, index=pd.Index(ids, name="case_id")),
        statistics=stats,
        failures=failures,
        metrics={m.name: m for m in metric_objs},
        empty_references=tuple(empty_reference_ids(dict(zip(ids, ref_list)))),
    )
