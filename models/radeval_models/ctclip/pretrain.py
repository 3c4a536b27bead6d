"""A short, label-supervised pretraining of the small CT-ViT on training volumes (phantom/demo only), cached.

**What this is.** A *demo-only reconstruction*, not CT-CLIP's training: CT-CLIP trains its encoder contrastively
on 50k CT-RATE volume/report pairs; the offline demo has neither those weights nor that data. With a seeded
random encoder the latent carries almost no finding signal (issue 15: label-head macro AUROC 0.58 on phantom
data; the random-codebook vector quantisation destroys most of it). So, before embedding, the encoder here is
trained for a few epochs on the *training split's* preprocessed volumes against the training split's 0/1 labels:

    volume -> CT-ViT tokens -> VQ (nearest code, straight-through gradient) -> mean over depth -> flatten
           -> to_visual_latent -> L2 norm -> x 10 -> Linear(512, L)  (a throw-away head)
    quantised tokens -> max over every (t, h, w) position -> x 3 -> Linear(dim, L)  (a throw-away pooled head)

loss = class-weighted BCE of the latent head (``pos_weight`` from the training labels) + ``pooled_head`` x the
same BCE of the pooled head + ``commitment`` x MSE(l2norm(tokens), sg(code)). The pooled head is
position-invariant: a finding drawn at a different place in every patient (a calcification, a nodule) is the same
token feature wherever it is, so the tokens learn a detector for it instead of the latent head memorising where it
sat in 126 training volumes (issue 15; the latent head alone learned only what sits at the same place in every
patient). The CT-ViT, ``to_visual_latent`` and so the downstream latent are CT-CLIP's architecture, unchanged; both
heads are thrown away. The encoder sees only voxels at embedding time (the throw-away heads and the labels are not
used there); the evaluation split is never read. Besides the training split, the pretraining may see extra
volumes that are not part of the dataset at all (``embed.pretrain_extra_phantoms``: freshly drawn phantoms from
a disjoint seed, :mod:`radeval_models.ctclip.extra_phantoms`). Optimiser AdamW with a one-cycle learning rate,
gradient clipping 1.0, seeded shuffling and initialisation. The weights are cached in ``$RADEVAL_HOME/encoders/``
under a content key (encoder size, preprocessing, settings, every training case's id, volume bytes and labels, and
the extra volumes' count, seed and options), so a re-run loads them instead of training again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from radeval_models.ctclip.attention import l2norm
from radeval_models.ctclip.encoder import CTClipImageEncoder
from radeval_models.ctclip.label_head import pos_weight_from_data
from radeval.errors import InputError
from radeval.paths import atomic_write_text, radeval_home

#: Latents are unit vectors: the throw-away head reads them scaled by this (a fixed temperature).
LATENT_SCALE = 10.0
#: Quantised tokens are unit codes: the pooled head reads their max over positions scaled by this.
POOLED_SCALE = 3.0
WEIGHTS_FILE = "encoder.safetensors"


@dataclass(frozen=True)
class EncoderPretrainConfig:
    """Settings of :func:`pretrain_encoder` (``epochs=0``: no pretraining).

    Attributes:
        epochs: passes over the training volumes.
        lr: peak learning rate of the one-cycle schedule (AdamW).
        batch_size: volumes per step.
        weight_decay: AdamW weight decay.
        commitment: weight of the VQ commitment term.
        seed: initialisation of the throw-away heads and the shuffling.
        pooled_head: weight of the position-invariant pooled head's loss (max over token positions; 0: the latent
            head alone, the recipe before issue 15 item 3).
    """

    epochs: int = 0
    lr: float = 1e-3
    batch_size: int = 8
    weight_decay: float = 0.01
    commitment: float = 0.25
    seed: int = 0
    pooled_head: float = 1.0

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.batch_size < 1 or self.lr <= 0 or self.pooled_head < 0:
            raise InputError(f"encoder pretraining: epochs >= 0, batch_size >= 1, lr > 0 and pooled_head >= 0 are "
                             f"required (got {self.epochs}, {self.batch_size}, {self.lr}, {self.pooled_head})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _trainable(encoder: CTClipImageEncoder) -> list[torch.nn.Parameter]:
    """Every parameter on the embedding path (the CT-ViT decoder is not on it)."""
    return [p for n, p in encoder.named_parameters()
            if not n.startswith(("visual_transformer.dec_", "visual_transformer.to_pixels"))]


def _latent_straight_through(encoder: CTClipImageEncoder,
                             volumes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The embedding path with a straight-through VQ; returns (latent, max-pooled tokens, commitment loss)."""
    vt = encoder.visual_transformer
    tokens = vt.encode(vt.to_patch_emb(volumes))
    codes, _ = vt.vq(tokens.detach())
    quantised = tokens + (codes - tokens).detach()
    commitment = F.mse_loss(l2norm(tokens), codes.detach())
    pooled = quantised.mean(dim=1).reshape(volumes.shape[0], -1)
    anywhere = quantised.reshape(volumes.shape[0], -1, quantised.shape[-1]).amax(dim=1)
    return l2norm(encoder.to_visual_latent(pooled)), anywhere, commitment


