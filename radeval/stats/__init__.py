"""Paired significance from per-sample statistics: one shared resample matrix, vectorised scores.

* :func:`compare` / :func:`compare_statistics` (:mod:`radeval.stats.compare`): scores, CIs, paired
  deltas, p-values and their correction for K systems.
* :mod:`radeval.stats.resample`: the seeded bootstrap index/count matrices and AR swap masks.
* :mod:`radeval.stats.bootstrap`, :mod:`radeval.stats.randomization`: resampled corpus scores.
* :mod:`radeval.stats.pvalues`, :mod:`radeval.stats.intervals`, :mod:`radeval.stats.correction`:
  p-value conventions, interval methods, Holm/BH/BY/Bonferroni.

Names load on first access, so importing a submodule (e.g. for the CLI's option lists) does not
pull in pandas.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "ComparisonResult": "radeval.stats.compare",
    "compare": "radeval.stats.compare",
    "compare_statistics": "radeval.stats.compare",
    "CORRECTIONS": "radeval.stats.correction",
    "adjust_pvalues": "radeval.stats.correction",
    "CI_METHODS": "radeval.stats.intervals",
    "confidence_interval": "radeval.stats.intervals",
    "MODES": "radeval.stats.signature",
    "TESTS": "radeval.stats.signature",
    "SignificanceSettings": "radeval.stats.signature",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'radeval.stats' has no attribute {name!r}")


__all__ = sorted(_LAZY)
