"""``radeval reader-study``: export a blinded packet, ingest ratings, analyse a study.

* ``export`` — ``--suite S.yaml`` or ``--refs R --hyps name=file ...``; writes the packet folder and
  the unblinding key (outside the packet).
* ``ingest KEY RATINGS...`` — validates the rating files, prints every problem, writes the usable
  ratings (``--out``). Exit code 1 when there is any problem (the data are written all the same). An
  earlier ``ratings.csv`` in ``--out`` holding scores the new ingest lacks is not replaced without ``--force``.
* ``analyze KEY RATINGS...`` — ingests, unblinds and writes the report (Markdown, HTML, PNG, CSV).
* ``verify KEY PACKET`` — checks every packet file against the SHA-256 recorded in the key.

The numbers, the merge of command-line and suite settings (:mod:`radeval_reader_study.export_settings`) and the
ingest outputs (:mod:`radeval_reader_study.ingest_output`) all come from the ``reader_study`` package; this module only
parses arguments and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

#: Defaults of ``analyze`` shown in ``--help`` (the export defaults live in :mod:`radeval_reader_study.export_settings`).
DEFAULT_SEED = 0
DEFAULT_RESAMPLES = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reader-study`` with its ``export``, ``ingest`` and ``analyze`` subcommands."""
    from radeval.cli.options import add_format_arguments
    from radeval_reader_study.export_settings import DEFAULT_N, DEFAULT_READERS
    from radeval_reader_study.export_settings import DEFAULT_SEED as DEFAULT_SAMPLE_SEED

    p = sub.add_parser("reader-study", help="blinded clinician reader studies",
                       description="Export a blinded rating packet, ingest the ratings, analyse the study.")
    rs = p.add_subparsers(dest="reader_study_command", metavar="STEP")

    e = rs.add_parser("export", help="write a blinded packet (HTML form, XLSX, REDCap) and its key")
    src = e.add_argument_group("inputs (a suite, or references plus systems)")
    src.add_argument("--suite", type=Path, help="suite YAML (reads references, systems, baseline, reader_study)")
    src.add_argument("--refs", type=Path, help="reference reports (JSONL/CSV/ReXrank JSON)")
    src.add_argument("--hyps", nargs="+", default=[], metavar="NAME=FILE", help="system predictions, one per system")
    add_format_arguments(e)
    e.add_argument("--n", type=int, help=f"cases to sample (default {DEFAULT_N})")
    e.add_argument("--readers", help=f"number of readers or comma-separated reader ids (default {DEFAULT_READERS})")
    e.add_argument("--seed", type=int, help=f"seed of the case sample (default {DEFAULT_SAMPLE_SEED})")
    e.add_argument("--blinding-seed", type=int, help="seed of ids and orders (default: secret, kept in the key)")
    e.add_argument("--stratify-by", nargs="+", metavar="FIELD", help="stratify the sample by these label fields")
    e.add_argument("--labels", type=Path, help="CSV with the stratification fields (default: fields of --refs)")
    e.add_argument("--labels-id-field", default="id", help="case id column of --labels (default: id)")
    e.add_argument("--rubric", type=Path, help="rubric YAML overriding the default criteria/scale")
    e.add_argument("--no-reference", action="store_true", help="do not show the reference report")
    e.add_argument("--formats", nargs="+", choices=["html", "xlsx", "redcap"], help="packet formats (default: all)")
    e.add_argument("--baseline", help="baseline system (default: the first)")
    e.add_argument("--out", type=Path, help="packet folder to create")
    e.add_argument("--key", type=Path, help="key file (default: <out>-key.json next to the packet folder)")
    e.add_argument("--force", action="store_true", help="replace an earlier packet in --out and its key file")
    e.set_defaults(handler=run_export)

    i = rs.add_parser("ingest", help="validate rating files against the key")
    i.add_argument("key", type=Path, help="the unblinding key written by export")
    i.add_argument("ratings", type=Path, nargs="*", help="HTML-form CSV/JSON, filled XLSX, REDCap export CSV")
    i.add_argument("--out", type=Path, help="write ratings.csv, comments.csv and problems.csv here")
    i.add_argument("--show", type=int, default=50, help="problems to print (default 50; all go to problems.csv)")
    i.add_argument("--force", action="store_true",
                   help="replace an earlier ratings.csv in --out even if it holds scores this ingest lacks")
    i.set_defaults(handler=run_ingest)

    v = rs.add_parser("verify", help="check a packet folder against the SHA-256 hashes in its key")
    v.add_argument("key", type=Path, help="the unblinding key written by export")
    v.add_argument("packet", type=Path, help="the packet folder")
    v.set_defaults(handler=run_verify)

    a = rs.add_parser("analyze", help="unblind and analyse: means, CIs, paired tests, agreement, report")
    a.add_argument("key", type=Path, help="the unblinding key written by export")
    a.add_argument("ratings", type=Path, nargs="+", help="rating files (any format ingest reads)")
    a.add_argument("--out", type=Path, required=True, help="report folder")
    a.add_argument("--baseline", help="baseline system (default: the key's)")
    a.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES, help="bootstrap resamples (default 10000)")
    a.add_argument("--seed", type=int, default=DEFAULT_SEED, help="bootstrap seed (default 0)")
    a.add_argument("--confidence", type=float, default=0.95, help="CI level (default 0.95)")
    a.add_argument("--pairs", nargs="+", metavar="SYSTEM:REFERENCE",
                   help="pairs to compare (default: every system vs the baseline, or the paper's with --paper-roles)")
    a.add_argument("--paper-roles", metavar="v3=NAME,v2=NAME,baseline=NAME",
                   help="which systems are the paper's V-3, V-2 and baseline: compares V-3 vs baseline and V-3 vs "
                        "V-2 and prints the paper's quoted percentages beside ours")
    a.add_argument("--title", default="Reader study", help="report title")
    a.set_defaults(handler=run_analyze)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def run_export(args: argparse.Namespace) -> int:
    """Handler of ``radeval reader-study export``."""
    from radeval.cli.options import read_args_reports
    from radeval.errors import InputError
    from radeval.io import read_cases
    from radeval_reader_study.export import export_packet
    from radeval_reader_study.export_settings import ExportOptions, resolve_export_settings, strata_from_labels
    from radeval_reader_study.rubric import load_rubric
    from radeval_reader_study.suite import is_benchmark_suite, load_yaml_mapping, read_suite_inputs

    suite_settings: dict[str, Any] = {}
    suite_baseline = None
    if args.suite:
        if args.refs or args.hyps:
            raise InputError("pass either --suite or --refs/--hyps, not both")
        if is_benchmark_suite(load_yaml_mapping(args.suite)):  # a `radeval bench` suite: reports from its stages
            from radeval.bench.reader import export_inputs

            inputs = export_inputs(args.suite)
        else:
            inputs = read_suite_inputs(args.suite)
        references: Any = inputs.references
        systems: dict[str, Any] = dict(inputs.systems)
        suite_settings, suite_baseline = inputs.settings, inputs.baseline
    else:
        if not args.refs or not args.hyps:
            raise InputError("pass --suite, or --refs and at least one --hyps NAME=FILE")
        text_field = args.ref_text_field or args.text_field
        references = read_cases(args.refs, format=args.format, id_field=args.id_field, text_field=text_field)
        systems = {}
        for spec in args.hyps:
            name, sep, file = spec.partition("=")
            if not sep or not name or not file:
                raise InputError(f"--hyps {spec!r}: expected NAME=FILE")
            if name in systems:
                raise InputError(f"--hyps: system {name!r} given twice")
            systems[name] = read_args_reports(Path(file), args, name=name)
    given = ExportOptions(out=args.out, key=args.key, n=args.n, readers=args.readers, seed=args.seed,
                          rubric=args.rubric, stratify_by=tuple(args.stratify_by) if args.stratify_by else None,
                          no_reference=args.no_reference, formats=tuple(args.formats) if args.formats else None,
                          baseline=args.baseline, blinding_seed=args.blinding_seed, overwrite=args.force)
    settings = resolve_export_settings(given, suite_settings, suite_baseline=suite_baseline)
    stratify: Any = settings.stratify_by
    if stratify and args.labels:
        stratify = strata_from_labels(args.labels, args.labels_id_field, list(stratify), [c.id for c in references])
    result = export_packet(
        references, systems, n=settings.n, readers=settings.readers, seed=settings.seed, out_dir=settings.out_dir,
        key_path=settings.key_path, rubric=load_rubric(settings.rubric_path), stratify_by=stratify,
        show_reference=settings.show_reference, formats=settings.formats, baseline=settings.baseline,
        blinding_seed=settings.blinding_seed, overwrite=settings.overwrite)
    print(f"packet  {result.packet_dir}  ({len(result.case_ids)} cases x {len(systems)} systems = "
          f"{result.n_items} reports per reader, readers: {', '.join(result.readers)})")
    print(f"key     {result.key_path}  (keep it away from readers)")
    print(f"sha256  {result.packet_sha256}")
    return 0


