"""Compare K systems on the same cases: corpus scores, CIs, paired deltas, p-values, corrections.

Two entry points:

* :func:`compare` takes reports (references and each system's hypotheses, aligned by case id),
  computes per-sample statistics with the score engine (and its cache), and calls
* :func:`compare_statistics`, which works on statistics alone: one resample matrix shared by every
  system and metric, every number derived from summed statistics, p-values corrected across the
  family (systems × metrics against the baseline, or all pairs × metrics).

Same seed, same inputs -> the same numbers, bit for bit. With BLEU statistics, seed 12345 and
``resamples`` B, the bootstrap indices are those of ``sacrebleu --paired-bs`` and the p-value follows
its convention (:mod:`radeval.stats.pvalues`), so the p-values are sacreBLEU's. Its bootstrap mean and
interval agree to 1e-12 with sacreBLEU's arithmetic on float64 sums (the reference sheet's numbers,
made with numpy 1.26); sacreBLEU 2.6 under numpy >= 2 rounds the resampled n-gram precisions to float32
(NEP 50 promotion of its float32 statistics), which moves its means and half-widths by ~1e-7 relative.

Example:
    >>> import radeval
    >>> refs = {"a": "no effusion .", "b": "small nodule .", "c": "normal heart ."}
    >>> res = radeval.compare(refs, {"x": {"a": "no effusion .", "b": "nodule .", "c": "heart ."},
    ...                              "y": {"a": "no effusion .", "b": "small nodule .", "c": "normal heart ."}},
    ...                       metrics=["rougeL"], resamples=200)
    >>> list(res.table["system"]), res.signature.split("|")[0]
    (['x', 'y'], 'test:bootstrap')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from radeval import number_format
from radeval.cache import open_cache
from radeval.errors import AlignmentError, InputError
from radeval.metrics.base import Metric
from radeval.stats.bootstrap import bootstrap_corpus_scores, corpus_scores, jackknife_corpus_scores
from radeval.stats.correction import adjust_pvalues
from radeval.stats.intervals import confidence_interval
from radeval.stats.pvalues import koehn_bootstrap_pvalue, randomization_pvalue, sacrebleu_bootstrap_pvalue
from radeval.stats.randomization import randomization_null
from radeval.stats.resample import make_rng
from radeval.stats.signature import SignificanceSettings

#: Columns of :attr:`ComparisonResult.table`.
TABLE_COLUMNS: tuple[str, ...] = (
    "system", "metric", "score", "bootstrap_mean", "ci_low", "ci_high", "delta", "delta_ci_low",
    "delta_ci_high", "p", "p_corrected", "significant", "higher_is_better", "metric_signature",
)

#: Columns of :attr:`ComparisonResult.pairs` (``delta = score(system_b) − score(system_a)``).
PAIR_COLUMNS: tuple[str, ...] = (
    "system_a", "system_b", "metric", "delta", "delta_ci_low", "delta_ci_high", "p", "p_corrected",
    "significant",
)

#: Keyword options of :func:`compare_statistics` that make up its :class:`SignificanceSettings`.
SETTINGS_OPTIONS: tuple[str, ...] = ("test", "resamples", "ci_resamples", "seed", "ci", "confidence", "correction",
                                     "alpha", "mode", "pvalue", "comparisons")

#: The one rule for cases a metric cannot score (a judge timeout, an unparsable answer), shared by
#: ``radeval score``, ``radeval compare`` and ``radeval bench``.
FAILED_CASE_POLICY = (
    "A case that a metric could not score (non-finite statistics or an error reported by the metric) for any "
    "system is left out of that metric for every system, so the comparison stays paired; the other metrics keep "
    "it. The metric's corpus score, intervals and tests use the remaining cases, and every left-out case is "
    "reported by metric and case id. Nothing is imputed, and one failed case never stops the run."
)

#: Keys of each object of ``radeval compare --json`` (:meth:`ComparisonResult.to_json_records`).
JSON_KEYS: tuple[str, ...] = (
    "system", "metric", "score", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p", "p_corrected",
)


def _json_value(value: Any) -> Any:
    return number_format.json_number(value)


@dataclass(frozen=True)
class ComparisonResult:
    """What :func:`compare` and :func:`compare_statistics` return.

    Attributes:
        table: one row per (system, metric): ``system, metric, score, bootstrap_mean, ci_low, ci_high,
            delta, delta_ci_low, delta_ci_high, p, p_corrected, significant, higher_is_better,
            metric_signature``. Deltas are ``score − score(baseline)``; the baseline's own rows have
            delta 0 and NaN p-values; without a baseline (all-pairs mode) deltas and p are NaN.
        pairs: one row per (pair, metric): ``system_a, system_b, metric, delta (= b − a), delta_ci_low,
            delta_ci_high, p, p_corrected, significant``. In baseline mode the pairs are
            (baseline, system).
        signature: the significance signature, e.g.
            ``test:bootstrap|B:5000|seed:12345|ci:percentile|conf:0.95|correction:holm|family:systems×metrics|pvalue:sacrebleu-bs|v:0.1.0``.
        settings: the validated settings behind the signature.
        systems: system names, in order.
        baseline: the baseline's name (``None`` in all-pairs mode without one).
        resamples: metric -> ``(B, K)`` bootstrap corpus scores (columns in ``systems`` order); empty
            when no intervals were computed.
        null_distribution: for ``test="ar"``, metric -> ``(R, n_pairs)`` randomization statistics.
        excluded: metric -> ids (or ``#index``) of the cases left out of that metric because a system could not
            score them (:data:`FAILED_CASE_POLICY`); metrics without such cases are absent.
    """

    table: pd.DataFrame
    pairs: pd.DataFrame
    signature: str
    settings: SignificanceSettings
    systems: tuple[str, ...]
    baseline: str | None
    resamples: dict[str, np.ndarray] = field(default_factory=dict)
    null_distribution: dict[str, np.ndarray] = field(default_factory=dict)
    excluded: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json_records(self) -> list[dict[str, Any]]:
        """The rows of :attr:`table` as ``radeval compare --json`` prints them (NaN -> ``None``).

        Returns:
            a list of dicts with the keys of :data:`JSON_KEYS`.
        """
        return [{key: _json_value(row[key]) for key in JSON_KEYS} for row in self.table.to_dict("records")]

    def listed_pairs(self) -> pd.DataFrame:
        """The rows of :attr:`pairs` of the ``comparisons`` the settings list, in their order (metrics in order).

        Each listed ``(system, reference)`` is a row with ``system_b = system`` and ``system_a = reference``, so
        ``delta`` = system − reference; ``p`` is uncorrected, ``p_corrected`` corrected across the whole family.

        Returns:
            a frame with :data:`PAIR_COLUMNS` (empty when nothing was listed).
        """
        frames = [self.pairs[(self.pairs["system_b"] == system) & (self.pairs["system_a"] == reference)]
                  for system, reference in self.settings.comparisons]
        if not frames:
            return self.pairs.iloc[0:0]
        return pd.concat(frames, ignore_index=True)

    def format_table(self) -> str:
        """A fixed-width text table of :attr:`table`, followed by the signature."""
        header = ["system", "metric", "score", "95% CI" if self.settings.confidence == 0.95 else "CI",
                  "delta", "CI of delta", "p", "p_corr", ""]
        rows = []
        for r in self.table.itertuples(index=False):
            mark = ""
            if bool(r.significant):
                better = (r.delta > 0) == bool(r.higher_is_better)
                mark = "* better" if better else "* worse"
            rows.append([
                str(r.system), str(r.metric), f"{r.score:.4f}", _fmt_interval(r.ci_low, r.ci_high),
                _fmt(r.delta, signed=True), _fmt_interval(r.delta_ci_low, r.delta_ci_high, signed=True),
                _fmt_p(r.p), _fmt_p(r.p_corrected), mark,
            ])
        lines = _columns(header, rows)
        if self.baseline is not None:
            lines.append(f"baseline: {self.baseline}; * = corrected p < {self.settings.alpha:g}")
        if self.settings.mode == "all-pairs":
            lines += ["", "all pairs (delta = b - a):"]
            pair_rows = [[str(r.system_a), str(r.system_b), str(r.metric), _fmt(r.delta, signed=True),
                          _fmt_interval(r.delta_ci_low, r.delta_ci_high, signed=True), _fmt_p(r.p),
                          _fmt_p(r.p_corrected), "*" if bool(r.significant) else ""]
                         for r in self.pairs.itertuples(index=False)]
            lines += _columns(["a", "b", "metric", "delta", "CI of delta", "p", "p_corr", ""], pair_rows)
        if self.settings.comparisons:
            lines += ["", "listed pairs (delta = system - reference; p uncorrected, p_corr over the family):"]
            listed = [[str(r.system_b), str(r.system_a), str(r.metric), _fmt(r.delta, signed=True),
                       _fmt_interval(r.delta_ci_low, r.delta_ci_high, signed=True), _fmt_p(r.p),
                       _fmt_p(r.p_corrected), "*" if bool(r.significant) else ""]
                      for r in self.listed_pairs().itertuples(index=False)]
            lines += _columns(["system", "reference", "metric", "delta", "CI of delta", "p", "p_corr", ""], listed)
        lines.append(f"signature: {self.signature}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()


def _columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned fixed-width lines: the header, then one line per row."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return lines


def _fmt(value: float, *, signed: bool = False) -> str:
    return number_format.fixed(value, signed=signed, missing=number_format.MISSING_HYPHEN)


def _fmt_interval(lo: float, hi: float, *, signed: bool = False) -> str:
    return number_format.interval(lo, hi, signed=signed, missing=number_format.MISSING_HYPHEN)


def _fmt_p(p: float) -> str:
    return number_format.p_value(p, style="general", missing=number_format.MISSING_HYPHEN)


# -- input checks --------------------------------------------------------------------------------
def _check_inputs(statistics: Mapping[str, np.ndarray], metrics: Mapping[str, Metric], systems: Sequence[str],
                  case_ids: Sequence[str] | None,
                  failed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = [str(s) for s in systems]
    if len(names) < 2:
        raise InputError(f"significance needs at least 2 systems, got {len(names)}: {names}")
    dups = sorted({s for s in names if names.count(s) > 1})
    if dups:
        raise InputError(f"duplicate system names: {dups}")
    if not statistics:
        raise InputError("no metrics to compare")
    missing = [m for m in statistics if m not in metrics]
    if missing:
        raise InputError(f"statistics given for metric(s) {missing} without a Metric object")
    unknown = [m for m in failed if m not in statistics]
    if unknown:
        raise InputError(f"failed-case masks given for metric(s) {unknown} without statistics")
    out: dict[str, np.ndarray] = {}
    n_cases: int | None = None
    for name, block in statistics.items():
        arr = np.asarray(block, dtype=np.float64)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3 or arr.shape[0] != len(names):
            raise InputError(
                f"metric {name!r}: statistics must have shape (K={len(names)} systems, N cases, k), got {arr.shape}")
        if n_cases is None:
            n_cases = arr.shape[1]
        elif arr.shape[1] != n_cases:
            raise InputError(f"metric {name!r}: {arr.shape[1]} cases, but other metrics have {n_cases}")
        if case_ids is not None and len(case_ids) != arr.shape[1]:
            raise InputError(f"metric {name!r}: {arr.shape[1]} cases but {len(case_ids)} case ids")
        mask = failed.get(name)
        if mask is not None and np.shape(mask) != (arr.shape[1],):
            raise InputError(f"metric {name!r}: the failed-case mask has shape {np.shape(mask)}, "
                             f"expected ({arr.shape[1]},)")
        finite = np.isfinite(arr).all(axis=2)
        if mask is not None:
            finite[:, np.asarray(mask, dtype=bool)] = True  # declared failures are left out, not tested
        if not finite.all():
            k, i = (int(v[0]) for v in np.nonzero(~finite))
            where = f"case {case_ids[i]!r}" if case_ids is not None else f"case #{i}"
            raise InputError(
                f"metric {name!r}, system {names[k]!r}: {int((~finite).sum())} non-finite statistics row(s), "
                f"first at {where}, not declared as failed; pass the cases a metric could not score as "
                f"failed={{metric: mask}} (they are then left out of that metric for every system)")
        out[name] = arr
    if not n_cases:
        raise InputError("no cases to compare")
    return out


def _pairs(k: int, base: int | None, mode: str) -> list[tuple[int, int]]:
    if mode == "baseline":
        return [(base, j) for j in range(k) if j != base]  # type: ignore[misc]
    out = []
    for i in range(k):
        for j in range(i + 1, k):
            out.append((j, i) if j == base else (i, j))
    return out


def _with_listed(pairs: list[tuple[int, int]], names: list[str],
                  comparisons: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    """The mode's pairs plus each listed ``(system, reference)`` as ``(reference, system)``; a listed pair that
    is already tested (in either orientation) is tested once, in the listed orientation."""
    unknown = sorted({n for pair in comparisons for n in pair if n not in names})
    if unknown:
        raise InputError(f"comparisons name unknown system(s) {unknown}; systems: {names}")
    out = list(pairs)
    for system, reference in comparisons:
        a, b = names.index(reference), names.index(system)
        if (b, a) in out:
            out[out.index((b, a))] = (a, b)
        elif (a, b) not in out:
            out.append((a, b))
    return out


def failed_case_mask(statistics: np.ndarray, errors: Mapping[int, str] | None = None) -> np.ndarray:
    """The cases a metric could not score for at least one system: the mask :func:`compare_statistics` takes.

    A case counts as failed when its statistics row is not finite, or when the score engine reported an
    error for it (:func:`radeval.metrics.scoring.compute_statistics`), for any system.

    Args:
        statistics: ``(K, N, k)`` (or ``(N, k)`` for one system) statistics of one metric.
        errors: row index -> reason, merged over the systems (optional).

    Returns:
        a boolean ``(N,)`` array, ``True`` for a failed case.

    Example:
        >>> failed_case_mask(np.array([[[1.0], [np.nan]], [[1.0], [2.0]]]), {0: "judge timeout"}).tolist()
        [True, True]
    """
    arr = np.asarray(statistics, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    mask = ~np.isfinite(arr.reshape(arr.shape[0], arr.shape[1], -1)).all(axis=(0, 2))
    for i in errors or {}:
        mask[int(i)] = True
    return mask


def _case_groups(metric_names: list[str], failed: Mapping[str, np.ndarray],
                 n_cases: int) -> list[tuple[np.ndarray, list[str]]]:
    """Metrics grouped by the cases they keep, in the order of their first metric."""
    groups: dict[tuple[int, ...], list[str]] = {}
    for m in metric_names:
        mask = np.asarray(failed[m], dtype=bool) if m in failed else np.zeros(n_cases, dtype=bool)
        groups.setdefault(tuple(int(i) for i in np.flatnonzero(~mask)), []).append(m)
    return [(np.asarray(rows, dtype=np.intp), names) for rows, names in groups.items()]


@dataclass(frozen=True)
class _GroupResult:
    """The engine's numbers for metrics that share one set of cases (before the family-wide correction)."""

    pair_rows: list[dict[str, Any]]
    scores: dict[str, np.ndarray]
    system_ci: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    resamples: dict[str, np.ndarray]
    null: dict[str, np.ndarray]


def _test_group(stats: dict[str, np.ndarray], metrics: Mapping[str, Metric], names: list[str],
                pairs: list[tuple[int, int]], settings: SignificanceSettings, *, progress: bool) -> _GroupResult:
    """Scores, intervals, deltas and raw p-values of metrics on one set of cases, from one resample matrix."""
    metric_names = list(stats)
    scores = {m: corpus_scores(stats[m], metrics[m]) for m in metric_names}
    rng = make_rng(settings.seed)
    null: dict[str, np.ndarray] = {}
    if settings.test == "ar":
        null = randomization_null(stats, metrics, pairs, settings.resamples, rng, progress=progress)
    boot: dict[str, np.ndarray] = {}
    if settings.ci_resamples > 0:
        boot = bootstrap_corpus_scores(stats, metrics, settings.ci_resamples, rng, progress=progress)
    jack = {m: jackknife_corpus_scores(stats[m], metrics[m]) for m in metric_names} if settings.ci == "bca" else {}

    def interval(samples: np.ndarray, estimate: np.ndarray, jk: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return confidence_interval(samples, method=settings.ci, confidence=settings.confidence,
                                   estimate=estimate, jackknife=jk)

    system_ci: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for m in metric_names:
        if boot:
            lo, hi = interval(boot[m], scores[m], jack.get(m))
            # mean over the *sorted* values: sacreBLEU's summation order, so its mean is reproduced bit for bit
            system_ci[m] = (np.sort(boot[m], axis=0).mean(axis=0), np.asarray(lo), np.asarray(hi))
        else:
            nan = np.full(len(names), np.nan)
            system_ci[m] = (nan, nan, nan)

    pair_rows: list[dict[str, Any]] = []
    for m in metric_names:
        metric = metrics[m]
        for pi, (a, b) in enumerate(pairs):
            delta = float(scores[m][b] - scores[m][a])
            d_lo = d_hi = float("nan")
            if boot:
                diffs = boot[m][:, b] - boot[m][:, a]
                jk = (jack[m][:, b] - jack[m][:, a]) if jack else None
                d_lo, d_hi = (float(v) for v in interval(diffs, np.asarray(delta), jk))
            if settings.test == "ar":
                p = randomization_pvalue(null[m][:, pi], delta, method=settings.pvalue)
            elif settings.pvalue == "koehn":
                p = koehn_bootstrap_pvalue(boot[m][:, a], boot[m][:, b], higher_is_better=metric.higher_is_better)
            else:
                p = sacrebleu_bootstrap_pvalue(boot[m][:, a], boot[m][:, b], scores[m][a], scores[m][b])
            pair_rows.append({"system_a": names[a], "system_b": names[b], "metric": m, "delta": delta,
                              "delta_ci_low": d_lo, "delta_ci_high": d_hi, "p": float(p)})
    return _GroupResult(pair_rows, scores, system_ci, boot, null)


def _correct(pair_rows: list[dict[str, Any]], settings: SignificanceSettings, metrics: Mapping[str, Metric]) -> None:
    """Add ``p_corrected`` and ``significant`` to every row: one correction over the whole family.

    Rows of descriptive metrics (``Metric.descriptive``, e.g. the output diagnostics) are not part of the
    family: their ``p`` is kept, ``p_corrected`` is NaN and they are never marked significant.
    """
    family = [r for r in pair_rows if not getattr(metrics[r["metric"]], "descriptive", False)]
    adjusted = adjust_pvalues(np.array([r["p"] for r in family], dtype=np.float64), settings.correction) \
        if family else []
    for r, pc in zip(family, adjusted):
        r["p_corrected"] = float(pc)
        r["significant"] = bool(pc < settings.alpha)
    for r in pair_rows:
        if getattr(metrics[r["metric"]], "descriptive", False):
            r["p_corrected"], r["significant"] = float("nan"), False


def _system_table(names: list[str], metric_names: list[str], metrics: Mapping[str, Metric],
                  groups: dict[str, _GroupResult], pair_rows: list[dict[str, Any]],
                  baseline: str | None) -> pd.DataFrame:
    """One row per (system, metric), deltas against the baseline."""
    by_pair = {(r["system_a"], r["system_b"], r["metric"]): r for r in pair_rows}
    rows = []
    for k, s in enumerate(names):
        for m in metric_names:
            mean, lo, hi = groups[m].system_ci[m]
            row: dict[str, Any] = {
                "system": s, "metric": m, "score": float(groups[m].scores[m][k]), "bootstrap_mean": float(mean[k]),
                "ci_low": float(lo[k]), "ci_high": float(hi[k]),
                "delta": float("nan"), "delta_ci_low": float("nan"), "delta_ci_high": float("nan"),
                "p": float("nan"), "p_corrected": float("nan"), "significant": False,
                "higher_is_better": bool(metrics[m].higher_is_better), "metric_signature": metrics[m].signature,
            }
            if baseline is not None and s == baseline:
                row.update(delta=0.0, delta_ci_low=0.0, delta_ci_high=0.0)
            elif baseline is not None and (baseline, s, m) in by_pair:
                pr = by_pair[(baseline, s, m)]
                row.update({key: pr[key] for key in ("delta", "delta_ci_low", "delta_ci_high", "p",
                                                     "p_corrected", "significant")})
            elif baseline is not None and (s, baseline, m) in by_pair:  # listed the other way round
                pr = by_pair[(s, baseline, m)]
                row.update({"delta": -pr["delta"], "delta_ci_low": -pr["delta_ci_high"],
                            "delta_ci_high": -pr["delta_ci_low"],
                            **{key: pr[key] for key in ("p", "p_corrected", "significant")}})
            rows.append(row)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def _settings_from(settings: SignificanceSettings | None, options: Mapping[str, Any]) -> SignificanceSettings:
    unknown = sorted(set(options) - set(SETTINGS_OPTIONS))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {unknown}; significance options are "
                        f"{', '.join(SETTINGS_OPTIONS)}")
    if settings is not None:
        if options:
            raise InputError(f"pass either settings= or the options {sorted(options)}, not both")
        return settings
    return SignificanceSettings.build(**options)


# -- the engine ----------------------------------------------------------------------------------
def compare_statistics(statistics: Mapping[str, np.ndarray], metrics: Mapping[str, Metric],
                       systems: Sequence[str], *, settings: SignificanceSettings | None = None,
                       baseline: str | None = None, failed: Mapping[str, np.ndarray] | None = None,
                       case_ids: Sequence[str] | None = None, progress: bool = False,
                       **options: Any) -> ComparisonResult:
    """Paired significance of K systems from their per-sample statistics.

    Failed cases (:data:`FAILED_CASE_POLICY`): a case a metric could not score for some system is given in
    ``failed[metric]``; it is left out of that metric, for every system, and kept by the other metrics.
    Metrics that keep the same cases share one resample matrix (drawn from ``settings.seed``), and the
    multiple-comparison correction runs once over every pair × metric of the family.

    Args:
        statistics: metric name -> ``(K, N, k)`` statistics, systems in the order of ``systems``, the
            same N cases (in the same order) for every system.
        metrics: metric name -> :class:`~radeval.metrics.base.Metric` (for ``aggregate``,
            ``higher_is_better`` and the signature).
        systems: the K system names.
        settings: the validated :class:`~radeval.stats.signature.SignificanceSettings`; or give its options
            as keywords instead (``mode``, ``test``, ``resamples``, ``ci_resamples``, ``seed``, ``ci``,
            ``confidence``, ``correction``, ``alpha``, ``pvalue``; see
            :meth:`SignificanceSettings.build <radeval.stats.signature.SignificanceSettings.build>`).
        baseline: the reference system; in baseline mode defaults to the first system.
        failed: metric -> boolean ``(N,)`` mask of the cases that metric could not score
            (:func:`failed_case_mask`). Non-finite statistics outside the mask are an error.
        case_ids: case ids, for :attr:`ComparisonResult.excluded` and error messages.
        progress: show tqdm bars.
        **options: the settings' options, when ``settings`` is not given.

    Returns:
        :class:`ComparisonResult`; ``pairs`` rows come metric by metric, metrics that keep the same cases
        together.

    Raises:
        InputError: fewer than 2 systems, an unknown baseline, mismatched shapes, undeclared non-finite
            statistics (naming metric, system and case), a metric whose every case failed, too few
            resamples, unknown option values.

    Example:
        >>> from radeval.metrics import get_metric
        >>> rouge = get_metric("rougeL")
        >>> refs = ["no effusion .", "small nodule .", "normal heart ."]
        >>> stats = np.stack([rouge.statistics(refs, ["no effusion .", "nodule .", "heart ."]),
        ...                   rouge.statistics(refs, refs)])
        >>> stats[0, 2] = np.nan  # the metric could not score case c3 for system a
        >>> res = compare_statistics({"m": stats}, {"m": rouge}, ["a", "b"],
        ...                          settings=SignificanceSettings.build(resamples=200),
        ...                          failed={"m": failed_case_mask(stats)}, case_ids=["c1", "c2", "c3"])
        >>> res.excluded
        {'m': ('c3',)}
    """
    settings = _settings_from(settings, options)
    names = [str(s) for s in systems]
    failed = dict(failed or {})
    stats = _check_inputs(statistics, metrics, names, case_ids, failed)
    if baseline is None and settings.mode == "baseline":
        baseline = names[0]
    if baseline is not None and baseline not in names:
        raise InputError(f"baseline {baseline!r} is not one of the systems: {names}")
    base = names.index(baseline) if baseline is not None else None
    pairs = _with_listed(_pairs(len(names), base, settings.mode), names, settings.comparisons)
    metric_names = list(stats)
    n_cases = next(iter(stats.values())).shape[1]
    excluded: dict[str, tuple[str, ...]] = {}
    for m in metric_names:
        rows = np.flatnonzero(np.asarray(failed.get(m, np.zeros(n_cases)), dtype=bool))
        if len(rows) == n_cases:
            raise InputError(f"metric {m!r}: every one of the {n_cases} cases failed for some system; "
                             "nothing is left to compare")
        if len(rows):
            excluded[m] = tuple(case_ids[i] if case_ids is not None else f"#{i}" for i in rows)

    by_metric: dict[str, _GroupResult] = {}
    pair_rows: list[dict[str, Any]] = []
    for rows, group in _case_groups(metric_names, failed, n_cases):
        sub = {m: stats[m] if len(rows) == n_cases else stats[m][:, rows, :] for m in group}
        result = _test_group(sub, metrics, names, pairs, settings, progress=progress)
        pair_rows += result.pair_rows
        by_metric.update({m: result for m in group})
    _correct(pair_rows, settings, metrics)
    table = _system_table(names, metric_names, metrics, by_metric, pair_rows, baseline)
    return ComparisonResult(
        table=table, pairs=pd.DataFrame(pair_rows, columns=list(PAIR_COLUMNS)), signature=settings.signature,
        settings=settings, systems=tuple(names), baseline=baseline,
        resamples={m: by_metric[m].resamples[m] for m in metric_names if m in by_metric[m].resamples},
        null_distribution={m: by_metric[m].null[m] for m in metric_names if m in by_metric[m].null},
        excluded=excluded)


# -- from reports --------------------------------------------------------------------------------


def compare(refs: Mapping[str, str] | Sequence[str], systems: Mapping[str, Mapping[str, str] | Sequence[str]], *,
            metrics: Sequence[str | Metric] | None = None,
            metric_options: Mapping[str, Mapping[str, Any]] | None = None,
            cache: Any = None, **options: Any) -> ComparisonResult:
    """Score K systems against the same references and test their differences.

    Every system is aligned to the references by case id (never by position; a plain list gets ids
    ``"0", "1", …`` and must be as long as the references). Statistics come from the score engine
    (:func:`radeval.metrics.scoring.compute_statistics`, using the per-sample cache if given), then
    :func:`compare_statistics` does the rest.

    Args:
        refs: ``{case_id: reference}`` or a list of references.
        systems: ``{system name: {case_id: hypothesis} or list}``; the first is the default baseline.
        metrics: metric names or objects (default: every lexical metric).
        metric_options: per-metric keyword options.
        cache: a ``StatisticsCache``, a path, ``True`` (default cache) or ``None``.
        **options: keyword options of :func:`compare_statistics` (``baseline``, ``mode``, ``test``,
            ``resamples``, ``seed``, ``ci``, ``confidence``, ``correction``, ``alpha``, ``pvalue``,
            ``ci_resamples``, ``progress``).

    Returns:
        :class:`ComparisonResult`.

    Raises:
        AlignmentError: a system misses cases of the references or has extra ones (naming the system
            and the ids); nothing is scored then.
        InputError: fewer than 2 systems, a metric that failed on every case, or a bad option.

    A case a metric cannot score for some system is left out of that metric for every system and listed in
    :attr:`ComparisonResult.excluded` (:data:`FAILED_CASE_POLICY`).
    """
    from radeval.metrics.scoring import build_metrics, compute_statistics
    from radeval.types import align, as_mapping

    if not isinstance(systems, Mapping):
        raise InputError("systems must be a mapping {system name: hypotheses}")
    if len(systems) < 2:
        raise InputError(f"significance needs at least 2 systems, got {len(systems)}: {list(systems)}")
    names = [str(s) for s in systems]
    clashes = sorted({s for s in names if names.count(s) > 1})
    if clashes:  # e.g. keys 1 and "1": one system would silently replace the other
        raise InputError(f"duplicate system names: {clashes}")
    _settings_from(options.get("settings"), {k: v for k, v in options.items() if k in SETTINGS_OPTIONS})
    baseline = options.get("baseline")
    if baseline is not None and baseline not in systems:
        raise InputError(f"baseline {baseline!r} is not one of the systems: {[str(s) for s in systems]}")
    ref_map = as_mapping(refs, name="references")
    aligned: dict[str, list[str]] = {}
    ids: list[str] = list(ref_map)
    problems = []
    for name, hyps in systems.items():
        hyp_map = as_mapping(hyps, name=str(name))
        if not isinstance(hyps, Mapping) and not isinstance(refs, Mapping) and len(hyp_map) != len(ref_map):
            problems.append(f"system {name!r}: {len(hyp_map)} hypotheses for {len(ref_map)} references")
            continue
        try:
            ids, _, hyp_list = align(ref_map, hyp_map, hyp_name=f"system {name!r}")
        except AlignmentError as exc:
            problems.append(str(exc))
            continue
        aligned[str(name)] = hyp_list
    if problems:
        raise AlignmentError("systems do not cover the same cases as the references: " + "; ".join(problems))
    ref_list = [ref_map[i] for i in ids]
    metric_objs = build_metrics(metrics, metric_options)
    store = open_cache(cache)
    per_system: dict[str, dict[str, np.ndarray]] = {}
    errors: dict[str, dict[int, str]] = {m.name: {} for m in metric_objs}
    for name, hyp_list in aligned.items():
        stats, errs = compute_statistics(metric_objs, ref_list, hyp_list, cache=store)
        for m in metric_objs:
            errors[m.name].update(errs.get(m.name, {}))
        per_system[name] = stats
    names = list(aligned)
    statistics = {m.name: np.stack([per_system[s][m.name] for s in names]) for m in metric_objs}
    failed = {m: failed_case_mask(arr, errors[m]) for m, arr in statistics.items()}
    return compare_statistics(statistics, {m.name: m for m in metric_objs}, names, case_ids=ids,
                              failed={m: mask for m, mask in failed.items() if mask.any()}, **options)
