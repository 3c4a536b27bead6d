"""p-value conventions of the paired tests, with the tie rule written down.

Bootstrap (``B`` resamples; ``S_a(b)``, ``S_b(b)`` the two systems' corpus scores on resample ``b``;
``Δ = |S_b − S_a|`` on the full corpus):

* ``sacrebleu-bs`` (default; sacreBLEU ``--paired-bs``, Moses ``bootstrap-hypothesis-difference-
  significance.pl``): ``d_b = |S_b(b) − S_a(b)|`` is centred, ``t_b = d_b − mean(d)``, and
  ``p = (#{t_b > Δ} + 1) / (B + 1)``. Two-sided.
* ``koehn`` (Koehn 2004, one-sided): ``p = #{resamples where system b is *not* better than a} / B``
  (better = higher, or lower for metrics with ``higher_is_better=False``).

Approximate randomization (``R`` trials; ``t_r = |S(a_r) − S(b_r)|`` of the two pseudo-systems):

* ``ar-ge`` (default): ``p = (#{t_r ≥ Δ} + 1) / (R + 1)`` — trials at least as extreme as observed,
  the +1 counting the observed assignment itself. This is the Monte-Carlo estimate of the exact
  permutation p-value (all ``2^N`` swap patterns, which counts ``≥``).
* ``ar-sacrebleu``: ``p = (#{t_r > Δ} + 1) / (R + 1)``, strict, as sacreBLEU ``--paired-ar``.

Ties: scores that are equal in exact arithmetic differ by rounding in floating point, so comparisons
use a tolerance ``tol = 1e-12 · max(1, |Δ|)``: strict rules count ``t > Δ + tol``, ``≥`` rules count
``t ≥ Δ − tol``. Raw floats are never compared with ``≥``.

One deliberate departure from sacreBLEU: when the two systems have identical statistics on every
case (the observed difference and every resampled difference are 0), the data carry no evidence of
a difference and ``p = 1``. sacreBLEU's strict rule reports ``1/(B+1)`` there.

If a metric's ``aggregate`` is undefined (NaN) on the observed corpus or on any resample, the p-value
is NaN (not a count that silently treats NaN as "not extreme"); corrections leave NaN out of the family.

Example:
    >>> import numpy as np
    >>> sacrebleu_bootstrap_pvalue(np.array([0.0, 0.0]), np.array([0.0, 0.0]), 0.0, 0.0)
    1.0
"""

from __future__ import annotations

import numpy as np

#: p-value conventions of the paired bootstrap.
BOOTSTRAP_PVALUES: tuple[str, ...] = ("sacrebleu-bs", "koehn")

#: p-value conventions of approximate randomization.
AR_PVALUES: tuple[str, ...] = ("ar-ge", "ar-sacrebleu")

#: Relative tolerance for floating-point ties with the observed difference.
TIE_TOLERANCE = 1e-12


def tie_tolerance(observed: float) -> float:
    """The absolute tie tolerance for an observed difference: ``1e-12 · max(1, |observed|)``."""
    return TIE_TOLERANCE * max(1.0, abs(float(observed)))


def _identical(observed: float, resampled_abs_diff: np.ndarray) -> bool:
    tol = tie_tolerance(observed)
    return abs(observed) <= tol and bool(np.all(resampled_abs_diff <= tol))


def sacrebleu_bootstrap_pvalue(scores_a: np.ndarray, scores_b: np.ndarray, score_a: float, score_b: float) -> float:
    """sacreBLEU's paired-bootstrap p-value (see the module docstring).

    Args:
        scores_a: ``(B,)`` resampled corpus scores of system a (the baseline).
        scores_b: ``(B,)`` resampled corpus scores of system b, on the same resamples.
        score_a: full-corpus score of a.
        score_b: full-corpus score of b.

    Returns:
        ``(#{|S_b(b) − S_a(b)| − mean > Δ} + 1) / (B + 1)``; 1.0 for identical systems.
    """
    d = np.abs(np.asarray(scores_b, dtype=np.float64) - np.asarray(scores_a, dtype=np.float64))
    observed = abs(float(score_b) - float(score_a))
    if not (np.isfinite(observed) and np.all(np.isfinite(d))):
        return float("nan")
    if _identical(observed, d):
        return 1.0
    centred = d - d.mean()
    count = int(np.count_nonzero(centred > observed + tie_tolerance(observed)))
    return (count + 1) / (d.size + 1)


def koehn_bootstrap_pvalue(scores_a: np.ndarray, scores_b: np.ndarray, *, higher_is_better: bool = True) -> float:
    """Koehn's one-sided paired-bootstrap p-value: the share of resamples where b does not beat a.

    Args:
        scores_a: ``(B,)`` resampled scores of system a (the baseline).
        scores_b: ``(B,)`` resampled scores of system b.
        higher_is_better: direction of the metric.

    Returns:
        ``1 − #{S_b(b) better than S_a(b)} / B``; ties (within the tie tolerance) count as "not better".
    """
    a = np.asarray(scores_a, dtype=np.float64)
    b = np.asarray(scores_b, dtype=np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("nan")
    gain = (b - a) if higher_is_better else (a - b)
    tol = TIE_TOLERANCE * np.maximum(1.0, np.abs(a))
    return 1.0 - float(np.mean(gain > tol))


def randomization_pvalue(null_statistics: np.ndarray, observed: float, *, method: str = "ar-ge") -> float:
    """Approximate-randomization p-value with the +1 correction.

    Args:
        null_statistics: ``(R,)`` values ``|S(a_r) − S(b_r)|`` of the shuffled pseudo-systems.
        observed: the observed ``|Δ|``.
        method: ``"ar-ge"`` (count ``≥``, default) or ``"ar-sacrebleu"`` (count ``>``).

    Returns:
        ``(count + 1) / (R + 1)``; 1.0 when the systems are identical on every case.

    Raises:
        ValueError: unknown method.

    Example:
        >>> randomization_pvalue(np.array([0.1, 0.3, 0.2]), 0.2)
        0.75
        >>> randomization_pvalue(np.array([0.1, 0.3, 0.2]), 0.2, method="ar-sacrebleu")
        0.5
    """
    t = np.asarray(null_statistics, dtype=np.float64)
    obs = abs(float(observed))
    if not (np.isfinite(obs) and np.all(np.isfinite(t))):
        return float("nan")
    tol = tie_tolerance(obs)
    if _identical(obs, t):
        return 1.0
    if method == "ar-ge":
        count = int(np.count_nonzero(t >= obs - tol))
    elif method == "ar-sacrebleu":
        count = int(np.count_nonzero(t > obs + tol))
    else:
        raise ValueError(f"unknown randomization p-value {method!r}; expected one of {', '.join(AR_PVALUES)}")
    return (count + 1) / (t.size + 1)
