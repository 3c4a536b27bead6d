"""CT-ViT image encoder and CT-CLIP's image latent, loadable from a CT-CLIP checkpoint.

:class:`CTViT` has CT-CLIP's module tree (``to_patch_emb``, ``enc_spatial_transformer``,
``enc_temporal_transformer``, ``vq._codebook``, the decoder ``dec_*``/``to_pixels*`` and the unused
``to_patch_emb_first_frame``), so the ``visual_transformer.*`` tensors of a CT-CLIP checkpoint load with
``strict=True``. :class:`CTClipImageEncoder` adds ``to_visual_latent`` and computes the per-volume embedding:
quantised tokens (B, t, h, w, d) -> mean over depth -> flatten -> Linear (no bias) -> L2 normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from radeval_models.ctclip.attention import ContinuousPositionBias, Transformer, l2norm
from radeval_models.ctclip.config import CTViTConfig
from radeval.errors import InputError

#: Checkpoint prefixes inside ``visual_transformer.`` that only served CT-ViT's GAN/perceptual training.
TRAINING_ONLY_PREFIXES: tuple[str, ...] = ("vgg.", "discr.")


class Patchify(nn.Module):
    """``(b, c, T, H, W) -> (b, t, h, w, c*pt*p*p)`` with the patch values ordered (c, pt, p1, p2)."""

    def __init__(self, patch: int, temporal_patch: int = 1) -> None:
        super().__init__()
        self.patch = patch
        self.temporal_patch = temporal_patch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, frames, height, width = x.shape
        p, pt = self.patch, self.temporal_patch
        x = x.reshape(b, c, frames // pt, pt, height // p, p, width // p, p)
        x = x.permute(0, 2, 4, 6, 1, 3, 5, 7)
        return x.reshape(b, frames // pt, height // p, width // p, c * pt * p * p)


class Unpatchify(nn.Module):
    """Inverse of :class:`Patchify`: ``(b, t, h, w, c*pt*p*p) -> (b, c, T, H, W)``."""

    def __init__(self, patch: int, temporal_patch: int = 1, channels: int = 1) -> None:
        super().__init__()
        self.patch, self.temporal_patch, self.channels = patch, temporal_patch, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, h, w, _ = x.shape
        p, pt, c = self.patch, self.temporal_patch, self.channels
        x = x.reshape(b, t, h, w, c, pt, p, p).permute(0, 4, 1, 5, 2, 6, 3, 7)
        return x.reshape(b, c, t * pt, h * p, w * p)


class CosineSimCodebook(nn.Module):
    """The cosine-similarity codebook (buffers ``initted``, ``cluster_size``, ``embed``), inference only."""

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self.register_buffer("initted", torch.tensor([1.0]))
        self.register_buffer("cluster_size", torch.zeros(1, codebook_size))
        self.register_buffer("embed", l2norm(nn.init.kaiming_uniform_(torch.empty(1, codebook_size, dim))))

    @torch.no_grad()
    def forward(self, x: torch.Tensor, chunk: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
        """Nearest code by cosine similarity; returns (stored code vectors, indices). Bounded memory via chunks."""
        flat = x.reshape(-1, x.shape[-1])
        codes = l2norm(self.embed[0])
        index = torch.empty(flat.shape[0], dtype=torch.long, device=x.device)
        for start in range(0, flat.shape[0], chunk):
            part = l2norm(flat[start:start + chunk].float())
            index[start:start + chunk] = (part @ codes.t()).argmax(dim=-1)
        quantised = self.embed[0][index].to(x.dtype)
        return quantised.reshape(x.shape), index.reshape(x.shape[:-1])


class VectorQuantize(nn.Module):
    """Holds the codebook under the name CT-CLIP's checkpoints use (``vq._codebook.*``)."""

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self._codebook = CosineSimCodebook(dim, codebook_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._codebook(x)


class CTViT(nn.Module):
    """CT-ViT: 3D patch embedding, factorised spatial/temporal transformers and a cosine VQ.

    Input ``(B, 1, Z, X, Y)`` (CT-CLIP: ``(B, 1, 240, 480, 480)``); the token grid is (t, h, w) = (Z/pt, X/p, Y/p).
    """

    def __init__(self, config: CTViTConfig | None = None) -> None:
        super().__init__()
        cfg = config or CTViTConfig()
        self.config = cfg
        p, pt, c, dim = cfg.patch_size, cfg.temporal_patch_size, cfg.channels, cfg.dim
        self.spatial_rel_pos_bias = ContinuousPositionBias(dim=dim, heads=cfg.heads)
        self.to_patch_emb_first_frame = nn.Sequential(Patchify(p, 1), nn.LayerNorm(c * p * p),
                                                      nn.Linear(c * p * p, dim), nn.LayerNorm(dim))
        self.to_patch_emb = nn.Sequential(Patchify(p, pt), nn.LayerNorm(c * pt * p * p),
                                          nn.Linear(c * pt * p * p, dim), nn.LayerNorm(dim))
        kwargs = dict(dim_head=cfg.dim_head, heads=cfg.heads, peg=True, peg_causal=True)
        self.enc_spatial_transformer = Transformer(dim, depth=cfg.spatial_depth, **kwargs)
        self.enc_temporal_transformer = Transformer(dim, depth=cfg.temporal_depth, **kwargs)
        self.vq = VectorQuantize(dim, cfg.codebook_size)
        self.dec_spatial_transformer = Transformer(dim, depth=cfg.spatial_depth, **kwargs)
        self.dec_temporal_transformer = Transformer(dim, depth=cfg.temporal_depth, **kwargs)
        self.to_pixels_first_frame = nn.Sequential(nn.Linear(dim, c * p * p), Unpatchify(p, 1, c))
        self.to_pixels = nn.Sequential(nn.Linear(dim, c * pt * p * p), Unpatchify(p, pt, c))

    def _check_input(self, video: torch.Tensor) -> None:
        expected = self.config.input_shape
        if video.ndim != 5 or tuple(video.shape[1:]) != expected:
            raise InputError(f"CT-ViT expects input (B, {', '.join(map(str, expected))}), got {tuple(video.shape)}")

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Spatial then temporal transformer over (B, t, h, w, d) tokens."""
        b, t, h, w, d = tokens.shape
        shape = (b, t, h, w)
        x = tokens.reshape(b * t, h * w, d)
        x = self.enc_spatial_transformer(x, shape, attn_bias=self.spatial_rel_pos_bias(h, w))
        x = x.reshape(b, t, h, w, d).permute(0, 2, 3, 1, 4).reshape(b * h * w, t, d)
        x = self.enc_temporal_transformer(x, shape)
        return x.reshape(b, h, w, t, d).permute(0, 3, 1, 2, 4)

    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Decoder path: temporal then spatial transformer, then pixels ``(B, c, Z, X, Y)``."""
        b, t, h, w, d = tokens.shape
        shape = (b, t, h, w)
        x = tokens.permute(0, 2, 3, 1, 4).reshape(b * h * w, t, d)
        x = self.dec_temporal_transformer(x, shape)
        x = x.reshape(b, h, w, t, d).permute(0, 3, 1, 2, 4).reshape(b * t, h * w, d)
        x = self.dec_spatial_transformer(x, shape, attn_bias=self.spatial_rel_pos_bias(h, w))
        return self.to_pixels(x.reshape(b, t, h, w, d))

    def forward(self, video: torch.Tensor, *, return_indices: bool = False):
        """Quantised encoded tokens ``(B, t, h, w, d)`` (CT-CLIP's ``return_encoded_tokens=True``)."""
        self._check_input(video)
        tokens = self.encode(self.to_patch_emb(video))
        quantised, indices = self.vq(tokens)
        return (quantised, indices) if return_indices else quantised


@dataclass
class ImageEncoding:
    """Output of :class:`CTClipImageEncoder`: the L2-normalised latent, and optionally slab tokens."""

    latent: torch.Tensor  # (B, dim_latent)
    slabs: torch.Tensor | None = None  # (B, t, dim): mean over (h, w) of the quantised tokens


class CTClipImageEncoder(nn.Module):
    """CT-CLIP's image side: ``visual_transformer`` (CT-ViT) + ``to_visual_latent`` (no bias) + L2 norm.

    Example:
        >>> enc = CTClipImageEncoder(CTViTConfig.small()).eval()
        >>> with torch.no_grad():
        ...     out = enc(torch.zeros(2, 1, 48, 64, 64))
        >>> tuple(out.latent.shape), round(float(out.latent.norm(dim=-1)[0]), 4)
        ((2, 512), 1.0)
    """

    def __init__(self, config: CTViTConfig | None = None) -> None:
        super().__init__()
        self.config = config or CTViTConfig()
        self.visual_transformer = CTViT(self.config)
        self.to_visual_latent = nn.Linear(self.config.dim_image, self.config.dim_latent, bias=False)

    def forward(self, volume: torch.Tensor, *, return_slabs: bool = False) -> ImageEncoding:
        tokens = self.visual_transformer(volume)  # (B, t, h, w, d)
        pooled = tokens.mean(dim=1).reshape(tokens.shape[0], -1)
        latent = l2norm(self.to_visual_latent(pooled))
        slabs = tokens.mean(dim=(2, 3)) if return_slabs else None
        return ImageEncoding(latent, slabs)


def _strip_prefix(state: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a CT-CLIP checkpoint (``.pt``/``.pth`` torch pickle of tensors, or ``.safetensors``) on the CPU.

    Raises:
        InputError: missing or unreadable file (naming it).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: checkpoint not found")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(p))
        else:
            state = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch/safetensors raise many types on damaged files
        raise InputError(f"{p}: cannot read checkpoint ({type(exc).__name__}: {exc})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise InputError(f"{p}: expected a state dict, got {type(state).__name__}")
    return state


def load_ctclip_image_weights(encoder: CTClipImageEncoder, checkpoint: str | Path | dict[str, torch.Tensor],
                              ) -> dict[str, list[str]]:
    """Load the image-encoder weights of a CT-CLIP checkpoint into ``encoder``, strictly.

    Takes every ``visual_transformer.*`` tensor (apart from the GAN/perceptual-loss groups
    :data:`TRAINING_ONLY_PREFIXES`, which the encoder does not have) and ``to_visual_latent.weight``; the text
    tower and other keys are ignored. A ``module.`` prefix (DDP) is removed first.

    Returns:
        ``{"ignored": [...]}``: checkpoint keys not used (text encoder, training-only groups).

    Raises:
        InputError: a missing or unexpected image-encoder key, or a shape mismatch (listing them).
    """
    state = read_checkpoint(checkpoint) if not isinstance(checkpoint, dict) else checkpoint
    if state and all(k.startswith("module.") for k in state):
        state = _strip_prefix(state, "module.")
    visual = _strip_prefix(state, "visual_transformer.")
    if not visual:
        raise InputError("checkpoint has no 'visual_transformer.*' keys; is it a CT-CLIP checkpoint?")
    visual = {k: v for k, v in visual.items() if not k.startswith(TRAINING_ONLY_PREFIXES)}
    latent = _strip_prefix(state, "to_visual_latent.")
    try:
        result = encoder.visual_transformer.load_state_dict(visual, strict=False)
        problems = []
        if result.missing_keys:
            problems.append(f"missing {len(result.missing_keys)} key(s): {result.missing_keys[:8]}")
        if result.unexpected_keys:
            problems.append(f"unexpected {len(result.unexpected_keys)} key(s): {result.unexpected_keys[:8]}")
        if problems:
            raise InputError("CT-CLIP visual_transformer weights do not match the CT-ViT config "
                             f"({encoder.config}): " + "; ".join(problems))
        encoder.to_visual_latent.load_state_dict(latent, strict=True)
    except RuntimeError as exc:  # shape mismatches
        raise InputError(f"CT-CLIP weights do not fit the CT-ViT config {encoder.config}: {exc}") from None
    used = {f"visual_transformer.{k}" for k in visual} | {f"to_visual_latent.{k}" for k in latent}
    return {"ignored": sorted(k for k in state if k not in used)}


__all__ = ["CTClipImageEncoder", "CTViT", "ImageEncoding", "TRAINING_ONLY_PREFIXES", "load_ctclip_image_weights",
           "read_checkpoint"]
