"""CT2Rep's report generator over CT-CLIP slab tokens (registry name ``ct2rep``); the card is :mod:`.card`.

Conditioning is ``[latent | slab tokens flattened]`` (the shared :class:`GeneratorModel` contract); like CT2Rep,
which uses only its encoder's token grid (``att_feats``) and not the pooled feature, the model reads only the slab
tokens. Path of a case: slab tokens ``(S, slab_dim)`` -> each token standardised over its channels (``slab_norm``,
no parameters; a reconstruction, see :class:`Ct2RepConfig`) -> a ``Linear(slab_dim, d_vf)`` projection when
``slab_dim != d_vf`` (identity otherwise) -> ``att_embed`` = ``Linear(d_vf, d_model)``, ReLU, Dropout(0.5) -> 3
encoder layers (no positional encoding) -> 3 decoder layers over the target words (scaled embeddings + sinusoidal
positions), each sublayer normalised by MCLN from a 3-slot relational memory -> LayerNorm -> ``Linear(d_model, V+1)``.

Decoding runs through :class:`Ct2RepDecoder`, an incremental decoder (cross-attention keys/values of the encoder
output, self-attention cache and relational memory kept per row) driven by the shared beam search
(:mod:`radeval_models.beam_search`; greedy with ``num_beams`` 1).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from radeval_models.beam_search import DecodeSettings, decode_tokens
from radeval_models.checkpoint import load_checkpoint_tensors, read_checkpoint_config, save_checkpoint
from radeval_models.ct2rep.card import CARD
from radeval_models.ct2rep.layers import DecoderLayer, EncoderLayer, RelationalMemory, TransformerLayerNorm
from radeval_models.ct2rep.vocabulary import BOS_EOS_PAD, WordVocabulary
from radeval_models.generator import GeneratorModel
from radeval.errors import InputError


@dataclass
class Ct2RepConfig:
    """Settings of the ``ct2rep`` generator (defaults: CT2Rep's published values; see the card for the sources).

    Attributes:
        embedding_dim: width of the CT-CLIP latent in the embedding file (checked, not used by the model).
        n_slabs: slab tokens per case (24 for the released CT-CLIP size).
        slab_dim: width of a slab token (512 for CT-CLIP).
        d_vf: visual feature width entering ``att_embed`` (CT2Rep: 512).
        d_model: model width (512).
        d_ff: feed-forward width (512).
        num_heads: attention heads (8).
        num_layers: encoder layers and decoder layers (3 + 3).
        dropout: transformer dropout (0.1).
        drop_prob_lm: dropout after ``att_embed`` (0.5); the target embeddings (+ positions) use ``dropout``.
        rm_num_slots: relational-memory slots (3).
        rm_num_heads: relational-memory attention heads (8); its width is ``d_model``.
        threshold: minimum count of a training word to enter the vocabulary (README command: 10; code default 3).
        max_seq_length: ids per training sequence, the two 0 tokens included, and the decoding length cap (300).
        num_beams: beam width at generation (3; 1 = greedy).
        slab_norm: ``"layer"`` (default) standardises every slab token over its channels before the projection
            (zero mean, unit variance; no parameters); ``"none"`` feeds the tokens as they are. A reconstruction:
            upstream trains its CT-ViT end to end, so its ``att_feats`` take whatever scale the decoder needs,
            whereas frozen CT-CLIP tokens keep their encoder's scale (std 0.016 per channel for the demo's small
            encoder, against ``att_embed`` biases of up to ``1/sqrt(d_vf)``). Unnormalised, the differences between
            cases were under 1% of the encoder output's spread and the demo model wrote one report for every case.
    """

    embedding_dim: int = 512
    n_slabs: int = 24
    slab_dim: int = 512
    d_vf: int = 512
    d_model: int = 512
    d_ff: int = 512
    num_heads: int = 8
    num_layers: int = 3
    dropout: float = 0.1
    drop_prob_lm: float = 0.5
    rm_num_slots: int = 3
    rm_num_heads: int = 8
    threshold: int = 10
    max_seq_length: int = 300
    num_beams: int = 3
    slab_norm: str = "layer"

    #: Accepted values of ``slab_norm``.
    SLAB_NORMS: ClassVar[tuple[str, ...]] = ("layer", "none")
    #: Added to a slab token's variance when it is standardised (tiny: the tokens' own scale must not matter).
    SLAB_NORM_EPS: ClassVar[float] = 1e-12

    def __post_init__(self) -> None:
        for name in ("embedding_dim", "n_slabs", "slab_dim", "d_vf", "d_model", "d_ff", "num_heads", "num_layers",
                     "rm_num_slots", "rm_num_heads", "threshold", "num_beams"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"ct2rep: {name} must be an integer >= 1, got {value!r}")
        if self.max_seq_length < 2:
            raise InputError(f"ct2rep: max_seq_length must be >= 2 (the two 0 tokens), got {self.max_seq_length}")
        if self.slab_norm not in self.SLAB_NORMS:
            raise InputError(f"ct2rep: slab_norm must be one of {list(self.SLAB_NORMS)}, got {self.slab_norm!r}")
        for name in ("num_heads", "rm_num_heads"):
            if self.d_model % getattr(self, name):
                raise InputError(f"ct2rep: d_model {self.d_model} is not divisible by {name} {getattr(self, name)}")


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    """``(length, width)`` sine/cosine position codes (sine on even channels, cosine on odd ones)."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)[:, : width // 2]
    return table


