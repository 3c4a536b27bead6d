"""Instance-specific soft prompts: learnable prompts modulated by a conditional affine transform of visual features.

MRG-LLM's mechanism (arXiv 2506.15477, abstract): a learnable prompt is turned into an instance-specific prompt by a
scale and a shift predicted from the image's visual features. Two forms:

* :class:`PromptWiseCustomiser` — ``n`` learnable prompt tokens ``P``; every token ``j`` gets its own scale and shift
  per channel: ``P̃_j(v) = γ_j(v) ⊙ P_j + β_j(v)``.
* :class:`PromptBookCustomiser` — a bank of ``K`` prompts ``B_1..B_K`` (each ``n`` tokens); instance-specific
  mixture weights ``w(v) = softmax(W_s h(v))`` combine them into ``P(v) = Σ_k w_k(v) B_k``, which is then modulated
  as above.

Both read the visual feature ``v`` through one trunk ``h(v) = GELU(W_1 v + b_1)``; the affine head maps ``h`` to
``(Δγ, β)`` with ``γ = 1 + Δγ``. What the abstract leaves open (the trunk, the per-token per-channel granularity, the
softmax mixture, the ``1 + Δγ`` parameterisation and the initialisation) is our reconstruction, and each choice is a
setting of :class:`radeval_models.mrg_llm.MrgLlmPromptConfig`.

Initialisation (``modulation_init``):

* ``"identity"`` — the affine head (and the promptbook's mixture head) start at zero, so at step 0 every instance
  gets the same prompt (``γ = 1``, ``β = 0``, uniform mixture): training starts from plain prompt tuning and the
  visual dependence is learned. The zeroed heads still receive gradients, so the dependence does appear after the
  first step (``tests/models/test_mrg_llm.py`` checks both).
* ``"default"`` — PyTorch's default initialisation everywhere: prompts depend on the image from step 0.

Trainable parameters, with input width ``E``, LLM width ``H``, ``n`` prompts, trunk width ``m``, bank size ``K``:
``(E + 1)·m + (m + 1)·2nH + nH`` (prompt-wise) and ``(E + 1)·m + (m + 1)·2nH + KnH + (m + 1)·K`` (promptbook).

Example:
    >>> import torch
    >>> c = PromptWiseCustomiser(8, 16, n_prompts=3, hidden=4)
    >>> tuple(c(torch.randn(2, 8)).shape), sum(p.numel() for p in c.parameters()) == 9 * 4 + 5 * 2 * 3 * 16 + 3 * 16
    ((2, 3, 16), True)
"""

from __future__ import annotations

import torch
from torch import nn

#: Accepted values of ``modulation_init``.
MODULATION_INITS: tuple[str, ...] = ("identity", "default")
#: Accepted values of ``prompt_init``.
PROMPT_INITS: tuple[str, ...] = ("vocab", "normal")


