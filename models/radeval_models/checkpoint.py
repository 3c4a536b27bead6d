"""The on-disk form of a trained generator: ``config.json`` + ``model.safetensors`` (never pickles).

Layout of a generator directory::

    config.json          {"format": "radeval-generator/1", "model_type": "rad3d-prefix-v3", "config": {...}}
    model.safetensors    the weights the generator trained (a frozen LLM is referenced by its spec, not copied)
    llm/                 (fully trained models only) the LLM's HF config and tokenizer, so no spec is needed

A legacy ``pytorch_model.bin`` is read with ``torch.load(weights_only=True)`` only when no safetensors file exists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from radeval.errors import InputError
from radeval.paths import atomic_write_text

FORMAT = "radeval-generator/1"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
LEGACY_WEIGHTS_NAME = "pytorch_model.bin"


def save_checkpoint(directory: str | Path, *, model_type: str, config: Mapping[str, Any],
                    tensors: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``config.json`` and ``model.safetensors`` into ``directory`` (created if needed).

    Args:
        directory: the generator directory.
        model_type: the registry name of the generator (checked again on load).
        config: the generator's JSON-serialisable settings.
        tensors: name -> torch tensor (shared storage is copied, so tied weights save fine).
        extra: more top-level JSON fields (e.g. training provenance).

    Returns:
        The directory.
    """
    from safetensors.torch import save_file

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    contiguous = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    tmp = out / f".{WEIGHTS_NAME}.tmp"
    save_file(contiguous, str(tmp), metadata={"format": FORMAT, "model_type": model_type})
    tmp.replace(out / WEIGHTS_NAME)
    body = {"format": FORMAT, "model_type": model_type, "config": dict(config), **dict(extra or {})}
    atomic_write_text(out / CONFIG_NAME, json.dumps(body, indent=2, sort_keys=True) + "\n")
    return out


def read_checkpoint_config(directory: str | Path, *, expected_type: str | None = None) -> dict[str, Any]:
    """Read and check ``config.json`` of a generator directory.

    Args:
        directory: the generator directory.
        expected_type: the registry name the caller can load; a different ``model_type`` is an error.

    Returns:
        The whole JSON object (``model_type``, ``config``, ...).

    Raises:
        InputError: missing directory/file, invalid JSON, wrong format or a checkpoint of another model — the
            message names the file.
    """
    path = Path(directory) / CONFIG_NAME
    if not Path(directory).is_dir():
        raise InputError(f"{directory}: generator directory not found")
    if not path.is_file():
        raise InputError(f"{path}: not found; {directory} is not a saved generator")
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        found = body.get("format") if isinstance(body, dict) else None
        raise InputError(f"{path}: format {found!r}, expected {FORMAT!r} (not a radeval generator checkpoint)")
    if expected_type is not None and body.get("model_type") != expected_type:
        raise InputError(f"{path}: checkpoint of model {body.get('model_type')!r}, cannot load it as {expected_type!r}")
    return body


def load_checkpoint_tensors(directory: str | Path) -> dict[str, Any]:
    """The tensors of ``model.safetensors`` (or, failing that, a legacy ``pytorch_model.bin`` read weights-only)."""
    folder = Path(directory)
    path = folder / WEIGHTS_NAME
    if path.is_file():
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:  # safetensors raises its own error types on corrupt files
            raise InputError(f"{path}: unreadable safetensors file ({exc})") from None
    legacy = folder / LEGACY_WEIGHTS_NAME
    if legacy.is_file():
        import torch

        try:
            state = torch.load(str(legacy), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputError(f"{legacy}: not a weights-only torch file ({exc})") from None
        if not isinstance(state, dict):
            raise InputError(f"{legacy}: expected a state dict, got {type(state).__name__}")
        return state
    raise InputError(f"{path}: not found (no weights in {folder})")


def checkpoint_model_type(directory: str | Path) -> str:
    """The registry name recorded in a generator directory."""
    return str(read_checkpoint_config(directory)["model_type"])


def load_generator(directory: str | Path, **kwargs: Any) -> Any:
    """Load any saved generator: look up its ``model_type`` in the registry and call its ``from_pretrained``."""
    from radeval.registry import get_generator

    return get_generator(checkpoint_model_type(directory)).from_pretrained(directory, **kwargs)
