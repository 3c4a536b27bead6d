"""The suite's ``systems`` section: one entry per system, checked before anything is embedded or trained.

A system is a predictions file, or a registry model with a ``checkpoint``, or a registry model to ``train``.
The keys a model accepts are not listed here: ``config`` keys are the fields of the generator's own config
dataclass (``config_class`` of the registered class) and ``train`` keys the fields of the training config
dataclass (:class:`radeval_models.train_config.TrainConfig`), so a new generator setting or training option is valid in
a suite as soon as it exists on the model side.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radeval.schema import INVALID, Choice, Context, FilePath, Integer, Number, Problems, Table, Text, key, parse_section


@dataclass(frozen=True)
class EarlyStopping:
    """``true``, ``false`` or ``"never"`` (Hugging Face ``generate``'s ``early_stopping``)."""

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        if isinstance(value, bool) or value == "never":
            return value
        problems.add(where, f"expected true, false or \"never\", got {value!r}")
        return INVALID


#: Values of a system's ``fidelity``: how closely it follows its source (paper or upstream code).
FIDELITY_LEVELS: tuple[str, ...] = ("reproduced", "reconstructed")


@dataclass(frozen=True)
class GenerateSpec:
    """The ``generate`` settings of a model system (decoding).

    Every key but ``batch_size`` overrides the generator's decoding default (``radeval generate --num-beams`` etc.);
    a key left out keeps the generator's default (greedy, except R2GenGPT's published beam search). The keys given
    are part of the predictions' cache key, so reports decoded with other settings are never reused.

    Attributes:
        batch_size: cases per generation batch.
        num_beams: beams per case (1 = greedy).
        repetition_penalty: penalty on already generated tokens (> 1 discourages repeats; > 0).
        length_penalty: beam search: exponent of the length dividing a hypothesis' log-probability.
        min_new_tokens: EOS forbidden before this many tokens.
        max_new_tokens: cap on generated tokens.
        early_stopping: beam search: ``false`` (HF's heuristic), ``true`` or ``"never"``.
    """

    batch_size: int = key(8, Integer(low=1))
    num_beams: int | None = key(None, Integer(low=1))
    repetition_penalty: float | None = key(None, Number(low=0.0, open_bounds=True))
    length_penalty: float | None = key(None, Number())
    min_new_tokens: int | None = key(None, Integer(low=0))
    max_new_tokens: int | None = key(None, Integer(low=1))
    early_stopping: bool | str | None = key(None, EarlyStopping())


#: The ``generate`` keys that are decoding settings (all but ``batch_size``).
DECODING_KEYS: tuple[str, ...] = ("num_beams", "repetition_penalty", "length_penalty", "min_new_tokens",
                                  "max_new_tokens", "early_stopping")


@dataclass(frozen=True)
class SystemSpec:
    """One entry of ``systems``: a predictions file, or a registry model (checkpoint, or trained here).

    Attributes:
        name: the system's name (YAML numbers such as ``2024`` are read as text).
        predictions: a predictions file (JSONL / CSV / ReXrank JSON).
        model: a registry generator name (``radeval models`` lists them).
        checkpoint: a saved generator (``save_pretrained`` folder).
        train: training settings (fields of the training config), ``None`` for a checkpoint.
        generate: decoding settings (:class:`GenerateSpec` keys, as given).
        config: the generator's settings (fields of its ``config_class``).
        fidelity: ``"reproduced"`` (every setting that shapes the result is the source's: the paper's text or the
            upstream code) or ``"reconstructed"`` (some are our choices where the sources are silent); ``None``:
            not said. Shown in the leaderboard and the run manifest.
        fidelity_note: what is the source's and what is reconstructed (which table it reproduces, which settings
            were chosen here).
    """

    name: str = key("", Text())
    predictions: Path | None = key(None, FilePath("file"))
    model: str | None = key(None, Text())
    checkpoint: Path | None = key(None, FilePath("any"))
    train: dict[str, Any] | None = key(None, Table())
    generate: dict[str, Any] = key(None, Table(), default_factory=dict)
    config: dict[str, Any] = key(None, Table(), default_factory=dict)
    fidelity: str | None = key(None, Choice(FIDELITY_LEVELS))
    fidelity_note: str = key("", Text())

    @property
    def kind(self) -> str:
        """``predictions``, ``checkpoint`` or ``train``."""
        if self.predictions is not None:
            return "predictions"
        return "checkpoint" if self.checkpoint is not None else "train"


def train_keys() -> list[str]:
    """The keys a system's ``train`` mapping accepts: the fields of the training config dataclass."""
    from radeval_models.train_config import TrainConfig

    return [f.name for f in dataclasses.fields(TrainConfig)]


def config_keys(model: str) -> list[str] | None:
    """The keys of a registry model's ``config``: fields of its ``config_class`` (``None``: it declares none)."""
    from radeval.registry import get_generator

    config_class = getattr(get_generator(model), "config_class", None)
    if config_class is None or not dataclasses.is_dataclass(config_class):
        return None
    return [f.name for f in dataclasses.fields(config_class)]


def check_model_settings(problems: Problems, where: str, model: str, *, config: Mapping[str, Any],
                         train: Mapping[str, Any] | None) -> None:
    """Unknown ``config`` keys (for ``model``) and unknown ``train`` keys, each with its YAML path."""
    allowed = config_keys(model)
    if allowed is not None:
        problems.unknown_keys(f"{where}.config", config, allowed)
    if train is not None:
        problems.unknown_keys(f"{where}.train", train, train_keys())


def _system(raw: Any, problems: Problems, context: Context, where: str, known_models: list[str]) -> SystemSpec | None:
    values = parse_section(SystemSpec, raw, problems, where, context)
    given = raw if isinstance(raw, Mapping) else {}
    name = values.get("name")
    if name is None or name.strip() == "":
        problems.add(where, "missing 'name'")
        return None
    where_named = f"{where} ({name})"
    preds, model = given.get("predictions"), values.get("model")
    ckpt, train = given.get("checkpoint"), values.get("train")
    if preds is None and model is None:
        problems.add(where_named, "needs 'predictions' (a file) or 'model' (a registry name)")
    if values.get("fidelity_note") and values.get("fidelity") is None and "fidelity" not in given:
        problems.add(f"{where}.fidelity_note", "explains a 'fidelity' (reproduced or reconstructed); give that too")
    if preds is not None:
        for other in ("model", "checkpoint", "train", "config", "generate"):
            if given.get(other) is not None:
                problems.add(where_named, f"'predictions' cannot be combined with '{other}' (it applies to registry "
                                          "models)")
    if model is not None:
        if model not in known_models:
            close = difflib.get_close_matches(model, known_models, n=2)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            problems.add(where_named, f"unknown model {model!r}{hint}; registered: {', '.join(known_models)}")
        else:
            check_model_settings(problems, where, model, config=values.get("config", {}), train=train)
        if ckpt is not None and given.get("train") is not None:
            problems.add(where_named, "give either 'checkpoint' or 'train', not both")
        if ckpt is None and given.get("train") is None:
            values["train"] = {}
        if ckpt is not None and given.get("config") is not None:
            problems.add(f"{where}.config", "applies to a model trained here; a checkpoint carries its own config")
    parse_section(GenerateSpec, values.get("generate", {}), problems, f"{where}.generate", context)
    decoding = sorted(k for k in DECODING_KEYS if isinstance(values.get("generate"), Mapping)
                      and values["generate"].get(k) is not None)
    if decoding and model in known_models and not _decodes_tokens(str(model)):
        problems.add(f"{where}.generate", f"model {model!r} decodes no tokens: {', '.join(decoding)} do not apply")
    return SystemSpec(**values)


def _decodes_tokens(model: str) -> bool:
    """Whether a registry generator takes decoding settings (it declares ``decode_settings``)."""
    from radeval.registry import get_generator

    return hasattr(get_generator(model), "decode_settings")


def parse_systems(raw: Any, problems: Problems, context: Context, where: str = "systems") -> tuple[SystemSpec, ...]:
    """Parse the ``systems`` list: names, sources, model names, ``config``/``train``/``generate`` keys.

    Args:
        raw: the list as the YAML holds it.
        problems: the suite's collector (each problem with its YAML path, e.g. ``systems[2].train``).
        context: the suite's folder and whether files must exist.
        where: the section's YAML path.

    Returns:
        the valid systems, in order.
    """
    from radeval.registry import generators

    if not isinstance(raw, list) or not raw:
        problems.add(where, "expected a non-empty list of systems")
        return ()
    known = sorted(generators.names())
    systems: list[SystemSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        system = _system(entry, problems, context, f"{where}[{i}]", known)
        if system is None:
            continue
        if system.name in seen:
            problems.add(f"{where}[{i}] ({system.name})", "duplicate system name")
        seen.add(system.name)
        systems.append(system)
    if len(systems) < 2:
        problems.add(where, "a benchmark compares at least two systems")
    return tuple(systems)


def fidelity_table(systems: tuple[SystemSpec, ...] | list[SystemSpec]) -> dict[str, dict[str, str]]:
    """``{system: {"fidelity": level, "note": text}}`` for the systems that state a fidelity (leaderboard, manifest)."""
    return {s.name: {"fidelity": s.fidelity, "note": s.fidelity_note} for s in systems if s.fidelity is not None}


__all__ = ["DECODING_KEYS", "EarlyStopping", "FIDELITY_LEVELS", "GenerateSpec", "SystemSpec", "check_model_settings", "config_keys", "fidelity_table",
           "parse_systems", "train_keys"]
