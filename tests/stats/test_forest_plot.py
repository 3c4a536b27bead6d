"""Forest plots of paired deltas: PNG output, missing intervals, several metrics."""

from __future__ import annotations

import math

import pandas as pd

from radeval.stats.forest_plot import draw_forest_plot

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
