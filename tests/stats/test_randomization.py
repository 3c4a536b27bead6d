"""Approximate randomization: sacreBLEU --paired-ar parity, the exact permutation test, nulls."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sacrebleu
from sacrebleu.metrics import BLEU
from sacrebleu.significance import PairedTest

from radeval.metrics.base import mean_statistics
from radeval.stats.compare import compare_statistics
from radeval.stats.pvalues import randomization_pvalue, tie_tolerance
from radeval.stats.randomization import randomization_null
from radeval.stats.resample import make_rng, swap_masks


def _p(result, system, metric):
    t = result.table
    return float(t[(t.system == system) & (t.metric == metric)].iloc[0].p)


def test_s1_equals_sacrebleu_paired_ar(vectors, sacre_bleu):
    s1 = vectors["S1"]
    stats = np.stack([sacre_bleu.statistics(s1["refs"], h) for h in (s1["baseline"], s1["system"])])
    res = compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["base", "sys"], test="ar",
                             pvalue="ar-sacrebleu", ci_resamples=0)
    assert _p(res, "sys", "bleu") == s1["ar_p_sacrebleu"]
    _, scores = PairedTest([("base", s1["baseline"]), ("sys", s1["system"])], {"BLEU": BLEU(tokenize="none")},
                           [s1["refs"]], test_type="ar", n_samples=10000)()
    assert _p(res, "sys", "bleu") == scores["BLEU"][1].p_value
    assert "R:10000" in res.signature and "pvalue:ar-sacrebleu" in res.signature


def test_s2_vector(vectors, parsed_metric):
    s2 = vectors["S2"]
    a = np.array(s2["a"])
    stats = np.stack([mean_statistics(a), mean_statistics(a + np.array(s2["b_minus_a"]))])
    strict = compare_statistics({"m": stats}, {"m": parsed_metric}, ["A", "B"], test="ar", pvalue="ar-sacrebleu")
    assert _p(strict, "B", "m") == s2["ar_p_sacrebleu"]
    ge = compare_statistics({"m": stats}, {"m": parsed_metric}, ["A", "B"], test="ar")
    assert _p(ge, "B", "m") == pytest.approx(s2["ar_p_ge"], abs=1e-10)
    assert _p(ge, "B", "m") == pytest.approx(s2["exact_permutation_p"], abs=4 * np.sqrt(0.074 * 0.926 / 10000))


def test_null_statistics_equal_explicit_pseudo_systems(sacre_bleu, synthetic_corpus):
    refs, base, system = synthetic_corpus
    stats = np.stack([sacre_bleu.statistics(refs, h) for h in (base, system)])
    null = randomization_null({"bleu": stats}, {"bleu": sacre_bleu}, [(0, 1)], 64, make_rng(8))["bleu"]
    masks = swap_masks(len(refs), 64, seed=8)
    for r in (0, 5, 63):
        keep = masks[r][:, None]
        pseudo_a = np.where(keep, stats[0], stats[1]).sum(axis=0)
        pseudo_b = np.where(keep, stats[1], stats[0]).sum(axis=0)
        expected = abs(sacre_bleu.aggregate(pseudo_a) - sacre_bleu.aggregate(pseudo_b))
        assert null[r, 0] == pytest.approx(expected, rel=1e-13, abs=1e-13)


def _exact_p(statistic, n: int, observed: float) -> float:
    """Exact permutation p: every one of the 2^n keep/swap patterns, counting >= observed."""
    tol = tie_tolerance(observed)
    count = total = 0
    for pattern in itertools.product((True, False), repeat=n):
        total += 1
        count += statistic(np.array(pattern)) >= observed - tol
    return count / total


def test_agrees_with_exact_permutation_mean_metric(parsed_metric):
    rng = np.random.default_rng(21)
    a = rng.random(10)
    b = a + rng.normal(0.04, 0.08, 10)
    exact = _exact_p(lambda keep: abs(np.where(keep, a, b).mean() - np.where(keep, b, a).mean()), 10,
                     abs(b.mean() - a.mean()))
    assert 0.02 < exact < 0.9  # a non-trivial case
    stats = np.stack([mean_statistics(a), mean_statistics(b)])
    res = compare_statistics({"m": stats}, {"m": parsed_metric}, ["a", "b"], test="ar", resamples=20000,
                             ci_resamples=0)
    se = np.sqrt(exact * (1 - exact) / 20000)
    assert abs(_p(res, "b", "m") - exact) < 4 * se + 1 / 20001


def test_agrees_with_exact_permutation_bleu_recomputed_from_text(sacre_bleu, synthetic_corpus):
    refs, base, system = (x[:10] for x in synthetic_corpus)
    system = [s if i % 3 else b for i, (s, b) in enumerate(zip(system, base))]  # a closer race

    def bleu_of(hyps):
        return sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score

    observed = abs(bleu_of(system) - bleu_of(base))

    def statistic(keep):
        a = [b if k else s for k, b, s in zip(keep, base, system)]
        b = [s if k else b for k, b, s in zip(keep, base, system)]
        return abs(bleu_of(a) - bleu_of(b))

    exact = _exact_p(statistic, 10, observed)
    assert 0.01 < exact < 0.95
    stats = np.stack([sacre_bleu.statistics(refs, h) for h in (base, system)])
    res = compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["base", "sys"], test="ar", resamples=20000,
                             ci_resamples=0)
    se = np.sqrt(exact * (1 - exact) / 20000)
    assert abs(_p(res, "sys", "bleu") - exact) < 4 * se + 1 / 20001


def test_system_against_itself(parsed_metric):
    x = np.random.default_rng(2).random(50)
    stats = np.stack([mean_statistics(x), mean_statistics(x)])
    for pvalue in ("ar-ge", "ar-sacrebleu"):
        res = compare_statistics({"m": stats}, {"m": parsed_metric}, ["a", "b"], test="ar", pvalue=pvalue)
        row = res.table.iloc[1]
        assert row.p == 1.0 and row.delta == 0.0 and row.delta_ci_low <= 0 <= row.delta_ci_high


def test_clearly_better_system(sacre_bleu, synthetic_corpus):
    refs, base, system = synthetic_corpus
    stats = np.stack([sacre_bleu.statistics(refs, h) for h in (base, system)])
    res = compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["base", "sys"], test="ar")
    assert _p(res, "sys", "bleu") == 1 / 10001
    assert res.table.iloc[1].ci_low > res.table.iloc[0].ci_high  # CIs from the follow-up bootstrap


def test_pvalue_conventions():
    t = np.array([0.1, 0.2, 0.2 + 1e-15, 0.3])
    assert randomization_pvalue(t, 0.2) == 4 / 5              # ties within tolerance count as >=
    assert randomization_pvalue(t, 0.2, method="ar-sacrebleu") == 2 / 5
    with pytest.raises(ValueError, match="unknown randomization p-value"):
        randomization_pvalue(t, 0.2, method="exact")
