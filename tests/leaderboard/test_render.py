"""Renderers on a hand-built leaderboard: groups, rank column, preamble insertion point, examples."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from radeval.errors import InputError
from radeval.leaderboard.examples import select_examples
from radeval.leaderboard.html import leaderboard_html
from radeval.leaderboard.json_export import SCHEMA_PATH, leaderboard_record
from radeval.leaderboard.markdown import leaderboard_csv, leaderboard_markdown
from radeval.leaderboard.schema_check import validate_document
from radeval.leaderboard.table import COLUMNS, Leaderboard, PreambleBlock
from radeval.stats.ranking import rank_groups


def _board(**kw) -> Leaderboard:
    scores = {("a", "bleu4"): 0.2, ("b", "bleu4"): 0.3, ("a", "novelty"): 0.5, ("b", "novelty"): 0.1,
              ("a", "green"): 0.4, ("b", "green"): 0.6, ("a", "mine"): 1.0, ("b", "mine"): 2.0}
    rows = []
    for (s, m), v in scores.items():
        rows.append({"system": s, "metric": m, "score": v, "ci_low": v - 0.1, "ci_high": v + 0.1,
                     "delta": 0.0 if s == "a" else v - scores[("a", m)], "delta_ci_low": math.nan,
                     "delta_ci_high": math.nan, "p": math.nan if s == "a" else 0.01,
                     "p_corrected": math.nan if s == "a" else 0.02, "significant": s == "b",
                     "higher_is_better": True, "metric_signature": f"{m}|v:0"})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    defaults = dict(title="t", table=table, systems=("a", "b"), metrics=("bleu4", "novelty", "green", "mine"),
                    baseline="a", significance_signature="test:bootstrap",
                    groups={"bleu4": "lexical", "novelty": "diagnostics", "green": "clinical", "mine": "custom"})
    defaults.update(kw)
    return Leaderboard(**defaults)


def test_markdown_one_table_per_group_in_group_order():
    md = leaderboard_markdown(_board())
    heads = [line for line in md.splitlines() if line.startswith("## ")]
    assert heads[:4] == ["## lexical", "## clinical", "## diagnostics", "## custom"]
    assert "| system | bleu4 |" in md and "| system | novelty |" in md
    assert "systems are listed in suite order and are not ranked" in md


def test_ranked_rows_and_preamble_first_and_escaped():
    pairs = pd.DataFrame({"system_a": ["a"], "system_b": ["b"], "metric": ["green"], "p_corrected": [0.01]})
    ranking = rank_groups({"a": 0.4, "b": 0.6}, pairs, metric="green", higher_is_better=True, alpha=0.05)
    block = PreambleBlock("What this run shows", ("b beats <b>a</b> | clearly",), ("item <i>",))
    board = _board(ranking=ranking, preamble=(block,))
    md = leaderboard_markdown(board)
    lines = md.splitlines()
    assert lines[2] == "## What this run shows" and "b beats \\<b>a\\</b> \\| clearly" in md
    assert md.index("## What this run shows") < md.index("## lexical")
    assert "| 1 | b | 0.3000" in md and "| 2 | a (baseline) |" in md
    html = leaderboard_html(board)
    assert "<h2>What this run shows</h2>" in html and "&lt;b&gt;a&lt;/b&gt;" in html and "<i>" not in html
    assert html.index("What this run shows") < html.index('id="leaderboard"')
    assert html.index('data-system="b"') < html.index('data-system="a"')
    csv = pd.read_csv(pd.io.common.StringIO(leaderboard_csv(board)))
    assert csv.set_index(["system", "metric"]).loc[("a", "green"), "rank"] == 2
    record = leaderboard_record(board)
    validate_document(record, SCHEMA_PATH)
    assert [m["group"] for m in record["metrics"]] == ["lexical", "clinical", "diagnostics", "custom"]


def test_select_examples_directions_ties_and_missing():
    ps = pd.DataFrame({"case_id": ["1", "2", "3", "4"] * 2, "system": ["a"] * 4 + ["b"] * 4,
                       "err": [0.5, 0.5, 0.2, 0.1, 0.1, 0.5, 0.6, math.nan]})
    refs = {str(i): f"r{i}" for i in range(1, 5)}
    preds = {"a": {str(i): f"a{i}" for i in range(1, 5)}, "b": {str(i): f"b{i}" for i in range(1, 5)}}
    (ex,) = select_examples(ps, refs, preds, [("a", "b")], metric="err", higher_is_better=False, n=3)
    assert [e.case_id for e in ex.b_better] == ["1"]  # lower is better: b's 0.1 vs a's 0.5
    assert [e.case_id for e in ex.a_better] == ["3"]  # case 2 has no difference, case 4 no score for b
    e = ex.b_better[0]
    assert (e.reference, e.output_a, e.output_b, e.difference) == ("r1", "a1", "b1", pytest.approx(-0.4))
    assert e.scores_a == {"err": 0.5} and e.scores_b == {"err": 0.1}
    with pytest.raises(InputError, match="metric 'bleu'"):
        select_examples(ps, refs, preds, [("a", "b")], metric="bleu", higher_is_better=True)
    with pytest.raises(InputError, match="system 'c'"):
        select_examples(ps, refs, preds, [("a", "c")], metric="err", higher_is_better=True)
