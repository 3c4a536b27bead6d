"""Reader for the CT-RATE dataset layout (reports, multi-abnormality labels, metadata, volume tree).

The layout (relative to the dataset folder, i.e. ``<repo>/dataset`` of the Hugging Face release)::

    radiology_text_reports/train_reports.csv        validation_reports.csv
    multi_abnormality_labels/train_predicted_labels.csv   valid_predicted_labels.csv
    metadata/train_metadata.csv                      validation_metadata.csv
    train_fixed/train_<pid>/train_<pid>_<scan>/train_<pid>_<scan>_<recon>.nii.gz   (valid_fixed/valid_... alike)

Case ids are ``VolumeName`` without ``.nii.gz`` (the CSVs may carry the extension or not; both are accepted).
The reference text is the findings section (``Findings_EN``); CT-RATE's literal ``"Not given."`` becomes ``""``.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radeval.data.labels import CTRATE_LABELS
from radeval.errors import InputError
from radeval.types import Case

#: Columns of the reports CSVs.
REPORT_COLUMNS: tuple[str, ...] = (
    "VolumeName", "ClinicalInformation_EN", "Technique_EN", "Findings_EN", "Impressions_EN",
)

#: The 44 columns of the metadata CSVs, in file order.
METADATA_COLUMNS: tuple[str, ...] = (
    "VolumeName", "Manufacturer", "SeriesDescription", "ManufacturerModelName", "PatientSex", "PatientAge",
    "ReconstructionDiameter", "DistanceSourceToDetector", "DistanceSourceToPatient", "GantryDetectorTilt",
    "TableHeight", "RotationDirection", "ExposureTime", "XRayTubeCurrent", "Exposure", "FilterType",
    "GeneratorPower", "FocalSpots", "ConvolutionKernel", "PatientPosition", "RevolutionTime",
    "SingleCollimationWidth", "TotalCollimationWidth", "TableSpeed", "TableFeedPerRotation", "SpiralPitchFactor",
    "DataCollectionCenterPatient", "ReconstructionTargetCenterPatient", "ExposureModulationType", "CTDIvol",
    "ImagePositionPatient", "ImageOrientationPatient", "SliceLocation", "SamplesPerPixel",
    "PhotometricInterpretation", "Rows", "Columns", "XYSpacing", "RescaleIntercept", "RescaleSlope", "RescaleType",
    "NumberofSlices", "ZSpacing", "StudyDate",
)

#: Metadata columns the reader needs (the rest are carried along untouched).
REQUIRED_METADATA_COLUMNS: tuple[str, ...] = ("VolumeName", "XYSpacing", "ZSpacing", "RescaleIntercept",
                                              "RescaleSlope")

#: The two official splits and their files, relative to the dataset folder.
SPLIT_FILES: dict[str, dict[str, str]] = {
    "train": {
        "reports": "radiology_text_reports/train_reports.csv",
        "labels": "multi_abnormality_labels/train_predicted_labels.csv",
        "metadata": "metadata/train_metadata.csv",
    },
    "valid": {
        "reports": "radiology_text_reports/validation_reports.csv",
        "labels": "multi_abnormality_labels/valid_predicted_labels.csv",
        "metadata": "metadata/validation_metadata.csv",
    },
}

#: Volume folders per split: the current ``*_fixed`` tree first, then the older release's folder.
VOLUME_DIRS: dict[str, tuple[str, ...]] = {"train": ("train_fixed", "train"), "valid": ("valid_fixed", "valid")}

_SPLIT_ALIASES = {"train": "train", "training": "train", "valid": "valid", "validation": "valid", "val": "valid"}
_NAME_RE = re.compile(r"^(?P<split>train|valid)_(?P<patient>[^_]+)_(?P<scan>[^_]+)_(?P<recon>[^_]+)$")
NOT_GIVEN = "Not given."


def normalize_split(split: str) -> str:
    """Map ``train``/``training`` and ``valid``/``validation``/``val`` to ``train`` / ``valid``.

    Example:
        >>> normalize_split("validation")
        'valid'
    """
    try:
        return _SPLIT_ALIASES[str(split).lower()]
    except KeyError:
        raise InputError(f"unknown CT-RATE split {split!r}; expected 'train' or 'valid'") from None


def strip_volume_ext(name: str) -> str:
    """``train_1_a_1.nii.gz`` -> ``train_1_a_1`` (also strips ``.nii``; other names unchanged).

    Example:
        >>> strip_volume_ext("valid_53_a_1.nii.gz"), strip_volume_ext("valid_53_a_1")
        ('valid_53_a_1', 'valid_53_a_1')
    """
    name = str(name).strip()
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


@dataclass(frozen=True)
class VolumeName:
    """The parts of a CT-RATE volume name ``split_patient_scan_recon``."""

    split: str
    patient: str
    scan: str
    recon: str

    @property
    def case_id(self) -> str:
        """The name without extension (our case id)."""
        return f"{self.split}_{self.patient}_{self.scan}_{self.recon}"

    @property
    def patient_id(self) -> str:
        """First two fields: ``train_12``."""
        return f"{self.split}_{self.patient}"

    @property
    def study_id(self) -> str:
        """First three fields: ``train_12_a``."""
        return f"{self.split}_{self.patient}_{self.scan}"

    @property
    def relpath(self) -> Path:
        """Path inside the split's volume folder: ``train_12/train_12_a/train_12_a_1.nii.gz``."""
        return Path(self.patient_id) / self.study_id / f"{self.case_id}.nii.gz"


