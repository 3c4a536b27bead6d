"""Leaderboard and significance report as Markdown, and the long CSV."""

from __future__ import annotations

import pandas as pd

from radeval.leaderboard.diagnostic_flags import flag_block_markdown
from radeval.leaderboard.listed_comparisons import comparisons_markdown
from radeval.leaderboard.literature import LITERATURE_METRICS
from radeval.leaderboard.run_summary import run_summary_markdown
from radeval.leaderboard.table import BETTER, COLUMNS, CSV_COLUMNS, WORSE, Leaderboard, format_number, format_p


def _md_escape(text: str) -> str:
    """Text for one table cell or line: a backslash, ``|`` or ``<`` (raw HTML) is shown as itself, and a
    line break cannot end the row. The backslash goes first: ``a\\|b`` must not become ``a\\\\|b``,
    whose ``|`` would split the cell."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<")
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def _preamble_markdown(blocks) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        lines += [f"## {_md_escape(block.title)}", ""]
        for para in block.paragraphs:
            lines += [_md_escape(para), ""]
        if block.items:
            lines += [f"- {_md_escape(item)}" for item in block.items] + [""]
    return lines


def _score_text(board: Leaderboard, system: str, metric: str) -> str:
    row = board.cell(system, metric)
    if row is None:
        return "—"
    text = f"{format_number(row['score'])} [{format_number(row['ci_low'])}, {format_number(row['ci_high'])}]"
    return f"{text} {board.mark(system, metric)}".strip()


def leaderboard_markdown(board: Leaderboard) -> str:
    """The leaderboard as a Markdown document: one table per metric group (scores with 95% CIs and marks
    vs the baseline), rows ordered by rank when a primary metric is set.

    Args:
        board: the leaderboard.

    Returns:
        the document; :attr:`Leaderboard.preamble` sections come first, right under the title.
    """
    lines = [f"# {_md_escape(board.title)}", ""]
    lines += run_summary_markdown(board, _md_escape)
    lines += _preamble_markdown(board.preamble)
    ranked = board.ranking is not None
    lines += [_md_escape(board.order_note()), ""]
    systems = board.ordered_systems
    for group, metrics in board.metric_groups():
        lines += [f"## {_md_escape(group)}", ""]
        header = (["rank"] if ranked else []) + ["system"] + list(metrics)
        lines.append("| " + " | ".join(_md_escape(h) for h in header) + " |")
        lines.append("|" + "|".join(([":---:"] if ranked else []) + ["---"] + ["---:"] * len(metrics)) + "|")
        for system in systems:
            cells = [str(board.rank(system) or "—")] if ranked else []
            cells.append(_md_escape(system + (" (baseline)" if system == board.baseline else "")))
            cells += [_score_text(board, system, metric) for metric in metrics]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"Scores with 95% confidence intervals. {BETTER} / {WORSE}: significantly better / worse than "
              f"the baseline after multiple-comparison correction.", "",
              f"Significance: `{board.significance_signature}`", ""]
    lines += fidelity_markdown(board)
    lines += comparisons_markdown(board.comparisons, _md_escape, correction=board.correction)
    if board.examples:
        lines += [f"Qualitative examples (largest per-case differences): [{board.examples}.md]({board.examples}.md)",
                  ""]
    lines += flag_block_markdown(board, _md_escape)
    if board.unavailable:
        lines += ["## Metrics not computed", ""]
        for metric, note in board.unavailable_notes().items():
            lines.append(f"- **{_md_escape(metric)}**: {_md_escape(note)}")
        lines.append("")
    lines += ["## Metric signatures", ""]
    for metric, sig in board.signatures().items():
        lines.append(f"- `{metric}`: `{sig}`")
    lines.append("")
    for note in board.shareable_notes():
        lines += [note, ""]
    if board.literature:
        lines += ["## Reported in the literature (not reproduced here)", "",
                  "Numbers copied from the papers; their metric implementations and text normalisation may differ "
                  "from ours, so they are not comparable with the table above.", ""]
        lines.append("| system | " + " | ".join(LITERATURE_METRICS) + " | source | note |")
        lines.append("|---|" + "---:|" * len(LITERATURE_METRICS) + "---|---|")
        for res in board.literature:
            vals = [res.display(m, format_number) for m in LITERATURE_METRICS]
            lines.append(f"| {_md_escape(res.system)} | " + " | ".join(vals)
                         + f" | {_md_escape(res.source)} | {_md_escape(res.note)} |")
        lines.append("")
    return "\n".join(lines)


def significance_markdown(board: Leaderboard, *, excluded: dict[str, list[str]] | None = None) -> str:
    """Per-metric paired comparisons against the baseline: Δ, its CI, raw and corrected p."""
    lines = ["# Significance", "", f"`{board.significance_signature}`", ""]
    if board.baseline:
        lines += [f"Baseline: **{_md_escape(board.baseline)}**. Δ = system − baseline on the corpus score; "
                  "p from the paired test, corrected across all systems × metrics.", ""]
    lines.append("| metric | system | score | Δ | 95% CI of Δ | p | corrected p | significant |")
    lines.append("|---|---|---:|---:|---|---:|---:|:---:|")
    for metric in board.metrics:
        for system in board.systems:
            row = board.cell(system, metric)
            if row is None or system == board.baseline:
                continue
            ci = f"[{format_number(row['delta_ci_low'])}, {format_number(row['delta_ci_high'])}]"
            sig = board.mark(system, metric) or ("yes" if bool(row["significant"]) else "no")
            lines.append(f"| {_md_escape(metric)} | {_md_escape(system)} | {format_number(row['score'])} | "
                         f"{format_number(row['delta'])} | {ci} | {format_p(row['p'])} | "
                         f"{format_p(row['p_corrected'])} | {sig} |")
    lines.append("")
    lines += comparisons_markdown(board.comparisons, _md_escape, correction=board.correction)
    lines += _rank_section(board)
    if excluded:
        lines += ["## Cases excluded per metric", "",
                  "A metric that could not score a case for some system is compared on the cases every system "
                  "has (paired); these were left out:", ""]
        for metric, ids in excluded.items():
            lines.append(f"- {_md_escape(metric)}: {', '.join(_md_escape(i) for i in ids)}")
        lines.append("")
    if board.unavailable:
        lines += ["## Metrics not computed", ""]
        lines += [f"- **{_md_escape(m)}**: {_md_escape(r)}" for m, r in board.unavailable_notes().items()]
        lines.append("")
    return "\n".join(lines)


def fidelity_markdown(board: Leaderboard) -> list[str]:
    """The "Systems and their sources" section: each system's fidelity (reproduced / reconstructed) and note."""
    if not board.fidelity:
        return []
    lines = ["## Systems and their sources", "",
             "reproduced: every setting that shapes the result is the source's (paper or upstream code); "
             "reconstructed: some are our choices where the sources are silent.", "",
             "| system | fidelity | note |", "|---|---|---|"]
    for system in board.systems:
        entry = board.fidelity.get(system)
        if entry is not None:
            lines.append(f"| {_md_escape(system)} | {_md_escape(entry['fidelity'])} | {_md_escape(entry['note'])} |")
    return lines + [""]


