"""Holm, BH, BY, Bonferroni: the sheet's vector M1 and statsmodels as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from radeval.stats.correction import (
    CORRECTIONS, adjust_pvalues, benjamini_hochberg, benjamini_yekutieli, bonferroni, holm,
)

STATSMODELS = {"holm": "holm", "bh": "fdr_bh", "by": "fdr_by", "bonferroni": "bonferroni"}


@pytest.mark.parametrize("method", ["bonferroni", "holm", "bh", "by"])
def test_m1_vector(vectors, method):
    got = adjust_pvalues(vectors["M1"]["p"], method)
    np.testing.assert_allclose(got, vectors["M1"][method], rtol=1e-15, atol=0)


def test_m1_bh_keeps_the_exact_float(vectors):
    assert benjamini_hochberg(vectors["M1"]["p"])[2] == 0.049999999999999996


@pytest.mark.parametrize("method", ["holm", "bh", "by", "bonferroni"])
@pytest.mark.parametrize("seed", range(5))
def test_equals_statsmodels(method, seed):
    rng = np.random.default_rng(seed)
    p = rng.random(int(rng.integers(1, 40))) ** 3
    p[: len(p) // 3] = p[0]  # ties
    expected = multipletests(p, method=STATSMODELS[method])[1]
    np.testing.assert_allclose(adjust_pvalues(p, method), expected, rtol=1e-12, atol=0)


def test_functions_match_dispatch():
    p = [0.2, 0.01, 0.04]
    for fn, name in ((holm, "holm"), (benjamini_hochberg, "bh"), (benjamini_yekutieli, "by"),
                     (bonferroni, "bonferroni")):
        np.testing.assert_array_equal(fn(p), adjust_pvalues(p, name))


def test_nan_is_outside_the_family():
    p = [0.01, np.nan, 0.04, 0.03]
    got = holm(p)
    assert np.isnan(got[1])
    np.testing.assert_allclose(got[[0, 2, 3]], holm([0.01, 0.04, 0.03]))
    assert np.isnan(adjust_pvalues([np.nan, np.nan], "bh")).all()


def test_none_returns_raw_copy():
    p = np.array([0.3, 0.01])
    out = adjust_pvalues(p, "none")
    np.testing.assert_array_equal(out, p)
    assert out is not p
    assert set(CORRECTIONS) == {"holm", "bh", "by", "bonferroni", "none"}


def test_bad_input_raises():
    with pytest.raises(ValueError, match="unknown correction 'sidak'"):
        adjust_pvalues([0.1], "sidak")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.1, 1.5])
