"""Optimisation settings of :func:`models.train.train_generator` (import-light: the CLI reads its defaults here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    """Optimisation settings.

    Attributes:
        epochs: passes over the training cases.
        lr: learning rate.
        batch_size: cases per optimizer step, over all processes and accumulation steps.
        grad_accum: micro-batches accumulated per optimizer step.
        optimizer: ``"adamw"`` or ``"adam"``.
        weight_decay: AdamW weight decay.
        grad_clip: max gradient norm (``None``: no clipping).
        max_steps: stop after this many optimizer steps in total (``None``: run all epochs).
        seed: seeds the mapper initialisation and the data order.
        mixed_precision: ``"auto"`` (bf16 on a bf16-capable GPU, else none), ``"no"`` or ``"bf16"``.
        keep_checkpoints: epoch checkpoints kept on disk (the newest ones).
        quiet: no progress bar.
    """

    epochs: int = 10
    lr: float = 2e-5
    batch_size: int = 8
    grad_accum: int = 1
    optimizer: str = "adamw"
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    max_steps: int | None = None
    seed: int = 0
    mixed_precision: str = "auto"
    keep_checkpoints: int = 1
    quiet: bool = False
