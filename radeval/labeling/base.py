"""The report-labeler interface: report text -> one decision per abnormality label.

Every back-end (the rule-based labeler, a transformers sequence-classification checkpoint) is a
:class:`ReportLabeler`. It has a fixed, ordered label set, a ``signature`` naming the back-end and
every setting that changes its decisions, and

* :meth:`ReportLabeler.probabilities` — ``(n, L)`` float64 in [0, 1];
* :meth:`ReportLabeler.decide` — ``(n, L)`` int8 with 1 = present, 0 = absent and
  :data:`MASKED` (-1) = "uncertain, leave out of the evaluation" (only the rule-based labeler's
  ``uncertain="ignore"`` mode produces it).

Empty (or whitespace-only) reports have no findings: every label is 0, with no model call, and
:meth:`ReportLabeler.label` lists them in :attr:`LabelTable.empty_ids` so callers can say so.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from radeval.data.labels import LABEL_SETS, all_label_names
from radeval.errors import InputError, UnknownNameError
from radeval.version import __version__

#: Decision value for "present".
POSITIVE = 1
#: Decision value for "absent".
NEGATIVE = 0
#: Decision value for "uncertain and left out of the evaluation" (``uncertain="ignore"``).
MASKED = -1


def resolve_labels(labels: str | Sequence[str], *, known: Sequence[str] | None = None) -> tuple[str, ...]:
    """Turn a label-set name or a list of label names into a validated tuple.

    Args:
        labels: ``"ct-rate"`` (18 labels), ``"inspect"`` (21) or explicit label names.
        known: the names a back-end can produce (default: every label of every known set).

    Raises:
        UnknownNameError: an unknown set name or label name, with close matches.
        InputError: an empty or duplicated label list.

    Example:
        >>> resolve_labels(["Emphysema", "Atelectasis"])
        ('Emphysema', 'Atelectasis')
        >>> len(resolve_labels("ct-rate"))
        18
    """
    if isinstance(labels, str):
        key = labels.lower()
        if key not in LABEL_SETS:
            close = difflib.get_close_matches(key, list(LABEL_SETS), n=3)
            hint = f"; did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownNameError(f"unknown label set {labels!r}{hint} Known sets: {', '.join(LABEL_SETS)}")
        names = tuple(LABEL_SETS[key])
    else:
        names = tuple(str(n) for n in labels)
    if not names:
        raise InputError("the label list is empty")
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise InputError(f"duplicated label name(s): {', '.join(repr(d) for d in dups)}")
    allowed = list(known) if known is not None else list(all_label_names())
    for name in names:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=3, cutoff=0.5)
            hint = f"; did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownNameError(f"unknown label {name!r}{hint}")
    return names


@dataclass(frozen=True)
class LabelTable:
    """Decisions of one labeler for a set of reports.

    Attributes:
        ids: report ids, in input order.
        labels: label names (the columns).
        decisions: ``(len(ids), len(labels))`` int8: 1 present, 0 absent, -1 masked (uncertain).
        signature: the labeler's signature.
        empty_ids: ids of empty reports (labelled all-negative).
    """

    ids: tuple[str, ...]
    labels: tuple[str, ...]
    decisions: np.ndarray
    signature: str
    empty_ids: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """The CT-RATE labels-CSV layout: ``VolumeName`` then one 0/1 column per label."""
        frame = pd.DataFrame(self.decisions.astype(np.int64), columns=list(self.labels))
        frame.insert(0, "VolumeName", list(self.ids))
        return frame


class ReportLabeler(ABC):
    """Base class of report labelers.

    Subclasses set ``backend`` and implement :meth:`decide` (and :meth:`probabilities` when the
    back-end has scores) and :meth:`settings`.
    """

    backend: ClassVar[str] = "labeler"

    def __init__(self, labels: str | Sequence[str] = "ct-rate") -> None:
        self.labels: tuple[str, ...] = resolve_labels(labels)

    @abstractmethod
    def decide(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, L)`` int8 decisions (1 / 0 / -1), one row per report."""

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, L)`` float64 probabilities; the default turns decisions into 1.0 / 0.0 / 0.5."""
        d = self.decide(texts).astype(np.float64)
        return np.where(d < 0, 0.5, d)

    def settings(self) -> dict[str, str]:
        """Every setting that changes the decisions, as ``key -> value``."""
        return {}

    @property
    def signature(self) -> str:
        """``<backend>|<key>:<value>...|labels:<set>|v:<version>``.

        Example: ``rules|unc:positive|labels:ct-rate|v:0.1.0``.
        """
        parts = [self.backend] + [f"{k}:{v}" for k, v in self.settings().items()]
        parts += [f"labels:{label_set_tag(self.labels)}", f"v:{__version__}"]
        return "|".join(parts)

    def label(self, reports: Mapping[str, str] | Sequence[str]) -> LabelTable:
        """Label a mapping id -> report (or a list, ids ``"0"``, ``"1"`` ...).

        Raises:
            InputError: a report that is not a string (naming its id).
        """
        if isinstance(reports, Mapping):
            items = [(str(k), v) for k, v in reports.items()]
        else:
            if isinstance(reports, str):
                raise InputError("expected a list or mapping of reports, got a single string")
            items = [(str(i), v) for i, v in enumerate(reports)]
        for rid, text in items:
            if not isinstance(text, str):
                raise InputError(f"report {rid!r}: expected text, got {type(text).__name__}")
        texts = [t for _, t in items]
        decisions = self.decide(texts) if texts else np.zeros((0, len(self.labels)), dtype=np.int8)
        empty = tuple(rid for rid, t in items if not t.strip())
        return LabelTable(tuple(r for r, _ in items), self.labels, decisions, self.signature, empty)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.signature}>"


def label_set_tag(labels: Sequence[str]) -> str:
    """``ct-rate`` / ``inspect`` when ``labels`` is a known set in order, else ``custom<N>``."""
    for name, members in LABEL_SETS.items():
        if tuple(labels) == tuple(members):
            return name
    return f"custom{len(labels)}"


def check_texts(texts: Sequence[str]) -> list[str]:
    """Return ``texts`` as a list, raising :class:`InputError` naming the first non-string item."""
    if isinstance(texts, str):
        raise InputError("expected a list of reports, got a single string")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise InputError(f"report #{i}: expected text, got {type(text).__name__}")
    return out
