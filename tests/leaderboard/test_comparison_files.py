"""The files of `radeval compare` (radeval.leaderboard.comparison_files): CSV with the signature, JSON with NaN as null."""

from __future__ import annotations

import json
import math


from radeval.stats.compare import compare
from radeval.leaderboard.comparison_files import comparison_csv, comparison_json, write_comparison

REFS = {f"c{i}": f"no pleural effusion seen on image {i} ." for i in range(12)}
A = {k: v.replace("pleural ", "") for k, v in REFS.items()}
B = dict(REFS)


def test_csv_and_json_carry_the_signature_and_no_nan(tmp_path) -> None:
    result = compare(REFS, {"a": A, "b": B}, metrics=["bleu4"], resamples=100, cache=False, progress=False)
    csv_text = comparison_csv(result)
    assert csv_text.splitlines()[0].endswith(",significance_signature")
    assert all(line.endswith(result.signature) for line in csv_text.splitlines()[1:])
    doc = json.loads(comparison_json(result))
    assert doc["signature"] == result.signature and doc["baseline"] == "a"
    base_row = next(r for r in doc["table"] if r["system"] == "a")
    assert base_row["p"] is None and base_row["p_corrected"] is None  # NaN (no test of the baseline) -> null
    assert not any(isinstance(v, float) and math.isnan(v) for r in doc["table"] + doc["pairs"] for v in r.values())
    files = write_comparison(result, csv=tmp_path / "t.csv", json_path=tmp_path / "t.json")
    assert files.plot is None
    assert files.csv.read_text() == csv_text and files.json.read_text() == comparison_json(result)
