"""MRG-LLM ("Multimodal Large Language Models for Medical Report Generation via Customized Prompt Tuning", arXiv
2506.15477) over frozen CT-CLIP features: a frozen LLM reading instance-specific soft prompts.

The CT-CLIP latent ``z`` is the visual feature ``v``. It reaches the frozen LLM twice:

* as ``visual_tokens`` visual tokens ``LayerNorm(W z + b)`` (the learnable stand-in for the paper's learnable
  visual encoder; ``visual_tokens: 0`` leaves the prompts as the only visual path);
* through the customised prompts of :mod:`radeval_models.prompt_customisation`: ``mrg-llm-prompt`` modulates each
  of ``n_prompts`` learnable prompts with a scale and a shift predicted from ``v``; ``mrg-llm-promptbook`` mixes a
  bank of ``bank_size`` prompts with weights predicted from ``v`` and modulates the mixture.

The LLM reads ``[BOS] template`` with ``<ImageHere>`` replaced by the visual tokens and ``<PromptHere>`` by the
customised prompts, then the report; the loss covers the report tokens and their EOS only; decoding is greedy from
that context until EOS. Everything the abstract leaves open is a setting of :class:`MrgLlmPromptConfig`, and the
model cards (:attr:`MrgLlmPrompt.card`, ``radeval models show mrg-llm-prompt``) say which parts are reconstructed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from radeval_models.beam_search import DecodeSettings
from radeval_models.generator import GeneratorModel
from radeval_models.llm import stop_token_ids
from radeval_models.lm_decoder import decode_lm
from radeval_models.lm_loss import loss_after_context, report_targets
from radeval_models.mappers import LinearMapper
from radeval_models.prompt_context import IMAGE_PLACEHOLDER
from radeval_models.prompt_customisation import (MODULATION_INITS, PROMPT_INITS, PromptBookCustomiser,
                                                 PromptWiseCustomiser)
from radeval.errors import InputError

PROMPT_PLACEHOLDER = "<PromptHere>"
#: The default instruction: R2GenGPT's, as this toolkit adapts it to CT (``radeval_models.r2gengpt.PROMPT``), with the
#: customised prompts placed between the image and the instruction sentence (reconstructed: MRG-LLM's is unpublished).
TEMPLATE = (f"Human: <Img>{IMAGE_PLACEHOLDER}</Img> {PROMPT_PLACEHOLDER} Generate a comprehensive and detailed "
            "diagnosis report for this chest CT volume. \nAssistant:")


def template_parts(template: str, *, visual_tokens: int) -> list[str]:
    """Split a template into text pieces and placeholders, in order, checking the placeholders.

    Args:
        template: the instruction with ``<PromptHere>`` once, and ``<ImageHere>`` once iff ``visual_tokens > 0``.
        visual_tokens: the number of visual tokens (0: the template must not contain ``<ImageHere>``).

    Returns:
        The pieces; empty text pieces are dropped.

    Raises:
        InputError: a placeholder missing, repeated or (``<ImageHere>`` with no visual tokens) superfluous.

    Example:
        >>> template_parts("A <ImageHere> B <PromptHere>C", visual_tokens=1)
        ['A ', '<ImageHere>', ' B ', '<PromptHere>', 'C']
        >>> template_parts("<PromptHere> Findings:", visual_tokens=0)
        ['<PromptHere>', ' Findings:']
    """
    want_image = 1 if visual_tokens > 0 else 0
    if template.count(PROMPT_PLACEHOLDER) != 1 or template.count(IMAGE_PLACEHOLDER) != want_image:
        image = (f"{IMAGE_PLACEHOLDER} exactly once (visual_tokens = {visual_tokens})" if want_image else
                 f"no {IMAGE_PLACEHOLDER} (visual_tokens = 0)")
        raise InputError(f"template {template!r}: must contain {PROMPT_PLACEHOLDER} exactly once and {image}")
    pattern = f"({re.escape(IMAGE_PLACEHOLDER)}|{re.escape(PROMPT_PLACEHOLDER)})"
    return [p for p in re.split(pattern, template) if p]


@dataclass
class MrgLlmPromptConfig:
    """Settings of ``mrg-llm-prompt`` (and, with ``bank_size``, ``mrg-llm-promptbook``).

    Every default except ``llm`` is our reconstruction (the abstract gives none of them); the model card lists why.

    Attributes:
        llm: LLM spec (``"smollm2"``, a local directory, a hub id such as ``meta-llama/Llama-3.2-1B``); frozen.
        embedding_dim: width of the visual feature (the CT-CLIP latent: 512).
        n_logits: unused (MRG-LLM sees no diagnostic priors); kept so every generator config has it.
        n_prompts: learnable prompt tokens (each modulated per instance).
        modulation_hidden: width of the trunk ``GELU(W z + b)`` feeding the affine (and mixture) heads.
        modulation_init: ``"identity"`` (zero heads: the same prompt for every image at step 0) or ``"default"``.
        prompt_init: ``"vocab"`` (prompt tokens start as random rows of the LLM's embedding matrix) or ``"normal"``
            (Gaussian with that matrix's mean and standard deviation).
        visual_tokens: visual tokens ``LayerNorm(W z + b)`` put at ``<ImageHere>`` (0: none).
        template: the instruction around the visual tokens and the prompts (see :data:`TEMPLATE`).
        max_target_tokens: report tokens kept for training (EOS included).
        max_new_tokens: cap on generated tokens.
    """

    llm: str = "smollm2"
    embedding_dim: int = 512
    n_logits: int = 0
    n_prompts: int = 8
    modulation_hidden: int = 512
    modulation_init: str = "identity"
    prompt_init: str = "vocab"
    visual_tokens: int = 1
    template: str = TEMPLATE
    max_target_tokens: int = 512
    max_new_tokens: int = 512

    def __post_init__(self) -> None:
        for label in ("n_prompts", "modulation_hidden", "max_target_tokens", "max_new_tokens"):
            value = getattr(self, label)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"{label} must be an integer >= 1, got {value!r}")
        if not isinstance(self.visual_tokens, int) or isinstance(self.visual_tokens, bool) or self.visual_tokens < 0:
            raise InputError(f"visual_tokens must be an integer >= 0, got {self.visual_tokens!r}")
        if self.modulation_init not in MODULATION_INITS:
            raise InputError(f"modulation_init={self.modulation_init!r}: expected one of {', '.join(MODULATION_INITS)}")
        if self.prompt_init not in PROMPT_INITS:
            raise InputError(f"prompt_init={self.prompt_init!r}: expected one of {', '.join(PROMPT_INITS)}")
        template_parts(self.template, visual_tokens=self.visual_tokens)


@dataclass
class MrgLlmPromptBookConfig(MrgLlmPromptConfig):
    """Settings of ``mrg-llm-promptbook``: those of :class:`MrgLlmPromptConfig` plus the bank size.

    Attributes:
        bank_size: prompts in the bank (each ``n_prompts`` tokens), mixed per instance.
    """

    bank_size: int = 16

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.bank_size, int) or isinstance(self.bank_size, bool) or self.bank_size < 1:
            raise InputError(f"bank_size must be an integer >= 1, got {self.bank_size!r}")


_CARD_COMMON = """
Source: Multimodal Large Language Models for Medical Report Generation via Customized Prompt Tuning (MRG-LLM),
arXiv 2506.15477; only the abstract is available, and no code has been published. Over frozen CT-CLIP features
(this toolkit's inputs), so the paper's learnable visual encoder becomes a learnable projection of the CT-CLIP latent.

| component | status | value here | source / reason |
|---|---|---|---|
| frozen LLM | as published | `llm` is frozen (not saved; checked by fingerprint on load) | abstract: "a frozen LLM" |
| instance-specific prompts from a conditional affine transform (scale, shift) of learnable prompts, predicted from visual features | as published | `γ(v) ⊙ P + β(v)`, `γ = 1 + Δγ` | abstract |
| {form_row}
| visual encoder | reconstructed | frozen CT-CLIP latent (512-d) + learnable `LayerNorm(Linear)` to `visual_tokens` = 1 token(s) | the toolkit's generators read frozen CT-CLIP features; the paper trains its own encoder on 2D X-rays. Slab tokens are not used: the affine transform needs one vector per instance, and the latent keeps the entry runnable on every embedding file |
| LLM | reconstructed | `meta-llama/Llama-3.2-1B` in `benchmarks/ctrate.yaml` (SmolLM2-135M in the demo) | the abstract names no LLM; Llama-3.2-1B matches the other CT-RATE entries |
| number of prompt tokens | reconstructed | `n_prompts` = 8 | not given |
| modulation network | reconstructed | trunk `h(v) = GELU(Linear(v))` of width `modulation_hidden` = 512, then one linear head giving `(Δγ, β)` per prompt token and channel | not given |
| initialisation | reconstructed | `modulation_init` = identity (zero heads: every image gets the same prompt at step 0, learned away from it); `prompt_init` = vocab (random rows of the LLM's embedding matrix) | not given |
| where the prompts go | reconstructed | `template`: `[BOS] Human: <Img>[visual]</Img> [prompts] Generate a comprehensive and detailed diagnosis report for this chest CT volume. \\nAssistant:` then the report | not given; R2GenGPT's instruction as this toolkit adapts it |
| loss | reconstructed | token cross-entropy on the report + EOS only | not given (standard for frozen-LLM report generators) |
| training | reconstructed | one stage, AdamW lr 1e-4, 10 epochs, batch 8 (`benchmarks/ctrate.yaml`) | not given; the contrastive multi-stage alignment a third-party summary mentions is not in the abstract and is not implemented |
| decoding | reconstructed | greedy until EOS, `max_new_tokens` = 512 | not given |
| reported numbers | none usable | — | the abstract reports no numbers; the paper evaluates on IU X-ray and MIMIC-CXR, not CT-RATE, so the literature table has no MRG-LLM row |
"""


class MrgLlmPrompt(GeneratorModel):
    """MRG-LLM, prompt-wise customisation: each learnable prompt token scaled and shifted per image (frozen LLM)."""

    name: ClassVar[str] = "mrg-llm-prompt"
    config_class: ClassVar[type] = MrgLlmPromptConfig
    use_logits: ClassVar[bool] = False
    train_llm: ClassVar[bool] = False
    card: ClassVar[str] = ("# mrg-llm-prompt: MRG-LLM, prompt-wise customisation\n" + _CARD_COMMON.replace(
        "{form_row}", "prompt-wise form: each prompt token modulated | as published | one scale and one shift per "
        "prompt token and channel | abstract (\"prompt-wise\"); the granularity is our reading |"))

    def build(self) -> None:
        """The visual projection (``visual_tokens > 0``) and the prompt customiser, prompts initialised from the LLM."""
        cfg = self.config
        self.parts = template_parts(cfg.template, visual_tokens=cfg.visual_tokens)
        if cfg.visual_tokens > 0:
            self.visual = LinearMapper(self.input_dim, self.hidden_size, prefix_length=cfg.visual_tokens)
            self.visual_norm = nn.LayerNorm(self.hidden_size)
        self.customiser = self.build_customiser()
        self.customiser.init_prompts(self.lm.get_input_embeddings().weight, mode=cfg.prompt_init)

    def build_customiser(self) -> PromptWiseCustomiser:
        """The prompt-wise customiser."""
        cfg = self.config
        return PromptWiseCustomiser(self.input_dim, self.hidden_size, n_prompts=cfg.n_prompts,
                                    hidden=cfg.modulation_hidden, modulation_init=cfg.modulation_init)

    def prompt_embeddings(self, conditioning: torch.Tensor) -> torch.Tensor:
        """The instance-specific prompts of each row of ``conditioning``, ``(batch, n_prompts, hidden)``."""
        return self.customiser(conditioning.to(self.customiser.affine.weight.dtype))

    def context(self, conditioning: torch.Tensor) -> torch.Tensor:
        """``[BOS] template`` with the visual tokens and the customised prompts, ``(batch, length, hidden)``."""
        embed = self.lm.get_input_embeddings()
        dtype, device = embed.weight.dtype, embed.weight.device
        b = conditioning.shape[0]
        tok = self.tokenizer
        pieces = [embed(torch.tensor([tok.bos_token_id], device=device)).unsqueeze(0).expand(b, -1, -1)] \
            if tok.bos_token_id is not None else []
        for part in self.parts:
            if part == IMAGE_PLACEHOLDER:
                x = conditioning.to(self.visual.linear.weight.dtype)
                pieces.append(self.visual_norm(self.visual(x)).to(dtype))
            elif part == PROMPT_PLACEHOLDER:
                pieces.append(self.prompt_embeddings(conditioning).to(dtype))
            else:
                ids = tok(part, add_special_tokens=False)["input_ids"]
                pieces.append(embed(torch.tensor(ids, device=device, dtype=torch.long)).unsqueeze(0).expand(b, -1, -1))
        return torch.cat(pieces, dim=1)

    def collate(self, texts: Sequence[str], conditioning: torch.Tensor) -> dict[str, torch.Tensor]:
        """Report tokens + EOS, right-padded; labels -100 on padding (the context is added in :meth:`forward`)."""
        return {"conditioning": conditioning, **report_targets(self.tokenizer, texts, self.config.max_target_tokens)}

    def forward(self, conditioning: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Summed report-token loss after the context."""
        return loss_after_context(self.lm, self.context(conditioning), input_ids, attention_mask, labels)

    def decode(self, conditioning: torch.Tensor, settings: DecodeSettings | None = None) -> list[list[int]]:
        """KV-cached decoding from the context until EOS or ``max_new_tokens``: greedy by default, beam search and
        penalties per ``settings`` (:meth:`decode_settings`)."""
        return decode_lm(self.lm, self.context(conditioning), settings=self.decode_settings(settings),
                         stop_ids=stop_token_ids(self.tokenizer, self.lm.config))


class MrgLlmPromptBook(MrgLlmPrompt):
    """MRG-LLM, promptbook-wise customisation: a bank of prompts mixed per image, then scaled and shifted per image."""

    name: ClassVar[str] = "mrg-llm-promptbook"
    config_class: ClassVar[type] = MrgLlmPromptBookConfig
    card: ClassVar[str] = ("# mrg-llm-promptbook: MRG-LLM, promptbook-wise customisation\n" + _CARD_COMMON.replace(
        "{form_row}", "promptbook-wise form: a bank of prompts, combined per instance, then modulated | as published "
        "| instance-specific softmax weights `softmax(Linear(h(v)))` over the bank, weighted sum, then the same affine "
        "transform | abstract (\"promptbook-wise\"); the softmax mixture is our reading |\n"
        "| bank size | reconstructed | `bank_size` = 16 prompts of `n_prompts` tokens | not given |"))

    def build_customiser(self) -> PromptBookCustomiser:
        """The promptbook customiser."""
        cfg = self.config
        return PromptBookCustomiser(self.input_dim, self.hidden_size, n_prompts=cfg.n_prompts,
                                    hidden=cfg.modulation_hidden, bank_size=cfg.bank_size,
                                    modulation_init=cfg.modulation_init)
