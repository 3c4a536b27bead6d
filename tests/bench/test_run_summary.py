"""The "what this run shows / does not show" section: written from the run's own numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radeval.bench.run_facts import label_head_facts, prior_contrast
from radeval.leaderboard.markdown import leaderboard_markdown
from radeval.leaderboard.run_summary import run_summary_markdown, run_summary_text
from radeval.leaderboard.table import Leaderboard
from radeval.metrics import get_metric


def _board(facts: dict, flagged: bool = False) -> Leaderboard:
    rows = []
    for system in ("baseline", "v2", "v3"):
        rows.append({"system": system, "metric": "bleu4", "score": 0.1, "ci_low": 0.05, "ci_high": 0.15,
                     "delta": 0.0, "significant": False, "higher_is_better": True, "metric_signature": "bleu4|x"})
        distinct = 0.1 if (flagged and system == "v2") else 1.0
        rows.append({"system": system, "metric": "distinct_share", "score": distinct, "ci_low": distinct,
                     "ci_high": distinct, "delta": 0.0, "significant": False, "higher_is_better": True,
                     "metric_signature": "distinct_share|x"})
    return Leaderboard(title="demo", table=pd.DataFrame(rows), systems=("baseline", "v2", "v3"),
                       metrics=("bleu4", "distinct_share"), baseline="baseline", significance_signature="sig",
                       facts=facts)


def test_section_states_cases_auroc_flags_and_the_contrast() -> None:
    facts = {"n_cases": 42, "phantom": True,
             "label_head": {"macro_auroc": 0.81, "n_labels_scored": 18, "n_labels": 18, "n_cases": 42},
             "prior_contrast": [{"a": "v2", "b": "v3", "metric": "bleu4", "score_a": 0.1, "score_b": 0.12,
                                 "delta": 0.02, "ci_low": -0.01, "ci_high": 0.05, "p": 0.21, "n": 42}]}
    text = "\n".join(run_summary_markdown(_board(facts, flagged=True)))
    assert "**42 evaluation cases**" in text
    assert "macro AUROC **0.810**" in text and "carry signal" in text
    assert "Degenerate output** in 1 of 3 systems (v2)" in text
    assert "no significant difference between v3 and v2 on bleu4 at n = 42" in text and "p = 0.2100" in text
    assert "synthetic phantoms" in text and "median 95% CI of BLEU-4 is 0.1000 wide" in text
    md = leaderboard_markdown(_board(facts))
    assert md.index("## What this run shows") < md.index("| system |")  # at the top
    assert "No system is flagged for degenerate output" in md
    terminal = run_summary_text(_board(facts))
    assert terminal[0].startswith("  3 systems scored on 42 evaluation cases") and len(terminal) == 4


def test_section_says_when_priors_are_at_chance_and_is_absent_without_facts() -> None:
    facts = {"n_cases": 11, "label_head": {"macro_auroc": 0.55, "n_labels_scored": 17, "n_labels": 18,
                                           "n_cases": 11}}
    text = "\n".join(run_summary_markdown(_board(facts)))
    assert "near chance, so V-3 vs V-2 cannot show whether priors help" in text
    assert "V-3 vs V-2 (do" not in text  # no contrast computed: no sentence about it
    assert run_summary_markdown(_board({})) == []


def test_label_head_facts_average_only_labels_with_both_classes() -> None:
    rows = [{"label": "a", "n_pos": 3, "n_neg": 7, "auroc": 0.9}, {"label": "b", "n_pos": 0, "n_neg": 10,
                                                                    "auroc": float("nan")},
            {"label": "c", "n_pos": 5, "n_neg": 5, "auroc": 0.7}, {"label": "macro", "n_pos": 8, "n_neg": 22,
                                                                   "auroc": 0.8}]
    facts = label_head_facts(rows)
    assert facts == {"macro_auroc": pytest.approx(0.8), "n_labels_scored": 2, "n_labels": 3, "n_cases": 10}


def test_prior_contrast_is_a_paired_test_of_v3_against_v2() -> None:
    metric = get_metric("empty_share")  # a [value, 1] mean: any per-sample values aggregate to their mean
    rng = np.random.default_rng(0)
    n = 40
    v2 = rng.uniform(0.2, 0.4, n)
    stats = {"rougeL": np.stack([np.stack([s, np.ones(n)], 1) for s in (v2 - 0.1, v2, v2 + 0.05)])}
    names = ["base", "two", "three"]
    models = {"base": "baseline", "two": "rad3d-prefix-v2", "three": "rad3d-prefix-v3"}
    out = prior_contrast(models, stats, {"rougeL": metric}, names, resamples=500, seed=1)
    assert len(out) == 1 and out[0]["a"] == "two" and out[0]["b"] == "three" and out[0]["n"] == n
    assert out[0]["delta"] == pytest.approx(0.05) and out[0]["p"] < 0.01 and out[0]["ci_low"] > 0
    assert prior_contrast({"base": "baseline"}, stats, {"rougeL": metric}, names, resamples=500, seed=1) == []


def test_prior_contrast_leads_with_the_suites_primary_metric() -> None:
    """The summary's verdict is about the first contrast: the suite's ``rank_by`` metric when it names one (the
    demo ranks by label F1), else BLEU-4; a primary metric outside the default list is added."""
    metric = get_metric("empty_share")
    rng = np.random.default_rng(0)
    n = 30
    per = {m: np.stack([np.stack([rng.uniform(0, 1, n), np.ones(n)], 1) for _ in range(2)])
           for m in ("bleu4", "label_f1_macro", "rougeL", "meteor")}
    names = ["two", "three"]
    models = {"two": "rad3d-prefix-v2", "three": "rad3d-prefix-v3"}
    metrics = {m: metric for m in per}
    order = lambda **kw: [c["metric"] for c in prior_contrast(models, per, metrics, names, resamples=200, seed=1,  # noqa: E731
                                                               **kw)]
    assert order() == ["bleu4", "label_f1_macro", "rougeL"]
    assert order(headline="label_f1_macro") == ["label_f1_macro", "bleu4", "rougeL"]
    assert order(headline="meteor") == ["meteor", "bleu4", "label_f1_macro", "rougeL"]


def test_contrast_prints_a_tiny_significant_difference_distinguishably_from_zero() -> None:
    # issue 15 regression: the demo printed "bleu4 Δ = +0.0000 [+0.0000, +0.0000], p = 0.0020 ... significantly
    # better"; the digits must show the difference the test found, with the scores and a relative size.
    facts = {"n_cases": 42,
             "prior_contrast": [{"a": "v2", "b": "v3", "metric": "bleu4", "score_a": 0.00012, "score_b": 0.000151,
                                 "delta": 0.000031, "ci_low": 0.000011, "ci_high": 0.000052, "p": 0.002, "n": 42}]}
    text = "\n".join(run_summary_markdown(_board(facts)))
    assert "+0.0000 " not in text and "+0.0000]" not in text and "+0.0000," not in text
    assert "Δ = +0.000031" in text and "[+0.000011, +0.000052]" in text
    assert "0.000120 (V-2) vs 0.000151 (V-3)" in text and "+25.8% of V-2's score" in text
    assert "v3 is significantly better than v2" in text and "p = 0.0020" in text
    ordinary = {"n_cases": 42,
                "prior_contrast": [{"a": "v2", "b": "v3", "metric": "bleu4", "score_a": 0.1, "score_b": 0.12,
                                    "delta": 0.02, "ci_low": -0.01, "ci_high": 0.05, "p": 0.21, "n": 42}]}
    assert "Δ = +0.0200 [-0.0100, +0.0500]" in "\n".join(run_summary_markdown(_board(ordinary)))


def test_contrast_with_a_degenerate_system_is_called_not_interpretable() -> None:
    # issue 15: the eight-system demo called a BLEU-4 difference of 3e-11 between a looping V-3 and a V-2 that
    # writes one report for every case "significantly better" (p = 0.001); the numbers stay, the verdict changes.
    facts = {"n_cases": 42,
             "prior_contrast": [{"a": "v2", "b": "v3", "metric": "bleu4", "score_a": 6.9e-11, "score_b": 9.9e-11,
                                 "delta": 3.0e-11, "ci_low": 1.6e-11, "ci_high": 4.6e-11, "p": 0.001, "n": 42}]}
    flagged = "\n".join(run_summary_markdown(_board(facts, flagged=True)))
    assert ("V-3 vs V-2 (do diagnostic priors help?): not interpretable: v2 is flagged for degenerate output, so "
            "this test says nothing about whether priors help (on bleu4, v3 is significantly better than v2") in flagged
    assert "p = 0.0010" in flagged
    clean = "\n".join(run_summary_markdown(_board(facts)))
    assert "not interpretable" not in clean and "on bleu4, v3 is significantly better than v2" in clean
