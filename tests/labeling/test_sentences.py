"""Sentence and clause splitting keep offsets and do not cut numbers, abbreviations or lists."""

from __future__ import annotations

import pytest

from radeval.labeling.sentences import split_clauses, split_sentences


def test_sentences_keep_offsets() -> None:
    text = "  Heart size is normal.  No pleural effusion!\nA 4.5 mm nodule?  "
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["Heart size is normal", "No pleural effusion", "A 4.5 mm nodule?"]
    for s in spans:
        assert text[s.start:s.end] == s.text


@pytest.mark.parametrize(("text", "expected"), [
    ("Nodule of 4.5 mm. Effusion.", ["Nodule of 4.5 mm", "Effusion"]),
    ("Devices, e.g. a pacemaker, are seen. Normal.", ["Devices, e.g. a pacemaker, are seen", "Normal"]),
    ("Nodule approx. 5 mm in size. Normal.", ["Nodule approx. 5 mm in size", "Normal"]),
    ("Line one\nLine two", ["Line one", "Line two"]),
    ("", []),
    ("   \n\t ", []),
    ("...", []),
])
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected


@pytest.mark.parametrize(("sentence", "expected"), [
    ("No pleural effusion, consolidation or atelectasis was detected",
     ["No pleural effusion, consolidation or atelectasis was detected"]),
    ("Trachea and both main bronchi are in the midline and no obstructive pathology is observed in the lumen",
     ["Trachea and both main bronchi are in the midline", "no obstructive pathology is observed in the lumen"]),
    ("When examined in the lung parenchyma window; Aeration of both lungs is normal",
     ["When examined in the lung parenchyma window", "Aeration of both lungs is normal"]),
    ("No pleural effusion but bilateral atelectasis", ["No pleural effusion", "but bilateral atelectasis"]),
    ("No pleural effusion, minimal pericardial effusion", ["No pleural effusion", "minimal pericardial effusion"]),
    ("No nodule, mass, or consolidation", ["No nodule, mass, or consolidation"]),
    ("Bilateral pleural effusion is present, and consolidation was not observed",
     ["Bilateral pleural effusion is present", "consolidation was not observed"]),
])
def test_clauses(sentence: str, expected: list[str]) -> None:
    (span,) = split_sentences(sentence)
    clauses = split_clauses(span)
    assert [c.text for c in clauses] == expected
    for c in clauses:
        assert sentence[c.start:c.end] == c.text
