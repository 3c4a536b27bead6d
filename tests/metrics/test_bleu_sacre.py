"""BLEU, sacreBLEU convention: parity with sacrebleu.BLEU (corpus and one-segment corpora), stats layout."""

from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics.bleu import BLEU

from radeval.errors import InputError
from radeval.metrics import get_metric
from radeval.metrics.bleu_sacre import COLUMNS, SacreBleu, sacre_bleu_from_counts

SETTINGS = [
    {},
    {"tokenize": "none"},
    {"tokenize": "intl", "lowercase": True},
    {"smooth_method": "floor"},
    {"smooth_method": "add-k", "smooth_value": 2},
    {"smooth_method": "none"},
    {"effective_order": True},
    {"tokenize": "char"},
]


@pytest.mark.parametrize("options", SETTINGS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_corpus_parity_with_sacrebleu(lexical_pairs, options) -> None:
    ids, refs, hyps = lexical_pairs
    m = SacreBleu(**options)
    stats = m.statistics(refs, hyps)
    oracle = BLEU(**options)
    expected = oracle.corpus_score(hyps, [refs])
    assert abs(m.aggregate(stats.sum(axis=0)) - expected.score) <= 1e-9
    total = stats.sum(axis=0)
    assert int(total[0]) == expected.sys_len and int(total[1]) == expected.ref_len
    if options.get("smooth_method") != "add-k":  # sacreBLEU adds k to its reported counts in place
        assert list(total[2:6].astype(int)) == list(expected.counts)
        assert list(total[6:10].astype(int)) == list(expected.totals)


@pytest.mark.parametrize("options", [{}, {"tokenize": "none"}, {"smooth_method": "floor"},
                                     {"smooth_method": "add-k"}, {"smooth_method": "none"},
                                     {"effective_order": True}])
def test_per_sample_equals_sacrebleu_on_one_segment_corpora(lexical_pairs, options) -> None:
    ids, refs, hyps = lexical_pairs
    m = SacreBleu(**options)
    per = m.sample_scores(m.statistics(refs, hyps))
    oracle = BLEU(**options)
    expected = [oracle.corpus_score([h], [[r]]).score for r, h in zip(refs, hyps)]
    np.testing.assert_allclose(per, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("vid", ["A", "B", "C", "D", "E"])
def test_sheet_vectors(lexical_vectors, vid) -> None:
    v = lexical_vectors["vectors"][vid]
    for tok, key in (("none", "sacre_none"), ("13a", "sacre_13a")):
        stats = SacreBleu(tokenize=tok).statistics(v["refs"], v["hyps"]).sum(axis=0)
        # BLEU-n at lower orders: sacreBLEU with max order n is the cumulative n-gram score
        assert SacreBleu(tokenize=tok).aggregate(stats) == pytest.approx(v[key][3], abs=1e-5)


def test_identical_to_coco_times_100_under_its_conditions(lexical_vectors) -> None:
    # tokenize='none' on pre-tokenised text, one reference, every order matched (sheet section 2)
    v = lexical_vectors["vectors"]["B"]
    coco = get_metric("bleu4").corpus_score(v["refs"], v["hyps"])
    sacre = SacreBleu(tokenize="none").corpus_score(v["refs"], v["hyps"])
    assert sacre == pytest.approx(100 * coco, abs=1e-7)


def test_rules_of_compute_bleu() -> None:
    def stats(hyp_len, ref_len, correct, total):
        return np.array([hyp_len, ref_len, *correct, *total], dtype=float)

    # no match at any order -> 0
    assert sacre_bleu_from_counts(stats(3, 3, [0, 0, 0, 0], [3, 2, 1, 0])) == 0.0
    # an order with no n-grams stops the loop -> 0 (vector C)
    assert sacre_bleu_from_counts(stats(3, 5, [3, 2, 1, 0], [3, 2, 1, 0])) == 0.0
    # exp smoothing: the j-th zero order gets 100 / (2^j * total)
    got = sacre_bleu_from_counts(stats(10, 10, [5, 0, 0, 1], [10, 9, 8, 7]))
    expected = np.exp(np.mean(np.log([50.0, 100 / (2 * 9), 100 / (4 * 8), 100 / 7])))
    assert got == pytest.approx(expected, rel=1e-14)
    # empty system output: brevity penalty 0
    assert sacre_bleu_from_counts(stats(0, 4, [0, 0, 0, 0], [0, 0, 0, 0])) == 0.0
    # vectorised over leading axes
    batch = np.stack([stats(10, 10, [5, 0, 0, 1], [10, 9, 8, 7]), stats(3, 3, [0, 0, 0, 0], [3, 2, 1, 0])])
    assert sacre_bleu_from_counts(batch).shape == (2,)


def test_contract(check_metric, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    check_metric(SacreBleu(), refs, hyps)
    check_metric(SacreBleu(smooth_method="add-k", effective_order=True), refs, hyps)


def test_layout_and_signature() -> None:
    assert COLUMNS == ("hyp_len", "ref_len", "correct1", "correct2", "correct3", "correct4",
                       "total1", "total2", "total3", "total4")
    m = get_metric("bleu_sacre")
    assert m.signature.startswith("bleu_sacre|conv:sacrebleu|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|norm:none|")
    assert "|sacrebleu:2.6.0|v:" in m.signature
    assert "smooth:floor[0.10]" in SacreBleu(smooth_method="floor").signature
    assert "case:lc" in SacreBleu(lowercase=True).signature
    assert m.corpus_score(["no pleural effusion is seen ."], ["no pleural effusion is seen ."]) == pytest.approx(100.0)
    # a 3-token identical pair has no 4-grams: sacreBLEU's loop stops and the score is 0
    assert m.corpus_score(["no effusion ."], ["no effusion ."]) == 0.0
    assert m.corpus_score(["no effusion ."], ["no effusion ."]) == BLEU().corpus_score(["no effusion ."],
                                                                                     [["no effusion ."]]).score


def test_bad_options_are_rejected() -> None:
    with pytest.raises(InputError, match="unknown tokenizer 'moses'"):
        SacreBleu(tokenize="moses")
    with pytest.raises(InputError, match="unknown smooth_method"):
        SacreBleu(smooth_method="linear")
    with pytest.raises(InputError, match="1 references but 2 hypotheses"):
        SacreBleu().statistics(["a"], ["a", "b"])
