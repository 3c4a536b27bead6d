"""``radeval embed``: CT volumes -> CT-CLIP embeddings + label logits, one file per split (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``embed`` subcommand."""
    p = sub.add_parser("embed", help="encode CT volumes into embeddings + label logits",
                       description="Read a CT-RATE-layout dataset, preprocess every volume as CT-CLIP does, encode it "
                                   "with CT-ViT and write OUT/<split>.safetensors (embeddings, logits, case ids, optional slab tokens) and "
                                   "OUT/<split>.manifest.json (failures). Re-running skips cases already done.")
    p.add_argument("root", type=Path, help="CT-RATE folder (or the folder holding dataset/)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--encoder", choices=["ctclip", "small"], default="ctclip",
                   help="ctclip: released CT-CLIP size (480x480x240 input); small: phantom/demo size")
    p.add_argument("--checkpoint", type=Path, help="CT-CLIP checkpoint (e.g. CT-CLIP_v2.pt); default: untrained")
    p.add_argument("--label-head", type=Path, help="label head folder, or CT-CLIP's released classifier CT_LiPro_v2.pt (the paper's "
                        "CT-RATE priors); default: fit one on the train split")
    p.add_argument("--labels", choices=("ct-rate", "inspect"), default="ct-rate",
                   help="label set of the head and its priors: ct-rate (18) or inspect (21)")
    p.add_argument("--split-file", type=Path, help="case_id,split file re-splitting the folder (data inspect-split)")
    p.add_argument("--splits", nargs="+", metavar="SPLIT", help="splits to embed (default: all)")
    p.add_argument("--slab-tokens", action="store_true",
                   help="also store CT-CLIP slab tokens (one per axial slab; 24 x 512 at the released size) for "
                        "slab-token generators such as ct2rep; re-running with it completes a folder embedded without")
    p.add_argument("--batch-size", type=int, default=1, help="volumes per encoder call (default 1)")
    p.add_argument("--workers", type=int, default=0, help="data-loading processes (default 0 = in process)")
    p.add_argument("--threads", type=int, help="torch CPU threads for the encoder (default: torch's)")
    p.add_argument("--seed", type=int, default=0, help="seed of an untrained encoder and of head fitting")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval embed``; exit code 1 when some cases failed (listed in the manifests)."""
    import sys

    import torch

    from radeval_models.ctclip.embed import EmbedConfig, embed_dataset
    from radeval.data.labels import label_set

    if args.threads:
        torch.set_num_threads(args.threads)
    config = EmbedConfig(encoder=args.encoder, checkpoint=args.checkpoint, label_head=args.label_head,
                         splits=tuple(args.splits) if args.splits else None, batch_size=args.batch_size,
                         workers=args.workers, seed=args.seed, labels=label_set(args.labels),
                         split_file=args.split_file, slab_tokens=args.slab_tokens)
    if args.checkpoint is None:
        print("warning: no --checkpoint: the encoder is untrained (seeded random weights); its embeddings carry "
              "little image information", file=sys.stderr)
    results = embed_dataset(args.root, args.out, config, progress=not args.quiet)
    n_failed = 0
    for split, res in results.items():
        print(f"{split}: {res.n_embedded}/{res.n_cases} embedded ({res.n_skipped} already done) -> {res.path}")
        for case_id, error in res.failures.items():
            print(f"warning: {split}: {error}", file=sys.stderr)
        n_failed += len(res.failures)
    report = Path(args.out) / "label_head" / "valid_report.csv"
    if args.label_head is None and report.is_file():
        import pandas as pd

        macro = pd.read_csv(report).set_index("label").loc["macro"]
        from radeval.number_format import MISSING_NA, fixed

        print(f"label head fitted on train; valid macro AUROC {fixed(macro.auroc, 3, missing=MISSING_NA)}, "
              f"F1 {fixed(macro.f1, 3, missing=MISSING_NA)} ({report})")
    return 1 if n_failed else 0
