"""Volume readers: NIfTI, NRRD and DICOM series give the same (X, Y, Z) array and spacing; damage is reported."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from radeval.data.volume_io import read_dicom_series, read_nifti, read_volume
from radeval.errors import InputError


def _volume() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(-1024, 2000, size=(12, 10, 6)).astype(np.int16)  # (X, Y, Z)


def _sitk_image(arr: np.ndarray, spacing: tuple[float, float, float]) -> sitk.Image:
    image = sitk.GetImageFromArray(arr.transpose(2, 1, 0))  # SimpleITK takes (Z, Y, X)
    image.SetSpacing(spacing)
    return image


def test_nifti_roundtrip(tmp_path: Path) -> None:
    arr = _volume()
    path = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(arr, np.diag([0.8, 0.9, 2.0, 1.0])), path)
    vol = read_volume(path)
    assert vol.array.dtype == np.int16 and np.array_equal(vol.array, arr)
    assert vol.spacing == pytest.approx((0.8, 0.9, 2.0)) and not vol.is_hu


def test_nrrd_matches_nifti_orientation(tmp_path: Path) -> None:
    arr = _volume()
    path = tmp_path / "v.nrrd"
    sitk.WriteImage(_sitk_image(arr, (0.8, 0.9, 2.0)), str(path))
    vol = read_volume(path)
    assert np.array_equal(vol.array, arr) and vol.spacing == pytest.approx((0.8, 0.9, 2.0))


def test_dicom_series_folder(tmp_path: Path) -> None:
    arr = _volume()
    image = _sitk_image(arr, (0.8, 0.9, 2.0))
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series_uid = "1.2.826.0.1.3680043.2.1125.1"
    for k in range(image.GetDepth()):
        sl = image[:, :, k]
        sl.SetMetaData("0020|000e", series_uid)
        sl.SetMetaData("0008|0060", "CT")
        sl.SetMetaData("0020|0032", f"0\\0\\{2.0 * k}")
        sl.SetMetaData("0020|0013", str(k + 1))
        sl.SetMetaData("0018|0050", "2.0")
        writer.SetFileName(str(tmp_path / f"slice{k:03d}.dcm"))
        writer.Execute(sl)
    vol = read_volume(tmp_path)
    assert vol.is_hu and vol.shape == (12, 10, 6)
    assert np.array_equal(vol.array.astype(np.int16), arr)
    assert vol.spacing == pytest.approx((0.8, 0.9, 2.0))
    with pytest.raises(InputError, match="series 'nope' not found"):
        read_dicom_series(tmp_path, series_id="nope")


def test_truncated_nifti_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(_volume(), np.eye(4)), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"v\.nii\.gz: cannot read NIfTI"):
        read_nifti(path)


def test_garbage_nifti_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "g.nii.gz"
    path.write_bytes(gzip.compress(b"not a nifti header" * 10))
    with pytest.raises(InputError, match=r"g\.nii\.gz"):
        read_volume(path)


def test_2d_image_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((16, 16), np.int16), np.eye(4)), path)
    with pytest.raises(InputError, match=r"flat\.nii\.gz.*3D"):
        read_volume(path)
    single = tmp_path / "single.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 1), np.int16), np.eye(4)), single)
    with pytest.raises(InputError, match=r"single\.nii\.gz: a 2D image"):
        read_volume(single)


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_volume(tmp_path / "absent.nii.gz")
    odd = tmp_path / "x.png"
    odd.write_bytes(b"\x89PNG")
    with pytest.raises(InputError, match="unknown volume type"):
        read_volume(odd)
    with pytest.raises(InputError, match="no DICOM series"):
        read_volume(tmp_path)


def test_2d_nrrd_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "flat.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((16, 12), np.int16)), str(path))
    with pytest.raises(InputError, match=r"flat\.nrrd: expected a 3D volume.*\(12, 16\)"):
        read_volume(path)
