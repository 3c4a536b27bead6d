"""Read CT volumes: NIfTI (nibabel), NRRD / MetaImage (SimpleITK) and DICOM series folders (SimpleITK).

Every reader returns a :class:`Volume` whose array is indexed (X, Y, Z) like nibabel's and pynrrd's, with the
voxel spacing in mm. NIfTI values are returned as stored (CT-RATE applies the metadata CSV's slope and
intercept afterwards); SimpleITK already converts DICOM to HU, and NRRD holds whatever was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radeval.errors import InputError

NIFTI_SUFFIXES = (".nii.gz", ".nii")
ITK_SUFFIXES = (".nrrd", ".nhdr", ".mha", ".mhd")


@dataclass
class Volume:
    """A 3D image.

    Attributes:
        array: values indexed (X, Y, Z), in the file's own dtype (int16 for most CTs).
        spacing: voxel size (x, y, z) in mm.
        source: the file or folder it was read from.
        is_hu: True when the reader already applied the modality rescale (DICOM through SimpleITK).
    """

    array: np.ndarray
    spacing: tuple[float, float, float]
    source: str
    is_hu: bool = False

    @property
    def shape(self) -> tuple[int, int, int]:
        """(X, Y, Z) size."""
        return tuple(int(v) for v in self.array.shape)  # type: ignore[return-value]


def _check_3d(array: np.ndarray, spacing: tuple[float, ...], source: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    if array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    if array.ndim != 3:
        raise InputError(f"{source}: expected a 3D volume, got an array of shape {array.shape}")
    if min(array.shape) < 2:
        raise InputError(f"{source}: a 2D image (shape {array.shape}), not a 3D volume")
    sp = tuple(float(v) for v in spacing[:3])
    if len(sp) != 3 or not all(np.isfinite(v) and v > 0 for v in sp):
        raise InputError(f"{source}: invalid voxel spacing {spacing}")
    return array, sp  # type: ignore[return-value]


def read_nifti(path: str | Path) -> Volume:
    """Read a ``.nii``/``.nii.gz`` file (values as stored, or with the header's scl_slope/inter if set).

    Raises:
        InputError: unreadable, corrupt or truncated file, not 3D, or bad spacing (naming the file).
    """
    import nibabel as nib

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    try:
        image = nib.load(str(p))
        array = np.asarray(image.dataobj)
        zooms = image.header.get_zooms()
    except Exception as exc:  # nibabel/gzip/zlib raise many types for damaged files
        raise InputError(f"{p}: cannot read NIfTI ({type(exc).__name__}: {exc})") from None
    array, spacing = _check_3d(array, zooms, str(p))
    return Volume(array, spacing, str(p))


def read_itk(path: str | Path) -> Volume:
    """Read a file SimpleITK understands (NRRD, MetaImage ...), returned as (X, Y, Z).

    Raises:
        InputError: unreadable file, not 3D, or bad spacing (naming the file).
    """
    import SimpleITK as sitk

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    try:
        image = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        raise InputError(f"{p}: cannot read image ({str(exc).strip().splitlines()[-1]})") from None
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(f"{p}: expected a single-channel image, got {image.GetNumberOfComponentsPerPixel()} channels")
    array = np.asarray(sitk.GetArrayFromImage(image))  # (Z, Y, X), a copy owned by numpy; (Y, X) for a 2D file
    array, spacing = _check_3d(array.transpose(tuple(reversed(range(array.ndim)))), image.GetSpacing(), str(p))
    return Volume(array, spacing, str(p))


def read_dicom_series(folder: str | Path, *, series_id: str | None = None) -> Volume:
    """Read a DICOM series folder (SimpleITK/GDCM; values in HU). Picks the largest series unless told.

    Raises:
        InputError: no series, unknown ``series_id``, unreadable slices, or not 3D (naming the folder).
    """
    import SimpleITK as sitk

    d = Path(folder)
    if not d.is_dir():
        raise InputError(f"{d}: DICOM folder not found")
    reader = sitk.ImageSeriesReader()
    ids = list(reader.GetGDCMSeriesIDs(str(d)))
    if not ids:
        raise InputError(f"{d}: no DICOM series found")
    if series_id is not None and series_id not in ids:
        raise InputError(f"{d}: series {series_id!r} not found; series present: {ids}")
    files_by_id = {sid: reader.GetGDCMSeriesFileNames(str(d), sid) for sid in ids}
    chosen = series_id or max(ids, key=lambda sid: len(files_by_id[sid]))
    reader.SetFileNames(files_by_id[chosen])
    try:
        image = reader.Execute()
    except RuntimeError as exc:
        raise InputError(f"{d}: cannot read DICOM series {chosen!r} ({str(exc).strip().splitlines()[-1]})") from None
    array = sitk.GetArrayFromImage(image).transpose(2, 1, 0)
    array, spacing = _check_3d(array, image.GetSpacing(), str(d))
    return Volume(array, spacing, str(d), is_hu=True)


def read_volume(path: str | Path) -> Volume:
    """Read a CT volume by its kind: NIfTI file, NRRD/MetaImage file, or DICOM series folder.

    Raises:
        InputError: unknown file type, or any reader error (naming the file).

    Example:
        >>> import tempfile, os, nibabel as nib
        >>> p = os.path.join(tempfile.mkdtemp(), "v.nii.gz")
        >>> nib.save(nib.Nifti1Image(np.zeros((4, 5, 6), np.int16), np.diag([0.75, 0.75, 1.5, 1])), p)
        >>> v = read_volume(p); v.shape, v.spacing
        ((4, 5, 6), (0.75, 0.75, 1.5))
    """
    p = Path(path)
    name = p.name.lower()
    if p.is_dir():
        return read_dicom_series(p)
    if name.endswith(NIFTI_SUFFIXES):
        return read_nifti(p)
    if name.endswith(ITK_SUFFIXES) or name.endswith(".dcm"):
        return read_itk(p)
    raise InputError(f"{p}: unknown volume type; expected NIfTI ({', '.join(NIFTI_SUFFIXES)}), "
                     f"{', '.join(ITK_SUFFIXES)} or a DICOM folder")