def _print_summary(result: Any, show: int) -> None:
    from radeval_reader_study.ingest_output import coverage_lines, problem_lines

    for line in coverage_lines(result):
        print(line)
    problems = problem_lines(result, show)
    if not problems:
        print("no problems found")
    for line in problems:
        print(line, file=sys.stderr)


def run_ingest(args: argparse.Namespace) -> int:
    """Handler of ``radeval reader-study ingest``."""
    from radeval_reader_study.ingest_output import write_ingest_tables
    from radeval_reader_study.ingestion import ingest

    result = ingest(args.key, args.ratings)
    _print_summary(result, args.show)
    if args.out:
        files = write_ingest_tables(args.out, result, overwrite=args.force)
        print(f"wrote {files.ratings} ({len(result.ratings)} scores), comments.csv, problems.csv")
    return 1 if result.problems else 0


def run_verify(args: argparse.Namespace) -> int:
    """Handler of ``radeval reader-study verify``: exit 1 when a packet file is missing or changed."""
    from radeval_reader_study.export import verify_packet
    from radeval_reader_study.key import read_key

    key = read_key(args.key)
    problems = verify_packet(args.packet, key)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"packet {args.packet} matches its key ({len(key.files)} files, sha256 {key.packet_sha256})")
    return 1 if problems else 0


def run_analyze(args: argparse.Namespace) -> int:
    """Handler of ``radeval reader-study analyze``."""
    from radeval_reader_study.analysis import analyze
    from radeval_reader_study.ingestion import ingest
    from radeval_reader_study.report import to_markdown, write_report

    result = ingest(args.key, args.ratings)
    _print_summary(result, 20)
    from radeval_reader_study.analysis_options import parse_pairs, parse_paper_roles

    pairs = parse_pairs(args.pairs) if args.pairs else None
    roles = parse_paper_roles(args.paper_roles) if args.paper_roles else None
    analysis = analyze(result, baseline=args.baseline, resamples=args.resamples, seed=args.seed,
                       confidence=args.confidence, pairs=pairs, paper_roles=roles)
    files = write_report(analysis, args.out, title=args.title)
    print(to_markdown(analysis, title=args.title))
    print(f"wrote {files.markdown}, {files.html}, {files.plot}")
    if result.errors:  # the report is written, but a study whose ratings failed validation is not a pass
        print(f"error: {len(result.errors)} validation error(s) in the ratings (see above)", file=sys.stderr)
    return 1 if result.errors else 0
