"""The facts a run's "what this run shows / does not show" section is written from.

Everything here is read off the run itself: the number of cases, the label head's held-out AUROC (when the
run embedded volumes and fitted a head), the systems the degenerate-output diagnostics flag, and the paper's
central contrast when the suite has both variants: RAD3D-Prefix V-3 (latent + diagnostic priors) against V-2
(latent only), a paired test on the same cases with the suite's significance settings.

The result is a plain dict (``Leaderboard.facts``), so :mod:`radeval.leaderboard` renders it without importing
the bench layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from radeval.metrics.base import Metric

#: (without priors, with priors): the registry models of the paper's central comparison.
PRIOR_CONTRAST_MODELS: tuple[str, str] = ("rad3d-prefix-v2", "rad3d-prefix-v3")
#: Metrics the contrast is reported on, when the run computed them (first = headline, unless the suite names a
#: primary metric: see :func:`prior_contrast`).
CONTRAST_METRICS: tuple[str, ...] = ("bleu4", "label_f1_macro", "rougeL")


def prior_contrast(system_models: Mapping[str, str], stats: Mapping[str, np.ndarray],
                   metrics: Mapping[str, Metric], system_names: Sequence[str], *, resamples: int, seed: int | None,
                   confidence: float = 0.95, headline: str | None = None) -> list[dict[str, Any]]:
    """V-3 minus V-2 on :data:`CONTRAST_METRICS`, paired bootstrap on the cases both scored.

    Args:
        system_models: system name -> registry model name (systems read from files are absent).
        stats: metric -> ``(K, N, k)`` statistics in ``system_names`` order.
        metrics: metric objects by name.
        system_names: the run's systems, in the statistics' order.
        resamples, seed, confidence: the suite's significance settings.
        headline: the suite's primary metric (``rank_by``): reported first (the summary's verdict is about the
            first contrast), and added when it is not among :data:`CONTRAST_METRICS`; ``None``: BLEU-4 first.

    Returns:
        One dict per metric: ``a, b, metric, score_a, score_b, delta, ci_low, ci_high, p, n`` (empty when the
        suite lacks one of the two variants). p is uncorrected: this is one pre-declared contrast.
    """
    from radeval.stats.compare import compare_statistics

    by_model = {model: name for name, model in system_models.items()}
    a, b = (by_model.get(m) for m in PRIOR_CONTRAST_MODELS)
    if a is None or b is None:
        return []
    ia, ib = system_names.index(a), system_names.index(b)
    out = []
    order = [headline] if headline is not None else []
    for metric in order + [m for m in CONTRAST_METRICS if m != headline]:
        if metric not in stats:
            continue
        arr = stats[metric][[ia, ib]]
        ok = np.all(np.isfinite(arr), axis=(0, 2))
        if ok.sum() < 2:
            continue
        result = compare_statistics({metric: arr[:, ok, :]}, {metric: metrics[metric]}, [a, b], baseline=a,
                                    resamples=resamples, seed=seed, confidence=confidence, correction="none")
        row = result.table[result.table["system"] == b].iloc[0]
        base = result.table[result.table["system"] == a].iloc[0]
        out.append({"a": a, "b": b, "metric": metric, "score_a": float(base["score"]), "score_b": float(row["score"]),
                    "delta": float(row["delta"]), "ci_low": float(row["delta_ci_low"]),
                    "ci_high": float(row["delta_ci_high"]), "p": float(row["p"]), "n": int(ok.sum())})
    return out


def label_head_facts(report_rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Macro AUROC over the labels with both classes on the held-out split, from a label report's rows.

    Args:
        report_rows: rows of :func:`radeval_models.ctclip.label_head.label_report` (``label, n_pos, n_neg, auroc, ...``).

    Returns:
        ``{"macro_auroc", "n_labels_scored", "n_labels", "n_cases"}``.
    """
    rows = [r for r in report_rows if r["label"] != "macro"]
    scored = [float(r["auroc"]) for r in rows if not _nan(r["auroc"])]
    n_cases = int(rows[0]["n_pos"]) + int(rows[0]["n_neg"]) if rows else 0
    return {"macro_auroc": float(np.mean(scored)) if scored else float("nan"), "n_labels_scored": len(scored),
            "n_labels": len(rows), "n_cases": n_cases}


def _nan(value: Any) -> bool:
    try:
        return bool(np.isnan(float(value)))
    except (TypeError, ValueError):
        return True
