"""Forest plot of paired deltas: one panel per metric, one row per comparison, CI whiskers, zero line.

matplotlib (Agg backend) is imported only when a plot is drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

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
