"""``radeval label``: label reports with the 18 (or 21) abnormality labels, in CT-RATE's CSV layout.

Examples::

    radeval label --reports hyps.jsonl --out labels.csv                 # rule-based, offline
    radeval label --reports hyps.jsonl --out labels.csv --ground-truth valid_predicted_labels.csv
    radeval label --reports valid.csv --id-field VolumeName --text-field Findings_EN \\
        --labeler transformer --model IAMJB/RadBERT-CT --ground-truth valid_predicted_labels.csv \\
        --fit-thresholds thresholds.json                                 # per-label thresholds
    radeval label --reports hyps.jsonl --refs refs.jsonl                # P/R/F1 of hyp labels vs ref labels
    radeval label --rules                                                # print the lexicon rules
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from radeval.cli.options import add_format_arguments

_UNCERTAIN_MODES = ("positive", "negative", "ignore")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``label`` subcommand."""
    p = sub.add_parser(
        "label", help="extract abnormality labels from reports (CT-RATE labels-CSV layout)",
        description="Label each report with the CT-RATE (18) or INSPECT (21) abnormality labels and write "
                    "VolumeName + one 0/1 column per label. Optionally score the decisions against a "
                    "ground-truth labels CSV, or fit per-label thresholds on a validation split.",
    )
    p.add_argument("--reports", type=Path, help="reports file (JSONL id/text by default; CSV; ReXrank JSON)")
    p.add_argument("--out", type=Path, help="labels CSV to write")
    add_format_arguments(p)
    p.add_argument("--labeler", choices=["rules", "transformer"], default="rules",
                   help="back-end (default: rules, offline)")
    p.add_argument("--labels", default="ct-rate",
                   help="label set: ct-rate (18), inspect (21), or comma-separated label names")
    p.add_argument("--uncertain", choices=_UNCERTAIN_MODES, default=None,
                   help="rules: uncertain findings count as positive (default), negative, or are ignored "
                        "(written as -1)")
    p.add_argument("--model", help="transformer: hub id (resolved offline) or local checkpoint folder")
    p.add_argument("--threshold", help="transformer: decision threshold (default 0.5) or a thresholds JSON")
    p.add_argument("--batch-size", type=int, help="transformer: reports per batch (default 16)")
    p.add_argument("--base-model",
                   help="transformer with a state-dict .pth checkpoint: encoder config/tokenizer (hub id or folder)")
    p.add_argument("--ground-truth", type=Path, metavar="LABELS_CSV",
                   help="score the decisions against this labels CSV (matched by id) and print P/R/F1")
    p.add_argument("--refs", type=Path, metavar="REPORTS",
                   help="reference reports: label them too and print P/R/F1 of --reports against them (by id)")
    p.add_argument("--fit-thresholds", type=Path, metavar="JSON",
                   help="transformer: fit per-label thresholds on these (validation) reports against "
                        "--ground-truth and write them here")
    p.add_argument("--zero-division", type=float, default=0.0, choices=[0.0, 1.0],
                   help="F1 of a label with no positives on either side (default 0)")
    p.add_argument("--explain", action="store_true",
                   help="rules: print every label mention found (id, label, status, words) to stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--rules", action="store_true", help="print the rule-based labeler's lexicon rules and exit")
    p.set_defaults(handler=run)


def _labeler_options(args: argparse.Namespace) -> dict[str, object]:
    from radeval.errors import InputError

    labels: object = args.labels
    if "," in args.labels or args.labels.lower() not in {"ct-rate", "inspect"}:
        labels = [name.strip() for name in args.labels.split(",") if name.strip()]
    options: dict[str, object] = {"labels": labels}
    transformer_only = {"model": args.model, "threshold": args.threshold, "batch_size": args.batch_size,
                        "base_model": args.base_model}
    if args.labeler == "rules":
        given = [f"--{k.replace('_', '-')}" for k, v in transformer_only.items() if v is not None]
        if given:
            raise InputError(f"{', '.join(given)} apply to --labeler transformer only")
        if args.fit_thresholds:
            raise InputError("--fit-thresholds needs --labeler transformer (rule decisions have no scores)")
        options["uncertain"] = args.uncertain or "positive"
        options["progress"] = not args.quiet
        return options
    if args.uncertain is not None:
        raise InputError("--uncertain applies to --labeler rules only")
    if args.explain:
        raise InputError("--explain applies to --labeler rules only")
    options["progress"] = not args.quiet
    for key, value in transformer_only.items():
        if value is None:
            continue
        if key == "threshold":
            try:
                value = float(value)
            except ValueError:
                value = Path(str(value))
        options[key] = value
    return options


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval label``."""
    from radeval.cli.options import read_args_reports
    from radeval.errors import InputError
    from radeval.labeling.label_csv import read_label_csv, write_label_csv
    from radeval.labeling.lexicon import describe
    from radeval.labeling.specs import labeler_spec_from_options

    if args.rules:
        print(describe())
        return 0
    if args.reports is None:
        raise InputError("--reports is required")
    if args.out is None and args.ground_truth is None and args.fit_thresholds is None and args.refs is None:
        raise InputError("nothing to do: give --out, --refs, --ground-truth or --fit-thresholds")
    if args.refs is not None and args.ground_truth is not None:
        raise InputError("give either --refs (labels extracted from reference reports) or --ground-truth, not both")
    if args.fit_thresholds is not None and args.ground_truth is None:
        raise InputError("--fit-thresholds needs --ground-truth (the validation labels)")
    from radeval.output_paths import check_outputs

    check_outputs({"--out": args.out, "--fit-thresholds": args.fit_thresholds},
                  inputs=[args.reports, args.refs, args.ground_truth, getattr(args, "model", None)])
    labeler = labeler_spec_from_options({"labeler": args.labeler, **_labeler_options(args)},
                                        where="radeval label").build()
    reports = read_args_reports(args.reports, args, name=args.reports.stem)
    truth = read_label_csv(args.ground_truth, labels=labeler.labels) if args.ground_truth else None

    if args.fit_thresholds is not None:
        from radeval.labeling.thresholds import fit_thresholds_on_reports

        fitted = fit_thresholds_on_reports(labeler, reports, truth, source=str(args.ground_truth))
        fitted.save(args.fit_thresholds)
        print(f"wrote per-label thresholds ({fitted.tag}) to {args.fit_thresholds}", file=sys.stderr)

    table = labeler.label(reports)
    if table.empty_ids:
        shown = ", ".join(repr(i) for i in table.empty_ids[:10])
        more = f" (+{len(table.empty_ids) - 10} more)" if len(table.empty_ids) > 10 else ""
        print(f"note: {len(table.empty_ids)} empty report(s) labelled all-negative: {shown}{more}", file=sys.stderr)
    if args.explain:
        for rid, text in reports.items():
            for m in labeler.annotate(text):  # type: ignore[attr-defined]
                print(f"{rid}\t{m.label}\t{m.status}\t{m.text}")
    if args.out is not None:
        write_label_csv(args.out, table)
        print(f"labelled {len(table.ids)} report(s) with {table.signature} -> {args.out}", file=sys.stderr)
    if args.refs is not None:
        truth = labeler.label(read_args_reports(args.refs, args, name="references", refs=True))
    if truth is not None:
        from radeval.metrics.label_f1 import compare_label_tables

        print(compare_label_tables(truth, table, zero_division=args.zero_division).to_text())
    return 0
