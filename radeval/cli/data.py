"""``radeval data``: make the phantom CT-RATE dataset and summarise a CT-RATE-layout folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``data`` subcommand with its ``phantom`` and ``info`` actions."""
    p = sub.add_parser("data", help="CT datasets: make the phantom, summarise a CT-RATE folder",
                       description="Dataset tools for CT-RATE-layout folders.")
    actions = p.add_subparsers(dest="data_action", metavar="ACTION")

    ph = actions.add_parser("phantom", help="write a synthetic CT-RATE-format dataset",
                            description="Small synthetic chest CTs (HU) with rendered findings and CT-RATE-style "
                                        "reports, in CT-RATE's folder and CSV layout.")
    ph.add_argument("--out", type=Path, required=True, help="output folder (the dataset goes to OUT/dataset)")
    ph.add_argument("--n", type=int, default=64, help="number of volumes (default 64)")
    ph.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ph.add_argument("--shape", type=int, nargs=3, metavar=("X", "Y", "Z"),
                    help="volume grid (default: radeval.data.phantom.DEFAULT_SHAPE, 64 64 48)")
    ph.add_argument("--valid-fraction", type=float, default=0.25, help="share of patients in validation")
    ph.add_argument("--prevalence", type=float, default=0.3, help="probability of each label (default 0.3)")
    ph.add_argument("--labels", choices=("ct-rate", "inspect"), default="ct-rate",
                    help="label columns: ct-rate (18) or inspect (the RAD3D-Prefix paper's 21, CTPA impressions)")
    ph.add_argument("--quiet", action="store_true", help="no progress bar")
    ph.set_defaults(handler=run_phantom)

    sp = actions.add_parser("inspect-split", help="build the paper's INSPECT train/test split (stratified, seeded)",
                            description="Split an INSPECT folder into 17,730/3,506-proportioned train/test parts, "
                                        "stratified on the RAD3D-Prefix paper's 21 labels, write case_id,split to "
                                        "--out (a suite reads it as dataset.split_file) and print per-label counts "
                                        "beside the paper's Table 6.")
    sp.add_argument("root", type=Path, help="INSPECT folder: the release (Final_Impressions.csv) or CT-RATE layout")
    sp.add_argument("--seed", type=int, required=True, help="the split's random seed")
    sp.add_argument("--out", type=Path, required=True, help="split file to write (CSV case_id,split)")
    sp.add_argument("--labels-csv", type=Path, help="the 21 labels per case (default: the folder's labels CSVs; "
                                                    "without any, the reports are labelled by the rule-based labeler)")
    sp.set_defaults(handler=run_inspect_split)

    info = actions.add_parser("info", help="count cases, labels and volume files of a CT-RATE folder")
    info.add_argument("root", type=Path, help="CT-RATE folder (or the folder holding dataset/)")
    info.set_defaults(handler=run_info)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def run_phantom(args: argparse.Namespace) -> int:
    """Handler of ``radeval data phantom``."""
    from radeval.data.phantom import DEFAULT_SHAPE, make_phantom_dataset

    shape = tuple(args.shape) if args.shape else DEFAULT_SHAPE
    root = make_phantom_dataset(args.out, n=args.n, seed=args.seed, shape=shape,
                                valid_fraction=args.valid_fraction, prevalence=args.prevalence,
                                progress=not args.quiet, labels=args.labels)
    print(f"wrote {args.n} phantom volumes to {root}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Handler of ``radeval data info``."""
    from radeval.data.ctrate import CTRateDataset

    ds = CTRateDataset(args.root)
    print(f"CT-RATE folder {ds.root}")
    for split in ds.splits:
        cases = ds.cases(split)
        with_volume = sum(c.metadata["volume_path"] is not None for c in cases)
        with_labels = [c for c in cases if c.metadata["labels"] is not None]
        print(f"  {split}: {len(cases)} cases, {with_volume} volume files, {len(with_labels)} label rows, "
              f"{len({c.metadata['patient_id'] for c in cases})} patients")
        if with_labels:
            labels = ds.labels(split)
            top = labels.mean().sort_values(ascending=False)
            print("    prevalence: " + ", ".join(f"{k} {v:.2f}" for k, v in top.items()))
    return 0


def run_inspect_split(args: argparse.Namespace) -> int:
    """Handler of ``radeval data inspect-split``."""
    import sys

    from radeval.data.inspect_ct import build_inspect_split, read_inspect_layout, split_label_counts
    from radeval.data.split_file import write_split_file
    from radeval.errors import InputError

    inputs = [p.resolve() for p in args.root.rglob("*.csv")] if args.root.is_dir() else []
    if args.labels_csv is not None:
        inputs.append(args.labels_csv.resolve())
    if args.out.resolve() in inputs:
        raise InputError(f"{args.out}: the split file would overwrite an input; choose another --out")
    reports, labels = read_inspect_layout(args.root, labels=args.labels_csv)
    source = "the folder's labels"
    if labels is None:
        from radeval.labeling.rule_based import RuleBasedLabeler

        labeler = RuleBasedLabeler(labels="inspect")
        table = labeler.label(reports.to_dict())
        labels = table.to_frame().set_index("VolumeName").clip(lower=0)
        source = f"labelled from the reports ({labeler.signature})"
    assignment = build_inspect_split(labels, seed=args.seed)
    write_split_file(args.out, assignment)
    counts = split_label_counts(labels, assignment)
    print(f"INSPECT split of {len(assignment)} cases, seed {args.seed}, stratified on 21 labels ({source}) "
          f"-> {args.out.name}")
    print("Per-label counts beside the RAD3D-Prefix paper's Table 6 (train/test):")
    print(counts.to_string())
    if len(assignment) < 100:
        print("note: a small folder; the paper's split has 21,236 scans", file=sys.stderr)
    return 0
