"""Negation and uncertainty cues, and the rule that assigns a mention its status.

Scope is the clause (see :mod:`radeval.labeling.sentences`). Within a clause a mention is

* **negative** when a *pre-negation* cue ("no", "not", "without", "free of", "absence of",
  "negative for", "neither/nor") starts before the mention ends, or a *post-negation* cue
  ("was not observed", "were not detected", "is not increased", "is absent", "has resolved",
  "ruled out") ends after the mention starts (it follows or contains the mention);
* otherwise **uncertain** when an uncertainty cue ("may", "possible", "suspicious for",
  "cannot be excluded", "differential diagnosis", "?") occurs anywhere in the clause;
* otherwise **positive**.

Two refinements keep common phrases from being misread:

* **Pseudo-negations** ("no significant change", "no interval increase", "not only") are not
  negations: the finding they speak about is present.
* A negation cue that lies inside an uncertainty cue ("cannot be excluded", "could not be ruled
  out") is dropped: such phrases express doubt, not absence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Status = Literal["positive", "negative", "uncertain"]

_PARTICIPLES = (
    r"(?:observed|seen|detected|identified|found|noted|present|visuali[sz]ed|evident|demonstrated|"
    r"apparent|monitored|appreciated|depicted|encountered|revealed|shown|increased|enlarged)"
)

#: Cues that negate mentions *after* them in the clause.
PRE_NEGATION: tuple[str, ...] = (
    r"\bno\b",
    r"\bnot\b",
    r"\bnon-?existent\b",
    r"\bwithout\b",
    r"\bfree of\b",
    r"\babsence of\b",
    r"\bnegative for\b",
    r"\bneither\b",
    r"\bnor\b",
    r"\bnone\b",
)

#: Cues that negate mentions *before* them in the clause.
POST_NEGATION: tuple[str, ...] = (
    rf"\bnot\s+(?:been\s+|be\s+)?{_PARTICIPLES}\b",
    rf"\bno\s+longer\s+{_PARTICIPLES}\b",
    r"\b(?:is|are|was|were)\s+absent\b",
    r"\b(?:has|have)\s+(?:completely\s+)?(?:resolved|disappeared|regressed completely)\b",
    r"\b(?:was|were|is|are|been)\s+(?:ruled out|excluded)\b",
)

#: Phrases that contain a negation word but do not deny a finding.
PSEUDO_NEGATION: tuple[str, ...] = (
    r"\bno\s+(?:significant\s+|interval\s+|definite\s+|marked\s+|prominent\s+)?"
    r"(?:change|changes|increase|decrease|progression|regression|difference|growth)\b",
    r"\bwithout\s+(?:significant\s+|interval\s+)?(?:change|progression|regression)\b",
    r"\bnot\s+only\b",
    r"\bnot\s+(?:significantly\s+)?changed\b",
)

#: Cues that make every mention of the clause uncertain.
UNCERTAINTY: tuple[str, ...] = (
    r"\bmay\b",
    r"\bmight\b",
    r"\bcould\s+be\b",
    r"\bpossib(?:le|ly|ility)\b",
    r"\bprobab(?:le|ly)\b",
    r"\blikely\b",
    r"\bsuspicious\b",
    r"\bsuspect(?:ed)?\b",
    r"\bsuggest(?:s|ed|ive|ing)?\b",
    r"\bquestionable\b",
    r"\bequivocal\b",
    r"\bindeterminate\b",
    r"\buncertain\b",
    r"\b(?:cannot|can\s*not|could\s+not)\s+be\s+(?:excluded|ruled\s+out|differentiated)\b",
    r"\bnot\s+(?:be\s+)?excluded\b",
    r"\brule\s+out\b",
    r"\bdifferential\s+diagnosis\b",
    r"\bto\s+be\s+differentiated\b",
    r"\bversus\b",
    r"\?",
)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_PRE = _compile(PRE_NEGATION)
_POST = _compile(POST_NEGATION)
_PSEUDO = _compile(PSEUDO_NEGATION)
_UNCERTAIN = _compile(UNCERTAINTY)


@dataclass(frozen=True)
class ClauseCues:
    """Cue positions found in one clause (offsets relative to the clause text)."""

    pre: tuple[tuple[int, int], ...]
    post: tuple[tuple[int, int], ...]
    uncertain: tuple[tuple[int, int], ...]


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def find_cues(clause: str) -> ClauseCues:
    """Locate negation and uncertainty cues in a clause.

    Example:
        >>> c = find_cues("Pleural effusion was not observed")
        >>> c.post
        ((21, 33),)
        >>> find_cues("malignancy cannot be excluded").pre
        ()
    """
    pseudo = [m.span() for m in _PSEUDO.finditer(clause)]
    uncertain = [m.span() for m in _UNCERTAIN.finditer(clause)]
    blocked = pseudo + uncertain
    post = [m.span() for m in _POST.finditer(clause) if not _overlaps(m.span(), blocked)]
    pre = [m.span() for m in _PRE.finditer(clause)
           if not _overlaps(m.span(), blocked) and not _overlaps(m.span(), post)]
    return ClauseCues(tuple(pre), tuple(post), tuple(uncertain))


def mention_status(cues: ClauseCues, start: int, end: int) -> Status:
    """Status of the mention at ``[start, end)`` of a clause, given the clause's cues.

    Example:
        >>> clause = "No pleural effusion"
        >>> mention_status(find_cues(clause), 3, 19)
        'negative'
        >>> clause = "possible small pleural effusion"
        >>> mention_status(find_cues(clause), 15, 31)
        'uncertain'
    """
    if any(cue_start < end for cue_start, _ in cues.pre):
        return "negative"
    if any(cue_end > start for _, cue_end in cues.post):
        return "negative"
    if cues.uncertain:
        return "uncertain"
    return "positive"
