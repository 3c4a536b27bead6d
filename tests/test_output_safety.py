"""Issue 17 item 3: an output never overwrites an input; bad output paths fail before any work; atomic output sets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from radeval.bench.staging import OutputStage, verify_outputs
from radeval.cli.main import main

REFS = {"a": "No pleural effusion.", "b": "Heart size is normal.", "c": "Small nodule in the left lung."}
HYPS = {"a": "No effusion.", "b": "Heart size normal.", "c": "Nodule in the left lung."}


def _jsonl(path: Path, items: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in items.items()), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return _jsonl(tmp_path / "refs.jsonl", REFS), _jsonl(tmp_path / "hyps.jsonl", HYPS), _jsonl(tmp_path / "b.jsonl", REFS)


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".staging")]


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink"])
def test_score_out_onto_the_hypotheses_is_refused(files, tmp_path: Path, spelling: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    refs, hyps, _ = files
    before = hyps.read_bytes()
    out = {"same": hyps, "dotdot": tmp_path / "sub" / ".." / "hyps.jsonl", "symlink": tmp_path / "link.csv"}[spelling]
    (tmp_path / "sub").mkdir()
    if spelling == "symlink":
        os.symlink(hyps, out)
    assert main(["score", "--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--no-cache",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "overwrite that input" in err
    assert hyps.read_bytes() == before and _no_temp_files(tmp_path)


def test_score_out_folder_or_under_a_file_is_a_clean_error_before_work(files, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    refs, hyps, _ = files
    folder = tmp_path / "outdir"
    folder.mkdir()
    assert main(["score", "--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--no-cache",
                 "--out", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["score", "--refs", str(refs), "--hyps", str(hyps), "--metrics", "bleu4", "--no-cache",
                 "--out", str(hyps / "scores.csv")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert _no_temp_files(tmp_path)


def test_compare_out_json_onto_the_references_is_refused(files, capsys: pytest.CaptureFixture[str]) -> None:
    refs, hyps, other = files
    before = refs.read_bytes()
    assert main(["compare", "--refs", str(refs), "--hyps", f"a={hyps}", f"b={other}", "--metrics", "bleu4",
                 "--no-cache", "--out-json", str(refs)]) == 2
    assert "--out-json" in capsys.readouterr().err and refs.read_bytes() == before


def test_label_out_onto_the_reports_is_refused(files, capsys: pytest.CaptureFixture[str]) -> None:
    _, hyps, _ = files
    before = hyps.read_bytes()
    assert main(["label", "--reports", str(hyps), "--out", str(hyps)]) == 2
    assert "overwrite that input" in capsys.readouterr().err and hyps.read_bytes() == before


def _suite(tmp_path: Path, files, output_dir: Path, *, predictions: Path | None = None) -> Path:
    refs, hyps, other = files
    suite = {"name": "guard", "output_dir": str(output_dir),
             "dataset": {"kind": "jsonl", "references": str(refs)},
             "systems": [{"name": "a", "predictions": str(predictions or hyps)}, {"name": "b", "predictions": str(other)}],
             "metrics": ["bleu4"], "baseline": "a",
             "significance": {"test": "bootstrap", "resamples": 200, "seed": 1, "correction": "holm"}}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def test_suite_output_dir_that_is_a_file_fails_validate(files, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "results"
    blocker.write_text("not a folder", encoding="utf-8")
    assert main(["bench", str(_suite(tmp_path, files, blocker)), "--validate"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_suite_output_dir_that_would_replace_an_input_is_refused(files, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    inside = _jsonl(out / "per_sample.csv", HYPS)  # a predictions file where the run writes per_sample.csv
    before = inside.read_bytes()
    assert main(["bench", str(_suite(tmp_path, files, out, predictions=inside)), "--validate"]) == 2
    assert "per_sample.csv" in capsys.readouterr().err
    assert inside.read_bytes() == before


def test_a_failed_run_leaves_the_previous_outputs_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with OutputStage(out) as stage:
        (stage.dir / "leaderboard.md").write_text("old board", encoding="utf-8")
        (stage.dir / "failures.txt").write_text("old failures", encoding="utf-8")
        stage.commit(json.dumps({"suite": "x"}))
    assert verify_outputs(out) == []
    with pytest.raises(RuntimeError), OutputStage(out) as stage:
        (stage.dir / "leaderboard.md").write_text("new board", encoding="utf-8")
        raise RuntimeError("scoring died half way")
    assert (out / "leaderboard.md").read_text(encoding="utf-8") == "old board"
    assert verify_outputs(out) == [] and _no_temp_files(out)
    # a successful run replaces the whole set: the old failures list does not survive next to the new board
    with OutputStage(out) as stage:
        (stage.dir / "leaderboard.md").write_text("new board", encoding="utf-8")
        stage.commit(json.dumps({"suite": "x"}))
    assert not (out / "failures.txt").exists() and verify_outputs(out) == [] and _no_temp_files(out)
    # a file from another run is detected
    (out / "leaderboard.md").write_text("edited", encoding="utf-8")
    assert "a mix of runs" in verify_outputs(out)[0]
    (out / "manifest.json").unlink()
    assert "incomplete" in verify_outputs(out)[0]


def test_bench_run_writes_a_manifest_listing_its_outputs(files, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["bench", str(_suite(tmp_path, files, out)), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"leaderboard.csv", "per_sample.csv", "significance.md"} <= set(manifest["outputs"])
    assert verify_outputs(out) == [] and _no_temp_files(out)
