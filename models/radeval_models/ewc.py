"""Elastic weight consolidation (Kirkpatrick et al., 2017) around an anchor, kept with the model as buffers.

At the anchor ``theta*`` (the weights when the protected task ends) a diagonal empirical Fisher ``F`` is estimated
from per-case gradients of that task's loss, ``F_i = mean_cases (d loss_case / d theta_i)^2``. Later training adds

    penalty(theta) = lambda / 2 * sum_i F_i (theta_i - theta*_i)^2

which is zero at the anchor and grows quadratically away from it, most along the directions the old task relied on.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ElasticWeightConsolidation(nn.Module):
    """Anchor and Fisher buffers for a fixed list of parameters (same shapes, same order).

    Args:
        shapes: the shapes of the protected parameters.
        strength: ``lambda``.
    """

    def __init__(self, shapes: Sequence[torch.Size], strength: float) -> None:
        super().__init__()
        self.strength = float(strength)
        self.n = len(shapes)
        for i, shape in enumerate(shapes):
            self.register_buffer(f"anchor_{i}", torch.zeros(shape))
            self.register_buffer(f"fisher_{i}", torch.zeros(shape))
        self.register_buffer("ready", torch.zeros((), dtype=torch.bool))

    def set_anchor(self, params: Sequence[torch.Tensor], fisher: Sequence[torch.Tensor]) -> None:
        """Store ``theta*`` (copies of ``params``) and ``F``."""
        for i, (p, f) in enumerate(zip(params, fisher, strict=True)):
            getattr(self, f"anchor_{i}").copy_(p.detach())
            getattr(self, f"fisher_{i}").copy_(f.detach())
        self.ready.fill_(True)

    def penalty(self, params: Sequence[torch.Tensor]) -> torch.Tensor:
        """``lambda / 2 * sum F (theta - theta*)^2`` (zero before an anchor is set)."""
        if not bool(self.ready) or not params:
            return torch.zeros(())
        total = sum((getattr(self, f"fisher_{i}") * (p - getattr(self, f"anchor_{i}")) ** 2).sum()
                    for i, p in enumerate(params))
        return 0.5 * self.strength * total
