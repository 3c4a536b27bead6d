"""One failed-case policy in score, compare and bench (radeval.stats.compare.FAILED_CASE_POLICY).

A reference made only of a zero-width space has no word pieces: BERTScore (the offline MiniLM preset) cannot
score that case for any system. Every entry point must leave the case out of that metric only, keep it for the
others, report it by case id, and give the same corpus score for the metric.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import radeval
from radeval.bench.runner import run_suite
from radeval.bench.suite import load_suite
from radeval.stats.compare import FAILED_CASE_POLICY

REFS = {f"c{i}": text for i, text in enumerate([
    "No pleural effusion.", "\u200b", "Heart size is normal.", "Small hiatal hernia.", "Mild emphysema.",
    "No consolidation.", "Coronary artery calcifications.", "The airways are patent."])}
SYSTEMS = {
    "a": {k: "No acute findings." for k in REFS},
    "b": {k: (v if k != "c1" else "Normal study.") for k, v in REFS.items()},
}
METRICS = ["bertscore_minilm", "rougeL"]


def _jsonl(path: Path, items: dict[str, str]) -> str:
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in items.items()), encoding="utf-8")
    return str(path)


def test_policy_is_documented():
    assert "left out of that metric for every system" in FAILED_CASE_POLICY
    assert "FAILED_CASE_POLICY" in (radeval.compare.__doc__ or "") or "FAILED_CASE_POLICY" in (
        radeval.stats.compare.compare_statistics.__doc__ or "")


def test_score_compare_and_bench_leave_the_case_out_of_that_metric_only(tmp_path):
    scored = {name: radeval.score(REFS, hyps, metrics=METRICS) for name, hyps in SYSTEMS.items()}
    for result in scored.values():
        assert [(f.metric, f.case_id) for f in result.failures] == [("bertscore_minilm", "c1")]
        corpus = result.corpus.set_index("metric")
        assert corpus.loc["bertscore_minilm", "n"] == len(REFS) - 1 and corpus.loc["rougeL", "n"] == len(REFS)

    compared = radeval.compare(REFS, SYSTEMS, metrics=METRICS, baseline="a", resamples=200)
    assert compared.excluded == {"bertscore_minilm": ("c1",)}
    table = compared.table.set_index(["system", "metric"])
    for name in SYSTEMS:
        for metric in METRICS:
            expected = scored[name].corpus.set_index("metric").loc[metric, "score"]
            assert table.loc[(name, metric), "score"] == pytest.approx(expected, rel=1e-12)

    suite_path = tmp_path / "s.yaml"
    suite_path.write_text(yaml.safe_dump({
        "name": "policy", "output_dir": str(tmp_path / "out"),
        "dataset": {"kind": "jsonl", "references": _jsonl(tmp_path / "refs.jsonl", REFS)},
        "systems": [{"name": n, "predictions": _jsonl(tmp_path / f"{n}.jsonl", h)} for n, h in SYSTEMS.items()],
        "metrics": METRICS, "baseline": "a", "significance": {"resamples": 200}}), encoding="utf-8")
    bench = run_suite(load_suite(suite_path), quiet=True)
    assert [line.split(":")[0] for line in bench.failures] == ["bertscore_minilm", "bertscore_minilm"]
    board = bench.leaderboard.table.set_index(["system", "metric"])
    board = board[board.index.get_level_values("metric").isin(METRICS)]  # not the output diagnostics
    np.testing.assert_allclose([board.loc[(n, m), "score"] for n in SYSTEMS for m in METRICS],
                               [table.loc[(n, m), "score"] for n in SYSTEMS for m in METRICS], rtol=1e-12)
    np.testing.assert_allclose(board["p"].dropna().to_numpy(), table["p"].dropna().to_numpy(), rtol=1e-12)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["excluded_cases"] == {"bertscore_minilm": ["c1"]}
    assert "c1" in (tmp_path / "out" / "significance.md").read_text(encoding="utf-8")
