"""``leaderboard.json``: the leaderboard for other tools, described by ``leaderboard.schema.json``.

Same content as the Markdown / CSV / HTML leaderboards (ranks, rank groups, scores, CIs, deltas,
p-values, marks, metric signatures, the significance signature, the suite name, the radeval version
and the rank rule), no local paths. NaN numbers are written as ``null``.

Example:
    >>> import json
    >>> from radeval.leaderboard.json_export import SCHEMA_PATH
    >>> json.loads(SCHEMA_PATH.read_text())["properties"]["format"]["const"]
    'radeval-leaderboard'
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from radeval.leaderboard.table import BETTER, WORSE, Leaderboard, UNRANKED_NOTE
from radeval.version import __version__

#: The JSON Schema (draft 2020-12) of ``leaderboard.json``, shipped with the package.
SCHEMA_PATH = Path(__file__).with_name("leaderboard.schema.json")

_RESULT_KEYS = ("score", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p", "p_corrected")


def _number(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else v


def leaderboard_record(board: Leaderboard) -> dict[str, Any]:
    """The leaderboard as a JSON-ready dict (see ``leaderboard.schema.json``).

    Args:
        board: the leaderboard.

    Returns:
        a dict with the schema's keys.
    """
    sigs = board.signatures()
    metrics = []
    for _, names in board.metric_groups():
        for m in names:
            row = board.table[board.table["metric"] == m]
            hib = bool(row["higher_is_better"].iloc[0]) if not row.empty else True
            metrics.append({"name": m, "group": board.groups.get(m, "other"), "higher_is_better": hib,
                            "signature": sigs.get(m, "")})
    systems = []
    for pos, system in enumerate(board.ordered_systems, start=1):
        results: dict[str, Any] = {}
        for m in board.metrics:
            row = board.cell(system, m)
            if row is None:
                continue
            mark = board.mark(system, m)
            results[m] = {k: _number(row[k]) for k in _RESULT_KEYS} | {
                "significant": bool(row["significant"]),
                "mark": "better" if mark == BETTER else ("worse" if mark == WORSE else "")}
        fid = board.fidelity.get(system)
        systems.append({"name": system, "position": pos, "rank": board.rank(system),
                        "is_baseline": system == board.baseline, "results": results,
                        "fidelity": None if fid is None else {"level": fid["fidelity"], "note": fid["note"]}})
    return {
        "format": "radeval-leaderboard", "format_version": 1, "suite": board.suite, "title": board.title,
        "radeval_version": __version__, "baseline": board.baseline,
        "significance_signature": board.significance_signature,
        "ranking": None if board.ranking is None else board.ranking.to_json(),
        "rank_rule": board.ranking.rule if board.ranking is not None else (board.rank_note or UNRANKED_NOTE),
        "order_note": board.order_note(),
        "metrics": metrics, "systems": systems,
        "unavailable": [{"metric": m, "note": n} for m, n in board.unavailable_notes().items()],
        "comparisons": [dict(r) for r in board.comparisons],
        "examples": None if not board.examples else {"markdown": f"{board.examples}.md",
                                                     "html": f"{board.examples}.html"},
    }


def leaderboard_json(board: Leaderboard) -> str:
    """:func:`leaderboard_record` as indented JSON text (UTF-8, no NaN)."""
    return json.dumps(leaderboard_record(board), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


__all__ = ["SCHEMA_PATH", "leaderboard_json", "leaderboard_record"]
