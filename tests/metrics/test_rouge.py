"""ROUGE-1/2/L F1, rouge-score convention: exact parity with rouge_score.RougeScorer(use_stemmer=True)."""

from __future__ import annotations

import numpy as np
import pytest
from rouge_score.rouge_scorer import RougeScorer
from rouge_score.tokenizers import DefaultTokenizer

from radeval.errors import InputError
from radeval.metrics import get_metric
from radeval.metrics.rouge import RougeScore, RougeTokenizer, avg_rouge12, rouge1, rouge2, rougeL


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


# -- avg_rouge12: the RAD3D-Prefix paper's "Avg. ROUGE (1-2)" ------------------------------------------

@pytest.mark.parametrize("use_stemmer", [True, False])
def test_avg_rouge12_parity_with_mean_of_rouge_score(lexical_pairs, use_stemmer) -> None:
    ids, refs, hyps = lexical_pairs
    scorer = RougeScorer(["rouge1", "rouge2"], use_stemmer=use_stemmer)
    expected = [scorer.score(r, h) for r, h in zip(refs, hyps)]
    want = np.array([(e["rouge1"].fmeasure + e["rouge2"].fmeasure) / 2 for e in expected])
    m = avg_rouge12(use_stemmer=use_stemmer)
    stats = m.statistics(refs, hyps)
    np.testing.assert_allclose(m.sample_scores(stats), want, rtol=0, atol=1e-15)
    corpus_r1 = np.mean([e["rouge1"].fmeasure for e in expected])
    corpus_r2 = np.mean([e["rouge2"].fmeasure for e in expected])
    assert m.aggregate(stats.sum(axis=0)) == pytest.approx((corpus_r1 + corpus_r2) / 2, abs=1e-14)


def test_avg_rouge12_edge_cases_follow_rouge_score(edge_cases) -> None:
    scorer = RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    for cid, ref, hyp in edge_cases:
        got = scorer.score(ref, hyp)
        want = (got["rouge1"].fmeasure + got["rouge2"].fmeasure) / 2
        assert avg_rouge12().corpus_score([ref], [hyp]) == pytest.approx(want, abs=1e-15), cid


def test_avg_rouge12_contract_and_shared_family(check_metric, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    stats = check_metric(avg_rouge12(), refs, hyps)
    np.testing.assert_array_equal(stats, rougeL().statistics(refs, hyps))
    assert avg_rouge12().statistics_key == rouge1().statistics_key
    assert avg_rouge12(use_stemmer=False).statistics_key == rouge2(use_stemmer=False).statistics_key
    sig = get_metric("avg_rouge12").signature
    assert sig.startswith("avg_rouge12|conv:rouge-score|tok:alnum|case:lower|stem:porter|norm:none|mean:rouge1+rouge2|v:")
    assert avg_rouge12().kind == "mean" and avg_rouge12().higher_is_better


def test_avg_rouge12_gets_bootstrap_ci_and_paired_test(lexical_pairs) -> None:
    import radeval

    ids, refs, hyps = lexical_pairs
    res = radeval.compare(dict(zip(ids, refs)), {"perturbed": dict(zip(ids, hyps)), "copy": dict(zip(ids, refs))},
                          metrics=["avg_rouge12", "rouge1", "rouge2"], resamples=200, seed=5)
    t = res.table.set_index(["system", "metric"])
    row = t.loc[("perturbed", "avg_rouge12")]
    assert row["ci_low"] < row["score"] < row["ci_high"]
    assert row["score"] == pytest.approx((t.loc[("perturbed", "rouge1"), "score"]
                                          + t.loc[("perturbed", "rouge2"), "score"]) / 2, abs=1e-15)
    # the bootstrap mean is linear in the two columns: it is the mean of the members' bootstrap means
    assert row["bootstrap_mean"] == pytest.approx((t.loc[("perturbed", "rouge1"), "bootstrap_mean"]
                                                   + t.loc[("perturbed", "rouge2"), "bootstrap_mean"]) / 2, abs=1e-12)
    assert t.loc[("copy", "avg_rouge12"), "p"] < 0.05
