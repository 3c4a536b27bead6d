"""``radeval compare``: paired significance of several systems against a baseline (or all pairs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from radeval.cli.options import add_format_arguments, add_metric_arguments, metric_options, read_args_reports
from radeval.stats.pair_names import parse_pairs


def _seed(value: str) -> int | None:
    if value.lower() == "none":
        return None
    try:
        seed = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer or 'none', got {value!r}") from None
    if seed < 0:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer or 'none', got {value!r}")
    return seed


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand."""
    from radeval.stats.correction import CORRECTIONS
    from radeval.stats.intervals import CI_METHODS
    from radeval.stats.pvalues import AR_PVALUES, BOOTSTRAP_PVALUES
    from radeval.stats.signature import DEFAULT_SEED, MODES, TESTS

    p = sub.add_parser(
        "compare", help="paired significance tests between systems",
        description="Score every system against the references, then run a paired bootstrap (or approximate "
                    "randomization) on one shared resample matrix: score, CI, delta vs the baseline, its CI, "
                    "p and multiple-comparison-corrected p, with a significance signature.")
    p.add_argument("--refs", type=Path, required=True, help="references file (JSONL id/text by default)")
    p.add_argument("--hyps", nargs="+", required=True, metavar="NAME=FILE",
                   help="system outputs as NAME=FILE (or FILE, named after its stem); at least two")
    p.add_argument("--baseline", help="name of the baseline system (default: the first of --hyps)")
    add_metric_arguments(p)
    add_format_arguments(p)
    p.add_argument("--test", choices=TESTS, default="bootstrap",
                   help="paired bootstrap (default) or approximate randomization ('ar')")
    p.add_argument("--resamples", type=int,
                   help="bootstrap resamples (default 5000) or randomization trials (default 10000); >= 100")
    p.add_argument("--ci-resamples", type=int,
                   help="with --test ar: bootstrap resamples behind the intervals (default 5000; 0 = none)")
    p.add_argument("--seed", type=_seed, default=DEFAULT_SEED,
                   help=f"generator seed (default {DEFAULT_SEED}); 'none' for OS entropy")
    p.add_argument("--ci", choices=CI_METHODS, default="percentile", help="interval method (default percentile)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--correction", choices=CORRECTIONS, default="holm",
                   help="multiple-comparison correction across systems x metrics (default holm)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the mark (default 0.05)")
    p.add_argument("--mode", choices=MODES, default="baseline", help="baseline (default) or all-pairs")
    p.add_argument("--pairs", nargs="+", default=[], metavar="SYSTEM:REFERENCE",
                   help="extra pairs to test (delta = SYSTEM - REFERENCE), corrected with the mode's tests; "
                        "printed with uncorrected and corrected p")
    p.add_argument("--pvalue", choices=BOOTSTRAP_PVALUES + AR_PVALUES,
                   help="p-value convention (default sacrebleu-bs for bootstrap, ar-ge for ar)")
    p.add_argument("--rank-by", metavar="METRIC",
                   help="rank the systems by this metric with rank groups from the paired tests (see README)")
    p.add_argument("--out", type=Path, help="write the table as CSV")
    p.add_argument("--out-json", type=Path, help="write signature, table and pairs as JSON")
    p.add_argument("--json", action="store_true",
                   help="print the results as a JSON list (the signature goes to stderr)")
    p.add_argument("--plot", type=Path, metavar="PNG", help="write a forest plot of the paired deltas")
    p.add_argument("--cache", type=Path, help="per-sample cache file (default: $RADEVAL_HOME/cache.sqlite)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the per-sample cache")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def _system_files(items: list[str]) -> list[tuple[str, Path]]:
    from radeval.system_files import parse_system_files

    return parse_system_files(items, minimum=2)


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval compare``."""
    import json

    from radeval.output_paths import check_outputs
    from radeval.stats.compare import compare
    from radeval.leaderboard.comparison_files import write_comparison

    systems = _system_files(args.hyps)
    check_outputs({"--out": args.out, "--out-json": args.out_json, "--plot": args.plot},
                  inputs=[args.refs, *(path for _, path in systems), args.cache, args.metric_config])
    refs = read_args_reports(args.refs, args, name="references", refs=True)
    hyps = {name: read_args_reports(path, args, name=name) for name, path in systems}
    result = compare(
        refs, hyps, metrics=args.metrics, metric_options=metric_options(args),
        cache=False if args.no_cache else (args.cache or True),
        baseline=args.baseline, mode=args.mode, test=args.test, resamples=args.resamples,
        ci_resamples=args.ci_resamples, seed=args.seed, ci=args.ci, confidence=args.confidence,
        correction=args.correction, alpha=args.alpha, pvalue=args.pvalue, progress=not args.quiet,
        comparisons=parse_pairs(args.pairs),
    )
    ranking = None
    if args.rank_by:
        from radeval.stats.ranking import rank_comparison

        ranking = rank_comparison(result, args.rank_by, refs=refs, systems=hyps, metric_options=metric_options(args),
                                  cache=False if args.no_cache else (args.cache or True))
    write_comparison(result, csv=args.out, json_path=args.out_json, plot=args.plot, ranking=ranking)
    from radeval.metrics.scoring import empty_reference_ids, empty_reference_warning
    from radeval.stats.sample_size import small_sample_warning

    warning = small_sample_warning(len(refs))
    empty = empty_reference_ids(refs)
    if empty:
        print(empty_reference_warning(empty), file=sys.stderr)
    if warning:  # loudly: on stderr and in the printed table
        print(warning, file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json_records()))
        print(f"signature: {result.signature}", file=sys.stderr)
        if ranking is not None:
            print(ranking.format(), file=sys.stderr)
    else:
        print(result.format_table() + (f"\n{warning}" if warning else ""))
        if ranking is not None:
            print(ranking.format())
    for metric, cases in result.excluded.items():  # the failed-case policy: left out for every system, reported
        print(f"warning: {metric}: {len(cases)} case(s) left out (a system could not score them): "
              f"{', '.join(map(repr, cases[:10]))}{' ...' if len(cases) > 10 else ''}", file=sys.stderr)
    from radeval.metrics.output_diagnostics import diagnostic_report_lines

    for line in diagnostic_report_lines(refs, hyps):  # stderr: stdout keeps the table or JSON
        print(line, file=sys.stderr)
    return 1 if result.excluded else 0

