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
from pathlib import Path
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
from radeval.stats.signature import DEFAULT_SEED, SignificanceSettings

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
    """

    table: pd.DataFrame
    pairs: pd.DataFrame
    signature: str
    settings: SignificanceSettings
    systems: tuple[str, ...]
    baseline: str | None
    resamples: dict[str, np.ndarray] = field(default_factory=dict)
    null_distribution: dict[str, np.ndarray] = field(default_factory=dict)

    def to_json_records(self) -> list[dict[str, Any]]:
        """The rows of :attr:`table` as ``radeval compare --json`` prints them (NaN -> ``None``).

        Returns:
            a list of dicts with the keys of :data:`JSON_KEYS`.
        """
        return [{key: _json_value(row[key]) for key in JSON_KEYS} for row in self.table.to_dict("records")]

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
        lines.append(f"signature: {self.signature}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()

    def forest_plot(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write a forest plot (PNG) of the paired deltas and their CIs, one panel per metric.

        Args:
            path: output file.
            title: figure title (default: the signature's test and resample count).

        Returns:
            the path written.
        """
        from radeval.stats.forest_plot import draw_forest_plot

        return draw_forest_plot(self.pairs, path, title=title or self.signature)


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
                  case_ids: Sequence[str] | None) -> dict[str, np.ndarray]:
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
        finite = np.isfinite(arr).all(axis=2)
        if not finite.all():
            k, i = (int(v[0]) for v in np.nonzero(~finite))
            where = f"case {case_ids[i]!r}" if case_ids is not None else f"case #{i}"
            raise InputError(
                f"metric {name!r}, system {names[k]!r}: {int((~finite).sum())} non-finite statistics row(s), "
                f"first at {where}; every case must be scored by every system before testing "
                f"(re-score the failed cases, or drop them from every system)")
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


