"""BLEU-1..4, pycocoevalcap convention: parity with pycocoevalcap's Bleu, vectors, contract."""

from __future__ import annotations

import numpy as np
import pytest
from pycocoevalcap.bleu.bleu import Bleu

from radeval.errors import InputError
from radeval.metrics import get_metric
from radeval.metrics.bleu import COLUMNS, CocoBleu, avg_bleu, bleu1, bleu2, bleu3, bleu4, bleu_row
from radeval.metrics.scoring import score


def coco_bleu(refs: list[str], hyps: list[str]) -> tuple[list[float], list[list[float]]]:
    gts = {str(i): [r] for i, r in enumerate(refs)}
    res = {str(i): [h] for i, h in enumerate(hyps)}
    corpus, per_sample = Bleu(4).compute_score(gts, res, verbose=0)
    return corpus, per_sample


def test_parity_with_pycocoevalcap_on_varied_pairs_and_edge_cases(lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    assert len(ids) >= 200
    expected_corpus, expected_per = coco_bleu(refs, hyps)
    stats = bleu4().statistics(refs, hyps)
    for n in range(1, 5):
        m = CocoBleu(n)
        assert abs(m.aggregate(stats.sum(axis=0)) - expected_corpus[n - 1]) <= 1e-9
        np.testing.assert_allclose(m.sample_scores(stats), expected_per[n - 1], rtol=0, atol=1e-9)


@pytest.mark.parametrize("cid", ["empty_hyp", "empty_ref", "both_empty", "ws_hyp", "ws_ref", "punct_only_hyp",
                                 "identical", "long_hyp", "one_word", "unicode"])
def test_each_edge_case_alone_matches_pycocoevalcap(edge_cases, cid) -> None:
    ref, hyp = next((r, h) for c, r, h in edge_cases if c == cid)
    expected_corpus, _ = coco_bleu([ref], [hyp])
    stats = bleu4().statistics([ref], [hyp])
    got = [CocoBleu(n).aggregate(stats.sum(axis=0)) for n in range(1, 5)]
    np.testing.assert_allclose(got, expected_corpus, rtol=0, atol=1e-9)


@pytest.mark.parametrize("vid", ["A", "B", "C", "D", "E"])
def test_sheet_vectors(lexical_vectors, vid) -> None:
    v = lexical_vectors["vectors"][vid]
    stats = bleu4().statistics(v["refs"], v["hyps"])
    for n, expected in enumerate(v["bleu"], start=1):
        if expected is not None:
            assert CocoBleu(n).aggregate(stats.sum(axis=0)) == pytest.approx(expected, abs=1e-12)
    if "bleu4_per_sample" in v:
        np.testing.assert_allclose(bleu4().sample_scores(stats), v["bleu4_per_sample"], rtol=0, atol=1e-12)


def test_epsilon_rules() -> None:
    # no 4-grams at all: p4 = 1e-15 / 1e-9 = 1e-6, so BLEU-4 is small but not 0 (vector C)
    row = bleu_row("the lungs are clear .", "lungs are clear")
    assert row == [3, 5, 3, 2, 1, 0, 3, 2, 1, 0]
    assert 0.01 < bleu4().aggregate(np.asarray(row, float)) < 0.02
    # an empty hypothesis: brevity penalty exp(-huge) = 0, and its reflen still counts
    stats = bleu4().statistics(["no effusion .", "no effusion ."], ["", "no effusion ."])
    assert stats[0, 0] == 0 and stats[0, 1] == 3
    assert bleu4().sample_scores(stats)[0] == 0.0
    assert 0 < bleu4().aggregate(stats.sum(axis=0)) < 1


def test_macro_mean_is_not_corpus_bleu(lexical_vectors) -> None:
    v = lexical_vectors["vectors"]["D"]
    m = bleu4()
    stats = m.statistics(v["refs"], v["hyps"])
    assert m.sample_scores(stats).mean() == pytest.approx(0.3299, abs=1e-4)
    assert m.aggregate(stats.sum(axis=0)) == pytest.approx(0.3433, abs=1e-4)


def test_contract(check_metric, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    for factory in (bleu1, bleu2, bleu3, bleu4):
        check_metric(factory(), refs, hyps)


def test_family_shares_statistics_and_signature_records_settings() -> None:
    metrics = [get_metric(f"bleu{n}") for n in range(1, 5)]
    assert len({m.statistics_key for m in metrics}) == 1
    assert [m.name for m in metrics] == ["bleu1", "bleu2", "bleu3", "bleu4"]
    assert metrics[3].signature.startswith("bleu4|conv:coco|tok:ws|case:keep|norm:none|v:")
    lowered = bleu4(normalize="lower")
    assert "norm:lower" in lowered.signature and lowered.statistics_key != metrics[3].statistics_key
    assert bleu4().statistics(["x"], ["y"]).shape == (1, len(COLUMNS))


def test_normalisation_is_an_explicit_option() -> None:
    refs, hyps = ["No acute cardiopulmonary process."], ["no acute cardiopulmonary process"]
    assert bleu4().corpus_score(refs, hyps) < 1e-7
    assert bleu4(normalize="lower+punct").corpus_score(refs, hyps) < 1.0
    assert bleu4(normalize="lower+punct").corpus_score(refs, ["no acute cardiopulmonary process ."]) == \
        pytest.approx(1.0, abs=1e-8)


def test_bad_input_names_the_item() -> None:
    with pytest.raises(ValueError, match="1..4"):
        CocoBleu(5)
    with pytest.raises(InputError, match="2 references but 1 hypotheses"):
        bleu4().statistics(["a", "b"], ["a"])
    with pytest.raises(InputError, match="hypothesis #1 is NoneType"):
        bleu4().statistics(["a", "b"], ["a", None])  # type: ignore[list-item]
    with pytest.raises(InputError, match="unknown normalisation"):
        bleu4(normalize="stem")
    with pytest.raises(InputError, match="case 'c2'.*missing"):
        score({"c1": "a", "c2": "b"}, {"c1": "a", "c2": float("nan")}, metrics=["bleu4"])
    with pytest.raises(InputError, match="missing from hypotheses: 'c2'"):
        score({"c1": "a", "c2": "b"}, {"c1": "a"}, metrics=["bleu4"])
    with pytest.raises(InputError, match="2 references but 3 hypotheses"):
        score(["a", "b"], ["a", "b", "c"], metrics=["bleu4"])


# -- avg_bleu: the RAD3D-Prefix paper's "Avg. BLEU" (mean of BLEU-1..4) ------------------------------

def test_avg_bleu_parity_with_mean_of_pycocoevalcap_bleu(lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    expected_corpus, expected_per = coco_bleu(refs, hyps)
    m = get_metric("avg_bleu")
    stats = m.statistics(refs, hyps)
    assert m.aggregate(stats.sum(axis=0)) == pytest.approx(float(np.mean(expected_corpus)), abs=1e-9)
    np.testing.assert_allclose(m.sample_scores(stats), np.mean(expected_per, axis=0), rtol=0, atol=1e-9)


@pytest.mark.parametrize("cid", ["empty_hyp", "empty_ref", "both_empty", "ws_hyp", "ws_ref", "punct_only_hyp",
                                 "punct_only_both", "identical", "long_hyp", "one_word", "unicode", "pipes"])
def test_avg_bleu_edge_case_alone_matches_pycocoevalcap_mean(edge_cases, cid) -> None:
    ref, hyp = next((r, h) for c, r, h in edge_cases if c == cid)
    expected_corpus, _ = coco_bleu([ref], [hyp])
    assert avg_bleu().corpus_score([ref], [hyp]) == pytest.approx(float(np.mean(expected_corpus)), abs=1e-9)


def test_avg_bleu_contract_and_shared_family(check_metric, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    stats = check_metric(avg_bleu(), refs, hyps)
    np.testing.assert_array_equal(stats, bleu4().statistics(refs, hyps))  # the BLEU rows, not a copy of the code
    assert avg_bleu().statistics_key == bleu1().statistics_key
    assert avg_bleu(normalize="lower").statistics_key == bleu4(normalize="lower").statistics_key
    assert avg_bleu().signature.startswith("avg_bleu|conv:coco|tok:ws|case:keep|norm:none|mean:bleu1-4|v:")
    assert avg_bleu().kind == "corpus" and avg_bleu().higher_is_better
    # in one scoring call the BLEU family is computed once and avg_bleu equals the mean of bleu1..4
    out = score(refs, hyps, metrics=["bleu1", "bleu2", "bleu3", "bleu4", "avg_bleu"]).as_dict()
    assert out["avg_bleu"] == pytest.approx(np.mean([out[f"bleu{n}"] for n in range(1, 5)]), abs=1e-15)


def test_avg_bleu_gets_bootstrap_ci_and_paired_test(lexical_pairs) -> None:
    import radeval

    ids, refs, hyps = lexical_pairs
    ref_map = dict(zip(ids, refs))
    systems = {"perturbed": dict(zip(ids, hyps)), "copy": dict(zip(ids, refs))}
    res = radeval.compare(ref_map, systems, metrics=["avg_bleu"], resamples=200, seed=3)
    row = res.table[(res.table["system"] == "perturbed") & (res.table["metric"] == "avg_bleu")].iloc[0]
    assert row["ci_low"] < row["score"] < row["ci_high"]
    assert row["score"] == pytest.approx(avg_bleu().corpus_score(refs, hyps), abs=1e-12)
    other = res.table[(res.table["system"] == "copy") & (res.table["metric"] == "avg_bleu")].iloc[0]
    assert np.isfinite(other["p"]) and other["p"] < 0.05


def test_avg_bleu_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="avg_bleu: 2 references but 1 hypotheses"):
        avg_bleu().statistics(["a", "b"], ["a"])
    with pytest.raises(TypeError):
        avg_bleu(n=2)  # the order is fixed: it is the mean of 1..4
