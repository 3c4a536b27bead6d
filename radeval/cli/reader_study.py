"""``radeval reader-study``: export a blinded packet, ingest ratings, analyse a study.

* ``export`` — ``--suite S.yaml`` or ``--refs R --hyps name=file ...``; writes the packet folder and
  the unblinding key (outside the packet).
* ``ingest KEY RATINGS...`` — validates the rating files, prints every problem, writes the usable
  ratings (``--out``). Exit code 1 when there is any problem (the data are written all the same). An
  earlier ``ratings.csv`` in ``--out`` holding scores the new ingest lacks is not replaced without ``--force``.
* ``analyze KEY RATINGS...`` — ingests, unblinds and writes the report (Markdown, HTML, PNG, CSV).
* ``verify KEY PACKET`` — checks every packet file against the SHA-256 recorded in the key.

The numbers all come from the ``reader_study`` package; this module only parses arguments and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

#: Defaults shown in ``--help`` (the paper's protocol).
DEFAULT_N = 100
DEFAULT_READERS = "2"
DEFAULT_SEED = 0
DEFAULT_RESAMPLES = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reader-study`` with its ``export``, ``ingest`` and ``analyze`` subcommands."""
    from radeval.cli.options import add_format_arguments

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
    e.add_argument("--seed", type=int, help=f"seed of the case sample (default {DEFAULT_SEED})")
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


def _readers(value: Any) -> int | list[str]:
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    return [r.strip() for r in text.split(",") if r.strip()]


def _strata_from_labels(path: Path, id_field: str, fields: list[str], ids: list[str]) -> dict[str, str]:
    import pandas as pd

    from radeval.errors import InputError

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read labels ({exc})") from None
    for col in [id_field, *fields]:
        if col not in table.columns:
            raise InputError(f"{path}: no column {col!r} (columns: {', '.join(table.columns)})")
    dup = table[id_field][table[id_field].duplicated()].tolist()
    if dup:
        raise InputError(f"{path}: duplicate case id(s) {dup[:5]}")
    rows = table.set_index(id_field)
    missing = [i for i in ids if i not in rows.index]
    if missing:
        raise InputError(f"{path}: {len(missing)} reference case(s) have no labels, e.g. {missing[:5]}")
    return {i: "; ".join(f"{f}={rows.at[i, f]}" for f in fields) for i in ids}


def run_export(args: argparse.Namespace) -> int:
    """Handler of ``radeval reader-study export``."""
    from radeval.cli.options import read_args_reports
    from radeval.errors import InputError
    from radeval.io import read_cases
    from reader_study.export import export_packet
    from reader_study.rubric import load_rubric
    from reader_study.suite import read_suite_inputs

    settings: dict[str, Any] = {}
    baseline = args.baseline
    if args.suite:
        if args.refs or args.hyps:
            raise InputError("pass either --suite or --refs/--hyps, not both")
        inputs = read_suite_inputs(args.suite)
        references: Any = inputs.references
        systems: dict[str, Any] = dict(inputs.systems)
        settings = inputs.settings
        baseline = baseline or inputs.baseline
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
    out = args.out or settings.get("out")
    if out is None:
        raise InputError("--out (the packet folder) is required")
    out = Path(out)
    key = args.key or settings.get("key") or out.parent / f"{out.name}-key.json"
    stratify = args.stratify_by or settings.get("stratify_by")
    stratify_arg: Any = stratify
    if stratify and args.labels:
        stratify_arg = _strata_from_labels(args.labels, args.labels_id_field, list(stratify),
                                           [c.id for c in references])
    readers = _readers(args.readers if args.readers is not None else settings.get("readers", DEFAULT_READERS))
    result = export_packet(
        references, systems,
        n=args.n if args.n is not None else int(settings.get("n", DEFAULT_N)),
        readers=readers,
        seed=args.seed if args.seed is not None else int(settings.get("seed", DEFAULT_SEED)),
        out_dir=out, key_path=Path(key),
        rubric=load_rubric(args.rubric or settings.get("rubric")),
        stratify_by=stratify_arg,
        show_reference=False if args.no_reference else bool(settings.get("show_reference", True)),
        formats=tuple(args.formats or settings.get("formats") or ("html", "xlsx", "redcap")),
        baseline=baseline, blinding_seed=args.blinding_seed, overwrite=args.force)
    print(f"packet  {result.packet_dir}  ({len(result.case_ids)} cases x {len(systems)} systems = "
          f"{result.n_items} reports per reader, readers: {', '.join(result.readers)})")
    print(f"key     {result.key_path}  (keep it away from readers)")
    print(f"sha256  {result.packet_sha256}")
    return 0


