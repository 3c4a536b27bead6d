"""Small randomly initialised language models written to a local directory, for tests and smoke runs offline.

``write_tiny_llama(dir)`` saves a 2-layer LLaMA (hidden 64) with the GPT-2 BPE tokenizer: a real
``LlamaForCausalLM`` checkpoint any LLM spec accepts as a local directory, loading in well under a second.

A randomly initialised LLM cannot be steered by a prefix (its logits are nearly flat), so ``texts`` can be given: the
model is then trained as a plain language model on them for ``steps`` steps — a stand-in for a pretrained LLM that
"knows the language" of the reports, which a frozen-LLM generator must then learn to select from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.gpt2_tokenizer import load_gpt2_tokenizer


def write_tiny_llama(directory: str | Path, *, hidden_size: int = 64, num_layers: int = 2, num_heads: int = 4,
                     seed: int = 0, texts: Sequence[str] = (), steps: int = 300, lr: float = 3e-3) -> Path:
    """Write a random LLaMA + GPT-2 tokenizer into ``directory`` (kept if it already holds one) and return it.

    Args:
        directory: target folder.
        hidden_size: model width (``num_heads`` must divide it).
        num_layers: decoder layers.
        num_heads: attention heads (key/value heads: half of them).
        seed: weight initialisation seed (same seed, same weights).
        texts: if given, language-model pretraining texts (each ends with EOS).
        steps: full-batch AdamW steps of that pretraining.
        lr: its learning rate.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(directory)
    if (out / "config.json").is_file() and (out / "model.safetensors").is_file():
        return out
    tokenizer = load_gpt2_tokenizer()
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

    from models.lm_loss import IGNORE_INDEX, pad_right

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
