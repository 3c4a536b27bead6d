"""Report-token loss and target tensors shared by the generators: right padding, -100 labels, summed cross-entropy.

The loss is returned as a *sum* with its token count so the training loop can normalise by the number of target
tokens of the whole (distributed, accumulated) batch — a one-process run and an N-process run then take the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

#: Label value ignored by the loss (padding, prefix and prompt positions).
IGNORE_INDEX = -100


def pad_right(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists; returns ``(input_ids, attention_mask)``. The pad id is never a training target.

    Example:
        >>> ids, mask = pad_right([[5, 6, 7], [8]], pad_id=0)
        >>> ids.tolist(), mask.tolist()
        ([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]])
    """
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        input_ids[i, : len(r)] = torch.tensor(list(r), dtype=torch.long)
        mask[i, : len(r)] = 1
    return input_ids, mask


def report_targets(tokenizer: Any, texts: Sequence[str], max_tokens: int, *,
                   bos: bool = False) -> dict[str, torch.Tensor]:
    """Tokenise reports for teacher forcing: ``[BOS] report EOS``, cut to ``max_tokens``, right-padded.

    Returns:
        ``{"input_ids", "attention_mask", "labels"}``; labels are the ids with padding set to :data:`IGNORE_INDEX`.
        With ``bos=True`` a tokenizer without a BOS token starts each row with its EOS token (GPT-2's convention).
    """
    head: list[int] = []
    if bos:
        head = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
    keep = max_tokens - 1 - len(head)
    rows = [head + ids[:keep] + [tokenizer.eos_token_id]
            for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
    input_ids, mask = pad_right(rows, tokenizer.pad_token_id)
    return {"input_ids": input_ids, "attention_mask": mask, "labels": input_ids.masked_fill(mask == 0, IGNORE_INDEX)}


def loss_after_context(lm: Any, context: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                       labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """:func:`shifted_loss` of a causal LM reading ``context`` embeddings (``(batch, c, hidden)``) before the reports.

    The context positions are attended to and never targets.
    """
    c = context.shape[1]
    embeds = torch.cat([context, lm.get_input_embeddings()(input_ids)], dim=1)
    mask = torch.cat([attention_mask.new_ones(attention_mask.shape[0], c), attention_mask], dim=1)
    full_labels = torch.cat([labels.new_full((labels.shape[0], c), IGNORE_INDEX), labels], dim=1)
    return shifted_loss(lm(inputs_embeds=embeds, attention_mask=mask).logits, full_labels)


def shifted_loss(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Causal LM cross-entropy summed over non-ignored targets (position t predicts label t + 1).

    Returns:
        ``{"loss_sum": scalar, "n_tokens": scalar}``.
    """
    targets = labels[:, 1:]
    loss_sum = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), targets.flatten(), ignore_index=IGNORE_INDEX,
                               reduction="sum")
    return {"loss_sum": loss_sum, "n_tokens": (targets != IGNORE_INDEX).sum()}
