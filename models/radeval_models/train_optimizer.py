"""The optimizer step of the training loop: build the optimizer over trainable weights, save/restore its state.

Optimizer state is stored without pickles: tensors in ``optimizer.safetensors``, scalars and parameter groups in the
checkpoint's JSON state (see :mod:`radeval_models.train_checkpoints`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from radeval_models.train_config import TrainConfig
from radeval.errors import InputError

STATE_TENSORS = "optimizer.safetensors"


def build_optimizer(params: Sequence[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """``AdamW`` (decoupled ``cfg.weight_decay``) or ``Adam`` (L2 ``cfg.weight_decay``) over ``params`` at ``cfg.lr``,
    with ``cfg.amsgrad``.

    Raises:
        InputError: an unknown ``cfg.optimizer``.
    """
    opt_cls = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}.get(cfg.optimizer)
    if opt_cls is None:
        raise InputError(f"optimizer must be 'adamw' or 'adam', got {cfg.optimizer!r}")
    return opt_cls(list(params), lr=cfg.lr, weight_decay=cfg.weight_decay, amsgrad=cfg.amsgrad)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Give every parameter group of ``optimizer`` the learning rate ``lr`` (the schedule's value of the epoch)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def save_optimizer(directory: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Write the state tensors to ``directory/optimizer.safetensors``; return the JSON part (groups, scalars)."""
    from safetensors.torch import save_file

    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    save_file(tensors, str(directory / STATE_TENSORS))
    return {"param_groups": state["param_groups"], "scalars": scalars}


def load_optimizer(directory: Path, optimizer: torch.optim.Optimizer, saved: Mapping[str, Any]) -> None:
    """Restore the state written by :func:`save_optimizer` (``saved`` is its JSON part).

    Raises:
        InputError: the state does not fit the optimizer's parameters (naming the file).
    """
    from safetensors.torch import load_file

    flat = load_file(str(directory / STATE_TENSORS))
    state: dict[int, dict[str, Any]] = {}
    for name, value in flat.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    for idx, entry in saved.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(entry)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    except (ValueError, KeyError) as exc:
        raise InputError(f"{directory / STATE_TENSORS}: optimizer state does not fit this model ({exc})") from None
