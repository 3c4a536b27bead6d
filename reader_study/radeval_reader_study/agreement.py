"""Inter-rater agreement on ordinal ratings: weighted Cohen's κ, ICC(2,1), Krippendorff's α.

* :func:`weighted_kappa` — Cohen's κ for two readers with linear or quadratic disagreement weights
  computed from the *scale values* (a category nobody used still counts in the distances). Equals
  ``sklearn.metrics.cohen_kappa_score(a, b, weights="quadratic", labels=scale)``.
* :func:`icc_2_1` — Shrout & Fleiss ICC(2,1): two-way random effects, absolute agreement, single
  rater, on items rated by every reader; with the McGraw & Wong F-based confidence interval.
* :func:`krippendorff_alpha` — α for any number of readers and missing ratings, with the nominal,
  ordinal or interval difference function, from the coincidence matrix.

Example:
    >>> a, b = [1, 2, 3, 4, 5, 3], [1, 2, 4, 4, 5, 2]
    >>> round(weighted_kappa(a, b, categories=range(1, 6)), 4)
    0.9091
    >>> round(krippendorff_alpha([a, b], level="interval"), 4)
    0.9167
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: Difference functions :func:`krippendorff_alpha` knows.
LEVELS = ("nominal", "ordinal", "interval")
#: Weightings :func:`weighted_kappa` knows.
WEIGHTS = ("none", "linear", "quadratic")


def weighted_kappa(a: Sequence[float], b: Sequence[float], *, categories: Iterable[int],
                   weights: str = "quadratic") -> float:
    """Cohen's κ of two readers' paired ratings.

    Args:
        a, b: the two readers' scores of the same items, in the same order.
        categories: every value on the scale (ascending).
        weights: ``"quadratic"``, ``"linear"`` or ``"none"``.

    Returns:
        κ in ``[-1, 1]``; NaN when the expected disagreement is zero (e.g. one category only).

    Raises:
        ValueError: unequal lengths, a value not in ``categories``, or an unknown weighting.
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights={weights!r}: expected one of {', '.join(WEIGHTS)}")
    cats = np.asarray(sorted(categories), dtype=np.float64)
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"weighted_kappa: the two readers have {x.size} and {y.size} ratings")
    if x.size == 0:
        return math.nan
    index = {v: i for i, v in enumerate(cats.tolist())}
    try:
        ix = np.array([index[v] for v in x.tolist()])
        iy = np.array([index[v] for v in y.tolist()])
    except KeyError as exc:
        raise ValueError(f"weighted_kappa: rating {exc.args[0]} is not one of the categories {cats.tolist()}") from None
    k = cats.size
    observed = np.zeros((k, k))
    np.add.at(observed, (ix, iy), 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / x.size
    diff = np.abs(cats[:, None] - cats[None, :])
    w = {"none": (diff > 0).astype(float), "linear": diff, "quadratic": diff**2}[weights]
    denominator = float((w * expected).sum())
    if denominator == 0.0:
        return math.nan
    return 1.0 - float((w * observed).sum()) / denominator


@dataclass(frozen=True)
class ICCResult:
    """ICC(2,1) with its confidence interval and the ANOVA pieces it came from."""

    value: float
    ci_low: float
    ci_high: float
    n_items: int
    n_readers: int
    ms_rows: float
    ms_columns: float
    ms_error: float


def icc_2_1(ratings: np.ndarray, *, confidence: float = 0.95) -> ICCResult:
    """ICC(2,1) (two-way random, absolute agreement, single rater) of a complete items × readers matrix.

    Args:
        ratings: ``(n_items, n_readers)`` scores without missing values; ``n_items ≥ 2``, ``n_readers ≥ 2``.
        confidence: level of the McGraw & Wong (1996) F-based interval.

    Raises:
        ValueError: a missing value or too few items/readers.

    Example:
        >>> r = icc_2_1(np.array([[1, 2], [2, 2], [3, 4], [4, 5], [5, 5]]))
        >>> round(r.value, 4)
        0.8824
    """
    from scipy.stats import f as f_dist

    y = np.asarray(ratings, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] < 2 or y.shape[1] < 2:
        raise ValueError(f"icc_2_1 needs at least 2 items x 2 readers, got shape {y.shape}")
    if np.isnan(y).any():
        raise ValueError("icc_2_1 needs a complete matrix (every reader rated every item)")
    n, k = y.shape
    grand = y.mean()
    ss_rows = k * float(((y.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((y.mean(axis=0) - grand) ** 2).sum())
    ss_total = float(((y - grand) ** 2).sum())
    ss_error = ss_total - ss_rows - ss_cols
    msr, msc = ss_rows / (n - 1), ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    denominator = msr + (k - 1) * mse + k * (msc - mse) / n
    if denominator == 0.0:
        return ICCResult(math.nan, math.nan, math.nan, n, k, msr, msc, mse)
    icc = (msr - mse) / denominator
    lo = hi = math.nan
    if icc < 1.0 and mse > 0.0:
        alpha = 1.0 - confidence
        a = k * icc / (n * (1.0 - icc))
        b = 1.0 + k * icc * (n - 1) / (n * (1.0 - icc))
        v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
        f_low = f_dist.ppf(1.0 - alpha / 2, n - 1, v)
        f_high = f_dist.ppf(1.0 - alpha / 2, v, n - 1)
        spread = k * msc + (k * n - k - n) * mse
        if math.isfinite(v) and v > 0:
            lo = n * (msr - f_low * mse) / (f_low * spread + n * msr)
            hi = n * (f_high * msr - mse) / (spread + n * f_high * msr)
    return ICCResult(float(icc), float(lo), float(hi), n, k, msr, msc, mse)


def krippendorff_alpha(ratings: Sequence[Sequence[float]] | np.ndarray, *, level: str = "ordinal",
                       values: Iterable[float] | None = None) -> float:
    """Krippendorff's α of a readers × items matrix (NaN = not rated).

    Args:
        ratings: ``(n_readers, n_items)``; items with fewer than two ratings do not count.
        level: ``"ordinal"``, ``"interval"`` or ``"nominal"``.
        values: the value domain (the scale); default: the values that occur. For ordinal data the
            ranks come from the frequencies of the observed values, so unused values change nothing.

    Returns:
        α; NaN when there is no pairable rating or no disagreement is possible.

    Raises:
        ValueError: an unknown level or a rating outside ``values``.
    """
    if level not in LEVELS:
        raise ValueError(f"level={level!r}: expected one of {', '.join(LEVELS)}")
    data = np.asarray(ratings, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"krippendorff_alpha expects readers x items, got shape {data.shape}")
    observed_values = np.unique(data[~np.isnan(data)])
    domain = np.asarray(sorted(set(values)) if values is not None else observed_values, dtype=np.float64)
    outside = np.setdiff1d(observed_values, domain)
    if outside.size:
        raise ValueError(f"krippendorff_alpha: rating {outside[0]} is outside the value domain {domain.tolist()}")
    v = domain.size
    if v == 0:
        return math.nan
    index = {x: i for i, x in enumerate(domain.tolist())}
    # per item: how often each value was given
    counts = np.zeros((data.shape[1], v))
    for j in range(data.shape[1]):
        for x in data[:, j][~np.isnan(data[:, j])].tolist():
            counts[j, index[x]] += 1.0
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    if counts.size == 0:
        return math.nan
    # coincidence matrix o[c, k] = Σ_u n_uc (n_uk − [c == k]) / (m_u − 1)
    coincidence = np.einsum("uc,uk,u->ck", counts, counts, 1.0 / (m - 1.0))
    coincidence -= np.diag((counts / (m - 1.0)[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    if level == "nominal":
        delta2 = 1.0 - np.eye(v)
    elif level == "interval":
        delta2 = (domain[:, None] - domain[None, :]) ** 2
    else:
        cum = np.cumsum(n_c)
        # Σ_{g=c..k} n_g − (n_c + n_k)/2 for c ≤ k, symmetric
        lo_idx = np.minimum.outer(np.arange(v), np.arange(v))
        hi_idx = np.maximum.outer(np.arange(v), np.arange(v))
        between = cum[hi_idx] - np.where(lo_idx > 0, cum[lo_idx - 1], 0.0)
        delta2 = (between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2
    expected = float((np.outer(n_c, n_c) * delta2).sum())
    if expected == 0.0:
        return math.nan
    observed = float((coincidence * delta2).sum())
    return float(1.0 - (n - 1.0) * observed / expected)
