"""Confidence intervals from bootstrap distributions: percentile, sacreBLEU's index rule, BCa.

All functions take resampled values along axis 0 (``(B,)`` or ``(B, ...)``) and return the lower
and upper bounds with the trailing shape.

* ``percentile``: ``np.percentile`` at ``α/2`` and ``1 − α/2`` (linear interpolation).
* ``sacrebleu``: sort, then take ``s[k]`` and ``s[B − k − 1]`` with ``k = ⌊B·α/2⌋`` — for a 95%
  interval ``k = B // 40`` (indices 25 and 974 for B = 1000), no interpolation, as sacreBLEU's
  ``estimate_ci``.
* ``bca``: bias-corrected and accelerated (Efron 1987). The bias ``z0`` comes from the share of
  resamples below the full-sample estimate (ties counted half, as ``scipy.stats.bootstrap``), the
  acceleration from a jackknife; the jackknife values
  are cheap here because leave-one-out corpora are just ``total − stats[i]``.

Example:
    >>> s = np.arange(1000.0)
    >>> tuple(float(v) for v in sacrebleu_interval(s, 0.95))
    (25.0, 974.0)
"""

from __future__ import annotations

import math

import numpy as np

#: Interval methods accepted by :func:`confidence_interval`.
CI_METHODS: tuple[str, ...] = ("percentile", "sacrebleu", "bca")

#: A bootstrap distribution whose spread is below this is treated as a single point.
DEGENERATE_SPREAD = 1e-12


def _alpha(confidence: float) -> float:
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    return 1.0 - float(confidence)


def sacrebleu_index(resamples: int, confidence: float = 0.95) -> int:
    """Index ``k`` of the lower bound under sacreBLEU's rule (the upper one is ``B − k − 1``).

    Args:
        resamples: number of bootstrap values B.
        confidence: interval level; 0.95 gives ``B // 40``.

    Returns:
        ``⌊B·(1 − confidence)/2⌋`` (computed so that 0.95 gives exactly ``B // 40``).

    Example:
        >>> sacrebleu_index(1000), sacrebleu_index(10000)
        (25, 250)
    """
    half = _alpha(confidence) / 2.0
    return int(math.floor(resamples * half + 1e-9))


def percentile_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval (``np.percentile``, linear interpolation) along axis 0.

    Args:
        samples: ``(B, ...)`` bootstrap values.
        confidence: interval level.

    Returns:
        ``(low, high)`` with the trailing shape of ``samples``.
    """
    alpha = _alpha(confidence)
    lo, hi = np.percentile(np.asarray(samples, dtype=np.float64), [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
    return lo, hi


def sacrebleu_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """sacreBLEU's interval: sorted values at indices ``k`` and ``B − k − 1`` (no interpolation).

    sacreBLEU itself reports ``(mean, (hi − lo)/2)``; this returns the bounds.

    Args:
        samples: ``(B, ...)`` bootstrap values.
        confidence: interval level.

    Returns:
        ``(low, high)`` with the trailing shape of ``samples``.
    """
    s = np.sort(np.asarray(samples, dtype=np.float64), axis=0)
    k = sacrebleu_index(s.shape[0], confidence)
    return s[k], s[s.shape[0] - k - 1]


def jackknife_acceleration(jackknife: np.ndarray) -> np.ndarray:
    """BCa acceleration ``a = Σ d³ / (6 (Σ d²)^{3/2})`` with ``d = mean(θ_(·)) − θ_(i)``, along axis 0.

    Returns 0 where the jackknife values do not vary.
    """
    jk = np.asarray(jackknife, dtype=np.float64)
    d = jk.mean(axis=0) - jk
    num = (d**3).sum(axis=0)
    den = 6.0 * (d**2).sum(axis=0) ** 1.5
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def bca_interval(samples: np.ndarray, estimate: np.ndarray | float, jackknife: np.ndarray,
                 confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated interval along axis 0.

    Args:
        samples: ``(B, ...)`` bootstrap values.
        estimate: the full-sample value(s), shape ``(...)``.
        jackknife: ``(N, ...)`` leave-one-out values.
        confidence: interval level.

    Returns:
        ``(low, high)``. Where the bootstrap distribution is a single point (e.g. a system against
        itself) the interval is that point; where the bias is infinite (every resample on one side
        of the estimate) the bound is NaN, as in ``scipy.stats.bootstrap``.
    """
    from scipy.special import ndtr, ndtri

    alpha = _alpha(confidence)
    s = np.asarray(samples, dtype=np.float64)
    theta = np.asarray(estimate, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        # mid-rank share of resamples below the estimate (ties count half), as scipy.stats.bootstrap
        below = (np.count_nonzero(s < theta, axis=0) + np.count_nonzero(s <= theta, axis=0)) / (2.0 * s.shape[0])
        z0 = ndtri(below)
        a = jackknife_acceleration(jackknife)
        bounds = []
        for q in (alpha / 2, 1 - alpha / 2):
            zq = ndtri(q)
            level = ndtr(z0 + (z0 + zq) / (1 - a * (z0 + zq)))
            bounds.append(level)
    lo_q, hi_q = bounds
    flat = s.reshape(s.shape[0], -1)
    lo = np.full(flat.shape[1], np.nan)
    hi = np.full(flat.shape[1], np.nan)
    lo_f, hi_f = np.broadcast_to(lo_q, s.shape[1:]).reshape(-1), np.broadcast_to(hi_q, s.shape[1:]).reshape(-1)
    for j in range(flat.shape[1]):
        col = flat[:, j]
        if np.ptp(col) <= DEGENERATE_SPREAD * max(1.0, abs(float(col[0]))):
            lo[j] = hi[j] = float(col[0])
            continue
        if np.isfinite(lo_f[j]):
            lo[j] = np.percentile(col, 100 * lo_f[j])
        if np.isfinite(hi_f[j]):
            hi[j] = np.percentile(col, 100 * hi_f[j])
    shape = s.shape[1:]
    return lo.reshape(shape), hi.reshape(shape)


def confidence_interval(samples: np.ndarray, *, method: str = "percentile", confidence: float = 0.95,
                        estimate: np.ndarray | float | None = None,
                        jackknife: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch to the interval ``method`` (one of :data:`CI_METHODS`).

    Args:
        samples: ``(B, ...)`` bootstrap values.
        method: ``"percentile"``, ``"sacrebleu"`` or ``"bca"``.
        confidence: interval level.
        estimate: full-sample value(s) (``bca`` only).
        jackknife: ``(N, ...)`` leave-one-out values (``bca`` only).

    Returns:
        ``(low, high)``.

    Raises:
        ValueError: unknown method, or ``bca`` without ``estimate``/``jackknife``.
    """
    if method == "percentile":
        return percentile_interval(samples, confidence)
    if method == "sacrebleu":
        return sacrebleu_interval(samples, confidence)
    if method == "bca":
        if estimate is None or jackknife is None:
            raise ValueError("ci='bca' needs the full-sample estimate and the jackknife values")
        return bca_interval(samples, estimate, jackknife, confidence)
    raise ValueError(f"unknown confidence-interval method {method!r}; expected one of {', '.join(CI_METHODS)}")
