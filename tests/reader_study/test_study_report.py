from __future__ import annotations

from pathlib import Path

import pandas as pd

from radeval_reader_study.analysis import analyze
from radeval_reader_study.ingestion import ingest
from radeval_reader_study.report import to_markdown, write_report


def test_report_files(exported, write_form_csv, tmp_path: Path) -> None:
    files = [write_form_csv(exported.key_path, r) for r in ("reader1", "reader2")]
    a = analyze(ingest(exported.key_path, files), resamples=300)
    out = write_report(a, tmp_path / "report", title="CT reader study <pilot>")
    assert out.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = out.markdown.read_text(encoding="utf-8")
    for text in ("# CT reader study <pilot>", "## Mean rating per system", "baseline (baseline)",
                 "## Paired comparisons with baseline", "## Inter-rater agreement", "Cohen's κ (quadratic)",
                 "Krippendorff's α (ordinal)", "ICC(2,1)", "![mean ratings](ratings.png)",
                 "Signature: `reader-study|"):
        assert text in md, text
    html = out.html.read_text(encoding="utf-8")
    assert "CT reader study &lt;pilot&gt;" in html and "<pilot>" not in html
    assert 'src="data:image/png;base64,' in html and "http://" not in html and "https://" not in html
    summary = pd.read_csv(tmp_path / "report" / "summary.csv")
    assert len(summary) == 6 and {"mean", "ci_low", "ci_high", "diff_pct"} <= set(summary.columns)
    assert sorted(p.name for p in out.tables) == ["agreement.csv", "comparisons.csv", "coverage.csv",
                                                  "per_reader.csv", "summary.csv"]
    v3 = a.summary[(a.summary["system"] == "v3") & (a.summary["criterion"] == "clinical_accuracy")].iloc[0]
    assert f"{v3['diff_pct']:+.1f}%" in md


def test_markdown_escapes_table_breakers(exported, write_form_csv) -> None:
    files = [write_form_csv(exported.key_path, "reader1")]
    a = analyze(ingest(exported.key_path, files), resamples=100)
    renamed = a.summary.assign(system=a.summary["system"].replace({"v2": "v|2"}))
    from dataclasses import replace

    b = replace(a, summary=renamed, systems=tuple("v|2" if s == "v2" else s for s in a.systems))
    md = to_markdown(b)
    assert "v\\|2" in md


def test_system_without_any_rating_is_reported_not_fatal(exported, write_form_csv, tmp_path: Path) -> None:
    from radeval_reader_study.key import read_key

    key = read_key(exported.key_path)
    items = [i for i in key.orders["reader1"] if key.items[i].system != "v3"]
    a = analyze(ingest(exported.key_path, [write_form_csv(exported.key_path, "reader1", items=items)]), resamples=100)
    v3 = a.summary[a.summary["system"] == "v3"]
    assert v3["n_cases"].eq(0).all() and v3["mean"].isna().all()
    comp = a.comparisons[a.comparisons["system"] == "v3"]
    assert comp["n_pairs"].eq(0).all() and comp["p_value"].isna().all() and comp["p_holm"].isna().all()
    out = write_report(a, tmp_path / "rep")
    assert "| v3 | n/a [n/a, n/a] (n/a [n/a, n/a])" in out.markdown.read_text(encoding="utf-8")
