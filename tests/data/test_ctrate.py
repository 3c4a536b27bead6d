"""CT-RATE reader on the phantom dataset: tables, cases, volume lookup, name matching and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radeval.data.ctrate import (METADATA_COLUMNS, CTRateDataset, clean_section, parse_volume_name,
                                 parse_xy_spacing, strip_volume_ext)
from radeval.data.labels import CTRATE_LABELS
from radeval.errors import InputError


@pytest.fixture()
def phantom_copy(phantom_root: Path, tmp_path: Path) -> Path:
    """A writable copy of the session phantom (for tests that damage it)."""
    return Path(shutil.copytree(phantom_root, tmp_path / "dataset"))


def test_reads_phantom_tables_and_cases(phantom_root: Path) -> None:
    ds = CTRateDataset(phantom_root.parent)  # the repo-root form (holding dataset/)
    assert ds.root == phantom_root
    assert ds.splits == ("train", "valid")
    train, valid = ds.cases("train"), ds.cases("valid")
    assert len(train) + len(valid) == 12 and len(valid) >= 1
    reports = pd.read_csv(phantom_root / "radiology_text_reports/train_reports.csv")
    assert list(reports.columns) == ["VolumeName", "ClinicalInformation_EN", "Technique_EN", "Findings_EN",
                                     "Impressions_EN"]
    first = train[0]
    assert first.id == strip_volume_ext(reports.VolumeName[0])
    assert first.reference == reports.Findings_EN[0]
    assert first.metadata["split"] == "train"
    assert Path(first.metadata["volume_path"]).is_file()
    labels = ds.labels("train")
    assert list(labels.columns) == list(CTRATE_LABELS)
    assert labels.loc[first.id].to_dict() == first.metadata["labels"]
    assert set(labels.to_numpy().ravel()) <= {0, 1}
    meta = pd.read_csv(phantom_root / "metadata/train_metadata.csv")
    assert tuple(meta.columns) == METADATA_COLUMNS and len(METADATA_COLUMNS) == 44


def test_every_case_id_resolves_to_its_volume(phantom_root: Path) -> None:
    ds = CTRateDataset(phantom_root)
    for split in ds.splits:
        for case in ds.cases(split):
            path = ds.volume_path(case.id)
            assert path.name == f"{case.id}.nii.gz"
            assert path.parent.parent.parent.name == f"{split}_fixed"
            assert ds.volume_path(f"{case.id}.nii.gz") == path
            assert ds.rescale(case.id) == (1.0, -1024.0)
            assert ds.spacing(case.id) == (352 / 32, 352 / 32, 288 / 24)


def test_findings_plus_impressions_mode(phantom_root: Path) -> None:
    ds = CTRateDataset(phantom_root, text="findings+impressions")
    case = ds.cases("train")[0]
    assert case.reference == ds.reports("train").loc[case.id, "Findings_EN"] + case.metadata["impressions"]
    with pytest.raises(InputError, match="text="):
        CTRateDataset(phantom_root, text="impressions")


def test_volume_names_without_extension_match(phantom_copy: Path) -> None:
    for rel in ("radiology_text_reports/train_reports.csv", "multi_abnormality_labels/train_predicted_labels.csv",
                "metadata/train_metadata.csv"):
        frame = pd.read_csv(phantom_copy / rel)
        frame["VolumeName"] = frame["VolumeName"].str.replace(".nii.gz", "", regex=False)
        frame.to_csv(phantom_copy / rel, index=False)
    ds = CTRateDataset(phantom_copy)
    case = ds.cases("train")[0]
    assert case.metadata["labels"] is not None
    assert Path(case.metadata["volume_path"]).is_file()
    assert ds.rescale(case.id) == (1.0, -1024.0)


def test_old_layout_folder_is_found(phantom_copy: Path) -> None:
    (phantom_copy / "train_fixed").rename(phantom_copy / "train")
    ds = CTRateDataset(phantom_copy)
    case = ds.cases("train")[0]
    assert ds.volume_path(case.id).is_relative_to(phantom_copy / "train")


def test_missing_volume_names_the_case(phantom_copy: Path) -> None:
    ds = CTRateDataset(phantom_copy)
    case = ds.cases("train")[0]
    Path(case.metadata["volume_path"]).unlink()
    ds = CTRateDataset(phantom_copy)
    assert ds.cases("train")[0].metadata["volume_path"] is None
    with pytest.raises(InputError, match=case.id):
        ds.volume_path(case.id)


def test_wrong_columns_name_the_file(phantom_copy: Path) -> None:
    path = phantom_copy / "radiology_text_reports/train_reports.csv"
    frame = pd.read_csv(path).rename(columns={"Findings_EN": "Findings"})
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"train_reports\.csv.*Findings_EN"):
        CTRateDataset(phantom_copy).cases("train")


def test_bad_label_value_names_case_and_label(phantom_copy: Path) -> None:
    path = phantom_copy / "multi_abnormality_labels/train_predicted_labels.csv"
    frame = pd.read_csv(path)
    frame.loc[1, "Emphysema"] = 2
    frame.to_csv(path, index=False)
    case_id = strip_volume_ext(frame.VolumeName[1])
    with pytest.raises(InputError, match=f"{case_id}.*Emphysema"):
        CTRateDataset(phantom_copy).labels("train")


def test_missing_slope_names_the_case(phantom_copy: Path) -> None:
    path = phantom_copy / "metadata/train_metadata.csv"
    frame = pd.read_csv(path)
    frame["RescaleSlope"] = frame["RescaleSlope"].astype(object)
    frame.loc[0, "RescaleSlope"] = None
    frame.to_csv(path, index=False)
    case_id = strip_volume_ext(frame.VolumeName[0])
    with pytest.raises(InputError, match=f"{case_id}.*RescaleSlope"):
        CTRateDataset(phantom_copy).rescale(case_id)


def test_duplicate_volume_name_is_reported(phantom_copy: Path) -> None:
    path = phantom_copy / "radiology_text_reports/train_reports.csv"
    frame = pd.read_csv(path)
    frame = pd.concat([frame, frame.iloc[[0]].assign(VolumeName=strip_volume_ext(frame.VolumeName[0]))])
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match="duplicate VolumeName"):
        CTRateDataset(phantom_copy).reports("train")


def test_not_a_ctrate_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no CT-RATE reports CSV"):
        CTRateDataset(tmp_path)


def test_helpers() -> None:
    assert parse_volume_name("valid_53_a_1.nii.gz").relpath == Path("valid_53/valid_53_a/valid_53_a_1.nii.gz")
    with pytest.raises(InputError, match="not of the form"):
        parse_volume_name("patient7.nii.gz")
    assert parse_xy_spacing("[0.75, 0.75]") == 0.75 and parse_xy_spacing(0.5) == 0.5
    with pytest.raises(InputError, match="XYSpacing"):
        parse_xy_spacing("[]", where="x.csv")
    assert clean_section("Not given.") == "" and clean_section("A.") == "A."


def test_numeric_xy_spacing_must_be_positive_and_finite(phantom_copy: Path) -> None:
    for value in (0.0, -0.75, float("inf"), np.float64(-1.0)):
        with pytest.raises(InputError, match=r"m\.csv: XYSpacing .* not a positive number"):
            parse_xy_spacing(value, where="m.csv")
    # a metadata column that pandas reads as numbers takes the numeric path
    path = phantom_copy / "metadata/train_metadata.csv"
    frame = pd.read_csv(path)
    frame["XYSpacing"] = -0.75
    frame.to_csv(path, index=False)
    ds = CTRateDataset(phantom_copy)
    case = ds.case_ids("train")[0]
    with pytest.raises(InputError, match=rf"{case}.*XYSpacing"):
        ds.spacing(case)
