"""Phantom INSPECT: CT-RATE's folder structure with the paper's 21 INSPECT label columns and CTPA impressions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from radeval.cli.main import main
from radeval.data.ctrate import CTRateDataset
from radeval.data.labels import CTRATE_LABELS, INSPECT_LABELS
from radeval.data.phantom import make_phantom_dataset
from radeval.data.phantom_inspect import FROM_CTRATE, TEXT_ONLY
from radeval.errors import InputError
from radeval.labeling.rule_based import RuleBasedLabeler


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("phantoms")
    ct = make_phantom_dataset(base / "ct", n=24, seed=5, shape=(20, 20, 12))
    ins = make_phantom_dataset(base / "ins", n=24, seed=5, shape=(20, 20, 12), labels="inspect")
    return ct, ins


def test_inspect_phantom_has_ctrate_structure_and_the_21_columns(roots) -> None:
    ct, ins = roots
    files_ct = sorted(p.relative_to(ct).as_posix() for p in ct.rglob("*") if p.is_file())
    files_ins = sorted(p.relative_to(ins).as_posix() for p in ins.rglob("*") if p.is_file())
    assert files_ct == files_ins
    for rel in files_ct:
        if rel.endswith(".nii.gz"):  # the images are the same: the INSPECT text uses its own random stream
            assert _digest(ct / rel) == _digest(ins / rel), rel
    header = (ins / "multi_abnormality_labels" / "train_predicted_labels.csv").read_text().splitlines()[0]
    assert header.split(",") == ["VolumeName", *INSPECT_LABELS]
    ds = CTRateDataset(ins, label_names=INSPECT_LABELS)
    labels = ds.labels("train")
    assert list(labels.columns) == list(INSPECT_LABELS)
    with pytest.raises(InputError, match="missing column"):
        CTRateDataset(ins).labels("train")  # the CT-RATE columns are not there


def test_inspect_labels_follow_the_image_findings_and_the_impression_states_them(roots) -> None:
    ct, ins = roots
    ct_ds, ins_ds = CTRateDataset(ct), CTRateDataset(ins, label_names=INSPECT_LABELS)
    labeler = RuleBasedLabeler(labels="inspect")
    for split in ("train", "valid"):
        y_ct, y_ins = ct_ds.labels(split), ins_ds.labels(split)
        for target, sources in FROM_CTRATE.items():
            np.testing.assert_array_equal(y_ins[target].to_numpy(), y_ct[list(sources)].max(axis=1).to_numpy())
        reports = ins_ds.reports(split)
        assert (reports["Findings_EN"] == reports["Impressions_EN"]).all()  # impression-only reports
        decided = labeler.decide(list(reports["Findings_EN"]))
        np.testing.assert_array_equal(decided, y_ins.loc[reports.index, list(INSPECT_LABELS)].to_numpy())
    assert set(TEXT_ONLY) | set(FROM_CTRATE) == set(INSPECT_LABELS)


def test_phantom_cli_labels_inspect(tmp_path: Path, capsys) -> None:
    assert main(["data", "phantom", "--out", str(tmp_path), "--n", "6", "--seed", "2", "--shape", "16", "16", "8",
                 "--labels", "inspect", "--quiet"]) == 0
    header = (tmp_path / "dataset" / "multi_abnormality_labels" / "valid_predicted_labels.csv").read_text()
    assert header.splitlines()[0] == ",".join(["VolumeName", *INSPECT_LABELS])
    assert main(["data", "phantom", "--out", str(tmp_path / "c"), "--n", "4", "--shape", "16", "16", "8",
                 "--quiet"]) == 0
    header = (tmp_path / "c" / "dataset" / "multi_abnormality_labels" / "valid_predicted_labels.csv").read_text()
    assert header.splitlines()[0] == ",".join(["VolumeName", *CTRATE_LABELS])
    with pytest.raises(InputError, match="labels='chexpert'"):
        make_phantom_dataset(tmp_path / "x", n=2, labels="chexpert")
