"""The epoch and optimizer steps of the training loop (one process of an Accelerate run).

* :func:`epoch_batches` — the shuffled global batches of one epoch (a function of ``seed`` and the epoch only);
* :func:`optimizer_step` — one global batch: this process's micro-batches, backward, the per-token normalisation
  over all processes, clipping and the optimizer update;
* :func:`run_epochs` — epochs from where the run stands to ``epochs``/``max_steps``, logging each step and epoch
  and writing an epoch checkpoint after each (and when ``max_steps`` stops a run mid-epoch).

The learning rate of each epoch comes from :meth:`radeval_models.train_config.TrainConfig.epoch_lr` (constant, step or
cosine), set at the start of the epoch; after each finished epoch the held-out cases are scored when the run selects its checkpoint
(:mod:`radeval_models.train_validation`). A new per-step feature goes into :func:`optimizer_step` or
:func:`_log_step`; a new per-epoch one (early stopping) into :func:`run_epochs`.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from radeval_models.train_checkpoints import METRICS_NAME, append_jsonl, save_epoch
from radeval_models.train_config import TrainConfig, resolved_precision
from radeval_models.train_phases import TrainingPhase, drop_inactive_grads, phase_at
from radeval_models.train_optimizer import set_learning_rate
from radeval_models.train_validation import ValidationSet, consider_epoch


def autocast_context(loop: TrainingLoop) -> Any:
    """bf16 autocast on the loop's device when the run's ``mixed_precision`` resolves to bf16, else a no-op."""
    if resolved_precision(loop.cfg.mixed_precision) == "bf16":
        return torch.autocast(device_type=loop.accelerator.device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass(frozen=True)
class TrainingLoop:
    """Everything the steps of one run share (built once by :func:`radeval_models.train.train_generator`).

    Attributes:
        name: the generator's registry name (recorded in checkpoints).
        cfg: the training settings.
        accelerator: the ``accelerate.Accelerator``.
        model: the prepared (possibly DDP-wrapped) generator.
        core: the unwrapped generator (``collate``, ``save_pretrained``).
        optimizer: the prepared optimizer.
        params: the trainable parameters.
        texts: the report of every training case.
        conditioning: the ``(n_cases, input_dim)`` conditioning tensor.
        micro: cases per micro-batch on this process.
        out: the run directory.
        bar: the progress bar (disabled when quiet or not the main process).
        named_params: ``(name, parameter)`` of the trainable parameters, in ``params`` order.
        phases: the generator's curriculum (:mod:`radeval_models.train_phases`; empty: one phase, all parameters).
        validation: the held-out cases scored after each epoch (``select_by``), or ``None``.
    """

    name: str
    cfg: TrainConfig
    accelerator: Any
    model: Any
    core: Any
    optimizer: Any
    params: Sequence[torch.nn.Parameter]
    texts: Sequence[str]
    conditioning: torch.Tensor
    micro: int
    out: Path
    bar: Any
    named_params: Sequence[tuple[str, torch.nn.Parameter]] = ()
    phases: Sequence[TrainingPhase] = ()
    validation: ValidationSet | None = None

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps in one epoch (the last batch is filled up)."""
        return math.ceil(len(self.texts) / self.cfg.batch_size)

    @property
    def total_steps(self) -> int:
        """Where the run stops: all epochs, or ``max_steps`` if that comes first."""
        return total_steps(len(self.texts), self.cfg)


def total_steps(n_cases: int, cfg: TrainConfig) -> int:
    """Optimizer steps of a whole run: ``epochs`` x steps per epoch, or ``max_steps`` if that comes first.

    Example:
        >>> total_steps(10, TrainConfig(batch_size=4, epochs=3)), total_steps(10, TrainConfig(max_steps=2))
        (9, 2)
    """
    full = math.ceil(n_cases / cfg.batch_size) * cfg.epochs
    return full if cfg.max_steps is None else min(cfg.max_steps, full)


