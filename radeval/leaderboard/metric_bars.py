"""Bar chart of a leaderboard: one panel per metric, one bar per system with its CI whiskers.

matplotlib (Agg backend) is imported only when a chart is drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radeval.leaderboard.table import Leaderboard


def draw_metric_bars(board: Leaderboard, path: str | Path) -> Path:
    """Draw every metric's scores (and CIs) of ``board`` to a PNG, written atomically.

    Args:
        board: the leaderboard (its ``table`` has ``system, metric, score, ci_low, ci_high``).
        path: output file (PNG).

    Returns:
        the path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    metrics = list(board.metrics)
    cols = min(4, max(1, len(metrics)))
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        sub = board.table[board.table["metric"] == metric].set_index("system").reindex(list(board.systems))
        y = sub["score"].to_numpy(dtype=float)
        low, high = sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float)
        x = np.arange(len(y))
        ax.bar(x, y, color="#4c72b0")
        # the interval drawn as it is: a percentile CI need not contain the point estimate (e.g. the share of
        # distinct reports, whose resamples average full-sample weights), so it is not an error bar around y
        ok = np.isfinite(low) & np.isfinite(high)
        ax.vlines(x[ok], low[ok], high[ok], color="black", linewidth=1)
        ax.hlines(np.r_[low[ok], high[ok]], np.r_[x[ok], x[ok]] - 0.15, np.r_[x[ok], x[ok]] + 0.15, color="black",
                  linewidth=1)
        ax.set_xticks(range(len(y)), list(board.systems), rotation=30, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


__all__ = ["draw_metric_bars"]
