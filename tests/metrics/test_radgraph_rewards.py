"""RadGraph reward levels and entity/relation F1, checked against the radgraph package's reward functions."""

from __future__ import annotations

import random

import pytest

from radeval.metrics.radgraph_rewards import (complete_set, entity_relation_f1, graph_rewards, partial_set,
                                              set_f1, simple_set)


def annotation(*entities: tuple[str, str, list[list[str]]]) -> dict:
    """``(tokens, label, relations)`` triples -> a RadGraph annotation keyed "1".."n"."""
    return {"text": " ".join(e[0] for e in entities),
            "entities": {str(i + 1): {"tokens": t, "label": lab, "start_ix": i, "end_ix": i, "relations": rel}
                         for i, (t, lab, rel) in enumerate(entities)}}


# The spec's synthetic pair (metrics-model-based.md §3).
REF = annotation(("pleural", "ANAT-DP", []), ("effusion", "OBS-DA", [["located_at", "1"]]),
                 ("nodule", "OBS-DP", [["located_at", "4"], ["modify", "5"]]), ("lobe", "ANAT-DP", []),
                 ("5", "OBS-DP", []))
HYP = annotation(("Pleural", "ANAT-DP", []), ("effusion", "OBS-DA", [["located_at", "1"]]),
                 ("nodule", "OBS-DP", [["located_at", "4"]]), ("lung", "ANAT-DP", []), ("6", "OBS-DP", []))


def test_spec_vector_with_all_tokens_lowercased() -> None:
    assert graph_rewards(HYP, REF, case="lower") == pytest.approx((0.6, 0.6, 0.36363636363636365), abs=1e-15)


def test_upstream_casing_keeps_bare_tokens() -> None:
    # radgraph 0.1.18 lowercases only inside the complete level's relation tuples: "Pleural" != "pleural".
    assert graph_rewards(HYP, REF) == pytest.approx((0.4, 0.4, 0.18181818181818182), abs=1e-15)


def test_empty_side_scores_zero() -> None:
    empty = {"text": "", "entities": {}}
    assert graph_rewards(empty, REF) == (0.0, 0.0, 0.0)
    assert graph_rewards(REF, empty) == (0.0, 0.0, 0.0)
    assert entity_relation_f1(empty, empty) == (0.0, 0.0)


def test_sets_by_hand() -> None:
    assert simple_set(REF) == {("pleural", "ANAT-DP"), ("effusion", "OBS-DA"), ("nodule", "OBS-DP"),
                               ("lobe", "ANAT-DP"), ("5", "OBS-DP")}
    assert ("nodule", "OBS-DP", True) in partial_set(REF)
    assert complete_set(REF) == {("pleural", "ANAT-DP"), ("effusion", "OBS-DA", "located_at", "pleural"),
                                 ("nodule", "OBS-DP", "located_at", "lobe"), ("nodule", "OBS-DP", "modify", "5"),
                                 ("lobe", "ANAT-DP"), ("5", "OBS-DP")}
    assert set_f1({1, 2, 3}, {3}) == pytest.approx(0.5)


def test_entity_relation_f1_by_hand() -> None:
    # entities: 2 shared of 5 and 5 -> 0.4; relations: hyp {effusion->pleural/ANAT, nodule->lung}, ref
    # {effusion->pleural, nodule->lobe, nodule->5}: the effusion relation differs in the target's case.
    ent, rel = entity_relation_f1(HYP, REF)
    assert ent == pytest.approx(0.4)
    assert rel == 0.0
    same_rel = annotation(("effusion", "OBS-DA", [["located_at", "2"]]), ("pleural", "ANAT-DP", []))
    assert entity_relation_f1(same_rel, same_rel) == (1.0, 1.0)


def test_bad_case_mode() -> None:
    with pytest.raises(ValueError, match="case must be one of"):
        graph_rewards(HYP, REF, case="upper")


# -- the upstream reward functions as oracle ---------------------------------------------------------
WORDS = ["pleural", "Pleural", "effusion", "nodule", "lobe", "LOBE", "lung", "5", "6", "right lower lobe"]
LABELS = ["ANAT-DP", "OBS-DP", "OBS-U", "OBS-DA"]
RELS = ["modify", "located_at", "suggestive_of"]


def random_annotation(rng: random.Random) -> dict:
    n = rng.randint(0, 6)
    ents = []
    for _ in range(n):
        rels = [[rng.choice(RELS), str(rng.randint(1, n))] for _ in range(rng.choice([0, 0, 1, 2]))]
        ents.append((rng.choice(WORDS), rng.choice(LABELS), rels))
    return annotation(*ents)


def test_matches_upstream_reward_functions() -> None:
    rewards = pytest.importorskip("radgraph.rewards")
    rng = random.Random(7)
    checked = 0
    for _ in range(400):
        hyp, ref = random_annotation(rng), random_annotation(rng)
        expected = rewards.compute_reward(hyp, ref, "all")
        assert graph_rewards(hyp, ref) == pytest.approx(expected, abs=1e-15)
        checked += any(expected)
    assert checked > 40  # many pairs share entities, so the comparison is not all zeros
    assert rewards.compute_reward(HYP, REF, "all") == pytest.approx(graph_rewards(HYP, REF), abs=1e-15)
