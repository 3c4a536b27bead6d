"""``radeval score``: corpus and per-sample scores of one system against references."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from radeval.cli.options import (
    add_format_arguments,
    add_metric_arguments,
    metric_options,
    read_args_reports,
)
from radeval.number_format import fixed


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``score`` subcommand."""
    p = sub.add_parser("score", help="score hypotheses against references",
                       description="Corpus scores (with signatures) and per-sample scores of one system.")
    p.add_argument("--refs", type=Path, help="references file (JSONL id/text by default)")
    p.add_argument("--hyps", type=Path, help="hypotheses file")
    add_metric_arguments(p)
    add_format_arguments(p)
    p.add_argument("--out", type=Path, help="write per-sample scores here (CSV)")
    p.add_argument("--json", action="store_true", help="print {metric: corpus score} as JSON")
    p.add_argument("--cache", type=Path, help="per-sample cache file (default: $RADEVAL_HOME/cache.sqlite)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the per-sample cache")
    p.add_argument("--list", action="store_true", help="list the available metric names and exit")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval score``."""
    from radeval.csv_safe import frame_to_csv
    from radeval.errors import InputError
    from radeval.metrics import available_metrics
    from radeval.metrics.scoring import score
    from radeval.output_paths import check_outputs
    from radeval.paths import atomic_write_text

    if args.list:
        print("\n".join(available_metrics()))
        return 0
    if args.refs is None or args.hyps is None:
        raise InputError("--refs and --hyps are required")
    check_outputs({"--out": args.out}, inputs=[args.refs, args.hyps, args.cache, args.metric_config])
    refs = read_args_reports(args.refs, args, name="references", refs=True)
    hyps = read_args_reports(args.hyps, args, name=args.hyps.stem)
    result = score(refs, hyps, metrics=args.metrics, metric_options=metric_options(args),
                   cache=False if args.no_cache else (args.cache or True))
    if args.out:
        atomic_write_text(args.out, frame_to_csv(result.per_sample, index=True))
    if result.empty_references:
        from radeval.metrics.scoring import empty_reference_warning

        print(empty_reference_warning(result.empty_references), file=sys.stderr)
    for failure in result.failures:
        print(f"warning: {failure.metric}: case {failure.case_id!r}: {failure.reason}", file=sys.stderr)
    if args.json:
        # NaN (a metric that scored no sample) is not JSON: print null
        print(json.dumps({k: (None if v != v else v) for k, v in result.as_dict().items()}))
    else:
        width = max(len(m) for m in result.corpus["metric"]) if len(result.corpus) else 6
        for row in result.corpus.itertuples():
            print(f"{row.metric:<{width}}  {fixed(row.score, 6, missing='nan'):>10}  {row.signature}")
    _report_diagnostics(refs, hyps, system=args.hyps.stem, table=not args.json)
    return 1 if result.failures else 0


def _report_diagnostics(refs, hyps, *, system: str, table: bool) -> None:
    """Degenerate-output diagnostics of the scored system: a table block (text mode) and a warning per
    threshold passed (stderr, every mode). Thresholds: :mod:`radeval.metrics.output_diagnostics`."""
    from radeval.metrics.output_diagnostics import DIAGNOSTIC_METRICS, degenerate_flags
    from radeval.metrics.scoring import score

    diag = score(refs, hyps, metrics=list(DIAGNOSTIC_METRICS), cache=False)
    if table:  # same line format as the metrics above: name, value, signature
        for row in diag.corpus.itertuples():
            print(f"{row.metric:<14}  {fixed(row.score, 6, missing='nan'):>10}  {row.signature}")
    for reason in degenerate_flags({system: diag.as_dict()}).get(system, []):
        print(f"warning: degenerate output: {reason}", file=sys.stderr)
