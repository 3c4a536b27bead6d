"""An instruction prompt with the image spliced in: ``[BOS, prompt before <ImageHere>, visual tokens, prompt after]``,
as R2GenGPT and Ker-VLJEPA feed their frozen LLM."""

from __future__ import annotations

from typing import Any

import torch

#: Where the visual tokens go in a prompt.
IMAGE_PLACEHOLDER = "<ImageHere>"


def prompt_pieces(tokenizer: Any, prompt: str) -> tuple[list[int], list[int]]:
    """Token ids of the prompt before (after the tokenizer's BOS, if it has one) and after :data:`IMAGE_PLACEHOLDER`.

    ``prompt`` must hold the placeholder exactly once (the generators check this when they are built).
    """
    before, after = prompt.split(IMAGE_PLACEHOLDER)
    head = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    return (head + tokenizer(before, add_special_tokens=False)["input_ids"],
            tokenizer(after, add_special_tokens=False)["input_ids"])


def prompt_context(lm: Any, tokenizer: Any, prompt: str, visual: torch.Tensor) -> torch.Tensor:
    """``(batch, length, hidden)`` input embeddings: the prompt's tokens around ``visual`` ``(batch, k, hidden)``."""
    before, after = prompt_pieces(tokenizer, prompt)
    embed = lm.get_input_embeddings()
    device, b = embed.weight.device, visual.shape[0]
    head = embed(torch.tensor(before, device=device)).unsqueeze(0).expand(b, -1, -1)
    tail = embed(torch.tensor(after, device=device)).unsqueeze(0).expand(b, -1, -1)
    return torch.cat([head, visual, tail], dim=1)
