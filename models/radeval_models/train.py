"""The training entry point shared by every bundled generator (HF Accelerate: one CPU, N GPUs or several nodes alike).

``train_generator("rad3d-prefix-v3", {"llm": "smollm2"}, "train.safetensors", "train.jsonl", "runs/v3")`` trains a
registered generator on an embedding file and its reference reports and leaves a loadable generator directory in
``out_dir``. Which generators it can train, and how, is the :class:`radeval.registry.TrainableGenerator` contract:
``training = "fit"`` generators learn in one ``fit`` call; ``training = "loop"`` ones (every
:class:`radeval_models.generator.GeneratorModel`) go through the gradient loop, whose steps live in their own modules:

* resume and save — :mod:`radeval_models.train_checkpoints` (epoch checkpoints, the resume checks, the metrics log);
* optimizer — :mod:`radeval_models.train_optimizer` (built over trainable weights only; state saved without pickles);
* epoch — :mod:`radeval_models.train_epoch` (global batches, micro-batches, per-token normalisation, logging, the
  learning-rate schedule);
* checkpoint selection — :mod:`radeval_models.train_validation` (held-out cases, ``0.5 * BLEU-4 + 0.5 * CIDEr``).

Properties:

* ``batch_size`` is the *global* batch of one optimizer step (split over processes and accumulation steps), and the
  loss is normalised by the number of report tokens of that whole batch, so 1 process and N processes take the same
  step. Data order depends only on ``seed`` and the epoch.
* Only trainable parameters reach the optimizer (frozen LLM weights have ``requires_grad=False`` and no state).
* After every epoch a complete checkpoint (weights + optimizer state, safetensors + JSON, no pickles) is written to
  ``out_dir/checkpoints/epoch-NNN``; a re-run with the same ``out_dir`` resumes after the last complete one, and
  refuses to if a setting that shapes the trajectory (:attr:`TrainConfig.RESUME_FIXED`) changed.
* ``out_dir/metrics.jsonl`` logs every optimizer step and epoch; a tqdm bar shows progress unless ``quiet``.
* bf16 autocast on GPUs (``mixed_precision="auto"``), or anywhere with ``"bf16"``; float32 otherwise. Runs with
  different precisions can follow each other in one process.
* Before the first step the generator must show that its conditioning reaches the LLM
  (:meth:`radeval_models.generator.GeneratorModel.check_visual_input`); one that would ignore the image fails.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from radeval_models.generator import ParameterCounts
from radeval_models.train_checkpoints import METRICS_NAME, find_resume_point, save_final, trim_metrics
from radeval_models.train_config import TrainConfig, check_train_config
from radeval_models.train_epoch import LoopProgress, TrainingLoop, run_epochs, total_steps
from radeval_models.train_optimizer import build_optimizer, load_optimizer
from radeval_models.train_phases import check_phases
from radeval_models.train_validation import ValidationSet, held_out_rows, restore_best
from radeval.data.embeddings import EmbeddingSet, load_embeddings
from radeval.errors import InputError
from radeval.io import read_reports
from radeval.registry import TrainableGenerator, trainable_generator


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


def train_generator(name: str, model_config: Any, embeddings: EmbeddingSet | str | Path,
                    reports: Mapping[str, str] | str | Path, out_dir: str | Path,
                    train_config: TrainConfig | Mapping[str, Any] | None = None, *, quiet: bool = False
                    ) -> TrainResult:
    """Train the registered generator ``name`` and save it to ``out_dir``.

    Args:
        name: registry name (``rad3d-prefix-v3``, ``r2gengpt``, ``baseline`` ...) of a
            :class:`~radeval.registry.TrainableGenerator`.
        model_config: the generator's settings (dataclass or mapping; ``embedding_dim``/``n_logits`` default to the
            data's).
        embeddings: training embedding file (or set).
        reports: the reference report of every training case (JSONL/CSV path or mapping id -> text).
        out_dir: where checkpoints, the metrics log and the final generator go; an existing run there is resumed.
        train_config: :class:`TrainConfig` or a mapping of its fields.
        quiet: no progress bar (a display option: not part of ``train_config``, so never recorded or hashed).

    Returns:
        A :class:`TrainResult`.

    Raises:
        UnknownNameError: ``name`` is not registered.
        InputError: a generator without a training interface, unknown or impossible settings, missing reports, bad
            embeddings, inconsistent batch settings, or a resume directory holding another model or a run started
            with other settings (naming the setting).

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
    cfg = TrainConfig.from_mapping(train_config)
    check_train_config(cfg)
    cls = trainable_generator(name)
    data, texts, source = load_training_pairs(embeddings, reports)
    check_slab_tokens(cls, data, source)
    settings = _model_settings(cls, model_config, data)
    if cls.training == "fit":
        ignored = [k for k, v in cfg.as_dict().items() if v != getattr(TrainConfig(), k)]
        if ignored:
            raise InputError(f"{name!r} learns in one fit() call: the training setting(s) {ignored} do not apply to it")
        return _fit(cls, name, settings, data, texts, Path(out_dir))
    return _train_loop(cls, name, settings, data, texts, source, Path(out_dir), cfg, quiet=quiet)


def _model_settings(cls: TrainableGenerator, model_config: Any, data: EmbeddingSet) -> Any:
    """Fill ``embedding_dim`` / ``n_logits`` from the data unless given (for configs that have them)."""
    values = dataclasses.asdict(model_config) if dataclasses.is_dataclass(model_config) else dict(model_config or {})
    fields = {f.name for f in dataclasses.fields(cls.config_class)} if dataclasses.is_dataclass(cls.config_class) \
        else {"embedding_dim", "n_logits"}
    if "embedding_dim" in fields:
        values.setdefault("embedding_dim", data.dim)
    if data.logits is not None and "n_logits" in fields:
        values.setdefault("n_logits", int(data.logits.shape[1]))
    if data.slab_tokens is not None and {"n_slabs", "slab_dim"} <= fields:
        values.setdefault("n_slabs", int(data.slab_tokens.shape[1]))
        values.setdefault("slab_dim", int(data.slab_tokens.shape[2]))
    return cls.parse_config(values)


