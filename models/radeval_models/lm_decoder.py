"""The :class:`~radeval_models.beam_search.IncrementalDecoder` of a Hugging Face causal LM fed input embeddings, and
:func:`decode_lm`, the one call the LLM-based generators decode with.

:class:`CausalLMDecoder` prefills a left-padded batch of conditioning embeddings once, then feeds one token per row
per step with the key/value cache; ``reorder`` index-selects the cache (``Cache.reorder_cache``), the attention mask,
the positions and every per-row forward argument, so the same class serves a decoder-only LLM with a prefix (RAD3D-
Prefix, R2GenGPT) and GPT-2 cross-attending to ``encoder_hidden_states`` (the baseline; the encoder states follow
their beams). On CPU the intra-op thread count of the steps is chosen by timing them, as in
:func:`~radeval_models.generation.greedy_decode`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from radeval_models.beam_search import DecodeSettings, decode_tokens
from radeval_models.generation import ThreadChooser, _forward_parameters, _returned_cache, _set_threads, greedy_decode


class CausalLMDecoder:
    """Incremental decoding state of a HF causal LM over ``inputs_embeds`` (see the module docstring).

    Args:
        lm: a Hugging Face causal LM (or a PEFT wrapper of one).
        inputs_embeds: ``(batch, length, hidden)`` conditioning embeddings, **left**-padded.
        attention_mask: ``(batch, length)``, 1 for real positions (default: all ones).
        max_new_tokens: tokens that will be generated at most (sizes the attention-mask buffer).
        forward_kwargs: per-row tensors passed to every forward call (e.g. ``encoder_hidden_states``); their first
            dimension is the batch and they follow ``reorder``.
        chooser: the CPU thread chooser for the steps (``None``: leave torch's setting alone).

    Example:
        >>> import torch
        >>> from transformers import LlamaConfig, LlamaForCausalLM
        >>> from radeval_models.beam_search import DecodeSettings, beam_search
        >>> _ = torch.manual_seed(0)
        >>> lm = LlamaForCausalLM(LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32,
        ...     num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2)).eval()
        >>> with torch.inference_mode():
        ...     dec = CausalLMDecoder(lm, torch.randn(2, 3, 16), max_new_tokens=4)
        ...     out = beam_search(dec, batch_size=2, settings=DecodeSettings(num_beams=3, max_new_tokens=4),
        ...                       eos_token_id=0)
        >>> [len(row) <= 4 for row in out]
        [True, True]
    """

    def __init__(self, lm: Any, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor | None = None, *,
                 max_new_tokens: int, forward_kwargs: Mapping[str, torch.Tensor] | None = None,
                 chooser: ThreadChooser | None = None) -> None:
        self.lm = lm
        self.inputs_embeds = inputs_embeds
        batch, self.length = inputs_embeds.shape[:2]
        device = inputs_embeds.device
        padded = attention_mask is not None and not bool(attention_mask.all())
        self.mask_buffer: torch.Tensor | None = None
        if padded:
            self.mask_buffer = torch.ones(batch, self.length + max_new_tokens, dtype=torch.long, device=device)
            self.mask_buffer[:, :self.length] = attention_mask
            self.position_ids = (self.mask_buffer[:, :self.length].cumsum(-1) - 1).clamp(min=0)
        else:
            self.position_ids = torch.arange(self.length, device=device).expand(batch, -1)
        self.extra = dict(forward_kwargs or {})
        accepted = _forward_parameters(type(lm.get_base_model() if hasattr(lm, "get_base_model") else lm))
        self.logits_to_keep = "logits_to_keep" in accepted
        self.cache_keyword = "cache" if "cache" in accepted else "past_key_values"  # renamed in transformers 5.x
        self.chooser = chooser
        self.cache: Any = None
        self.next_pos: torch.Tensor | None = None
        self.steps = 0

    def start(self) -> torch.Tensor:
        """Prefill the conditioning; ``(batch, vocab)`` logits of the first new token."""
        if self.chooser is not None:
            _set_threads(self.chooser.choice)
        kwargs = {**self.extra, "logits_to_keep": 1} if self.logits_to_keep else self.extra
        mask = self.mask_buffer[:, :self.length] if self.mask_buffer is not None else None
        out = self.lm(inputs_embeds=self.inputs_embeds, attention_mask=mask, position_ids=self.position_ids,
                      use_cache=True, **kwargs)
        self.cache = _returned_cache(out)
        self.next_pos = self.position_ids[:, -1:] + 1
        return out.logits[:, -1]

    def reorder(self, index: torch.LongTensor) -> None:
        """Row ``i`` of the cache, mask, positions and forward arguments becomes old row ``index[i]``."""
        index = index.to(self.next_pos.device)
        self.cache.reorder_cache(index)
        self.next_pos = self.next_pos[index]
        if self.mask_buffer is not None:
            self.mask_buffer = self.mask_buffer[index]
        self.extra = {k: v[index] for k, v in self.extra.items()}

    def step(self, tokens: torch.LongTensor) -> torch.Tensor:
        """Feed one token per row; ``(rows, vocab)`` logits of the next token."""
        self.steps += 1
        mask = self.mask_buffer[:, :self.length + self.steps] if self.mask_buffer is not None else None
        threads = self.chooser.threads_for_step() if self.chooser is not None else 0
        if self.chooser is not None:
            _set_threads(threads)
        start = time.perf_counter()
        out = self.lm(input_ids=tokens[:, None], attention_mask=mask, position_ids=self.next_pos, use_cache=True,
                      **{self.cache_keyword: self.cache}, **self.extra)
        logits = out.logits[:, -1]
        if self.chooser is not None:
            self.chooser.record(threads, time.perf_counter() - start)
        self.cache = _returned_cache(out)
        self.next_pos = self.next_pos + 1
        return logits


def decode_lm(lm: Any, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor | None = None, *,
              settings: DecodeSettings, stop_ids: Sequence[int],
              forward_kwargs: Mapping[str, torch.Tensor] | None = None,
              num_threads: int | None = None) -> list[list[int]]:
    """Decode a batch of conditioning embeddings with a HF causal LM under ``settings``.

    Plain greedy settings take :func:`~radeval_models.generation.greedy_decode` (the fast path); anything else
    (beams, repetition penalty, minimum length) runs :func:`~radeval_models.beam_search.decode_tokens` on a
    :class:`CausalLMDecoder`. Both equal HF ``generate(inputs_embeds=..., do_sample=False)`` per row.

    Args:
        lm: a Hugging Face causal LM.
        inputs_embeds: ``(batch, length, hidden)``, left-padded.
        attention_mask: ``(batch, length)`` (default: all ones).
        settings: resolved decoding settings (``max_new_tokens`` set).
        stop_ids: EOS token id(s); not returned.
        forward_kwargs: per-row tensors for every forward (e.g. ``encoder_hidden_states``).
        num_threads: CPU intra-op threads (``None``: chosen by timing the steps; restored on return).

    Returns:
        The generated token ids of each row, before the first stop id.

    Raises:
        InputError: unresolved settings (``max_new_tokens`` is ``None``).
    """
    from radeval.errors import InputError

    if settings.max_new_tokens is None:
        raise InputError("decode_lm needs resolved settings (max_new_tokens set)")
    if settings.is_plain_greedy:
        return greedy_decode(lm, inputs_embeds, attention_mask, stop_ids=stop_ids,
                             max_new_tokens=settings.max_new_tokens, forward_kwargs=forward_kwargs,
                             num_threads=num_threads)
    saved_threads = torch.get_num_threads()
    chooser = None
    if inputs_embeds.device.type == "cpu":
        chooser = ThreadChooser([num_threads] if num_threads is not None else [saved_threads, 1])
    try:
        with torch.inference_mode():
            decoder = CausalLMDecoder(lm, inputs_embeds, attention_mask, max_new_tokens=settings.max_new_tokens,
                                      forward_kwargs=forward_kwargs, chooser=chooser)
            return decode_tokens(decoder, batch_size=inputs_embeds.shape[0], settings=settings,
                                 eos_token_id=list(stop_ids))
    finally:
        _set_threads(saved_threads)
