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
