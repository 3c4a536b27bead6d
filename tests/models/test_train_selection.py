"""Training options R2GenGPT's protocol needs: cosine annealing per epoch, and keeping the checkpoint with the best
held-out 0.5 * BLEU-4 + 0.5 * CIDEr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from radeval_models.checkpoint import load_checkpoint_tensors
from radeval_models.train import train_generator
from radeval_models.train_config import TrainConfig, check_train_config
from radeval_models.train_validation import held_out_rows, selection_score
from radeval.errors import InputError

V2 = {"prefix_length": 2, "clip_length": 2, "num_layers": 1, "max_new_tokens": 12}


@pytest.mark.parametrize("epochs", [1, 3, 10])
def test_cosine_schedule_is_torchs_cosine_annealing_stepped_per_epoch(epochs: int) -> None:
    """Oracle: torch.optim.lr_scheduler.CosineAnnealingLR(T_max=epochs, eta_min) stepped once per epoch."""
    cfg = TrainConfig(lr=1e-4, lr_min=1e-6, lr_schedule="cosine", epochs=epochs)
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=cfg.lr_min)
    for e in range(epochs):
        assert cfg.epoch_lr(e) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        opt.step()
        sched.step()
    assert TrainConfig(lr=3e-4).epoch_lr(5) == 3e-4


def test_selection_settings_are_checked() -> None:
    with pytest.raises(InputError, match="validation_fraction > 0"):
        check_train_config(TrainConfig(select_by="bleu4+cider"))
    with pytest.raises(InputError, match="lr_schedule must be one of constant, step, cosine"):
        check_train_config(TrainConfig(lr_schedule="linear"))
    with pytest.raises(InputError, match="lr_min must be a number between 0 and lr"):
        check_train_config(TrainConfig(lr=1e-4, lr_min=1e-3, lr_schedule="cosine"))
    train, val = held_out_rows(20, 0.1, seed=3)
    assert len(val) == 2 and sorted(train + val) == list(range(20)) and held_out_rows(20, 0.1, seed=3)[1] == val


def test_selection_score_is_the_mean_of_radevals_bleu4_and_cider() -> None:
    from radeval.metrics import get_metric

    refs = ["no pleural effusion .", "small nodule in the right upper lobe .", "normal heart size ."]
    hyps = ["no pleural effusion .", "nodule in the upper lobe .", "heart size is normal ."]
    s = selection_score(refs, hyps)
    assert s["bleu4"] == get_metric("bleu4").corpus_score(refs, hyps)
    assert s["cider"] == get_metric("cider").corpus_score(refs, hyps)
    assert s["score"] == pytest.approx(0.5 * s["bleu4"] + 0.5 * s["cider"])


def test_cosine_run_keeps_the_best_validation_epoch(tmp_path: Path, tiny_llama: Path,
                                                    phantom_files: dict[str, Path]) -> None:
    out = tmp_path / "run"
    cfg = {"epochs": 3, "lr": 1e-2, "lr_min": 1e-4, "lr_schedule": "cosine", "batch_size": 3,
           "validation_fraction": 0.25, "select_by": "bleu4+cider", "keep_checkpoints": 3}
    result = train_generator("rad3d-prefix-v2", {"llm": str(tiny_llama), **V2}, phantom_files["embeddings"],
                             phantom_files["reports"], out, cfg, quiet=True)
    log = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in log if r["event"] == "step"]
    assert len(steps) == 3 * 2  # 6 of the 8 cases train (2 held out), 2 steps of 3 per epoch
    assert [s["lr"] for s in steps[::2]] == pytest.approx([TrainConfig(**cfg).epoch_lr(e) for e in range(3)])
    validations = [r for r in log if r["event"] == "validation"]
    assert [v["epoch"] for v in validations] == [1, 2, 3]
    best = max(validations, key=lambda v: v["score"])
    first_best = next(v for v in validations if v["score"] == best["score"])
    saved = json.loads((out / "config.json").read_text())
    assert saved["training"]["selected"]["epoch"] == first_best["epoch"]
    final = load_checkpoint_tensors(out)
    kept = load_checkpoint_tensors(out / "checkpoints" / f"epoch-{first_best['epoch']:03d}")
    assert final.keys() == kept.keys() and all(torch.equal(final[k], kept[k]) for k in final)
    assert result.epochs_done == 3
