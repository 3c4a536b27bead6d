"""``radeval bench``: run a suite end to end and write the leaderboard, significance report and packet.

Stages (each cached, so an unchanged re-run is fast and a killed run resumes):

1. dataset: the evaluation references (and, for model systems, a CT-RATE-layout dataset);
2. systems: predictions per system — read from files, or produced by training/generating registry
   models (work products keyed by a content hash of config + data under ``<output>/.work``);
3. scoring: per-sample statistics of every metric for every system, through the per-sample cache;
   a metric whose weights are not available offline is listed as unavailable, never silently dropped;
4. significance: one paired test over all systems × metrics (:mod:`radeval.stats`);
5. outputs: ``leaderboard.{md,csv,html}``, ``significance.md``, ``per_sample.csv``, plots, the manifest,
   and the reader-study packet if configured. Every file is written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from radeval.bench.manifest import Manifest, content_hash
from radeval.bench.suite import MetricSpec, Suite
from radeval.cache import StatisticsCache
from radeval.errors import AlignmentError, InputError, MissingDependencyError, MissingWeightsError
from radeval.leaderboard.diagnostic_flags import board_flags, diagnostics_table_lines, flag_summary_lines
from radeval.leaderboard.html import leaderboard_html
from radeval.leaderboard.literature import literature_for
from radeval.leaderboard.markdown import leaderboard_csv, leaderboard_markdown, significance_markdown
from radeval.leaderboard.run_summary import run_summary_text
from radeval.leaderboard.table import COLUMNS, Leaderboard
from radeval.metrics.base import Metric
from radeval.metrics.output_diagnostics import DIAGNOSTIC_METRICS
from radeval.metrics.scoring import build_metrics, compute_statistics
from radeval.paths import atomic_write_text
from radeval.types import align


@dataclass
class BenchResult:
    """What :func:`run_suite` returns."""

    output_dir: Path
    leaderboard: Leaderboard
    per_sample: pd.DataFrame
    unavailable: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _work_dir(suite: Suite) -> Path:
    path = suite.output_dir / ".work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _score_systems(suite: Suite, references: Mapping[str, str], predictions: Mapping[str, Mapping[str, str]],
                   cache: StatisticsCache, manifest: Manifest, *, quiet: bool):
    """Statistics for every (metric, system); metrics that cannot run are reported, not dropped."""
    metrics: dict[str, Metric] = {}
    unavailable: dict[str, str] = {}
    for spec in with_diagnostics(suite.metrics):
        try:
            metrics[spec.name] = build_metrics([spec.name], {spec.name: spec.options})[0]
        except (MissingWeightsError, MissingDependencyError) as exc:
            unavailable[spec.name] = f"not available offline: {exc}"
    ids = list(references)
    refs = [references[i] for i in ids]
    # Align every system first: a misaligned file is reported (all of them at once) before any scoring.
    aligned: dict[str, list[str]] = {}
    problems: list[str] = []
    for system in suite.systems:
        try:
            aligned[system.name] = align(references, predictions[system.name],
                                         hyp_name=f"predictions of {system.name!r}")[2]
        except AlignmentError as exc:
            source = f" ({system.predictions})" if system.predictions is not None else ""
            problems.append(f"system {system.name!r}{source}: {exc}")
    if problems:
        raise AlignmentError("; ".join(problems) if len(problems) == 1 else
                             f"{len(problems)} systems do not cover the references' case ids:\n  - "
                             + "\n  - ".join(problems))
    stats: dict[str, list[np.ndarray]] = {name: [] for name in metrics}
    errors: dict[str, dict[str, dict[int, str]]] = {name: {} for name in metrics}
    groups: dict[str, list[str]] = {}
    for name, metric in metrics.items():  # a family (BLEU-1..4, label F1 macro/micro) is computed once
        groups.setdefault(metric.statistics_key, []).append(name)
    bar = tqdm(total=len(suite.systems) * max(len(groups), 1), desc="scoring", disable=quiet, unit="metric")
    for system in suite.systems:
        hyps = aligned[system.name]
        for names in groups.values():
            bar.set_postfix_str(f"{system.name}/{names[0]}")
            if names[0] in unavailable:
                bar.update(1)
                continue
            try:
                s, err = compute_statistics([metrics[n] for n in names], refs, hyps, cache=cache)
            except (MissingWeightsError, MissingDependencyError) as exc:
                for n in names:
                    unavailable[n] = f"not available offline: {exc}"
                bar.update(1)
                continue
            for n in names:
                stats[n].append(s[n])
                errors[n][system.name] = err[n]
            bar.update(1)
    bar.close()
    for name in unavailable:
        metrics.pop(name, None)
        stats.pop(name, None)
    for name, metric in metrics.items():
        manifest.signatures[name] = metric.signature
    return ids, metrics, {name: np.stack(arrs) for name, arrs in stats.items()}, errors, unavailable


def _significance(suite: Suite, metrics: dict[str, Metric], stats: dict[str, np.ndarray], ids: list[str],
                  system_names: list[str]):
    """One paired test over all systems × metrics; failing cases are excluded per metric (reported).

    Metrics are grouped by the set of cases every system could score; each group is tested on its own
    cases, and the multiple-comparison correction is applied once over all pairs × metrics.
    """
    from radeval.stats.compare import compare_statistics
    from radeval.stats.correction import adjust_pvalues

    sig = suite.significance
    excluded: dict[str, list[str]] = {}
    groups: dict[tuple[int, ...], list[str]] = {}
    for name, arr in stats.items():
        ok = np.all(np.isfinite(arr), axis=(0, 2))
        if not ok.all():
            excluded[name] = [ids[i] for i in np.where(~ok)[0]]
        groups.setdefault(tuple(np.where(ok)[0]), []).append(name)
    tables, pairs, signature = [], [], ""
    for rows, names in groups.items():
        idx = list(rows)
        result = compare_statistics(
            {n: stats[n][:, idx, :] for n in names}, {n: metrics[n] for n in names}, system_names,
            baseline=suite.baseline, mode=sig.mode, test=sig.test, resamples=sig.resamples, seed=sig.seed,
            ci=sig.ci, confidence=sig.confidence, correction="none", alpha=sig.alpha,
            case_ids=[ids[i] for i in idx])
        tables.append(result.table)
        pairs.append(result.pairs)
        signature = result.signature
    table = pd.concat(tables, ignore_index=True)
    pair_table = pd.concat(pairs, ignore_index=True)
    # diagnostics describe the output; they are not hypotheses and stay out of the correction family
    mask = pair_table["p"].notna() & ~pair_table["metric"].isin(DIAGNOSTIC_METRICS)
    pair_table["p_corrected"] = np.nan
    if mask.any():
        pair_table.loc[mask, "p_corrected"] = adjust_pvalues(pair_table.loc[mask, "p"].to_numpy(),
                                                             method=sig.correction)
    pair_table["significant"] = pair_table["p_corrected"].fillna(1.0) < sig.alpha
    corrected = {(r.system_b, r.metric): r.p_corrected for r in pair_table.itertuples()
                 if r.system_a == suite.baseline}
    table["p_corrected"] = [corrected.get((r.system, r.metric), np.nan) for r in table.itertuples()]
    table["significant"] = table["p_corrected"].fillna(1.0) < sig.alpha
    signature = signature.replace("correction:none", f"correction:{sig.correction}")
    metric_order = {m: i for i, m in enumerate(stats)}
    system_order = {s: i for i, s in enumerate(system_names)}
    table = table.assign(_m=table["metric"].map(metric_order), _s=table["system"].map(system_order))
    table = table.sort_values(["_m", "_s"]).drop(columns=["_m", "_s"]).reset_index(drop=True)
    return table, pair_table, signature, excluded


def _per_sample(ids: list[str], system_names: list[str], metrics: dict[str, Metric],
                stats: dict[str, np.ndarray]) -> pd.DataFrame:
    frames = []
    for k, system in enumerate(system_names):
        data: dict[str, object] = {"case_id": ids, "system": [system] * len(ids)}
        for name, metric in metrics.items():
            arr = stats[name][k]
            ok = np.all(np.isfinite(arr), axis=1)
            values = np.full(len(ids), np.nan)
            if ok.any():
                values[ok] = metric.sample_scores(arr[ok])
            data[name] = values
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)


def _metric_bars(board: Leaderboard, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = list(board.metrics)
    cols = min(4, max(1, len(metrics)))
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        sub = board.table[board.table["metric"] == metric].set_index("system").reindex(list(board.systems))
        y = sub["score"].to_numpy(dtype=float)
        err = np.vstack([y - sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float) - y])
        ax.bar(range(len(y)), y, yerr=np.nan_to_num(err), capsize=3, color="#4c72b0")
        ax.set_xticks(range(len(y)), list(board.systems), rotation=30, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def run_suite(suite: Suite, *, quiet: bool = False, cache: StatisticsCache | None = None) -> BenchResult:
    """Run a validated suite and write every output into ``suite.output_dir``.

    Args:
        suite: from :func:`radeval.bench.suite.load_suite`.
        quiet: no progress bars.
        cache: the per-sample statistics cache (default: ``$RADEVAL_HOME/cache.sqlite``).

    Returns:
        :class:`BenchResult`.

    Raises:
        InputError: data that cannot be aligned or read (naming the system, file or case).
    """
    from radeval.bench.dataset import resolve_dataset
    from radeval.bench.systems import resolve_predictions

    out = suite.output_dir
    out.mkdir(parents=True, exist_ok=True)
    work = _work_dir(suite)
    manifest = Manifest(suite=suite.name, suite_hash=content_hash(asdict(suite) | {"path": None, "output_dir": None}))
    cache = cache or StatisticsCache()
    with manifest.stage("dataset"):
        dataset = resolve_dataset(suite, work, quiet=quiet)
    with manifest.stage("systems"):
        predictions = resolve_predictions(suite, dataset, work, manifest, quiet=quiet)
    system_names = [s.name for s in suite.systems]
    with manifest.stage("scoring"):
        ids, metrics, stats, errors, unavailable = _score_systems(
            suite, dataset.references, predictions, cache, manifest, quiet=quiet)
    if not metrics:
        raise InputError(f"{suite.name}: no metric could be computed: " + "; ".join(f"{k}: {v}" for k, v in unavailable.items()))
    with manifest.stage("significance"):
        table, pair_table, signature, excluded = _significance(suite, metrics, stats, ids, system_names)
    failures = [f"{m}: system {s!r}: case {ids[i]!r}: {reason}"
                for m, per in errors.items() for s, errs in per.items() for i, reason in sorted(errs.items())]
    board = Leaderboard(
        title=f"{suite.name} — {len(ids)} cases", table=table.loc[:, list(COLUMNS)],
        systems=tuple(system_names), metrics=tuple(metrics), baseline=suite.baseline,
        significance_signature=signature, unavailable=unavailable,
        literature=literature_for(suite.literature or ""),
        notes=tuple(dataset.notes),
        facts=_run_facts(suite, manifest, ids, metrics, stats, system_names),
    )
    per_sample = _per_sample(ids, system_names, metrics, stats)
    files: list[Path] = []
    with manifest.stage("outputs"):
        for name, text in (("leaderboard.md", leaderboard_markdown(board)), ("leaderboard.csv", leaderboard_csv(board)),
                           ("leaderboard.html", leaderboard_html(board)),
                           ("significance.md", significance_markdown(board, excluded=excluded)),
                           ("per_sample.csv", per_sample.to_csv(index=False)),
                           ("pairs.csv", pair_table.to_csv(index=False))):
            atomic_write_text(out / name, text)
            files.append(out / name)
        from radeval.stats.forest_plot import draw_forest_plot

        tmp_png = out / ".forest.png.tmp.png"
        draw_forest_plot(pair_table, tmp_png, title=signature)
        tmp_png.replace(out / "forest.png")
        _metric_bars(board, out / "metrics.png")
        files += [out / "forest.png", out / "metrics.png"]
        if "label_head" in manifest.extra:  # the priors' held-out quality, per label
            atomic_write_text(out / "label_head.csv",
                              pd.DataFrame(manifest.extra["label_head"]["per_label"]).to_csv(index=False))
            files.append(out / "label_head.csv")
        if failures:
            atomic_write_text(out / "failures.txt", "\n".join(failures) + "\n")
            files.append(out / "failures.txt")
        else:  # an earlier run's list would contradict this run's outputs
            (out / "failures.txt").unlink(missing_ok=True)
    if suite.reader_study is not None:
        with manifest.stage("reader_study"):
            from radeval.bench.reader import write_reader_packet

            files += write_reader_packet(suite, dataset, predictions, out)
    if suite.scaling is not None:
        with manifest.stage("scaling"):
            from radeval.bench.scaling import run_scaling

            files += run_scaling(suite, dataset, work, manifest, cache, out, quiet=quiet)
    manifest.extra.update({"n_cases": len(ids), "systems": system_names, "baseline": suite.baseline,
                           "significance": asdict(suite.significance), "significance_signature": signature,
                           "unavailable_metrics": unavailable, "n_failures": len(failures),
                           "excluded_cases": excluded, "degenerate_output": board_flags(board)})
    atomic_write_text(out / "manifest.json", manifest.to_json())
    files.append(out / "manifest.json")
    return BenchResult(out, board, per_sample, unavailable, failures, files)


def _run_facts(suite: Suite, manifest: Manifest, ids: list[str], metrics: dict[str, Metric],
               stats: dict[str, np.ndarray], system_names: list[str]) -> dict:
    """Numbers for the leaderboard's "what this run shows" section (:mod:`radeval.bench.run_facts`)."""
    from radeval.bench.run_facts import prior_contrast

    models = {s.name: str(s.model) for s in suite.systems if s.kind != "predictions"}
    facts: dict = {"n_cases": len(ids), "phantom": suite.dataset.kind == "phantom",
                   "prior_contrast": prior_contrast(models, stats, metrics, system_names,
                                                    resamples=suite.significance.resamples,
                                                    seed=suite.significance.seed,
                                                    confidence=suite.significance.confidence)}
    if "label_head" in manifest.extra:
        facts["label_head"] = {k: v for k, v in manifest.extra["label_head"].items() if k != "per_label"}
    manifest.extra["run_facts"] = facts
    return facts


def result_summary(result: BenchResult) -> str:
    """A short text summary for the terminal."""
    lines = [f"wrote {len(result.files)} files to {result.output_dir}"]
    for metric, reason in result.unavailable.items():
        lines.append(f"  {metric}: {reason}")
    if result.failures:
        lines.append(f"  {len(result.failures)} per-sample failure(s): see failures.txt")
    lines += run_summary_text(result.leaderboard) + diagnostics_table_lines(result.leaderboard)
    lines += flag_summary_lines(result.leaderboard)
    return "\n".join(lines)


def with_diagnostics(specs: tuple[MetricSpec, ...] | list[MetricSpec]) -> list[MetricSpec]:
    """The suite's metrics plus the degenerate-output diagnostics it does not list (every run reports them)."""
    named = {spec.name for spec in specs}
    return [*specs, *(MetricSpec(name) for name in DIAGNOSTIC_METRICS if name not in named)]


__all__ = ["BenchResult", "result_summary", "run_suite"]
