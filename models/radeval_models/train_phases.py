"""Training phases: a generator's declared curriculum, applied by the shared loop at every step.

A generator whose training runs in stages (a warm-up that trains only an encoder, then a bridge, then adapters ...)
declares them with :meth:`~radeval_models.generator.GeneratorModel.training_phases`: consecutive step ranges, each
naming the parameters it trains (by name prefix) and its learning-rate scale. The loop (:mod:`radeval_models.train_epoch`)
then, before every optimizer step,

* finds the phase of that step (:func:`phase_at`); when it changes, calls the generator's
  :meth:`~radeval_models.generator.GeneratorModel.begin_phase` (``entering=True`` only when the run crosses the
  phase's first step, not when it resumes inside the phase, so one-time work such as a warm start or an EWC anchor
  happens exactly once and a resumed run reads it from the checkpoint) and sets every optimizer group's learning
  rate to ``lr x lr_scale``;
* after the backward pass, drops the gradients of parameters outside the phase (:func:`drop_inactive_grads`), so
  the optimizer leaves them untouched (AdamW skips parameters without a gradient: no moment update, no decay).

Every parameter any phase trains stays ``requires_grad=True`` for the whole run, so the optimizer, its saved state,
the checkpoints and DDP see one fixed parameter set; only the step changes. The phase of a step depends on the step
number alone, so a run resumed at any step re-enters the right phase. Generators without phases are not affected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from radeval.errors import InputError


@dataclass(frozen=True)
class TrainingPhase:
    """One stage of a curriculum.

    Attributes:
        name: the phase's name (logged with each step).
        start: its first optimizer step (0-based, inclusive).
        stop: the step after its last one (exclusive).
        trainable: name prefixes of the parameters it trains (``"compressor."`` matches ``compressor.queries``).
        lr_scale: the learning rate of the phase is the run's ``lr`` times this.
    """

    name: str
    start: int
    stop: int
    trainable: tuple[str, ...]
    lr_scale: float = 1.0

    def trains(self, parameter_name: str) -> bool:
        """Whether the parameter named ``parameter_name`` is trained in this phase.

        Example:
            >>> TrainingPhase("a", 0, 2, ("head.",)).trains("head.weight")
            True
        """
        return any(parameter_name == p or parameter_name.startswith(p) for p in self.trainable)


def phases_from_epochs(spec: Sequence[tuple[str, int, tuple[str, ...], float]], steps_per_epoch: int, *,
                       unit: str = "epochs") -> tuple[TrainingPhase, ...]:
    """Consecutive phases from ``(name, length, trainable prefixes, lr_scale)`` rows.

    Args:
        spec: the rows, in order.
        steps_per_epoch: optimizer steps per epoch.
        unit: ``"epochs"`` (lengths in epochs) or ``"steps"`` (in optimizer steps, for short runs).

    Raises:
        InputError: another ``unit``.

    Example:
        >>> [(p.name, p.start, p.stop) for p in phases_from_epochs([("a", 1, ("x",), 1.0), ("b", 2, ("y",), 0.1)], 3)]
        [('a', 0, 3), ('b', 3, 9)]
        >>> [p.stop for p in phases_from_epochs([("a", 1, ("x",), 1.0), ("b", 2, ("y",), 0.1)], 3, unit="steps")]
        [1, 3]
    """
    if unit not in ("epochs", "steps"):
        raise InputError(f"phase lengths are counted in 'epochs' or 'steps', got {unit!r}")
    per = steps_per_epoch if unit == "epochs" else 1
    out, start = [], 0
    for name, length, trainable, lr_scale in spec:
        stop = start + int(length) * per
        out.append(TrainingPhase(name, start, stop, tuple(trainable), float(lr_scale)))
        start = stop
    return tuple(out)


def check_phases(phases: Sequence[TrainingPhase], *, model: str, epochs: int, steps_per_epoch: int,
                 max_steps: int | None = None) -> None:
    """The phases must tile the run's steps without gaps: ``[0, epochs x steps_per_epoch)``, or ``[0, max_steps)``
    when the run is cut by ``max_steps`` (phases counted in steps).

    Raises:
        InputError: a gap, an overlap or a curriculum of another length than the run (naming both).
    """
    if not phases:
        return
    at = 0
    for p in phases:
        if p.start != at or p.stop < p.start:
            raise InputError(f"{model}: training phase {p.name!r} covers steps [{p.start}, {p.stop}), expected it to "
                             f"start at step {at}")
        at = p.stop
    full = epochs * steps_per_epoch
    if at == full or (max_steps is not None and at == max_steps <= full):
        return
    lengths = ", ".join(f"{p.name} {p.stop - p.start}" for p in phases)
    raise InputError(f"{model}: its curriculum declares {at} step(s) ({lengths}; {steps_per_epoch} step(s) per epoch, "
                     f"i.e. {at / max(steps_per_epoch, 1):g} epoch(s)), but the run has epochs: {epochs} "
                     f"({full} steps)" + (f" and max_steps: {max_steps}" if max_steps is not None else "")
                     + "; make the run as long as the curriculum")


def phase_at(phases: Sequence[TrainingPhase], step: int) -> TrainingPhase | None:
    """The phase that holds optimizer step ``step`` (0-based; ``None`` without phases or past the last one).

    Example:
        >>> ph = phases_from_epochs([("a", 1, ("x",), 1.0), ("b", 1, ("y",), 1.0)], 2)
        >>> phase_at(ph, 1).name, phase_at(ph, 2).name, phase_at(ph, 4)
        ('a', 'b', None)
    """
    for p in phases:
        if p.start <= step < p.stop:
            return p
    return None


def drop_inactive_grads(named_params: Iterable[tuple[str, torch.nn.Parameter]], phase: TrainingPhase) -> None:
    """Set ``grad = None`` on every parameter the phase does not train (the optimizer then skips it)."""
    for name, p in named_params:
        if not phase.trains(name):
            p.grad = None