# -- the engine ----------------------------------------------------------------------------------
def compare_statistics(statistics: Mapping[str, np.ndarray], metrics: Mapping[str, Metric],
                       systems: Sequence[str], *, baseline: str | None = None, mode: str = "baseline",
                       test: str = "bootstrap", resamples: int | None = None, seed: int | None = DEFAULT_SEED,
                       ci: str = "percentile", confidence: float = 0.95, correction: str = "holm",
                       alpha: float = 0.05, pvalue: str | None = None, ci_resamples: int | None = None,
                       case_ids: Sequence[str] | None = None, progress: bool = False) -> ComparisonResult:
    """Paired significance of K systems from their per-sample statistics.

    Args:
        statistics: metric name -> ``(K, N, k)`` statistics, systems in the order of ``systems``, the
            same N cases (in the same order) for every system.
        metrics: metric name -> :class:`~radeval.metrics.base.Metric` (for ``aggregate``,
            ``higher_is_better`` and the signature).
        systems: the K system names.
        baseline: the reference system; in baseline mode defaults to the first system.
        mode: ``"baseline"`` (every system against the baseline) or ``"all-pairs"``.
        test: ``"bootstrap"`` (paired bootstrap) or ``"ar"`` (approximate randomization).
        resamples: B (default 5,000) or R (default 10,000); at least 100.
        seed: generator seed (default 12345, as sacreBLEU); ``None`` = OS entropy.
        ci: ``"percentile"``, ``"sacrebleu"`` (index rule) or ``"bca"``.
        confidence: interval level.
        correction: ``"holm"``, ``"bh"``, ``"by"``, ``"bonferroni"`` or ``"none"``, over all
            pairs × metrics.
        alpha: level for the ``significant`` column (on corrected p).
        pvalue: p-value convention; bootstrap ``"sacrebleu-bs"`` (default) or ``"koehn"``; AR
            ``"ar-ge"`` (default) or ``"ar-sacrebleu"`` (:mod:`radeval.stats.pvalues`).
        ci_resamples: for ``test="ar"``, bootstrap resamples behind the intervals (default 5,000,
            drawn from the same generator after the masks; 0 = none).
        case_ids: case ids, only for error messages.
        progress: show tqdm bars.

    Returns:
        :class:`ComparisonResult`.

    Raises:
        InputError: fewer than 2 systems, an unknown baseline, mismatched shapes, non-finite
            statistics (naming metric, system and case), too few resamples, unknown option values.
    """
    settings = SignificanceSettings.build(test=test, resamples=resamples, ci_resamples=ci_resamples, seed=seed,
                                          ci=ci, confidence=confidence, correction=correction, alpha=alpha,
                                          mode=mode, pvalue=pvalue)
    names = [str(s) for s in systems]
    stats = _check_inputs(statistics, metrics, names, case_ids)
    if baseline is None and settings.mode == "baseline":
        baseline = names[0]
    if baseline is not None and baseline not in names:
        raise InputError(f"baseline {baseline!r} is not one of the systems: {names}")
    base = names.index(baseline) if baseline is not None else None
    pairs = _pairs(len(names), base, settings.mode)
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

    # per-system intervals
    sys_ci: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for m in metric_names:
        if boot:
            lo, hi = interval(boot[m], scores[m], jack.get(m))
            # mean over the *sorted* values: sacreBLEU's summation order, so its mean is reproduced bit for bit
            sys_ci[m] = (np.sort(boot[m], axis=0).mean(axis=0), np.asarray(lo), np.asarray(hi))
        else:
            nan = np.full(len(names), np.nan)
            sys_ci[m] = (nan, nan, nan)

    # per-pair deltas, intervals, p-values
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
    raw = np.array([r["p"] for r in pair_rows], dtype=np.float64)
    adjusted = adjust_pvalues(raw, settings.correction)
    for r, pc in zip(pair_rows, adjusted):
        r["p_corrected"] = float(pc)
        r["significant"] = bool(pc < settings.alpha)
    pairs_df = pd.DataFrame(pair_rows, columns=list(PAIR_COLUMNS))

    # the per-system table, deltas against the baseline
    by_pair = {(r["system_a"], r["system_b"], r["metric"]): r for r in pair_rows}
    rows = []
    for k, s in enumerate(names):
        for m in metric_names:
            mean, lo, hi = sys_ci[m]
            row: dict[str, Any] = {
                "system": s, "metric": m, "score": float(scores[m][k]), "bootstrap_mean": float(mean[k]),
                "ci_low": float(lo[k]), "ci_high": float(hi[k]),
                "delta": float("nan"), "delta_ci_low": float("nan"), "delta_ci_high": float("nan"),
                "p": float("nan"), "p_corrected": float("nan"), "significant": False,
                "higher_is_better": bool(metrics[m].higher_is_better), "metric_signature": metrics[m].signature,
            }
            if baseline is not None and s == baseline:
                row.update(delta=0.0, delta_ci_low=0.0, delta_ci_high=0.0)
            elif baseline is not None:
                pr = by_pair[(baseline, s, m)]
                row.update({key: pr[key] for key in ("delta", "delta_ci_low", "delta_ci_high", "p",
                                                     "p_corrected", "significant")})
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    return ComparisonResult(table=table, pairs=pairs_df, signature=settings.signature, settings=settings,
                            systems=tuple(names), baseline=baseline, resamples=boot, null_distribution=null)


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
        InputError: fewer than 2 systems, a failed sample (naming metric, system, case and reason), or
            a bad option.
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
    SignificanceSettings.build(**{k: v for k, v in options.items()
                                  if k in ("test", "resamples", "ci_resamples", "seed", "ci", "confidence",
                                           "correction", "alpha", "mode", "pvalue")})
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
    for name, hyp_list in aligned.items():
        stats, errors = compute_statistics(metric_objs, ref_list, hyp_list, cache=store)
        for m in metric_objs:
            arr = np.asarray(stats[m.name], dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(arr.reshape(len(ids), -1)).all(axis=1)) if arr.size else []
            if len(bad) or errors.get(m.name):
                rows = sorted(set(int(i) for i in bad) | set(errors.get(m.name, {})))
                first = rows[0]
                reason = errors.get(m.name, {}).get(first, "statistics are not finite")
                raise InputError(
                    f"metric {m.name!r}, system {name!r}: {len(rows)} case(s) could not be scored, first "
                    f"{ids[first]!r} ({reason}); fix or drop them from every system before testing")
        per_system[name] = stats
    names = list(aligned)
    statistics = {m.name: np.stack([per_system[s][m.name] for s in names]) for m in metric_objs}
    return compare_statistics(statistics, {m.name: m for m in metric_objs}, names, case_ids=ids, **options)
