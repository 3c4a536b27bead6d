"""The "degenerate output" block of a leaderboard: systems past the diagnostics' thresholds, and why.

The rules live in :mod:`radeval.metrics.output_diagnostics`; this module only reads the diagnostics' corpus
values (and CIs) from a :class:`~radeval.leaderboard.table.Leaderboard` and renders the block for Markdown,
HTML and the terminal.
"""

from __future__ import annotations

from html import escape

from radeval.leaderboard.table import Leaderboard, format_number
from radeval.metrics.output_diagnostics import DIAGNOSTIC_METRICS, THRESHOLDS, degenerate_flags


def board_flags(board: Leaderboard) -> dict[str, list[str]]:
    """``{system: [reason, ...]}`` for every system of ``board`` past a diagnostics threshold.

    Systems without diagnostic rows (a leaderboard built without them) are not judged.
    """
    values: dict[str, dict[str, float]] = {}
    for system in board.systems:
        for metric in DIAGNOSTIC_METRICS:
            row = board.cell(system, metric)
            if row is not None:
                values.setdefault(system, {})[metric] = float(row["score"])
    return degenerate_flags(values)


def _has_diagnostics(board: Leaderboard) -> bool:
    return any(m in board.metrics for m in DIAGNOSTIC_METRICS)


def _rules_text() -> str:
    return "; ".join(f"`{rule.describe()}`" for rule in THRESHOLDS)


def flag_block_markdown(board: Leaderboard, escape_text=lambda s: s) -> list[str]:
    """Markdown lines of the block (empty when the board has no diagnostics).

    Args:
        board: the leaderboard.
        escape_text: the renderer's cell/line escaping, applied to system names and reasons.
    """
    if not _has_diagnostics(board):
        return []
    flags = board_flags(board)
    lines = ["## Degenerate output", ""]
    if flags:
        lines.append(f"**Flagged ({len(flags)} of {len(board.systems)} systems)** — their scores above do not "
                     "describe working report generation:")
        lines.append("")
        for system, reasons in flags.items():
            lines.append(f"- ⚠ **{escape_text(system)}**: " + "; ".join(escape_text(r) for r in reasons))
    else:
        lines.append(f"No system is flagged ({len(board.systems)} checked).")
    lines += ["", f"Thresholds: {_rules_text()} (see `radeval.metrics.output_diagnostics`).", ""]
    return lines


def flag_block_html(board: Leaderboard) -> str:
    """The block as an HTML fragment (empty string when the board has no diagnostics)."""
    if not _has_diagnostics(board):
        return ""
    flags = board_flags(board)
    out = ['<section id="degenerate-output"><h2>Degenerate output</h2>']
    if flags:
        out.append(f'<p class="worse">Flagged ({len(flags)} of {len(board.systems)} systems): their scores do not '
                   "describe working report generation.</p><ul>")
        for system, reasons in flags.items():
            out.append(f"<li><strong>⚠ {escape(system)}</strong>: {escape('; '.join(reasons))}</li>")
        out.append("</ul>")
    else:
        out.append(f"<p>No system is flagged ({len(board.systems)} checked).</p>")
    rules = "; ".join(escape(rule.describe()) for rule in THRESHOLDS)
    out.append(f'<p class="note">Thresholds: {rules}.</p></section>')
    return "".join(out)


def flag_summary_lines(board: Leaderboard) -> list[str]:
    """Terminal lines: one per flagged system, or one saying none is (empty without diagnostics)."""
    if not _has_diagnostics(board):
        return []
    flags = board_flags(board)
    if not flags:
        return [f"  degenerate output: no system flagged ({len(board.systems)} checked)"]
    return [f"  DEGENERATE OUTPUT: {system}: " + "; ".join(reasons) for system, reasons in flags.items()]


def diagnostics_table_lines(board: Leaderboard) -> list[str]:
    """Terminal lines: each system's four diagnostics with their CIs."""
    lines = []
    for system in board.systems:
        cells = []
        for metric in DIAGNOSTIC_METRICS:
            row = board.cell(system, metric)
            if row is not None:
                cells.append(f"{metric} {format_number(float(row['score']), 3)} "
                             f"[{format_number(float(row['ci_low']), 3)}, {format_number(float(row['ci_high']), 3)}]")
        if cells:
            lines.append(f"  {system}: " + ", ".join(cells))
    return lines
