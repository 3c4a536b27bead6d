"""``radeval bench SUITE``: run a benchmark suite (train/generate where needed, score, test, report)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand."""
    p = sub.add_parser("bench", help="run a benchmark suite (YAML) end to end",
                       description="Score every system of a suite, run the paired significance test, and write "
                                   "leaderboard.{md,csv,html}, significance.md, per_sample.csv, plots and a manifest.")
    p.add_argument("suite", type=Path, help="suite YAML (e.g. benchmarks/demo.yaml)")
    p.add_argument("--out", type=Path, help="output directory (default: the suite's output_dir)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--validate", action="store_true",
                   help="only validate the suite and exit (inputs absent on this machine are listed, not errors)")
    p.add_argument("--cache", type=Path, help="per-sample cache file (default: $RADEVAL_HOME/cache.sqlite)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval bench``."""
    from radeval.bench.runner import result_summary, run_suite
    from radeval.bench.suite import load_suite
    from radeval.cache import StatisticsCache

    from radeval.bench.staging import check_suite_output_dir

    from radeval.errors import InputError

    absent: list[str] = []
    try:
        suite = load_suite(args.suite, output_dir=args.out)
    except InputError as exc:
        if not args.validate:
            raise
        # a suite for data this machine does not hold (CT-RATE, INSPECT) is still a valid suite: with the file
        # checks off it must load cleanly, and then every problem above was an input that is not here
        suite = load_suite(args.suite, output_dir=args.out, check_files=False)
        absent = [line.strip()[2:] for line in str(exc).splitlines()[1:] if line.strip().startswith("- ")]
    check_suite_output_dir(suite)  # an output_dir that is a file or would replace an input fails --validate too
    if args.validate:
        print(f"{args.suite}: valid ({len(suite.systems)} systems, {len(suite.metrics)} metrics)")
        if absent:
            print(f"  {len(absent)} input(s) not found on this machine (needed to run, not to validate):")
            print("\n".join(f"  - {line}" for line in absent))
        return 0
    result = run_suite(suite, quiet=args.quiet, cache=StatisticsCache(args.cache) if args.cache else None)
    print((suite.output_dir / "leaderboard.md").read_text(encoding="utf-8"))
    print(result_summary(result))
    return 1 if result.failures else 0
