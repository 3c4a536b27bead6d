"""Resume and save steps of the training loop: epoch checkpoints under ``out_dir/checkpoints`` and the metrics log.

A checkpoint ``checkpoints/epoch-NNN`` is a loadable generator directory plus ``optimizer.safetensors`` and
``training_state.json`` (model type, epoch, step, optimizer groups, the :class:`TrainConfig`, and the loss of a
part-epoch). It is written to a temporary directory and renamed, so a killed run leaves only complete ones.

Resuming checks, before any weights are loaded, that the run in ``out_dir`` is of the same model with the same
model settings and the same :attr:`TrainConfig.RESUME_FIXED` settings; each mismatch is an error naming the setting.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radeval_models.checkpoint import read_checkpoint_config
from radeval_models.train_config import TrainConfig, resume_conflicts
from radeval_models.train_optimizer import save_optimizer
from radeval.errors import InputError
from radeval.paths import atomic_write_text

CHECKPOINT_DIR = "checkpoints"
STATE_JSON = "training_state.json"
METRICS_NAME = "metrics.jsonl"


@dataclass(frozen=True)
class ResumePoint:
    """The checkpoint a run continues from.

    Attributes:
        directory: ``out_dir/checkpoints/epoch-NNN``.
        step: optimizer steps taken before it was written.
        state: its ``training_state.json`` (optimizer groups, part-epoch loss ...).
    """

    directory: Path
    step: int
    state: Mapping[str, Any]


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The newest complete ``checkpoints/epoch-NNN`` of a run directory, if any."""
    root = out_dir / CHECKPOINT_DIR
    done = sorted(p for p in root.glob("epoch-*") if (p / STATE_JSON).is_file()) if root.is_dir() else []
    return done[-1] if done else None


def find_resume_point(out_dir: Path, name: str, cls: Any, settings: Any, cfg: TrainConfig) -> ResumePoint | None:
    """The checkpoint to resume from (``None``: start afresh), checked against this run's settings.

    Args:
        out_dir: the run directory.
        name: the registry name the generator is trained under.
        cls: its class (parses the checkpoint's settings).
        settings: its parsed config dataclass.
        cfg: the training settings.

    Raises:
        InputError: the run is of another model, or was started with other model settings or another
            :attr:`TrainConfig.RESUME_FIXED` setting — naming each setting with its old and new value.
    """
    directory = latest_checkpoint(out_dir)
    if directory is None:
        return None
    state = json.loads((directory / STATE_JSON).read_text(encoding="utf-8"))
    if state.get("model_type") != name:
        raise InputError(f"{directory / STATE_JSON}: run of {state.get('model_type')!r}, not {name!r}; "
                         f"use another --out")
    found = dataclasses.asdict(cls.parse_config(read_checkpoint_config(directory, expected_type=cls.name)["config"]))
    wanted = dataclasses.asdict(settings)
    changed = sorted(k for k in wanted if wanted[k] != found.get(k))
    if changed:
        raise InputError(f"{directory}: the run in {out_dir} was started with other settings "
                         f"({', '.join(f'{k}={found.get(k)!r}, now {wanted[k]!r}' for k in changed)}); "
                         f"use the same settings to resume it, or another --out")
    conflicts = resume_conflicts(state.get("train_config") or {}, cfg)
    if conflicts:
        raise InputError(f"cannot resume the run in {out_dir}: {'; '.join(conflicts)}; these settings shape the "
                         f"steps already taken: use the same ones to resume it, or another output directory (--out)")
    return ResumePoint(directory, int(state["step"]), state)


def trim_metrics(path: Path, step: int) -> None:
    """Drop log lines written after the checkpoint we resume from (a killed epoch is re-run)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except json.JSONDecodeError:
            continue
    atomic_write_text(path, "".join(k + "\n" for k in kept))


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    """Append one JSON line to the metrics log."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def save_epoch(accelerator: Any, core: Any, optimizer: Any, out: Path, name: str, epoch: int, step: int,
               cfg: TrainConfig, partial: Mapping[str, Any] | None = None) -> None:
    """Write ``checkpoints/epoch-NNN`` atomically (temporary dir + rename) and prune old ones.

    Args:
        accelerator: the run's ``accelerate.Accelerator`` (only the main process writes; all wait).
        core: the unwrapped generator.
        optimizer: its optimizer.
        out: the run directory.
        name: the generator's registry name.
        epoch: epochs begun so far (the checkpoint's number).
        step: optimizer steps taken.
        cfg: the training settings (recorded for the resume check).
        partial: ``epoch_loss``/``epoch_tokens`` of an epoch that ``max_steps`` stopped midway.
    """
    if accelerator.is_main_process:
        root = out / CHECKPOINT_DIR
        target = root / f"epoch-{epoch:03d}"
        tmp = root / f".epoch-{epoch:03d}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        core.save_pretrained(tmp)
        opt_state = save_optimizer(tmp, optimizer)
        atomic_write_text(tmp / STATE_JSON, json.dumps({"model_type": name, "epoch": epoch, "step": step,
                                                        "optimizer": opt_state, **dict(partial or {}),
                                                        "train_config": cfg.as_dict()}, indent=1))
        if target.exists():
            shutil.rmtree(target)
        tmp.replace(target)
        for old in sorted(p for p in root.glob("epoch-*"))[: -max(cfg.keep_checkpoints, 1)]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def save_final(accelerator: Any, core: Any, out: Path, *, epochs: int, steps: int, cfg: TrainConfig,
               source: str, selected: Mapping[str, Any] | None = None) -> None:
    """Write the trained generator into ``out`` itself, with its training provenance in ``config.json``
    (``selected``: the validation record of the epoch whose weights ``core`` holds, when the run selects one)."""
    if accelerator.is_main_process:
        info = {"epochs": epochs, "steps": steps, "train_config": cfg.as_dict(), "data": source}
        if selected is not None:
            info["selected"] = dict(selected)
        core.save_pretrained(out, extra={"training": info})
    accelerator.wait_for_everyone()
