"""A run's shareable outputs: rank groups, leaderboard.json against its schema, examples, no local paths."""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from radeval.bench.runner import run_suite
from radeval.bench.suite import load_suite
from radeval.errors import InputError
from radeval.leaderboard.json_export import SCHEMA_PATH
from radeval.leaderboard.schema_check import schema_errors, validate_document

SHAREABLE = ("leaderboard.md", "leaderboard.csv", "leaderboard.html", "leaderboard.json", "significance.md",
             "examples.md", "examples.html")


def _identities(tmp_path: Path, home: Path) -> dict[str, str]:
    names = {"RADEVAL_HOME": str(home), "tmp_path": str(tmp_path), "tempdir": tempfile.gettempdir() + os.sep,
             "home": str(Path.home()), "hostname": socket.gethostname()}
    for label, getter in (("USER", lambda: os.environ.get("USER", "")), ("getlogin", os.getlogin),
                          ("getuser", getpass.getuser)):
        try:
            names[label] = getter()
        except OSError:
            continue
    return {k: v for k, v in names.items() if v}


def test_shareable_outputs_carry_no_local_paths(make_suite, tmp_path, monkeypatch):
    home = tmp_path / "radeval-home"
    monkeypatch.setenv("RADEVAL_HOME", str(home))
    suite = load_suite(make_suite(n=12, metrics=["bleu4", "rougeL", "green", "bertscore_roberta"],
                                  extra={"rank_by": "rougeL"}))
    result = run_suite(suite, quiet=True)
    assert set(result.unavailable) == {"green", "bertscore_roberta"}
    # the run log (terminal summary) and the manifest keep where it looked
    assert str(home) in result.unavailable["green"]
    manifest = json.loads((suite.output_dir / "manifest.json").read_text())
    assert str(home) in manifest["unavailable_metrics"]["bertscore_roberta"]
    identities = _identities(tmp_path, home)
    for name in SHAREABLE:
        text = (suite.output_dir / name).read_text(encoding="utf-8")
        for label, value in identities.items():
            if label in {"USER", "getlogin", "getuser", "hostname"}:
                found = re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text)
            else:
                found = value in text
            assert not found, f"{name} contains the {label} {value!r}"
        assert "Looked in" not in text and "Hugging Face cache" not in text, name
    md = (suite.output_dir / "leaderboard.md").read_text()
    notes = [line for line in md.splitlines() if line.startswith("- **green**") or
             line.startswith("- **bertscore_roberta**")]
    assert notes == ["- **green**: not available offline: run `radeval fetch green` on a machine with network "
                     "access (where it looked: run log / manifest.json)",
                     "- **bertscore_roberta**: not available offline: run `radeval fetch bertscore_roberta` on a "
                     "machine with network access (where it looked: run log / manifest.json)"]
    html = (suite.output_dir / "leaderboard.html").read_text()
    assert html.count("<code>radeval fetch green</code>") == 1


