"""Qualitative examples: per compared pair, the cases with the largest per-case differences on one metric.

For each pair (a, b) of the run's comparisons, the per-case score difference ``b − a`` on the primary
metric is computed from the per-sample scores (each case's statistics aggregated on their own). The
``n`` cases where b is most clearly better and the ``n`` where a is (``higher_is_better`` decides what
"better" means) are shown with the reference, both outputs and every metric's per-case score — the
material of a paper's qualitative figure. Cases with no difference, or not scored by both systems, are
never chosen; ties are broken by case id so the choice is reproducible.

Both renderers escape every piece of report text (``<script>`` in a report is shown as text).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import pandas as pd

from radeval.errors import InputError
from radeval.leaderboard.table import format_number

#: Cases shown per pair and direction unless told otherwise.
DEFAULT_EXAMPLES = 5


@dataclass(frozen=True)
class Example:
    """One case of a pair: the texts and every metric's per-case score for both systems."""

    case_id: str
    difference: float
    reference: str
    output_a: str
    output_b: str
    scores_a: dict[str, float]
    scores_b: dict[str, float]


@dataclass(frozen=True)
class PairExamples:
    """The chosen cases of one pair; ``b_better`` / ``a_better`` are sorted by the size of the difference."""

    system_a: str
    system_b: str
    metric: str
    higher_is_better: bool
    b_better: tuple[Example, ...]
    a_better: tuple[Example, ...]
    n_compared: int


def select_examples(per_sample: pd.DataFrame, references: Mapping[str, str],
                    predictions: Mapping[str, Mapping[str, str]], pairs: Sequence[tuple[str, str]], *,
                    metric: str, higher_is_better: bool, n: int = DEFAULT_EXAMPLES) -> list[PairExamples]:
    """Pick the cases with the largest per-case differences for every pair.

    Args:
        per_sample: one row per (case_id, system) with one column of per-case scores per metric.
        references: case id -> reference report.
        predictions: system -> case id -> output.
        pairs: ``(system_a, system_b)`` pairs, differences are ``b − a``.
        metric: the metric the differences are taken on (a column of ``per_sample``).
        higher_is_better: its direction.
        n: cases per pair and direction (at least 1).

    Returns:
        one :class:`PairExamples` per pair, in the order of ``pairs``.

    Raises:
        InputError: ``metric`` is not a column, a system of a pair has no rows, ``n`` < 1.

    Example:
        >>> import pandas as pd
        >>> ps = pd.DataFrame({"case_id": ["1", "2", "1", "2"], "system": ["a", "a", "b", "b"],
        ...                    "m": [0.1, 0.5, 0.9, 0.5]})
        >>> ex = select_examples(ps, {"1": "r1", "2": "r2"}, {"a": {"1": "x", "2": "y"}, "b": {"1": "z", "2": "y"}},
        ...                      [("a", "b")], metric="m", higher_is_better=True, n=2)
        >>> [e.case_id for e in ex[0].b_better], ex[0].a_better
        (['1'], ())
    """
    if n < 1:
        raise InputError(f"examples per pair must be at least 1, got {n}")
    if metric not in per_sample.columns:
        raise InputError(f"examples: metric {metric!r} has no per-case scores")
    metric_cols = [c for c in per_sample.columns if c not in ("case_id", "system")]
    by_system = {str(s): g.set_index("case_id") for s, g in per_sample.groupby("system", sort=False)}
    out: list[PairExamples] = []
    for a, b in pairs:
        for s in (a, b):
            if s not in by_system:
                raise InputError(f"examples: system {s!r} has no per-case scores")
        sa, sb = by_system[a], by_system[b]
        ids = [i for i in sa.index if i in sb.index]
        diffs = []
        for case in ids:
            d = float(sb.at[case, metric]) - float(sa.at[case, metric])
            if not math.isnan(d) and d != 0.0:
                diffs.append((case, d))

        def build(case: str, d: float) -> Example:
            return Example(str(case), d, str(references.get(case, "")), str(predictions.get(a, {}).get(case, "")),
                           str(predictions.get(b, {}).get(case, "")),
                           {m: float(sa.at[case, m]) for m in metric_cols},
                           {m: float(sb.at[case, m]) for m in metric_cols})

        sign = 1.0 if higher_is_better else -1.0
        b_side = sorted((x for x in diffs if sign * x[1] > 0), key=lambda x: (-abs(x[1]), str(x[0])))[:n]
        a_side = sorted((x for x in diffs if sign * x[1] < 0), key=lambda x: (-abs(x[1]), str(x[0])))[:n]
        out.append(PairExamples(str(a), str(b), metric, bool(higher_is_better),
                                tuple(build(c, d) for c, d in b_side), tuple(build(c, d) for c, d in a_side),
                                len(ids)))
    return out


def _intro(metric: str, why: str) -> str:
    return (f"Per compared pair, the cases with the largest per-case differences on {metric} ({why}), in both "
            "directions, with the reference, both outputs and every metric's per-case score. Per-case scores "
            "aggregate one case's statistics on its own (for corpus metrics such as BLEU this is the sentence-"
            "level value, not a share of the corpus score).")


