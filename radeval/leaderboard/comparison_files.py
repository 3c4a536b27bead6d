"""The files ``radeval compare`` writes from a :class:`~radeval.stats.compare.ComparisonResult`.

* CSV (:func:`comparison_csv`): :attr:`ComparisonResult.table` plus a ``significance_signature`` column.
* JSON (:func:`comparison_json`): signature, baseline, the ``--json`` records, the table and the pairs, with
  NaN written as ``null`` (:func:`radeval.number_format.json_number`).
* PNG: the forest plot of the paired deltas.

:func:`write_comparison` writes any of them (atomically).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radeval.leaderboard.forest_plot import draw_forest_plot
from radeval.csv_safe import frame_to_csv
from radeval.number_format import json_number
from radeval.paths import atomic_write_text

if TYPE_CHECKING:
    from radeval.stats.compare import ComparisonResult
    from radeval.stats.ranking import Ranking


@dataclass(frozen=True)
class ComparisonFiles:
    """Paths written by :func:`write_comparison` (``None``: not asked for)."""

    csv: Path | None = None
    json: Path | None = None
    plot: Path | None = None


def comparison_csv(result: ComparisonResult) -> str:
    """The table as CSV text, with the significance signature on every row."""
    return frame_to_csv(result.table.assign(significance_signature=result.signature))


def _records(frame: Any) -> list[dict[str, Any]]:
    return [{k: json_number(v) for k, v in row.items()} for row in frame.to_dict("records")]


def comparison_json(result: ComparisonResult, ranking: Ranking | None = None) -> str:
    """Signature, baseline, the ``--json`` records, the table, the pairs and the rank groups (``null`` when not
    ranked) as indented JSON text (NaN -> null)."""
    payload = {"signature": result.signature, "baseline": result.baseline, "results": result.to_json_records(),
               "table": _records(result.table), "pairs": _records(result.pairs),
               "ranking": ranking.to_json() if ranking is not None else None}
    return json.dumps(payload, indent=1, ensure_ascii=False) + "\n"


def write_comparison(result: ComparisonResult, *, csv: str | Path | None = None, json_path: str | Path | None = None,
                     plot: str | Path | None = None, ranking: Ranking | None = None) -> ComparisonFiles:
    """Write the CSV table, the JSON document and/or the forest plot (PNG) of ``result``.

    Args:
        result: what :func:`radeval.stats.compare.compare` returned.
        csv, json_path, plot: where to write each (``None``: skip it).
    """
    if csv is not None:
        atomic_write_text(csv, comparison_csv(result))
    if json_path is not None:
        atomic_write_text(json_path, comparison_json(result, ranking))
    if plot is not None:
        draw_forest_plot(result.pairs, plot, title=result.signature)
    return ComparisonFiles(csv=Path(csv) if csv is not None else None,
                           json=Path(json_path) if json_path is not None else None,
                           plot=Path(plot) if plot is not None else None)
