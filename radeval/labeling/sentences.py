"""Sentence and clause splitting for radiology report text.

The rule-based labeler decides negation and uncertainty within a *clause*, so report text is cut
twice:

1. **Sentences** end at ``.``, ``!``, ``?`` (kept, as an uncertainty cue) or a line break. A full
   stop does not end a sentence when it sits inside a number (``4.5 mm``), after a known
   abbreviation (``e.g.``, ``approx.``, ``vs.``, ``Dr.``, ``no.``) or after a single capital
   letter (``T.``).
2. **Clauses** split a sentence at strong boundaries (``;``, ``:``, *but*, *however*, *although*,
   *whereas*, *while*, *except*, *apart from*) always, and at weak boundaries (``,``, *and*) only
   when both sides contain a verb-like word (``is``, ``was``, ``observed`` ...), or at a comma
   followed by a severity word or article (*minimal*, *mild*, *small*, *a* ...). That keeps
   coordinated lists together ("No pleural effusion, consolidation or atelectasis was seen") but
   separates independent statements ("Trachea is in the midline and no pathology is observed",
   "No pleural effusion, minimal pericardial effusion").

Every piece keeps its character offsets into the original text, so mentions can be reported
with their positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Words after which a full stop is not a sentence end (compared lower-case, without the dot).
ABBREVIATIONS: frozenset[str] = frozenset({
    "e.g", "i.e", "eg", "ie", "approx", "vs", "dr", "no", "nos", "fig", "mr", "mrs", "ms", "st",
    "cf", "etc", "resp", "incl", "max", "min", "ca",
})

_SENTENCE_END = re.compile(r"[.!?]+|\n+")
_WORD_BEFORE = re.compile(r"([A-Za-z.]+)$")
_STRONG_BOUNDARY = re.compile(
    r"[;:]|\b(?:but|however|although|though|whereas|while|except|apart from|other than|besides)\b",
    re.IGNORECASE,
)
_WEAK_BOUNDARY = re.compile(r",\s*(?:and\s+)?|\s+and\s+", re.IGNORECASE)
#: Verb-like words: a clause side containing one of these can stand as a statement of its own.
VERB_LIKE = re.compile(
    r"\b(?:is|are|was|were|be|been|being|has|have|had|shows?|showed|shown|demonstrates?|reveals?|"
    r"observed|seen|noted|detected|identified|found|present|visualized|visualised|monitored|"
    r"appears?|measur(?:es|ed|ing)|remains?|contains?|extends?|evaluated|considered|preserved|"
    r"normal|increased|decreased|enlarged|thickened)\b",
    re.IGNORECASE,
)


#: Words that open a new finding after a comma ("No pleural effusion, minimal pericardial effusion"):
#: items of a negated list carry no severity or article ("No effusion, consolidation or mass").
_NEW_FINDING = re.compile(
    r"\s*(?:minimal|mild|mildly|small|moderate|moderately|marked|markedly|severe|large|slight|"
    r"trace|prominent|extensive|an?|there)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A piece of text with its offsets in the original report (``text == report[start:end]``)."""

    text: str
    start: int
    end: int


def _is_false_stop(text: str, stop: re.Match[str]) -> bool:
    """True when the full stop at ``stop`` is part of a number or an abbreviation."""
    if stop.group() != ".":
        return False
    i = stop.start()
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if before.isdigit() and after.isdigit():
        return True
    if after.islower():  # "e.g" inside an abbreviation; a sentence end is followed by a space
        return True
    word = _WORD_BEFORE.search(text, max(0, i - 40), i)
    if word is None:
        return False
    following = text[i + 1:].lstrip(" ")
    next_char = following[:1]
    if word.group(1).strip(".").lower() in ABBREVIATIONS and (next_char.islower() or next_char.isdigit()):
        return True
    token = word.group(1)
    return len(token) == 1 and token.isupper() and next_char != "" and not next_char.isupper()


def _trimmed(text: str, start: int, end: int) -> Span | None:
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right <= left:
        return None
    return Span(piece[left:right], start + left, start + right)


def split_sentences(text: str) -> list[Span]:
    """Split report text into sentences, keeping offsets.

    Args:
        text: the report.

    Returns:
        Sentences with at least one letter or digit, in order, without their final ``.``/``!``
        (a final ``?`` is kept: it marks the sentence as uncertain).

    Example:
        >>> [s.text for s in split_sentences("A 4.5 mm nodule, e.g. in the lung. No effusion!\\nNormal")]
        ['A 4.5 mm nodule, e.g. in the lung', 'No effusion', 'Normal']
    """
    spans: list[Span] = []
    start = 0
    for stop in _SENTENCE_END.finditer(text):
        if _is_false_stop(text, stop):
            continue
        # A question mark stays with its sentence: it is an uncertainty cue.
        end = stop.end() if "?" in stop.group() else stop.start()
        piece = _trimmed(text, start, end)
        if piece is not None and any(ch.isalnum() for ch in piece.text):
            spans.append(piece)
        start = stop.end()
    tail = _trimmed(text, start, len(text))
    if tail is not None and any(ch.isalnum() for ch in tail.text):
        spans.append(tail)
    return spans


def _split_weak(sentence: Span) -> list[Span]:
    """Cut at commas / *and* where both neighbouring pieces contain a verb-like word."""
    cuts = [(m.start(), m.end()) for m in _WEAK_BOUNDARY.finditer(sentence.text)]
    pieces: list[Span] = []
    start = 0
    for i, (cut_start, cut_end) in enumerate(cuts):
        left = sentence.text[start:cut_start]
        right_end = cuts[i + 1][0] if i + 1 < len(cuts) else len(sentence.text)
        right = sentence.text[cut_end:right_end]
        new_finding = "," in sentence.text[cut_start:cut_end] and _NEW_FINDING.match(right) is not None
        if new_finding or (VERB_LIKE.search(left) and VERB_LIKE.search(right)):
            piece = _trimmed(sentence.text, start, cut_start)
            if piece is not None:
                pieces.append(Span(piece.text, sentence.start + piece.start, sentence.start + piece.end))
            start = cut_end
    piece = _trimmed(sentence.text, start, len(sentence.text))
    if piece is not None:
        pieces.append(Span(piece.text, sentence.start + piece.start, sentence.start + piece.end))
    return pieces


def split_clauses(sentence: Span) -> list[Span]:
    """Split one sentence into clauses (the scope of negation and uncertainty cues).

    Strong boundaries stay with the clause that follows them, so "but no effusion" keeps its cue.

    Example:
        >>> s = split_sentences("Trachea and both main bronchi are open and no lesion is observed")[0]
        >>> [c.text for c in split_clauses(s)]
        ['Trachea and both main bronchi are open', 'no lesion is observed']
        >>> [c.text for c in split_clauses(split_sentences("No effusion, consolidation or mass was seen")[0])]
        ['No effusion, consolidation or mass was seen']
    """
    strong: list[Span] = []
    start = 0
    for m in _STRONG_BOUNDARY.finditer(sentence.text):
        cut = m.end() if m.group() in {";", ":"} else m.start()
        piece = _trimmed(sentence.text, start, m.start())
        if piece is not None:
            strong.append(Span(piece.text, sentence.start + piece.start, sentence.start + piece.end))
        start = cut
    piece = _trimmed(sentence.text, start, len(sentence.text))
    if piece is not None:
        strong.append(Span(piece.text, sentence.start + piece.start, sentence.start + piece.end))
    out: list[Span] = []
    for part in strong:
        out.extend(_split_weak(part))
    return out