def _print_problems(result: Any, show: int) -> None:
    from collections import Counter

    counts = Counter((p.severity, p.kind) for p in result.problems)
    if not counts:
        print("no problems found")
        return
    print(f"{len(result.problems)} problem(s): " + ", ".join(f"{n} {k} ({s})" for (s, k), n in sorted(counts.items())),
          file=sys.stderr)
    for p in result.problems[:show]:
        print(f"  {p}", file=sys.stderr)
    if len(result.problems) > show:
        print(f"  ... {len(result.problems) - show} more (all are in problems.csv with --out)", file=sys.stderr)


def _print_coverage(result: Any) -> None:
    for r in result.coverage().itertuples():
        print(f"reader {r.reader}: {r.rated}/{r.expected} scores ({100 * r.fraction:.1f}%)")


def _check_not_losing_scores(path: Path, result: Any) -> None:
    """Refuse to replace an earlier ``ratings.csv`` that holds scores the new ingest does not have."""
    import pandas as pd

    from radeval.errors import InputError

    if not path.exists():
        return
    try:
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: exists and cannot be read ({exc}); pass --force to replace it") from None
    cols = ["item_id", "reader", "criterion"]
    if not set(cols) <= set(old.columns):
        raise InputError(f"{path}: exists and is not a ratings table; pass --force to replace it")
    new = set(zip(*(result.ratings[c].astype(str) for c in cols), strict=True))
    lost = sorted({t for t in zip(*(old[c] for c in cols), strict=True)} - new)
    if lost:
        readers = sorted({r for _, r, _ in lost})
        raise InputError(f"{path}: holds {len(lost)} score(s) (reader(s) {', '.join(readers)}) that this ingest "
                         "does not have; pass that ratings.csv as an input too, choose another --out, or pass "
                         "--force to replace it")


def run_ingest(args: argparse.Namespace) -> int:
    """Handler of ``radeval reader-study ingest``."""
    from radeval.paths import atomic_write_text
    from reader_study.ingestion import ingest

    result = ingest(args.key, args.ratings)
    _print_coverage(result)
    _print_problems(result, args.show)
    if args.out:
        if not args.force:
            _check_not_losing_scores(args.out / "ratings.csv", result)
        table = result.ratings.assign(packet_sha256=result.key.packet_sha256)
        atomic_write_text(args.out / "ratings.csv", table.to_csv(index=False))
        atomic_write_text(args.out / "comments.csv", result.comments.to_csv(index=False))
        atomic_write_text(args.out / "problems.csv", result.problems_frame().to_csv(index=False))
        print(f"wrote {args.out / 'ratings.csv'} ({len(result.ratings)} scores), comments.csv, problems.csv")
    return 1 if result.problems else 0


def run_verify(args: argparse.Namespace) -> int:
    """Handler of ``radeval reader-study verify``: exit 1 when a packet file is missing or changed."""
    from reader_study.export import verify_packet
    from reader_study.key import read_key

    key = read_key(args.key)
    problems = verify_packet(args.packet, key)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"packet {args.packet} matches its key ({len(key.files)} files, sha256 {key.packet_sha256})")
    return 1 if problems else 0


def run_analyze(args: argparse.Namespace) -> int:
    """Handler of ``radeval reader-study analyze``."""
    from reader_study.analysis import analyze
    from reader_study.ingestion import ingest
    from reader_study.report import to_markdown, write_report

    result = ingest(args.key, args.ratings)
    _print_coverage(result)
    _print_problems(result, 20)
    from radeval.errors import InputError

    pairs = None
    if args.pairs:
        pairs = []
        for item in args.pairs:
            system, sep, reference = item.partition(":")
            if not sep or not system or not reference:
                raise InputError(f"--pairs {item!r}: expected SYSTEM:REFERENCE")
            pairs.append((system, reference))
    roles = None
    if args.paper_roles:
        roles = {}
        for item in args.paper_roles.split(","):
            role, sep, name = item.partition("=")
            if not sep or role.strip() not in {"v3", "v2", "baseline"} or not name.strip():
                raise InputError(f"--paper-roles {item!r}: expected v3=NAME, v2=NAME or baseline=NAME")
            roles[role.strip()] = name.strip()
    analysis = analyze(result, baseline=args.baseline, resamples=args.resamples, seed=args.seed,
                       confidence=args.confidence, pairs=pairs, paper_roles=roles)
    files = write_report(analysis, args.out, title=args.title)
    print(to_markdown(analysis, title=args.title))
    print(f"wrote {files.markdown}, {files.html}, {files.plot}")
    return 0
