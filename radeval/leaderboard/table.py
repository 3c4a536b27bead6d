"""The leaderboard model: a long table of (system, metric) results plus everything needed to show it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from radeval import number_format
from radeval.leaderboard.literature import PublishedResult
from radeval.leaderboard.shareable import scrub_local_paths, unavailable_note
from radeval.metrics.base import METRIC_GROUPS
from radeval.stats.ranking import Ranking

#: Columns of the long table (one row per system and metric), as written to ``leaderboard.csv``.
COLUMNS: tuple[str, ...] = (
    "system", "metric", "score", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p",
    "p_corrected", "significant", "higher_is_better", "metric_signature",
)

#: Columns of ``leaderboard.csv``: :data:`COLUMNS` plus the system's rank group (empty when unranked).
CSV_COLUMNS: tuple[str, ...] = COLUMNS + ("rank",)

BETTER, WORSE = "▲", "▼"

#: What a leaderboard without ``rank_by`` says about its row order.
UNRANKED_NOTE = ("No primary metric (`rank_by`) was set: systems are listed in suite order and are not ranked.")


@dataclass(frozen=True)
class PreambleBlock:
    """A plain-text section shown above the table (e.g. "what this run shows"); every renderer escapes it.

    Attributes:
        title: the section heading.
        paragraphs: paragraphs of text.
        items: bullet points.
    """

    title: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()


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
        groups: metric -> its group (``Metric.group``); metrics not listed are shown under ``"other"``.
        ranking: rank groups by the primary metric (:mod:`radeval.stats.ranking`), or ``None`` (suite order).
        rank_note: why there is no ranking (e.g. the primary metric could not be computed); shown instead
            of :data:`UNRANKED_NOTE` when set.
        suite: the suite's name (``None`` for a bare comparison).
        examples: base name of the qualitative-examples files (``"examples"`` -> ``examples.md`` /
            ``examples.html``), linked from the leaderboard; ``None`` = no link.
        preamble: sections shown above the table, in order (insertion point for run summaries).
        facts: numbers of the run for the "what this run shows" section (:mod:`radeval.bench.run_facts`).
        comparisons: the listed comparison pairs, one dict per (pair, metric)
            (:func:`radeval.leaderboard.listed_comparisons.comparison_records`).
        fidelity: system -> ``{"fidelity": "reproduced"|"reconstructed", "note": ...}`` for systems that state it.
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
    groups: dict[str, str] = field(default_factory=dict)
    ranking: Ranking | None = None
    rank_note: str = ""
    suite: str | None = None
    examples: str | None = None
    preamble: tuple[PreambleBlock, ...] = ()

    @property
    def ordered_systems(self) -> tuple[str, ...]:
        """Systems in display order: by rank when ranked, else in suite order."""
        if self.ranking is None:
            return self.systems
        ranked = [s for s in self.ranking.order if s in self.systems]
        return tuple(ranked + [s for s in self.systems if s not in ranked])

    def rank(self, system: str) -> int | None:
        """The system's rank group (1 = best), or ``None`` when unranked."""
        return None if self.ranking is None else self.ranking.groups.get(system)

    def order_note(self) -> str:
        """One sentence on how rows are ordered (rank rule and test family, or suite order)."""
        if self.ranking is None:
            return self.rank_note or UNRANKED_NOTE
        r = self.ranking
        return (f"Ranked by {r.metric} ({'higher' if r.higher_is_better else 'lower'} is better). {r.rule} "
                f"alpha = {r.alpha:g}; tests: {r.family}.")

    def metric_groups(self) -> list[tuple[str, list[str]]]:
        """``[(group, [metric, …]), …]`` in :data:`~radeval.metrics.base.METRIC_GROUPS` order (unknown
        group names after them, in first-seen order); metrics keep their order inside a group."""
        by_group: dict[str, list[str]] = {}
        for metric in self.metrics:
            by_group.setdefault(self.groups.get(metric, "other"), []).append(metric)
        known = [g for g in METRIC_GROUPS if g in by_group]
        extra = [g for g in by_group if g not in METRIC_GROUPS]
        return [(g, by_group[g]) for g in known + extra]

    def unavailable_notes(self) -> dict[str, str]:
        """metric -> one shareable line (the ``radeval fetch`` command, no local paths)."""
        return {m: unavailable_note(m, r) for m, r in self.unavailable.items()}

    def shareable_notes(self) -> tuple[str, ...]:
        """:attr:`notes` with local paths replaced."""
        return tuple(scrub_local_paths(n) for n in self.notes)
    facts: dict = field(default_factory=dict)
    comparisons: tuple[dict, ...] = ()
    fidelity: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def correction(self) -> str:
        """The multiple-comparison correction named in the significance signature (``""`` if none is named)."""
        for part in self.significance_signature.split("|"):
            if part.startswith("correction:"):
                return part.split(":", 1)[1]
        return ""

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
    """Fixed-point text for a score; '—' for NaN (:func:`radeval.number_format.fixed`)."""
    return number_format.fixed(value, digits)


def format_p(value: float) -> str:
    """p-value text: 4 decimals, '<0.0001' below, '—' for NaN (:func:`radeval.number_format.p_value`)."""
    return number_format.p_value(value)
