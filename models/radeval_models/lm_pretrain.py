"""Causal-language-model pretraining on a list of texts: the loop behind the small LLaMAs built locally.

:func:`pretrain_causal_lm` trains a ``transformers`` causal LM on texts (each followed by EOS; padding masked from
the loss) with AdamW, either full-batch at a constant rate (``batch_size=None``; what the tiny test LLMs of
:mod:`radeval_models.tiny_llm` use) or on seeded shuffled mini-batches with a linear warm-up and a cosine decay
(the stand-in report LLM of :mod:`radeval_models.findings_lm`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any


def cosine_rate(step: int, *, steps: int, lr: float, warmup: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based): linear warm-up over ``warmup`` steps, then a cosine
    decay to 0 at ``steps``.

    Example:
        >>> [round(cosine_rate(s, steps=10, lr=1.0, warmup=2), 3) for s in (0, 1, 2, 9)]
        [0.5, 1.0, 1.0, 0.038]
    """
    if step < warmup:
        return lr * (step + 1) / warmup
    span = max(steps - warmup, 1)
    return lr * 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / span))


def pretrain_causal_lm(model: Any, tokenizer: Any, texts: Sequence[str], *, steps: int, lr: float,
                       batch_size: int | None = None, warmup: int = 0, seed: int = 0, weight_decay: float = 0.01,
                       grad_clip: float | None = 1.0,
                       on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Train ``model`` as a language model of ``texts`` (+ EOS each) and return the loss of every step.

    Args:
        model: a ``transformers`` causal LM (trained in place, left in eval mode).
        tokenizer: its tokenizer (``eos_token_id`` ends every text and pads).
        texts: training texts.
        steps: optimizer steps.
        lr: peak learning rate.
        batch_size: texts per step, drawn from seeded reshuffles of the texts (``None``: every text every step,
            constant rate — ``warmup`` is then ignored).
        warmup: warm-up steps of the cosine schedule.
        seed: the shuffling seed.
        weight_decay: AdamW weight decay.
        grad_clip: gradient-norm clip (``None``: none).
        on_step: called with ``(step, loss)`` after each step (progress display).

    Raises:
        ValueError: no texts, or ``steps``/``batch_size`` below 1.
    """
    import torch

    from radeval_models.lm_loss import IGNORE_INDEX, pad_right

    if not texts:
        raise ValueError("pretrain_causal_lm: no texts")
    if steps < 1 or (batch_size is not None and batch_size < 1):
        raise ValueError(f"pretrain_causal_lm: steps={steps}, batch_size={batch_size}; both must be >= 1")
    eos = tokenizer.eos_token_id
    rows = [ids + [eos] for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng = random.Random(seed)
    queue: list[int] = []
    losses: list[float] = []
    model.train()
    for step in range(steps):
        if batch_size is None:
            batch = rows
        else:
            while len(queue) < batch_size:
                order = list(range(len(rows)))
                rng.shuffle(order)
                queue.extend(order)
            batch, queue = [rows[i] for i in queue[:batch_size]], queue[batch_size:]
            for group in optimizer.param_groups:
                group["lr"] = cosine_rate(step, steps=steps, lr=lr, warmup=warmup)
        input_ids, mask = pad_right(batch, eos)
        labels = input_ids.masked_fill(mask == 0, IGNORE_INDEX)
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        if grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
    model.eval()
    return losses


__all__ = ["cosine_rate", "pretrain_causal_lm"]
