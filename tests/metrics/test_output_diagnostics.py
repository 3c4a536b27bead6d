"""Degenerate-output diagnostics on constructed systems: constant, empty, looping and healthy output."""

from __future__ import annotations

import numpy as np
import pytest

from radeval.leaderboard.diagnostic_flags import board_flags, flag_block_html, flag_block_markdown
from radeval.leaderboard.markdown import _md_escape, leaderboard_markdown
from radeval.leaderboard.table import Leaderboard
from radeval.metrics import get_metric
from radeval.metrics.output_diagnostics import (DIAGNOSTIC_METRICS, THRESHOLDS, DistinctShare, LoopShare,
                                                degenerate_flags, diagnostic_values, looped_mask, tokens)
from radeval.stats.compare import compare

SENTENCES = ["No pleural effusion.", "Heart size is normal.", "A {s} mm nodule in the {side} upper lobe.",
             "Mild emphysema in both upper lobes.", "Coronary artery wall calcification is seen.",
             "The trachea and main bronchi are patent.", "There is a {s} mm pleural effusion on the {side}."]


def _report(rng: np.random.Generator) -> str:
    picks = rng.choice(len(SENTENCES), size=4, replace=False)
    return " ".join(SENTENCES[int(k)].format(s=int(rng.integers(5, 30)), side=("right", "left")[int(rng.integers(2))])
                    for k in picks)


N = 40
_rng = np.random.default_rng(3)
REFS = {f"c{i:02d}": _report(_rng) for i in range(N)}
HEALTHY = {k: _report(_rng) for k in REFS}
CONSTANT = {k: "No acute cardiopulmonary abnormality. Heart size is normal." for k in REFS}
EMPTY = {k: ("" if i % 3 else "Heart size is normal. No pleural effusion.") for i, k in enumerate(REFS)}
LOOPING = {k: (HEALTHY[k] + " A_CX" + "-CX-100" * 12 if i % 2 else HEALTHY[k]) for i, k in enumerate(REFS)}


def _values(hyps: dict[str, str]) -> dict[str, float]:
    return diagnostic_values(list(REFS.values()), [hyps[k] for k in REFS])


def test_healthy_output_is_not_flagged() -> None:
    v = _values(HEALTHY)
    assert v["distinct_share"] == 1.0 and v["empty_share"] == 0.0 and v["loop_share"] == 0.0
    assert 0.8 < v["length_ratio"] < 1.25
    assert degenerate_flags({"healthy": v}) == {}


def test_constant_output_is_flagged_for_distinctness() -> None:
    v = _values(CONSTANT)
    assert v["distinct_share"] == pytest.approx(1 / N)
    flags = degenerate_flags({"constant": v})
    assert list(flags) == ["constant"] and flags["constant"][0].startswith("distinct_share = 0.0250 (< 0.5")


def test_empty_output_is_flagged_and_lengths_are_short() -> None:
    v = _values(EMPTY)
    n_empty = sum(1 for i in range(N) if i % 3)
    assert v["empty_share"] == pytest.approx(n_empty / N)
    # the empty reports are all one distinct text, the rest are one other: 2 distinct of 40
    assert v["distinct_share"] == pytest.approx(2 / N)
    reasons = " ".join(degenerate_flags({"empty": v})["empty"])
    assert "empty_share" in reasons and "length_ratio" in reasons and "distinct_share" in reasons


def test_looping_output_is_flagged_for_loops_only() -> None:
    v = _values(LOOPING)
    assert v["distinct_share"] == 1.0 and v["empty_share"] == 0.0
    assert v["loop_share"] > 0.3
    flags = degenerate_flags({"looping": v})["looping"]
    assert [f.split(" =")[0] for f in flags] == ["loop_share"]


