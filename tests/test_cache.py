"""The per-sample cache's guarantees, checked on a real model (BERTScore on the shipped MiniLM weights):
a second run makes zero forward passes, a killed run keeps its finished chunks, readers run concurrently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from radeval.cache import StatisticsCache
from radeval.errors import InputError
from radeval.metrics.bertscore import bertscore_minilm
from radeval.metrics.scoring import score

ROOT = Path(__file__).resolve().parents[1]
FINDINGS = ["pleural effusion", "pneumothorax", "nodule", "emphysema", "atelectasis", "consolidation",
            "cardiomegaly", "lymphadenopathy", "bronchiectasis", "ground-glass opacity"]
SITES = ["right lower lobe", "left upper lobe", "lingula", "right middle lobe", "left base"]


def _corpus(n: int, offset: int = 0) -> tuple[dict[str, str], dict[str, str]]:
    refs, hyps = {}, {}
    for i in range(offset, offset + n):
        f, s = FINDINGS[i % len(FINDINGS)], SITES[(i // len(FINDINGS)) % len(SITES)]
        refs[f"case{i}"] = f"There is {f} in the {s}. Study {i}."
        hyps[f"case{i}"] = f"{f.capitalize()} is seen in the {SITES[(i + 1) % len(SITES)]}. Exam {i}."
    return refs, hyps


@contextmanager
def count_forward_passes() -> Iterator[list[int]]:
    """Count every ``torch.nn.Module.forward`` call of top-level models while the block runs."""
    import torch

    counter = [0]

    def hook(module: torch.nn.Module, args: object, output: object) -> None:
        if type(module).__name__.endswith("Model"):  # BertModel etc.; not their sub-layers
            counter[0] += 1

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        yield counter
    finally:
        handle.remove()


def test_second_run_makes_zero_forward_passes(tmp_path: Path) -> None:
    refs, hyps = _corpus(12)
    cache = StatisticsCache(tmp_path / "cache.sqlite")
    with count_forward_passes() as first:
        one = score(refs, hyps, metrics=[bertscore_minilm()], cache=cache)
    assert first[0] > 0
    assert cache.count() == 12
    with count_forward_passes() as second:  # a fresh metric object, as in a new run
        two = score(refs, hyps, metrics=[bertscore_minilm()], cache=cache)
    assert second[0] == 0
    np.testing.assert_array_equal(one.statistics["bertscore_minilm"], two.statistics["bertscore_minilm"])
    assert one.as_dict() == two.as_dict()


def test_only_new_pairs_are_computed(tmp_path: Path) -> None:
    cache = StatisticsCache(tmp_path / "cache.sqlite")
    refs, hyps = _corpus(6)
    metric = bertscore_minilm()
    score(refs, hyps, metrics=[metric], cache=cache)
    more_refs, more_hyps = _corpus(3, offset=6)
    result = score(refs | more_refs, hyps | more_hyps, metrics=[metric], cache=cache)
    assert cache.count() == 9
    fresh = bertscore_minilm().statistics(list((refs | more_refs).values()), list((hyps | more_hyps).values()))
    np.testing.assert_allclose(result.statistics["bertscore_minilm"], fresh, rtol=1e-6)


def test_rows_are_keyed_by_signature(tmp_path: Path) -> None:
    cache = StatisticsCache(tmp_path / "cache.sqlite")
    cache.put("m|a|v:1", ["r"], ["h"], np.array([[0.25, 1.0]]))
    assert cache.get("m|b|v:1", ["r"], ["h"]) == [None]
    assert cache.get("m|a|v:1", ["r"], ["h2"]) == [None]
    assert cache.get("m|a|v:1", ["r"], ["h"])[0].tolist() == [0.25, 1.0]


def test_failed_rows_are_not_cached(tmp_path: Path) -> None:
    cache = StatisticsCache(tmp_path / "cache.sqlite")
    cache.put("m|v:1", ["r1", "r2"], ["h", "h"], np.array([[0.5, 1.0], [np.nan, np.nan]]))
    assert cache.count() == 1
    assert cache.get("m|v:1", ["r2"], ["h"]) == [None]


_SCORE_IN_CHUNKS = """
import sys
import radeval.metrics.scoring as scoring
from radeval.metrics.bertscore import bertscore_minilm
scoring.CHUNK = 4
refs = {f"case{i}": f"There is a {i} mm nodule in segment {i % 9} of the lung. Note {i}." for i in range(400)}
hyps = {f"case{i}": f"A nodule of {i + 1} mm lies in segment {(i + 2) % 9}. Remark {i}." for i in range(400)}
print("start", flush=True)
scoring.score(refs, hyps, metrics=[bertscore_minilm(batch_size=4)], cache=sys.argv[1])
print("done", flush=True)
"""


def test_killed_run_keeps_finished_chunks_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _SCORE_IN_CHUNKS, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    reader = None
    try:
        deadline = time.monotonic() + 240
        kept = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if path.exists():
                reader = reader or StatisticsCache(path)  # read while the other process writes
                kept = reader.count()
                if kept >= 12:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, "the scoring run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    cache = StatisticsCache(path)
    kept = cache.count()
    assert 12 <= kept < 400 and kept % 4 == 0  # whole chunks only
    refs = {f"case{i}": f"There is a {i} mm nodule in segment {i % 9} of the lung. Note {i}." for i in range(400)}
    hyps = {f"case{i}": f"A nodule of {i + 1} mm lies in segment {(i + 2) % 9}. Remark {i}." for i in range(400)}
    metric = bertscore_minilm()
    rows = cache.get(metric.signature, list(refs.values()), list(hyps.values()))
    done = [i for i, r in enumerate(rows) if r is not None]
    assert len(done) == kept
    sample = done[:4]
    fresh = metric.statistics([refs[f"case{i}"] for i in sample], [hyps[f"case{i}"] for i in sample])
    np.testing.assert_allclose(np.stack([rows[i] for i in sample]), fresh, rtol=1e-5, atol=1e-6)
    # Resume the first 40 cases: only the ones the killed run did not finish are computed.
    first40 = {k: refs[k] for k in list(refs)[:40]}, {k: hyps[k] for k in list(hyps)[:40]}
    missing = sum(1 for i in range(40) if rows[i] is None)
    score(*first40, metrics=[metric], cache=cache)
    assert cache.count() == kept + missing


_READER = """
import sys, time
import numpy as np
from radeval.cache import StatisticsCache
cache = StatisticsCache(sys.argv[1])
refs = [f"ref {i}" for i in range(300)]
hyps = [f"hyp {i}" for i in range(300)]
reads = 0
end = time.monotonic() + 2.0
while time.monotonic() < end:
    rows = cache.get("reader-test|v:1", refs, hyps)
    for i, row in enumerate(rows):
        if row is not None and row.tolist() != [float(i), 1.0]:
            sys.exit(f"row {i} read as {row.tolist()}")
    reads += 1
