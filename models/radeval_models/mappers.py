"""Mappers from an image embedding (optionally ⊕ diagnostic logits) to a sequence of LLM input embeddings.

* :class:`TransformerMapper` — the ClipCap-style transformer mapper RAD3D-Prefix uses: a linear layer turns the
  input vector into ``clip_length`` tokens, ``prefix_length`` learned constant tokens are appended, a stack of
  pre-LN, non-causal self-attention layers mixes them, and the outputs at the constants' positions are the prefix.
* :class:`LinearMapper` — one linear layer reshaped into ``prefix_length`` tokens.
* :class:`ProjectionNormMapper` — R2GenGPT's visual mapper: Linear then LayerNorm, one token.

Parameter counts match the reference decomposition exactly (see ``tests/models/test_mappers.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MapperAttention(nn.Module):
    """Multi-head self-attention with a bias-free query and fused key/value projection, biased output projection.

    Args:
        dim: token width.
        num_heads: number of heads; must divide ``dim``.
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"mapper width {dim} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_kv = nn.Linear(dim, 2 * dim, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend every token to every token (no mask, no positional encoding)."""
        b, n, d = x.shape
        q = self.to_q(x).view(b, n, self.num_heads, self.head_dim).transpose(1, 2)
        k, v = self.to_kv(x).view(b, n, 2, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)  # scale = head_dim ** -0.5
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class MapperLayer(nn.Module):
    """One pre-LN block: ``x + Attn(LN(x))`` then ``x + MLP(LN(x))`` with a ReLU MLP of width ``mlp_ratio * dim``."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MapperAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the attention and MLP sub-blocks with residual connections."""
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TransformerMapper(nn.Module):
    """Vector -> ``prefix_length`` LLM-width tokens through a small transformer.

    Args:
        input_dim: width of the input vector (512 for the CT-CLIP latent, 530 with 18 logits appended).
        output_dim: the LLM hidden size.
        prefix_length: number of output tokens (learned constants appended to the input tokens).
        clip_length: number of tokens the input vector is split into by the first linear layer.
        num_layers: transformer depth.
        num_heads: attention heads.

    Example:
        >>> m = TransformerMapper(8, 16, prefix_length=3, clip_length=2, num_layers=1, num_heads=2)
        >>> tuple(m(torch.zeros(4, 8)).shape)
        (4, 3, 16)
    """

    def __init__(self, input_dim: int, output_dim: int, *, prefix_length: int = 10, clip_length: int = 10,
                 num_layers: int = 8, num_heads: int = 8) -> None:
        super().__init__()
        self.input_dim, self.output_dim = input_dim, output_dim
        self.prefix_length, self.clip_length = prefix_length, clip_length
        self.linear = nn.Linear(input_dim, clip_length * output_dim)
        self.prefix_const = nn.Parameter(torch.randn(prefix_length, output_dim))
        self.layers = nn.ModuleList(MapperLayer(output_dim, num_heads) for _ in range(num_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, input_dim)`` to ``(batch, prefix_length, output_dim)``."""
        tokens = self.linear(x).view(x.shape[0], self.clip_length, self.output_dim)
        const = self.prefix_const.unsqueeze(0).expand(x.shape[0], -1, -1)
        h = torch.cat([tokens, const], dim=1)
        for layer in self.layers:
            h = layer(h)
        return h[:, self.clip_length:]


class LinearMapper(nn.Module):
    """Vector -> ``prefix_length`` tokens by one linear layer (the "linear projector" ablation).

    Example:
        >>> tuple(LinearMapper(530, 2048, prefix_length=10)(torch.zeros(1, 530)).shape)
        (1, 10, 2048)
    """

    def __init__(self, input_dim: int, output_dim: int, *, prefix_length: int = 10) -> None:
        super().__init__()
        self.input_dim, self.output_dim, self.prefix_length = input_dim, output_dim, prefix_length
        self.linear = nn.Linear(input_dim, prefix_length * output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, input_dim)`` to ``(batch, prefix_length, output_dim)``."""
        return self.linear(x).view(x.shape[0], self.prefix_length, self.output_dim)


class ProjectionNormMapper(nn.Module):
    """Vector -> one token: ``LayerNorm(Linear(x))`` (R2GenGPT's shallow visual mapper).

    Example:
        >>> sum(p.numel() for p in ProjectionNormMapper(512, 2048).parameters())
        1054720
    """

    def __init__(self, input_dim: int, output_dim: int) -> None:
        super().__init__()
        self.input_dim, self.output_dim, self.prefix_length = input_dim, output_dim, 1
        self.proj = nn.Linear(input_dim, output_dim)
        self.norm = nn.LayerNorm(output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, input_dim)`` to ``(batch, 1, output_dim)``."""
        return self.norm(self.proj(x)).unsqueeze(1)
