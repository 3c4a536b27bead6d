"""radeval-ct: evaluation toolkit for 3D CT report generators.

Parity-exact lexical metrics (BLEU, METEOR, ROUGE, CIDEr), model-based metrics (BERTScore, GREEN,
RadGraph-F1, RaTEScore), paired bootstrap / randomization tests from sufficient statistics,
leaderboards and blinded reader studies.

Heavy submodules load on first attribute access; ``import radeval`` downloads and imports nothing big.

Example:
    >>> import radeval
    >>> radeval.score(["no pleural effusion ."], ["no pleural effusion ."], metrics=["rougeL"]).as_dict()
    {'rougeL': 1.0}
"""

from __future__ import annotations

from typing import Any

from radeval.version import __version__

_LAZY = {
    "score": ("radeval.metrics.scoring", "score"),
    "ScoreResult": ("radeval.metrics.scoring", "ScoreResult"),
    "get_metric": ("radeval.metrics", "get_metric"),
    "available_metrics": ("radeval.metrics", "available_metrics"),
    "compare": ("radeval.stats.compare", "compare"),
    "read_reports": ("radeval.io", "read_reports"),
    "read_cases": ("radeval.io", "read_cases"),
    "write_reports": ("radeval.io", "write_reports"),
    "Case": ("radeval.types", "Case"),
    "Predictions": ("radeval.types", "Predictions"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'radeval' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
