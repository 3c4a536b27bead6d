"""The building blocks of CT2Rep's report generator (the R2Gen lineage), written from its published structure.

* :class:`TransformerLayerNorm` — ``a * (x - mean) / (std + eps) + b`` with the unbiased std and eps 1e-6 (the
  lineage's own LayerNorm; same parameter count as ``nn.LayerNorm``).
* :class:`MultiHeadAttention` — four ``d x d`` projections, dropout on the attention weights; an optional key/value
  cache for incremental decoding.
* :class:`FeedForward` — ``Linear(d, d_ff) -> ReLU -> Dropout -> Linear(d_ff, d)``.
* :class:`RelationalMemory` — ``slots`` rows of width ``d``, started as a zero-padded identity matrix; per target
  step: attention over ``[memory; token]``, a residual MLP, then input/forget gates from the token and ``tanh`` of
  the old memory.
* :class:`ConditionalLayerNorm` — memory-conditioned LayerNorm (MCLN): gamma and beta are learned vectors plus an
  MLP ``(slots * d) -> d -> d`` of the flattened memory of the step.
* :class:`EncoderLayer` / :class:`DecoderLayer` — pre-norm sublayers with residual dropout; every decoder sublayer
  is normalised by MCLN.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TransformerLayerNorm(nn.Module):
    """LayerNorm with the unbiased standard deviation added to ``eps`` (not under the square root)."""

    def __init__(self, width: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the last dimension."""
        return self.gain * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + self.eps) + self.bias


