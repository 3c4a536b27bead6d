"""CT-CLIP preprocessing: geometry, HU handling, agreement with a whole-volume trilinear oracle, real CTs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from radeval.data.preprocess import PreprocessConfig, preprocess_array, preprocess_file, resampled_size
from radeval.errors import InputError

#: ct-data.md test vector: (resampled Z, X, Y), mean and fraction == -1 for clip before / after resampling.
LUNG_VECTORS = {
    "lung1": {"resampled": (160, 389, 389), "mean": (-0.815007, -0.815028), "frac": (0.595471, 0.640589)},
    "lung2": {"resampled": (203, 427, 427), "mean": (-0.620373, -0.620454), "frac": (0.343766, 0.383771)},
}


def _oracle(hu: np.ndarray, spacing: tuple[float, float, float], cfg: PreprocessConfig) -> np.ndarray:
    """Whole-volume reference: torch trilinear on (Z, X, Y), then crop/pad, as the CT-CLIP loader does."""
    vol = torch.from_numpy(hu.astype(np.float32))
    if cfg.clip == "before":
        vol = vol.clamp(cfg.hu_min, cfg.hu_max)
    vol = vol.permute(2, 0, 1)
    size = [resampled_size(n, s, t) for n, s, t in zip(vol.shape, (spacing[2], spacing[0], spacing[1]),
                                                         (cfg.spacing[2], cfg.spacing[0], cfg.spacing[1]))]
    res = F.interpolate(vol[None, None], size=size, mode="trilinear", align_corners=False)[0, 0]
    if cfg.clip == "after":
        res = res.clamp(cfg.hu_min, cfg.hu_max)
    res = (res / cfg.scale).permute(1, 2, 0).numpy()  # (X, Y, Z)
    out = np.full(cfg.shape, cfg.pad_value, np.float32)
    src, dst = [], []
    for n, t in zip(res.shape, cfg.shape):
        start = max((n - t) // 2, 0)
        keep = min(n, t)
        before = (t - n) // 2 if n < t else 0
        src.append(slice(start, start + keep))
        dst.append(slice(before, before + keep))
    out[tuple(dst)] = res[tuple(src)]
    return out.transpose(2, 0, 1)[None]


@pytest.mark.parametrize("clip", ["before", "after"])
@pytest.mark.parametrize("shape,spacing,target", [
    ((50, 44, 20), (1.3, 1.3, 4.0), (64, 48, 40)),   # upsample, pad in X/Z, crop in Y
    ((90, 70, 33), (0.6, 0.7, 1.2), (48, 40, 20)),   # downsample in-plane, crop everywhere
])
def test_matches_whole_volume_trilinear(clip: str, shape, spacing, target) -> None:
    rng = np.random.default_rng(0)
    hu = rng.normal(-200, 700, shape).astype(np.float32)
    cfg = PreprocessConfig(spacing=(1.0, 1.0, 2.0), shape=target, clip=clip, slab=5)
    out = preprocess_array(hu, spacing, config=cfg)
    assert out.shape == cfg.output_shape and out.dtype == np.float32
    np.testing.assert_allclose(out, _oracle(hu, spacing, cfg), atol=1e-5)  # 0.01 HU


def test_known_geometry_pad_and_hu_window() -> None:
    # 100 x 80 x 30 voxels at 1.5 x 1.5 x 3 mm -> 200 x 160 x 60 at 0.75 x 0.75 x 1.5 mm
    vol = np.full((100, 80, 30), 500, np.int16)
    vol[:, :, :10] = 3000  # above the window
    cfg = PreprocessConfig(shape=(256, 240, 64))
    out = preprocess_array(vol, (1.5, 1.5, 3.0), config=cfg)[0]  # (Z, X, Y)
    assert out.shape == (64, 256, 240)
    assert out.min() == -1.0 and out.max() == 1.0
    inside = out[2:62, 28:228, 40:200]
    assert np.all(out[:2] == -1) and np.all(out[62:] == -1)
    assert np.all(out[:, :28] == -1) and np.all(out[:, 228:] == -1)
    assert np.all(out[:, :, :40] == -1) and np.all(out[:, :, 200:] == -1)
    assert np.all(inside[:18] == 1.0) and np.allclose(inside[22:], 0.5)


def test_slope_and_intercept_are_applied() -> None:
    stored = np.full((20, 20, 10), 1024 + 300, np.int16)
    cfg = PreprocessConfig(spacing=(1, 1, 1), shape=(20, 20, 10))
    out = preprocess_array(stored, (1, 1, 1), slope=1.0, intercept=-1024.0, config=cfg)
    assert np.allclose(out, 0.3)
    out2 = preprocess_array(np.full((20, 20, 10), 150, np.int16), (1, 1, 1), slope=2.0, config=cfg)
    assert np.allclose(out2, 0.3)


def test_slab_size_does_not_change_the_result() -> None:
    rng = np.random.default_rng(1)
    hu = rng.normal(0, 500, (40, 40, 25)).astype(np.float32)
    a = preprocess_array(hu, (1.1, 1.1, 2.5), config=PreprocessConfig(shape=(64, 64, 48), slab=1))
    b = preprocess_array(hu, (1.1, 1.1, 2.5), config=PreprocessConfig(shape=(64, 64, 48), slab=1000))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("values,kwargs,message", [
    (np.zeros((64, 64, 1)), {}, "2D image"),
    (np.zeros((64, 64)), {}, "3D"),
    (np.full((8, 8, 8), np.nan), {}, "NaN"),
    (np.zeros((8, 8, 8)), {"slope": None}, "RescaleSlope"),
    (np.zeros((8, 8, 8)), {"intercept": float("nan")}, "RescaleIntercept"),
])
def test_bad_input_names_the_source(values, kwargs, message) -> None:
    with pytest.raises(InputError, match=f"case-7.*{message}"):
        preprocess_array(values, (1.0, 1.0, 1.0), source="case-7", **kwargs)


def test_bad_spacing_and_config() -> None:
    with pytest.raises(InputError, match="spacing"):
        preprocess_array(np.zeros((8, 8, 8)), (1.0, 0.0, 1.0), source="v")
    with pytest.raises(InputError, match="clip"):
        PreprocessConfig(clip="middle")


def test_small_config_on_phantom_volume(phantom_root: Path) -> None:
    from radeval.data.ctrate import CTRateDataset

    ds = CTRateDataset(phantom_root)
    case = ds.cases("train")[0]
    slope, intercept = ds.rescale(case.id)
    out = preprocess_file(ds.volume_path(case.id), slope=slope, intercept=intercept, spacing=ds.spacing(case.id),
                          config=PreprocessConfig.small())
    assert out.shape == (1, 48, 64, 64)
    assert -1.0 <= out.min() < -0.9 and 0.3 < out.max() <= 1.0


@pytest.mark.parametrize("name", ["lung1", "lung2"])
def test_real_chest_ct_matches_reference_vector(name: str, pyradiomics_lungs: dict[str, Path]) -> None:
    vec = LUNG_VECTORS[name]
    from radeval.data.volume_io import read_volume

    volume = read_volume(pyradiomics_lungs[name])
    z, x, y = vec["resampled"]
    assert [resampled_size(n, s, t) for n, s, t in zip(volume.shape, volume.spacing, (0.75, 0.75, 1.5))] == [x, y, z]
    for k, clip in enumerate(("before", "after")):
        out = preprocess_array(volume.array, volume.spacing, config=PreprocessConfig(clip=clip), source=name)
        assert out.shape == (1, 240, 480, 480)
        assert out.min() == -1.0 and out.max() == 1.0
        assert abs(float(out.mean(dtype=np.float64)) - vec["mean"][k]) < 5e-6
        assert abs(float((out == -1).mean()) - vec["frac"][k]) < 5e-6
