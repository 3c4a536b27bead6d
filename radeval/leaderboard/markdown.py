"""Leaderboard and significance report as Markdown, and the long CSV."""

from __future__ import annotations

from radeval.leaderboard.diagnostic_flags import flag_block_markdown
from radeval.leaderboard.literature import LITERATURE_METRICS
from radeval.leaderboard.run_summary import run_summary_markdown
from radeval.leaderboard.table import BETTER, COLUMNS, WORSE, Leaderboard, format_number, format_p


def _md_escape(text: str) -> str:
    """Text for one table cell or line: a backslash, ``|`` or ``<`` (raw HTML) is shown as itself, and a
    line break cannot end the row. The backslash goes first: ``a\\|b`` must not become ``a\\\\|b``,
    whose ``|`` would split the cell."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<")
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def leaderboard_markdown(board: Leaderboard) -> str:
    """The leaderboard as a Markdown document: scores with 95% CIs and marks vs the baseline."""
    lines = [f"# {_md_escape(board.title)}", ""]
    lines += run_summary_markdown(board, _md_escape)
    header = ["system"] + list(board.metrics)
    lines.append("| " + " | ".join(_md_escape(h) for h in header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * len(board.metrics)) + "|")
    for system in board.systems:
        cells = [_md_escape(system + (" (baseline)" if system == board.baseline else ""))]
        for metric in board.metrics:
            row = board.cell(system, metric)
            if row is None:
                cells.append("—")
                continue
            text = f"{format_number(row['score'])} [{format_number(row['ci_low'])}, {format_number(row['ci_high'])}]"
            mark = board.mark(system, metric)
            cells.append(f"{text} {mark}".strip())
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Scores with 95% confidence intervals. {BETTER} / {WORSE}: significantly better / worse than "
              f"the baseline after multiple-comparison correction.", "",
              f"Significance: `{board.significance_signature}`", ""]
    lines += flag_block_markdown(board, _md_escape)
    if board.unavailable:
        lines += ["## Metrics not computed", ""]
        for metric, reason in board.unavailable.items():
            lines.append(f"- **{_md_escape(metric)}**: {_md_escape(reason)}")
        lines.append("")
    lines += ["## Metric signatures", ""]
    for metric, sig in board.signatures().items():
        lines.append(f"- `{metric}`: `{sig}`")
    lines.append("")
    for note in board.notes:
        lines += [note, ""]
    if board.literature:
        lines += ["## Reported in the literature (not reproduced here)", "",
                  "Numbers copied from the papers; their metric implementations and text normalisation may differ "
                  "from ours, so they are not comparable with the table above.", ""]
        lines.append("| system | " + " | ".join(LITERATURE_METRICS) + " | source | note |")
        lines.append("|---|" + "---:|" * len(LITERATURE_METRICS) + "---|---|")
        for res in board.literature:
            vals = [format_number(res.scores[m]) if m in res.scores else "" for m in LITERATURE_METRICS]
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
    if excluded:
        lines += ["## Cases excluded per metric", "",
                  "A metric that could not score a case for some system is compared on the cases every system "
                  "has (paired); these were left out:", ""]
        for metric, ids in excluded.items():
            lines.append(f"- {_md_escape(metric)}: {', '.join(_md_escape(i) for i in ids)}")
        lines.append("")
    if board.unavailable:
        lines += ["## Metrics not computed", ""]
        lines += [f"- **{_md_escape(m)}**: {_md_escape(r)}" for m, r in board.unavailable.items()]
        lines.append("")
    return "\n".join(lines)


def leaderboard_csv(board: Leaderboard) -> str:
    """The long table (one row per system and metric) as CSV."""
    return board.table.loc[:, list(COLUMNS)].to_csv(index=False)
