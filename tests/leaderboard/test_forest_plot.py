"""Forest plots of paired deltas: PNG output, missing intervals, several metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from radeval.leaderboard.forest_plot import draw_forest_plot
from radeval.metrics import get_metric
from radeval.stats.compare import compare_statistics

PNG = b"\x89PNG\r\n\x1a\n"


def _pairs(with_ci: bool = True) -> pd.DataFrame:
    rows = []
    for metric in ("bleu4", "rougeL"):
        for b, delta in (("v2", 0.03), ("v3", -0.01)):
            lo, hi = (delta - 0.01, delta + 0.01) if with_ci else (math.nan, math.nan)
            rows.append({"system_a": "v1", "system_b": b, "metric": metric, "delta": delta, "delta_ci_low": lo,
                         "delta_ci_high": hi, "p": 0.01, "p_corrected": 0.02, "significant": delta > 0})
    return pd.DataFrame(rows)


def test_writes_png_in_new_folder(tmp_path):
    out = draw_forest_plot(_pairs(), tmp_path / "a" / "b" / "forest.png", title="test:bootstrap|B:1000")
    assert out.read_bytes()[:8] == PNG


def test_missing_intervals_still_plot(tmp_path):
    out = draw_forest_plot(_pairs(with_ci=False), tmp_path / "forest.png")
    assert out.read_bytes()[:8] == PNG and out.stat().st_size > 2000


def test_plots_the_pairs_of_a_comparison(tmp_path):
    metric = get_metric("rougeL")
    refs = [f"no effusion . nodule of {i} mm ." for i in range(30)]
    hyps = {"a": ["no effusion ."] * 30, "b": [f"nodule of {i} mm ." for i in range(30)], "c": refs}
    stats = np.stack([metric.statistics(refs, h) for h in hyps.values()])
    res = compare_statistics({"rougeL": stats}, {"rougeL": metric}, list(hyps), resamples=300)
    out = draw_forest_plot(res.pairs, tmp_path / "plots" / "forest.png", title=res.signature)
    data = out.read_bytes()
    assert data[:8] == PNG and len(data) > 5000
