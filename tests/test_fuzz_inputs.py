"""Issue 17 item 8: property-based fuzzing of the readers, ``score`` and ``compare``.

Generated JSONL / CSV / ReXrank files (valid ones and ones with a planted fault) must give either a clean
:class:`InputError` that names the file, or the texts that were written and correct scores: ROUGE-1/L
checked against ``rouge_score.RougeScorer(use_stemmer=True)`` on the parsed texts (an independent
implementation), never a traceback of any other type.

Deterministic (``derandomize=True``) and bounded: :data:`READER_EXAMPLES` + :data:`COMPARE_EXAMPLES`
generated inputs per CI run (the figure recorded in ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rouge_score.rouge_scorer import RougeScorer

from radeval.errors import InputError
from radeval.io import read_reports
from radeval.metrics.scoring import score
from radeval.stats.compare import compare

READER_EXAMPLES = 200
COMPARE_EXAMPLES = 40
GENERATED = {"reader": 0, "compare": 0}

FAULTS = ("none", "duplicate_id", "empty_id", "missing_text", "null_text", "number_text", "bad_utf8", "bad_json")

_ids = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               min_size=1, max_size=12).filter(lambda s: s.strip() != "")
_words = st.sampled_from(["No", "pleural", "effusion", "nodule", "=1+1", "-2", "@x", "lobe,", "\"quoted\"",
                          "caf\u00e9", "\u2028", "5 mm", "right", "lower", "heart", "normal.", "\t", "None", "NA"])
_texts = st.lists(_words, min_size=0, max_size=12).map(" ".join)

_SCORER = RougeScorer(["rouge1", "rougeL"], use_stemmer=True)


def _write(fmt: str, pairs: list[tuple[str, str]], fault: str, folder: Path) -> tuple[Path, dict]:
    """Write ``pairs`` in ``fmt`` with ``fault`` planted; return the path and the expected mapping."""
    records = [{"id": k, "text": v} for k, v in pairs]
    if fault == "duplicate_id" and records:
        records.append(dict(records[0]))
    elif fault == "empty_id" and records:
        records[0]["id"] = ""
    elif fault == "missing_text" and records:
        del records[0]["text"]
    elif fault in {"null_text", "number_text"} and records and fmt != "csv":
        records[0]["text"] = None if fault == "null_text" else 3.5
    path = folder / {"jsonl": "x.jsonl", "csv": "x.csv", "rexrank": "x.json"}[fmt]
    if fmt == "jsonl":
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if fault == "bad_json":
            body += "{not json\n"
    elif fmt == "csv":
        buf = io.StringIO(newline="")
        writer = csv.writer(buf)
        writer.writerow(["id", "text"])
        for r in records:
            writer.writerow([r["id"], r["text"]] if "text" in r else [r["id"]])
        body = buf.getvalue() + ('"unterminated\n' if fault == "bad_json" else "")
    else:
        obj: dict = {}
        body_parts = []
        for r in records:
            rec = {"section_findings": "f", "section_impression": "i"}
            if "text" in r:
                rec["model_prediction"] = r["text"]
            body_parts.append(f"{json.dumps(r['id'], ensure_ascii=False)}: {json.dumps(rec, ensure_ascii=False)}")
            obj[r["id"]] = rec
        body = "{" + ", ".join(body_parts) + "}" + ("}" if fault == "bad_json" else "")
    data = body.encode("utf-8")
    if fault == "bad_utf8":
        data += b"\xff\xfe"
    path.write_bytes(data)
    return path, dict(pairs)


@settings(max_examples=READER_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(fmt=st.sampled_from(["jsonl", "csv", "rexrank"]),
       pairs=st.lists(st.tuples(_ids, _texts), min_size=1, max_size=6, unique_by=lambda p: p[0]),
       fault=st.sampled_from(FAULTS))
def test_readers_and_score_never_traceback(fmt: str, pairs: list[tuple[str, str]], fault: str) -> None:
    GENERATED["reader"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path, expected = _write(fmt, pairs, fault, Path(tmp))
        try:
            got = read_reports(path, format=fmt)
        except InputError as exc:
            assert str(path) in str(exc) or "twice" in str(exc) or "duplicate" in str(exc), str(exc)
            return
        if fault in {"none", "null_text", "number_text"} and fmt == "csv" or fault == "none":
            # a CSV cell is always text and a CSV strips no quote from our own writer; what was written comes back
            assert dict(got) == expected
        refs = {k: f"{v} pleural effusion" for k, v in got.items()}
        try:
            result = score(refs, dict(got), metrics=["rouge1", "rougeL"], cache=False)
        except InputError:
            return
        for key in ("rouge1", "rougeL"):
            want = np.mean([_SCORER.score(refs[k], got[k])[key].fmeasure for k in got])
            assert result.as_dict()[key] == pytest.approx(want, abs=1e-12)


@settings(max_examples=COMPARE_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(_ids, _texts, _texts), min_size=1, max_size=5, unique_by=lambda p: p[0]))
def test_compare_never_tracebacks_and_agrees_with_score(pairs: list[tuple[str, str, str]]) -> None:
    GENERATED["compare"] += 1
    refs = {k: f"{a} effusion" for k, a, _ in pairs}
    hyps = {"one": {k: a for k, a, _ in pairs}, "two": {k: b for k, _, b in pairs}}
    try:
        result = compare(refs, hyps, metrics=["rougeL"], cache=False, resamples=50, ci_resamples=0, seed=1,
                         progress=False)
    except InputError:
        return
    table = result.table.set_index(["system", "metric"])
    for name, texts in hyps.items():
        want = np.mean([_SCORER.score(refs[k], texts[k])["rougeL"].fmeasure for k in refs])
        assert table.loc[(name, "rougeL"), "score"] == pytest.approx(want, abs=1e-12)


def test_generated_input_count() -> None:
    """Runs last in this file: the number of generated inputs is the configured budget (deterministic)."""
    if GENERATED["reader"] == 0:
        pytest.skip("run together with the property tests")
    assert GENERATED["reader"] == READER_EXAMPLES and GENERATED["compare"] == COMPARE_EXAMPLES, GENERATED
