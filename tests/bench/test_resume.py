"""`kill -9` during `radeval bench`, then a re-run: same outputs as an uninterrupted run, finished work kept."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.java, pytest.mark.slow]

OUTPUTS = ("leaderboard.md", "leaderboard.csv", "leaderboard.html", "significance.md", "per_sample.csv", "pairs.csv")


def _bench(suite: Path, out: Path, home: Path) -> subprocess.Popen:
    env = dict(os.environ, RADEVAL_HOME=str(home), PYTHONUTF8="1")
    return subprocess.Popen([sys.executable, "-m", "radeval.cli.main", "bench", str(suite), "--out", str(out), "--quiet"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _rows(db: Path) -> dict[tuple[str, str, str], float]:
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(db, timeout=30) as con:
            return {(s, r, h): c for s, r, h, c in con.execute(  # METEOR rows: the slow metric this test kills
                "SELECT signature, ref_hash, hyp_hash, created FROM sample_statistics WHERE signature LIKE 'meteor%'")}
    except sqlite3.OperationalError:  # table not created yet
        return {}


@pytest.mark.skipif(shutil.which("java") is None, reason="METEOR needs a Java runtime")
def test_kill_then_rerun_matches_uninterrupted_run(make_suite, tmp_path):
    suite = make_suite(n=30, metrics=["meteor", "bleu4", "rougeL"])
    data = yaml.safe_load(suite.read_text())
    data["reader_study"] = {"n": 6, "readers": 2, "seed": 1}
    suite.write_text(yaml.safe_dump(data))

    # Uninterrupted reference run.
    ref_out, ref_home = tmp_path / "ref", tmp_path / "home_ref"
    done = _bench(suite, ref_out, ref_home)
    assert done.wait(timeout=600) == 0, done.stderr.read().decode()

    # Interrupted run: kill -9 as soon as the first system's METEOR statistics are in the cache.
    out, home = tmp_path / "run", tmp_path / "home"
    proc = _bench(suite, out, home)
    db = home / "cache.sqlite"
    deadline = time.time() + 300
    while time.time() < deadline and not _rows(db) and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "bench finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _rows(db)
    assert 0 < len(before) < 3 * 30  # part of the METEOR work was finished, not all of it
    assert not (out / "leaderboard.csv").exists()

    rerun = _bench(suite, out, home)
    assert rerun.wait(timeout=600) == 0, rerun.stderr.read().decode()
    after = _rows(db)
    assert len(after) == 3 * 30
    for key, created in before.items():  # finished work is read back, not recomputed
        assert after[key] == created

    for name in OUTPUTS:
        assert (out / name).read_bytes() == (ref_out / name).read_bytes(), name
    assert (out / "reader_study" / "key" / "study_key.json").is_file()
    assert not list(out.rglob("*.tmp*")), "a temporary file was left behind"