@dataclass
class LoopProgress:
    """Where a run stands (mutated by the steps).

    Attributes:
        step: optimizer steps taken.
        epoch: epochs begun and ended (the number of the next epoch's checkpoint minus one).
        last_loss: per-token loss of the last step (``None`` before the first).
        phase: name of the curriculum phase running (``None`` without one or before the first step).
    """

    step: int
    epoch: int
    last_loss: float | None = None
    phase: str | None = None


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled global batches of one epoch; the last one is filled up from the start of the order.

    Example:
        >>> [len(b) for b in epoch_batches(5, 2, seed=0, epoch=0)]
        [2, 2, 2]
    """
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch)).tolist()
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if len(batches[-1]) < batch_size:
        filler = (order * math.ceil(batch_size / n))[: batch_size - len(batches[-1])]
        batches[-1] = batches[-1] + filler
    return batches


def optimizer_step(loop: TrainingLoop, batch_rows: Sequence[int], phase: TrainingPhase | None = None
                   ) -> tuple[float, int]:
    """Train on one global batch and update the weights.

    Each process takes its share of ``batch_rows`` in ``grad_accum`` micro-batches; the summed loss is turned into
    a per-token mean over the whole global batch, so 1 process and N processes take the same step. In a curriculum
    ``phase``, the parameters it does not train lose their gradients before the update.

    Returns:
        ``(loss_sum, n_tokens)`` of the global batch, summed over all processes.
    """
    acc, cfg, micro = loop.accelerator, loop.cfg, loop.micro
    rank, world = acc.process_index, acc.num_processes
    mine = batch_rows[rank * micro * cfg.grad_accum:(rank + 1) * micro * cfg.grad_accum]
    loss_sum = torch.zeros((), device=acc.device)
    n_tokens = torch.zeros((), device=acc.device, dtype=torch.long)
    for j in range(cfg.grad_accum):
        rows = mine[j * micro:(j + 1) * micro]
        batch = loop.core.collate([loop.texts[i] for i in rows], loop.conditioning[rows])
        batch = {k: v.to(acc.device) for k, v in batch.items()}
        sync = j == cfg.grad_accum - 1
        with (acc.no_sync(loop.model) if not sync else contextlib.nullcontext()):
            with autocast_context(loop):
                result = loop.model(**batch)
            acc.backward(result["loss_sum"])
        loss_sum += result["loss_sum"].detach()
        n_tokens += result["n_tokens"]
    totals = acc.reduce(torch.stack([loss_sum, n_tokens.to(loss_sum.dtype)]), reduction="sum")
    global_tokens = max(float(totals[1]), 1.0)
    if phase is not None:
        drop_inactive_grads(loop.named_params, phase)
    for p in loop.params:  # DDP averaged over processes; turn the summed loss into a per-token mean
        if p.grad is not None:
            p.grad.mul_(world / global_tokens)
    if cfg.grad_clip is not None and cfg.grad_clip_mode == "value":
        acc.clip_grad_value_(loop.params, cfg.grad_clip)
    elif cfg.grad_clip is not None:
        acc.clip_grad_norm_(loop.params, cfg.grad_clip)
    loop.optimizer.step()
    loop.optimizer.zero_grad(set_to_none=True)
    return float(totals[0]), int(totals[1])


def _enter_phase(loop: TrainingLoop, progress: LoopProgress) -> TrainingPhase | None:
    """The curriculum phase of the next step: on a change, the generator's ``begin_phase``; every step, the
    learning rate of the epoch (:meth:`TrainConfig.epoch_lr`) times the phase's ``lr_scale``."""
    phase = phase_at(loop.phases, progress.step) if loop.phases else None
    if phase is None:
        return None
    if phase.name != progress.phase:
        loop.core.begin_phase(phase, entering=progress.step == phase.start, texts=loop.texts,
                              conditioning=loop.conditioning)
        progress.phase = phase.name
    set_learning_rate(loop.optimizer, loop.cfg.epoch_lr(progress.epoch) * phase.lr_scale)
    return phase