print(reads)
"""

_WRITER = """
import sys
import numpy as np
from radeval.cache import StatisticsCache
cache = StatisticsCache(sys.argv[1])
for start in range(100, 300, 10):
    idx = range(start, start + 10)
    cache.put("reader-test|v:1", [f"ref {i}" for i in idx], [f"hyp {i}" for i in idx],
              np.array([[float(i), 1.0] for i in idx]))
print("written")
"""


def test_concurrent_readers_while_one_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    seed = StatisticsCache(path)
    seed.put("reader-test|v:1", [f"ref {i}" for i in range(100)], [f"hyp {i}" for i in range(100)],
             np.array([[float(i), 1.0] for i in range(100)]))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    readers = [subprocess.Popen([sys.executable, "-c", _READER, str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env) for _ in range(3)]
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    outputs = [p.communicate(timeout=120) for p in readers + [writer]]
    for proc, (out, err) in zip(readers + [writer], outputs):
        assert proc.returncode == 0, err
    assert all(int(out.strip()) >= 1 for out, _ in outputs[:3])
    assert outputs[3][0].strip() == "written"
    assert seed.count("reader-test|v:1") == 300


def test_single_input_and_empty_corpus(tmp_path: Path) -> None:
    cache = StatisticsCache(tmp_path / "c.sqlite")
    refs, hyps = _corpus(1)
    assert len(score(refs, hyps, metrics=[bertscore_minilm()], cache=cache).per_sample) == 1
    refs, hyps = _corpus(0)
    with pytest.raises(InputError, match="no cases to score"):  # not a NaN corpus score
        score(refs, hyps, metrics=[bertscore_minilm()], cache=cache)


def test_corrupted_file_gives_a_clear_error_naming_it(tmp_path: Path) -> None:
    from radeval.errors import InputError
    from radeval.metrics.green_store import JudgeOutputStore

    bad = tmp_path / "cache.sqlite"
    bad.write_bytes(b"this is not a SQLite database " * 10)
    for store in (StatisticsCache, JudgeOutputStore):
        with pytest.raises(InputError, match="cache.sqlite"):
            store(bad)
