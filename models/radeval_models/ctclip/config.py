"""CT-ViT / CT-CLIP image-encoder configuration: the released CT-CLIP size and a small test/demo size."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from radeval.errors import InputError


@dataclass(frozen=True)
class CTViTConfig:
    """Sizes of the CT-ViT encoder and the latent projection.

    Attributes:
        dim: token width.
        codebook_size: vector-quantiser codes.
        image_size: in-plane input size (X = Y).
        frames: input depth (Z slices).
        patch_size: in-plane patch edge; temporal_patch_size: patch depth.
        spatial_depth / temporal_depth: transformer blocks of each kind.
        heads / dim_head: attention heads and their width.
        channels: input channels (1 for CT).
        dim_latent: size of the CLIP image latent (``to_visual_latent``).
    """

    dim: int = 512
    codebook_size: int = 8192
    image_size: int = 480
    frames: int = 240
    patch_size: int = 20
    temporal_patch_size: int = 10
    spatial_depth: int = 4
    temporal_depth: int = 4
    heads: int = 8
    dim_head: int = 32
    channels: int = 1
    dim_latent: int = 512

    def __post_init__(self) -> None:
        if self.image_size % self.patch_size:
            raise InputError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")
        if self.frames % self.temporal_patch_size:
            raise InputError(f"frames {self.frames} is not a multiple of temporal_patch_size "
                             f"{self.temporal_patch_size}")

    @classmethod
    def ctclip(cls) -> "CTViTConfig":
        """The configuration of every released CT-CLIP (latent from a 24 x 24 x 24 token grid)."""
        return cls()

    @classmethod
    def small(cls) -> "CTViTConfig":
        """The same architecture at toy size, for tests and the phantom demo (input 48 x 64 x 64).

        Pairs with :meth:`radeval.data.preprocess.PreprocessConfig.small`.
        """
        return cls(dim=64, codebook_size=512, image_size=64, frames=48, patch_size=8, temporal_patch_size=4,
                   spatial_depth=2, temporal_depth=2, heads=4, dim_head=16, dim_latent=512)

    @property
    def grid(self) -> tuple[int, int, int]:
        """Token grid (t, h, w)."""
        side = self.image_size // self.patch_size
        return (self.frames // self.temporal_patch_size, side, side)

    @property
    def dim_image(self) -> int:
        """Flattened size of the depth-averaged token grid (CT-CLIP: 24 * 24 * 512 = 294,912)."""
        _, h, w = self.grid
        return h * w * self.dim

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """``(channels, Z, X, Y)`` of one input volume."""
        return (self.channels, self.frames, self.image_size, self.image_size)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CTViTConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise naming them."""
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise InputError(f"unknown CT-ViT config key(s) {unknown}")
        return cls(**data)
