"""Ker-VLJEPA-style report generator over CT-CLIP slab tokens (registry name ``ker-vljepa``).

A reconstruction of Ker-VLJEPA-3B (arXiv 2603.23308, no public code) on the features this toolkit has: CT-CLIP's
``n_slabs`` slab tokens instead of the paper's per-slice LeJEPA ViT-L embeddings. The model card (:data:`CARD`,
``radeval models show ker-vljepa``, :mod:`radeval_models.ker_vljepa_card`) says per component what is as published and what is reconstructed.

Pipeline of one case::

    slab tokens (S x Ds) --ZoneCompressor--> K zone tokens (K x Ds)
        --bridge: Linear(Ds -> H), LayerNorm, x mean text-embedding norm / sqrt(H)--> K visual tokens (K x H)
    LLM input:  [BOS] prompt-before  <K visual tokens>  prompt-after  report
    LLM layers at the quarter points read the visual tokens again through gated cross-attention;
    LoRA adapters on q_proj / v_proj; the LLM's own weights stay frozen.

Heads used by the curriculum: ``label_head`` (per-zone label logits, max-pooled over zones: multiple-instance
learning) and ``align_head`` (mean zone token -> the C-d PCA-whitened text space).

The four phases, one ``radeval train`` run (step ranges of ``*_epochs`` epochs each, see
:mod:`radeval_models.train_phases`), each loss a sum with its count so the loop's per-count normalisation gives
the same step on 1 or N processes:

1. ``warmup`` — trains ``compressor``, ``label_head``: BCE of the MIL label logits against the rule labeler's labels
   of the report; mean over (case, label).
2. ``align`` — trains ``compressor``, ``align_head``: the JEPA-style latent target. With ``t = whiten(r(y+))``, the
   PCA-whitened text representation of the positive-findings text ``y+`` (``r`` = mean over its tokens of the
   LLM's layer-``pca_layer`` states; layer 0 = the input embeddings), the loss of a case is
   ``||align_head(mean_k zone_k) - t||^2 / C``; mean over cases. The target is a fixed latent (no gradient).
3. ``generate`` — first the warm bridge: ``bridge.weight = A W_align``, ``bridge.bias = A b_align`` with
   ``A`` the de-whitening matrix, so the bridge starts as "predict the whitened text latent, map it back into
   the LLM's representation space" (centred: ``mu`` left out, see :meth:`KerVLJepa.warm_bridge`). Trains ``bridge``, ``xattn``, LoRA, ``align_head``, ``label_head``: LM loss on
   ``y+`` + per case (``jepa_weight`` x phase-2 loss + ``cls_weight`` x mean BCE) x that case's report tokens;
   normalised by report tokens.
4. ``findings`` — first the EWC anchor: LoRA weights now, diagonal empirical Fisher from per-case gradients of the
   phase-3 LM loss on the first ``ewc_fisher_cases`` training cases. Trains LoRA only (cross-attention, bridge and
   the visual side frozen) at ``lr x findings_lr_scale``: LM loss on the full report + EWC penalty x report tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from radeval_models.ewc import ElasticWeightConsolidation
from radeval_models.gated_cross_attention import (
    GatedCrossAttention, GraftedDecoding, VisualContext, attach, default_layers,
)
from radeval_models.beam_search import DecodeSettings
from radeval_models.generator import GeneratorModel
from radeval_models.ker_vljepa_card import CARD
from radeval_models.llm import stop_token_ids, with_lora
from radeval_models.lm_decoder import decode_lm
from radeval_models.lm_loss import loss_after_context, report_targets
from radeval_models.prompt_context import IMAGE_PLACEHOLDER, prompt_context
from radeval_models.pca_whitening import PcaWhitening
from radeval_models.positive_findings import PositiveFindings
from radeval_models.train_phases import TrainingPhase, phases_from_epochs
from radeval_models.zone_compression import ZoneCompressor
from radeval.errors import InputError
from radeval.labeling.base import resolve_labels

PROMPT = "Chest CT volume: <ImageHere>\nFindings:"
PHASES = ("warmup", "align", "generate", "findings")


@dataclass
class KerVLJepaConfig:
    """Settings of ``ker-vljepa`` (published values and reconstructions: see the model card).

    Attributes:
        llm: LLM spec; ``meta-llama/Llama-3.2-3B-Instruct`` as published, ``smollm2`` offline.
        embedding_dim: width of the CT-CLIP latent (part of the conditioning; this model reads the slab tokens).
        n_logits: unused (no diagnostic priors).
        n_slabs: CT-CLIP slab tokens per case.
        slab_dim: their width.
        n_zones: visual tokens ``K`` (``1 <= K <= n_slabs``; 32 published over up to 600 slices).
        zone_heads: heads of the zone attention and the zone mixer layer (16 published per a review).
        pca_components: whitened components ``C`` (256 per a review; needs more training texts than ``C``).
        pca_layer: LLM layer whose token states are averaged into the text representation (0 = input embeddings).
        labels: label set of the positive-findings selection and the warm-up head.
        normal_text: the target of a report without positive findings.
        xattn_layers: ``"quarters"`` (L/4, L/2, 3L/4: 7, 14, 21 on the 28-layer 3B) or comma-separated indices.
        xattn_heads: cross-attention heads (0 = the LLM's attention heads).
        lora_r: LoRA rank on q_proj/v_proj (>= 1).
        lora_alpha: LoRA alpha.
        warmup_epochs, align_epochs, generate_epochs, findings_epochs: the curriculum, in ``phase_unit``s (the run
            must be as long as their sum: training ``epochs``, or ``max_steps`` for step units).
        phase_unit: ``"epochs"`` (default) or ``"steps"`` (short runs, e.g. the demo).
        findings_lr_scale: phase-4 learning rate as a fraction of the run's ``lr``.
        jepa_weight: weight of the latent loss in phase 3.
        cls_weight: weight of the label BCE in phase 3.
        ewc_strength: EWC lambda (100 and 500 both appear in the paper per a review).
        ewc_fisher_cases: training cases of the Fisher estimate.
        prompt: the prompt; ``<ImageHere>`` marks the visual tokens.
        max_target_tokens: report tokens kept for training (EOS included).
        max_new_tokens: generation limit (decoding is greedy unless ``radeval generate`` asks for beams).
    """

    llm: str = "smollm2"
    embedding_dim: int = 512
    n_logits: int = 0
    n_slabs: int = 24
    slab_dim: int = 512
    n_zones: int = 8
    zone_heads: int = 16
    pca_components: int = 256
    pca_layer: int = 0
    labels: str = "ct-rate"
    normal_text: str = "No acute abnormality."
    xattn_layers: str = "quarters"
    xattn_heads: int = 0
    lora_r: int = 8
    lora_alpha: int = 16
    warmup_epochs: int = 2
    align_epochs: int = 2
    generate_epochs: int = 6
    findings_epochs: int = 8
    phase_unit: str = "epochs"
    findings_lr_scale: float = 0.005
    jepa_weight: float = 1.0
    cls_weight: float = 1.0
    ewc_strength: float = 100.0
    ewc_fisher_cases: int = 64
    prompt: str = PROMPT
    max_target_tokens: int = 512
    max_new_tokens: int = 512


class KerVLJepa(GeneratorModel):
    """Ker-VLJEPA-style generator (registry name ``ker-vljepa``); see the module docstring and :data:`CARD`."""

    name: ClassVar[str] = "ker-vljepa"
    config_class: ClassVar[type] = KerVLJepaConfig
    use_logits: ClassVar[bool] = False
    use_slab_tokens: ClassVar[bool] = True
    train_llm: ClassVar[bool] = False
    curriculum: ClassVar[bool] = True
    card: ClassVar[str] = CARD

    def build(self) -> None:
        """Zone compressor, heads, bridge, whitening, gated cross-attention, LoRA, EWC buffers."""
        cfg = self.config
        if cfg.prompt.count(IMAGE_PLACEHOLDER) != 1:
            raise InputError(f"ker-vljepa: prompt must contain {IMAGE_PLACEHOLDER!r} exactly once")
        if not 1 <= cfg.n_zones <= cfg.n_slabs:
            raise InputError(f"ker-vljepa: n_zones must be between 1 and n_slabs ({cfg.n_slabs}), got {cfg.n_zones}")
        if cfg.lora_r < 1:
            raise InputError("ker-vljepa: lora_r must be >= 1 (phase 4 trains the LoRA adapters)")
        h = self.hidden_size
        self.findings = PositiveFindings(labels=cfg.labels, normal_text=cfg.normal_text)
        n_labels = len(resolve_labels(cfg.labels))
        self.compressor = ZoneCompressor(cfg.n_slabs, cfg.n_zones, cfg.slab_dim, cfg.zone_heads)
        self.label_head = nn.Linear(cfg.slab_dim, n_labels)
        self.align_head = nn.Linear(cfg.slab_dim, cfg.pca_components)
        self.bridge = nn.Linear(cfg.slab_dim, h)
        self.bridge_norm = nn.LayerNorm(h, elementwise_affine=False)
        self.whitening = PcaWhitening(h, cfg.pca_components)
        embed = self.lm.get_input_embeddings().weight
        self.register_buffer("text_norm", embed.detach().float().norm(dim=1).mean(), persistent=False)
        n_layers = int(self.lm.config.num_hidden_layers)
        self.xattn_at = self._xattn_layers(n_layers)
        heads = cfg.xattn_heads or int(self.lm.config.num_attention_heads)
        self.xattn = nn.ModuleList(GatedCrossAttention(h, heads) for _ in self.xattn_at)
        self.lm = with_lora(self.lm, r=cfg.lora_r, alpha=cfg.lora_alpha, dropout=0.0)
        self.visual_context = VisualContext()
        self._hooks = attach(self.lm, self.xattn, self.xattn_at, self.visual_context)
        self.lora_names = tuple(f"lm.{n}" for n, p in self.lm.named_parameters() if p.requires_grad)
        self._lora = [p for p in self.lm.parameters() if p.requires_grad]
        self.ewc = ElasticWeightConsolidation([p.shape for p in self._lora], cfg.ewc_strength)
        self.phase = "findings"
        self._targets: dict[str, torch.Tensor] = {}

    def _xattn_layers(self, n_layers: int) -> tuple[int, ...]:
        spec = self.config.xattn_layers.strip()
        if spec == "quarters":
            return default_layers(n_layers)
        try:
            layers = tuple(int(x) for x in spec.split(",") if x.strip())
        except ValueError:
            raise InputError(f"ker-vljepa: xattn_layers {spec!r}: expected 'quarters' or comma-separated layer "
                             f"indices") from None
        bad = [i for i in layers if not 0 <= i < n_layers]
        if bad or not layers:
            raise InputError(f"ker-vljepa: xattn_layers {spec!r}: indices must be in [0, {n_layers})")
        return layers

    # ---- what a checkpoint holds ----------------------------------------------------------------------------

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """Trainable parameters plus the fitted whitening and the EWC anchor/Fisher (needed to resume in phase 4)."""
        state = super().trainable_state()
        state.update({n: b for n, b in self.named_buffers() if n.startswith(("whitening.", "ewc."))})
        return state

    # ---- visual side ----------------------------------------------------------------------------------------

    def zone_tokens(self, conditioning: torch.Tensor) -> torch.Tensor:
        """``(batch, K, slab_dim)`` zone tokens from the conditioning's slab-token part."""
        cfg = self.config
        slabs = conditioning[:, cfg.embedding_dim:].reshape(-1, cfg.n_slabs, cfg.slab_dim)
        return self.compressor(slabs.to(self.label_head.weight.dtype))

    def visual_tokens(self, zones: torch.Tensor) -> torch.Tensor:
        """``(batch, K, H)`` LLM-width visual tokens, rescaled to the mean token-embedding norm."""
        out = self.bridge_norm(self.bridge(zones)) * (self.text_norm / self.hidden_size ** 0.5)
        return out.to(self.lm.get_input_embeddings().weight.dtype)

    def label_logits(self, zones: torch.Tensor) -> torch.Tensor:
        """``(batch, L)`` case logits: per-zone logits max-pooled over zones (multiple-instance learning)."""
        return self.label_head(zones).amax(dim=1)

    def latent_prediction(self, zones: torch.Tensor) -> torch.Tensor:
        """``(batch, C)`` predicted whitened text latent from the mean zone token."""
        return self.align_head(zones.mean(dim=1))

    # ---- text side ------------------------------------------------------------------------------------------

    @torch.no_grad()
    def text_representations(self, texts: Sequence[str]) -> torch.Tensor:
        """``(n, H)`` float32 mean over tokens of the LLM's layer-``pca_layer`` states (adapters and grafts off)."""
        tok, embed = self.tokenizer, self.lm.get_input_embeddings()
        rows = []
        for text in texts:
            ids = tok(text, add_special_tokens=False)["input_ids"] or [tok.eos_token_id]
            x = torch.tensor([ids], device=embed.weight.device)
            if self.config.pca_layer == 0:
                states = embed(x)
            else:
                with self.lm.disable_adapter():
                    states = self.lm(input_ids=x, output_hidden_states=True).hidden_states[self.config.pca_layer]
            rows.append(states[0].float().mean(0))
        return torch.stack(rows)

    def latent_targets(self, texts: Sequence[str]) -> torch.Tensor:
        """``(n, C)`` whitened latents of the positive-findings texts of ``texts`` (memoised per text)."""
        wanted = self.findings.texts(texts)
        new = sorted({t for t in wanted if t not in self._targets})
        if new:
            for t, z in zip(new, self.whitening(self.text_representations(new))):
                self._targets[t] = z
        return torch.stack([self._targets[t] for t in wanted])

    # ---- training hooks -------------------------------------------------------------------------------------

    def fit_training_data(self, texts: Sequence[str], conditioning: torch.Tensor) -> None:
        """Fit the PCA whitening on the positive-findings texts of the training reports."""
        self.whitening.fit(self.text_representations(self.findings.texts(texts)))
        self._targets.clear()

    def training_phases(self, steps_per_epoch: int) -> tuple[TrainingPhase, ...]:
        """The four phases as step ranges (see the module docstring)."""
        cfg = self.config
        lora = self.lora_names
        return phases_from_epochs([
            ("warmup", cfg.warmup_epochs, ("compressor.", "label_head."), 1.0),
            ("align", cfg.align_epochs, ("compressor.", "align_head."), 1.0),
            ("generate", cfg.generate_epochs, ("compressor.", "bridge.", "xattn.", "align_head.", "label_head.", *lora),
             1.0),
            ("findings", cfg.findings_epochs, lora, cfg.findings_lr_scale),
        ], steps_per_epoch, unit=cfg.phase_unit)

    def begin_phase(self, phase: Any, *, entering: bool, texts: Sequence[str], conditioning: torch.Tensor) -> None:
        """Switch the objective; on entering ``generate`` warm the bridge, on entering ``findings`` set the EWC anchor."""
        if phase.name not in PHASES:
            raise InputError(f"ker-vljepa: unknown training phase {phase.name!r}")
        self.phase = phase.name
        if entering and phase.name == "generate":
            self.warm_bridge()
        if entering and phase.name == "findings":
            n = min(self.config.ewc_fisher_cases, len(texts))
            self.set_ewc_anchor(texts[:n], conditioning[:n])

    @torch.no_grad()
    def warm_bridge(self) -> None:
        """``bridge := (unwhiten - mu) o align_head``: weight ``A W_align``, bias ``A b_align``.

        The mean ``mu`` shared by every text is left out: it dwarfs the case-specific part of an anisotropic
        representation, and the bridge's LayerNorm would then give every case nearly the same visual tokens.
        """
        a, _ = self.whitening.unwhiten_affine()
        self.bridge.weight.copy_(a @ self.align_head.weight)
        self.bridge.bias.copy_(a @ self.align_head.bias)

    def set_ewc_anchor(self, texts: Sequence[str], conditioning: torch.Tensor) -> None:
        """Anchor the LoRA weights here, with the diagonal empirical Fisher of the phase-3 LM loss on these cases."""
        was_training = self.training
        self.eval()
        fisher = [torch.zeros_like(p) for p in self._lora]
        try:
            for i, text in enumerate(texts):
                batch = report_targets(self.tokenizer, [self.findings.text(text)], self.config.max_target_tokens)
                out = self._lm_loss(conditioning[i:i + 1].to(self.device), **{k: v.to(self.device)
                                                                              for k, v in batch.items()})
                grads = torch.autograd.grad(out["loss_sum"] / out["n_tokens"].clamp(min=1), self._lora,
                                            allow_unused=True)
                for f, g in zip(fisher, grads):
                    if g is not None:
                        f += g.detach() ** 2
        finally:
            self.train(was_training)
        self.ewc.set_anchor(self._lora, [f / max(len(texts), 1) for f in fisher])

    def ewc_penalty(self) -> torch.Tensor:
        """The EWC penalty of the current LoRA weights (zero before phase 4's anchor)."""
        return self.ewc.penalty(self._lora).to(self.device)

    # ---- GeneratorModel contract ----------------------------------------------------------------------------

    def collate(self, texts: Sequence[str], conditioning: torch.Tensor) -> dict[str, torch.Tensor]:
        """The tensors of the current phase's objective."""
        out: dict[str, torch.Tensor] = {"conditioning": conditioning}
        if self.phase in ("warmup", "generate"):
            out["label_targets"] = torch.from_numpy(self.findings.label_matrix(list(texts)))
        if self.phase in ("align", "generate"):
            out["latent_targets"] = self.latent_targets(texts)
        if self.phase == "generate":
            out.update(report_targets(self.tokenizer, self.findings.texts(texts), self.config.max_target_tokens))
        if self.phase == "findings":
            out.update(report_targets(self.tokenizer, texts, self.config.max_target_tokens))
        return out

    def _lm_loss(self, conditioning: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 labels: torch.Tensor, zones: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        zones = self.zone_tokens(conditioning) if zones is None else zones
        visual = self.visual_tokens(zones)
        self.visual_context.tokens = visual
        try:
            return loss_after_context(self.lm, prompt_context(self.lm, self.tokenizer, self.config.prompt, visual), input_ids, attention_mask, labels)
        finally:
            self.visual_context.tokens = None

    def forward(self, conditioning: torch.Tensor, input_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                label_targets: torch.Tensor | None = None, latent_targets: torch.Tensor | None = None
                ) -> dict[str, torch.Tensor]:
        """``{"loss_sum", "n_tokens"}`` of the current phase's objective (module docstring)."""
        zones = self.zone_tokens(conditioning)
        b = conditioning.shape[0]
        if self.phase == "warmup":
            bce = F.binary_cross_entropy_with_logits(self.label_logits(zones).float(), label_targets.float(),
                                                     reduction="sum")
            return {"loss_sum": bce, "n_tokens": torch.tensor(b * label_targets.shape[1], device=bce.device)}
        if self.phase == "align":
            err = ((self.latent_prediction(zones).float() - latent_targets.float()) ** 2).mean(dim=1)
            return {"loss_sum": err.sum(), "n_tokens": torch.tensor(b, device=err.device)}
        out = self._lm_loss(conditioning, input_ids, attention_mask, labels, zones=zones)
        if self.phase == "generate":
            per_case_tokens = (labels != -100).sum(dim=1).to(out["loss_sum"].dtype)
            jepa = ((self.latent_prediction(zones).float() - latent_targets.float()) ** 2).mean(dim=1)
            bce = F.binary_cross_entropy_with_logits(self.label_logits(zones).float(), label_targets.float(),
                                                     reduction="none").mean(dim=1)
            aux = self.config.jepa_weight * jepa + self.config.cls_weight * bce
            return {"loss_sum": out["loss_sum"] + (aux * per_case_tokens).sum(), "n_tokens": out["n_tokens"]}
        if self.phase == "findings" and self.training:
            penalty = self.ewc_penalty() * out["n_tokens"].to(out["loss_sum"].dtype)
            return {"loss_sum": out["loss_sum"] + penalty, "n_tokens": out["n_tokens"]}
        return out

    def decode(self, conditioning: torch.Tensor, settings: DecodeSettings | None = None) -> list[list[int]]:
        """Decode the batch under ``settings`` (default greedy; beams and penalties via
        :func:`~radeval_models.lm_decoder.decode_lm`); each row's cross-attention reads that row's visual tokens,
        which follow the rows through beam expansion, reordering and finished-row removal."""
        stops = stop_token_ids(self.tokenizer, self.lm.config)
        visual = self.visual_tokens(self.zone_tokens(conditioning))
        return decode_lm(GraftedDecoding(self.lm, self.visual_context), prompt_context(self.lm, self.tokenizer, self.config.prompt, visual),
                         settings=self.decode_settings(settings), stop_ids=stops, forward_kwargs={"visual": visual})
