"""CT-CLIP volume preprocessing: HU rescale, HU clip, trilinear resampling, scaling, centre crop/pad.

The pipeline of CT-CLIP's current inference loader, for an (X, Y, Z) array with spacing (x, y, z) mm:

1. ``HU = slope * v + intercept``;
2. clip HU to [-1000, 1000] (``clip="before"``; CT-CLIP's training loader clips after resampling: ``"after"``);
3. trilinear resampling (``align_corners=False``) to 0.75 x 0.75 x 1.5 mm, new size per axis
   ``floor(n * (spacing / target))``;
4. divide by 1000 (values in [-1, 1]);
5. centre crop / pad to 480 x 480 x 240 (X, Y, Z) with pad value -1 (= -1000 HU);
6. axis order (Z, X, Y) with a channel axis: ``(1, 240, 480, 480)``.

Trilinear interpolation is separable, so it is computed as a bilinear pass in each source slice followed by a
linear pass along Z that produces only the slices kept by the centre crop. The volume is processed in slabs of output slices, so besides the input
and the output only one slab is in memory at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radeval.errors import InputError

CLIP_MODES = ("before", "after")


@dataclass(frozen=True)
class PreprocessConfig:
    """Settings of the preprocessing; the defaults are CT-CLIP's.

    Attributes:
        spacing: target voxel size (x, y, z) in mm.
        shape: output size (X, Y, Z) after centre crop/pad.
        hu_min / hu_max: HU clip window.
        scale: divisor applied after clipping (HU / scale).
        pad_value: value of padded voxels (after scaling; -1 = -1000 HU).
        clip: ``"before"`` (clip HU, then resample; CT-CLIP inference) or ``"after"`` resampling (training).
        slab: output slices processed at a time (memory/speed trade-off; does not change results).
    """

    spacing: tuple[float, float, float] = (0.75, 0.75, 1.5)
    shape: tuple[int, int, int] = (480, 480, 240)
    hu_min: float = -1000.0
    hu_max: float = 1000.0
    scale: float = 1000.0
    pad_value: float = -1.0
    clip: str = "before"
    slab: int = 24

    def __post_init__(self) -> None:
        if self.clip not in CLIP_MODES:
            raise InputError(f"clip={self.clip!r}; expected one of {CLIP_MODES}")
        if len(self.spacing) != 3 or min(self.spacing) <= 0:
            raise InputError(f"target spacing must be three positive numbers, got {self.spacing}")
        if len(self.shape) != 3 or min(self.shape) < 1:
            raise InputError(f"target shape must be three positive sizes, got {self.shape}")
        if not self.hu_min < self.hu_max:
            raise InputError(f"HU window [{self.hu_min}, {self.hu_max}] is empty")

    @classmethod
    def small(cls) -> "PreprocessConfig":
        """The coarse variant for the phantom and the small CT-ViT: 5.5 x 5.5 x 6 mm, 64 x 64 x 48."""
        return cls(spacing=(5.5, 5.5, 6.0), shape=(64, 64, 48))

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        """``(1, Z, X, Y)``."""
        x, y, z = self.shape
        return (1, z, x, y)

    @property
    def signature(self) -> str:
        """A string naming every setting that changes the output."""
        sx, sy, sz = self.spacing
        x, y, z = self.shape
        return (f"ctclip-pre|sp:{sx:g}x{sy:g}x{sz:g}|shape:{x}x{y}x{z}|hu:{self.hu_min:g},{self.hu_max:g}"
                f"|scale:{self.scale:g}|pad:{self.pad_value:g}|clip:{self.clip}")


def resampled_size(n: int, spacing: float, target: float) -> int:
    """Number of voxels after resampling an axis of ``n`` voxels (CT-CLIP's rule: floor(n * spacing/target)).

    Example:
        >>> resampled_size(512, 0.5703125, 0.75), resampled_size(48, 5.0, 1.5)
        (389, 160)
    """
    return max(1, int(n * (spacing / target)))


@dataclass(frozen=True)
class _AxisPlan:
    """Linear-interpolation taps along one axis for the output voxels kept by the crop."""

    lo: np.ndarray  # lower source index per kept output voxel
    hi: np.ndarray  # upper source index
    w: np.ndarray  # weight of the upper index (float32)
    pad_before: int  # where the kept voxels start in the output axis


def _plan_axis(n_in: int, n_resampled: int, n_out: int) -> _AxisPlan:
    start = max((n_resampled - n_out) // 2, 0)
    keep = min(n_resampled, n_out)
    pad_before = (n_out - n_resampled) // 2 if n_resampled < n_out else 0
    j = np.arange(start, start + keep, dtype=np.float64)
    src = np.maximum((j + 0.5) * (n_in / n_resampled) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    w = (src - lo).astype(np.float32)
    return _AxisPlan(lo, hi, w, pad_before)


def _lerp_rows(data, plan: _AxisPlan, lo_offset: int):
    """Linear interpolation along dim 0 (whole rows are copied, so this is memory-bound and fast)."""
    import torch

    lo = torch.from_numpy(plan.lo - lo_offset)
    hi = torch.from_numpy(plan.hi - lo_offset)
    w = torch.from_numpy(plan.w).reshape(-1, 1, 1)
    return torch.lerp(data[lo], data[hi], w)  # advanced indexing: far faster than index_select on CPU


def preprocess_array(values: np.ndarray, spacing: tuple[float, float, float], *, slope: float = 1.0,
                     intercept: float = 0.0, config: PreprocessConfig | None = None, source: str = "volume") -> np.ndarray:
    """Preprocess one (X, Y, Z) volume into CT-CLIP's input tensor layout.

    Args:
        values: stored values indexed (X, Y, Z) (any numeric dtype; not modified).
        spacing: voxel size (x, y, z) in mm.
        slope, intercept: ``HU = slope * value + intercept``.
        config: :class:`PreprocessConfig` (default: CT-CLIP's).
        source: file or case name used in error messages.

    Returns:
        float32 array ``(1, Z, X, Y)`` with values in [-1, 1] (CT-CLIP: ``(1, 240, 480, 480)``).

    Raises:
        InputError: not 3D / a 2D image, bad spacing, non-finite slope/intercept, or NaN/inf voxels.

    Example:
        >>> v = np.full((40, 40, 20), -2000, np.int16)
        >>> out = preprocess_array(v, (1.5, 1.5, 3.0), config=PreprocessConfig(shape=(64, 64, 32)))
        >>> out.shape, float(out.min()), float(out.max())
        ((1, 32, 64, 64), -1.0, -1.0)
    """
    cfg = config or PreprocessConfig()
    arr = np.asarray(values)
    _check_volume(arr, spacing, slope, intercept, source)
    plan = _plan_volume(arr.shape, spacing, cfg)
    out = _padded_output(plan, cfg)
    _fill_slabs(out, arr, plan, cfg, float(slope), float(intercept))
    return out


def _check_volume(arr: np.ndarray, spacing: tuple[float, float, float], slope: float, intercept: float,
                  source: str) -> None:
    """Refuse what cannot be preprocessed, naming ``source`` (see :func:`preprocess_array`)."""
    if arr.ndim != 3:
        raise InputError(f"{source}: expected a 3D (X, Y, Z) volume, got shape {arr.shape}")
    if min(arr.shape) < 2:
        raise InputError(f"{source}: a 2D image (shape {arr.shape}), not a 3D volume")
    if len(spacing) != 3 or not all(math.isfinite(float(s)) and float(s) > 0 for s in spacing):
        raise InputError(f"{source}: invalid voxel spacing {spacing}")
    for name, v in (("RescaleSlope", slope), ("RescaleIntercept", intercept)):
        if v is None or not math.isfinite(float(v)):
            raise InputError(f"{source}: {name} is missing or not finite ({v!r})")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise InputError(f"{source}: voxel type {arr.dtype} is not a real number type")
    if np.issubdtype(arr.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            raise InputError(f"{source}: {bad} voxel(s) are NaN or infinite")


@dataclass(frozen=True)
class _VolumePlan:
    """Where the resampled, cropped volume lands in the output.

    ``rx, ry``: in-plane resampled size; ``cx0, cy0``: crop start in it; ``kx, ky``: kept size; ``bx, by``: padding
    before the kept part in the output; ``z``: the Z taps of the kept output slices (``z.pad_before`` = ``kz0``).
    """

    rx: int
    ry: int
    cx0: int
    cy0: int
    kx: int
    ky: int
    bx: int
    by: int
    z: _AxisPlan

    @property
    def kz(self) -> tuple[int, int]:
        """The output slices that hold data: ``[kz0, kz1)``."""
        return self.z.pad_before, self.z.pad_before + self.z.lo.size


def _plan_volume(shape: tuple[int, ...], spacing: tuple[float, float, float], cfg: PreprocessConfig) -> _VolumePlan:
    """Resampled sizes, crops and pads of every axis (CT-CLIP's rules; see the module docstring)."""
    nx, ny, nz = shape
    tx, ty, tz = cfg.spacing
    ox, oy, oz = cfg.shape
    rx = resampled_size(nx, float(spacing[0]), tx)
    ry = resampled_size(ny, float(spacing[1]), ty)
    rz = resampled_size(nz, float(spacing[2]), tz)
    # in-plane: bilinear over the whole (X, Y) plane (same source coordinates as trilinear), then centre crop
    return _VolumePlan(rx=rx, ry=ry, cx0=max((rx - ox) // 2, 0), cy0=max((ry - oy) // 2, 0), kx=min(rx, ox),
                       ky=min(ry, oy), bx=(ox - rx) // 2 if rx < ox else 0, by=(oy - ry) // 2 if ry < oy else 0,
                       z=_plan_axis(nz, rz, oz))


def _padded_output(plan: _VolumePlan, cfg: PreprocessConfig) -> np.ndarray:
    """The ``(1, Z, X, Y)`` output with every voxel outside the kept block set to ``pad_value``."""
    ox, oy, _ = cfg.shape
    out = np.empty(cfg.output_shape, dtype=np.float32)
    vol = out[0]  # (Z, X, Y)
    kz0, kz1 = plan.kz
    vol[:kz0] = cfg.pad_value
    vol[kz1:] = cfg.pad_value
    if plan.kx < ox or plan.ky < oy:
        vol[kz0:kz1, :plan.bx] = cfg.pad_value
        vol[kz0:kz1, plan.bx + plan.kx:] = cfg.pad_value
        vol[kz0:kz1, :, :plan.by] = cfg.pad_value
        vol[kz0:kz1, :, plan.by + plan.ky:] = cfg.pad_value
    return out


def _fill_slabs(out: np.ndarray, arr: np.ndarray, plan: _VolumePlan, cfg: PreprocessConfig, slope: float,
                intercept: float) -> None:
    """Rescale, clip, resample and scale the kept block into ``out``, ``cfg.slab`` output slices at a time."""
    import torch
    import torch.nn.functional as F

    out_t = torch.from_numpy(out[0])
    pz, kz0 = plan.z, plan.kz[0]
    bx, by, kx, ky, cx0, cy0 = plan.bx, plan.by, plan.kx, plan.ky, plan.cx0, plan.cy0
    for k0 in range(0, pz.lo.size, max(1, cfg.slab)):
        k1 = min(k0 + cfg.slab, pz.lo.size)
        part = _AxisPlan(pz.lo[k0:k1], pz.hi[k0:k1], pz.w[k0:k1], 0)
        z0, z1 = int(part.lo.min()), int(part.hi.max()) + 1
        slab = np.ascontiguousarray(np.asarray(arr[:, :, z0:z1]).transpose(2, 0, 1), dtype=np.float32)
        slab = torch.from_numpy(slab)  # (z, X, Y)
        if slope != 1.0 or intercept != 0.0:
            slab.mul_(slope).add_(intercept)
        if cfg.clip == "before":
            slab.clamp_(cfg.hu_min, cfg.hu_max)
        # in-plane first: it runs on the (usually fewer) source slices and shrinks the planes for the Z pass
        slab = F.interpolate(slab.unsqueeze(1), size=(plan.rx, plan.ry), mode="bilinear", align_corners=False)[:, 0]
        slab = _lerp_rows(slab[:, cx0:cx0 + kx, cy0:cy0 + ky], part, z0)
        if cfg.clip == "after":
            slab = slab.clamp(cfg.hu_min, cfg.hu_max)
        out_t[kz0 + k0: kz0 + k1, bx:bx + kx, by:by + ky] = slab.div_(cfg.scale) if slab.is_contiguous() else slab / cfg.scale


def preprocess_file(path: str | Path, *, slope: float | None = None, intercept: float | None = None,
                    spacing: tuple[float, float, float] | None = None,
                    config: PreprocessConfig | None = None) -> np.ndarray:
    """Read a volume (NIfTI, NRRD, DICOM folder) and preprocess it.

    ``slope``/``intercept`` default to 1/0 (values already in HU, as SimpleITK gives for DICOM);
    ``spacing`` defaults to the file header's.

    Raises:
        InputError: unreadable file or any :func:`preprocess_array` error, naming the file.
    """
    from radeval.data.volume_io import read_volume

    volume = read_volume(path)
    if volume.is_hu and (slope not in (None, 1.0) or intercept not in (None, 0.0)):
        raise InputError(f"{path}: values are already HU (DICOM); do not pass slope/intercept")
    return preprocess_array(volume.array, spacing or volume.spacing, slope=1.0 if slope is None else slope,
                            intercept=0.0 if intercept is None else intercept, config=config, source=str(path))
