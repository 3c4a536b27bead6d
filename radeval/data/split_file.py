"""Split files: a ``case_id,split`` CSV that assigns each case of a dataset to ``train`` or ``test``.

INSPECT has no official split, so the RAD3D-Prefix paper made its own (17,730 train / 3,506 test scans,
stratified on its 21 labels). ``radeval data inspect-split`` builds such a split with a seed and writes it
here; a suite names it as ``dataset.split_file`` and :class:`radeval.data.ctrate.CTRateDataset` re-splits its
cases by it. In a CT-RATE-layout folder the evaluation split is called ``valid``, so ``test`` (and
``validation``/``val``) are read as ``valid``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from radeval.errors import InputError
from radeval.paths import atomic_write_text

#: Column names of a split file.
COLUMNS: tuple[str, str] = ("case_id", "split")
_ALIASES = {"train": "train", "training": "train", "test": "valid", "valid": "valid", "validation": "valid",
            "val": "valid"}


def _strip_ext(name: str) -> str:
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def read_split_file(path: str | Path) -> pd.Series:
    """Read a split file into a Series case id -> ``train``/``valid``.

    Raises:
        InputError: missing file or columns, an empty id, a duplicate id or an unknown split (naming file:line).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "s.csv")
        >>> _ = open(p, "w").write("case_id,split\\ntrain_1_a_1.nii.gz,train\\nvalid_2_a_1,test\\n")
        >>> read_split_file(p).to_dict()
        {'train_1_a_1': 'train', 'valid_2_a_1': 'valid'}
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{p}: split file not found") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or [h.strip() for h in rows[0][:2]] != list(COLUMNS):
        raise InputError(f"{p}: expected the header {','.join(COLUMNS)}")
    ids: list[str] = []
    values: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        cid = _strip_ext(row[0].strip())
        split = row[1].strip().lower() if len(row) > 1 else ""
        if not cid:
            raise InputError(f"{p}:{line}: empty case_id")
        if split not in _ALIASES:
            raise InputError(f"{p}:{line}: case {cid!r}: split {split!r} is not train or test")
        if cid in seen:
            raise InputError(f"{p}:{line}: case {cid!r} is listed twice")
        seen.add(cid)
        ids.append(cid)
        values.append(_ALIASES[split])
    if not ids:
        raise InputError(f"{p}: no cases")
    return pd.Series(values, index=pd.Index(ids, name="case_id"), name="split")


def write_split_file(path: str | Path, assignment: pd.Series) -> Path:
    """Write case id -> split (``train``/``test``) as a split file (never over one of its inputs).

    Example:
        >>> import tempfile, os
        >>> p = write_split_file(os.path.join(tempfile.mkdtemp(), "s.csv"), pd.Series({"a": "train", "b": "test"}))
        >>> p.read_text().splitlines()
        ['case_id,split', 'a,train', 'b,test']
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for cid, split in assignment.items():
        writer.writerow([cid, split])
    target = Path(path)
    atomic_write_text(target, out.getvalue())
    return target
