"""The "what this run shows / does not show" section at the top of leaderboard.md, written from the run's numbers.

Reads ``Leaderboard.facts`` (filled by :mod:`radeval.bench.run_facts`) and the diagnostics flags; every sentence
is conditional on a number of this run, so a run whose priors are at chance or whose systems loop says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Any

from radeval.leaderboard.diagnostic_flags import board_flags
from radeval.leaderboard.table import Leaderboard, format_p

#: Macro AUROC from which the priors are described as carrying signal (issue 15's target), and below which they
#: are described as near chance.
PRIORS_USEFUL_AUROC = 0.75
PRIORS_CHANCE_AUROC = 0.6


def _ci_width(board: Leaderboard, metric: str) -> float | None:
    rows = board.table[board.table["metric"] == metric]
    if rows.empty:
        return None
    width = (rows["ci_high"] - rows["ci_low"]).median()
    return None if math.isnan(float(width)) else float(width)


def _auroc_line(head: dict[str, Any]) -> str:
    auc = float(head.get("macro_auroc", float("nan")))
    where = (f"{head.get('n_cases', '?')} held-out cases, {head.get('n_labels_scored', '?')} of "
             f"{head.get('n_labels', '?')} labels with positives")
    if math.isnan(auc):
        return f"The label head's held-out AUROC could not be computed ({where})."
    if auc >= PRIORS_USEFUL_AUROC:
        verdict = "the diagnostic priors carry signal"
    elif auc < PRIORS_CHANCE_AUROC:
        verdict = "the diagnostic priors are near chance, so V-3 vs V-2 cannot show whether priors help"
    else:
        verdict = "the diagnostic priors carry weak signal"
    return f"Label head (priors of V-3): macro AUROC **{auc:.3f}** ({where}): {verdict}."


def _decimals(*values: float) -> int:
    """Decimal places that show the smallest non-zero magnitude among ``values`` with 2 significant digits (>= 4).

    A V-3 vs V-2 difference of 3e-5 printed with 4 decimals reads "+0.0000" next to "significant"; this keeps
    every printed difference and bound distinguishable from zero when it is not zero.
    """
    finite = [abs(v) for v in values if v and math.isfinite(v)]
    if not finite:
        return 4
    return int(min(12, max(4, 1 - math.floor(math.log10(min(finite))))))


def _contrast_lines(contrasts: list[dict[str, Any]], alpha: float = 0.05,
                    flagged: Collection[str] = ()) -> list[str]:
    """The V-3 vs V-2 line; a contrast involving a system in ``flagged`` is called not interpretable.

    A bootstrap on the near-zero BLEU-4 of two looping systems can find a "significant" difference of 3e-11
    (the issue-15 demo did); the test is right about those numbers and says nothing about priors.
    """
    if not contrasts:
        return []
    parts = []
    for c in contrasts:
        d = _decimals(c["delta"], c["ci_low"], c["ci_high"])
        scores = _decimals(c["score_a"], c["score_b"], c["delta"])
        rel = (f" ({100 * c['delta'] / abs(c['score_a']):+.1f}% of V-2's score)"
               if c["score_a"] and math.isfinite(c["score_a"]) else "")
        parts.append(f"{c['metric']} {c['score_a']:.{scores}f} (V-2) vs {c['score_b']:.{scores}f} (V-3): "
                     f"Δ = {c['delta']:+.{d}f} [{c['ci_low']:+.{d}f}, {c['ci_high']:+.{d}f}]{rel}, "
                     f"p = {format_p(c['p'])}")
    head = contrasts[0]
    if head["p"] < alpha:
        direction = "better" if head["delta"] > 0 else "worse"
        verdict = (f"on {head['metric']}, {head['b']} is significantly {direction} than {head['a']} "
                   f"(paired bootstrap, n = {head['n']}, uncorrected single contrast)")
    else:
        verdict = (f"no significant difference between {head['b']} and {head['a']} on {head['metric']} at "
                   f"n = {head['n']} (paired bootstrap, uncorrected single contrast)")
    degenerate = [s for s in (head["a"], head["b"]) if s in flagged]
    if degenerate:
        verb = "is" if len(degenerate) == 1 else "are"
        verdict = (f"not interpretable: {' and '.join(degenerate)} {verb} flagged for degenerate output, so this "
                   f"test says nothing about whether priors help ({verdict})")
    return [f"- V-3 vs V-2 (do diagnostic priors help?): {verdict}. " + "; ".join(parts) + "."]


def run_summary_markdown(board: Leaderboard, escape_text: Callable[[str], str] = lambda s: s) -> list[str]:
    """Markdown lines of the section (empty when the board carries no run facts).

    Args:
        board: the leaderboard; ``board.facts`` holds ``n_cases``, optionally ``label_head``, ``prior_contrast``
            and ``phantom``.
        escape_text: the renderer's escaping for names.
    """
    facts = dict(getattr(board, "facts", {}) or {})
    if not facts:
        return []
    n = int(facts.get("n_cases", 0))
    shows = [f"- {len(board.systems)} systems scored on **{n} evaluation cases**; every score has a 95% "
             "bootstrap CI and the paired tests are against the baseline."]
    head = facts.get("label_head")
    if head:
        shows.append("- " + _auroc_line(head))
    flags = board_flags(board)
    if flags:
        shows.append(f"- **Degenerate output** in {len(flags)} of {len(board.systems)} systems ("
                     + ", ".join(escape_text(s) for s in flags) + "): their scores do not describe working report "
                     "generation (see *Degenerate output* below).")
    else:
        shows.append(f"- No system is flagged for degenerate output (distinct, empty, looping or mis-sized reports; "
                     f"{len(board.systems)} checked).")
    shows += [escape_text(line) for line in _contrast_lines(list(facts.get("prior_contrast", [])), flagged=flags)]
    width = _ci_width(board, "bleu4")
    not_shows = []
    if facts.get("phantom"):
        not_shows.append("- Anything clinical: the volumes are synthetic phantoms and the reports template-written; "
                         "the systems are tiny and trained for minutes.")
    not_shows.append("- Parity with published numbers: the literature section is copied, not reproduced.")
    if width is not None:
        not_shows.append(f"- Differences smaller than the CIs: at n = {n} the median 95% CI of BLEU-4 is "
                         f"{width:.4f} wide.")
    return ["## What this run shows", "", *shows, "", "## What this run does not show", "", *not_shows, ""]


def run_summary_text(board: Leaderboard) -> list[str]:
    """The "shows" half of the section as plain terminal lines (for ``radeval bench``'s summary)."""
    lines = run_summary_markdown(board)
    if not lines:
        return []
    shows = lines[2:lines.index("## What this run does not show") - 1]
    return ["  " + line.replace("**", "").replace("- ", "", 1) for line in shows]
