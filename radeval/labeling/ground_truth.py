"""Ground-truth labels as a labeler: reference decisions read from a labels CSV, found by report text.

Metrics receive report *texts*, not case ids. To score hypotheses against a labels CSV (e.g.
CT-RATE's ``valid_predicted_labels.csv``) rather than against labels extracted from the reference
text, the CSV is joined with its reports file on the id (``VolumeName``, volume extensions
ignored), which gives a map *reference text -> label row* (texts compared with whitespace
collapsed). This is well defined for CT-RATE, where the labels were themselves predicted from the
report text and all reconstructions of a study share one report; two ids with the same text but
different labels are rejected.

The signature carries a hash of both files, so cached statistics never mix two ground truths.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from radeval.errors import InputError
from radeval.labeling.base import ReportLabeler, check_texts
from radeval.labeling.label_csv import case_key, read_label_csv


def _key(text: str) -> str:
    """Lookup key of a report: its words joined by single spaces (line breaks and runs of spaces differ
    between CSV exports and JSONL copies of the same report)."""
    return " ".join(text.split())


def _file_hash(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


class GroundTruthLabeler(ReportLabeler):
    """Decisions looked up from a labels CSV by the text of the matching report.

    Args:
        labels_csv: the labels CSV (``VolumeName`` + label columns).
        reports: the reports file of the same cases (CSV/JSONL, read with :func:`radeval.io.read_reports`).
        labels: the label columns to use (``"ct-rate"`` by default).
        id_field: id column of the reports file (default ``VolumeName``).
        text_field: text column of the reports file (default ``Findings_EN``).

    Raises:
        AlignmentError / InputError: a report id with no label row, two ids with the same text but
            different labels, or (at lookup) a text that is not one of the reports.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> _ = open(os.path.join(d, "l.csv"), "w").write("VolumeName,Emphysema\\na.nii.gz,1\\n")
        >>> _ = open(os.path.join(d, "r.csv"), "w").write("VolumeName,Findings_EN\\na.nii.gz,Bullae.\\n")
        >>> gt = GroundTruthLabeler(os.path.join(d, "l.csv"), os.path.join(d, "r.csv"), labels=["Emphysema"])
        >>> gt.decide(["Bullae."]).tolist()
        [[1]]
    """

    backend: ClassVar[str] = "ground-truth"

    def __init__(self, labels_csv: str | os.PathLike[str], reports: str | os.PathLike[str], *,
                 labels: str | Sequence[str] = "ct-rate", id_field: str = "VolumeName",
                 text_field: str = "Findings_EN") -> None:
        super().__init__(labels)
        from radeval.io import read_reports

        self.labels_csv = Path(labels_csv)
        self.reports_path = Path(reports)
        table = read_label_csv(self.labels_csv, labels=self.labels)
        texts = read_reports(self.reports_path, id_field=id_field, text_field=text_field)
        rows = {case_key(i): k for k, i in enumerate(table.ids)}
        unlabelled = [i for i in texts if case_key(i) not in rows]
        if unlabelled:
            raise InputError(f"{self.reports_path}: {len(unlabelled)} report id(s) have no row in "
                             f"{self.labels_csv}: {unlabelled[:10]}")
        self._by_text: dict[str, np.ndarray] = {}
        owner: dict[str, str] = {}
        for rid, raw in texts.items():
            text = _key(raw)
            row = table.decisions[rows[case_key(rid)]]
            if text in self._by_text and not np.array_equal(self._by_text[text], row):
                raise InputError(f"{self.labels_csv}: ids {owner[text]!r} and {rid!r} have the same report "
                                 f"text but different labels")
            self._by_text.setdefault(text, row)
            owner.setdefault(text, rid)
        self._tag = _file_hash(self.labels_csv, self.reports_path)

    def settings(self) -> dict[str, str]:
        return {"file": self.labels_csv.name, "sha": self._tag}

    def decide(self, texts: Sequence[str]) -> np.ndarray:
        """Label rows of the given reference texts.

        Raises:
            InputError: a text not found among the reports (naming its position and start).
        """
        items = check_texts(texts)
        out = np.zeros((len(items), len(self.labels)), dtype=np.int8)
        for i, text in enumerate(items):
            row = self._by_text.get(_key(text))
            if row is None:
                preview = text[:60] + ("..." if len(text) > 60 else "")
                raise InputError(f"reference #{i} ({preview!r}) is not a report of {self.reports_path}, "
                                 f"so {self.labels_csv} has no labels for it")
            out[i] = row
        return out