def _log_step(loop: TrainingLoop, progress: LoopProgress, loss_sum: float, tokens: int, seconds: float) -> None:
    if loop.accelerator.is_main_process:
        append_jsonl(loop.out / METRICS_NAME, {"event": "step", "epoch": progress.epoch + 1, "step": progress.step,
                                               "loss": progress.last_loss, "tokens": tokens,
                                               "lr": loop.optimizer.param_groups[0]["lr"],
                                               "seconds": round(seconds, 4),
                                               **({"phase": progress.phase} if progress.phase else {})})
    loop.bar.update(1)
    loop.bar.set_postfix(loss=f"{progress.last_loss:.4f}", epoch=progress.epoch + 1)


def run_epoch(loop: TrainingLoop, progress: LoopProgress, *, skip: int = 0,
              carried: tuple[float, int] = (0.0, 0)) -> tuple[float, int]:
    """The steps of epoch ``progress.epoch`` (0-based) until it ends or the run reaches its last step.

    Args:
        loop: the run.
        progress: advanced step by step.
        skip: batches of this epoch already taken before a resume.
        carried: ``(loss_sum, tokens)`` of those batches.

    Returns:
        ``(loss_sum, tokens)`` of the whole epoch so far.
    """
    epoch_loss, epoch_tokens = carried
    set_learning_rate(loop.optimizer, loop.cfg.epoch_lr(progress.epoch))
    for batch_rows in epoch_batches(len(loop.texts), loop.cfg.batch_size, loop.cfg.seed, progress.epoch)[skip:]:
        if progress.step >= loop.total_steps:
            break
        t0 = time.perf_counter()
        phase = _enter_phase(loop, progress)
        loss_sum, tokens = optimizer_step(loop, batch_rows, phase)
        progress.step += 1
        progress.last_loss = loss_sum / max(float(tokens), 1.0)
        epoch_loss += loss_sum
        epoch_tokens += tokens
        _log_step(loop, progress, loss_sum, tokens, time.perf_counter() - t0)
    return epoch_loss, epoch_tokens


def run_epochs(loop: TrainingLoop, progress: LoopProgress, resumed: Mapping[str, Any]) -> None:
    """Train from ``progress`` to the end of the run, logging and checkpointing each epoch.

    Args:
        loop: the run.
        progress: where it stands (a checkpoint written when ``max_steps`` stopped a run mid-epoch resumes inside
            that epoch).
        resumed: the ``training_state.json`` of the checkpoint resumed from (``{}`` for a fresh run): carries the
            loss of a part-epoch.
    """
    loop.model.train()
    progress.epoch, skip = divmod(progress.step, loop.steps_per_epoch)
    while progress.epoch < loop.cfg.epochs and progress.step < loop.total_steps:
        carried = (float(resumed.get("epoch_loss", 0.0)), int(resumed.get("epoch_tokens", 0))) if skip else (0.0, 0)
        epoch_loss, epoch_tokens = run_epoch(loop, progress, skip=skip, carried=carried)
        skip = 0
        progress.epoch += 1
        finished_epoch = progress.step % loop.steps_per_epoch == 0
        if loop.accelerator.is_main_process and finished_epoch:  # a part-epoch (max_steps) is logged when it ends
            append_jsonl(loop.out / METRICS_NAME, {"event": "epoch", "epoch": progress.epoch, "step": progress.step,
                                                   "loss": epoch_loss / max(epoch_tokens, 1)})
        if finished_epoch or progress.step >= loop.total_steps:
            save_epoch(loop.accelerator, loop.core, loop.optimizer, loop.out, loop.name, progress.epoch,
                       progress.step, loop.cfg,
                       partial={} if finished_epoch else {"epoch_loss": epoch_loss, "epoch_tokens": epoch_tokens})
        if finished_epoch and loop.validation is not None:
            if loop.accelerator.is_main_process:  # only the main process writes checkpoints
                record = consider_epoch(loop.core, loop.validation, loop.out, progress.epoch,
                                        batch_size=loop.micro)
                append_jsonl(loop.out / METRICS_NAME, {"event": "validation", "step": progress.step, **record})
            loop.accelerator.wait_for_everyone()