def pretrain_encoder(encoder: CTClipImageEncoder, volumes: np.ndarray, labels: np.ndarray, *,
                     config: EncoderPretrainConfig, progress: bool = False) -> list[float]:
    """Train ``encoder`` in place on preprocessed volumes and their 0/1 labels (see the module docstring).

    Args:
        encoder: the CT-ViT + latent projection (modified in place; left in eval mode).
        volumes: ``(n, 1, Z, X, Y)`` float32 preprocessed volumes of the *training* split.
        labels: ``(n, L)`` 0/1 labels of the same cases.
        config: :class:`EncoderPretrainConfig`.
        progress: tqdm bar over epochs.

    Returns:
        The mean training loss of each epoch.

    Raises:
        InputError: mismatched or empty inputs.

    Example:
        >>> from radeval_models.ctclip.config import CTViTConfig
        >>> enc = CTClipImageEncoder(CTViTConfig(dim=16, codebook_size=8, image_size=16, frames=8, patch_size=8,
        ...     temporal_patch_size=4, spatial_depth=1, temporal_depth=1, heads=2, dim_head=8, dim_latent=8))
        >>> x = np.random.default_rng(0).normal(size=(4, 1, 8, 16, 16)).astype(np.float32)
        >>> len(pretrain_encoder(enc, x, np.eye(4, 2), config=EncoderPretrainConfig(epochs=2, batch_size=2)))
        2
    """
    from tqdm import tqdm

    x = torch.as_tensor(np.asarray(volumes, dtype=np.float32))
    y = torch.as_tensor(np.asarray(labels, dtype=np.float32))
    if x.ndim != 5 or y.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise InputError(f"encoder pretraining needs (n, 1, Z, X, Y) volumes and (n, L) labels for the same n > 0 "
                         f"cases, got {tuple(x.shape)} and {tuple(y.shape)}")
    cfg = config
    gen = torch.Generator().manual_seed(cfg.seed)
    head = _seeded_linear(encoder.config.dim_latent, y.shape[1], gen)
    pooled_head = _seeded_linear(encoder.config.dim, y.shape[1], gen) if cfg.pooled_head else None
    params = _trainable(encoder) + list(head.parameters())
    if pooled_head is not None:
        params += list(pooled_head.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = max(1, cfg.epochs * -(-len(x) // cfg.batch_size))
    sched = _one_cycle(opt, cfg.lr, steps)
    pos_weight = pos_weight_from_data(y.numpy())
    history: list[float] = []
    encoder.train()
    for _ in tqdm(range(cfg.epochs), desc="pretrain encoder", disable=not progress):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            latent, anywhere, commitment = _latent_straight_through(encoder, x[idx])
            logits = head(latent * LATENT_SCALE)
            loss = (F.binary_cross_entropy_with_logits(logits, y[idx], pos_weight=pos_weight)
                    + cfg.commitment * commitment)
            if pooled_head is not None:
                loss = loss + cfg.pooled_head * F.binary_cross_entropy_with_logits(
                    pooled_head(anywhere * POOLED_SCALE), y[idx], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(x))
    encoder.eval()
    return history


def _seeded_linear(n_in: int, n_out: int, gen: torch.Generator) -> torch.nn.Linear:
    """A throw-away head: uniform(+-1/sqrt(n_in)) weights from ``gen``, zero bias."""
    layer = torch.nn.Linear(n_in, n_out)
    with torch.no_grad():
        bound = 1.0 / np.sqrt(n_in)
        layer.weight.copy_(torch.empty_like(layer.weight).uniform_(-bound, bound, generator=gen))
        layer.bias.zero_()
    return layer


def _one_cycle(opt: torch.optim.Optimizer, lr: float, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """One-cycle schedule with a 10% warm-up of at least two steps; a constant rate below three steps (torch's
    ``OneCycleLR`` divides by the length of each phase, so a phase of zero steps would divide by zero)."""
    if steps < 3:
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=max(0.1, 2 / steps))


def pretrain_key(*, encoder_config: dict[str, Any], preprocess: str, config: EncoderPretrainConfig,
                 init_seed: int, cases: Sequence[tuple[str, str, Sequence[int]]],
                 extra: dict[str, Any] | None = None) -> str:
    """Content key of a pretraining: encoder size, preprocessing, settings, init seed and every training case.

    Args:
        cases: ``(case_id, volume_sha256, labels)`` of each training case, in training order.
        extra: what determines the extra pretraining volumes (``ExtraPhantoms.to_dict()``: count, seed, phantom
            options), or ``None`` (not part of the key then, so pretrainings without extra volumes keep their key).
    """
    content: dict[str, Any] = {"encoder": encoder_config, "preprocess": preprocess, "config": config.to_dict(),
                               "init_seed": init_seed, "cases": [[c, h, list(map(int, lab))] for c, h, lab in cases]}
    if extra is not None:
        content["extra"] = extra
    blob = json.dumps(content, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:20]


def pretrained_dir(key: str) -> Path:
    """``$RADEVAL_HOME/encoders/ctvit-pretrained-<key>``."""
    return radeval_home() / "encoders" / f"ctvit-pretrained-{key}"


def load_pretrained(encoder: CTClipImageEncoder, key: str) -> bool:
    """Load cached pretrained weights into ``encoder`` if they exist; returns whether they did."""
    path = pretrained_dir(key) / WEIGHTS_FILE
    if not path.is_file():
        return False
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
        encoder.load_state_dict(state, strict=True)
    except Exception:  # a damaged cache entry is retrained, not trusted
        return False
    encoder.eval()
    return True


def save_pretrained(encoder: CTClipImageEncoder, key: str, meta: dict[str, Any]) -> Path:
    """Write the encoder's weights (and ``meta``) to the cache folder of ``key``, the weights file last."""
    from safetensors.torch import save_file

    out = pretrained_dir(key)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "pretrain.json", json.dumps(meta, indent=1))
    tmp = out / f".{WEIGHTS_FILE}.tmp"
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(tmp))
    tmp.replace(out / WEIGHTS_FILE)
    return out


__all__ = ["EncoderPretrainConfig", "LATENT_SCALE", "POOLED_SCALE", "load_pretrained", "pretrain_encoder",
           "pretrain_key", "pretrained_dir", "save_pretrained"]
