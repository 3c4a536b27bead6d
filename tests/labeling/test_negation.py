"""Negation cues and scope, pseudo-negations and uncertainty, as decided by the rule-based labeler."""

from __future__ import annotations

import pytest

from radeval.labeling.negation import find_cues, mention_status
from radeval.labeling.rule_based import RuleBasedLabeler


@pytest.fixture(scope="module")
def labeler() -> RuleBasedLabeler:
    return RuleBasedLabeler()


def _status(labeler: RuleBasedLabeler, text: str, label: str) -> str:
    return labeler.report_status(text)[label]


@pytest.mark.parametrize(("text", "label"), [
    ("No pleural effusion.", "Pleural effusion"),
    ("Pleural effusion was not observed.", "Pleural effusion"),
    ("Right lower lobe without consolidation.", "Consolidation"),
    ("without consolidation", "Consolidation"),
    ("Pleural effusion-thickening was not detected.", "Pleural effusion"),
    ("Pericardial effusion-thickening was not observed.", "Pericardial effusion"),
    ("The lungs are free of nodules.", "Lung nodule"),
    ("Absence of emphysema.", "Emphysema"),
    ("Negative for pulmonary nodules.", "Lung nodule"),
    ("Neither atelectasis nor consolidation is seen.", "Atelectasis"),
    ("Neither atelectasis nor consolidation is seen.", "Consolidation"),
    ("No pleural effusion, consolidation or atelectasis was detected.", "Atelectasis"),
    ("Bronchiectasis was not seen.", "Bronchiectasis"),
    ("Consolidations were not detected in either lung.", "Consolidation"),
    ("The previously described pleural effusion has resolved.", "Pleural effusion"),
    ("Cardiomegaly is absent.", "Cardiomegaly"),
    ("No evidence of hiatal hernia.", "Hiatal hernia"),
])
def test_negated(labeler: RuleBasedLabeler, text: str, label: str) -> None:
    assert _status(labeler, text, label) == "negative"


@pytest.mark.parametrize(("text", "label"), [
    ("No significant change in the left pleural effusion.", "Pleural effusion"),
    ("Not only atelectasis but also consolidation is observed.", "Atelectasis"),
    ("Bilateral pleural effusion is present, and consolidation was not observed.", "Pleural effusion"),
    ("No pleural effusion but bilateral atelectasis.", "Atelectasis"),
    ("No pleural effusion, minimal pericardial effusion.", "Pericardial effusion"),
    ("No consolidation, a 5 mm nodule in the right upper lobe.", "Lung nodule"),
    ("Heart size is normal and no pericardial effusion is seen, however cardiomegaly was reported before "
     "and mild cardiomegaly is observed.", "Cardiomegaly"),
])
def test_scope_ends_or_pseudo_negation(labeler: RuleBasedLabeler, text: str, label: str) -> None:
    assert _status(labeler, text, label) == "positive"


@pytest.mark.parametrize(("text", "label"), [
    ("Possible small pleural effusion.", "Pleural effusion"),
    ("Findings may represent early consolidation.", "Consolidation"),
    ("Lymphadenopathy cannot be excluded.", "Lymphadenopathy"),
    ("Atelectasis could not be ruled out.", "Atelectasis"),
    ("Appearance suspicious for bronchiectasis.", "Bronchiectasis"),
    ("Nodule?", "Lung nodule"),
])
def test_uncertain(labeler: RuleBasedLabeler, text: str, label: str) -> None:
    assert _status(labeler, text, label) == "uncertain"


def test_positive_wins_over_negated_mentions(labeler: RuleBasedLabeler) -> None:
    text = "No pleural effusion on the right. Left pleural effusion is observed."
    assert _status(labeler, text, "Pleural effusion") == "positive"


def test_uncertain_cue_hides_its_negation_word() -> None:
    cues = find_cues("Malignancy could not be excluded")
    assert cues.pre == () and cues.post == () and cues.uncertain


def test_mention_status_positions() -> None:
    clause = "Effusion was not observed, no"
    cues = find_cues(clause)
    assert mention_status(cues, 0, 8) == "negative"
    assert mention_status(find_cues("A nodule is seen"), 2, 8) == "positive"
