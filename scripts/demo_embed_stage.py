"""The demo's embed stage alone, through the real code path, timed (issue 15 item 3).

What ``radeval bench benchmarks/demo.yaml`` runs before any generator: the phantom dataset, then
:func:`radeval.bench.pipeline.ensure_embeddings` (encoder pretraining, embedding of every split, label head), in a
fresh temporary work dir and ``$RADEVAL_HOME`` (nothing cached; both deleted afterwards). Prints one JSON line: the
label head's held-out macro AUROC (over labels with positives), per-label AUROC, wall times and the load average.

    OMP_NUM_THREADS=1 python scripts/demo_embed_stage.py --seed 0             # the demo's dataset
    OMP_NUM_THREADS=1 python scripts/demo_embed_stage.py --seed 1 --epochs 8  # another phantom seed / setting
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    """Parse the options, run the embed stage once, print (and optionally append) the JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="benchmarks/demo.yaml")
    ap.add_argument("--seed", type=int, default=0, help="phantom dataset seed (the demo: 0)")
    ap.add_argument("--epochs", type=int, help="override embed.pretrain_epochs")
    ap.add_argument("--extra", type=int, help="override embed.pretrain_extra_phantoms")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--tag", default="")
    ap.add_argument("--log", help="append the JSON line to this file")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="demo-embed-"))
    os.environ["RADEVAL_HOME"] = str(work / "home")
    import torch

    from radeval.bench.dataset import resolve_dataset
    from radeval.bench.manifest import Manifest
    from radeval.bench.pipeline import ensure_embeddings
    from radeval.bench.suite import load_suite

    torch.set_num_threads(a.threads)
    suite = load_suite(Path(a.suite))
    embed = suite.embed
    if a.epochs is not None:
        embed = dataclasses.replace(embed, pretrain_epochs=a.epochs)
    if a.extra is not None:
        embed = dataclasses.replace(embed, pretrain_extra_phantoms=a.extra)
    suite = dataclasses.replace(suite, dataset=dataclasses.replace(suite.dataset, seed=a.seed), embed=embed)
    try:
        t0 = time.perf_counter()
        dataset = resolve_dataset(suite, work, quiet=True)
        t1 = time.perf_counter()
        manifest = Manifest(suite=suite.name, suite_hash="-")
        ensure_embeddings(suite, dataset, work, manifest, quiet=True)
        t2 = time.perf_counter()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    head = manifest.extra["label_head"]
    line = {"tag": a.tag, "seed": a.seed, "embed": embed.cache_settings(), "macro": round(head["macro_auroc"], 3),
            "dataset_s": round(t1 - t0, 1), "embed_stage_s": round(t2 - t1, 1), "total_s": round(t2 - t0, 1),
            "loadavg": [round(v, 2) for v in os.getloadavg()],
            "per": {r["label"]: round(float(r["auroc"]), 2) for r in head["per_label"] if r["label"] != "macro"}}
    print(json.dumps(line), flush=True)
    if a.log:
        with open(a.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
