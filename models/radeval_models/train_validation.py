"""Checkpoint selection of the training loop: held-out validation cases scored after every epoch.

With ``select_by: bleu4+cider`` (R2GenGPT's rule) a seeded share of the training cases (``validation_fraction``) is
held out and not trained on. After each epoch the generator writes a report for each of them and the run scores
``0.5 * BLEU-4 + 0.5 * CIDEr`` with radeval's own metrics (coco conventions; ``radeval.metrics``). The best epoch's
weights are kept in ``out_dir/best`` (with ``best.json``: epoch and scores), which survives a resume; the final
generator saved in ``out_dir`` carries those weights and names the selected epoch.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from radeval_models.checkpoint import load_checkpoint_tensors
from radeval.paths import atomic_write_text

BEST_DIR = "best"
BEST_JSON = "best.json"


@dataclass(frozen=True)
class ValidationSet:
    """The held-out cases: their reports and conditioning rows."""

    texts: Sequence[str]
    conditioning: torch.Tensor


def held_out_rows(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """``(train rows, validation rows)``: ``max(1, round(fraction * n))`` rows drawn with ``seed`` (sorted).

    Raises:
        ValueError: nothing would be left to train on.

    Example:
        >>> held_out_rows(10, 0.2, seed=0)[1]
        [7, 9]
        >>> held_out_rows(10, 0.0, seed=0)
        ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [])
    """
    if fraction <= 0:
        return list(range(n)), []
    k = max(1, int(round(fraction * n)))
    if k >= n:
        raise ValueError(f"validation_fraction {fraction} of {n} training cases leaves none to train on")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 7_919 + 17)).tolist()
    val = sorted(order[:k])
    chosen = set(val)
    return [i for i in range(n) if i not in chosen], val


def selection_score(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, float]:
    """``{"bleu4", "cider", "score"}`` with ``score = 0.5 * BLEU-4 + 0.5 * CIDEr`` (corpus scores).

    Example:
        >>> s = selection_score(["no pleural effusion .", "small nodule ."], ["no pleural effusion .", "nodule ."])
        >>> sorted(s), s["score"] == 0.5 * s["bleu4"] + 0.5 * s["cider"]
        (['bleu4', 'cider', 'score'], True)
    """
    from radeval.metrics import get_metric

    bleu4 = float(get_metric("bleu4").corpus_score(list(refs), list(hyps)))
    cider = float(get_metric("cider").corpus_score(list(refs), list(hyps)))
    return {"bleu4": bleu4, "cider": cider, "score": 0.5 * bleu4 + 0.5 * cider}


def validation_reports(core: Any, validation: ValidationSet, batch_size: int) -> list[str]:
    """The generator's report for every held-out case (its own decoding settings)."""
    out: list[str] = []
    for i in range(0, len(validation.texts), max(1, batch_size)):
        out += core.reports_from_conditioning(validation.conditioning[i:i + batch_size])
    return out


def read_best(out: Path) -> dict[str, Any] | None:
    """``best.json`` of the run in ``out`` (``None`` before the first validation)."""
    path = out / BEST_DIR / BEST_JSON
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def consider_epoch(core: Any, validation: ValidationSet, out: Path, epoch: int, *, batch_size: int) -> dict[str, Any]:
    """Score the epoch's weights on the held-out cases; keep them in ``out/best`` if they beat the best so far.

    Returns:
        ``{"epoch", "bleu4", "cider", "score", "best"}`` (``best``: these weights are now the kept ones).
    """
    hyps = validation_reports(core, validation, batch_size)
    scores = selection_score(validation.texts, hyps)
    best = read_best(out)
    improved = best is None or (math.isfinite(scores["score"]) and scores["score"] > float(best["score"]))
    if improved:
        tmp = out / f".{BEST_DIR}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        core.save_pretrained(tmp)
        atomic_write_text(tmp / BEST_JSON, json.dumps({"epoch": epoch, **scores}, indent=1))
        target = out / BEST_DIR
        if target.exists():
            shutil.rmtree(target)
        tmp.replace(target)
    return {"epoch": epoch, **scores, "best": improved}


def restore_best(core: Any, out: Path) -> dict[str, Any] | None:
    """Load the kept best weights into ``core``; return ``best.json`` (``None``: nothing kept)."""
    best = read_best(out)
    if best is None:
        return None
    core.load_state_dict(load_checkpoint_tensors(out / BEST_DIR), strict=False)
    return best


__all__ = ["BEST_DIR", "ValidationSet", "consider_epoch", "held_out_rows", "read_best", "restore_best",
           "selection_score", "validation_reports"]
