"""The suite's listed comparison pairs (``significance.comparisons``) in the run's outputs.

Each pair ``(system, reference)`` is reported per metric with Δ = system − reference, its confidence interval, the
uncorrected p-value (what papers such as RAD3D-Prefix report) and the corrected one beside it:

* :func:`comparison_records` — JSON-ready rows (``leaderboard.json``'s ``comparisons``, ``comparisons.csv``);
* :func:`comparisons_markdown` — the "Listed comparisons" section of ``significance.md`` and ``leaderboard.md``;
* :func:`comparisons_html` — the same table in ``leaderboard.html``;
* :func:`forest_plot_name` — the file name of each pair's forest plot
  (:func:`radeval.leaderboard.forest_plot.draw_pair_forest_plot`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

import pandas as pd

from radeval import number_format

#: Columns of ``comparisons.csv`` (one row per listed pair and metric).
COMPARISON_COLUMNS: tuple[str, ...] = ("system", "reference", "metric", "delta", "delta_ci_low", "delta_ci_high",
                                       "p", "p_corrected", "significant", "higher_is_better")


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def comparison_records(listed: pd.DataFrame, higher_is_better: Mapping[str, bool]) -> tuple[dict[str, Any], ...]:
    """Rows of the listed pairs (``ComparisonResult.listed_pairs()``) as plain dicts.

    Args:
        listed: rows with ``system_a`` (the reference), ``system_b`` (the system), ``metric``, ``delta``,
            ``delta_ci_low``, ``delta_ci_high``, ``p``, ``p_corrected``, ``significant``.
        higher_is_better: metric -> direction.

    Returns:
        one dict per row with the keys of :data:`COMPARISON_COLUMNS` (NaN -> ``None``).

    Example:
        >>> row = pd.DataFrame([{"system_a": "v2", "system_b": "v3", "metric": "bleu4", "delta": 0.01,
        ...                      "delta_ci_low": 0.0, "delta_ci_high": 0.02, "p": 0.01, "p_corrected": 0.03,
        ...                      "significant": True}])
        >>> comparison_records(row, {"bleu4": True})[0]["reference"]
        'v2'
    """
    out = []
    for r in listed.to_dict("records"):
        out.append({"system": str(r["system_b"]), "reference": str(r["system_a"]), "metric": str(r["metric"]),
                    **{k: _number(r[k]) for k in ("delta", "delta_ci_low", "delta_ci_high", "p", "p_corrected")},
                    "significant": bool(r["significant"]),
                    "higher_is_better": bool(higher_is_better.get(str(r["metric"]), True))})
    return tuple(out)


def comparisons_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The records as a frame with :data:`COMPARISON_COLUMNS` (for ``comparisons.csv``)."""
    return pd.DataFrame(list(records), columns=list(COMPARISON_COLUMNS))


def pairs_of(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The distinct ``(system, reference)`` pairs of the records, in order."""
    return list(dict.fromkeys((str(r["system"]), str(r["reference"])) for r in records))


def forest_plot_name(system: str, reference: str) -> str:
    """``forest-<system>-vs-<reference>.png`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``.

    Example:
        >>> forest_plot_name("rad3d-prefix-v3", "r2gengpt/7b")
        'forest-rad3d-prefix-v3-vs-r2gengpt_7b.png'
    """
    def slug(name: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"

    return f"forest-{slug(system)}-vs-{slug(reference)}.png"


def _verdict(r: Mapping[str, Any]) -> str:
    if not r["significant"] or r["delta"] in (None, 0.0):
        return "no"
    better = (r["delta"] > 0) == bool(r["higher_is_better"])
    return "yes (system better)" if better else "yes (system worse)"


def comparisons_markdown(records: Sequence[Mapping[str, Any]], escape_md: Callable[[str], str], *,
                         correction: str = "", alpha: float = 0.05) -> list[str]:
    """The "Listed comparisons" section: one table per pair (Δ, CI, uncorrected p, corrected p).

    Args:
        records: from :func:`comparison_records`.
        escape_md: the Markdown cell escaper of the caller.
        correction: the correction's name (shown in the header).
        alpha: significance level of the corrected p.

    Returns:
        Markdown lines (none when nothing was listed).
    """
    if not records:
        return []
    fmt, fmt_p = number_format.fixed, number_format.p_value
    lines = ["## Listed comparisons", "",
             f"Pairs listed in the suite (`significance.comparisons`). Δ = system − reference on the corpus score; "
             f"p is the uncorrected paired p-value, corrected p the {correction or 'corrected'} one over the whole "
             f"family; significant: corrected p < {alpha:g}. Forest plots: "
             + ", ".join(f"`comparisons/{forest_plot_name(s, r)}`" for s, r in pairs_of(records)) + ".", ""]
    for system, reference in pairs_of(records):
        lines += [f"### {escape_md(system)} vs {escape_md(reference)}", "",
                  "| metric | Δ | 95% CI of Δ | p (uncorrected) | corrected p | significant |",
                  "|---|---:|---|---:|---:|:---:|"]
        for r in records:
            if (r["system"], r["reference"]) != (system, reference):
                continue
            lines.append(f"| {escape_md(r['metric'])} | {fmt(r['delta'], signed=True)} | "
                         f"{number_format.interval(r['delta_ci_low'], r['delta_ci_high'], signed=True)} | "
                         f"{fmt_p(r['p'])} | {fmt_p(r['p_corrected'])} | {_verdict(r)} |")
        lines.append("")
    return lines


def comparisons_html(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The listed comparisons as an HTML section (``id="comparisons"``), uncorrected and corrected p side by side."""
    if not records:
        return []
    fmt, fmt_p = number_format.fixed, number_format.p_value
    out = ['<h2 id="comparisons">Listed comparisons</h2>',
           '<p class="note">Δ = system − reference; p uncorrected, corrected p over the whole family.</p>',
           '<table class="lit"><thead><tr><th>system</th><th>reference</th><th>metric</th><th>Δ</th>'
           "<th>95% CI of Δ</th><th>p (uncorrected)</th><th>corrected p</th><th>significant</th></tr></thead><tbody>"]
    for r in records:
        out.append(f"<tr><td>{escape(r['system'])}</td><td>{escape(r['reference'])}</td>"
                   f"<td>{escape(r['metric'])}</td><td class=\"num\">{fmt(r['delta'], signed=True)}</td>"
                   f"<td>{number_format.interval(r['delta_ci_low'], r['delta_ci_high'], signed=True)}</td>"
                   f"<td class=\"num\">{fmt_p(r['p'])}</td><td class=\"num\">{fmt_p(r['p_corrected'])}</td>"
                   f"<td>{escape(_verdict(r))}</td></tr>")
    out.append("</tbody></table>")
    return out


__all__ = ["COMPARISON_COLUMNS", "comparison_records", "comparisons_frame", "comparisons_html",
           "comparisons_markdown", "forest_plot_name", "pairs_of"]
