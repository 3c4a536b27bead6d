"""``radeval compare``: paired significance of several systems against a baseline (or all pairs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from radeval.cli.options import add_format_arguments, add_metric_arguments, metric_options, read_args_reports


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
    p.add_argument("--pvalue", choices=BOOTSTRAP_PVALUES + AR_PVALUES,
                   help="p-value convention (default sacrebleu-bs for bootstrap, ar-ge for ar)")
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
    from radeval.errors import InputError

    out: list[tuple[str, Path]] = []
    for item in items:
        name, sep, file = item.partition("=")
        if sep and ("/" in name or "\\" in name) and Path(item).is_file():
            sep = ""  # a path with '=' in a directory name (runs/lr=1e-4/preds.jsonl), not NAME=FILE
        if not sep:
            name, file = Path(item).stem, item
        if not name or not file:
            raise InputError(f"--hyps {item!r}: expected NAME=FILE")
        if any(name == seen for seen, _ in out):
            raise InputError(f"--hyps: system name {name!r} given twice")
        out.append((name, Path(file)))
    if len(out) < 2:
        raise InputError(f"--hyps: at least two systems are needed, got {len(out)}")
    return out


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval compare``."""
    import json

    from radeval.paths import atomic_write_text
    from radeval.stats.compare import compare

    systems = _system_files(args.hyps)
    refs = read_args_reports(args.refs, args, name="references", refs=True)
    hyps = {name: read_args_reports(path, args, name=name) for name, path in systems}
    result = compare(
        refs, hyps, metrics=args.metrics, metric_options=metric_options(args),
        cache=False if args.no_cache else (args.cache or True),
        baseline=args.baseline, mode=args.mode, test=args.test, resamples=args.resamples,
        ci_resamples=args.ci_resamples, seed=args.seed, ci=args.ci, confidence=args.confidence,
        correction=args.correction, alpha=args.alpha, pvalue=args.pvalue, progress=not args.quiet,
    )
    if args.out:
        table = result.table.assign(significance_signature=result.signature)
        atomic_write_text(args.out, table.to_csv(index=False))
    if args.out_json:
        payload = {
            "signature": result.signature, "baseline": result.baseline, "results": result.to_json_records(),
            "table": [{k: _plain(v) for k, v in row.items()} for row in result.table.to_dict("records")],
            "pairs": [{k: _plain(v) for k, v in row.items()} for row in result.pairs.to_dict("records")],
        }
        atomic_write_text(args.out_json, json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    if args.plot:
        result.forest_plot(args.plot)
    if args.json:
        print(json.dumps(result.to_json_records()))
        print(f"signature: {result.signature}", file=sys.stderr)
    else:
        print(result.format_table())
    _report_diagnostics(refs, hyps)
    return 0


def _report_diagnostics(refs, hyps) -> None:
    """Each system's degenerate-output diagnostics and a warning per threshold passed, on stderr (stdout keeps
    the table or JSON). Thresholds: :mod:`radeval.metrics.output_diagnostics`; ``radeval bench`` adds CIs."""
    from radeval.metrics.output_diagnostics import DIAGNOSTIC_METRICS, degenerate_flags, diagnostic_values
    from radeval.types import align

    values = {}
    for name, system in hyps.items():
        _ids, ref_list, hyp_list = align(refs, system, hyp_name=name)
        values[name] = diagnostic_values(ref_list, hyp_list)
    print("degenerate-output diagnostics:", file=sys.stderr)
    for name, vals in values.items():
        print(f"  {name}: " + ", ".join(f"{m} {vals[m]:.3f}" for m in DIAGNOSTIC_METRICS), file=sys.stderr)
    for name, reasons in degenerate_flags(values).items():
        for reason in reasons:
            print(f"warning: degenerate output: {name}: {reason}", file=sys.stderr)


def _plain(value: object) -> object:
    """JSON-safe scalar: NaN -> None, numpy scalars -> Python."""
    import math

    if hasattr(value, "item"):
        value = value.item()  # type: ignore[union-attr]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
