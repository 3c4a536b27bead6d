"""p-value conventions: sacreBLEU-bs, Koehn, AR (>= and strict), ties, identical systems, NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest

from radeval.stats.pvalues import (
    koehn_bootstrap_pvalue, randomization_pvalue, sacrebleu_bootstrap_pvalue, tie_tolerance,
)


def test_sacrebleu_bs_counts_centred_differences_strictly():
    a = np.array([10.0, 11.0, 12.0, 13.0])
    b = np.array([10.5, 12.0, 12.0, 16.0])           # |d| = 0.5, 1, 0, 3; mean 1.125
    # centred: -0.625, -0.125, -1.125, 1.875; observed Δ = 1.0 -> one value above
    assert sacrebleu_bootstrap_pvalue(a, b, 20.0, 21.0) == (1 + 1) / (4 + 1)
    # a centred value equal to Δ up to rounding is a tie, not "more extreme"
    assert sacrebleu_bootstrap_pvalue(a, b, 20.0, 20.0 + 1.875 + 1e-14) == 1 / 5


def test_identical_systems_give_one():
    same = np.linspace(1, 2, 50)
    assert sacrebleu_bootstrap_pvalue(same, same, 3.0, 3.0) == 1.0
    assert randomization_pvalue(np.zeros(100), 0.0) == 1.0
    assert randomization_pvalue(np.zeros(100), 0.0, method="ar-sacrebleu") == 1.0


def test_koehn_direction_and_ties():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([2.0, 2.0 + 1e-15, 2.0, 5.0])       # better, tie, worse, better
    assert koehn_bootstrap_pvalue(a, b) == 0.5
    assert koehn_bootstrap_pvalue(a, b, higher_is_better=False) == 0.75


def test_nan_scores_give_nan_p():
    a = np.array([1.0, np.nan, 3.0])
    assert math.isnan(sacrebleu_bootstrap_pvalue(a, a + 1, 1.0, 2.0))
    assert math.isnan(koehn_bootstrap_pvalue(a, a + 1))
    assert math.isnan(randomization_pvalue(np.array([0.1, np.nan]), 0.1))


def test_tie_tolerance_scales_with_large_differences():
    assert tie_tolerance(0.02) == 1e-12
    assert tie_tolerance(44.0) == pytest.approx(4.4e-11)