class PromptWiseCustomiser(nn.Module):
    """Learnable prompts, each token modulated by a scale and shift predicted from the visual feature.

    Args:
        input_dim: width of the visual feature ``v``.
        width: the LLM's token-embedding width.
        n_prompts: number of prompt tokens.
        hidden: width of the trunk ``h(v)``.
        modulation_init: ``"identity"`` (zero affine head: ``γ = 1, β = 0`` at init) or ``"default"``.

    Raises:
        ValueError: a non-positive size or an unknown ``modulation_init``.
    """

    def __init__(self, input_dim: int, width: int, *, n_prompts: int, hidden: int,
                 modulation_init: str = "identity") -> None:
        super().__init__()
        for label, value in (("input_dim", input_dim), ("width", width), ("n_prompts", n_prompts), ("hidden", hidden)):
            if value < 1:
                raise ValueError(f"{label} must be >= 1, got {value}")
        if modulation_init not in MODULATION_INITS:
            raise ValueError(f"modulation_init={modulation_init!r}: expected one of {', '.join(MODULATION_INITS)}")
        self.width, self.n_prompts = width, n_prompts
        self.trunk = nn.Sequential(nn.Linear(input_dim, hidden), nn.GELU())
        self.affine = nn.Linear(hidden, 2 * n_prompts * width)
        self.create_prompts()
        if modulation_init == "identity":
            self.zero_heads()

    def create_prompts(self) -> None:
        """The learnable prompt tokens ``(n_prompts, width)`` (overwritten by :meth:`init_prompts`)."""
        self.prompts = nn.Parameter(torch.randn(self.n_prompts, self.width))

    def zero_heads(self) -> None:
        """Zero the heads that make the prompts instance-specific (identity modulation at init)."""
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def prompt_tables(self) -> list[nn.Parameter]:
        """The parameters holding prompt tokens (their last dimension is the LLM width)."""
        return [self.prompts]

    @torch.no_grad()
    def init_prompts(self, token_embeddings: torch.Tensor, *, mode: str) -> None:
        """Initialise every prompt token from the LLM's input-embedding matrix ``(vocab, width)``.

        Args:
            token_embeddings: the frozen LLM's input embeddings.
            mode: ``"vocab"`` — copies of rows drawn uniformly at random (torch's global generator, seeded by the
                training loop); ``"normal"`` — Gaussian with the matrix's mean and standard deviation.

        Raises:
            ValueError: an unknown mode.
        """
        if mode not in PROMPT_INITS:
            raise ValueError(f"prompt_init={mode!r}: expected one of {', '.join(PROMPT_INITS)}")
        if token_embeddings.device.type == "meta":
            return
        source = token_embeddings.detach().float()
        for table in self.prompt_tables():
            rows = table.numel() // self.width
            if mode == "vocab":
                picked = source[torch.randint(0, source.shape[0], (rows,))]
            else:
                picked = torch.randn(rows, self.width) * source.std() + source.mean()
            table.copy_(picked.view_as(table).to(table.dtype))

    def features(self, visual: torch.Tensor) -> torch.Tensor:
        """The trunk ``h(v)``, ``(batch, hidden)``."""
        return self.trunk(visual)

    def base_prompts(self, h: torch.Tensor) -> torch.Tensor:
        """The prompts before modulation, ``(batch, n_prompts, width)``: the shared learnable prompts."""
        return self.prompts.unsqueeze(0).expand(h.shape[0], -1, -1)

    def scale_shift(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(γ, β)``, each ``(batch, n_prompts, width)``, with ``γ = 1 + Δγ``."""
        delta, shift = self.affine(h).view(h.shape[0], 2, self.n_prompts, self.width).unbind(dim=1)
        return 1.0 + delta, shift

    def forward(self, visual: torch.Tensor) -> torch.Tensor:
        """Instance-specific prompts ``γ(v) ⊙ P(v) + β(v)``, ``(batch, n_prompts, width)``."""
        h = self.features(visual)
        scale, shift = self.scale_shift(h)
        return scale * self.base_prompts(h) + shift


class PromptBookCustomiser(PromptWiseCustomiser):
    """A bank of prompts, mixed with instance-specific weights, then modulated like :class:`PromptWiseCustomiser`.

    Args:
        bank_size: number of prompts in the bank (each ``n_prompts`` tokens).
        (the rest as :class:`PromptWiseCustomiser`; ``"identity"`` also zeroes the mixture head: uniform weights.)

    Example:
        >>> import torch
        >>> c = PromptBookCustomiser(8, 16, n_prompts=3, hidden=4, bank_size=5)
        >>> w = c.mixture(c.features(torch.randn(2, 8)))
        >>> tuple(w.shape), torch.allclose(w, torch.full((2, 5), 0.2))
        ((2, 5), True)
    """

    def __init__(self, input_dim: int, width: int, *, n_prompts: int, hidden: int, bank_size: int,
                 modulation_init: str = "identity") -> None:
        if bank_size < 1:
            raise ValueError(f"bank_size must be >= 1, got {bank_size}")
        self.bank_size = bank_size
        super().__init__(input_dim, width, n_prompts=n_prompts, hidden=hidden, modulation_init=modulation_init)
        self.select = nn.Linear(hidden, bank_size)
        if modulation_init == "identity":
            nn.init.zeros_(self.select.weight)
            nn.init.zeros_(self.select.bias)

    def create_prompts(self) -> None:
        """The bank ``(bank_size, n_prompts, width)``."""
        self.bank = nn.Parameter(torch.randn(self.bank_size, self.n_prompts, self.width))

    def prompt_tables(self) -> list[nn.Parameter]:
        """The bank (each of its tokens is initialised like a prompt token)."""
        return [self.bank]

    def mixture(self, h: torch.Tensor) -> torch.Tensor:
        """Instance-specific mixture weights over the bank, ``(batch, bank_size)``, rows summing to 1."""
        return torch.softmax(self.select(h), dim=-1)

    def base_prompts(self, h: torch.Tensor) -> torch.Tensor:
        """``Σ_k w_k(v) B_k``, ``(batch, n_prompts, width)``."""
        return torch.einsum("bk,knd->bnd", self.mixture(h), self.bank)
