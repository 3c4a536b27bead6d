"""Positive-findings-only targets: the sentences of a report that state a present abnormality, and its labels.

The project's rule-based labeler (:class:`radeval.labeling.rule_based.RuleBasedLabeler`, negation- and
uncertainty-aware, CT-RATE's 18 labels by default) labels every sentence of the report; a sentence is kept when
it is positive for at least one label (uncertain mentions count as positive, the labeler's default); each kept
sentence ends with its full stop. A report
without any positive sentence becomes ``normal_text``. The report-level label vector (the labeler on the whole
report, uncertain -> positive) is the classification target of the curriculum's warm-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from radeval.labeling.rule_based import RuleBasedLabeler
from radeval.labeling.sentences import split_sentences


@dataclass
class PositiveFindings:
    """Memoised positive-findings texts and label vectors of reports.

    Attributes:
        labels: label set name or names for the labeler.
        normal_text: the target of a report with no positive sentence.

    Example:
        >>> pf = PositiveFindings(labels=["Pleural effusion", "Consolidation"], normal_text="No abnormality.")
        >>> pf.text("No pleural effusion. Consolidation in the right lower lobe.")
        'Consolidation in the right lower lobe.'
        >>> pf.label_vector("No pleural effusion.").tolist(), pf.text("No pleural effusion.")
        ([0.0, 0.0], 'No abnormality.')
    """

    labels: str | Sequence[str] = "ct-rate"
    normal_text: str = "No acute abnormality."
    _labeler: RuleBasedLabeler | None = field(default=None, repr=False)
    _texts: dict[str, str] = field(default_factory=dict, repr=False)
    _vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def labeler(self) -> RuleBasedLabeler:
        """The rule-based labeler (built on first use)."""
        if self._labeler is None:
            self._labeler = RuleBasedLabeler(labels=self.labels)
        return self._labeler

    def text(self, report: str) -> str:
        """The positive sentences of ``report``, joined by a space, or ``normal_text``."""
        if report not in self._texts:
            sentences = [s.text if s.text[-1:] in ".!?" else s.text + "." for s in split_sentences(report)]
            keep = []
            if sentences:
                decisions = self.labeler.decide(sentences)
                keep = [s for s, row in zip(sentences, decisions) if (row == 1).any()]
            self._texts[report] = " ".join(keep) if keep else self.normal_text
        return self._texts[report]

    def label_vector(self, report: str) -> np.ndarray:
        """``(L,)`` float32 0/1 labels of the whole report."""
        if report not in self._vectors:
            self._vectors[report] = (self.labeler.decide([report])[0] != 0).astype(np.float32)
        return self._vectors[report]

    def texts(self, reports: Sequence[str]) -> list[str]:
        """:meth:`text` of each report."""
        return [self.text(r) for r in reports]

    def label_matrix(self, reports: Sequence[str]) -> np.ndarray:
        """``(n, L)`` :meth:`label_vector` rows."""
        return np.stack([self.label_vector(r) for r in reports]) if reports else np.zeros((0, len(self.labeler.labels)))