class ConditionalLayerNorm(nn.Module):
    """MCLN: LayerNorm whose gain and bias are shifted by MLPs of the relational memory of each target step.

    Args:
        width: model width ``d``.
        memory_width: ``slots * d`` (the flattened memory).
    """

    def __init__(self, width: int, memory_width: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(width))
        self.beta = nn.Parameter(torch.zeros(width))
        self.mlp_gamma = nn.Sequential(nn.Linear(memory_width, width), nn.ReLU(), nn.Linear(width, width))
        self.mlp_beta = nn.Sequential(nn.Linear(memory_width, width), nn.ReLU(), nn.Linear(width, width))
        self.eps = eps

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """``x`` (B, T, d) normalised with gain/bias conditioned on ``memory`` (B, T, slots * d)."""
        gamma = self.gamma + self.mlp_gamma(memory)
        beta = self.beta + self.mlp_beta(memory)
        return gamma * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + self.eps) + beta


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention over ``heads`` heads, with query/key/value/output projections."""

    def __init__(self, heads: int, width: int, dropout: float) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by {heads} heads")
        self.heads, self.d_head = heads, width // heads
        self.q, self.k, self.v, self.out = (nn.Linear(width, width) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d) -> (B, heads, T, d_head)."""
        return x.view(x.shape[0], x.shape[1], self.heads, self.d_head).transpose(1, 2)

    def keys_values(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The split key and value projections of ``source`` (what a cache holds)."""
        return self.split(self.k(source)), self.split(self.v(source))

    def attend(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
               mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attention of ``query`` (B, Tq, d) over split keys/values; ``mask`` (B, Tq|1, Tk) is True where allowed."""
        q = self.split(self.q(query))
        scores = q @ keys.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = self.dropout(scores.softmax(-1))
        mixed = (weights @ values).transpose(1, 2).reshape(query.shape[0], query.shape[1], -1)
        return self.out(mixed)

    def forward(self, query: torch.Tensor, source: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attention of ``query`` over ``source``."""
        keys, values = self.keys_values(source)
        return self.attend(query, keys, values, mask)


class FeedForward(nn.Module):
    """Position-wise feed-forward block."""

    def __init__(self, width: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.w_1, self.w_2 = nn.Linear(width, d_ff), nn.Linear(d_ff, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``w_2(dropout(relu(w_1(x))))``."""
        return self.w_2(self.dropout(torch.relu(self.w_1(x))))


class RelationalMemory(nn.Module):
    """The relational memory that conditions the decoder's normalisation, one memory state per target step.

    Args:
        slots: memory rows (3 in CT2Rep).
        heads: attention heads of the memory update.
        width: row width ``d`` (the model width: the memory reads the target embeddings).
        dropout: attention dropout.
    """

    def __init__(self, slots: int, heads: int, width: int, dropout: float) -> None:
        super().__init__()
        self.slots, self.width = slots, width
        self.attn = MultiHeadAttention(heads, width, dropout)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.W = nn.Linear(width, 2 * width)
        self.U = nn.Linear(width, 2 * width)

    def initial(self, batch: int, *, like: torch.Tensor) -> torch.Tensor:
        """The start state ``(batch, slots * d)``: an identity matrix of size ``slots``, zero-padded to ``d`` columns."""
        eye = torch.eye(self.slots, dtype=like.dtype, device=like.device)
        if self.width > self.slots:
            eye = torch.cat([eye, eye.new_zeros(self.slots, self.width - self.slots)], dim=1)
        else:
            eye = eye[:, : self.width]
        return eye.reshape(1, -1).expand(batch, -1).contiguous()

    def step(self, token: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """One update: ``token`` (B, d) embedded target token, ``memory`` (B, slots * d) -> the next memory."""
        mem = memory.view(-1, self.slots, self.width)
        tok = token.unsqueeze(1)
        context = torch.cat([mem, tok], dim=1)
        proposal = mem + self.attn(mem, context)
        proposal = proposal + self.mlp(proposal)
        input_gate, forget_gate = (self.W(tok) + self.U(torch.tanh(mem))).split(self.width, dim=2)
        nxt = torch.sigmoid(input_gate) * torch.tanh(proposal) + torch.sigmoid(forget_gate) * mem
        return nxt.reshape(-1, self.slots * self.width)

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """The memory after each of ``tokens`` (B, T, d): ``(B, T, slots * d)``."""
        states = []
        for t in range(tokens.shape[1]):
            memory = self.step(tokens[:, t], memory)
            states.append(memory)
        return torch.stack(states, dim=1)


class EncoderLayer(nn.Module):
    """Pre-norm self-attention and feed-forward sublayers with residual dropout."""

    def __init__(self, width: int, heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(heads, width, dropout)
        self.feed_forward = FeedForward(width, d_ff, dropout)
        self.norms = nn.ModuleList([TransformerLayerNorm(width), TransformerLayerNorm(width)])
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One layer over visual tokens ``x`` (B, S, d); no mask (every slab token is real)."""
        h = self.norms[0](x)
        x = x + self.dropout(self.self_attn(h, h))
        return x + self.dropout(self.feed_forward(self.norms[1](x)))


class DecoderLayer(nn.Module):
    """Pre-norm masked self-attention, cross-attention and feed-forward, each normalised by MCLN."""

    def __init__(self, width: int, heads: int, d_ff: int, dropout: float, memory_width: int) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(heads, width, dropout)
        self.src_attn = MultiHeadAttention(heads, width, dropout)
        self.feed_forward = FeedForward(width, d_ff, dropout)
        self.norms = nn.ModuleList([ConditionalLayerNorm(width, memory_width) for _ in range(3)])
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, encoded: torch.Tensor, mask: torch.Tensor, memory: torch.Tensor
                ) -> torch.Tensor:
        """Teacher-forced layer: ``x`` (B, T, d), ``encoded`` (B, S, d), ``mask`` (B, T, T), ``memory`` (B, T, m)."""
        h = self.norms[0](x, memory)
        x = x + self.dropout(self.self_attn(h, h, mask))
        x = x + self.dropout(self.src_attn(self.norms[1](x, memory), encoded))
        return x + self.dropout(self.feed_forward(self.norms[2](x, memory)))

    def step(self, x: torch.Tensor, memory: torch.Tensor, cache: dict[str, torch.Tensor]) -> torch.Tensor:
        """One target position ``x`` (B, 1, d) with its memory (B, 1, m); ``cache`` holds ``src_k``/``src_v``
        (the encoder keys/values) and grows ``self_k``/``self_v`` by this position."""
        h = self.norms[0](x, memory)
        k, v = self.self_attn.keys_values(h)
        if "self_k" in cache:
            k, v = torch.cat([cache["self_k"], k], dim=2), torch.cat([cache["self_v"], v], dim=2)
        cache["self_k"], cache["self_v"] = k, v
        x = x + self.dropout(self.self_attn.attend(h, k, v))
        x = x + self.dropout(self.src_attn.attend(self.norms[1](x, memory), cache["src_k"], cache["src_v"]))
        return x + self.dropout(self.feed_forward(self.norms[2](x, memory)))
