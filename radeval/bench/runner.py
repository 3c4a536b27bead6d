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
from radeval.bench.system_spec import fidelity_table
from radeval.bench.suite import MetricSpec, Suite
from radeval.cache import StatisticsCache
from radeval.csv_safe import frame_to_csv
from radeval.errors import AlignmentError, InputError, MissingDependencyError, MissingWeightsError
from radeval.leaderboard.diagnostic_flags import board_flags, diagnostics_table_lines, flag_summary_lines
from radeval.leaderboard.html import leaderboard_html
from radeval.leaderboard.json_export import leaderboard_json
from radeval.leaderboard.listed_comparisons import comparison_records
from radeval.leaderboard.literature import literature_for
from radeval.leaderboard.markdown import leaderboard_csv, leaderboard_markdown, significance_markdown
from radeval.leaderboard.primary_metric import board_ranking, example_documents
from radeval.leaderboard.run_summary import run_summary_text
from radeval.leaderboard.table import COLUMNS, Leaderboard
from radeval.metrics.base import Metric
from radeval.metrics.output_diagnostics import DIAGNOSTIC_METRICS
from radeval.metrics.scoring import build_metrics, compute_statistics
from radeval.paths import atomic_write_text
from radeval.stats.sample_size import small_sample_warning
from radeval.types import align


@dataclass(frozen=True)
class BenchResult:
    """What :func:`run_suite` returns."""

    output_dir: Path
    leaderboard: Leaderboard
    per_sample: pd.DataFrame
    unavailable: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Scores:
    """Stage 3: per-sample statistics of every available metric for every system.

    Attributes:
        case_ids: the evaluation cases, in order.
        metrics: metric name -> Metric, in suite order (unavailable ones left out).
        statistics: metric name -> ``(K systems, N cases, k)`` statistics (systems in suite order).
        errors: metric name -> system -> {case index: reason} for samples a metric could not score.
        unavailable: metric name -> why it could not run (e.g. weights not available offline).
    """

    case_ids: list[str]
    metrics: dict[str, Metric]
    statistics: dict[str, np.ndarray]
    errors: dict[str, dict[str, dict[int, str]]]
    unavailable: dict[str, str]

    def failed(self) -> dict[str, np.ndarray]:
        """Metric -> mask of the cases it could not score for some system (the failed-case policy)."""
        from radeval.stats.compare import failed_case_mask

        out = {}
        for name, arr in self.statistics.items():
            merged = {i: r for per_system in self.errors.get(name, {}).values() for i, r in per_system.items()}
            mask = failed_case_mask(arr, merged)
            if mask.any():
                out[name] = mask
        return out

    def failure_lines(self) -> list[str]:
        """One line per (metric, system, case) that could not be scored, for ``failures.txt``."""
        return [f"{m}: system {s!r}: case {self.case_ids[i]!r}: {reason}"
                for m, per in self.errors.items() for s, errs in per.items() for i, reason in sorted(errs.items())]


@dataclass(frozen=True)
class Significance:
    """Stage 4: the paired tests of every system × metric.

    Attributes:
        table: one row per (metric, system), metric-major in suite order (leaderboard columns).
        pairs: one row per (pair, metric), with family-wide corrected p-values.
        signature: the significance signature.
        excluded: metric -> case ids left out of that metric (failed for some system).
        listed: the rows of ``pairs`` of the suite's listed comparisons (``significance.comparisons``), in order.
    """

    table: pd.DataFrame
    pairs: pd.DataFrame
    signature: str
    excluded: dict[str, list[str]]
    listed: pd.DataFrame


def _work_dir(suite: Suite) -> Path:
    path = suite.output_dir / ".work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _build_metrics(suite: Suite) -> tuple[dict[str, Metric], dict[str, str]]:
    metrics: dict[str, Metric] = {}
    unavailable: dict[str, str] = {}
    for spec in with_diagnostics(suite.metrics):
        try:
            metrics[spec.name] = build_metrics([spec.name], {spec.name: spec.options})[0]
        except (MissingWeightsError, MissingDependencyError) as exc:
            unavailable[spec.name] = f"not available offline: {exc}"
    return metrics, unavailable


