"""Small language models written to a local directory, for tests and smoke runs offline.

``write_tiny_llama(dir)`` saves a 2-layer LLaMA (hidden 64): a real ``LlamaForCausalLM`` checkpoint plus tokenizer
that any LLM spec accepts as a local directory, loading in well under a second.

* Tokenizer: the GPT-2 BPE (default), or — with ``vocab_size`` — a byte-level BPE trained on ``texts``, which keeps
  the output layer tiny and training fast.
* Weights: random, or — with ``texts`` — trained as a plain language model on them for ``steps`` steps. A random LLM
  cannot be steered by a prefix (its output side has never learned to emit anything), so frozen-LLM tests use a
  pretrained one, a stand-in for a real LLM that "knows the language" of the reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from radeval_models.gpt2_tokenizer import load_gpt2_tokenizer

EOS = "<|endoftext|>"


def train_bpe_tokenizer(texts: Sequence[str], vocab_size: int) -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``texts`` (``<|endoftext|>`` = BOS/EOS/pad).

    Example:
        >>> tok = train_bpe_tokenizer(["No pleural effusion."], 300)
        >>> tok.decode(tok("No pleural effusion.")["input_ids"])
        'No pleural effusion.'
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token=EOS, eos_token=EOS, pad_token=EOS)


def small_llama_config(tokenizer: Any, *, hidden_size: int, num_layers: int, num_heads: int) -> Any:
    """A ``LlamaConfig`` for ``tokenizer``: MLP width 2 x hidden, key/value heads half the heads, tied embeddings,
    1024 positions, BOS/EOS from the tokenizer.

    Example:
        >>> cfg = small_llama_config(train_bpe_tokenizer(["No effusion."], 300), hidden_size=64, num_layers=2,
        ...                          num_heads=4)
        >>> cfg.intermediate_size, cfg.num_key_value_heads, cfg.tie_word_embeddings
        (128, 2, True)
    """
    from transformers import LlamaConfig

    if hidden_size % num_heads:
        raise ValueError(f"hidden_size={hidden_size} is not a multiple of num_heads={num_heads}")
    return LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                       num_hidden_layers=num_layers, num_attention_heads=num_heads,
                       num_key_value_heads=max(num_heads // 2, 1), max_position_embeddings=1024,
                       tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, pad_token_id=None)


def write_tiny_llama(directory: str | Path, *, hidden_size: int = 64, num_layers: int = 2, num_heads: int = 4,
                     seed: int = 0, texts: Sequence[str] = (), vocab_size: int | None = None, steps: int = 300,
                     lr: float = 3e-3) -> Path:
    """Write a small LLaMA + tokenizer into ``directory`` (kept if it already holds one) and return it.

    Args:
        directory: target folder.
        hidden_size: model width (``num_heads`` must divide it).
        num_layers: decoder layers.
        num_heads: attention heads (key/value heads: half of them).
        seed: weight initialisation seed (same seed, same weights).
        texts: if given, language-model pretraining texts (each ends with EOS).
        vocab_size: train a byte-level BPE of this size on ``texts`` instead of using the GPT-2 BPE.
        steps: full-batch AdamW steps of the pretraining.
        lr: its learning rate.
    """
    import torch
    from transformers import LlamaForCausalLM

    out = Path(directory)
    if (out / "config.json").is_file() and (out / "model.safetensors").is_file():
        return out
    if vocab_size is not None and not texts:
        raise ValueError("vocab_size needs texts to train the tokenizer on")
    tokenizer = train_bpe_tokenizer(texts, vocab_size) if vocab_size else load_gpt2_tokenizer()
    config = small_llama_config(tokenizer, hidden_size=hidden_size, num_layers=num_layers, num_heads=num_heads)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if texts:
        _pretrain(model, tokenizer, texts, steps=steps, lr=lr)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _pretrain(model: Any, tokenizer: Any, texts: Sequence[str], *, steps: int, lr: float) -> None:
    """Full-batch causal-LM training on ``texts`` (+ EOS) at a constant rate, padding masked with -100."""
    from radeval_models.lm_pretrain import pretrain_causal_lm

    pretrain_causal_lm(model, tokenizer, texts, steps=steps, lr=lr, batch_size=None, grad_clip=None)