def check_slab_tokens(cls: Any, data: EmbeddingSet, source: str) -> None:
    """Refuse, before any model is built, to train a slab-token generator on a file without slab tokens.

    Raises:
        InputError: naming the file and the ``radeval embed --slab-tokens`` option.
    """
    if getattr(cls, "use_slab_tokens", False) and data.slab_tokens is None:
        raise InputError(f"{source}: {cls.name} reads CT-CLIP slab tokens, but this embedding file has none; "
                         "re-run `radeval embed --slab-tokens` (suite: `embed: {slab_tokens: true}`)")


def _fit(cls: Any, name: str, settings: Any, data: EmbeddingSet, texts: list[str], out: Path) -> TrainResult:
    """A ``training = "fit"`` generator: learn in one call, save, no checkpoints."""
    start = time.perf_counter()
    fitted = cls.fit(data.case_ids, data.embeddings, texts, settings)
    fitted.save_pretrained(out)
    return TrainResult(out, name, 1, 0, None, 0, time.perf_counter() - start, ParameterCounts(0, 0))


def _micro_batch(cfg: TrainConfig, world: int) -> int:
    """Cases per micro-batch on one process.

    Raises:
        InputError: ``batch_size`` does not split evenly over processes and accumulation steps.
    """
    if cfg.batch_size % (world * cfg.grad_accum):
        raise InputError(f"batch_size {cfg.batch_size} is not divisible by processes ({world}) x grad_accum "
                         f"({cfg.grad_accum})")
    return cfg.batch_size // (world * cfg.grad_accum)


def _train_loop(cls: Any, name: str, settings: Any, data: EmbeddingSet, texts: list[str], source: str, out: Path,
                cfg: TrainConfig, *, quiet: bool) -> TrainResult:
    """A ``training = "loop"`` generator: resume or build, optimizer, epochs, final save."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    handlers = []
    if getattr(cls, "curriculum", False):  # a phase may leave whole modules out of the forward pass
        from accelerate.utils import DistributedDataParallelKwargs

        handlers.append(DistributedDataParallelKwargs(find_unused_parameters=True))
    # Autocast is the loop's own (train_epoch.autocast_context), not Accelerate's: Accelerate keeps one process-wide
    # state, and a second Accelerator with another mixed_precision in the same process (a suite whose systems train
    # with different precisions, one after the other) is refused with "AcceleratorState has already been initialized".
    accelerator = Accelerator(mixed_precision="no", cpu=not torch.cuda.is_available(), kwargs_handlers=handlers)
    micro = _micro_batch(cfg, accelerator.num_processes)
    start = time.perf_counter()
    resume = find_resume_point(out, name, cls, settings, cfg)  # checks every setting before any weights load
    set_seed(cfg.seed)
    model = cls.from_pretrained(resume.directory) if resume is not None else cls.from_training_data(settings, texts)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    optimizer = build_optimizer(params, cfg)
    if resume is not None:
        load_optimizer(resume.directory, optimizer, resume.state["optimizer"])
    model, optimizer = accelerator.prepare(model, optimizer)
    core = accelerator.unwrap_model(model)
    counts = core.parameter_counts()
    progress = LoopProgress(step=resume.step if resume is not None else 0, epoch=0)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        trim_metrics(out / METRICS_NAME, progress.step)
    conditioning = core.conditioning(data.case_ids, data.embeddings, data.logits, source=source,
                                     slab_tokens=data.slab_tokens)
    core.check_visual_input(conditioning)  # a generator that would ignore the image fails before any step
    validation = None
    if cfg.select_by != "last":
        try:
            rows, held = held_out_rows(len(texts), cfg.validation_fraction, cfg.seed)
        except ValueError as exc:
            raise InputError(f"{source}: {exc}") from None
        validation = ValidationSet([texts[i] for i in held], conditioning[held])
        texts, conditioning = [texts[i] for i in rows], conditioning[rows]
    if resume is None:  # on the training split only (after any held-out split)
        core.fit_training_data(texts, conditioning)
    total = total_steps(len(texts), cfg)
    steps_per_epoch = -(-len(texts) // cfg.batch_size)
    phases = tuple(core.training_phases(steps_per_epoch))
    check_phases(phases, model=name, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch, max_steps=cfg.max_steps)
    bar = tqdm(total=total, initial=min(progress.step, total), desc=f"train {name}",
               disable=quiet or not accelerator.is_main_process, unit="step")
    loop = TrainingLoop(name=name, cfg=cfg, accelerator=accelerator, model=model, core=core, optimizer=optimizer,
                        params=params, texts=texts, conditioning=conditioning, micro=micro, out=out, bar=bar,
                        validation=validation, named_params=tuple(named), phases=phases)
    epoch0 = progress.step // loop.steps_per_epoch
    run_epochs(loop, progress, resume.state if resume is not None else {})
    bar.close()
    selected = restore_best(core, out) if validation is not None and accelerator.is_main_process else None
    save_final(accelerator, core, out, epochs=progress.epoch, steps=progress.step, cfg=cfg, source=source,
               selected=selected)
    return TrainResult(out, name, progress.epoch, progress.step, progress.last_loss, epoch0,
                       time.perf_counter() - start, counts)
