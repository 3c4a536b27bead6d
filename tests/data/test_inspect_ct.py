"""INSPECT reader: impressions, labels, reproducible stratified split, release split file, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radeval.data.inspect_ct import InspectDataset, stratified_split
from radeval.data.labels import INSPECT_LABELS
from radeval.errors import InputError


@pytest.fixture()
def inspect_root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 300
    ids = [f"{1000 + i}" for i in range(n)]
    prevalence = np.linspace(0.03, 0.4, len(INSPECT_LABELS))
    labels = (rng.random((n, len(INSPECT_LABELS))) < prevalence).astype(int)
    texts = [" ".join(f"{name}." for name, v in zip(INSPECT_LABELS, row) if v) or "No acute findings." for row in labels]
    pd.DataFrame({"impression_id": ids, "impressions": texts}).to_csv(tmp_path / "Final_Impressions.csv", index=False)
    pd.DataFrame(labels, columns=list(INSPECT_LABELS)).assign(impression_id=ids).to_csv(tmp_path / "labels.csv",
                                                                                           index=False)
    (tmp_path / "CTPA").mkdir()
    (tmp_path / "CTPA" / f"{ids[0]}.nii.gz").write_bytes(b"")
    return tmp_path


def test_split_is_stratified_reproducible_and_disjoint(inspect_root: Path) -> None:
    a = InspectDataset(inspect_root, labels=inspect_root / "labels.csv", seed=3)
    b = InspectDataset(inspect_root, labels=inspect_root / "labels.csv", seed=3)
    c = InspectDataset(inspect_root, labels=inspect_root / "labels.csv", seed=4)
    assert a.splits == ("train", "valid", "test")
    assert a.split_of().equals(b.split_of()) and not a.split_of().equals(c.split_of())
    sizes = {s: len(a.case_ids(s)) for s in a.splits}
    assert abs(sizes["train"] - 240) <= 2 and abs(sizes["valid"] - 30) <= 2 and abs(sizes["test"] - 30) <= 2
    assert sum(sizes.values()) == len(set().union(*(a.case_ids(s) for s in a.splits)))
    total = a.labels().sum()
    for split, share in (("train", 0.8), ("valid", 0.1), ("test", 0.1)):
        got = a.labels(split).sum()
        deviation = np.abs(got - share * total)
        assert deviation.mean() <= 1.0 and deviation.max() <= 8, (split, deviation.round(1).to_dict())
    # a plain random split of the same sizes deviates far more
    random_split = pd.Series(np.random.default_rng(3).permutation(a.split_of().to_numpy()), index=a.split_of().index)
    random_dev = np.abs(a.labels().loc[random_split == "valid"].sum() - 0.1 * total).mean()
    strat_dev = np.abs(a.labels("valid").sum() - 0.1 * total).mean()
    assert strat_dev < random_dev


def test_cases_carry_impression_labels_and_volume(inspect_root: Path) -> None:
    ds = InspectDataset(inspect_root, labels=inspect_root / "labels.csv")
    cases = {c.id: c for s in ds.splits for c in ds.cases(s)}
    first = cases["1000"]
    assert first.reference == ds.reports().at["1000", "impressions"]
    assert set(first.metadata["labels"]) == set(INSPECT_LABELS)
    assert first.metadata["volume_path"].endswith("CTPA/1000.nii.gz")
    assert cases["1001"].metadata["volume_path"] is None
    with pytest.raises(InputError, match="'1001'.*volume file not found"):
        ds.volume_path("1001")


def test_release_split_file(inspect_root: Path) -> None:
    ids = pd.read_csv(inspect_root / "Final_Impressions.csv", dtype=str).impression_id
    pd.DataFrame({"impression_id": ids, "split": ["train"] * 200 + ["validation"] * 50 + ["test"] * 50}).to_csv(
        inspect_root / "splits.tsv", sep="\t", index=False)
    ds = InspectDataset(inspect_root, split_file=inspect_root / "splits.tsv")
    assert [len(ds.case_ids(s)) for s in ds.splits] == [200, 50, 50]
    assert "release split file" in ds.split_source


def test_bad_input(inspect_root: Path) -> None:
    with pytest.raises(InputError, match="needs labels"):
        InspectDataset(inspect_root)
    frame = pd.read_csv(inspect_root / "labels.csv")
    frame.drop(columns=["Embolism"]).to_csv(inspect_root / "bad.csv", index=False)
    with pytest.raises(InputError, match=r"bad\.csv.*Embolism"):
        InspectDataset(inspect_root, labels=inspect_root / "bad.csv")
    frame.loc[2, "Edema"] = 5
    frame.to_csv(inspect_root / "bad2.csv", index=False)
    with pytest.raises(InputError, match="'1002'.*Edema"):
        InspectDataset(inspect_root, labels=inspect_root / "bad2.csv")
    pd.DataFrame({"impression_id": ["1"], "text": ["x"]}).to_csv(inspect_root / "r.csv", index=False)
    with pytest.raises(InputError, match=r"r\.csv: missing column 'impressions'"):
        InspectDataset(inspect_root, reports=inspect_root / "r.csv")
    with pytest.raises(InputError, match="no INSPECT impressions table"):
        InspectDataset(inspect_root / "CTPA")


def test_stratified_split_unlabelled_rows_and_arguments() -> None:
    y = pd.DataFrame({"a": [0] * 10}, index=[str(i) for i in range(10)])
    s = stratified_split(y, fractions=(0.7, 0.3), names=("p", "q"), seed=0)
    assert s.value_counts().to_dict() == {"p": 7, "q": 3}
    with pytest.raises(InputError, match="fractions"):
        stratified_split(y, fractions=(0.5,), names=("p", "q"))


def test_release_split_file_must_cover_every_impression(inspect_root: Path) -> None:
    ids = pd.read_csv(inspect_root / "Final_Impressions.csv", dtype=str).impression_id
    pd.DataFrame({"impression_id": ids[:-1], "split": ["train"] * (len(ids) - 1)}).to_csv(
        inspect_root / "short.csv", index=False)
    with pytest.raises(InputError, match=rf"short\.csv: 1 impression id\(s\).*no split.*'{ids.iloc[-1]}'"):
        InspectDataset(inspect_root, split_file=inspect_root / "short.csv")
    splits = ["train"] * len(ids)
    splits[5] = ""
    pd.DataFrame({"impression_id": ids, "split": splits}).to_csv(inspect_root / "blank.csv", index=False)
    with pytest.raises(InputError, match=rf"blank\.csv: empty split.*'{ids.iloc[5]}'"):
        InspectDataset(inspect_root, split_file=inspect_root / "blank.csv")
