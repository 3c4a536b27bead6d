"""The leaderboard model: a long table of (system, metric) results plus everything needed to show it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from radeval.leaderboard.literature import PublishedResult

#: Columns of the long table (one row per system and metric), as written to ``leaderboard.csv``.
COLUMNS: tuple[str, ...] = (
    "system", "metric", "score", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p",
    "p_corrected", "significant", "higher_is_better", "metric_signature",
)

BETTER, WORSE = "▲", "▼"


@dataclass(frozen=True)
class Leaderboard:
    """Everything a leaderboard shows.

    Attributes:
        title: heading.
        table: long DataFrame with :data:`COLUMNS`.
        systems: system names in display order.
        metrics: metric names in display order.
        baseline: the baseline system (significance marks are relative to it) or ``None``.
        significance_signature: the test's signature string.
        unavailable: metric -> why it was not computed (e.g. weights not available offline).
        literature: published numbers shown in a separate, clearly labelled section.
        notes: extra lines shown under the table.
        facts: numbers of the run for the "what this run shows" section (:mod:`radeval.bench.run_facts`).
    """

    title: str
    table: pd.DataFrame
    systems: tuple[str, ...]
    metrics: tuple[str, ...]
    baseline: str | None
    significance_signature: str
    unavailable: dict[str, str] = field(default_factory=dict)
    literature: tuple[PublishedResult, ...] = ()
    notes: tuple[str, ...] = ()
    facts: dict = field(default_factory=dict)

    def cell(self, system: str, metric: str) -> pd.Series | None:
        """The row of ``table`` for one system and metric, or ``None``."""
        rows = self.table[(self.table["system"] == system) & (self.table["metric"] == metric)]
        return None if rows.empty else rows.iloc[0]

    def mark(self, system: str, metric: str) -> str:
        """▲ significantly better than the baseline, ▼ significantly worse (after correction), else ''."""
        row = self.cell(system, metric)
        if row is None or system == self.baseline or not bool(row.get("significant", False)):
            return ""
        delta = float(row["delta"])
        if math.isnan(delta) or delta == 0:
            return ""
        better = (delta > 0) == bool(row["higher_is_better"])
        return BETTER if better else WORSE

    def signatures(self) -> dict[str, str]:
        """metric -> metric signature."""
        out: dict[str, str] = {}
        for row in self.table.itertuples():
            out.setdefault(str(row.metric), str(row.metric_signature))
        return out


def format_number(value: float, digits: int = 4) -> str:
    """Fixed-point text for a score; '—' for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def format_p(value: float) -> str:
    """p-value text: 4 decimals, '<0.0001' below, '—' for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"
