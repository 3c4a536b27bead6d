"""Per-sample statistics cache: one SQLite file keyed by (metric signature, hash(ref), hash(hyp)).

A second run on the same inputs reads every row back and makes zero model forward passes; rows are
committed batch by batch, so a killed run keeps what it finished. SQLite in WAL mode lets several
processes read while one writes.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from radeval.paths import radeval_home

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stats (
    signature TEXT NOT NULL,
    ref_hash  TEXT NOT NULL,
    hyp_hash  TEXT NOT NULL,
    k         INTEGER NOT NULL,
    value     BLOB NOT NULL,
    PRIMARY KEY (signature, ref_hash, hyp_hash)
) WITHOUT ROWID
"""


def text_hash(text: str) -> str:
    """SHA-256 of the UTF-8 text, hex (the cache's key for one report)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_cache_path() -> Path:
    """``$RADEVAL_HOME/cache.sqlite``."""
    return radeval_home() / "cache.sqlite"


class StatisticsCache:
    """SQLite store of per-sample metric statistics.

    Args:
        path: the database file (created if missing); default :func:`default_cache_path`.

    Example:
        >>> import tempfile, numpy as np
        >>> c = StatisticsCache(tempfile.mkdtemp() + "/c.sqlite")
        >>> c.put("m|v:1", ["ref"], ["hyp"], np.array([[0.5, 1.0]]))
        >>> c.get("m|v:1", ["ref", "other"], ["hyp", "hyp"])[0].tolist(), c.get("m|v:1", ["other"], ["hyp"])[0]
        ([0.5, 1.0], None)
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connection() as con:
            con.execute(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=60.0)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        return con

    def get(self, signature: str, refs: Sequence[str], hyps: Sequence[str]) -> list[np.ndarray | None]:
        """Cached statistics rows for each pair, ``None`` where not cached."""
        keys = [(text_hash(r), text_hash(h)) for r, h in zip(refs, hyps, strict=True)]
        found: dict[tuple[str, str], np.ndarray] = {}
        con = self._connection()
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 400):
            chunk = unique[start:start + 400]
            clause = " OR ".join("(ref_hash=? AND hyp_hash=?)" for _ in chunk)
            params: list[str] = [signature]
            for rh, hh in chunk:
                params += [rh, hh]
            for rh, hh, k, blob in con.execute(
                f"SELECT ref_hash, hyp_hash, k, value FROM stats WHERE signature=? AND ({clause})", params
            ):
                found[(rh, hh)] = np.frombuffer(blob, dtype=np.float64, count=k).copy()
        return [found.get(key) for key in keys]

    def put(self, signature: str, refs: Sequence[str], hyps: Sequence[str], stats: np.ndarray) -> None:
        """Store one statistics row per pair and commit (rows with NaN are not stored)."""
        arr = np.asarray(stats, dtype=np.float64)
        rows = []
        for r, h, row in zip(refs, hyps, arr, strict=True):
            if np.all(np.isfinite(row)):
                rows.append((signature, text_hash(r), text_hash(h), int(row.shape[0]), row.tobytes()))
        if not rows:
            return
        con = self._connection()
        with con:
            con.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?)", rows)

    def count(self, signature: str | None = None) -> int:
        """Number of cached rows, for one signature or in total."""
        con = self._connection()
        if signature is None:
            return int(con.execute("SELECT COUNT(*) FROM stats").fetchone()[0])
        return int(con.execute("SELECT COUNT(*) FROM stats WHERE signature=?", (signature,)).fetchone()[0])

    def close(self) -> None:
        """Close this thread's connection."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
