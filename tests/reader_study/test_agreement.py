"""Agreement statistics against hand-computed values and reference packages (sklearn, krippendorff, pingouin)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radeval_reader_study.agreement import icc_2_1, krippendorff_alpha, weighted_kappa


def _pairs(seed: int, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 6, n)
    b = np.clip(a + rng.integers(-2, 2, n), 1, 5)
    return a, b


def test_kappa_hand_computed() -> None:
    # O = [[1, 1], [0, 2]], E = [[.5, 1.5], [.5, 1.5]] -> 1 - 1/2
    assert weighted_kappa([1, 1, 2, 2], [1, 2, 2, 2], categories=[1, 2]) == pytest.approx(0.5)
    assert weighted_kappa([1, 3, 5], [1, 3, 5], categories=range(1, 6)) == pytest.approx(1.0)
    assert np.isnan(weighted_kappa([3, 3], [3, 3], categories=range(1, 6)))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("weights", ["quadratic", "linear", "none"])
def test_kappa_matches_sklearn(seed: int, weights: str) -> None:
    from sklearn.metrics import cohen_kappa_score

    a, b = _pairs(seed)
    b[b == 3] = 2  # leave a category unused by one reader
    expected = cohen_kappa_score(a, b, weights=None if weights == "none" else weights, labels=[1, 2, 3, 4, 5])
    assert weighted_kappa(a, b, categories=range(1, 6), weights=weights) == pytest.approx(expected, abs=1e-12)


def test_kappa_errors() -> None:
    with pytest.raises(ValueError, match="3 and 2 ratings"):
        weighted_kappa([1, 2, 3], [1, 2], categories=range(1, 6))
    with pytest.raises(ValueError, match="rating 7.0 is not one of the categories"):
        weighted_kappa([1, 7], [1, 2], categories=range(1, 6))
    with pytest.raises(ValueError, match="weights='cubic'"):
        weighted_kappa([1], [1], categories=[1, 2], weights="cubic")


def test_alpha_hand_computed() -> None:
    # units (1,1), (2,2), (1,2): o12 = o21 = 1, n1 = n2 = 3, n = 6 -> 1 - 5 * 2 / 18
    assert krippendorff_alpha([[1, 2, 1], [1, 2, 2]], level="nominal") == pytest.approx(4 / 9)
    assert krippendorff_alpha([[1, 2, 1], [1, 2, 2]], level="ordinal") == pytest.approx(4 / 9)  # two values only
    assert np.isnan(krippendorff_alpha([[1, np.nan], [np.nan, 2]]))  # nothing pairable


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("level", ["ordinal", "interval", "nominal"])
def test_alpha_matches_krippendorff_package(seed: int, level: str) -> None:
    import krippendorff

    rng = np.random.default_rng(100 + seed)
    truth = rng.integers(1, 6, 50)
    data = np.vstack([np.clip(truth + rng.integers(-1, 2, 50), 1, 5) for _ in range(3)]).astype(float)
    data[rng.random(data.shape) < 0.15] = np.nan  # missing ratings
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level, value_domain=[1, 2, 3, 4, 5])
    assert krippendorff_alpha(data, level=level, values=range(1, 6)) == pytest.approx(expected, abs=1e-12)


def test_icc_shrout_fleiss_table() -> None:
    # Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges; ICC(2,1) = 0.29
    y = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    r = icc_2_1(y)
    assert round(r.value, 2) == 0.29 and (r.n_items, r.n_readers) == (6, 4)
    assert r.ci_low < r.value < r.ci_high


@pytest.mark.parametrize("seed", range(4))
def test_icc_matches_pingouin(seed: int) -> None:
    pg = pytest.importorskip("pingouin")
    a, b = _pairs(seed, 40)
    c = np.clip(a + np.random.default_rng(seed).integers(-1, 2, 40), 1, 5)
    y = np.vstack([a, b, c]).T
    long = pd.DataFrame([(i, j, y[i, j]) for i in range(len(y)) for j in range(3)], columns=["item", "reader", "s"])
    table = pg.intraclass_corr(long, targets="item", raters="reader", ratings="s").set_index("Type")
    row = table.loc["ICC(A,1)"] if "ICC(A,1)" in table.index else table.loc["ICC2"]
    r = icc_2_1(y)
    assert r.value == pytest.approx(row["ICC"], abs=1e-10)
    lo, hi = row["CI95"] if "CI95" in row else row["CI95%"]
    assert r.ci_low == pytest.approx(lo, abs=0.006) and r.ci_high == pytest.approx(hi, abs=0.006)


@pytest.mark.parametrize("seed", range(3))
def test_icc_near_zero_and_negative_match_pingouin(seed: int) -> None:
    pg = pytest.importorskip("pingouin")
    y = np.random.default_rng(50 + seed).integers(1, 6, (30, 2))  # independent readers
    long = pd.DataFrame([(i, j, y[i, j]) for i in range(30) for j in range(2)], columns=["item", "reader", "s"])
    table = pg.intraclass_corr(long, targets="item", raters="reader", ratings="s").set_index("Type")
    row = table.loc["ICC(A,1)"] if "ICC(A,1)" in table.index else table.loc["ICC2"]
    r = icc_2_1(y)
    assert r.value == pytest.approx(row["ICC"], abs=1e-10) and abs(r.value) < 0.5
    lo, hi = row["CI95"] if "CI95" in row else row["CI95%"]
    assert r.ci_low == pytest.approx(lo, abs=0.006) and r.ci_high == pytest.approx(hi, abs=0.006)


def test_icc_errors() -> None:
    with pytest.raises(ValueError, match="complete matrix"):
        icc_2_1(np.array([[1, 2], [np.nan, 3], [2, 2]]))
    with pytest.raises(ValueError, match="at least 2 items x 2 readers"):
        icc_2_1(np.array([[1, 2]]))