def _md_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|") \
        .replace("\r", " ").replace("\n", " ")


def examples_markdown(examples: Sequence[PairExamples], *, title: str, why: str) -> str:
    """The examples as Markdown (``examples.md``); report text is escaped (no raw HTML).

    Args:
        examples: from :func:`select_examples`.
        title: document heading.
        why: why this metric (e.g. "the suite's rank_by").

    Returns:
        the document.
    """
    lines = [f"# {_md_text(title)}", ""]
    if not examples:
        return "\n".join(lines + ["No pairs were compared.", ""])
    lines += [_md_text(_intro(examples[0].metric, why)), ""]
    for pair in examples:
        lines += [f"## {_md_text(pair.system_b)} vs {_md_text(pair.system_a)}", "",
                  f"{pair.n_compared} cases scored by both; difference = {_md_text(pair.system_b)} − "
                  f"{_md_text(pair.system_a)} on {_md_text(pair.metric)}.", ""]
        for winner, cases in ((pair.system_b, pair.b_better), (pair.system_a, pair.a_better)):
            lines += [f"### Where {_md_text(winner)} is better", ""]
            if not cases:
                lines += ["No case.", ""]
            for ex in cases:
                lines += [f"#### case `{_md_text(ex.case_id)}` (difference {ex.difference:+.4f})", "",
                          f"- **reference**: {_md_text(ex.reference)}",
                          f"- **{_md_text(pair.system_a)}**: {_md_text(ex.output_a)}",
                          f"- **{_md_text(pair.system_b)}**: {_md_text(ex.output_b)}", "",
                          f"| metric | {_md_text(pair.system_a)} | {_md_text(pair.system_b)} |", "|---|---:|---:|"]
                lines += [f"| {_md_text(m)} | {format_number(ex.scores_a[m])} | {format_number(ex.scores_b[m])} |"
                          for m in ex.scores_a]
                lines.append("")
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1f24;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.2rem}h3{font-size:1rem}
.case{border:1px solid #d0d7de;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}
.case dt{font-weight:600;margin-top:.3rem}.case dd{margin:0 0 .3rem 0;white-space:pre-wrap}
table{border-collapse:collapse;font-size:.85rem}th,td{padding:.2rem .5rem;border-bottom:1px solid #d0d7de}
td.num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#57606a;font-size:.85rem}
"""


def examples_html(examples: Sequence[PairExamples], *, title: str, why: str, leaderboard: str = "leaderboard.html"
                  ) -> str:
    """The examples as a self-contained HTML page (``examples.html``); every text is escaped.

    Args:
        examples: from :func:`select_examples`.
        title: page heading.
        why: why this metric.
        leaderboard: relative link back to the leaderboard.

    Returns:
        the HTML text.
    """
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{escape(title)}</title>",
           f"<style>{_CSS}</style></head><body>", f"<h1>{escape(title)}</h1>",
           f'<p><a href="{escape(leaderboard)}">back to the leaderboard</a></p>']
    if not examples:
        out.append("<p>No pairs were compared.</p>")
    else:
        out.append(f'<p class="note">{escape(_intro(examples[0].metric, why))}</p>')
    for k, pair in enumerate(examples):
        out.append(f'<h2 id="pair-{k}">{escape(pair.system_b)} vs {escape(pair.system_a)}</h2>'
                   f'<p class="note">{pair.n_compared} cases scored by both; difference = {escape(pair.system_b)} − '
                   f"{escape(pair.system_a)} on {escape(pair.metric)}.</p>")
        for winner, cases in ((pair.system_b, pair.b_better), (pair.system_a, pair.a_better)):
            out.append(f"<h3>Where {escape(winner)} is better</h3>")
            if not cases:
                out.append("<p>No case.</p>")
            for ex in cases:
                out.append(f'<div class="case" data-case="{escape(ex.case_id)}"><b>case {escape(ex.case_id)}</b> '
                           f"(difference {ex.difference:+.4f})<dl>"
                           f"<dt>reference</dt><dd>{escape(ex.reference)}</dd>"
                           f"<dt>{escape(pair.system_a)}</dt><dd>{escape(ex.output_a)}</dd>"
                           f"<dt>{escape(pair.system_b)}</dt><dd>{escape(ex.output_b)}</dd></dl>"
                           f"<table><thead><tr><th>metric</th><th>{escape(pair.system_a)}</th>"
                           f"<th>{escape(pair.system_b)}</th></tr></thead><tbody>")
                out += [f'<tr><td>{escape(m)}</td><td class="num">{format_number(ex.scores_a[m])}</td>'
                        f'<td class="num">{format_number(ex.scores_b[m])}</td></tr>' for m in ex.scores_a]
                out.append("</tbody></table></div>")
    out.append("</body></html>")
    return "\n".join(out)


__all__ = ["DEFAULT_EXAMPLES", "Example", "PairExamples", "examples_html", "examples_markdown", "select_examples"]
