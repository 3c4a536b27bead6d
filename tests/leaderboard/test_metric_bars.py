"""The per-metric bar chart draws intervals that do not contain the point estimate (regression: the demo crashed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from radeval.leaderboard.metric_bars import draw_metric_bars
from radeval.leaderboard.table import COLUMNS, Leaderboard


def test_interval_beside_the_point_estimate_is_drawn(tmp_path: Path) -> None:
    # distinct_share of a constant system: score 1/40, while its resamples' mean weight can lie above it
    rows = [{"system": s, "metric": "distinct_share", "score": score, "ci_low": lo, "ci_high": hi}
            for s, score, lo, hi in (("a", 0.025, 0.03, 0.05), ("b", 1.0, 1.0, 1.0), ("c", 0.5, np.nan, np.nan))]
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    board = Leaderboard(title="t", table=table, systems=("a", "b", "c"), metrics=("distinct_share",), baseline="a",
                        significance_signature="sig")
    out = draw_metric_bars(board, tmp_path / "metrics.png")
    assert out.is_file() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