class Ct2Rep(GeneratorModel):
    """CT2Rep's report generator (R2Gen-lineage encoder-decoder with relational memory and MCLN) over slab tokens."""

    name: ClassVar[str] = "ct2rep"
    config_class: ClassVar[type] = Ct2RepConfig
    use_logits: ClassVar[bool] = False
    use_slab_tokens: ClassVar[bool] = True
    train_llm: ClassVar[bool] = True  # no frozen part: every weight is trained
    card: ClassVar[str] = CARD

    def __init__(self, config: Ct2RepConfig, vocabulary: WordVocabulary | None = None, *,
                 vocab_size: int | None = None) -> None:
        """Build the modules.

        Args:
            config: the settings.
            vocabulary: the word vocabulary (its size sizes the embedding and the output layer).
            vocab_size: only without ``vocabulary`` (meta-device parameter counts): ``V``.

        The :class:`GeneratorModel` constructor is not called: there is no LLM to hold or freeze.
        """
        nn.Module.__init__(self)
        if (vocabulary is None) == (vocab_size is None):
            raise InputError("ct2rep: give a vocabulary or (for parameter counts only) a vocab_size")
        self.config = config
        self.lm = None
        self.tokenizer = vocabulary
        self.n_words = len(vocabulary) if vocabulary is not None else int(vocab_size)
        if self.n_words < 1:
            raise InputError(f"ct2rep: the vocabulary must hold at least one word, got {self.n_words}")
        self.build()

    def build(self) -> None:
        """Create the modules and initialise them (Xavier-uniform matrices of the encoder-decoder, as upstream)."""
        c = self.config
        memory_width = c.rm_num_slots * c.d_model
        self.slab_projection = nn.Linear(c.slab_dim, c.d_vf) if c.slab_dim != c.d_vf else nn.Identity()
        self.att_embed = nn.Sequential(nn.Linear(c.d_vf, c.d_model), nn.ReLU(), nn.Dropout(c.drop_prob_lm))
        self.encoder_layers = nn.ModuleList(EncoderLayer(c.d_model, c.num_heads, c.d_ff, c.dropout)
                                            for _ in range(c.num_layers))
        self.encoder_norm = TransformerLayerNorm(c.d_model)
        self.decoder_layers = nn.ModuleList(DecoderLayer(c.d_model, c.num_heads, c.d_ff, c.dropout, memory_width)
                                            for _ in range(c.num_layers))
        self.decoder_norm = TransformerLayerNorm(c.d_model)
        self.relational_memory = RelationalMemory(c.rm_num_slots, c.rm_num_heads, c.d_model, c.dropout)
        self.word_embedding = nn.Embedding(self.n_words + 1, c.d_model)
        self.embedding_dropout = nn.Dropout(c.dropout)
        self.register_buffer("positions", sinusoidal_positions(c.max_seq_length, c.d_model), persistent=False)
        self.logit = nn.Linear(c.d_model, self.n_words + 1)
        if self.word_embedding.weight.device.type != "meta":
            core = [self.encoder_layers, self.encoder_norm, self.decoder_layers, self.decoder_norm,
                    self.relational_memory, self.word_embedding]
            for module in core:
                for p in module.parameters():
                    if p.dim() > 1:
                        nn.init.xavier_uniform_(p)
            for layer in self.decoder_layers:
                for norm in layer.norms:
                    for mlp in (norm.mlp_gamma, norm.mlp_beta):
                        for lin in (mlp[0], mlp[2]):
                            nn.init.constant_(lin.bias, 0.1)

    # ---- GeneratorModel plumbing without an LLM ---------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        return self.logit.weight.device

    @property
    def hidden_size(self) -> int:
        """The model width ``d_model``."""
        return self.config.d_model

    def train(self, mode: bool = True) -> "Ct2Rep":
        """Switch training mode (every module trains)."""
        return nn.Module.train(self, mode)

    @classmethod
    def from_config(cls, config: Any = None, **overrides: Any) -> "Ct2Rep":
        """Refused: the vocabulary comes from the training reports (:meth:`from_training_data`).

        Raises:
            InputError: always.
        """
        raise InputError("ct2rep builds its word vocabulary from the training reports: use from_training_data "
                         "(radeval train does)")

    @classmethod
    def from_training_data(cls, config: Any, texts: Sequence[str]) -> "Ct2Rep":
        """A new model whose vocabulary is built from the training reports (``config.threshold``)."""
        cfg = cls.parse_config(config)
        return cls(cfg, WordVocabulary.from_reports(texts, threshold=cfg.threshold))

    @classmethod
    def for_meta(cls, config: Any = None, *, llm_config: Any = None, vocab_size: int | None = None) -> "Ct2Rep":
        """The model on the meta device for a vocabulary of ``vocab_size`` words (parameter counts).

        Raises:
            InputError: an ``llm_config`` (there is no LLM) or no ``vocab_size``.
        """
        if llm_config is not None:
            raise InputError("ct2rep has no LLM: drop --llm-config")
        if vocab_size is None:
            raise InputError("ct2rep: give the word-vocabulary size (--vocab-size V); its parameters grow by "
                             "1,025 per word at d_model 512")
        cfg = cls.parse_config(config)
        with torch.device("meta"):
            return cls(cfg, vocab_size=vocab_size)

    def save_pretrained(self, directory: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
        """Write ``config.json``, ``model.safetensors`` and ``vocabulary.json``."""
        if self.tokenizer is None:
            raise InputError("ct2rep: a model built without a vocabulary (meta device) cannot be saved")
        out = save_checkpoint(directory, model_type=self.name, config=dataclasses.asdict(self.config),
                              tensors=self.trainable_state(),
                              extra={"vocab_size": self.n_words, **dict(extra or {})})
        self.tokenizer.save(out)
        return out

    @classmethod
    def from_pretrained(cls, directory: str | Path, **overrides: Any) -> "Ct2Rep":
        """Load a model saved by :meth:`save_pretrained` (``overrides``: config fields, e.g. ``num_beams``; the
        generators' common ``max_new_tokens`` becomes ``max_seq_length = max_new_tokens + 1``).

        Raises:
            InputError: a checkpoint of another model, a missing vocabulary, or tensors that do not fit.
        """
        if overrides.pop("llm", None) is not None:
            raise InputError("ct2rep has no LLM: --llm does not apply")
        if overrides.get("max_new_tokens") is not None:
            overrides["max_seq_length"] = int(overrides["max_new_tokens"]) + 1
        overrides.pop("max_new_tokens", None)
        body = read_checkpoint_config(directory, expected_type=cls.name)
        saved = {"slab_norm": "none", **body["config"]}  # saved before the setting existed: unnormalised tokens
        model = cls(cls.parse_config(saved, **overrides), WordVocabulary.load(directory))
        model.load_trainable_state(Path(directory), load_checkpoint_tensors(directory))
        return model

    # ---- training -------------------------------------------------------------------------------------------

    def collate(self, texts: Sequence[str], conditioning: torch.Tensor) -> dict[str, torch.Tensor]:
        """``[0] + word ids + [0]`` per report (cut to ``max_seq_length``), 0-padded, with a mask of real ids."""
        assert self.tokenizer is not None
        seqs = [self.tokenizer.sequence(t, self.config.max_seq_length) for t in texts]
        width = max(len(s) for s in seqs)
        tokens = torch.zeros(len(seqs), width, dtype=torch.long)
        mask = torch.zeros(len(seqs), width, dtype=torch.long)
        for i, s in enumerate(seqs):
            tokens[i, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[i, : len(s)] = 1
        return {"conditioning": conditioning, "tokens": tokens, "mask": mask}

    def slab_tokens(self, conditioning: torch.Tensor) -> torch.Tensor:
        """The ``(B, n_slabs, slab_dim)`` slab tokens at the end of the conditioning rows."""
        c = self.config
        return conditioning[:, c.embedding_dim:].reshape(conditioning.shape[0], c.n_slabs, c.slab_dim)

    def visual_tokens(self, conditioning: torch.Tensor) -> torch.Tensor:
        """The slab tokens as the model reads them: ``(B, n_slabs, slab_dim)``, each token standardised over its
        channels when ``slab_norm`` is ``"layer"`` (the encoder output then does not depend on the tokens' scale)."""
        tokens = self.slab_tokens(conditioning).to(self.logit.weight.dtype)
        if self.config.slab_norm == "layer":
            tokens = torch.nn.functional.layer_norm(tokens, (tokens.shape[-1],), eps=self.config.SLAB_NORM_EPS)
        return tokens

    def encode(self, conditioning: torch.Tensor) -> torch.Tensor:
        """The encoder output ``(B, n_slabs, d_model)`` of the slab tokens."""
        x = self.att_embed(self.slab_projection(self.visual_tokens(conditioning)))
        for layer in self.encoder_layers:
            x = layer(x)
        return self.encoder_norm(x)

    def embed_targets(self, tokens: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Scaled word embeddings plus sinusoidal positions ``start..``, with dropout."""
        if start + tokens.shape[1] > self.positions.shape[0]:
            raise InputError(f"ct2rep: sequence longer than max_seq_length {self.config.max_seq_length}")
        x = self.word_embedding(tokens) * math.sqrt(self.config.d_model)
        return self.embedding_dropout(x + self.positions[start: start + tokens.shape[1]])

    def forward(self, conditioning: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor
                ) -> dict[str, torch.Tensor]:
        """Teacher-forced summed negative log-likelihood of every id after the first (the final 0 included)."""
        inputs, targets, target_mask = tokens[:, :-1], tokens[:, 1:], mask[:, 1:].to(torch.float32)
        encoded = self.encode(conditioning)
        length = inputs.shape[1]
        key_ok = inputs > 0
        key_ok[:, 0] = True  # the start token is id 0 too
        causal = torch.ones(length, length, dtype=torch.bool, device=inputs.device).tril()
        self_mask = key_ok.unsqueeze(1) & causal.unsqueeze(0)
        memory_start = self.relational_memory.initial(inputs.shape[0], like=encoded)
        memory = self.relational_memory(self.embed_targets(inputs), memory_start)
        x = self.embed_targets(inputs)
        for layer in self.decoder_layers:
            x = layer(x, encoded, self_mask, memory)
        logprobs = torch.log_softmax(self.logit(self.decoder_norm(x)).float(), dim=-1)
        nll = -logprobs.gather(2, targets.unsqueeze(2)).squeeze(2)
        return {"loss_sum": (nll * target_mask).sum(), "n_tokens": target_mask.sum().long()}

    # ---- generation -----------------------------------------------------------------------------------------

    @classmethod
    def default_decode_settings(cls, config: Any) -> DecodeSettings:
        """CT2Rep's decoding: ``num_beams`` beams (3), no length penalty (a finished hypothesis scores its summed
        log-probabilities: ``length_penalty`` 0), at most ``max_seq_length - 1`` new ids."""
        return DecodeSettings(num_beams=config.num_beams, max_new_tokens=config.max_seq_length - 1,
                              length_penalty=0.0)

    @classmethod
    def decode_settings_for(cls, config: Any, decoding: Any = None) -> DecodeSettings:
        """:meth:`GeneratorModel.decode_settings_for`, refusing more new ids than the positions cover.

        Raises:
            InputError: ``max_new_tokens`` above ``max_seq_length - 1`` (load with ``max_new_tokens`` instead: it
                raises ``max_seq_length``), or a bad setting.
        """
        settings = super().decode_settings_for(config, decoding)
        if settings.max_new_tokens > config.max_seq_length - 1:
            raise InputError(f"ct2rep: max_new_tokens={settings.max_new_tokens} exceeds max_seq_length - 1 = "
                             f"{config.max_seq_length - 1}; load the model with max_new_tokens (radeval generate "
                             "--max-new-tokens) to raise max_seq_length")
        return settings

    def decode(self, conditioning: torch.Tensor, settings: DecodeSettings | None = None) -> list[list[int]]:
        """Word ids per row (beam search, or greedy with ``num_beams`` 1), ending before the first 0; ``settings``
        override CT2Rep's defaults (:meth:`decode_settings`)."""
        decoder = Ct2RepDecoder(self, conditioning)
        return decode_tokens(decoder, batch_size=decoder.rows, settings=self.decode_settings(settings),
                             eos_token_id=BOS_EOS_PAD)


class Ct2RepDecoder:
    """Incremental decoding state of a batch: ``start()``, ``step(tokens)``, ``reorder(index)`` (logits ``(rows, V+1)``).

    It is a :class:`radeval_models.beam_search.IncrementalDecoder`. The encoder runs once; each decoder layer keeps
    the cross-attention keys/values of the encoder output and a growing self-attention key/value cache; the
    relational memory advances one step per token. Every row is at the same position (beam search and greedy
    decoding advance all rows together). Logits equal those of the
    teacher-forced :meth:`Ct2Rep.forward` at each position (``tests/models/test_ct2rep.py``).
    """

    def __init__(self, model: Ct2Rep, conditioning: torch.Tensor) -> None:
        self.model = model
        with torch.no_grad():
            encoded = model.encode(conditioning)
        self.caches = [{"src_k": k, "src_v": v} for k, v in
                       (layer.src_attn.keys_values(encoded) for layer in model.decoder_layers)]
        self.memory = model.relational_memory.initial(encoded.shape[0], like=encoded)
        self.position = 0
        self.rows = encoded.shape[0]

    def start(self) -> torch.Tensor:
        """Logits of the first word, after the start token 0: ``(B, V+1)``."""
        return self.step(torch.full((self.rows,), BOS_EOS_PAD, dtype=torch.long, device=self.memory.device))

    def reorder(self, index: torch.Tensor) -> None:
        """Keep and reorder rows: row ``i`` of the new state is row ``index[i]`` of the old one."""
        index = index.to(self.memory.device)
        self.memory = self.memory.index_select(0, index)
        self.caches = [{k: v.index_select(0, index) for k, v in cache.items()} for cache in self.caches]
        self.rows = int(index.shape[0])

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Feed one id per row (``(rows,)``) and return the logits of the next: ``(rows, V+1)``."""
        m = self.model
        with torch.no_grad():
            x = m.embed_targets(tokens.view(-1, 1).to(self.memory.device), start=self.position)
            self.memory = m.relational_memory.step(x[:, 0], self.memory)
            mem = self.memory.unsqueeze(1)
            for layer, cache in zip(m.decoder_layers, self.caches):
                x = layer.step(x, mem, cache)
            self.position += 1
            return m.logit(m.decoder_norm(x))[:, 0].float()
