"""End-to-end `radeval bench` on prediction-file suites: output structure, marks, honesty about metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radeval.bench.runner import run_suite
from radeval.bench.suite import load_suite
from radeval.leaderboard.table import CSV_COLUMNS
from radeval.metrics.output_diagnostics import DIAGNOSTIC_METRICS

EXPECTED_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.html", "leaderboard.json", "examples.md",
                  "examples.html", "significance.md", "per_sample.csv", "forest.png", "metrics.png", "manifest.json")


def test_bench_writes_every_output(make_suite):
    suite = load_suite(make_suite(n=30))
    result = run_suite(suite, quiet=True)
    out = suite.output_dir
    for name in EXPECTED_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    board = pd.read_csv(out / "leaderboard.csv")
    assert list(board.columns) == list(CSV_COLUMNS)  # the long table + the rank group column
    assert len(board) == 3 * (3 + len(DIAGNOSTIC_METRICS))  # systems × (metrics + the degenerate-output diagnostics)
    per_sample = pd.read_csv(out / "per_sample.csv")
    assert len(per_sample) == 3 * 30 and set(per_sample["system"]) == {"poor", "medium", "good"}
    # The baseline has no test against itself; the clearly better system is significant on every metric.
    base = board[board["system"] == "poor"]
    assert base["p"].isna().all() and (base["delta"] == 0).all()
    diagnostics = board[board["metric"].isin(DIAGNOSTIC_METRICS)]
    # the diagnostics get CIs but stay out of the correction family (Holm's factor below stays 6)
    assert diagnostics["p_corrected"].isna().all() and not diagnostics["significant"].any()
    assert (diagnostics["ci_low"] <= diagnostics["score"]).all()
    good = board[(board["system"] == "good") & ~board["metric"].isin(DIAGNOSTIC_METRICS)]
    # B = 500: the smallest sacreBLEU-style p is 1/501; Holm over 2 systems × 3 metrics multiplies it by 6.
    assert good["p"].to_numpy() == pytest.approx([1 / 501] * 3)
    assert (good["p_corrected"] < 0.05).all() and good["significant"].all() and (good["delta"] > 0).all()
    assert all(result.leaderboard.mark("good", m) == "▲" for m in ("bleu4", "rougeL", "cider"))
    md = (out / "leaderboard.md").read_text()
    assert "▲" in md and "Reported in the literature (not reproduced here)" in md and "RAD3D-Prefix" in md
    sig = (out / "significance.md").read_text()
    assert "test:bootstrap" in sig and "seed:12345" in sig and "correction:holm" in sig
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_cases"] == 30 and manifest["baseline"] == "poor"
    assert set(manifest["signatures"]) == {"bleu4", "rougeL", "cider", *DIAGNOSTIC_METRICS}
    # the fixture's "poor" system writes short, repeated texts: flagged; "good" is not
    assert "poor" in manifest["degenerate_output"] and "good" not in manifest["degenerate_output"]
    assert "## Degenerate output" in md and "⚠ **poor**" in md
    assert "numpy" in manifest["versions"]


def test_corpus_scores_equal_radeval_score(make_suite):
    """The leaderboard's point estimates are the same numbers `radeval.score` gives."""
    import radeval
    from radeval.io import read_reports

    path = make_suite(n=25)
    suite = load_suite(path)
    run_suite(suite, quiet=True)
    board = pd.read_csv(suite.output_dir / "leaderboard.csv")
    refs = read_reports(suite.dataset.references)
    for system in suite.systems:
        expected = radeval.score(refs, read_reports(system.predictions), metrics=["bleu4", "rougeL", "cider"]).as_dict()
        got = board[board["system"] == system.name].set_index("metric")["score"].to_dict()
        for metric, value in expected.items():
            assert got[metric] == pytest.approx(value, abs=1e-12)


def test_missing_weights_metric_is_listed_not_dropped(make_suite):
    suite = load_suite(make_suite(n=12, metrics=["rougeL", "bertscore"]))
    result = run_suite(suite, quiet=True)
    assert "bertscore" in result.unavailable
    assert "radeval fetch" in result.unavailable["bertscore"]
    md = (suite.output_dir / "leaderboard.md").read_text()
    assert "Metrics not computed" in md and "bertscore" in md and "radeval fetch" in md


def test_misaligned_system_is_an_error_naming_it(make_suite, tmp_path):
    path = make_suite(n=10, systems={"short": {"case000": "No effusion."}})
    with pytest.raises(Exception, match="short"):
        run_suite(load_suite(path), quiet=True)


def test_cli_bench_validate_and_run(make_suite):
    path = make_suite(n=10)
    env_python = sys.executable
    ok = subprocess.run([env_python, "-m", "radeval.cli.main", "bench", str(path), "--validate"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "valid (3 systems, 3 metrics)" in ok.stdout
    run = subprocess.run([env_python, "-m", "radeval.cli.main", "bench", str(path), "--quiet"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "| system |" in run.stdout and "wrote" in run.stdout
    bad = Path(path).with_name("bad.yaml")
    data = yaml.safe_load(Path(path).read_text())
    data["metrics"] = ["nope"]
    bad.write_text(yaml.safe_dump(data))
    err = subprocess.run([env_python, "-m", "radeval.cli.main", "bench", str(bad)], capture_output=True, text=True)
    assert err.returncode == 2 and "unknown metric 'nope'" in err.stderr
