"""Adversarial suites: typed values, odd names, limits, stale outputs, Markdown-breaking text, packet keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from radeval.bench.runner import run_suite
from radeval.bench.suite import load_suite
from radeval.errors import AlignmentError, InputError


def _edit(path: Path, fn) -> Path:
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_bad_typed_values_are_listed_not_a_traceback(make_suite):
    def bad(d):
        d["dataset"]["limit"] = "abc"
        d["significance"].update(resamples="many", confidence=95, alpha=2)
        d["reader_study"] = {"n": "ten"}

    with pytest.raises(InputError) as err:
        load_suite(_edit(make_suite(), bad))
    msg = str(err.value)
    assert "dataset.limit: expected an integer, got 'abc'" in msg
    assert "significance.resamples: expected an integer, got 'many'" in msg
    assert "significance.confidence: confidence=95.0 must lie strictly between 0 and 1" in msg
    assert "significance.alpha: alpha=2.0 must lie strictly between 0 and 1" in msg
    assert "reader_study.n: expected an integer" in msg


def test_non_positive_limit_is_rejected(make_suite):
    with pytest.raises(InputError, match="dataset.limit: -3 must be >= 1"):
        load_suite(_edit(make_suite(), lambda d: d["dataset"].update(limit=-3)))


def test_numeric_system_names_match_the_baseline(make_suite):
    def numeric(d):
        d["systems"][0]["name"], d["systems"][1]["name"] = 2023, 2024
        d["baseline"] = 2023
        d["reader_study"] = {"n": 4, "systems": [2023, 2024]}

    suite = load_suite(_edit(make_suite(), numeric))
    assert suite.baseline == "2023" and [s.name for s in suite.systems][:2] == ["2023", "2024"]


def test_duplicate_metric_is_an_error_not_silently_dropped(make_suite):
    path = make_suite(metrics=["bleu4", {"name": "bleu4", "options": {"normalize": "lower"}}])
    with pytest.raises(InputError, match=r"metrics\[1\]: duplicate metric 'bleu4'"):
        load_suite(path)


def test_bad_metric_options_fail_validation_before_running(make_suite):
    path = make_suite(metrics=[{"name": "cider", "options": {"bogus": 1}},
                               {"name": "bleu4", "options": {"normalize": "nope"}}, "bertscore"])
    with pytest.raises(InputError) as err:
        load_suite(path)
    msg = str(err.value)
    assert "metrics[0] (cider): invalid options" in msg and "bogus" in msg
    assert "metrics[1] (bleu4): invalid options" in msg and "nope" in msg
    assert "bertscore" not in msg  # weights missing offline: reported by the run, not a suite error


def test_reader_study_single_strings_are_one_item(make_suite):
    suite = load_suite(_edit(make_suite(), lambda d: d.update(reader_study={"systems": "good", "formats": "html"})))
    assert suite.reader_study.systems == ("good",) and suite.reader_study.formats == ("html",)
    with pytest.raises(InputError, match="reader_study.formats: 'pdf' is not one of"):
        load_suite(_edit(make_suite(), lambda d: d.update(reader_study={"formats": ["html", "pdf"]})))


def test_every_misaligned_system_reported_before_scoring(make_suite, monkeypatch):
    import radeval.bench.runner as runner

    path = make_suite(n=10, systems={"short": {"case000": "No effusion."},
                                     "extra": {**{f"case{i:03d}": "x" for i in range(10)}, "zz": "y"}})
    calls = []
    monkeypatch.setattr(runner, "compute_statistics", lambda *a, **k: calls.append(1))
    with pytest.raises(AlignmentError) as err:
        run_suite(load_suite(path), quiet=True)
    msg = str(err.value)
    assert "'short'" in msg and "'extra'" in msg and "'zz'" in msg and "3.jsonl" in msg
    assert not calls  # nothing was scored for the aligned systems first


def test_limit_applies_to_prediction_files(make_suite):
    suite = load_suite(_edit(make_suite(n=12), lambda d: d["dataset"].update(limit=5)))
    result = run_suite(suite, quiet=True)
    assert len(result.per_sample) == 3 * 5
    assert "first 5 of 12 cases" in (suite.output_dir / "leaderboard.md").read_text()
    # An id that is in no references at all is still an error.
    path = make_suite(n=12, systems={"alien": {**{f"case{i:03d}": "x" for i in range(12)}, "zz": "y"}})
    with pytest.raises(AlignmentError, match="zz"):
        run_suite(load_suite(_edit(path, lambda d: d["dataset"].update(limit=5))), quiet=True)


def test_stale_failures_file_is_removed(make_suite):
    suite = load_suite(make_suite(n=10, metrics=["bleu4"]))
    suite.output_dir.mkdir(parents=True, exist_ok=True)
    (suite.output_dir / "failures.txt").write_text("bleu4: system 'good': case 'case000': old failure\n")
    result = run_suite(suite, quiet=True)
    assert not result.failures
    assert not (suite.output_dir / "failures.txt").exists()
    assert json.loads((suite.output_dir / "manifest.json").read_text())["n_failures"] == 0


def test_markdown_tables_survive_hostile_names(make_suite):
    markdown_it = pytest.importorskip("markdown_it")
    names = ["a|b", "c\\|d", "<script>alert(1)</script>", "multi\nline"]
    path = make_suite(n=10, metrics=["bleu4", "rougeL"], extra={"literature": None},
                      systems={n: {f"case{i:03d}": "No pleural effusion." for i in range(10)} for n in names})
    suite = load_suite(path)
    run_suite(suite, quiet=True)
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    # leaderboard: one table per metric group (issue 18): system + 2 lexical metrics, system + the 4
    # degenerate-output diagnostics every run adds (issue 15); significance.md: one table of 8 columns
    for fname, widths in (("leaderboard.md", [3, 5]), ("significance.md", [8])):
        html = md.render((suite.output_dir / fname).read_text())
        assert "<script>" not in html, fname
        tables = re.findall(r"<table>(.*?)</table>", html, re.S)
        assert len(tables) == len(widths), fname
        for table, ncols in zip(tables, widths):
            rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
            assert rows, fname
            for row in rows:
                assert len(re.findall(r"<t[dh][^>]*>", row)) == ncols, (fname, row)
    html = md.render((suite.output_dir / "leaderboard.md").read_text())
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", html)]
    assert "c\\|d" in cells and "a|b" in cells and "&lt;script&gt;alert(1)&lt;/script&gt;" in cells


def test_changed_reader_study_inputs_keep_the_earlier_key(make_suite):
    path = _edit(make_suite(n=12, metrics=["bleu4"]), lambda d: d.update(reader_study={"n": 4, "readers": 1,
                                                                                       "formats": ["html"]}))
    suite = load_suite(path)
    run_suite(suite, quiet=True)
    root = suite.output_dir / "reader_study"
    old_key = (root / "key" / "study_key.json").read_bytes()
    run_suite(suite, quiet=True)  # unchanged: kept as is
    assert (root / "key" / "study_key.json").read_bytes() == old_key
    preds = Path(suite.system("medium").predictions)
    lines = preds.read_text().splitlines()
    lines[0] = json.dumps({"id": "case000", "text": "Edited report."})
    preds.write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match="reader-study inputs changed"):
        run_suite(load_suite(path), quiet=True)
    archived = list(root.glob("superseded-*/key/study_key.json"))
    assert len(archived) == 1 and archived[0].read_bytes() == old_key
    assert (archived[0].parent.parent / "packet" / "manifest.json").is_file()
    assert (root / "key" / "study_key.json").read_bytes() != old_key
