"""The paper's INSPECT split: ``radeval data inspect-split`` on a phantom INSPECT layout and a release layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radeval.cli.main import main
from radeval.data.ctrate import CTRateDataset
from radeval.data.inspect_ct import build_inspect_split, split_label_counts
from radeval.data.labels import INSPECT_LABELS, INSPECT_TABLE6_COUNTS
from radeval.data.phantom import make_phantom_dataset
from radeval.data.split_file import read_split_file
from radeval.errors import InputError

#: RAD3D-Prefix paper, Table 6 (copied for the test): (label, train, test) of three rows, and the split sizes.
TABLE6_SAMPLES = [("Embolism", 3691, 739), ("Effusions", 4608, 922), ("Others", 3302, 661)]
PAPER_SIZES = (17730, 3506)


def test_table6_is_the_papers() -> None:
    for label, train, test in TABLE6_SAMPLES:
        assert INSPECT_TABLE6_COUNTS[label] == (train, test)
    assert list(INSPECT_TABLE6_COUNTS) == list(INSPECT_LABELS)


@pytest.fixture(scope="module")
def phantom_inspect(tmp_path_factory) -> Path:
    return make_phantom_dataset(tmp_path_factory.mktemp("pi"), n=60, seed=11, shape=(16, 16, 8), labels="inspect")


def test_inspect_split_command_on_a_phantom_layout(phantom_inspect: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "split.csv"
    assert main(["data", "inspect-split", str(phantom_inspect), "--seed", "7", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "seed 7" in printed and "Table 6" in printed
    embolism_line = next(line for line in printed.splitlines() if line.startswith("Embolism"))
    assert "3691" in embolism_line and "739" in embolism_line  # the paper's counts beside ours
    split = read_split_file(out)
    assert len(split) == 60 and set(split) == {"train", "valid"}  # "test" reads as the layout's "valid"
    n_test = int((split == "valid").sum())
    assert abs(n_test - round(60 * PAPER_SIZES[1] / sum(PAPER_SIZES))) <= 1
    # same seed, same file; another seed, another split
    again = tmp_path / "again.csv"
    assert main(["data", "inspect-split", str(phantom_inspect), "--seed", "7", "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()
    other = tmp_path / "other.csv"
    assert main(["data", "inspect-split", str(phantom_inspect), "--seed", "8", "--out", str(other)]) == 0
    assert other.read_bytes() != out.read_bytes()
    # the dataset re-splits its pooled cases by the file; volumes stay where they are
    ds = CTRateDataset(phantom_inspect, label_names=INSPECT_LABELS, split_file=out)
    assert set(ds.case_ids("valid")) == set(split.index[split == "valid"])
    assert set(ds.case_ids("train")) == set(split.index[split == "train"])
    case = ds.cases("valid")[0]
    assert case.metadata["volume_path"] is not None and set(case.metadata["labels"]) == set(INSPECT_LABELS)
    assert ds.spacing(case.id)[2] > 0
    labels = pd.concat([ds.labels("train"), ds.labels("valid")])
    for label in INSPECT_LABELS:  # stratified: every label with >= 2 positives has some in each part
        if labels[label].sum() >= 6:
            assert ds.labels("valid")[label].sum() >= 1, label


def test_inspect_split_refuses_to_overwrite_an_input_and_bad_split_files(phantom_inspect: Path, tmp_path: Path,
                                                                        capsys) -> None:
    target = phantom_inspect / "radiology_text_reports" / "train_reports.csv"
    before = target.read_bytes()
    assert main(["data", "inspect-split", str(phantom_inspect), "--seed", "1", "--out", str(target)]) != 0
    assert "would overwrite an input" in capsys.readouterr().err
    assert target.read_bytes() == before
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,split\ntrain_1_a_1,train\ntrain_1_a_1,test\n")
    with pytest.raises(InputError, match=r"bad\.csv:3: case 'train_1_a_1' is listed twice"):
        read_split_file(bad)
    bad.write_text("case_id,split\ntrain_1_a_1,holdout\n")
    with pytest.raises(InputError, match=r"bad\.csv:2: .*'holdout' is not train or test"):
        read_split_file(bad)
    bad.write_text("case_id,split\nnot_a_case_9,train\n")
    with pytest.raises(InputError, match="not in"):
        CTRateDataset(phantom_inspect, label_names=INSPECT_LABELS, split_file=bad)


def test_inspect_split_on_a_release_layout_labels_the_impressions(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    phrases = ["Acute pulmonary embolism.", "Small pleural effusion.", "A 5 mm nodule.", "Mild atelectasis.",
               "No acute findings."]
    ids = [str(5000 + i) for i in range(80)]
    texts = [" ".join(rng.choice(phrases, size=2, replace=False)) for _ in ids]
    pd.DataFrame({"impression_id": ids, "impressions": texts}).to_csv(tmp_path / "Final_Impressions.csv", index=False)
    out = tmp_path / "out" / "split.csv"
    out.parent.mkdir()
    assert main(["data", "inspect-split", str(tmp_path), "--seed", "0", "--out", str(out)]) == 0
    assert "labelled from the reports (rules|" in capsys.readouterr().out
    split = read_split_file(out)
    assert sorted(split.index) == sorted(ids)


def test_build_split_and_counts_on_a_table() -> None:
    rng = np.random.default_rng(1)
    y = pd.DataFrame((rng.random((400, 21)) < 0.2).astype(int), columns=list(INSPECT_LABELS),
                     index=[f"c{i}" for i in range(400)])
    s = build_inspect_split(y, seed=0)
    table = split_label_counts(y, s)
    assert table.loc["(scans)", ["train", "test"]].tolist() == [334, 66]  # 400 x 17730/21236, rounded
    assert (table.loc[list(INSPECT_LABELS), "test_share"].between(0.1, 0.24)).all()
    assert table.loc["Node", ["paper_train", "paper_test"]].tolist() == [850, 169]
    with pytest.raises(InputError, match="missing"):
        build_inspect_split(y.drop(columns=["Node"]), seed=0)
