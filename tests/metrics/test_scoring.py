"""The score engine (radeval.metrics.scoring): input checks that keep numbers attached to the right metric."""

from __future__ import annotations

import pytest

from radeval.errors import InputError
from radeval.metrics import get_metric
from radeval.metrics.scoring import score

REFS = {"a": "No Effusion", "b": "Heart"}
HYPS = {"a": "no effusion", "b": "heart big"}


def test_same_name_different_settings_is_refused_not_misattributed() -> None:
    plain, lower = get_metric("bleu1"), get_metric("bleu1", normalize="lower")
    with pytest.raises(InputError, match=r"two metrics are named 'bleu1' with different settings"):
        score(REFS, HYPS, metrics=[plain, lower], cache=False)
    # the same metric twice is harmless: both rows carry its own number
    twice = score(REFS, HYPS, metrics=["rougeL", "rougeL"], cache=False).corpus
    assert list(twice["score"]) == [score(REFS, HYPS, metrics=["rougeL"], cache=False).as_dict()["rougeL"]] * 2


def test_no_cases_is_an_error_not_a_nan_score() -> None:
    with pytest.raises(InputError, match="no cases to score"):
        score({}, {}, metrics=["rougeL"], cache=False)
    with pytest.raises(InputError, match="no cases to score"):
        score([], [], metrics=["rougeL"], cache=False)
