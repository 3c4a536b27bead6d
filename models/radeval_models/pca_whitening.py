"""PCA whitening of text representations, kept with the model as buffers.

Fitted once on the training split's target texts: with mean ``mu``, the top ``C`` eigenvectors ``U`` (``H x C``)
and eigenvalues ``lam`` of the representations' covariance,

    whiten(h)   = (h - mu) U / sqrt(lam + eps)        (C-d, zero mean, unit variance per component)
    unwhiten(z) = mu + z sqrt(lam + eps) U^T          (back to the H-d representation space)

LLM representations are strongly anisotropic (a few directions dominate every vector); whitening gives every
retained direction equal weight in a regression target.
"""

from __future__ import annotations

import torch
from torch import nn

from radeval.errors import InputError


class PcaWhitening(nn.Module):
    """A fitted (or not yet fitted) whitening map of ``dim``-d vectors onto ``n_components`` components.

    Args:
        dim: input width ``H``.
        n_components: ``C``.
        eps: added to each eigenvalue before the square root.
    """

    def __init__(self, dim: int, n_components: int, eps: float = 1e-5) -> None:
        super().__init__()
        if not 1 <= n_components <= dim:
            raise ValueError(f"n_components must be in [1, {dim}], got {n_components}")
        self.eps = eps
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("components", torch.zeros(dim, n_components))
        self.register_buffer("scale", torch.ones(n_components))  # sqrt(lam + eps)
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    def fit(self, vectors: torch.Tensor) -> None:
        """Fit on ``(n, H)`` vectors (float64 eigen-decomposition; signs fixed so each component's largest entry is
        positive, making the result reproducible).

        Raises:
            InputError: fewer than ``C + 1`` vectors.
        """
        n, c = vectors.shape[0], self.components.shape[1]
        if n < c + 1:
            raise InputError(f"PCA whitening with {c} components needs at least {c + 1} training texts, got {n}; "
                             f"lower pca_components")
        x = vectors.detach().to(torch.float64).cpu()
        mu = x.mean(0)
        cov = (x - mu).T @ (x - mu) / (n - 1)
        lam, vec = torch.linalg.eigh(cov)
        lam, vec = lam.flip(0)[:c].clamp(min=0.0), vec.flip(1)[:, :c]
        sign = torch.sign(vec.gather(0, vec.abs().argmax(0, keepdim=True)))
        vec = vec * torch.where(sign == 0, torch.ones_like(sign), sign)
        self.mean.copy_(mu.to(self.mean.dtype))
        self.components.copy_(vec.to(self.components.dtype))
        self.scale.copy_((lam + self.eps).sqrt().to(self.scale.dtype))
        self.fitted.fill_(True)

    def _check(self) -> None:
        if not bool(self.fitted):
            raise InputError("the PCA whitening is not fitted (it is fitted on the training texts when training starts)")

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        """Whitened ``(n, C)`` coordinates of ``(n, H)`` vectors."""
        self._check()
        return (vectors - self.mean) @ self.components / self.scale

    def unwhiten_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(A, b)`` with ``unwhiten(z) = z A^T + b``: ``A = U diag(sqrt(lam + eps))`` (``H x C``), ``b = mu``."""
        self._check()
        return self.components * self.scale, self.mean
