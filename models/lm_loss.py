"""Report-token loss and target tensors shared by the generators: right padding, -100 labels, summed cross-entropy.

The loss is returned as a *sum* with its token count so the training loop can normalise by the number of target
tokens of the whole (distributed, accumulated) batch — a one-process run and an N-process run then take the same step.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def shifted_loss(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Causal LM cross-entropy summed over non-ignored targets (position t predicts label t + 1).

    Returns:
        ``{"loss_sum": scalar, "n_tokens": scalar}``.
    """
    targets = labels[:, 1:]
    loss_sum = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), targets.flatten(), ignore_index=IGNORE_INDEX,
                               reduction="sum")
    return {"loss_sum": loss_sum, "n_tokens": (targets != IGNORE_INDEX).sum()}
