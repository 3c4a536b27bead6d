"""The documented minimum number of cases for a paired significance test, and the warning below it.

With very few cases a paired bootstrap or randomisation test has almost no distinct resamples: with
n = 1 every resample is the same case, the p-value collapses to its floor (1 / (B + 1)) and a single
report "differs significantly". Below :data:`MIN_CASES` radeval still runs the test but says loudly,
in the printed table and in ``significance.md``, that its p-values and CIs must not be trusted.

:data:`MIN_CASES` = 30 is a reconstruction (the common rule of thumb for resampling tests; the
bootstrap has at most ``C(2n-1, n)`` distinct resamples, 1.2e17 at n = 30 but only 126 at n = 5).
"""

from __future__ import annotations

#: Fewer paired cases than this: significance results are flagged as unreliable.
MIN_CASES = 30


def small_sample_warning(n: int) -> str | None:
    """The warning for a comparison over ``n`` cases, or ``None`` when ``n >= MIN_CASES``.

    Example:
        >>> small_sample_warning(1).startswith("WARNING: only 1 case")
        True
        >>> small_sample_warning(200) is None
        True
    """
    if n >= MIN_CASES:
        return None
    return (f"WARNING: only {n} case{'s' if n != 1 else ''} (fewer than the documented minimum of {MIN_CASES}): "
            "p-values and confidence intervals from so few cases are not reliable; do not read 'significant' "
            "as a real difference")