def test_loop_definition() -> None:
    # CX-100 is four tokens per unit: whitespace tokenisation would have missed it
    assert tokens("A_CX-100-CX") == ["A_CX", "-", "100", "-", "CX"]
    toks = tokens("Normal. A_CX" + "-CX-100" * 3)
    mask = looped_mask(toks)
    assert not mask[:3].any() and mask[-9:].all()
    # two copies are not a loop, three are; units longer than LOOP_MAX_PERIOD (32) tokens are not loops
    assert not looped_mask("a b a b".split()).any()
    assert looped_mask("a b a b a b".split()).all()
    long_unit = [f"w{i}" for i in range(33)]
    assert not looped_mask(long_unit * 3).any()
    assert looped_mask(long_unit[:32] * 3).all()
    # a sentence loop (issue 15's demo R2GenGPT output: a 13-token sentence repeated) is a loop
    sentence = tokens("The chest CT volume is a good representation of the thoracic cavity.")
    assert len(sentence) == 13 and looped_mask(sentence * 3).all()
    # ordinary radiology prose has no loops
    assert not looped_mask(tokens(" ".join(REFS.values()))).any()
    assert LoopShare().corpus_score(["x"], [""]) == 0.0


def test_distinct_share_statistics_are_exact_on_the_full_sample() -> None:
    m = DistinctShare()
    hyps = ["a", "a ", "A", "b", "c", "c"]  # whitespace and case do not make a report distinct
    stats = m.statistics(["r"] * 6, hyps)
    assert stats[:, 0].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1.0, 0.5, 0.5])
    assert m.aggregate(stats.sum(axis=0)) == pytest.approx(3 / 6)
    assert not m.cacheable and m.group == "diagnostics"


def test_every_diagnostic_is_registered_grouped_and_has_a_threshold() -> None:
    ruled = {rule.metric for rule in THRESHOLDS}
    for name in DIAGNOSTIC_METRICS:
        metric = get_metric(name)
        assert metric.name == name and metric.group == "diagnostics" and name in ruled
        assert metric.signature.startswith(name + "|")


def test_diagnostics_get_bootstrap_cis_and_flags_reach_the_leaderboard() -> None:
    systems = {"healthy": HEALTHY, "constant": CONSTANT, "empty": EMPTY, "looping": LOOPING}
    result = compare(REFS, systems, metrics=list(DIAGNOSTIC_METRICS), resamples=200, seed=1, progress=False)
    table = result.table
    loop = table[(table.system == "looping") & (table.metric == "loop_share")].iloc[0]
    assert loop.ci_low < loop.score < loop.ci_high and loop.ci_low > 0.1
    healthy = table[(table.system == "healthy") & (table.metric == "distinct_share")].iloc[0]
    assert healthy.ci_low == healthy.ci_high == 1.0
    board = Leaderboard(title="t", table=table.assign(p_corrected=table.p, significant=False),
                        systems=tuple(systems), metrics=tuple(DIAGNOSTIC_METRICS), baseline="healthy",
                        significance_signature="sig")
    flags = board_flags(board)
    assert list(flags) == ["constant", "empty", "looping"]
    md = leaderboard_markdown(board)
    assert "## Degenerate output" in md and "⚠ **looping**" in md and "⚠ **healthy**" not in md
    assert "\n".join(flag_block_markdown(board, _md_escape)) in md and "(\\< 0.5: most reports" in md
    html = flag_block_html(board)
    assert "⚠ constant" in html and "healthy" not in html.split("</ul>")[0]


def test_flag_block_for_a_clean_board_and_a_board_without_diagnostics() -> None:
    import pandas as pd

    rows = [{"system": s, "metric": m, "score": 1.0 if m == "distinct_share" else (0.0 if "share" in m else 1.0),
             "ci_low": 0.0, "ci_high": 1.0} for s in ("a", "b") for m in DIAGNOSTIC_METRICS]
    board = Leaderboard(title="t", table=pd.DataFrame(rows), systems=("a", "b"), metrics=DIAGNOSTIC_METRICS,
                        baseline="a", significance_signature="sig")
    assert board_flags(board) == {} and "No system is flagged (2 checked)." in flag_block_markdown(board)
    bare = Leaderboard(title="t", table=pd.DataFrame(rows[:0], columns=["system", "metric", "score"]),
                       systems=("a",), metrics=("bleu4",), baseline="a", significance_signature="sig")
    assert flag_block_markdown(bare) == [] and flag_block_html(bare) == ""
