"""The offline default labeler: lexicon matching with negation and uncertainty, per clause.

How a report becomes decisions:

1. The report is cut into sentences and clauses (:mod:`radeval.labeling.sentences`).
2. In every clause, every lexicon term of every label is matched (:mod:`radeval.labeling.lexicon`);
   each match is a :class:`Mention`.
3. Each mention gets a status from the clause's cues (:mod:`radeval.labeling.negation`):
   positive, negative or uncertain.
4. Per label, the report is **positive** if any mention is positive; otherwise **uncertain** if any
   mention is uncertain; otherwise (only negated mentions, or none at all) **negative**.
5. Uncertain labels become decisions by the ``uncertain`` mode: ``"positive"`` (the default, as
   CheXbert-style labelers count uncertain findings for report-generation metrics),
   ``"negative"``, or ``"ignore"`` (decision -1: the label of that report is left out of the
   evaluation).

An empty report has no mentions, so every label is negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from radeval.errors import InputError
from radeval.labeling.base import MASKED, NEGATIVE, POSITIVE, ReportLabeler, check_texts
from radeval.labeling.lexicon import LEXICON, entries
from radeval.labeling.negation import Status, find_cues, mention_status
from radeval.labeling.sentences import split_clauses, split_sentences

#: Accepted values of the ``uncertain`` option.
UNCERTAIN_MODES: tuple[str, ...] = ("positive", "negative", "ignore")
_UNCERTAIN_DECISION = {"positive": POSITIVE, "negative": NEGATIVE, "ignore": MASKED}


@dataclass(frozen=True)
class Mention:
    """One mention of a label in a report.

    Attributes:
        label: the label mentioned.
        text: the matched words.
        start: offset of the mention in the report.
        end: end offset.
        status: ``"positive"``, ``"negative"`` or ``"uncertain"``.
        clause: the clause the status was decided in.
    """

    label: str
    text: str
    start: int
    end: int
    status: Status
    clause: str


def _outermost(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans not contained in another span (one mention per phrase, however many terms match it)."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not any(k_start <= start and end <= k_end for k_start, k_end in kept):
            kept.append((start, end))
    return kept


class RuleBasedLabeler(ReportLabeler):
    """Negation- and uncertainty-aware lexicon labeler (no model, no download).

    Args:
        labels: ``"ct-rate"`` (18, default), ``"inspect"`` (21) or a list of label names.
        uncertain: ``"positive"`` (default), ``"negative"`` or ``"ignore"``.
        progress: show a tqdm bar over reports.

    Raises:
        InputError: an unknown ``uncertain`` mode.
        UnknownNameError: an unknown label name (with close matches).

    Example:
        >>> lab = RuleBasedLabeler(labels=["Pleural effusion", "Consolidation"])
        >>> lab.decide(["No pleural effusion. Consolidation in the right lower lobe."]).tolist()
        [[0, 1]]
        >>> lab.signature
        'rules|unc:positive|labels:custom2|v:0.1.0'
    """

    backend: ClassVar[str] = "rules"

    def __init__(self, *, labels: str | Sequence[str] = "ct-rate", uncertain: str = "positive",
                 progress: bool = False) -> None:
        super().__init__(labels)
        if uncertain not in UNCERTAIN_MODES:
            raise InputError(f"uncertain={uncertain!r}: expected one of {', '.join(UNCERTAIN_MODES)}")
        missing = [n for n in self.labels if n not in LEXICON]
        if missing:  # pragma: no cover - resolve_labels only admits labels the lexicon covers
            raise InputError(f"no lexicon entry for label(s): {', '.join(missing)}")
        self.uncertain = uncertain
        self.progress = progress
        self._entries = entries(self.labels)

    def settings(self) -> dict[str, str]:
        return {"unc": self.uncertain}

    def annotate(self, text: str) -> list[Mention]:
        """Every label mention in ``text`` with its status, in text order.

        Example:
            >>> [(m.label, m.status) for m in RuleBasedLabeler().annotate("Pleural effusion was not observed.")]
            [('Pleural effusion', 'negative')]
        """
        if not isinstance(text, str):
            raise InputError(f"expected report text, got {type(text).__name__}")
        mentions: list[Mention] = []
        for sentence in split_sentences(text):
            for clause in split_clauses(sentence):
                cues = None
                for entry in self._entries:
                    for start, end in _outermost(entry.find(clause.text)):
                        cues = cues or find_cues(clause.text)
                        mentions.append(Mention(entry.label, clause.text[start:end], clause.start + start,
                                                clause.start + end, mention_status(cues, start, end),
                                                clause.text))
        mentions.sort(key=lambda m: (m.start, m.label))
        return mentions

    def report_status(self, text: str) -> dict[str, Status]:
        """``{label: status}`` for one report (labels without mentions are ``"negative"``)."""
        status: dict[str, Status] = {name: "negative" for name in self.labels}
        for m in self.annotate(text):
            if m.status == "positive" or (m.status == "uncertain" and status[m.label] == "negative"):
                status[m.label] = m.status
        return status

    def decide(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, L)`` int8 decisions; see the module docstring for the rules."""
        items = check_texts(texts)
        out = np.zeros((len(items), len(self.labels)), dtype=np.int8)
        unc = _UNCERTAIN_DECISION[self.uncertain]
        memo: dict[str, np.ndarray] = {}
        from tqdm.auto import tqdm

        for i, text in enumerate(tqdm(items, desc="labelling", unit="report", disable=not self.progress)):
            if text in memo:
                out[i] = memo[text]
                continue
            status = self.report_status(text)
            row = np.array([POSITIVE if status[n] == "positive" else unc if status[n] == "uncertain" else NEGATIVE
                            for n in self.labels], dtype=np.int8)
            memo[text] = row
            out[i] = row
        return out