def _rank_section(board: Leaderboard) -> list[str]:
    """The tests behind the rank groups: which system each was compared with, and the corrected p."""
    lines = ["## Rank groups", "", _md_escape(board.order_note()), ""]
    r = board.ranking
    if r is None:
        return lines
    lines += ["| rank | system | score | tested against | corrected p |", "|:---:|---|---:|---|---:|"]
    for system in r.order:
        row = board.cell(system, r.metric)
        score = format_number(row["score"]) if row is not None else "—"
        against = r.compared_with.get(system)
        lines.append(f"| {r.groups.get(system, '—')} | {_md_escape(system)} | {score} | "
                     f"{_md_escape(against) if against else '—'} | "
                     f"{format_p(r.p_compared[system]) if system in r.p_compared else '—'} |")
    return lines + [""]


def leaderboard_csv(board: Leaderboard) -> str:
    """The long table (one row per system and metric) as CSV, with a ``rank`` column (the system's rank
    group; empty when the leaderboard is not ranked)."""
    from radeval.csv_safe import frame_to_csv

    table = board.table.loc[:, list(COLUMNS)]
    ranks = [board.rank(str(s)) for s in table["system"]]
    return frame_to_csv(table.assign(rank=pd.array(ranks, dtype="Int64")).loc[:, list(CSV_COLUMNS)])
