"""Forest plots of paired deltas.

* :func:`draw_forest_plot` — every tested pair: one panel per metric, one row per comparison, CI whiskers, zero line;
* :func:`draw_pair_forest_plot` — one listed pair: one row per metric, with both p-values.

matplotlib (Agg backend) is imported only when a plot is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from radeval.errors import MissingDependencyError


def draw_forest_plot(pairs: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Draw the deltas of ``pairs`` (columns of :data:`radeval.stats.compare.PAIR_COLUMNS`) to a PNG.

    Significant comparisons (corrected p below alpha) are drawn as filled markers, the others hollow.

    Args:
        pairs: the ``ComparisonResult.pairs`` table.
        path: output file (PNG).
        title: figure title.

    Returns:
        the path written.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError("forest plots need matplotlib: pip install 'radeval-ct[demo]'") from None

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    metrics = list(dict.fromkeys(pairs["metric"])) or ["(none)"]
    n_rows = max(1, int(pairs.groupby("metric").size().max()) if len(pairs) else 1)
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7, 0.9 + 0.45 * n_rows * len(metrics) + 0.5 * len(metrics)),
                             squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        part = pairs[pairs["metric"] == metric].reset_index(drop=True)
        labels = [f"{b} − {a}" for a, b in zip(part["system_a"], part["system_b"])]
        ys = list(range(len(part)))[::-1]
        for y, row in zip(ys, part.itertuples(index=False)):
            lo, hi = row.delta_ci_low, row.delta_ci_high
            if not (math.isnan(lo) or math.isnan(hi)):
                ax.plot([lo, hi], [y, y], color="tab:blue", linewidth=1.5)
            ax.plot([row.delta], [y], marker="o", color="tab:blue",
                    markerfacecolor="tab:blue" if bool(row.significant) else "white", markersize=6)
        ax.axvline(0.0, color="grey", linestyle="--", linewidth=0.8)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels)
        ax.set_ylim(-0.7, len(part) - 0.3)
        ax.set_title(str(metric), fontsize=10, loc="left")
        ax.set_xlabel("delta (filled: significant after correction)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=7)
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=120)
    plt.close(fig)
    return out


def draw_pair_forest_plot(records: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = "") -> Path:
    """One listed pair as a forest plot (the layout of RAD3D-Prefix's Fig. 8 (c)-(f)): one row per metric with Δ
    (system − reference) and its CI whiskers, a zero line, and the uncorrected and corrected p beside each row.

    Args:
        records: the pair's rows from :func:`radeval.leaderboard.listed_comparisons.comparison_records` (one
            system and one reference).
        path: output file (PNG).
        title: figure title (default ``"<system> vs <reference>"``).

    Returns:
        the path written.

    Raises:
        InputError: no rows, or rows of more than one pair.
        MissingDependencyError: matplotlib is not installed.
    """
    from radeval import number_format
    from radeval.errors import InputError

    pairs = list(dict.fromkeys((r["system"], r["reference"]) for r in records))
    if len(pairs) != 1:
        raise InputError(f"a pair forest plot needs the rows of exactly one pair, got {len(pairs)}: {pairs}")
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError("forest plots need matplotlib: pip install 'radeval-ct[demo]'") from None
    system, reference = pairs[0]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = list(records)
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.42 * len(rows)))
    ys = list(range(len(rows)))[::-1]
    for y, r in zip(ys, rows):
        lo, hi = r["delta_ci_low"], r["delta_ci_high"]
        if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
            ax.plot([lo, hi], [y, y], color="tab:blue", linewidth=1.5)
            ax.plot([lo, lo], [y - 0.15, y + 0.15], color="tab:blue", linewidth=1.0)
            ax.plot([hi, hi], [y - 0.15, y + 0.15], color="tab:blue", linewidth=1.0)
        if r["delta"] is not None:
            ax.plot([r["delta"]], [y], marker="s", color="tab:blue",
                    markerfacecolor="tab:blue" if r["significant"] else "white", markersize=6)
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(ys)
    ax.set_yticklabels([str(r["metric"]) for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    right = ax.twinx()  # p-values as a second tick column on the right
    right.set_ylim(ax.get_ylim())
    right.set_yticks(ys)
    right.set_yticklabels([f"p={number_format.p_value(r['p'])}  corr. {number_format.p_value(r['p_corrected'])}"
                           for r in rows], fontsize=7)
    ax.set_xlabel(f"mean difference ({system} − {reference}) with 95% CI; filled: corrected p significant",
                  fontsize=8)
    ax.set_title(title or f"{system} vs {reference}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=120)
    plt.close(fig)
    return out
