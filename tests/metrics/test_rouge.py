"""ROUGE-1/2/L F1, rouge-score convention: exact parity with rouge_score.RougeScorer(use_stemmer=True)."""

from __future__ import annotations

import numpy as np
import pytest
from rouge_score.rouge_scorer import RougeScorer
from rouge_score.tokenizers import DefaultTokenizer

from radeval.errors import InputError
from radeval.metrics import get_metric
from radeval.metrics.rouge import RougeScore, RougeTokenizer, rouge1, rouge2, rougeL


@pytest.mark.parametrize("use_stemmer", [True, False])
def test_exact_parity_with_rouge_score(lexical_pairs, use_stemmer) -> None:
    ids, refs, hyps = lexical_pairs
    scorer = RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=use_stemmer)
    expected = [scorer.score(r, h) for r, h in zip(refs, hyps)]  # score(target=reference, prediction=hypothesis)
    stats = RougeScore("rouge1", use_stemmer=use_stemmer).statistics(refs, hyps)
    for col, key in enumerate(("rouge1", "rouge2", "rougeL")):
        m = RougeScore(key, use_stemmer=use_stemmer)
        per = m.sample_scores(stats)
        want = np.array([e[key].fmeasure for e in expected])
        assert np.array_equal(per, want), (key, np.flatnonzero(per != want)[:5])
        assert m.aggregate(stats.sum(axis=0)) == pytest.approx(want.mean(), abs=1e-15)


def test_tokenizer_matches_rouge_score(lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    ours, theirs = RougeTokenizer(True), DefaultTokenizer(use_stemmer=True)
    for text in refs + hyps:
        assert ours(text) == theirs.tokenize(text)


@pytest.mark.parametrize("vid", ["A", "B", "C", "D", "E"])
def test_sheet_vectors(lexical_vectors, vid) -> None:
    v = lexical_vectors["vectors"][vid]
    for key, expected in zip(("rouge1", "rouge2", "rougeL"), v["rouge"]):
        assert get_metric(key).corpus_score(v["refs"], v["hyps"]) == pytest.approx(expected, abs=1e-9)


def test_edge_cases_follow_rouge_score_rules(edge_cases) -> None:
    scorer = RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    for cid, ref, hyp in edge_cases:
        stats = rouge1().statistics([ref], [hyp])[0]
        got = scorer.score(ref, hyp)
        assert list(stats[:3]) == [got["rouge1"].fmeasure, got["rouge2"].fmeasure, got["rougeL"].fmeasure], cid
    # an empty side scores 0, punctuation-only text has no tokens
    assert rougeL().corpus_score(["no effusion"], [""]) == 0.0
    assert rougeL().corpus_score(["no effusion"], ["!!! ..."]) == 0.0


def test_contract(check_metric, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    for factory in (rouge1, rouge2, rougeL):
        check_metric(factory(), refs, hyps)


def test_family_and_signature() -> None:
    metrics = [get_metric(n) for n in ("rouge1", "rouge2", "rougeL")]
    assert len({m.statistics_key for m in metrics}) == 1
    assert metrics[2].signature.startswith("rougeL|conv:rouge-score|tok:alnum|case:lower|stem:porter|norm:none|v:")
    assert "stem:none" in rougeL(use_stemmer=False).signature
    assert all(m.kind == "mean" and m.higher_is_better and not m.cacheable for m in metrics)


def test_bad_input() -> None:
    with pytest.raises(InputError, match="unknown ROUGE variant 'rouge3'"):
        RougeScore("rouge3")
    with pytest.raises(InputError, match="reference #0 is int"):
        rougeL().statistics([1], ["a"])  # type: ignore[list-item]
