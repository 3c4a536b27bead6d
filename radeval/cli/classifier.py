"""``radeval classifier``: fine-tune CT-CLIP's last layer + a classification layer (INSPECT priors), resumable."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``classifier`` subcommand."""
    p = sub.add_parser("classifier", help="fine-tune CT-CLIP's last layer + a classification layer (INSPECT priors)",
                       description="Fine-tune the last layer of the CT-CLIP image encoder plus a classification "
                                   "layer with class-weighted BCE on the train split (the RAD3D-Prefix paper's "
                                   "INSPECT classifier). Resumes after a kill. Writes OUT/classifier/, which "
                                   "`radeval embed --label-head` and a suite's embed.label_head take.")
    p.add_argument("root", type=Path, help="CT-RATE-layout folder (INSPECT prepared in that layout, or its phantom)")
    p.add_argument("--out", type=Path, required=True, help="run folder (feature cache, state.pt, classifier/)")
    p.add_argument("--labels", choices=("inspect", "ct-rate"), default="inspect", help="label set (default inspect)")
    p.add_argument("--encoder", choices=("ctclip", "small"), default="ctclip", help="CT-ViT size (default ctclip)")
    p.add_argument("--checkpoint", type=Path, help="CT-CLIP checkpoint to start from (e.g. CT-CLIP_v2.pt)")
    p.add_argument("--split-file", type=Path, help="case_id,split file (radeval data inspect-split)")
    p.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    p.add_argument("--batch-size", type=int, default=8, help="batch size (default 8)")
    p.add_argument("--lr", type=float, default=1e-4, help="AdamW learning rate (default 1e-4)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval classifier``."""
    import sys

    from radeval_models.ctclip.finetune import FinetuneConfig, finetune_classifier
    from radeval.data.labels import label_set

    if args.checkpoint is None:
        print("warning: no --checkpoint: starting from an untrained encoder (seeded random weights)", file=sys.stderr)
    config = FinetuneConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    out = finetune_classifier(args.root, args.out, labels=label_set(args.labels), encoder=args.encoder,
                              checkpoint=args.checkpoint, split_file=args.split_file, config=config,
                              progress=not args.quiet)
    print(f"fine-tuned classifier ({args.labels}, {args.epochs} epochs) -> {out}")
    return 0
