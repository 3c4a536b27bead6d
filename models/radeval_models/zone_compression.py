"""Zone-constrained cross-attention: ``S`` slab tokens compressed into ``K`` visual tokens, one per contiguous zone.

Slab ``s`` of ``S`` belongs to zone ``floor(s * K / S)``; zone ``k``'s learnable query attends only to the slabs of
its zone (an attention mask forbids the rest), so each output token summarises one axial stretch of the volume.
A learnable zone positional encoding is added to the slab tokens first, and one pre-norm transformer encoder layer
over the ``K`` tokens follows, letting the zones exchange context.

The attention projections and the mixer have no biases: a key bias receives no gradient at all (softmax ignores a
shift shared by all keys), and Adam would turn its round-off noise into full-size steps that differ between a
1-process and an N-process run.
"""

from __future__ import annotations

import torch
from torch import nn


def zone_of_slabs(n_slabs: int, n_zones: int) -> torch.Tensor:
    """Zone index of each slab (contiguous, as equal as integer division allows).

    Raises:
        ValueError: ``n_zones`` outside ``[1, n_slabs]``.

    Example:
        >>> zone_of_slabs(6, 4).tolist()
        [0, 0, 1, 2, 2, 3]
    """
    if not 1 <= n_zones <= n_slabs:
        raise ValueError(f"n_zones must be between 1 and the number of slabs ({n_slabs}), got {n_zones}")
    return torch.arange(n_slabs) * n_zones // n_slabs


class ZoneCompressor(nn.Module):
    """``(batch, n_slabs, dim)`` slab tokens -> ``(batch, n_zones, dim)`` zone tokens.

    Args:
        n_slabs: slab tokens per case.
        n_zones: output tokens ``K`` (``1 <= K <= n_slabs``).
        dim: slab-token width.
        num_heads: attention heads (divide ``dim``).
    """

    def __init__(self, n_slabs: int, n_zones: int, dim: int, num_heads: int) -> None:
        super().__init__()
        zones = zone_of_slabs(n_slabs, n_zones)
        self.register_buffer("zone_index", zones, persistent=False)
        # mask[k, s] is True where query k must not look: slabs outside its zone
        self.register_buffer("blocked", zones[None, :] != torch.arange(n_zones)[:, None], persistent=False)
        self.queries = nn.Parameter(torch.randn(n_zones, dim) * dim ** -0.5)
        self.zone_pos = nn.Parameter(torch.zeros(n_zones, dim))
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, num_heads, bias=False, batch_first=True)
        self.mixer = nn.TransformerEncoderLayer(dim, num_heads, dim_feedforward=2 * dim, dropout=0.0,
                                                batch_first=True, norm_first=True, bias=False)

    def forward(self, slabs: torch.Tensor) -> torch.Tensor:
        x = self.norm(slabs + self.zone_pos[self.zone_index])
        q = self.queries.unsqueeze(0).expand(slabs.shape[0], -1, -1)
        tokens, _ = self.attn(q, x, x, attn_mask=self.blocked, need_weights=False)
        return self.mixer(tokens)

    def attention_weights(self, slabs: torch.Tensor) -> torch.Tensor:
        """``(batch, n_zones, n_slabs)`` head-averaged attention of the zone queries (zero outside each zone)."""
        x = self.norm(slabs + self.zone_pos[self.zone_index])
        q = self.queries.unsqueeze(0).expand(slabs.shape[0], -1, -1)
        _, weights = self.attn(q, x, x, attn_mask=self.blocked, need_weights=True)
        return weights
