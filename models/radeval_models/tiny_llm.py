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
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(directory)
    if (out / "config.json").is_file() and (out / "model.safetensors").is_file():
        return out
    if vocab_size is not None and not texts:
        raise ValueError("vocab_size needs texts to train the tokenizer on")
    tokenizer = train_bpe_tokenizer(texts, vocab_size) if vocab_size else load_gpt2_tokenizer()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=num_layers, num_attention_heads=num_heads,
                         num_key_value_heads=max(num_heads // 2, 1), max_position_embeddings=1024,
                         tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=None)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if texts:
        _pretrain(model, tokenizer, texts, steps=steps, lr=lr)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _pretrain(model: Any, tokenizer: Any, texts: Sequence[str], *, steps: int, lr: float) -> None:
    """Full-batch causal-LM training on ``texts`` (+ EOS), padding masked with -100."""
    import torch

    from radeval_models.lm_loss import IGNORE_INDEX, pad_right

    rows = [ids + [tokenizer.eos_token_id] for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
    input_ids, mask = pad_right(rows, tokenizer.eos_token_id)
    labels = input_ids.masked_fill(mask == 0, IGNORE_INDEX)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
