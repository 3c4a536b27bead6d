"""Per-class decision thresholds, optimised on a validation split.

A probabilistic labeler decides "present" when ``p >= threshold``. The default threshold is 0.5
for every label; some CT papers (Ker-VLJEPA) also report F1 after choosing, per label, the
threshold that maximises that label's F1 on a *validation* split. Numbers computed with such
thresholds must be reported separately and named as tuned (``label_f1_macro_tuned``), never
mixed with the 0.5 numbers, and the thresholds must come from data other than the test split.

Thresholds are stored as JSON ``{"labels": [...], "thresholds": [...], "source": "...", "fitted_on": [...]}``;
``fitted_on`` holds a fingerprint of each validation report, so a tuned metric can refuse to score the very
reports its thresholds were fitted on (and flags thresholds without that record in its signature).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radeval.errors import AlignmentError, InputError
from radeval.labeling.base import LabelTable, ReportLabeler, resolve_labels
from radeval.labeling.label_csv import case_key
from radeval.paths import atomic_write_text

#: Candidate thresholds searched by :func:`fit_thresholds` (0.05, 0.10, ..., 0.95).
DEFAULT_GRID: tuple[float, ...] = tuple(round(0.05 * k, 2) for k in range(1, 20))


@dataclass(frozen=True)
class Thresholds:
    """One decision threshold per label.

    Attributes:
        labels: label names.
        values: thresholds in (0, 1], same order.
        source: where they came from (e.g. the validation file), for provenance.
        fitted_on: :func:`text_fingerprint` of every report they were fitted on (empty: not recorded). A tuned
            metric refuses to score references among them: tuning on the evaluation set is leakage (the caveat
            Ker-VLJEPA's authors give for their 0.448).
    """

    labels: tuple[str, ...]
    values: tuple[float, ...]
    source: str = ""
    fitted_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.values):
            raise InputError(f"{len(self.labels)} labels but {len(self.values)} thresholds")
        for name, value in zip(self.labels, self.values):
            if not 0.0 < float(value) <= 1.0:
                raise InputError(f"threshold of {name!r} is {value}; expected a value in (0, 1]")

    @property
    def tag(self) -> str:
        """A short content hash naming these thresholds in signatures (``tuned-<8 hex>``)."""
        payload = json.dumps([list(self.labels), [round(float(v), 6) for v in self.values]])
        return "tuned-" + hashlib.sha256(payload.encode()).hexdigest()[:8]

    def for_labels(self, labels: Sequence[str]) -> np.ndarray:
        """Threshold vector in the order of ``labels``.

        Raises:
            InputError: a label without a threshold.
        """
        lookup = dict(zip(self.labels, self.values))
        missing = [n for n in labels if n not in lookup]
        if missing:
            raise InputError(f"no threshold for label(s) {missing} (thresholds cover {list(self.labels)})")
        return np.array([lookup[n] for n in labels], dtype=np.float64)

    def overlap(self, texts: Sequence[str]) -> list[int]:
        """Indices of ``texts`` among the reports the thresholds were fitted on.

        Example:
            >>> t = Thresholds(("Emphysema",), (0.3,), "val", (text_fingerprint("Emphysema."),))
            >>> t.overlap(["No emphysema.", " Emphysema. "])
            [1]
        """
        fitted = set(self.fitted_on)
        return [i for i, t in enumerate(texts) if text_fingerprint(t) in fitted]

    def save(self, path: str | Path) -> None:
        """Write the thresholds as JSON (atomically)."""
        body = {"labels": list(self.labels), "thresholds": [float(v) for v in self.values], "source": self.source,
                "fitted_on": list(self.fitted_on)}
        atomic_write_text(path, json.dumps(body, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Thresholds:
        """Read thresholds written by :meth:`save`.

        Raises:
            InputError: unreadable file or wrong structure (naming the file); unknown label names.
        """
        p = Path(path)
        try:
            body = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{p}: thresholds file not found") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(body, dict) or not isinstance(body.get("labels"), list) \
                or not isinstance(body.get("thresholds"), list):
            raise InputError(f"{p}: expected an object with 'labels' and 'thresholds' lists")
        labels = resolve_labels([str(n) for n in body["labels"]])
        try:
            values = tuple(float(v) for v in body["thresholds"])
        except (TypeError, ValueError):
            raise InputError(f"{p}: thresholds must be numbers") from None
        fitted = body.get("fitted_on", [])
        if not isinstance(fitted, list) or not all(isinstance(h, str) for h in fitted):
            raise InputError(f"{p}: 'fitted_on' must be a list of report fingerprints")
        return cls(labels, values, str(body.get("source", p.name)), tuple(fitted))


def text_fingerprint(text: str) -> str:
    """A short hash of a report with surrounding whitespace removed (what :attr:`Thresholds.fitted_on` stores).

    Example:
        >>> text_fingerprint("No effusion.") == text_fingerprint("  No effusion.  ")
        True
    """
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)


def fit_thresholds(probabilities: np.ndarray, truth: np.ndarray, labels: Sequence[str], *,
                   grid: Sequence[float] = DEFAULT_GRID, source: str = "") -> Thresholds:
    """Choose, per label, the grid threshold that maximises that label's F1 on validation data.

    Ties go to the threshold closest to 0.5; a label with no positive validation case keeps 0.5.

    Args:
        probabilities: ``(n, L)`` validation probabilities.
        truth: ``(n, L)`` 0/1 validation ground truth (entries < 0 are ignored).
        labels: the ``L`` label names.
        grid: candidate thresholds in (0, 1].
        source: provenance text stored with the result.

    Raises:
        InputError: shapes that disagree (both are named).

    Example:
        >>> p = np.array([[0.9], [0.3], [0.2]]); y = np.array([[1], [1], [0]])
        >>> fit_thresholds(p, y, ["Emphysema"]).values
        (0.3,)
    """
    probs = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(truth)
    if probs.ndim != 2 or probs.shape != y.shape or probs.shape[1] != len(labels):
        raise InputError(f"probabilities {probs.shape}, truth {y.shape} and {len(labels)} labels do not agree")
    candidates = np.asarray(sorted(set(float(g) for g in grid)), dtype=np.float64)
    if candidates.size == 0 or candidates.min() <= 0 or candidates.max() > 1:
        raise InputError("grid must hold thresholds in (0, 1]")
    valid = y >= 0
    pos = (y == 1) & valid
    neg = (y == 0) & valid
    pred = probs[None, :, :] >= candidates[:, None, None]          # (G, n, L)
    tp = (pred & pos[None]).sum(axis=1)
    fp = (pred & neg[None]).sum(axis=1)
    fn = (~pred & pos[None]).sum(axis=1)
    f1 = _f1(tp, fp, fn)                                          # (G, L)
    chosen = []
    for k in range(len(labels)):
        if not pos[:, k].any():
            chosen.append(0.5)
            continue
        best = f1[:, k].max()
        ties = np.flatnonzero(np.isclose(f1[:, k], best))
        chosen.append(float(candidates[ties[np.argmin(np.abs(candidates[ties] - 0.5))]]))
    return Thresholds(tuple(labels), tuple(chosen), source)


def apply_thresholds(probabilities: np.ndarray, thresholds: np.ndarray | float) -> np.ndarray:
    """``(n, L)`` int8 decisions ``p >= threshold`` (a scalar or one threshold per label)."""
    probs = np.asarray(probabilities, dtype=np.float64)
    return (probs >= np.asarray(thresholds, dtype=np.float64)).astype(np.int8)


def truth_for_ids(ids: Sequence[str], table: LabelTable) -> np.ndarray:
    """Rows of a ground-truth label table for ``ids`` (volume extensions ignored), in that order.

    Raises:
        AlignmentError: ids without a row, and rows without a report (both listed).
    """
    rows = {case_key(i): k for k, i in enumerate(table.ids)}
    missing = [i for i in ids if case_key(i) not in rows]
    wanted = {case_key(i) for i in ids}
    extra = [i for i in table.ids if case_key(i) not in wanted]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} report id(s) have no ground-truth row: {list(missing[:10])}")
        if extra:
            parts.append(f"{len(extra)} ground-truth id(s) have no report: {list(extra[:10])}")
        raise AlignmentError("; ".join(parts), missing=list(missing), extra=list(extra))
    return table.decisions[[rows[case_key(i)] for i in ids]]


def fit_thresholds_on_reports(labeler: ReportLabeler, reports: Mapping[str, str], truth: LabelTable, *,
                              grid: Sequence[float] = DEFAULT_GRID, source: str = "") -> Thresholds:
    """Fit per-label thresholds of a probabilistic labeler on validation reports and their labels.

    Args:
        labeler: a labeler with meaningful :meth:`~ReportLabeler.probabilities` (the transformer one).
        reports: validation reports, id -> text.
        truth: their ground-truth labels (e.g. CT-RATE's ``valid_predicted_labels.csv``).
        grid: candidate thresholds.
        source: provenance text (default: the ground-truth table's signature).

    Raises:
        AlignmentError: ids on one side only.
        InputError: the labeler and the ground truth have different labels.
    """
    ids = list(reports)
    if tuple(truth.labels) != tuple(labeler.labels):
        truth = LabelTable(truth.ids, labeler.labels, _select(truth, labeler.labels), truth.signature)
    y = truth_for_ids(ids, truth)
    texts = [reports[i] for i in ids]
    probs = labeler.probabilities(texts)
    fitted = fit_thresholds(probs, y, labeler.labels, grid=grid, source=source or truth.signature)
    return dataclasses.replace(fitted, fitted_on=tuple(sorted({text_fingerprint(t) for t in texts})))


def _select(table: LabelTable, labels: Sequence[str]) -> np.ndarray:
    missing = [n for n in labels if n not in table.labels]
    if missing:
        raise InputError(f"the ground truth has no column for label(s) {missing}")
    return table.decisions[:, [table.labels.index(n) for n in labels]]