def parse_volume_name(name: str) -> VolumeName:
    """Split a CT-RATE volume name (with or without ``.nii.gz``) into its parts.

    Raises:
        InputError: the name does not look like ``train_<pid>_<scan>_<recon>``.

    Example:
        >>> parse_volume_name("train_1_a_2.nii.gz").study_id
        'train_1_a'
    """
    stem = strip_volume_ext(name)
    match = _NAME_RE.match(stem)
    if not match:
        raise InputError(f"volume name {name!r} is not of the form <train|valid>_<patient>_<scan>_<recon>[.nii.gz]")
    return VolumeName(match["split"], match["patient"], match["scan"], match["recon"])


def parse_xy_spacing(value: Any, *, where: str = "") -> float:
    """In-plane spacing from the metadata ``XYSpacing`` cell (``"[0.75, 0.75]"`` or a number).

    Raises:
        InputError: the cell is empty or unparsable (``where`` names the file/case).

    Example:
        >>> parse_xy_spacing("[0.341796875, 0.341796875]")
        0.341796875
    """
    if isinstance(value, (int, float, np.floating, np.integer)) and not (isinstance(value, float) and math.isnan(value)):
        spacing = float(value)
    else:
        try:
            parsed = ast.literal_eval(str(value).strip())
            spacing = float(parsed[0]) if isinstance(parsed, (list, tuple)) else float(parsed)
        except (ValueError, SyntaxError, TypeError, IndexError):
            raise InputError(f"{where}: cannot parse XYSpacing {value!r}") from None
    if not math.isfinite(spacing) or spacing <= 0:
        raise InputError(f"{where}: XYSpacing {value!r} is not a positive number")
    return spacing


