"""Issue 17 item 6: statistics refuse to mislead (tiny n, empty references, Unicode-twin ids)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
import yaml

from radeval.cli.main import main
from radeval.errors import AlignmentError
from radeval.metrics.scoring import score


def _jsonl(path: Path, items: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in items.items()),
                    encoding="utf-8")
    return path


def test_compare_on_one_case_warns_loudly(tmp_path: Path, capsys) -> None:
    refs = _jsonl(tmp_path / "refs.jsonl", {"a": "No pleural effusion."})
    one = _jsonl(tmp_path / "one.jsonl", {"a": "No pleural effusion."})
    two = _jsonl(tmp_path / "two.jsonl", {"a": "Large effusion."})
    assert main(["compare", "--refs", str(refs), "--hyps", f"one={one}", f"two={two}", "--metrics", "bleu4",
                 "--no-cache", "--resamples", "200", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "WARNING: only 1 case" in captured.out and "WARNING: only 1 case" in captured.err


def test_bench_significance_md_carries_the_small_sample_warning(tmp_path: Path) -> None:
    refs = {f"c{i}": f"Finding number {i} in the lung." for i in range(5)}
    paths = {name: _jsonl(tmp_path / f"{name}.jsonl", {k: v if name == "a" else "Normal." for k, v in refs.items()})
             for name in ("a", "b")}
    suite = {"name": "tiny", "output_dir": str(tmp_path / "out"),
             "dataset": {"kind": "jsonl", "references": str(_jsonl(tmp_path / "refs.jsonl", refs))},
             "systems": [{"name": n, "predictions": str(p)} for n, p in paths.items()], "metrics": ["bleu4"],
             "baseline": "b", "significance": {"test": "bootstrap", "resamples": 200, "seed": 1, "correction": "holm"}}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    assert main(["bench", str(path), "--quiet"]) == 0
    assert "WARNING: only 5 cases" in (tmp_path / "out" / "significance.md").read_text(encoding="utf-8")


def test_empty_references_are_counted_and_reported(tmp_path: Path, capsys) -> None:
    refs = {"a": "No effusion.", "b": "", "c": "   "}
    hyps = {"a": "No effusion.", "b": "Heart normal.", "c": "Lungs clear."}
    result = score(refs, hyps, metrics=["rougeL"], cache=None)
    assert result.empty_references == ("b", "c")
    assert main(["score", "--refs", str(_jsonl(tmp_path / "r.jsonl", refs)), "--hyps",
                 str(_jsonl(tmp_path / "h.jsonl", hyps)), "--metrics", "rougeL", "--no-cache"]) == 0
    assert "2 empty reference text(s) ('b', 'c')" in capsys.readouterr().err


def test_ids_differing_only_by_unicode_normalisation_show_code_points() -> None:
    nfc, nfd = unicodedata.normalize("NFC", "caf\u00e9"), unicodedata.normalize("NFD", "caf\u00e9")
    with pytest.raises(AlignmentError, match=r"Unicode normalisation.*U\+00E9.*U\+0065 U\+0301"):
        score({nfc: "No effusion."}, {nfd: "No effusion."}, metrics=["bleu1"], cache=None)