def _align_systems(suite: Suite, references: Mapping[str, str],
                   predictions: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    """Every system's hypotheses in reference order; all misaligned systems are reported at once."""
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
    return aligned


def _score_systems(suite: Suite, references: Mapping[str, str], predictions: Mapping[str, Mapping[str, str]],
                   cache: StatisticsCache, manifest: Manifest, *, quiet: bool) -> Scores:
    """Statistics for every (metric, system); metrics that cannot run are reported, not dropped."""
    metrics, unavailable = _build_metrics(suite)
    ids = list(references)
    refs = [references[i] for i in ids]
    aligned = _align_systems(suite, references, predictions)  # before any scoring
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
        errors.pop(name, None)
    for name, metric in metrics.items():
        manifest.signatures[name] = metric.signature
    return Scores(ids, metrics, {name: np.stack(arrs) for name, arrs in stats.items()}, errors, unavailable)


def _significance(suite: Suite, scores: Scores, system_names: list[str]) -> Significance:
    """One paired test over all systems × metrics, with the failed-case policy of :mod:`radeval.stats.compare`."""
    from radeval.stats.compare import compare_statistics

    result = compare_statistics(scores.statistics, scores.metrics, system_names, settings=suite.significance,
                                baseline=suite.baseline, failed=scores.failed(), case_ids=scores.case_ids)
    metric_order = {m: i for i, m in enumerate(scores.statistics)}
    system_order = {s: i for i, s in enumerate(system_names)}
    table = result.table.assign(_m=result.table["metric"].map(metric_order),
                                _s=result.table["system"].map(system_order))
    table = table.sort_values(["_m", "_s"]).drop(columns=["_m", "_s"]).reset_index(drop=True)
    excluded = {m: list(ids) for m, ids in result.excluded.items()}
    return Significance(table, result.pairs, result.signature, excluded, result.listed_pairs())


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


def _write_outputs(out: Path, board: Leaderboard, significance: Significance, per_sample: pd.DataFrame,
                   failures: list[str], examples: tuple[str, str]) -> list[Path]:
    """The leaderboard files (Markdown, CSV, HTML, JSON), the qualitative examples (Markdown, HTML), the
    significance report, the per-sample table, the plots and ``failures.txt``; with listed comparisons also
    ``comparisons.csv`` and one forest plot per pair."""
    from radeval.leaderboard.forest_plot import draw_forest_plot, draw_pair_forest_plot
    from radeval.leaderboard.listed_comparisons import comparisons_frame, forest_plot_name, pairs_of
    from radeval.leaderboard.metric_bars import draw_metric_bars

    files: list[Path] = []
    for name, text in (("leaderboard.md", leaderboard_markdown(board)), ("leaderboard.csv", leaderboard_csv(board)),
                       ("leaderboard.html", leaderboard_html(board)), ("leaderboard.json", leaderboard_json(board)),
                       ("examples.md", examples[0]), ("examples.html", examples[1]),
                       ("significance.md", "".join(f"> **{w}**\n\n" for w in [small_sample_warning(per_sample["case_id"].nunique())] if w)
                        + significance_markdown(board, excluded=significance.excluded)),
                       ("per_sample.csv", frame_to_csv(per_sample)),
                       ("pairs.csv", frame_to_csv(significance.pairs))):
        atomic_write_text(out / name, text)
        files.append(out / name)
    tmp_png = out / ".forest.png.tmp.png"
    draw_forest_plot(significance.pairs, tmp_png, title=significance.signature)
    tmp_png.replace(out / "forest.png")
    draw_metric_bars(board, out / "metrics.png")
    files += [out / "forest.png", out / "metrics.png"]
    if board.comparisons:
        atomic_write_text(out / "comparisons.csv", frame_to_csv(comparisons_frame(board.comparisons)))
        files.append(out / "comparisons.csv")
        for system, reference in pairs_of(board.comparisons):
            rows = [r for r in board.comparisons if (r["system"], r["reference"]) == (system, reference)]
            target = out / "comparisons" / forest_plot_name(system, reference)
            tmp = target.with_name(f".{target.name}.tmp.png")
            draw_pair_forest_plot(rows, tmp, title=f"{system} vs {reference}")
            tmp.replace(target)
            files.append(target)
    if failures:
        atomic_write_text(out / "failures.txt", "\n".join(failures) + "\n")
        files.append(out / "failures.txt")
    else:  # an earlier run's list would contradict this run's outputs
        (out / "failures.txt").unlink(missing_ok=True)
    return files


def run_suite(suite: Suite, *, quiet: bool = False, cache: StatisticsCache | None = None) -> BenchResult:
    """Run a validated suite and write every output into ``suite.output_dir`` as one set.

    The outputs are staged and swapped in at the end (:mod:`radeval.bench.staging`): a failed run leaves the
    previous outputs as they were. An ``output_dir`` that would replace an input is refused before any work.

    Args:
        suite: from :func:`radeval.bench.suite.load_suite`.
        quiet: no progress bars.
        cache: the per-sample statistics cache (default: ``$RADEVAL_HOME/cache.sqlite``).

    Returns:
        :class:`BenchResult`.

    Raises:
        InputError: data that cannot be aligned or read (naming the system, file or case).
    """
    from radeval.bench.staging import OutputStage, check_suite_output_dir

    check_suite_output_dir(suite)
    with OutputStage(suite.output_dir) as stage:
        return _run_staged(suite, quiet=quiet, cache=cache, stage=stage)


def _run_staged(suite: Suite, *, quiet: bool, cache: StatisticsCache | None, stage) -> BenchResult:
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
        scores = _score_systems(suite, dataset.references, predictions, cache, manifest, quiet=quiet)
    if not scores.metrics:
        raise InputError(f"{suite.name}: no metric could be computed: "
                         + "; ".join(f"{k}: {v}" for k, v in scores.unavailable.items()))
    with manifest.stage("significance"):
        significance = _significance(suite, scores, system_names)
        ranking, rank_note = board_ranking(suite.rank_by, metrics=scores.metrics, statistics=scores.statistics,
                                           table=significance.table, pairs=significance.pairs,
                                           systems=system_names, case_ids=scores.case_ids,
                                           significance=suite.significance)
    failures = scores.failure_lines()
    ids = scores.case_ids
    board = Leaderboard(
        title=f"{suite.name} — {len(ids)} cases", table=significance.table.loc[:, list(COLUMNS)],
        systems=tuple(system_names), metrics=tuple(scores.metrics), baseline=suite.baseline,
        significance_signature=significance.signature, unavailable=scores.unavailable,
        literature=literature_for(suite.literature or ""),
        notes=tuple(dataset.notes) + tuple(filter(None, [small_sample_warning(len(ids))])),
        groups={n: m.group for n, m in scores.metrics.items()}, ranking=ranking, rank_note=rank_note,
        suite=suite.name, examples="examples",
        facts=_run_facts(suite, manifest, ids, scores.metrics, scores.statistics, system_names),
        comparisons=comparison_records(  # the suite's metrics (the descriptive diagnostics are no comparison)
            significance.listed[significance.listed["metric"].isin([m.name for m in suite.metrics])],
            {n: m.higher_is_better for n, m in scores.metrics.items()}),
        fidelity=fidelity_table(suite.systems),
    )
    per_sample = _per_sample(ids, system_names, scores.metrics, scores.statistics)
    examples = example_documents(board, per_sample, dataset.references, predictions, significance.pairs)
    out = stage.dir  # every output is staged, then swapped in as one set (radeval.bench.staging)
    with manifest.stage("outputs"):
        files = _write_outputs(out, board, significance, per_sample, failures, examples)
        if "label_head" in manifest.extra:  # the priors' held-out quality, per label
            atomic_write_text(out / "label_head.csv", frame_to_csv(pd.DataFrame(manifest.extra["label_head"]["per_label"])))
            files.append(out / "label_head.csv")
    if suite.reader_study is not None:
        with manifest.stage("reader_study"):
            from radeval.bench.reader import write_reader_packet

            stage.carry_over("reader_study")  # kept and superseded packets live on across runs
            files += write_reader_packet(suite, dataset, predictions, out)
    if suite.scaling is not None:
        with manifest.stage("scaling"):
            from radeval.bench.scaling import run_scaling

            files += run_scaling(suite, dataset, work, manifest, cache, out, quiet=quiet)
    manifest.extra.update({"description": suite.description, "n_cases": len(ids), "systems": system_names,
                           "baseline": suite.baseline, "significance": asdict(suite.significance),
                           "significance_signature": significance.signature, "unavailable_metrics": scores.unavailable,
                           "n_failures": len(failures), "excluded_cases": significance.excluded,
                           "degenerate_output": board_flags(board), "fidelity": board.fidelity,
                           "comparisons": list(board.comparisons)})
    files = stage.commit(manifest.to_json())
    return BenchResult(suite.output_dir, board, per_sample, scores.unavailable, failures, files)


def _run_facts(suite: Suite, manifest: Manifest, ids: list[str], metrics: dict[str, Metric],
               stats: dict[str, np.ndarray], system_names: list[str]) -> dict:
    """Numbers for the leaderboard's "what this run shows" section (:mod:`radeval.bench.run_facts`)."""
    from radeval.bench.run_facts import prior_contrast

    models = {s.name: str(s.model) for s in suite.systems if s.kind != "predictions"}
    facts: dict = {"n_cases": len(ids), "phantom": suite.dataset.kind == "phantom",
                   "prior_contrast": prior_contrast(models, stats, metrics, system_names,
                                                    resamples=suite.significance.resamples,
                                                    seed=suite.significance.seed,
                                                    confidence=suite.significance.confidence,
                                                    headline=suite.rank_by)}
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
