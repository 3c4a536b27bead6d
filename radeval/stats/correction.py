"""Multiple-comparison corrections of p-values: Holm, Benjamini–Hochberg, Benjamini–Yekutieli, Bonferroni.

With ``m`` p-values sorted ascending ``p(1) ≤ … ≤ p(m)``:

* Bonferroni: ``min(1, m·p)``.
* Holm (family-wise error, step-down): ``p̃(i) = max_{j≤i} min(1, (m − j + 1)·p(j))``.
* Benjamini–Hochberg (false discovery rate, independence/PRDS): ``p̃(i) = min_{j≥i} min(1, m·p(j)/j)``.
* Benjamini–Yekutieli (FDR under any dependence): the BH values times ``c(m) = Σ_{i≤m} 1/i``, capped at 1.

Results come back in the input order. NaN entries (e.g. a baseline compared with itself) are not
part of the family: they stay NaN and do not count towards ``m``. The numbers equal
``statsmodels.stats.multitest.multipletests`` (``holm``, ``fdr_bh``, ``fdr_by``, ``bonferroni``).

Example:
    >>> p = [0.010, 0.040, 0.030, 0.005, 0.200]
    >>> holm(p).round(6).tolist()
    [0.04, 0.09, 0.09, 0.025, 0.2]
    >>> adjust_pvalues(p, "bonferroni").round(6).tolist()
    [0.05, 0.2, 0.15, 0.025, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

#: Correction names accepted by :func:`adjust_pvalues` (``"none"`` returns the raw p-values).
CORRECTIONS: tuple[str, ...] = ("holm", "bh", "by", "bonferroni", "none")


def _validated(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    p = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    finite = p[~np.isnan(p)]
    if np.any((finite < 0) | (finite > 1)):
        bad = finite[(finite < 0) | (finite > 1)][0]
        raise ValueError(f"p-values must lie in [0, 1], got {bad!r}")
    return p


def _on_finite(pvalues: Sequence[float] | np.ndarray, rule: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``rule`` (sorted ascending p -> adjusted, same order) to the non-NaN entries."""
    p = _validated(pvalues)
    out = np.full_like(p, np.nan)
    keep = np.flatnonzero(~np.isnan(p))
    if keep.size == 0:
        return out
    order = np.argsort(p[keep], kind="stable")
    adjusted_sorted = np.minimum(rule(p[keep][order]), 1.0)
    adjusted = np.empty_like(adjusted_sorted)
    adjusted[order] = adjusted_sorted
    out[keep] = adjusted
    return out


def bonferroni(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Bonferroni-adjusted p-values ``min(1, m·p)``."""
    return _on_finite(pvalues, lambda s: s * s.size)


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (controls the family-wise error rate)."""
    return _on_finite(pvalues, lambda s: np.maximum.accumulate(s * (s.size - np.arange(s.size))))


def _bh_sorted(s: np.ndarray) -> np.ndarray:
    ranks = np.arange(1, s.size + 1, dtype=np.float64)
    return np.minimum.accumulate((s * s.size / ranks)[::-1])[::-1]


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate)."""
    return _on_finite(pvalues, _bh_sorted)


def benjamini_yekutieli(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Yekutieli adjusted p-values (FDR under arbitrary dependence)."""

    def rule(s: np.ndarray) -> np.ndarray:
        c = float(np.sum(1.0 / np.arange(1, s.size + 1)))
        return _bh_sorted(s * c)

    return _on_finite(pvalues, rule)


def adjust_pvalues(pvalues: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjust a family of p-values with ``method`` (one of :data:`CORRECTIONS`).

    Args:
        pvalues: raw p-values; NaN entries are left out of the family and stay NaN.
        method: ``"holm"``, ``"bh"``, ``"by"``, ``"bonferroni"`` or ``"none"``.

    Returns:
        adjusted p-values in the input order, float64.

    Raises:
        ValueError: unknown method or a p-value outside ``[0, 1]``.
    """
    rules = {"holm": holm, "bh": benjamini_hochberg, "by": benjamini_yekutieli, "bonferroni": bonferroni}
    if method == "none":
        return _validated(pvalues).copy()
    if method not in rules:
        raise ValueError(f"unknown correction {method!r}; expected one of {', '.join(CORRECTIONS)}")
    return rules[method](pvalues)
