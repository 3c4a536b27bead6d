"""Paired bootstrap: sacreBLEU parity (vector S1 and sacreBLEU run here), mean metrics (S2), nulls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sacrebleu.metrics import BLEU
from sacrebleu.significance import PairedTest, _compute_p_value, estimate_ci

from radeval.metrics.base import mean_statistics
from radeval.stats.bootstrap import bootstrap_corpus_scores, corpus_scores, jackknife_corpus_scores
from radeval.stats.compare import compare_statistics
from radeval.stats.resample import bootstrap_indices, make_rng


def _bleu_stats(metric, refs, *systems):
    return np.stack([metric.statistics(refs, hyps) for hyps in systems])


def _row(result, system, metric="bleu"):
    t = result.table
    return t[(t.system == system) & (t.metric == metric)].iloc[0]


# -- vector S1 (sacreBLEU 2.6.0, BLEU tokenize=none, B = 1000, seed 12345) ------------------------
def test_s1_statistics_layout(vectors, sacre_bleu):
    s1 = vectors["S1"]
    stats = sacre_bleu.statistics(s1["refs"], s1["baseline"])
    assert stats[:2].tolist() == s1["baseline_stats_first_rows"]


def test_s1_vector(vectors, sacre_bleu):
    """p exactly; scores to 1e-12 (bleu_sacre uses numpy's exp/log, sacreBLEU math's: 1-ulp differences)."""
    s1 = vectors["S1"]
    stats = _bleu_stats(sacre_bleu, s1["refs"], s1["baseline"], s1["system"])
    res = compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["base", "sys"], resamples=1000, ci="sacrebleu")
    base, sys_ = _row(res, "base"), _row(res, "sys")
    close = {"rel": 1e-12, "abs": 0}
    assert base.score == pytest.approx(s1["bleu_baseline"], **close)
    assert sys_.score == pytest.approx(s1["bleu_system"], **close)
    assert sys_.p == s1["bs_p"]
    assert sys_.bootstrap_mean == pytest.approx(s1["bs_system_mean"], **close)
    assert (sys_.ci_low, sys_.ci_high) == pytest.approx((s1["bs_system_lo"], s1["bs_system_hi"]), **close)
    assert 0.5 * (sys_.ci_high - sys_.ci_low) == pytest.approx(s1["bs_system_halfwidth"], **close)
    assert base.bootstrap_mean == pytest.approx(s1["bs_baseline_mean"], **close)
    assert 0.5 * (base.ci_high - base.ci_low) == pytest.approx(s1["bs_baseline_halfwidth"], **close)
    pct = compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["base", "sys"], resamples=1000)
    assert _row(pct, "sys").ci_low == pytest.approx(s1["percentile_system"][0], abs=1e-6)
    assert _row(pct, "sys").ci_high == pytest.approx(s1["percentile_system"][1], abs=1e-6)
    koehn = compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["base", "sys"], resamples=1000,
                               pvalue="koehn")
    assert _row(koehn, "sys").p == s1["koehn_p"]


def _sacrebleu_float64_paired_bs(refs, base, system, n_samples, seed=12345):
    """sacreBLEU's own paired-bs pieces (statistics, compute_bleu, estimate_ci, p-value) on float64 sums.

    This is ``sacrebleu.significance._paired_bs_test`` step by step, except that the summed statistics
    stay float64: under numpy >= 2 sacreBLEU's float32 arrays make ``compute_bleu`` round the n-gram
    precisions to float32 (NEP 50), which moves its bootstrap scores by ~1e-7 relative.
    """
    bleu = BLEU(tokenize="none")
    bl_stats = bleu._extract_corpus_statistics(base, [refs])
    sys_stats = bleu._extract_corpus_statistics(system, [refs])
    bl_score = bleu._aggregate_and_compute(bl_stats).score
    sys_score = bleu._aggregate_and_compute(sys_stats).score
    idx = np.random.default_rng(seed).choice(len(system), size=(n_samples, len(system)), replace=True)
    bl = np.array(bl_stats, dtype=np.float64)
    sy = np.array(sys_stats, dtype=np.float64)
    scores_bl = np.array([bleu._compute_score_from_stats(s.sum(0)).score for s in bl[idx]])
    scores_sys = np.array([bleu._compute_score_from_stats(s.sum(0)).score for s in sy[idx]])
    diffs = np.abs(scores_sys - scores_bl)
    p = _compute_p_value(diffs - diffs.mean(), abs(bl_score - sys_score))
    return p, estimate_ci(scores_sys), estimate_ci(scores_bl)


@pytest.mark.parametrize("which", ["s1", "synthetic"])
def test_equals_sacrebleu_paired_bs(vectors, sacre_bleu, synthetic_corpus, which):
    if which == "s1":
        refs, base, system = vectors["S1"]["refs"], vectors["S1"]["baseline"], vectors["S1"]["system"]
    else:
        refs, base, system = synthetic_corpus
    stats = _bleu_stats(sacre_bleu, refs, base, system)
    res = compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["base", "sys"], resamples=1000, ci="sacrebleu")
    ours_sys, ours_base = _row(res, "sys"), _row(res, "base")

    # 1. sacreBLEU's own functions on float64 sums: p exactly, the rest to 1e-12 (numpy's exp/log in
    #    bleu_sacre's vectorised aggregate may differ from math.exp/log by one ulp)
    p, (mean, half), (bl_mean, bl_half) = _sacrebleu_float64_paired_bs(refs, base, system, 1000)
    close = {"rel": 1e-12, "abs": 0}
    assert ours_sys.p == p
    assert ours_sys.bootstrap_mean == pytest.approx(mean, **close)
    assert 0.5 * (ours_sys.ci_high - ours_sys.ci_low) == pytest.approx(half, **close)
    assert ours_base.bootstrap_mean == pytest.approx(bl_mean, **close)
    assert 0.5 * (ours_base.ci_high - ours_base.ci_low) == pytest.approx(bl_half, **close)

    # 2. sacreBLEU's PairedTest as shipped: same p, same scores; mean/CI within its float32 rounding
    _, scores = PairedTest([("base", base), ("sys", system)], {"BLEU": BLEU(tokenize="none")}, [refs],
                           test_type="bs", n_samples=1000)()
    bl_res, sys_res = scores["BLEU"]
    assert ours_sys.p == sys_res.p_value
    assert ours_sys.score == pytest.approx(sys_res.score, rel=1e-12)
    assert ours_base.score == pytest.approx(bl_res.score, rel=1e-12)
    assert ours_sys.bootstrap_mean == pytest.approx(sys_res.mean, rel=1e-6)
    assert 0.5 * (ours_sys.ci_high - ours_sys.ci_low) == pytest.approx(sys_res.ci, rel=1e-5)
    assert ours_base.bootstrap_mean == pytest.approx(bl_res.mean, rel=1e-6)


def test_resampled_scores_equal_naive_loop(sacre_bleu, synthetic_corpus):
    refs, base, system = synthetic_corpus
    stats = _bleu_stats(sacre_bleu, refs, base, system)
    boot = bootstrap_corpus_scores({"bleu": stats}, {"bleu": sacre_bleu}, 300, make_rng(4))["bleu"]
    idx = bootstrap_indices(len(refs), 300, seed=4)
    for k in range(2):
        naive = np.array([sacre_bleu.aggregate(stats[k][row].sum(axis=0)) for row in idx])
        np.testing.assert_allclose(boot[:, k], naive, rtol=1e-13, atol=0)


def test_chunking_does_not_change_results(sacre_bleu, synthetic_corpus, monkeypatch):
    refs, base, system = synthetic_corpus
    stats = {"bleu": _bleu_stats(sacre_bleu, refs, base, system)}
    whole = bootstrap_corpus_scores(stats, {"bleu": sacre_bleu}, 500, make_rng(1))["bleu"]
    monkeypatch.setattr("radeval.stats.bootstrap.chunk_rows", lambda n: 32)
    chunked = bootstrap_corpus_scores(stats, {"bleu": sacre_bleu}, 500, make_rng(1))["bleu"]
    np.testing.assert_array_equal(whole, chunked)


# -- vector S2 (mean-type metric) -----------------------------------------------------------------
def _s2(vectors):
    a = np.array(vectors["S2"]["a"])
    b = a + np.array(vectors["S2"]["b_minus_a"])
    return np.stack([mean_statistics(a), mean_statistics(b)])


def test_s2_first_index_rows(vectors):
    assert bootstrap_indices(12, 2, seed=12345).tolist() == vectors["S2"]["first_idx_rows"]


def test_s2_vector(vectors, parsed_metric):
    s2, stats = vectors["S2"], _s2(vectors)
    metrics = {"m": parsed_metric}
    res = compare_statistics({"m": stats}, metrics, ["A", "B"], resamples=1000, ci="sacrebleu")
    a, b = _row(res, "A", "m"), _row(res, "B", "m")
    assert a.score == pytest.approx(s2["mean_a"], abs=1e-15)
    assert b.score == pytest.approx(s2["mean_b"], abs=1e-15)
    assert b.delta == pytest.approx(s2["abs_delta"], abs=1e-15)
    assert b.p == s2["bs_p"]
    assert b.bootstrap_mean == pytest.approx(s2["bs_b_mean"], abs=1e-14)
    assert (b.ci_low, b.ci_high) == pytest.approx((s2["bs_b_lo"], s2["bs_b_hi"]), abs=1e-14)
    assert 0.5 * (b.ci_high - b.ci_low) == pytest.approx(s2["bs_b_halfwidth"], abs=1e-14)
    assert (b.delta_ci_low, b.delta_ci_high) == pytest.approx(tuple(s2["delta_ci_index_rule"]), abs=1e-14)
    pct = _row(compare_statistics({"m": stats}, metrics, ["A", "B"], resamples=1000), "B", "m")
    assert (pct.delta_ci_low, pct.delta_ci_high) == pytest.approx(tuple(s2["delta_ci_percentile"]), abs=1e-14)
    koehn = _row(compare_statistics({"m": stats}, metrics, ["A", "B"], resamples=1000, pvalue="koehn"), "B", "m")
    assert koehn.p == pytest.approx(s2["koehn_p"], abs=1e-15)


# -- nulls, clear wins, determinism ---------------------------------------------------------------
def test_system_against_itself_is_null(sacre_bleu, synthetic_corpus):
    refs, base, _ = synthetic_corpus
    stats = _bleu_stats(sacre_bleu, refs, base, base)
    for ci in ("percentile", "sacrebleu", "bca"):
        res = compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["a", "b"], resamples=500, ci=ci)
        row = _row(res, "b")
        assert row.p == 1.0 and row.p_corrected == 1.0 and not row.significant
        assert row.delta == 0.0
        assert row.delta_ci_low <= 0.0 <= row.delta_ci_high


def test_near_null_mean_metric_has_large_p(parsed_metric):
    rng = np.random.default_rng(11)
    x = rng.random(400)
    y = x + rng.normal(0, 0.05, 400)  # noise, no shift
    y = y - (y.mean() - x.mean())
    stats = np.stack([mean_statistics(x), mean_statistics(y)])
    row = _row(compare_statistics({"m": stats}, {"m": parsed_metric}, ["x", "y"], resamples=2000), "y", "m")
    # with Δ = 0 the sacreBLEU convention gives P(|d| − mean|d| > 0), about 0.42 for a half-normal |d|
    assert row.p > 0.3 and not row.significant
    assert row.delta_ci_low < 0 < row.delta_ci_high


def test_clearly_better_system(sacre_bleu, synthetic_corpus):
    refs, base, system = synthetic_corpus
    stats = _bleu_stats(sacre_bleu, refs, base, system)
    row = _row(compare_statistics({"bleu": stats}, {"bleu": sacre_bleu}, ["base", "sys"]), "sys")
    assert row.delta > 0 and row.p < 0.01 and row.significant
    assert row.delta_ci_low > 0


def test_same_seed_same_numbers(sacre_bleu, parsed_metric, synthetic_corpus):
    refs, base, system = synthetic_corpus
    stats = {"bleu": _bleu_stats(sacre_bleu, refs, base, system),
             "m": np.stack([mean_statistics(np.linspace(0, 1, 300)), mean_statistics(np.linspace(0.1, 0.9, 300))])}
    metrics = {"bleu": sacre_bleu, "m": parsed_metric}
    one = compare_statistics(stats, metrics, ["a", "b"], resamples=400, seed=3, ci="bca")
    two = compare_statistics(stats, metrics, ["a", "b"], resamples=400, seed=3, ci="bca")
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)
    other = compare_statistics(stats, metrics, ["a", "b"], resamples=400, seed=4, ci="bca")
    assert not one.table["ci_low"].equals(other.table["ci_low"])
    assert one.signature == two.signature != other.signature


def test_jackknife_from_sums_equals_refit(sacre_bleu, synthetic_corpus):
    refs, base, system = synthetic_corpus
    stats = _bleu_stats(sacre_bleu, refs[:30], base[:30], system[:30])
    jk = jackknife_corpus_scores(stats, sacre_bleu)
    for i in (0, 7, 29):
        keep = np.arange(30) != i
        expected = corpus_scores(stats[:, keep], sacre_bleu)
        np.testing.assert_allclose(jk[i], expected, rtol=1e-15)
