"""Transformer parts of CT-ViT, with CT-CLIP's module and parameter names (so its checkpoints load strictly).

Parameter layout per transformer block (a ``ModuleList`` of four slots, as in CT-CLIP):
``0`` PEG (depthwise Conv3d ``dsconv``), ``1`` self-attention, ``2`` unused cross-attention slot, ``3`` feed-forward
(``Sequential``: LayerNorm, Linear, GEGLU, Dropout, Linear). Attention norms are bias-free LayerNorms whose
``gamma`` is a parameter and ``beta`` a (saved) zero buffer.

Two behaviours are kept exactly as CT-CLIP computes them, because the released weights were trained with them:
keys and values are projected from the block input *before* the attention LayerNorm (only queries see the
norm), and the PEG of the temporal transformer reshapes its ``(b h w) t d`` tokens to ``(b, t, h, w, d)``
by plain reshaping.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BiasFreeLayerNorm(nn.Module):
    """LayerNorm with a learned scale ``gamma`` and a fixed zero shift ``beta`` (a buffer)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))
        self.register_buffer("beta", torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:], self.gamma, self.beta)


class GEGLU(nn.Module):
    """Split the last axis in halves ``(x, gate)`` and return ``gelu(gate) * x``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, gate = x.chunk(2, dim=-1)
        return F.gelu(gate) * x


def feed_forward(dim: int, mult: float = 4.0, dropout: float = 0.0) -> nn.Sequential:
    """LN -> Linear(dim, 2 * inner) -> GEGLU -> Dropout -> Linear(inner, dim), inner = int(mult * 2/3 * dim)."""
    inner = int(mult * (2 / 3) * dim)
    return nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, inner * 2, bias=False), GEGLU(), nn.Dropout(dropout),
                         nn.Linear(inner, dim, bias=False))


class PEG(nn.Module):
    """Position-generating depthwise 3x3x3 convolution over the (t, h, w) token grid.

    With ``causal=True`` the depth axis is padded with two frames in front and none behind.
    """

    def __init__(self, dim: int, causal: bool = False) -> None:
        super().__init__()
        self.causal = causal
        self.dsconv = nn.Conv3d(dim, dim, 3, groups=dim)

    def forward(self, x: torch.Tensor, shape: tuple[int, int, int, int]) -> torch.Tensor:
        orig_shape = x.shape
        grid = x.reshape(*shape, -1).permute(0, 4, 1, 2, 3)  # (b, d, t, h, w)
        front, back = (2, 0) if self.causal else (1, 1)
        grid = F.pad(grid, (1, 1, 1, 1, front, back))
        grid = self.dsconv(grid)
        return grid.permute(0, 2, 3, 4, 1).reshape(orig_shape)


class Attention(nn.Module):
    """Cosine-similarity multi-head attention (l2-normalised q, k with learned per-dim scales, fixed scale 8)."""

    def __init__(self, dim: int, *, dim_head: int = 64, heads: int = 8, dropout: float = 0.0,
                 scale: float = 8.0, num_null_kv: int = 0) -> None:
        super().__init__()
        self.heads = heads
        self.scale = scale
        self.num_null_kv = num_null_kv
        inner = dim_head * heads
        self.attn_dropout = nn.Dropout(dropout)
        self.norm = BiasFreeLayerNorm(dim)
        self.context_norm = BiasFreeLayerNorm(dim)
        self.null_kv = nn.Parameter(torch.randn(heads, 2 * num_null_kv, dim_head))
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.q_scale = nn.Parameter(torch.ones(dim_head))
        self.k_scale = nn.Parameter(torch.ones(dim_head))
        self.to_out = nn.Linear(inner, dim, bias=False)

    def _split_heads(self, t: torch.Tensor) -> torch.Tensor:
        b, n, _ = t.shape
        return t.reshape(b, n, self.heads, -1).transpose(1, 2)

    def forward(self, x: torch.Tensor, attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        kv_input = x  # CT-CLIP projects keys/values from the un-normalised input
        q = self.to_q(self.norm(x))
        k, v = self.to_kv(kv_input).chunk(2, dim=-1)
        q, k, v = map(self._split_heads, (q, k, v))
        if self.num_null_kv:
            nk, nv = self.null_kv.reshape(self.heads, self.num_null_kv, 2, -1).unbind(dim=-2)
            batch = x.shape[0]
            k = torch.cat((nk.expand(batch, -1, -1, -1), k), dim=-2)
            v = torch.cat((nv.expand(batch, -1, -1, -1), v), dim=-2)
        q = F.normalize(q, dim=-1) * self.q_scale
        k = F.normalize(k, dim=-1) * self.k_scale
        sim = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        if attn_bias is not None:
            sim = sim + F.pad(attn_bias, (self.num_null_kv, 0))
        attn = self.attn_dropout(sim.softmax(dim=-1))
        out = torch.matmul(attn, v)
        b, h, n, d = out.shape
        return self.to_out(out.transpose(1, 2).reshape(b, n, h * d))


class ContinuousPositionBias(nn.Module):
    """Per-head attention bias from an MLP on signed log relative (row, col) distances (Swin-v2 style).

    The MLP runs once per distinct offset ((2h-1)(2w-1) of them) and is gathered to all token pairs, which
    gives the same bias as evaluating it on every pair.
    """

    def __init__(self, *, dim: int, heads: int, num_dims: int = 2, layers: int = 2) -> None:
        super().__init__()
        self.num_dims = num_dims
        self.net = nn.ModuleList([nn.Sequential(nn.Linear(num_dims, dim), nn.LeakyReLU(0.1))])
        for _ in range(layers - 1):
            self.net.append(nn.Sequential(nn.Linear(dim, dim), nn.LeakyReLU(0.1)))
        self.net.append(nn.Linear(dim, heads))

    def forward(self, h: int, w: int) -> torch.Tensor:
        device = self.net[-1].weight.device
        dy = torch.arange(-(h - 1), h, device=device)
        dx = torch.arange(-(w - 1), w, device=device)
        offsets = torch.stack(torch.meshgrid(dy, dx, indexing="ij"), dim=-1).reshape(-1, 2).float()
        feats = torch.sign(offsets) * torch.log(offsets.abs() + 1)
        for layer in self.net:
            feats = layer(feats)  # ((2h-1)(2w-1), heads)
        rows = torch.arange(h, device=device).repeat_interleave(w)
        cols = torch.arange(w, device=device).repeat(h)
        index = (rows[:, None] - rows[None, :] + h - 1) * (2 * w - 1) + (cols[:, None] - cols[None, :] + w - 1)
        return feats[index].permute(2, 0, 1)  # (heads, h*w, h*w)


class Transformer(nn.Module):
    """Blocks of [PEG, self-attention, (empty cross-attention slot), feed-forward] and a final norm."""

    def __init__(self, dim: int, *, depth: int, dim_head: int = 64, heads: int = 8, ff_mult: float = 4.0,
                 peg: bool = True, peg_causal: bool = True, attn_dropout: float = 0.0, ff_dropout: float = 0.0) -> None:
        super().__init__()
        self.layers = nn.ModuleList([])
        for _ in range(depth):
            self.layers.append(nn.ModuleList([
                PEG(dim, causal=peg_causal) if peg else None,
                Attention(dim, dim_head=dim_head, heads=heads, dropout=attn_dropout),
                None,
                feed_forward(dim, mult=ff_mult, dropout=ff_dropout),
            ]))
        self.norm_out = BiasFreeLayerNorm(dim)

    def forward(self, x: torch.Tensor, video_shape: tuple[int, int, int, int],
                attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        for peg, attn, _cross, ff in self.layers:
            if peg is not None:
                x = peg(x, video_shape) + x
            x = attn(x, attn_bias=attn_bias) + x
            x = ff(x) + x
        return self.norm_out(x)


def l2norm(t: torch.Tensor) -> torch.Tensor:
    """Normalise the last axis to unit length."""
    return F.normalize(t, dim=-1)