def _finite_number(value: Any, column: str, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not math.isfinite(number):
        raise InputError(f"{where}: {column} is missing or not a number ({value!r})")
    return number


def clean_section(value: Any) -> str:
    """A report section as text: NaN/None and CT-RATE's ``"Not given."`` become ``""``.

    Example:
        >>> clean_section("Not given."), clean_section(float("nan")), clean_section(" Heart normal. ")
        ('', '', 'Heart normal.')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    return "" if text == NOT_GIVEN else text


#: pandas' default missing-value tokens (``pandas.read_csv`` documentation, ``na_values``), kept here so that
#: only the *non-text* columns use them: a report that is literally "None" or "NA" stays that text.
PANDAS_NA_TOKENS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


def read_text_csv(path: Path, *, text_columns: tuple[str, ...], sep: str = ",", **options: object) -> pd.DataFrame:
    """``pandas.read_csv`` that keeps every cell of ``text_columns`` as written.

    In a text column only an empty cell is missing (NaN); "None", "NA", "null", "n/a" ... are text. Other
    columns keep pandas' default missing-value tokens (:data:`PANDAS_NA_TOKENS`), so numeric label and
    metadata columns read as before.
    """
    header = pd.read_csv(path, sep=sep, nrows=0).columns
    na_values = {c: ([""] if c in text_columns else list(PANDAS_NA_TOKENS)) for c in header}
    dtype = {c: str for c in header if c in text_columns}
    dtype.update(options.pop("dtype", {}) or {})  # type: ignore[arg-type]
    return pd.read_csv(path, sep=sep, keep_default_na=False, na_values=na_values, dtype=dtype, **options)


def read_ctrate_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read one CT-RATE CSV, index it by case id and check its columns.

    Raises:
        InputError: missing file, unreadable CSV, missing columns, empty/duplicate VolumeName (naming the file).
    """
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        # a report that is literally "None" or "NA" is text, not a missing value (keep_default_na=False on text)
        frame = read_text_csv(path, text_columns=("VolumeName", *REPORT_COLUMNS), dtype={"VolumeName": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    names = frame["VolumeName"]
    empty = names.isna() | (names.astype(str).str.strip() == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 2  # header is line 1
        raise InputError(f"{path}:{row}: empty VolumeName")
    ids = names.map(strip_volume_ext)
    dups = ids[ids.duplicated()].unique().tolist()
    if dups:
        raise InputError(f"{path}: duplicate VolumeName(s) {dups[:10]}")
    frame = frame.assign(VolumeName=names.astype(str).str.strip())
    frame.index = pd.Index(ids, name="case_id")
    return frame


class CTRateDataset:
    """CT-RATE (or a phantom in the same layout) on disk.

    Args:
        root: the dataset folder, or a folder holding it as ``dataset/`` (the Hugging Face repo root).
        text: ``"findings"`` (the default target, as CT2Rep) or ``"findings+impressions"``
            (CT-CLIP's text: findings directly followed by impressions).
        label_names: the label columns of the labels CSVs (default the 18 CT-RATE labels; INSPECT prepared
            in this layout uses :data:`radeval.data.labels.INSPECT_LABELS`).
        split_file: a ``case_id,split`` table (e.g. from ``radeval data inspect-split``) that re-splits the pooled
            cases of every folder into ``train`` and ``valid`` (``test`` is read as ``valid``); cases it does not
            list are left out. The volumes stay where they are.

    Raises:
        InputError: the folder holds no CT-RATE reports CSV.

    Example:
        >>> import tempfile
        >>> from radeval.data.phantom import make_phantom_dataset
        >>> root = make_phantom_dataset(tempfile.mkdtemp(), n=4, seed=0, shape=(24, 24, 16))
        >>> ds = CTRateDataset(root)
        >>> ds.splits, len(ds.cases("train")) + len(ds.cases("valid"))
        (('train', 'valid'), 4)
    """

    TEXT_MODES = ("findings", "findings+impressions")

    def __init__(self, root: str | Path, *, text: str = "findings",
                 label_names: Sequence[str] = CTRATE_LABELS, split_file: str | Path | None = None) -> None:
        base = Path(root).expanduser()
        if not (base / "radiology_text_reports").is_dir() and (base / "dataset").is_dir():
            base = base / "dataset"
        if not base.is_dir():
            raise InputError(f"{root}: CT-RATE folder not found")
        if text not in self.TEXT_MODES:
            raise InputError(f"text={text!r}; expected one of {self.TEXT_MODES}")
        self.root = base
        self.text = text
        self.label_names: tuple[str, ...] = tuple(label_names)
        self.splits: tuple[str, ...] = tuple(s for s, files in SPLIT_FILES.items()
                                             if (base / files["reports"]).is_file())
        if not self.splits:
            expected = ", ".join(str(base / f["reports"]) for f in SPLIT_FILES.values())
            raise InputError(f"{root}: no CT-RATE reports CSV found (expected {expected})")
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}
        self._file_index: dict[str, Path] | None = None
        self._folder_splits = self.splits
        self._assignment: pd.Series | None = None
        self.split_source = "folders"
        if split_file is not None:
            self._assign(Path(split_file))

    def _assign(self, path: Path) -> None:
        """Re-split the pooled cases by a split file (``case_id,split``; ``test`` is the ``valid`` split)."""
        from radeval.data.split_file import read_split_file

        assignment = read_split_file(path)
        known: set[str] = set()
        for folder in self._folder_splits:
            known.update(self._folder_table(folder, "reports").index)
        unknown = [c for c in assignment.index if c not in known]
        if unknown:
            raise InputError(f"{path}: {len(unknown)} case id(s) are not in {self.root}: {unknown[:10]}")
        self._assignment = assignment
        self.splits = tuple(s for s in SPLIT_FILES if s in set(assignment))
        self.split_source = f"split file {path.name}"

    def __repr__(self) -> str:
        return f"CTRateDataset(root={str(self.root)!r}, splits={self.splits})"

    # -- tables ---------------------------------------------------------------------------------------------------
    def require_split(self, split: str) -> str:
        """The canonical split name, checked to have a reports CSV here."""
        name = normalize_split(split)
        if name not in self.splits:
            raise InputError(f"{self.root}: split {name!r} has no reports CSV ({SPLIT_FILES[name]['reports']})")
        return name

    def path(self, split: str, kind: str) -> Path:
        """The CSV of ``kind`` (``reports``, ``labels`` or ``metadata``) for ``split``."""
        return self.root / SPLIT_FILES[normalize_split(split)][kind]

    def reports(self, split: str) -> pd.DataFrame:
        """The reports table of ``split``, indexed by case id (columns as in the CSV)."""
        return self._table(self.require_split(split), "reports")

    def labels(self, split: str) -> pd.DataFrame:
        """The labels of ``split`` (int8 0/1), indexed by case id, columns in :attr:`label_names` order.

        Raises:
            InputError: missing file/columns or a value other than 0/1 (naming the case and label).
        """
        return self._table(self.require_split(split), "labels")

    def metadata(self, split: str) -> pd.DataFrame:
        """The metadata table of ``split``, indexed by case id."""
        return self._table(self.require_split(split), "metadata")

    def has_labels(self, split: str) -> bool:
        """Whether ``split`` has a labels CSV (with a split file: every folder has one)."""
        folders = self._folder_splits if self._assignment is not None else (self.require_split(split),)
        return all((self.root / SPLIT_FILES[f]["labels"]).is_file() for f in folders)

    def _table(self, split: str, kind: str) -> pd.DataFrame:
        """One split's table: the folder's CSV, or (with a split file) the rows assigned to ``split``."""
        if self._assignment is None:
            return self._folder_table(split, kind)
        key = (f"assigned:{split}", kind)
        if key not in self._frames:
            frames = [self._folder_table(folder, kind) for folder in self._folder_splits]
            pooled = pd.concat(frames) if len(frames) > 1 else frames[0]
            members = self._assignment.index[self._assignment == split]
            self._frames[key] = pooled.loc[[c for c in pooled.index if c in set(members)]]
        return self._frames[key]

    def _folder_table(self, folder: str, kind: str) -> pd.DataFrame:
        key = (folder, kind)
        if key in self._frames:
            return self._frames[key]
        path = self.root / SPLIT_FILES[folder][kind]
        if kind == "reports":
            frame = read_ctrate_csv(path, REPORT_COLUMNS)
        elif kind == "metadata":
            frame = read_ctrate_csv(path, REQUIRED_METADATA_COLUMNS)
        else:
            names = list(self.label_names)
            raw = read_ctrate_csv(path, ("VolumeName", *names))
            values = raw.loc[:, names]
            numeric = values.apply(pd.to_numeric, errors="coerce")
            bad = ~numeric.isin([0, 1])
            if bad.to_numpy().any():
                row, col = np.argwhere(bad.to_numpy())[0]
                raise InputError(f"{path}: case {raw.index[row]!r}: label {names[col]!r} is "
                                 f"{values.iat[row, col]!r}, expected 0 or 1")
            frame = numeric.astype(np.int8)
        self._frames[key] = frame
        return frame

    def case_ids(self, split: str) -> list[str]:
        """Case ids of ``split`` in reports-file order."""
        return list(self.reports(split).index)

    # -- per case -------------------------------------------------------------------------------------------------
    def split_of(self, case_id: str) -> str:
        """The split a case id belongs to (from its ``train_``/``valid_`` prefix)."""
        return parse_volume_name(case_id).split

    def reference(self, row: Mapping[str, Any]) -> str:
        """The target text of one reports row under this dataset's ``text`` mode."""
        findings = clean_section(row.get("Findings_EN"))
        if self.text == "findings":
            return findings
        return findings + clean_section(row.get("Impressions_EN"))

    def cases(self, split: str) -> list[Case]:
        """All cases of ``split`` as :class:`~radeval.types.Case`.

        ``metadata`` holds ``split``, ``volume_name``, ``patient_id``, ``study_id``, ``volume_path``
        (``None`` when the file is absent), ``labels`` (``{label: 0/1}`` or ``None`` without a labels row),
        ``impressions``, ``clinical_information`` and ``technique``.
        """
        name = self.require_split(split)
        reports = self.reports(name)
        labels = self.labels(name) if self.has_labels(name) else None
        out = []
        for cid, row in zip(reports.index, reports.to_dict("records")):
            parts = parse_volume_name(cid)
            path = self._find_volume(cid)
            label_row = None
            if labels is not None and cid in labels.index:
                label_row = {k: int(v) for k, v in labels.loc[cid].items()}
            meta = {
                "split": name, "volume_name": f"{cid}.nii.gz", "patient_id": parts.patient_id,
                "study_id": parts.study_id, "volume_path": None if path is None else str(path), "labels": label_row,
                "impressions": clean_section(row.get("Impressions_EN")),
                "clinical_information": clean_section(row.get("ClinicalInformation_EN")),
                "technique": clean_section(row.get("Technique_EN")),
            }
            out.append(Case(cid, self.reference(row), meta))
        return out

    def _find_volume(self, case_id: str) -> Path | None:
        parts = parse_volume_name(case_id)
        for folder in VOLUME_DIRS[parts.split]:
            candidate = self.root / folder / parts.relpath
            if candidate.is_file():
                return candidate
        if self._file_index is None:
            self._file_index = {}
            for folder in {f for dirs in VOLUME_DIRS.values() for f in dirs}:
                if (self.root / folder).is_dir():
                    for found in (self.root / folder).rglob("*.nii*"):
                        self._file_index.setdefault(strip_volume_ext(found.name), found)
        return self._file_index.get(parts.case_id)

    def volume_path(self, case_id: str) -> Path:
        """The NIfTI file of a case (VolumeName with or without ``.nii.gz``).

        Raises:
            InputError: naming the case and the path looked for when the file is absent.
        """
        cid = strip_volume_ext(case_id)
        found = self._find_volume(cid)
        if found is None:
            parts = parse_volume_name(cid)
            expected = self.root / VOLUME_DIRS[parts.split][0] / parts.relpath
            raise InputError(f"case {cid!r}: volume file not found (expected {expected})")
        return found

    def _metadata_row(self, case_id: str) -> pd.Series:
        cid = strip_volume_ext(case_id)
        split = parse_volume_name(cid).split
        table = self._folder_table(split, "metadata")
        if cid not in table.index:
            raise InputError(f"case {cid!r}: no row in {self.path(split, 'metadata')}")
        return table.loc[cid]

    def rescale(self, case_id: str) -> tuple[float, float]:
        """``(RescaleSlope, RescaleIntercept)`` of a case from the metadata CSV.

        Raises:
            InputError: no metadata row, or slope/intercept missing (naming the case and file).
        """
        row = self._metadata_row(case_id)
        where = f"case {strip_volume_ext(case_id)!r} in {self.path(self.split_of(case_id), 'metadata')}"
        return (_finite_number(row["RescaleSlope"], "RescaleSlope", where),
                _finite_number(row["RescaleIntercept"], "RescaleIntercept", where))

    def spacing(self, case_id: str) -> tuple[float, float, float]:
        """Voxel spacing ``(x, y, z)`` in mm from the metadata CSV (``XYSpacing`` element 0, ``ZSpacing``)."""
        row = self._metadata_row(case_id)
        where = f"case {strip_volume_ext(case_id)!r} in {self.path(self.split_of(case_id), 'metadata')}"
        xy = parse_xy_spacing(row["XYSpacing"], where=where)
        z = _finite_number(row["ZSpacing"], "ZSpacing", where)
        if z <= 0:
            raise InputError(f"{where}: ZSpacing {z} is not positive")
        return (xy, xy, z)
