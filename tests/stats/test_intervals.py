"""Interval methods: sacreBLEU's index rule, np.percentile, BCa against scipy.stats.bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.significance import estimate_ci
from scipy import stats as scipy_stats

from radeval.stats.intervals import (
    bca_interval, confidence_interval, percentile_interval, sacrebleu_index, sacrebleu_interval,
)


@pytest.mark.parametrize("b", [100, 999, 1000, 1001, 4999, 5000, 10000, 12345])
def test_index_rule_is_b_over_40(b):
    assert sacrebleu_index(b, 0.95) == b // 40


def test_index_rule_other_levels():
    assert sacrebleu_index(1000, 0.90) == 50
    assert sacrebleu_index(1000, 0.99) == 5


@pytest.mark.parametrize("b", [1000, 5000, 1003])
def test_sacrebleu_interval_equals_estimate_ci(b):
    x = np.random.default_rng(b).normal(30, 5, size=b)
    lo, hi = sacrebleu_interval(x, 0.95)
    mean, half = estimate_ci(x)
    assert 0.5 * (hi - lo) == half
    s = np.sort(x)
    assert (lo, hi) == (s[b // 40], s[b - b // 40 - 1])


def test_percentile_interval_vectorised():
    x = np.random.default_rng(3).normal(size=(1000, 4))
    lo, hi = percentile_interval(x, 0.9)
    np.testing.assert_allclose(lo, np.percentile(x, 5, axis=0), rtol=1e-15)
    np.testing.assert_allclose(hi, np.percentile(x, 95, axis=0), rtol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bca_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, size=60)                       # skewed, so BCa differs from percentile
    idx = np.random.default_rng(seed + 10).integers(0, x.size, (2000, x.size))
    boot = x[idx].mean(axis=1)
    jack = (x.sum() - x) / (x.size - 1)               # leave-one-out means, from sums
    lo, hi = bca_interval(boot, x.mean(), jack, 0.95)
    prior = scipy_stats.bootstrap((x,), np.mean, n_resamples=0, method="BCa",
                                  bootstrap_result=type("R", (), {"bootstrap_distribution": boot})())
    assert lo == pytest.approx(prior.confidence_interval.low, rel=1e-12)
    assert hi == pytest.approx(prior.confidence_interval.high, rel=1e-12)
    plo, phi = percentile_interval(boot)
    assert (lo, hi) != (plo, phi)


def test_bca_degenerate_distribution_is_a_point():
    lo, hi = bca_interval(np.zeros(500), 0.0, np.zeros(20))
    assert (lo, hi) == (0.0, 0.0)


def test_dispatch_and_errors():
    x = np.random.default_rng(0).normal(size=1000)
    assert confidence_interval(x, method="sacrebleu") == sacrebleu_interval(x)
    with pytest.raises(ValueError, match="unknown confidence-interval method 'student'"):
        confidence_interval(x, method="student")
    with pytest.raises(ValueError, match="needs the full-sample estimate"):
        confidence_interval(x, method="bca")
    with pytest.raises(ValueError, match="confidence must be between"):
        percentile_interval(x, 1.5)
