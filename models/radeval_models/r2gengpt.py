"""R2GenGPT (Wang et al.), "shallow" alignment adapted to precomputed CT embeddings.

The image embedding becomes one visual token ``LayerNorm(Linear(z))`` placed inside a fixed text prompt, in front of
a frozen LLM (optionally with LoRA adapters on its ``q_proj``/``v_proj``)::

    [BOS] "Human: <Img>" [visual token] "</Img> Generate a comprehensive ... chest CT volume. \\nAssistant:" report EOS

Labels are -100 on BOS, prompt, visual token and padding; the loss covers the report and its EOS. Decoding follows
the original settings: beam search with 3 beams, repetition penalty 2.0, length penalty 2.0 (Hugging Face
``generate``); ``num_beams=1`` with ``repetition_penalty=1`` uses our KV-cached greedy decoder instead.

CT adaptation (our reconstruction): one visual token from the 512-d CT-CLIP latent, "chest xray image" replaced by
"chest CT volume" (:data:`PROMPT` differs from upstream's :data:`ORIGINAL_PROMPT` in those words only), and far
larger length limits than the original 100/120 tokens (``min_new_tokens`` 0 instead of 80), since CT findings are long
and phantom ones short.

Training as upstream (wang-zhanyu/R2GenGPT @ 386cffc) is a matter of the training settings, not of this module:
AdamW at 1e-4 with cosine annealing to 1e-6 over the epochs (``lr_schedule: cosine, lr_min: 1e-6``), no gradient
clipping (``grad_clip: null``), and the checkpoint with the best validation ``0.5 * BLEU-4 + 0.5 * CIDEr`` kept
(``select_by: bleu4+cider`` over ``validation_fraction`` held-out cases; upstream uses the dataset's validation
split, which CT-RATE does not have apart from its test set). ``benchmarks/ctrate.yaml`` spells them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch

from radeval_models.beam_search import DecodeSettings
from radeval_models.generator import GeneratorModel
from radeval_models.llm import stop_token_ids, with_lora
from radeval_models.lm_decoder import decode_lm
from radeval_models.lm_loss import loss_after_context, report_targets
from radeval_models.mappers import ProjectionNormMapper
from radeval_models.prompt_context import IMAGE_PLACEHOLDER, prompt_context

#: Upstream's prompt string (wang-zhanyu/R2GenGPT @ 386cffc, a plain string rather than Llama-2's ``[INST]`` format).
ORIGINAL_PROMPT = ("Human: <Img><ImageHere></Img> Generate a comprehensive and detailed diagnosis report for this chest "
                   "xray image. \nAssistant:")

#: The prompt used here: upstream's with "chest xray image" -> "chest CT volume" (a marked reconstruction).
PROMPT = ORIGINAL_PROMPT.replace("chest xray image", "chest CT volume")


@dataclass
class R2GenGPTConfig:
    """Settings of R2GenGPT.

    Attributes:
        llm: LLM spec (see :mod:`radeval_models.llm`); frozen.
        embedding_dim: width of the image embedding.
        n_logits: unused (R2GenGPT sees no logits); kept so every generator config has it.
        prompt: the prompt template; must contain ``<ImageHere>`` once.
        max_target_tokens: report tokens kept for training (EOS included; original 100).
        num_beams: beams (original 3).
        repetition_penalty: original 2.0.
        length_penalty: original 2.0.
        min_new_tokens: original 80; 0 here so short phantom reports are not padded out.
        max_new_tokens: original 120; raised for CT findings.
        lora_r: LoRA rank on the LLM's q_proj/v_proj (0 = no LoRA, the original default).
        lora_alpha: LoRA alpha (original 16).
        lora_dropout: LoRA dropout (original 0.1).
    """

    llm: str = "smollm2"
    embedding_dim: int = 512
    n_logits: int = 0
    prompt: str = PROMPT
    max_target_tokens: int = 512
    num_beams: int = 3
    repetition_penalty: float = 2.0
    length_penalty: float = 2.0
    min_new_tokens: int = 0
    max_new_tokens: int = 512
    lora_r: int = 0
    lora_alpha: int = 16
    lora_dropout: float = 0.1


class R2GenGPT(GeneratorModel):
    """R2GenGPT-shallow on a frozen LLM (registry name ``r2gengpt``)."""

    name: ClassVar[str] = "r2gengpt"
    config_class: ClassVar[type] = R2GenGPTConfig
    use_logits: ClassVar[bool] = False
    train_llm: ClassVar[bool] = False

    def build(self) -> None:
        """The visual mapper, and LoRA adapters when ``lora_r > 0``."""
        cfg = self.config
        if cfg.prompt.count(IMAGE_PLACEHOLDER) != 1:
            raise ValueError(f"R2GenGPT prompt must contain {IMAGE_PLACEHOLDER!r} exactly once")
        self.mapper = ProjectionNormMapper(self.input_dim, self.hidden_size)
        if cfg.lora_r > 0:
            self.lm = with_lora(self.lm, r=cfg.lora_r, alpha=cfg.lora_alpha, dropout=cfg.lora_dropout)

    def _context(self, conditioning: torch.Tensor) -> torch.Tensor:
        """``[BOS, prompt-before, visual token, prompt-after]`` embeddings, ``(batch, length, hidden)``."""
        embed = self.lm.get_input_embeddings()
        visual = self.mapper(conditioning.to(self.mapper.proj.weight.dtype)).to(embed.weight.dtype)
        return prompt_context(self.lm, self.tokenizer, self.config.prompt, visual)

    def collate(self, texts: Sequence[str], conditioning: torch.Tensor) -> dict[str, torch.Tensor]:
        """Report tokens + EOS, right-padded; labels -100 on padding (the prompt is added in :meth:`forward`)."""
        return {"conditioning": conditioning, **report_targets(self.tokenizer, texts, self.config.max_target_tokens)}

    def forward(self, conditioning: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Summed report-token loss after the prompt with the visual token."""
        return loss_after_context(self.lm, self._context(conditioning), input_ids, attention_mask, labels)

    def decode(self, conditioning: torch.Tensor, settings: DecodeSettings | None = None) -> list[list[int]]:
        """Beam search with the original settings (config: 3 beams, repetition penalty 2.0, length penalty 2.0) by
        our batched decoder, token-for-token equal to HF ``generate``; ``settings`` overrides them
        (:meth:`decode_settings`); plain greedy settings take the fast greedy decoder."""
        return decode_lm(self.lm, self._context(conditioning), settings=self.decode_settings(settings),
                         stop_ids=stop_token_ids(self.tokenizer, self.lm.config))