def test_rank_groups_in_every_output_and_json_schema(make_suite):
    # "good" repeats the references, "good_twin" too except one case: no test separates them; medium and
    # poor are far apart.
    refs_like = make_suite(n=25)  # writes refs first; read them back to build the twin
    data = Path(refs_like).parent / "data"
    refs = {json.loads(l)["id"]: json.loads(l)["text"] for l in (data / "refs.jsonl").read_text().splitlines()}
    twin = dict(refs)
    twin["case000"] = "No pleural effusion."
    suite = load_suite(make_suite(n=25, systems={"good_twin": twin}, extra={"rank_by": "rougeL"}))
    result = run_suite(suite, quiet=True)
    ranking = result.leaderboard.ranking
    assert ranking is not None and ranking.metric == "rougeL"
    assert ranking.order[:2] == ("good", "good_twin") and ranking.order[2:] == ("medium", "poor")
    assert ranking.groups == {"good": 1, "good_twin": 1, "medium": 2, "poor": 3}

    out = suite.output_dir
    record = json.loads((out / "leaderboard.json").read_text())
    validate_document(record, SCHEMA_PATH)  # jsonschema when installed, else the small checker
    assert schema_errors(json.loads(SCHEMA_PATH.read_text()), record) == []
    assert record["suite"] == "tiny" and record["radeval_version"]
    assert [(s["name"], s["rank"], s["position"]) for s in record["systems"]] == [
        ("good", 1, 1), ("good_twin", 1, 2), ("medium", 2, 3), ("poor", 3, 4)]
    assert record["rank_rule"] == ranking.rule and "6 pairs" in record["ranking"]["family"]
    csv = pd.read_csv(out / "leaderboard.csv")
    got = csv[csv["metric"] == "bleu4"].set_index("system")
    assert got.loc["good_twin", "rank"] == 1 and got.loc["poor", "rank"] == 3
    # the JSON numbers are the CSV numbers
    first = record["systems"][2]["results"]["cider"]
    row = csv[(csv["system"] == "medium") & (csv["metric"] == "cider")].iloc[0]
    assert first["score"] == pytest.approx(row["score"], abs=1e-12) and first["mark"] == "better"
    md = (out / "leaderboard.md").read_text()
    assert "| rank | system | bleu4 | rougeL | cider |" in md and "| 1 | good_twin |" in md
    assert "## lexical" in md and "Ranked by rougeL" in md and "[examples.md](examples.md)" in md
    html = (out / "leaderboard.html").read_text()
    assert 'href="examples.html"' in html and "Ranked by rougeL" in html
    # a broken document is caught, naming where
    record["systems"][0]["rank"] = "first"
    del record["suite"]
    errors = schema_errors(json.loads(SCHEMA_PATH.read_text()), record)
    assert any("$.systems[0].rank" in e for e in errors) and any("'suite'" in e for e in errors)
    with pytest.raises(InputError, match="schema violation"):
        validate_document(record, SCHEMA_PATH)


def test_without_rank_by_suite_order_is_kept_and_said(make_suite):
    suite = load_suite(make_suite(n=10))
    result = run_suite(suite, quiet=True)
    assert result.leaderboard.ranking is None
    out = suite.output_dir
    md = (out / "leaderboard.md").read_text()
    assert "systems are listed in suite order and are not ranked" in md and "| rank |" not in md
    record = json.loads((out / "leaderboard.json").read_text())
    validate_document(record, SCHEMA_PATH)
    assert record["ranking"] is None and [s["name"] for s in record["systems"]] == ["poor", "medium", "good"]
    assert all(s["rank"] is None for s in record["systems"])
    assert pd.read_csv(out / "leaderboard.csv")["rank"].isna().all()


def test_rank_by_a_metric_that_could_not_run(make_suite):
    suite = load_suite(make_suite(n=8, metrics=["rougeL", "green"], extra={"rank_by": "green"}))
    result = run_suite(suite, quiet=True)
    assert result.leaderboard.ranking is None
    assert "green (`rank_by`) was not computed" in (suite.output_dir / "leaderboard.md").read_text()


def test_rank_by_must_be_a_suite_metric(make_suite):
    with pytest.raises(InputError, match="rank_by: 'meteor' is not one of the suite's metrics"):
        load_suite(make_suite(n=5, extra={"rank_by": "meteor"}))


def test_examples_are_escaped_and_show_both_directions(make_suite):
    evil = "<script>window.__pwned=1</script> No pleural effusion."
    preds = {f"case{i:03d}": evil for i in range(15)}
    suite = load_suite(make_suite(n=15, systems={"evil": preds}, extra={"rank_by": "rougeL"}))
    run_suite(suite, quiet=True)
    html = (suite.output_dir / "examples.html").read_text()
    md = (suite.output_dir / "examples.md").read_text()
    assert "<script>" not in html and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<script>" not in md
    assert "## evil vs poor" in md and "### Where evil is better" in md and "### Where poor is better" in md
    assert "## good vs poor" in md and 'href="leaderboard.html"' in html
