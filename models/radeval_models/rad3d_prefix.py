"""RAD3D-Prefix (Sharma et al., "Revisiting LLM Adaptation for 3D CT Report Generation"): a mapped image prefix for a
causal LLM.

The CT-CLIP latent ``z`` (V-1, V-2) or ``z ⊕ l`` with the diagnostic priors ``l`` (V-3, linear; sigmoid probabilities
of the label head by default, as the paper's Table 5 shows them, or raw logits with ``prior: logit``) goes through a
mapper to ``prefix_length`` LLM-width vectors, which are placed in front of the report tokens. The loss covers the
report tokens (plus the EOS appended to them) only; decoding is greedy from the prefix alone until EOS (beam search
and penalties on request: ``radeval generate --num-beams``).

| registry name          | mapper      | logits | LLM     |
|------------------------|-------------|--------|---------|
| ``rad3d-prefix-v1``    | transformer | no     | trained |
| ``rad3d-prefix-v2``    | transformer | no     | frozen  |
| ``rad3d-prefix-v3``    | transformer | yes    | frozen  |
| ``rad3d-prefix-linear``| linear      | yes    | frozen  |

No public code exists; the mapper follows ClipCap's transformer mapper, whose parameter counts reproduce the paper's
(279,093,248 / 279,461,888 / 1,514,907,648 trainable on LLaMA-3.2-1B). Batch layout, EOS handling and the absence of
a text prompt are our reconstruction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from radeval_models.beam_search import DecodeSettings
from radeval_models.generator import GeneratorModel
from radeval_models.llm import stop_token_ids
from radeval_models.lm_decoder import decode_lm
from radeval_models.lm_loss import loss_after_context, report_targets
from radeval_models.mappers import LinearMapper, TransformerMapper
from radeval.errors import InputError

#: Accepted values of :attr:`Rad3dPrefixConfig.prior`.
PRIOR_MODES: tuple[str, ...] = ("probability", "logit")


@dataclass
class Rad3dPrefixConfig:
    """Settings of a RAD3D-Prefix generator.

    Attributes:
        llm: LLM spec (``"smollm2"``, a GGUF file, a local directory or a hub id such as
            ``meta-llama/Llama-3.2-1B``).
        embedding_dim: width of the image embedding (512 for CT-CLIP).
        n_logits: number of diagnostic priors appended for V-3 / linear (18 CT-RATE, 21 INSPECT).
        prior: how the label head's outputs enter V-3 / linear: ``"probability"`` (default: sigmoid of the logits,
            confidences in [0, 1] as the paper shows them in its Table 5) or ``"logit"`` (the raw logits).
            Checkpoints saved before this setting existed were trained on raw logits and load as ``"logit"``.
        prefix_length: prefix tokens given to the LLM (paper: 10; ablations 2-14).
        clip_length: tokens the input vector is split into inside the transformer mapper.
        num_layers: transformer mapper depth (paper: 8; ablations 2-16).
        num_heads: attention heads of the transformer mapper.
        max_target_tokens: report tokens kept for training (EOS included).
        max_new_tokens: cap on generated tokens.
    """

    llm: str = "smollm2"
    embedding_dim: int = 512
    n_logits: int = 18
    prior: str = "probability"
    prefix_length: int = 10
    clip_length: int = 10
    num_layers: int = 8
    num_heads: int = 8
    max_target_tokens: int = 512
    max_new_tokens: int = 512

    def __post_init__(self) -> None:
        if self.prior not in PRIOR_MODES:
            raise InputError(f"prior={self.prior!r}: expected one of {', '.join(PRIOR_MODES)}")


class Rad3dPrefix(GeneratorModel):
    """Shared implementation of the RAD3D-Prefix variants (use the registered subclasses)."""

    config_class: ClassVar[type] = Rad3dPrefixConfig
    mapper_kind: ClassVar[str] = "transformer"

    def build(self) -> None:
        """Create the mapper for this variant."""
        cfg = self.config
        if self.mapper_kind == "linear":
            self.mapper = LinearMapper(self.input_dim, self.hidden_size, prefix_length=cfg.prefix_length)
        else:
            self.mapper = TransformerMapper(self.input_dim, self.hidden_size, prefix_length=cfg.prefix_length,
                                            clip_length=cfg.clip_length, num_layers=cfg.num_layers,
                                            num_heads=cfg.num_heads)

    def priors(self, logits: np.ndarray) -> np.ndarray:
        """Sigmoid probabilities (``prior: probability``, the default) or the raw logits (``prior: logit``).

        Example:
            >>> import numpy as np
            >>> m = Rad3dPrefixV3.__new__(Rad3dPrefixV3); m.config = Rad3dPrefixConfig()
            >>> [round(float(v), 4) for v in m.priors(np.array([[0.0, 2.0]], dtype=np.float32))[0]]
            [0.5, 0.8808]
        """
        if self.config.prior == "logit":
            return logits
        return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)

    @classmethod
    def from_pretrained(cls, directory: str | Path, **overrides: Any) -> "GeneratorModel":
        """Load a saved generator; one saved without a ``prior`` setting was trained on raw logits."""
        from radeval_models.checkpoint import read_checkpoint_config

        saved = read_checkpoint_config(directory, expected_type=cls.name).get("config", {})
        if "prior" not in saved and "prior" not in overrides:
            overrides["prior"] = "logit"
        return super().from_pretrained(directory, **overrides)

    def prefix(self, conditioning: torch.Tensor) -> torch.Tensor:
        """The ``(batch, prefix_length, hidden)`` prefix, cast to the LLM's dtype."""
        lm_dtype = self.lm.get_input_embeddings().weight.dtype
        return self.mapper(conditioning.to(self.mapper.linear.weight.dtype)).to(lm_dtype)

    def collate(self, texts: Sequence[str], conditioning: torch.Tensor) -> dict[str, torch.Tensor]:
        """Report tokens (no special tokens) + EOS, right-padded; labels are -100 on padding."""
        return {"conditioning": conditioning, **report_targets(self.tokenizer, texts, self.config.max_target_tokens)}

    def forward(self, conditioning: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Summed token cross-entropy of the reports given the prefix, and the number of target tokens."""
        return loss_after_context(self.lm, self.prefix(conditioning), input_ids, attention_mask, labels)

    def decode(self, conditioning: torch.Tensor, settings: DecodeSettings | None = None) -> list[list[int]]:
        """KV-cached decoding from the prefix until EOS or ``max_new_tokens``: greedy by default, beam search and
        penalties per ``settings`` (:meth:`decode_settings`)."""
        return decode_lm(self.lm, self.prefix(conditioning), settings=self.decode_settings(settings),
                         stop_ids=stop_token_ids(self.tokenizer, self.lm.config))


class Rad3dPrefixV1(Rad3dPrefix):
    """V-1: transformer mapper on the image embedding, the LLM fine-tuned too."""

    name: ClassVar[str] = "rad3d-prefix-v1"
    use_logits: ClassVar[bool] = False
    train_llm: ClassVar[bool] = True


class Rad3dPrefixV2(Rad3dPrefix):
    """V-2: transformer mapper on the image embedding, LLM frozen."""

    name: ClassVar[str] = "rad3d-prefix-v2"
    use_logits: ClassVar[bool] = False
    train_llm: ClassVar[bool] = False


class Rad3dPrefixV3(Rad3dPrefix):
    """V-3 (the paper's RAD3D-Prefix): transformer mapper on embedding ⊕ diagnostic logits, LLM frozen."""

    name: ClassVar[str] = "rad3d-prefix-v3"
    use_logits: ClassVar[bool] = True
    train_llm: ClassVar[bool] = False


class Rad3dPrefixLinear(Rad3dPrefix):
    """The linear-projector ablation: one linear layer on embedding ⊕ logits, LLM frozen."""

    name: ClassVar[str] = "rad3d-prefix-linear"
    use_logits: ClassVar[bool] = True
    train_llm: ClassVar[bool] = False
    mapper_kind: ClassVar[str] = "linear"
