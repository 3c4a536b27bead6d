"""``radeval reader-study``: export -> fill (XLSX, form JSON) -> ingest -> analyze, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from radeval.cli.main import main

SYSTEMS = ("baseline", "v2", "v3")


def _score(reader: str, system: str, case_id: str, criterion: str) -> int:
    bump = {"baseline": 0, "v2": 0, "v3": 1}[system]
    wobble = (sum(map(ord, reader + case_id + criterion)) % 3) - 1
    return max(1, min(5, 3 + bump + (wobble if reader == "reader2" else 0)))


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    with open(tmp_path / "refs.jsonl", "w", encoding="utf-8") as fh:
        for i in range(24):
            fh.write(json.dumps({"id": f"case{i:02d}", "text": f"Reference {i}.", "effusion": int(i < 6)}) + "\n")
    for name in SYSTEMS:
        with open(tmp_path / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(24):
                fh.write(json.dumps({"id": f"case{i:02d}", "text": f"{name} says {i}."}) + "\n")
    return tmp_path


def _export(d: Path, *extra: str) -> int:
    return main(["reader-study", "export", "--refs", str(d / "refs.jsonl"), "--hyps",
                 *(f"{s}={d / (s + '.jsonl')}" for s in SYSTEMS), "--n", "12", "--seed", "5", "--out",
                 str(d / "packet"), *extra])


def _fill(d: Path) -> list[Path]:
    from openpyxl import load_workbook

    key = json.loads((d / "packet-key.json").read_text(encoding="utf-8"))
    crits = [c["id"] for c in key["rubric"]["criteria"]]
    book = d / "packet" / "reader1" / "ratings.xlsx"
    wb = load_workbook(book)
    ws = wb["Ratings"]
    col = {c.value: c.column for c in ws[5]}
    for row in range(7, ws.max_row + 1):
        origin = key["items"][ws.cell(row=row, column=col["item_id"]).value]
        for c in crits:
            ws.cell(row=row, column=col[c]).value = _score("reader1", origin["system"], origin["case_id"], c)
    wb.save(book)
    doc = {"format": "radeval-reader-study-ratings", "version": 1, "packet_sha256": key["packet_sha256"],
           "reader": "reader2", "ratings": [
               {"item_id": i, "comment": "", "scores": {c: _score("reader2", key["items"][i]["system"],
                                                                  key["items"][i]["case_id"], c) for c in crits}}
               for i in key["orders"]["reader2"]]}
    form = d / "reader2.json"
    form.write_text(json.dumps(doc), encoding="utf-8")
    return [book, form]


def test_end_to_end(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = inputs
    assert _export(d, "--stratify-by", "effusion") == 0
    out = capsys.readouterr().out
    assert "12 cases x 3 systems = 36 reports per reader" in out and "packet-key.json" in out
    key = json.loads((d / "packet-key.json").read_text(encoding="utf-8"))
    assert sum(v == "effusion=1" for v in key["strata"].values()) == 3
    files = _fill(d)

    assert main(["reader-study", "ingest", str(d / "packet-key.json"), *map(str, files), "--out", str(d / "ing")]) == 0
    assert "no problems found" in capsys.readouterr().out
    table = pd.read_csv(d / "ing" / "ratings.csv")
    assert len(table) == 2 * 36 * 2 and set(table["packet_sha256"]) == {key["packet_sha256"]}

    assert main(["reader-study", "analyze", str(d / "packet-key.json"), *map(str, files), "--out", str(d / "rep"),
                 "--resamples", "500"]) == 0
    printed = capsys.readouterr().out
    assert "## Mean rating per system" in printed and "## Inter-rater agreement" in printed
    summary = pd.read_csv(d / "rep" / "summary.csv").set_index(["system", "criterion"])
    assert summary.loc[("baseline", "clinical_accuracy"), "n_ratings"] == 24
    assert summary.loc[("v3", "technical_quality"), "diff_pct"] > 15
    for name in ("report.md", "report.html", "ratings.png", "comparisons.csv", "agreement.csv"):
        assert (d / "rep" / name).exists(), name

    # the ingested table is itself a valid input
    assert main(["reader-study", "analyze", str(d / "packet-key.json"), str(d / "ing" / "ratings.csv"),
                 "--out", str(d / "rep2"), "--resamples", "500"]) == 0
    again = pd.read_csv(d / "rep2" / "summary.csv")
    pd.testing.assert_frame_equal(again, pd.read_csv(d / "rep" / "summary.csv"))

    # the paper's pairs (V-3 vs baseline, V-3 vs V-2) with its quoted percentages beside ours
    assert main(["reader-study", "analyze", str(d / "packet-key.json"), str(d / "ing" / "ratings.csv"),
                 "--out", str(d / "rep3"), "--resamples", "200", "--paper-roles", "v3=v3,v2=v2,baseline=baseline"]) == 0
    paper = pd.read_csv(d / "rep3" / "paper_comparison.csv")
    assert paper["paper_diff_pct"].tolist() == [9.8, 3.7, 9.4]
    assert set(zip(paper["system"], paper["reference"])) == {("v3", "baseline"), ("v3", "v2")}
    comp = pd.read_csv(d / "rep3" / "comparisons.csv")
    assert set(zip(comp["system"], comp["baseline"])) == {("v3", "baseline"), ("v3", "v2")}
    assert main(["reader-study", "analyze", str(d / "packet-key.json"), str(d / "ing" / "ratings.csv"),
                 "--out", str(d / "rep4"), "--pairs", "v2-v3"]) != 0


def test_ingest_reports_problems_and_exits_1(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = inputs
    assert _export(d, "--formats", "html", "--readers", "ann,bob") == 0
    key = json.loads((d / "packet-key.json").read_text(encoding="utf-8"))
    first = key["orders"]["ann"][0]
    bad = d / "ann.csv"
    bad.write_text("packet_sha256,reader,item_id,clinical_accuracy,technical_quality\n"
                   f"{key['packet_sha256']},ann,{first},7,3\n"
                   f"{key['packet_sha256']},ann,NOSUCHITEM,3,3\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["reader-study", "ingest", str(d / "packet-key.json"), str(bad), "--out", str(d / "ing"),
                 "--show", "3"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: reader 'ann', item '{first}': clinical_accuracy = '7' is not a whole number" in err
    assert "more (all are in problems.csv" in err
    problems = pd.read_csv(d / "ing" / "problems.csv")
    assert {"out_of_range", "unknown_item", "missing"} <= set(problems["kind"])
    assert len(pd.read_csv(d / "ing" / "ratings.csv")) == 1


def test_verify(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = inputs
    assert _export(d, "--formats", "html", "redcap") == 0
    assert main(["reader-study", "verify", str(d / "packet-key.json"), str(d / "packet")]) == 0
    assert "matches its key (6 files" in capsys.readouterr().out
    (d / "packet" / "redcap" / "import_template.csv").write_text("tampered", encoding="utf-8")
    assert main(["reader-study", "verify", str(d / "packet-key.json"), str(d / "packet")]) == 1
    assert "import_template.csv: content differs" in capsys.readouterr().err


def test_suite_export(inputs: Path) -> None:
    d = inputs
    (d / "suite.yaml").write_text(
        "references: refs.jsonl\nsystems:\n" + "".join(f"  {s}: {s}.jsonl\n" for s in SYSTEMS)
        + "baseline: v2\nreader_study: {n: 6, readers: 3, seed: 1, formats: [html], out: suite-packet}\n",
        encoding="utf-8")
    assert main(["reader-study", "export", "--suite", str(d / "suite.yaml")]) == 0
    key = json.loads((d / "suite-packet-key.json").read_text(encoding="utf-8"))
    assert key["baseline"] == "v2" and key["readers"] == ["reader1", "reader2", "reader3"]
    assert len(key["case_ids"]) == 6 and sorted(p.name for p in (d / "suite-packet").iterdir()) == [
        "README.txt", "manifest.json", "reader1", "reader2", "reader3"]


def test_suite_export_takes_a_full_bench_suite(inputs: Path) -> None:
    """One reader_study schema: a `radeval bench` suite (dataset kind, systems list, metrics, significance) exports."""
    d = inputs
    (d / "bench.yaml").write_text(
        "name: full\noutput_dir: run\ndataset: {kind: jsonl, references: refs.jsonl}\nsystems:\n"
        + "".join(f"  - {{name: {s}, predictions: {s}.jsonl}}\n" for s in SYSTEMS)
        + "metrics: [bleu4, rougeL]\nbaseline: baseline\nsignificance: {resamples: 500, pvalue: koehn}\n"
        "reader_study: {n: 5, readers: [ana, ben], seed: 2, systems: [baseline, v3], formats: [html], out: p}\n",
        encoding="utf-8")
    assert main(["reader-study", "export", "--suite", str(d / "bench.yaml")]) == 0
    key = json.loads((d / "p-key.json").read_text(encoding="utf-8"))
    assert key["systems"] == ["baseline", "v3"] and key["readers"] == ["ana", "ben"] and len(key["case_ids"]) == 5
    # the same section fails the same way in both commands
    (d / "bad.yaml").write_text((d / "bench.yaml").read_text(encoding="utf-8").replace("n: 5", "n: 0"),
                                encoding="utf-8")
    assert main(["reader-study", "export", "--suite", str(d / "bad.yaml")]) == 2
    assert main(["bench", str(d / "bad.yaml"), "--validate"]) == 2


def test_shipped_ctrate_suite_validates_for_export() -> None:
    from radeval.bench.suite import load_suite

    root = Path(__file__).resolve().parents[2] / "benchmarks"
    suite = load_suite(root / "ctrate.yaml", check_files=False, for_export=True)
    assert suite.reader_study is not None and suite.reader_study.systems == ("baseline-llama32-1b", "rad3d-prefix-v2",
                                                                             "rad3d-prefix-v3")


def test_labels_file_for_strata(inputs: Path) -> None:
    d = inputs
    pd.DataFrame({"VolumeName": [f"case{i:02d}" for i in range(24)],
                  "Nodule": [int(i % 4 == 0) for i in range(24)]}).to_csv(d / "labels.csv", index=False)
    assert _export(d, "--formats", "html", "--stratify-by", "Nodule", "--labels", str(d / "labels.csv"),
                   "--labels-id-field", "VolumeName") == 0
    key = json.loads((d / "packet-key.json").read_text(encoding="utf-8"))
    assert sorted(key["strata"].values()).count("Nodule=1") == 3


@pytest.mark.parametrize("argv, message", [
    (["reader-study", "export", "--hyps", "a=b.jsonl"], "pass --suite, or --refs and at least one --hyps"),
    (["reader-study", "export", "--refs", "{d}/refs.jsonl", "--hyps", "nofile"], "expected NAME=FILE"),
    (["reader-study", "export", "--refs", "{d}/refs.jsonl", "--hyps", "a={d}/v2.jsonl"], "--out"),
    (["reader-study", "export", "--suite", "{d}/s.yaml", "--refs", "{d}/refs.jsonl"], "either --suite"),
    (["reader-study", "export", "--refs", "{d}/refs.jsonl", "--hyps", "a={d}/v2.jsonl", "--out", "{d}/p",
      "--key", "{d}/p/key.json"], "outside the packet"),
    (["reader-study", "ingest", "{d}/nokey.json"], "key file not found"),
])
def test_errors_exit_2_with_a_message(inputs: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                      message: str) -> None:
    assert main([a.format(d=inputs) for a in argv]) == 2
    assert message in capsys.readouterr().err
