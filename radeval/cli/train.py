"""``radeval train``: train a registered report generator on an embedding file and its reports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from radeval.errors import InputError


class _TrainDefault:
    """A ``TrainConfig`` field's default, read only when shown (``radeval train --help``) so that building the
    parser (``radeval --help``) does not import ``models``; :func:`run` leaves such a value to ``TrainConfig``."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __str__(self) -> str:
        from radeval_models.train_config import TrainConfig

        return str(getattr(TrainConfig(), self.field))


class _Defaults:
    def __getattr__(self, field: str) -> _TrainDefault:
        return _TrainDefault(field)


_DEFAULTS = _Defaults()


def add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    """``--llm``, ``--set KEY=VALUE`` and ``--model-config`` (generator settings)."""
    parser.add_argument("--llm", help="LLM spec: smollm2 or gemma3-270m (embedded), findings-lm-<key> (the demo's "
                                      "stand-in, built by `radeval bench`), a .gguf file, a local directory or a hub id")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="generator setting, e.g. prefix_length=5 or num_layers=2 (repeatable)")
    parser.add_argument("--model-config", type=Path, metavar="YAML",
                        help="YAML/JSON mapping of generator settings; --set and --llm override it")


def generator_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Merge ``--model-config``, ``--set`` and ``--llm`` into one mapping.

    Raises:
        InputError: an unreadable config file or a ``--set`` without ``=``.
    """
    import yaml

    values: dict[str, Any] = {}
    if getattr(args, "model_config", None):
        try:
            loaded = yaml.safe_load(Path(args.model_config).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"{args.model_config}: cannot read generator settings ({exc})") from None
        if not isinstance(loaded, dict):
            raise InputError(f"{args.model_config}: expected a mapping of settings")
        values.update(loaded)
    for item in args.settings:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InputError(f"--set {item!r}: expected KEY=VALUE")
        values[key.strip()] = yaml.safe_load(raw) if raw.strip() else raw
    if getattr(args, "llm", None):
        values["llm"] = args.llm
    return values


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = sub.add_parser("train", help="train a report generator",
                       description="Train a registered generator (see `radeval models list`) on image embeddings and "
                                   "reference reports. Re-running with the same --out resumes the run.")
    p.add_argument("--model", required=True, help="registry name, e.g. rad3d-prefix-v3")
    p.add_argument("--embeddings", type=Path, help="embedding file written by `radeval embed`")
    p.add_argument("--reports", type=Path, help="reference reports of the training cases (JSONL id/text or CSV)")
    p.add_argument("--data", type=Path, help="dataset directory holding <split>.safetensors and <split>.jsonl")
    p.add_argument("--split", default="train", help="split name inside --data (default: train)")
    p.add_argument("--out", type=Path, required=True, help="run directory (checkpoints, metrics.jsonl, final model)")
    add_setting_arguments(p)
    p.add_argument("--epochs", type=int, default=_DEFAULTS.epochs, help="epochs (default: %(default)s)")
    p.add_argument("--lr", type=float, default=_DEFAULTS.lr, help="learning rate (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=_DEFAULTS.batch_size,
                   help="global batch per optimizer step (default: %(default)s)")
    p.add_argument("--grad-accum", type=int, default=_DEFAULTS.grad_accum,
                   help="gradient accumulation steps (default: %(default)s)")
    p.add_argument("--optimizer", choices=["adamw", "adam"], default=_DEFAULTS.optimizer)
    p.add_argument("--max-steps", type=int, default=_DEFAULTS.max_steps, help="stop after this many steps")
    p.add_argument("--seed", type=int, default=_DEFAULTS.seed, help="seed (default: %(default)s)")
    p.add_argument("--mixed-precision", choices=["auto", "no", "bf16"], default=_DEFAULTS.mixed_precision)
    p.add_argument("--train-config", type=Path, metavar="YAML",
                   help="YAML/JSON mapping of training settings (any TrainConfig field, e.g. CT2Rep's "
                        "{optimizer: adam, amsgrad: true, weight_decay: 5.0e-5, lr_schedule: step, lr_gamma: 0.8, "
                        "grad_clip: 0.1, grad_clip_mode: value}); the options above override it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def _train_config_file(path: Path | None) -> dict[str, Any]:
    """The mapping of a ``--train-config`` file (empty without one).

    Raises:
        InputError: an unreadable file or not a mapping, naming the file.
    """
    if path is None:
        return {}
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read training settings ({exc})") from None
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: expected a mapping of training settings")
    return loaded


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval train``."""
    from radeval_models.dataset_dir import split_embeddings, split_reports
    from radeval_models.train import train_generator
    from radeval_models.train_config import TrainConfig

    embeddings = args.embeddings or (split_embeddings(args.data, args.split) if args.data else None)
    reports = args.reports or (split_reports(args.data, args.split) if args.data else None)
    if embeddings is None or reports is None:
        raise InputError("give --embeddings and --reports, or --data DIR")
    given = dict(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, grad_accum=args.grad_accum,
                 optimizer=args.optimizer, max_steps=args.max_steps, seed=args.seed,
                 mixed_precision=args.mixed_precision)
    values = {**_train_config_file(args.train_config),
              **{k: v for k, v in given.items() if not isinstance(v, _TrainDefault)}}
    config = TrainConfig.from_mapping(values, source=str(args.train_config or "radeval train"))
    result = train_generator(args.model, generator_settings(args), embeddings, reports, args.out, config,
                             quiet=args.quiet)
    from radeval.number_format import MISSING_NA, fixed

    loss = fixed(result.last_loss, 4, missing=MISSING_NA)
    print(f"{result.model_type}: {result.epochs_done} epoch(s), {result.steps} step(s), last loss {loss}, "
          f"{result.parameters.trainable:,} trainable / {result.parameters.total:,} parameters -> {result.out_dir}")
    return 0
