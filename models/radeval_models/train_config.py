"""Optimisation settings of :func:`radeval_models.train.train_generator` (import-light: the CLI and suite validation read
them here without importing torch).

A :class:`TrainConfig` holds only what determines the trained weights, so it can be hashed into cache keys and
recorded in checkpoints as is. Display options (the progress bar) are keyword arguments of ``train_generator``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from radeval.errors import InputError

OPTIMIZERS = ("adamw", "adam")
PRECISIONS = ("auto", "no", "bf16")
LR_SCHEDULES = ("constant", "step", "cosine")
GRAD_CLIP_MODES = ("norm", "value")
#: Checkpoint selection: the ``last`` epoch, or the epoch with the best ``0.5 * BLEU-4 + 0.5 * CIDEr`` on the held-out
#: validation cases (R2GenGPT's rule; :mod:`radeval_models.train_validation`).
SELECTIONS = ("last", "bleu4+cider")


def resolved_precision(mode: str) -> str:
    """The autocast a run uses for a ``mixed_precision`` setting: ``"bf16"`` or ``"no"``.

    ``"auto"`` is bf16 on a bf16-capable GPU and none elsewhere; ``"bf16"`` is bf16 autocast on any device (on a
    CPU with AVX-512 BF16 a SmolLM2 V-2 step is 1.3x (short reports) to 1.7x (128-token reports) faster; measured
    by ``benchmarks/perf/generation.py``, figures in benchmarks/RESULTS.md).

    Example:
        >>> resolved_precision("bf16"), resolved_precision("no")
        ('bf16', 'no')
    """
    if mode == "auto":
        import torch

        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    return mode


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes:
        epochs: passes over the training cases.
        lr: learning rate.
        batch_size: cases per optimizer step, over all processes and accumulation steps.
        grad_accum: micro-batches accumulated per optimizer step.
        optimizer: ``"adamw"`` or ``"adam"``.
        weight_decay: AdamW's decoupled weight decay, or Adam's L2 penalty (``torch.optim.Adam(weight_decay=)``).
        grad_clip: max gradient norm, or max absolute gradient value with ``grad_clip_mode="value"``
            (``None``: no clipping).
        max_steps: stop after this many optimizer steps in total (``None``: run all epochs).
        seed: seeds the mapper initialisation and the data order.
        mixed_precision: ``"auto"`` (bf16 on a bf16-capable GPU, else none), ``"no"`` or ``"bf16"``.
        keep_checkpoints: epoch checkpoints kept on disk (the newest ones).
        amsgrad: the AMSGrad variant of Adam/AdamW (CT2Rep trains with it).
        lr_schedule: ``"constant"`` (default), ``"step"``: the learning rate of epoch ``e`` (0-based) is
            ``lr * lr_gamma ** (e // lr_step_size)`` (PyTorch's ``StepLR`` stepped once per epoch), or ``"cosine"``:
            ``lr_min + (lr - lr_min) * (1 + cos(pi * e / epochs)) / 2`` (PyTorch's ``CosineAnnealingLR(T_max=epochs,
            eta_min=lr_min)`` stepped once per epoch, as R2GenGPT trains). It is a function of the epoch alone, so a
            resumed run needs no scheduler state.
        lr_step_size: epochs per step of the ``"step"`` schedule.
        lr_gamma: factor of each step of the ``"step"`` schedule.
        grad_clip_mode: ``"norm"`` (clip the global gradient norm, default) or ``"value"`` (clamp each gradient
            entry to ``[-grad_clip, grad_clip]``, as CT2Rep does).
        lr_min: the learning rate the ``"cosine"`` schedule ends at (R2GenGPT: 1e-6).
        validation_fraction: share of the training cases held out (chosen with ``seed``) to select the checkpoint;
            0 = none. They are not trained on.
        select_by: ``"last"`` or ``"bleu4+cider"`` (:data:`SELECTIONS`; needs ``validation_fraction > 0``).

    Example:
        >>> TrainConfig.from_mapping({"epochs": 3, "lr": 1e-3}).batch_size
        8
        >>> "quiet" in train_config_fields()
        False
    """

    #: Settings a run cannot change when it resumes: they shape the trajectory of the steps already taken
    #: (``epochs``, ``max_steps`` and ``keep_checkpoints`` only say where to stop and what to keep).
    RESUME_FIXED: ClassVar[tuple[str, ...]] = ("seed", "batch_size", "grad_accum", "lr", "optimizer", "weight_decay",
                                               "grad_clip", "mixed_precision", "amsgrad", "lr_schedule",
                                               "lr_step_size", "lr_gamma", "grad_clip_mode", "lr_min",
                                               "validation_fraction", "select_by")

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
    amsgrad: bool = False
    lr_schedule: str = "constant"
    lr_step_size: int = 1
    lr_gamma: float = 0.1
    grad_clip_mode: str = "norm"
    lr_min: float = 0.0
    validation_fraction: float = 0.0
    select_by: str = "last"

    def epoch_lr(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch`` (0-based) under ``lr_schedule``.

        Example:
            >>> round(TrainConfig(lr=1e-4, lr_schedule="step", lr_gamma=0.8).epoch_lr(2), 12)
            6.4e-05
            >>> TrainConfig(lr=1e-4).epoch_lr(5)
            0.0001
            >>> cfg = TrainConfig(lr=1e-4, lr_min=1e-6, lr_schedule="cosine", epochs=4)
            >>> [round(cfg.epoch_lr(e), 8) for e in range(4)]
            [0.0001, 8.55e-05, 5.05e-05, 1.55e-05]
        """
        if self.lr_schedule == "step":
            return self.lr * self.lr_gamma ** (epoch // self.lr_step_size)
        if self.lr_schedule == "cosine" and self.epochs > 0:
            return float(self.lr_min + (self.lr - self.lr_min) * (1 + math.cos(math.pi * epoch / self.epochs)) / 2)
        return self.lr

    @classmethod
    def from_mapping(cls, values: "TrainConfig | Mapping[str, Any] | None", *,
                     source: str = "train config") -> "TrainConfig":
        """A config from itself, a mapping of its fields or nothing (all defaults).

        Raises:
            InputError: an unknown key (``quiet`` is named as the display option it is), naming ``source``.
        """
        if isinstance(values, TrainConfig):
            return values
        given = dict(values or {})
        names = train_config_fields()
        unknown = sorted(set(given) - set(names))
        if unknown:
            hint = ("; 'quiet' is a display option: pass quiet=True to train_generator (--quiet on the CLI)"
                    if "quiet" in unknown else "")
            raise InputError(f"{source}: unknown training setting(s) {unknown}; known: {list(names)}{hint}")
        return cls(**given)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (what checkpoints record and cache keys hash)."""
        return dataclasses.asdict(self)


def train_config_fields() -> tuple[str, ...]:
    """The names of the :class:`TrainConfig` fields (the keys a suite system's ``train:`` mapping may use).

    Example:
        >>> train_config_fields()[:3]
        ('epochs', 'lr', 'batch_size')
    """
    return tuple(f.name for f in dataclasses.fields(TrainConfig))


def check_train_config(cfg: TrainConfig) -> None:
    """Refuse settings the loop cannot honour (instead of a ZeroDivisionError or a silent no-op deep inside).

    Raises:
        InputError: naming the setting and the value.

    Example:
        >>> check_train_config(TrainConfig(batch_size=0))
        Traceback (most recent call last):
        ...
        radeval.errors.InputError: batch_size must be an integer >= 1, got 0
    """
    for field, low in (("batch_size", 1), ("grad_accum", 1), ("epochs", 0), ("keep_checkpoints", 1)):
        value = getattr(cfg, field)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InputError(f"{field} must be an integer >= {low}, got {value!r}")
    if cfg.max_steps is not None and (not isinstance(cfg.max_steps, int) or cfg.max_steps < 0):
        raise InputError(f"max_steps must be an integer >= 0, got {cfg.max_steps!r}")
    if not (isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and cfg.lr >= 0):
        raise InputError(f"lr must be a finite number >= 0, got {cfg.lr!r}")
    if cfg.optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer must be 'adamw' or 'adam', got {cfg.optimizer!r}")
    if cfg.lr_schedule not in LR_SCHEDULES:
        raise InputError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {cfg.lr_schedule!r}")
    if not isinstance(cfg.lr_step_size, int) or isinstance(cfg.lr_step_size, bool) or cfg.lr_step_size < 1:
        raise InputError(f"lr_step_size must be an integer >= 1, got {cfg.lr_step_size!r}")
    if not (isinstance(cfg.lr_gamma, (int, float)) and math.isfinite(cfg.lr_gamma) and cfg.lr_gamma > 0):
        raise InputError(f"lr_gamma must be a finite number > 0, got {cfg.lr_gamma!r}")
    if cfg.grad_clip_mode not in GRAD_CLIP_MODES:
        raise InputError(f"grad_clip_mode must be 'norm' or 'value', got {cfg.grad_clip_mode!r}")
    if not isinstance(cfg.amsgrad, bool):
        raise InputError(f"amsgrad must be true or false, got {cfg.amsgrad!r}")
    if cfg.mixed_precision not in PRECISIONS:
        raise InputError(f"mixed_precision must be 'auto', 'no' or 'bf16', got {cfg.mixed_precision!r}")
    if not (isinstance(cfg.lr_min, (int, float)) and math.isfinite(cfg.lr_min) and 0 <= cfg.lr_min <= cfg.lr):
        raise InputError(f"lr_min must be a number between 0 and lr ({cfg.lr!r}), got {cfg.lr_min!r}")
    if cfg.select_by not in SELECTIONS:
        raise InputError(f"select_by must be one of {', '.join(SELECTIONS)}, got {cfg.select_by!r}")
    if not (isinstance(cfg.validation_fraction, (int, float)) and 0 <= cfg.validation_fraction < 1):
        raise InputError(f"validation_fraction must be a number in [0, 1), got {cfg.validation_fraction!r}")
    if cfg.select_by != "last" and cfg.validation_fraction == 0:
        raise InputError(f"select_by {cfg.select_by!r} scores held-out cases: set validation_fraction > 0 "
                         "(e.g. 0.05)")


def resume_conflicts(saved: Mapping[str, Any], cfg: TrainConfig) -> list[str]:
    """The :attr:`TrainConfig.RESUME_FIXED` settings that differ from those a checkpoint was trained with.

    Args:
        saved: the ``train_config`` recorded in the checkpoint (keys it lacks are not compared).
        cfg: the settings of the run that wants to resume.

    Returns:
        One ``"<setting> was <old> in the checkpoint, now <new>"`` per difference, in field order.

    Example:
        >>> resume_conflicts({"batch_size": 8, "seed": 0, "epochs": 2}, TrainConfig(batch_size=4, epochs=5))
        ['batch_size was 8 in the checkpoint, now 4']
    """
    now = cfg.as_dict()
    return [f"{k} was {saved[k]!r} in the checkpoint, now {now[k]!r}" for k in TrainConfig.RESUME_FIXED
            if k in saved and saved[k] != now[k]]
