"""Reader for INSPECT (CT pulmonary angiograms with impression-only reports) and its stratified split.

INSPECT releases impressions as a table ``impression_id, impressions`` (``Final_Impressions.csv``) and volumes as
``CTPA/<impression_id>.nii.gz``. It ships no 21-label table: RAD3D-Prefix extracts 21 abnormalities from the
reports, so labels come from a labeler run (a CSV ``impression_id`` + label columns). As the paper describes, the
cases are split by stratifying on those anomaly labels; :func:`stratified_split` does it with iterative
stratification (Sechidis et al., 2011), seeded and reproducible. A release split file can be used instead.

The module is named ``inspect_ct`` so it never shadows the standard library's ``inspect``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from radeval.data.labels import INSPECT_LABELS, INSPECT_TABLE6_COUNTS, INSPECT_TEST_SCANS, INSPECT_TRAIN_SCANS
from radeval.errors import InputError
from radeval.types import Case

DEFAULT_REPORTS = ("Final_Impressions.csv", "impressions.csv")
ID_COLUMN = "impression_id"
TEXT_COLUMN = "impressions"
SPLITS = ("train", "valid", "test")


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        from radeval.data.ctrate import read_text_csv

        # an impression that is literally "None" or "NA" is text, not a missing value
        return read_text_csv(path, sep=sep, text_columns=(ID_COLUMN, TEXT_COLUMN), dtype={ID_COLUMN: str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable table ({exc})") from None


def _index_by_id(frame: pd.DataFrame, path: Path, id_column: str) -> pd.DataFrame:
    if id_column not in frame.columns:
        raise InputError(f"{path}: missing column {id_column!r}; found {list(frame.columns)}")
    ids = frame[id_column].astype(str).str.strip()
    if (ids == "").any() or frame[id_column].isna().any():
        raise InputError(f"{path}: empty {id_column}")
    dups = ids[ids.duplicated()].unique().tolist()
    if dups:
        raise InputError(f"{path}: duplicate {id_column}(s) {dups[:10]}")
    frame = frame.drop(columns=[id_column])
    frame.index = pd.Index(ids, name="case_id")
    return frame


def stratified_split(labels: pd.DataFrame, *, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                     names: Sequence[str] = SPLITS, seed: int = 0) -> pd.Series:
    """Multi-label iterative stratification: split rows so each label's prevalence is kept in every part.

    Rows are assigned label by label, rarest label first; each row goes to the part that most lacks that
    label (ties: the part that most lacks rows, then at random). Rows without any label are dealt out last
    by remaining capacity.

    Args:
        labels: 0/1 table, one row per case (index = case ids).
        fractions: desired share of each part (normalised to sum 1).
        names: part names, same length as ``fractions``.
        seed: the random generator's seed (the split is a pure function of inputs and seed).

    Returns:
        A Series case id -> part name, in ``labels`` order.

    Example:
        >>> y = pd.DataFrame({"a": [1, 0] * 10, "b": [0, 0, 1, 1] * 5}, index=[f"c{i}" for i in range(20)])
        >>> s = stratified_split(y, fractions=(0.5, 0.5), names=("x", "z"), seed=1)
        >>> sorted(s.value_counts().items()), y[s == "x"].sum().to_dict()
        ([('x', 10), ('z', 10)], {'a': 5, 'b': 5})
    """
    if len(fractions) != len(names) or not fractions or min(fractions) < 0 or sum(fractions) <= 0:
        raise InputError(f"fractions {tuple(fractions)} must be non-negative, one per name {tuple(names)}")
    y = labels.to_numpy()
    if not np.isin(y, (0, 1)).all():
        raise InputError("stratified_split needs 0/1 labels")
    y = y.astype(bool)
    n = len(y)
    rng = np.random.default_rng(seed)
    frac = np.asarray(fractions, dtype=float) / float(sum(fractions))
    want_rows = frac * n
    want_label = np.outer(frac, y.sum(axis=0))  # (parts, labels)
    part = np.full(n, -1)
    remaining = np.ones(n, dtype=bool)
    order = rng.permutation(n)
    while True:
        counts = y[remaining].sum(axis=0)
        active = np.flatnonzero(counts > 0)
        if active.size == 0:
            break
        label = active[np.argmin(counts[active])]
        rows = order[np.isin(order, np.flatnonzero(remaining & y[:, label]))]
        for r in rows:
            deficit = want_label[:, label]
            best = np.flatnonzero(deficit == deficit.max())
            if best.size > 1:
                row_need = want_rows[best]
                best = best[row_need == row_need.max()]
            k = int(best[rng.integers(best.size)]) if best.size > 1 else int(best[0])
            part[r] = k
            remaining[r] = False
            want_rows[k] -= 1
            want_label[k] -= y[r]
    for r in order[remaining[order]]:
        best = np.flatnonzero(want_rows == want_rows.max())
        k = int(best[rng.integers(best.size)]) if best.size > 1 else int(best[0])
        part[r] = k
        want_rows[k] -= 1
    return pd.Series([names[k] for k in part], index=labels.index, name="split")


class InspectDataset:
    """INSPECT impressions (+ labels from a labeler run) and the CTPA volume folder.

    Args:
        root: the release folder (holding ``Final_Impressions.csv`` and ``CTPA/``).
        reports: the impressions table (default: the first of :data:`DEFAULT_REPORTS` found in ``root``).
        labels: a 0/1 label table with ``impression_id`` (default: none).
        label_names: columns of ``labels`` to use (default: :data:`INSPECT_LABELS`).
        split_file: a release split table (``impression_id`` + ``split``) to use instead of stratifying.
        fractions / seed: the stratified split (default 80/10/10, seed 0).

    Raises:
        InputError: missing files or columns, naming the file.
    """

    def __init__(self, root: str | Path, *, reports: str | Path | None = None, labels: str | Path | None = None,
                 label_names: Sequence[str] = INSPECT_LABELS, split_file: str | Path | None = None,
                 fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> None:
        self.root = Path(root).expanduser()
        if reports is None:
            found = [self.root / name for name in DEFAULT_REPORTS if (self.root / name).is_file()]
            if not found:
                raise InputError(f"{self.root}: no INSPECT impressions table ({' or '.join(DEFAULT_REPORTS)})")
            reports = found[0]
        self.reports_path = Path(reports)
        table = _index_by_id(_read_table(self.reports_path), self.reports_path, ID_COLUMN)
        if TEXT_COLUMN not in table.columns:
            raise InputError(f"{self.reports_path}: missing column {TEXT_COLUMN!r}; found {[ID_COLUMN, *table.columns]}")
        self._reports = table
        self.label_names = list(label_names)
        self._labels: pd.DataFrame | None = None
        if labels is not None:
            path = Path(labels)
            frame = _index_by_id(_read_table(path), path, ID_COLUMN)
            missing = [c for c in self.label_names if c not in frame.columns]
            if missing:
                raise InputError(f"{path}: missing label column(s) {missing}")
            values = frame[self.label_names].apply(pd.to_numeric, errors="coerce")
            bad = ~values.isin([0, 1])
            if bad.to_numpy().any():
                row, col = np.argwhere(bad.to_numpy())[0]
                raise InputError(f"{path}: case {values.index[row]!r}: label {self.label_names[col]!r} is "
                                 f"{frame[self.label_names].iat[row, col]!r}, expected 0 or 1")
            unknown = sorted(set(values.index) - set(table.index))
            if unknown:
                raise InputError(f"{path}: {len(unknown)} labelled id(s) have no impression: {unknown[:10]}")
            self._labels = values.astype(np.int8)
        if split_file is not None:
            path = Path(split_file)
            frame = _index_by_id(_read_table(path), path, ID_COLUMN)
            if "split" not in frame.columns:
                raise InputError(f"{path}: missing column 'split'")
            raw = frame["split"]
            empty = raw.isna() | (raw.astype(str).str.strip() == "")
            if empty.any():
                raise InputError(f"{path}: empty split for {int(empty.sum())} id(s): {list(raw.index[empty][:10])}")
            unassigned = [c for c in table.index if c not in raw.index]
            if unassigned:
                raise InputError(f"{path}: {len(unassigned)} impression id(s) of {self.reports_path.name} have no "
                                 f"split: {unassigned[:10]}")
            self._split = raw.astype(str).str.strip().str.lower().replace({"validation": "valid", "val": "valid"})
            self.split_source = f"release split file {path.name}"
        else:
            if self._labels is None:
                raise InputError("INSPECT needs labels to stratify the split (or pass split_file=)")
            strat = self._labels.reindex(table.index, fill_value=0)
            self._split = stratified_split(strat, fractions=fractions, seed=seed)
            self.split_source = f"stratified on {len(self.label_names)} labels, fractions {tuple(fractions)}, seed {seed}"

    @property
    def splits(self) -> tuple[str, ...]:
        """Split names present, in train/valid/test order."""
        present = set(self._split)
        return tuple([s for s in SPLITS if s in present] + sorted(present - set(SPLITS)))

    def split_of(self) -> pd.Series:
        """case id -> split name."""
        return self._split.copy()

    def reports(self) -> pd.DataFrame:
        """The impressions table indexed by case id."""
        return self._reports

    def labels(self, split: str | None = None) -> pd.DataFrame:
        """The label table (optionally one split's rows)."""
        if self._labels is None:
            raise InputError(f"{self.reports_path}: no labels were given")
        if split is None:
            return self._labels
        return self._labels.loc[[c for c in self.case_ids(split) if c in self._labels.index]]

    def case_ids(self, split: str) -> list[str]:
        """Case ids of ``split`` in impressions-file order."""
        if split not in self.splits:
            raise InputError(f"unknown INSPECT split {split!r}; present: {self.splits}")
        members = set(self._split.index[self._split == split])
        return [c for c in self._reports.index if c in members]

    def volume_path(self, case_id: str) -> Path:
        """``CTPA/<case_id>.nii.gz``; raises naming the case when absent."""
        path = self.root / "CTPA" / f"{case_id}.nii.gz"
        if not path.is_file():
            raise InputError(f"case {case_id!r}: volume file not found (expected {path})")
        return path

    def cases(self, split: str) -> list[Case]:
        """Cases of ``split``: reference = the impression; metadata: split, labels, volume_path (or None)."""
        out = []
        for cid in self.case_ids(split):
            text = self._reports.at[cid, TEXT_COLUMN]
            text = "" if pd.isna(text) else str(text).strip()
            labels = None
            if self._labels is not None and cid in self._labels.index:
                labels = {k: int(v) for k, v in self._labels.loc[cid].items()}
            path = self.root / "CTPA" / f"{cid}.nii.gz"
            out.append(Case(cid, text, {"split": split, "labels": labels,
                                        "volume_path": str(path) if path.is_file() else None}))
        return out


#: Parts of the paper's INSPECT split, and their sizes (RAD3D-Prefix paper: 17,730 train / 3,506 test scans).
PAPER_SPLIT: tuple[tuple[str, int], ...] = (("train", INSPECT_TRAIN_SCANS), ("test", INSPECT_TEST_SCANS))


def build_inspect_split(labels: pd.DataFrame, *, seed: int) -> pd.Series:
    """A train/test split of INSPECT cases in the paper's proportions, stratified on its 21 labels.

    The paper (appendix, "INSPECT") splits 21,236 scans into 17,730 train and 3,506 test by stratified
    sampling on the 21 ReXKG entities; it publishes the per-label counts (Table 6) but not the split. This
    reproduces the procedure with :func:`stratified_split` (seeded), so a given seed always gives the same
    split; it cannot give the paper's exact case list.

    Args:
        labels: 0/1 table indexed by case id with (at least) the 21 :data:`INSPECT_LABELS` columns.
        seed: the split's seed.

    Returns:
        case id -> ``"train"`` / ``"test"``, in ``labels`` order.

    Raises:
        InputError: missing label columns (named) or non-0/1 values.

    Example:
        >>> y = pd.DataFrame(0, index=[f"c{i}" for i in range(100)], columns=list(INSPECT_LABELS))
        >>> y.loc[y.index[::5], "Embolism"] = 1
        >>> s = build_inspect_split(y, seed=0)
        >>> s.value_counts().to_dict(), int(y.loc[s == "test", "Embolism"].sum())
        ({'train': 83, 'test': 17}, 3)

    The test part has ``round(n * 3506 / 21236)`` cases, the paper's proportion.
    """
    missing = [c for c in INSPECT_LABELS if c not in labels.columns]
    if missing:
        raise InputError(f"the INSPECT split needs the 21 label columns; missing {missing}")
    names = tuple(name for name, _ in PAPER_SPLIT)
    y = labels[list(INSPECT_LABELS)]
    split = stratified_split(y, fractions=tuple(float(n) for _, n in PAPER_SPLIT), names=names, seed=seed)
    # Iterative stratification lets the part sizes drift; the paper's split has exact sizes, so move the
    # surplus rows with the fewest positive labels (ties at random) from the fuller part to the other.
    n_test = int(round(len(y) * INSPECT_TEST_SCANS / (INSPECT_TRAIN_SCANS + INSPECT_TEST_SCANS)))
    surplus = int((split == "test").sum()) - n_test
    if surplus:
        source, target = ("test", "train") if surplus > 0 else ("train", "test")
        rng = np.random.default_rng([seed, 1])
        pool = np.flatnonzero((split == source).to_numpy())
        weight = y.to_numpy()[pool].sum(axis=1) + rng.random(pool.size)
        moved = pool[np.argsort(weight, kind="stable")[: abs(surplus)]]
        split.iloc[moved] = target
    return split


def split_label_counts(labels: pd.DataFrame, assignment: pd.Series) -> pd.DataFrame:
    """Per-label train/test counts of a split beside the paper's Table 6 counts.

    Returns:
        one row per INSPECT label (Table 6 order) with ``train``, ``test``, ``test_share`` (ours) and
        ``paper_train``, ``paper_test``, ``paper_test_share`` (RAD3D-Prefix paper, Table 6), then a
        ``(scans)`` row with the split sizes (paper: 17,730 / 3,506).

    Example:
        >>> y = pd.DataFrame(1, index=["a", "b"], columns=list(INSPECT_LABELS))
        >>> t = split_label_counts(y, pd.Series({"a": "train", "b": "test"}))
        >>> t.loc["Embolism", ["train", "test", "paper_train", "paper_test"]].tolist()
        [1, 1, 3691, 739]
    """
    part = assignment.reindex(labels.index)
    rows = []
    for label in INSPECT_LABELS:
        col = labels[label].astype(int)
        train, test = int(col[part == "train"].sum()), int(col[part == "test"].sum())
        p_train, p_test = INSPECT_TABLE6_COUNTS[label]
        rows.append((label, train, test, p_train, p_test))
    n_train, n_test = int((part == "train").sum()), int((part == "test").sum())
    rows.append(("(scans)", n_train, n_test, INSPECT_TRAIN_SCANS, INSPECT_TEST_SCANS))
    table = pd.DataFrame(rows, columns=["label", "train", "test", "paper_train", "paper_test"]).set_index("label")
    with np.errstate(invalid="ignore", divide="ignore"):
        table.insert(2, "test_share", (table["test"] / (table["train"] + table["test"])).round(3))
        table["paper_test_share"] = (table["paper_test"] / (table["paper_train"] + table["paper_test"])).round(3)
    return table


def read_inspect_layout(root: str | Path, *, labels: str | Path | None = None) -> tuple[pd.Series, pd.DataFrame | None]:
    """Reports and (when present) the 21 labels of every case of an INSPECT folder, whatever its layout.

    Two layouts are read: the release (``Final_Impressions.csv`` + ``CTPA/``; labels from ``labels``, a CSV
    with ``impression_id`` and the 21 columns) and INSPECT prepared in CT-RATE's layout (the phantom's too),
    whose folders' reports and labels CSVs are pooled.

    Returns:
        ``(reports, labels)``: case id -> report text, and the 0/1 table (``None`` when the folder has no labels).

    Raises:
        InputError: neither layout, or unreadable tables (naming the file).
    """
    base = Path(root).expanduser()
    if any((base / name).is_file() for name in DEFAULT_REPORTS):
        ds = InspectDataset(base, labels=labels, fractions=(1.0, 0.0, 0.0)) if labels is not None else None
        if ds is None:
            found = next(base / name for name in DEFAULT_REPORTS if (base / name).is_file())
            table = _index_by_id(_read_table(found), found, ID_COLUMN)
            if TEXT_COLUMN not in table.columns:
                raise InputError(f"{found}: missing column {TEXT_COLUMN!r}")
            return table[TEXT_COLUMN].fillna("").astype(str), None
        return ds.reports()[TEXT_COLUMN].fillna("").astype(str), ds.labels()
    from radeval.data.ctrate import CTRateDataset

    ds_ct = CTRateDataset(base, label_names=INSPECT_LABELS)
    texts = pd.concat([pd.Series({c.id: c.reference for c in ds_ct.cases(s)}, dtype=object) for s in ds_ct.splits])
    if labels is not None:
        path = Path(labels)
        frame = _read_table(path)
        id_col = ID_COLUMN if ID_COLUMN in frame.columns else "VolumeName"
        frame[id_col] = frame[id_col].astype(str).str.replace(r"\.nii(\.gz)?$", "", regex=True)
        return texts, _index_by_id(frame, path, id_col)[list(INSPECT_LABELS)].astype(np.int8)
    if not all(ds_ct.has_labels(s) for s in ds_ct.splits):
        return texts, None
    return texts, pd.concat([ds_ct.labels(s) for s in ds_ct.splits])
