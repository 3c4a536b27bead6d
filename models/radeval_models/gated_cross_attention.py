"""Gated cross-attention grafted onto decoder layers of a causal LM (Flamingo-style gate, zero at start).

After decoder layer ``l`` the hidden states ``h`` (``batch x t x H``) read the visual tokens ``v`` (``batch x K x H``):

    h <- h + tanh(g) * MHA(LayerNorm(h), v, v)

with a learnable scalar gate ``g`` initialised to 0, so the grafted LLM starts out computing exactly what it did
before. The blocks are attached with forward hooks, so any HF decoder whose layers return the hidden states (a
tensor, or a tuple whose first element is it) works unchanged, including under PEFT adapters and a KV cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class GatedCrossAttention(nn.Module):
    """One gated cross-attention block of width ``dim`` with ``num_heads`` heads."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, num_heads, bias=False, batch_first=True)  # no biases: see zone_compression
        self.gate = nn.Parameter(torch.zeros(()))

    def forward(self, hidden: torch.Tensor, visual: torch.Tensor) -> torch.Tensor:
        q = self.norm(hidden)
        out, _ = self.attn(q, visual.to(q.dtype), visual.to(q.dtype), need_weights=False)
        return hidden + torch.tanh(self.gate).to(hidden.dtype) * out


def default_layers(n_layers: int) -> tuple[int, ...]:
    """The quarter points ``{L/4, L/2, 3L/4}`` of an ``L``-layer decoder (7, 14, 21 for 28 layers).

    Example:
        >>> default_layers(28), default_layers(2)
        ((7, 14, 21), (0, 1))
    """
    return tuple(sorted({n_layers * k // 4 for k in (1, 2, 3)}))


def decoder_layers(lm: Any) -> Sequence[nn.Module]:
    """The decoder layers of an HF causal LM (also under a PEFT wrapper)."""
    base = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
    return base.model.layers


class VisualContext:
    """Holds the visual tokens the hooks read during one forward pass or one decoding run."""

    def __init__(self) -> None:
        self.tokens: torch.Tensor | None = None


def attach(lm: Any, blocks: nn.ModuleList, layers: Sequence[int], context: VisualContext) -> list[Any]:
    """Hook ``blocks[i]`` after decoder layer ``layers[i]``; returns the hook handles.

    A forward pass with ``context.tokens`` unset leaves the LLM untouched.
    """
    modules = decoder_layers(lm)
    handles = []
    for block, index in zip(blocks, layers, strict=True):
        def hook(_module: nn.Module, _inputs: Any, output: Any, block: nn.Module = block) -> Any:
            if context.tokens is None:
                return output
            if isinstance(output, tuple):
                return (block(output[0], context.tokens),) + tuple(output[1:])
            return block(output, context.tokens)
        handles.append(modules[index].register_forward_hook(hook))
    return handles


class GraftedDecoding:
    """A grafted LM as :func:`radeval_models.generation.greedy_decode` calls it, with per-row visual tokens.

    The visual tokens travel as the ``visual`` keyword (``greedy_decode``'s ``forward_kwargs``), so rows that finish
    early leave the batch together with their visual tokens, and each forward pass sets the hooks' context for exactly
    the rows it computes.

    Args:
        lm: the grafted causal LM (PEFT-wrapped or not).
        context: the :class:`VisualContext` its hooks read.
    """

    def __init__(self, lm: Any, context: VisualContext) -> None:
        self.lm = lm
        self.context = context
        base = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
        import inspect

        self._cache_keyword = "cache" if "cache" in inspect.signature(type(base).forward).parameters \
            else "past_key_values"

    def forward(self, input_ids: Any = None, attention_mask: Any = None, position_ids: Any = None, cache: Any = None,
                inputs_embeds: Any = None, use_cache: Any = None, logits_to_keep: Any = 0,
                visual: torch.Tensor | None = None) -> Any:
        """One forward pass of the LM with ``visual`` as the cross-attention memory."""
        self.context.tokens = visual
        try:
            return self.lm(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                           inputs_embeds=inputs_embeds, use_cache=use_cache, logits_to_keep=logits_to_keep,
                           **{self._cache_keyword: cache})
        finally:
            self.context.tokens = None

    __call__ = forward
