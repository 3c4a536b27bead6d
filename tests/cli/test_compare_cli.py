"""``radeval compare`` as a real subprocess: table, --json, CSV/JSON files, plot, errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

REFS = ["no pleural effusion or pneumothorax .", "the heart size is normal .",
        "mild centrilobular emphysema in the upper lobes .", "there is a 5 mm nodule in the right lower lobe .",
        "no mediastinal lymphadenopathy .", "the airways are patent .", "small hiatal hernia .",
        "degenerative changes of the thoracic spine .", "no consolidation .",
        "coronary artery calcifications are present .", "bilateral dependent atelectasis .",
        "the thyroid gland is unremarkable ."]
BASE = ["no pleural effusion .", "heart size is normal .", "emphysema in the lungs .", "a nodule in the right lung .",
        "no lymphadenopathy .", "airways are normal .", "hiatal hernia .", "degenerative changes .",
        "no consolidation .", "coronary calcifications .", "atelectasis .", "thyroid is normal ."]
GOOD = ["no pleural effusion or pneumothorax .", "the heart size is normal .", "mild emphysema in the upper lobes .",
        "there is a 4 mm nodule in the right lower lobe .", "no mediastinal lymphadenopathy .",
        "the airways are patent .", "small hiatal hernia .", "degenerative changes of the spine .",
        "no consolidation or effusion .", "coronary artery calcifications .", "bilateral atelectasis .",
        "the thyroid gland is normal ."]


def _write(path: Path, texts: list[str], *, reverse: bool = False) -> Path:
    rows = [{"id": f"case{i}", "text": t} for i, t in enumerate(texts)]
    if reverse:
        rows.reverse()
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RADEVAL_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "radeval.cli.main", "compare", *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=300)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {"refs": _write(tmp_path / "refs.jsonl", REFS), "base": _write(tmp_path / "base.jsonl", BASE),
            "good": _write(tmp_path / "good.jsonl", GOOD, reverse=True),
            "copy": _write(tmp_path / "copy.jsonl", BASE)}


def test_json_output_and_files(files, tmp_path):
    out_csv, out_json, plot = tmp_path / "t.csv", tmp_path / "t.json", tmp_path / "f.png"
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"good={files['good']}",
                 f"copy={files['copy']}", "--baseline", "base", "--metrics", "bleu_sacre", "rougeL",
                 "--metric-option", "bleu_sacre.tokenize=none", "--resamples", "1000", "--json",
                 "--out", str(out_csv), "--out-json", str(out_json), "--plot", str(plot), "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert [set(r) for r in records] == [{"system", "metric", "score", "ci_low", "ci_high", "delta", "delta_ci_low",
                                          "delta_ci_high", "p", "p_corrected"}] * 6
    by = {(r["system"], r["metric"]): r for r in records}
    assert by[("base", "bleu_sacre")]["p"] is None
    assert by[("good", "bleu_sacre")]["score"] == pytest.approx(72.68772811447472, rel=1e-12)
    assert by[("good", "bleu_sacre")]["p"] == 0.000999000999000999  # sacreBLEU --paired-bs, B=1000, seed 12345
    assert by[("copy", "rougeL")]["p"] == 1.0 and by[("copy", "rougeL")]["delta"] == 0.0
    assert "signature: test:bootstrap|B:1000|seed:12345" in proc.stderr
    with out_csv.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and rows[0]["significance_signature"].startswith("test:bootstrap|B:1000")
    payload = json.loads(out_json.read_text(encoding="utf-8"))
    assert payload["baseline"] == "base" and payload["results"] == records and len(payload["pairs"]) == 4
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_text_table_with_ar(files, tmp_path):
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"good={files['good']}",
                 "--metrics", "bleu_sacre", "--metric-option", "bleu_sacre.tokenize=none", "--test", "ar",
                 "--pvalue", "ar-sacrebleu", "--ci-resamples", "0", "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    # (issue 17: a comparison over fewer than 30 cases ends with a small-sample WARNING line)
    lines = [line for line in proc.stdout.splitlines() if not line.startswith("WARNING: only")]
    assert lines[0].split()[:4] == ["system", "metric", "score", "95%"]
    good = next(line for line in lines if line.startswith("good"))
    assert "0.0022" in good and "* better" in good  # sacreBLEU --paired-ar, R = 10000, seed 12345
    assert lines[-1].startswith("signature: test:ar|R:10000|ciB:0|seed:12345")
    # the degenerate-output diagnostics of every system go to stderr (issue 15); stdout keeps the table
    assert "degenerate-output diagnostics:" in proc.stderr and "  good: distinct_share " in proc.stderr


def test_same_seed_same_output(files, tmp_path):
    args = ["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"good={files['good']}",
            "--metrics", "rougeL", "--resamples", "300", "--seed", "7", "--ci", "bca", "--json", "--quiet"]
    one, two = _run(args, tmp_path), _run(args, tmp_path)
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout


@pytest.mark.parametrize(("extra", "message"), [
    (["--resamples", "50"], "at least 100 bootstrap resamples"),
    (["--baseline", "nobody"], "baseline 'nobody' is not one of the systems"),
])
def test_bad_options_exit_2(files, tmp_path, extra, message):
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"good={files['good']}",
                 "--metrics", "rougeL", *extra], tmp_path)
    assert proc.returncode == 2 and message in proc.stderr


def test_listed_pairs_print_uncorrected_and_corrected_p(files, tmp_path):
    out_json = tmp_path / "t.json"
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"good={files['good']}",
                 f"copy={files['copy']}", "--metrics", "rougeL", "--resamples", "500", "--pairs", "good:copy",
                 "--out-json", str(out_json), "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "listed pairs (delta = system - reference" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("good  ") and "copy" in line)
    assert row.split()[:3] == ["good", "copy", "rougeL"]
    pairs = json.loads(out_json.read_text(encoding="utf-8"))["pairs"]
    listed = [p for p in pairs if (p["system_a"], p["system_b"]) == ("copy", "good")]
    assert len(listed) == 1 and listed[0]["p_corrected"] >= listed[0]["p"]
    assert "family:systems×metrics+listed(1)" in proc.stdout
    bad = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"good={files['good']}",
                "--metrics", "rougeL", "--pairs", "good"], tmp_path)
    assert bad.returncode == 2 and "--pairs 'good': expected SYSTEM:REFERENCE" in bad.stderr


def test_mismatched_case_sets_exit_2(files, tmp_path):
    short = _write(tmp_path / "short.jsonl", GOOD[:-1])
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"short={short}",
                 "--metrics", "rougeL"], tmp_path)
    assert proc.returncode == 2
    assert "system 'short'" in proc.stderr and "'case11'" in proc.stderr


def test_one_system_exit_2(files, tmp_path):
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", "--metrics", "rougeL"], tmp_path)
    assert proc.returncode == 2 and "at least two systems" in proc.stderr


def test_equals_sacrebleu_cli_paired_bs(tmp_path):
    """``radeval compare`` vs ``sacrebleu REF -i BASE SYS --paired-bs`` on the same files, seed and B."""
    mixed = [g if i % 4 == 1 else b for i, (g, b) in enumerate(zip(GOOD, BASE))]  # a close race: p ≈ 0.09
    texts = {"refs": REFS, "base": BASE, "mixed": mixed}
    plain = {k: tmp_path / f"{k}.txt" for k in texts}
    for key, path in plain.items():
        path.write_text("\n".join(texts[key]) + "\n", encoding="utf-8")
    env = {**os.environ, "SACREBLEU_SEED": "12345"}
    sb = subprocess.run([sys.executable, "-m", "sacrebleu", str(plain["refs"]), "-i", str(plain["base"]),
                         str(plain["mixed"]), "--paired-bs", "--paired-bs-n", "1000", "-tok", "none", "-f", "json"],
                        capture_output=True, text=True, env=env, timeout=300)
    assert sb.returncode == 0, sb.stderr
    theirs = json.loads(sb.stdout)[1]["BLEU"]
    jsonl = {k: _write(tmp_path / f"{k}.jsonl", v) for k, v in texts.items()}
    proc = _run(["--refs", str(jsonl["refs"]), "--hyps", f"base={jsonl['base']}", f"mixed={jsonl['mixed']}",
                 "--metrics", "bleu_sacre", "--metric-option", "bleu_sacre.tokenize=none", "--resamples", "1000",
                 "--ci", "sacrebleu", "--correction", "none", "--json", "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    ours = json.loads(proc.stdout)[1]
    assert 0.01 < theirs["p_value"] < 1
    assert ours["p"] == theirs["p_value"]
    assert ours["score"] == pytest.approx(theirs["score"], rel=1e-12)
    # sacreBLEU rounds resampled n-gram precisions to float32 under numpy >= 2: half-widths agree to ~1e-7
    assert 0.5 * (ours["ci_high"] - ours["ci_low"]) == pytest.approx(theirs["ci"], rel=1e-5)


def test_hyps_path_with_equals_sign_in_a_directory_is_a_file_not_name_equals_file(files, tmp_path):
    run_dir = tmp_path / "lr=1e-4"
    run_dir.mkdir()
    preds = _write(run_dir / "preds.jsonl", GOOD)
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", str(preds),
                 "--metrics", "rougeL", "--resamples", "100", "--json", "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [r["system"] for r in json.loads(proc.stdout)] == ["base", "preds"]


@pytest.mark.parametrize("mode", ["baseline", "all-pairs"])
def test_rank_by_gives_rank_groups(files, tmp_path, mode):
    out_json = tmp_path / "r.json"
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"copy={files['copy']}",
                 f"good={files['good']}", "--baseline", "base", "--mode", mode, "--metrics", "bleu4", "rougeL",
                 "--rank-by", "rougeL", "--resamples", "1000", "--out-json", str(out_json), "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    ranking = json.loads(out_json.read_text(encoding="utf-8"))["ranking"]
    assert ranking["order"] == ["good", "base", "copy"]  # base and copy are identical: suite order
    assert ranking["groups"] == {"good": 1, "base": 2, "copy": 2}
    assert ranking["compared_with"] == {"base": "good", "copy": "base"}
    assert ("run's own" in ranking["family"] or "comparison's own" in ranking["family"]) == (mode == "all-pairs")
    assert "ranked by rougeL" in proc.stdout and "rule: Systems are sorted by the primary metric" in proc.stdout


def test_rank_by_unknown_metric_exit_2(files, tmp_path):
    proc = _run(["--refs", str(files["refs"]), "--hyps", f"base={files['base']}", f"good={files['good']}",
                 "--metrics", "rougeL", "--rank-by", "bleu4", "--quiet"], tmp_path)
    assert proc.returncode == 2 and "--rank-by 'bleu4' is not one of the compared metrics" in proc.stderr
