"""The training loop shared by every bundled generator (HF Accelerate: one CPU, N GPUs or several nodes alike).

``train_generator("rad3d-prefix-v3", {"llm": "smollm2"}, "train.safetensors", "train.jsonl", "runs/v3")`` trains a
registered generator on an embedding file and its reference reports and leaves a loadable generator directory in
``out_dir``. Properties:

* ``batch_size`` is the *global* batch of one optimizer step (split over processes and accumulation steps), and the
  loss is normalised by the number of report tokens of that whole batch, so 1 process and N processes take the same
  step. Data order depends only on ``seed`` and the epoch.
* Only trainable parameters reach the optimizer (frozen LLM weights have ``requires_grad=False`` and no state).
* After every epoch a complete checkpoint (weights + optimizer state, safetensors + JSON, no pickles) is written to
  ``out_dir/checkpoints/epoch-NNN``; a re-run with the same ``out_dir`` resumes after the last complete one.
* ``out_dir/metrics.jsonl`` logs every optimizer step and epoch; a tqdm bar shows progress.
* bf16 autocast on GPUs (``mixed_precision="auto"``); float32 on CPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from models.generator import GeneratorModel, ParameterCounts
from models.train_config import TrainConfig
from radeval.data.embeddings import EmbeddingSet, load_embeddings
from radeval.errors import InputError
from radeval.io import read_reports
from radeval.paths import atomic_write_text
from radeval.registry import get_generator

CHECKPOINT_DIR = "checkpoints"
STATE_TENSORS = "optimizer.safetensors"
STATE_JSON = "training_state.json"
METRICS_NAME = "metrics.jsonl"


@dataclass(frozen=True)
class TrainResult:
    """What a training run did."""

    out_dir: Path
    model_type: str
    epochs_done: int
    steps: int
    last_loss: float | None
    resumed_from_epoch: int
    seconds: float
    parameters: ParameterCounts


def load_training_pairs(embeddings: EmbeddingSet | str | Path, reports: Mapping[str, str] | str | Path
                        ) -> tuple[EmbeddingSet, list[str], str]:
    """The embedding set and the report of each of its cases, in its order.

    Raises:
        InputError: a case of the embedding file without a report (naming the ids and both files).
    """
    source = str(embeddings) if not isinstance(embeddings, EmbeddingSet) else "embeddings"
    data = embeddings if isinstance(embeddings, EmbeddingSet) else load_embeddings(embeddings)
    texts = dict(reports) if isinstance(reports, Mapping) else dict(read_reports(reports))
    missing = [c for c in data.case_ids if c not in texts]
    if missing:
        where = reports if not isinstance(reports, Mapping) else "the reports"
        raise InputError(f"{len(missing)} case(s) of {source} have no report in {where}: {missing[:10]}")
    if len(data) == 0:
        raise InputError(f"{source}: no training cases")
    return data, [texts[c] for c in data.case_ids], source


def _model_settings(cls: type, model_config: Any, data: EmbeddingSet) -> Any:
    """Fill ``embedding_dim`` / ``n_logits`` from the data unless given."""
    values = dataclasses.asdict(model_config) if dataclasses.is_dataclass(model_config) else dict(model_config or {})
    values.setdefault("embedding_dim", data.dim)
    if data.logits is not None:
        values.setdefault("n_logits", int(data.logits.shape[1]))
    return cls.parse_config(values)


def _mixed_precision(mode: str) -> str:
    if mode not in {"auto", "no", "bf16"}:
        raise InputError(f"mixed_precision must be 'auto', 'no' or 'bf16', got {mode!r}")
    if mode == "auto":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    return mode


def _check_train_config(cfg: TrainConfig) -> None:
    """Refuse settings the loop cannot honour (instead of a ZeroDivisionError or a silent no-op deep inside)."""
    for field, low in (("batch_size", 1), ("grad_accum", 1), ("epochs", 0), ("keep_checkpoints", 1)):
        value = getattr(cfg, field)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InputError(f"{field} must be an integer >= {low}, got {value!r}")
    if cfg.max_steps is not None and (not isinstance(cfg.max_steps, int) or cfg.max_steps < 0):
        raise InputError(f"max_steps must be an integer >= 0, got {cfg.max_steps!r}")
    if not (isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and cfg.lr >= 0):
        raise InputError(f"lr must be a finite number >= 0, got {cfg.lr!r}")


def _epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled global batches of one epoch; the last one is filled up from the start of the order."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch)).tolist()
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if len(batches[-1]) < batch_size:
        filler = (order * math.ceil(batch_size / n))[: batch_size - len(batches[-1])]
        batches[-1] = batches[-1] + filler
    return batches


def _latest_checkpoint(out_dir: Path) -> Path | None:
    root = out_dir / CHECKPOINT_DIR
    done = sorted(p for p in root.glob("epoch-*") if (p / STATE_JSON).is_file()) if root.is_dir() else []
    return done[-1] if done else None


def _save_optimizer(directory: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
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


def _load_optimizer(directory: Path, optimizer: torch.optim.Optimizer, saved: Mapping[str, Any]) -> None:
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


def _trim_metrics(path: Path, step: int) -> None:
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


def train_generator(name: str, model_config: Any, embeddings: EmbeddingSet | str | Path,
                    reports: Mapping[str, str] | str | Path, out_dir: str | Path,
                    train_config: TrainConfig | Mapping[str, Any] | None = None) -> TrainResult:
    """Train the registered generator ``name`` and save it to ``out_dir``.

    Args:
        name: registry name (``rad3d-prefix-v3``, ``r2gengpt``, ``baseline`` ...).
        model_config: the generator's settings (dataclass or mapping; ``embedding_dim``/``n_logits`` default to the
            data's).
        embeddings: training embedding file (or set).
        reports: the reference report of every training case (JSONL/CSV path or mapping id -> text).
        out_dir: where checkpoints, the metrics log and the final generator go; an existing run there is resumed.
        train_config: :class:`TrainConfig` or a mapping of its fields.

    Returns:
        A :class:`TrainResult`.

    Raises:
        UnknownNameError: ``name`` is not registered.
        InputError: missing reports, bad embeddings, inconsistent batch settings, or a resume directory holding
            another model.

    Example:
        The nearest-neighbour ``dummy`` generator on two cases; a real generator takes the same call, e.g.
        ``train_generator("rad3d-prefix-v2", {"llm": "smollm2", "num_layers": 2}, ..., {"epochs": 3, "lr": 1e-3})``.

        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from radeval.data.embeddings import EmbeddingSet, save_embeddings
        >>> from radeval.io import write_reports
        >>> work = Path(tempfile.mkdtemp())
        >>> save_embeddings(work / "train.safetensors", EmbeddingSet(["a", "b"], np.eye(2)))
        >>> write_reports(work / "train.jsonl", {"a": "No effusion.", "b": "Small nodule."})
        >>> result = train_generator("dummy", {}, work / "train.safetensors", work / "train.jsonl", work / "run")
        >>> result.model_type, result.epochs_done, result.resumed_from_epoch
        ('dummy', 1, 0)
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    cfg = train_config if isinstance(train_config, TrainConfig) else TrainConfig(**dict(train_config or {}))
    _check_train_config(cfg)
    cls = get_generator(name)
    data, texts, source = load_training_pairs(embeddings, reports)
    if hasattr(cls, "fit") and not (isinstance(cls, type) and issubclass(cls, GeneratorModel)):
        start = time.perf_counter()  # a non-neural generator (``dummy``): fit in one go
        fitted = cls.fit(data.case_ids, data.embeddings, texts, model_config)
        fitted.save_pretrained(out_dir)
        return TrainResult(Path(out_dir), name, 1, 0, None, 0, time.perf_counter() - start, ParameterCounts(0, 0))
    if not (isinstance(cls, type) and issubclass(cls, GeneratorModel)):
        raise InputError(f"{name!r} is a plug-in generator without a training interface (no fit, not a GeneratorModel)")
    settings = _model_settings(cls, model_config, data)
    out = Path(out_dir)
    accelerator = Accelerator(mixed_precision=_mixed_precision(cfg.mixed_precision),
                              cpu=not torch.cuda.is_available())
    world, rank = accelerator.num_processes, accelerator.process_index
    if cfg.batch_size % (world * cfg.grad_accum):
        raise InputError(f"batch_size {cfg.batch_size} is not divisible by processes ({world}) x grad_accum "
                         f"({cfg.grad_accum})")
    micro = cfg.batch_size // (world * cfg.grad_accum)
    start = time.perf_counter()

    resume_dir = _latest_checkpoint(out)
    set_seed(cfg.seed)
    if resume_dir is not None:
        model = cls.from_pretrained(resume_dir)
        saved = json.loads((resume_dir / STATE_JSON).read_text(encoding="utf-8"))
        if saved.get("model_type") != name:
            raise InputError(f"{resume_dir / STATE_JSON}: run of {saved.get('model_type')!r}, not {name!r}; "
                             f"use another --out")
        step = int(saved["step"])
        wanted, found = dataclasses.asdict(settings), dataclasses.asdict(model.config)
        changed = sorted(k for k in wanted if wanted[k] != found.get(k))
        if changed:
            raise InputError(f"{resume_dir}: the run in {out} was started with other settings "
                             f"({', '.join(f'{k}={found.get(k)!r}, now {wanted[k]!r}' for k in changed)}); "
                             f"use the same settings to resume it, or another --out")
    else:
        model = cls.from_config(settings)
        saved, step = {}, 0
    params = [p for p in model.parameters() if p.requires_grad]
    opt_cls = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}.get(cfg.optimizer)
    if opt_cls is None:
        raise InputError(f"optimizer must be 'adamw' or 'adam', got {cfg.optimizer!r}")
    kwargs = {"weight_decay": cfg.weight_decay} if cfg.optimizer == "adamw" else {}
    optimizer = opt_cls(params, lr=cfg.lr, **kwargs)
    if resume_dir is not None:
        _load_optimizer(resume_dir, optimizer, saved["optimizer"])
    model, optimizer = accelerator.prepare(model, optimizer)
    core: GeneratorModel = accelerator.unwrap_model(model)
    counts = core.parameter_counts()
    metrics_path = out / METRICS_NAME
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        _trim_metrics(metrics_path, step)
    conditioning = core.conditioning(data.case_ids, data.embeddings, data.logits, source=source)

    steps_per_epoch = math.ceil(len(data) / cfg.batch_size)
    # Where to continue: a checkpoint written when max_steps stopped a run mid-epoch resumes inside that epoch.
    epoch0, skip = divmod(step, steps_per_epoch)
    total_steps = steps_per_epoch * cfg.epochs if cfg.max_steps is None else min(cfg.max_steps,
                                                                                  steps_per_epoch * cfg.epochs)
    bar = tqdm(total=total_steps, initial=min(step, total_steps), disable=cfg.quiet or not accelerator.is_main_process,
               desc=f"train {name}", unit="step")
    last_loss: float | None = None
    epoch = epoch0
    model.train()
    while epoch < cfg.epochs and step < total_steps:
        epoch_loss, epoch_tokens = 0.0, 0
        if skip:  # the part of this epoch done before the resume
            epoch_loss, epoch_tokens = float(saved.get("epoch_loss", 0.0)), int(saved.get("epoch_tokens", 0))
        for batch_rows in _epoch_batches(len(data), cfg.batch_size, cfg.seed, epoch)[skip:]:
            if step >= total_steps:
                break
            t0 = time.perf_counter()
            mine = batch_rows[rank * micro * cfg.grad_accum:(rank + 1) * micro * cfg.grad_accum]
            loss_sum = torch.zeros((), device=accelerator.device)
            n_tokens = torch.zeros((), device=accelerator.device, dtype=torch.long)
            for j in range(cfg.grad_accum):
                rows = mine[j * micro:(j + 1) * micro]
                batch = core.collate([texts[i] for i in rows], conditioning[rows])
                batch = {k: v.to(accelerator.device) for k, v in batch.items()}
                sync = j == cfg.grad_accum - 1
                with (accelerator.no_sync(model) if not sync else contextlib.nullcontext()):
                    with accelerator.autocast():
                        result = model(**batch)
                    accelerator.backward(result["loss_sum"])
                loss_sum += result["loss_sum"].detach()
                n_tokens += result["n_tokens"]
            totals = accelerator.reduce(torch.stack([loss_sum, n_tokens.to(loss_sum.dtype)]), reduction="sum")
            global_tokens = max(float(totals[1]), 1.0)
            for p in params:  # DDP averaged over processes; turn the summed loss into a per-token mean
                if p.grad is not None:
                    p.grad.mul_(world / global_tokens)
            if cfg.grad_clip is not None:
                accelerator.clip_grad_norm_(params, cfg.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            last_loss = float(totals[0]) / global_tokens
            epoch_loss += float(totals[0])
            epoch_tokens += int(totals[1])
            if accelerator.is_main_process:
                _append_jsonl(metrics_path, {"event": "step", "epoch": epoch + 1, "step": step, "loss": last_loss,
                                             "tokens": int(totals[1]), "lr": cfg.lr,
                                             "seconds": round(time.perf_counter() - t0, 4)})
            bar.update(1)
            bar.set_postfix(loss=f"{last_loss:.4f}", epoch=epoch + 1)
        skip = 0
        epoch += 1
        finished_epoch = step % steps_per_epoch == 0
        if accelerator.is_main_process and finished_epoch:  # a part-epoch (max_steps) is logged when it completes
            _append_jsonl(metrics_path, {"event": "epoch", "epoch": epoch, "step": step,
                                         "loss": epoch_loss / max(epoch_tokens, 1)})
        if finished_epoch or step >= total_steps:
            _save_epoch(accelerator, core, optimizer, out, name, epoch, step, cfg,
                        partial={} if finished_epoch else {"epoch_loss": epoch_loss, "epoch_tokens": epoch_tokens})
    bar.close()
    if accelerator.is_main_process:
        core.save_pretrained(out, extra={"training": {"epochs": epoch, "steps": step,
                                                      "train_config": dataclasses.asdict(cfg),
                                                      "data": source}})
    accelerator.wait_for_everyone()
    return TrainResult(out, name, epoch, step, last_loss, epoch0, time.perf_counter() - start, counts)


def _append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _save_epoch(accelerator: Any, core: GeneratorModel, optimizer: Any, out: Path, name: str, epoch: int, step: int,
                cfg: TrainConfig, partial: Mapping[str, Any] | None = None) -> None:
    """Write ``checkpoints/epoch-NNN`` atomically (temporary dir + rename) and prune old ones."""
    if accelerator.is_main_process:
        root = out / CHECKPOINT_DIR
        target = root / f"epoch-{epoch:03d}"
        tmp = root / f".epoch-{epoch:03d}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        core.save_pretrained(tmp)
        opt_state = _save_optimizer(tmp, optimizer)
        atomic_write_text(tmp / STATE_JSON, json.dumps({"model_type": name, "epoch": epoch, "step": step,
                                                        "optimizer": opt_state, **dict(partial or {}),
                                                        "train_config": dataclasses.asdict(cfg)}, indent=1))
        if target.exists():
            shutil.rmtree(target)
        tmp.replace(target)
        for old in sorted(p for p in root.glob("epoch-*"))[: -max(cfg.keep_checkpoints, 1)]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
