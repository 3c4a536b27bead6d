"""Per-sample statistics cache: one SQLite file keyed by (metric signature, hash(ref), hash(hyp)).

A second run on the same inputs reads every row back and makes zero model forward passes; rows are
committed batch by batch, so a killed run keeps what it finished. SQLite in WAL mode lets several
processes read while one writes.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from radeval.errors import InputError
from radeval.paths import radeval_home

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sample_statistics (
    signature TEXT NOT NULL,
    ref_hash  TEXT NOT NULL,
    hyp_hash  TEXT NOT NULL,
    k         INTEGER NOT NULL,
    value     BLOB NOT NULL,
    created   REAL NOT NULL,
    PRIMARY KEY (signature, ref_hash, hyp_hash)
) WITHOUT ROWID
"""


def text_hash(text: str) -> str:
    """SHA-256 of the UTF-8 text, hex (the cache's key for one report)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_cache_path() -> Path:
    """``$RADEVAL_HOME/cache.sqlite``."""
    return radeval_home() / "cache.sqlite"


class PairStore:
    """A SQLite file of rows keyed by (key, hash(reference), hash(hypothesis)), one connection per thread.

    Subclasses set :attr:`TABLE`, :attr:`KEY_COLUMN` and :attr:`SCHEMA` and add typed ``get``/``put``.
    WAL mode lets several processes read while one writes; every ``put`` commits.
    """

    TABLE = ""
    KEY_COLUMN = ""
    SCHEMA = ""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            with self._connection() as con:
                con.execute(self.SCHEMA)
        except sqlite3.Error as exc:
            self.close()
            raise InputError(f"cannot use {self.path} as a radeval SQLite store ({type(exc).__name__}: {exc}); "
                             f"delete or move the file, or point to another one") from None

    def _connection(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=60.0)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        return con

    def _insert(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        marks = ", ".join("?" for _ in rows[0])
        con = self._connection()
        with con:
            con.executemany(f"INSERT OR REPLACE INTO {self.TABLE} VALUES ({marks})", rows)

    def count(self, key: str | None = None) -> int:
        """Number of stored rows, for one key (metric signature, judge) or in total."""
        con = self._connection()
        if key is None:
            return int(con.execute(f"SELECT COUNT(*) FROM {self.TABLE}").fetchone()[0])
        return int(con.execute(f"SELECT COUNT(*) FROM {self.TABLE} WHERE {self.KEY_COLUMN}=?", (key,)).fetchone()[0])

    def close(self) -> None:
        """Close this thread's connection."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


class StatisticsCache(PairStore):
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

    TABLE = "sample_statistics"
    KEY_COLUMN = "signature"
    SCHEMA = _SCHEMA

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(path if path is not None else default_cache_path())

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
                f"SELECT ref_hash, hyp_hash, k, value FROM sample_statistics WHERE signature=? AND ({clause})", params
            ):
                found[(rh, hh)] = np.frombuffer(blob, dtype=np.float64, count=k).copy()
        return [found.get(key) for key in keys]

    def put(self, signature: str, refs: Sequence[str], hyps: Sequence[str], stats: np.ndarray) -> None:
        """Store one statistics row per pair and commit (rows with NaN are not stored)."""
        arr = np.asarray(stats, dtype=np.float64)
        now = time.time()
        rows = []
        for r, h, row in zip(refs, hyps, arr, strict=True):
            if np.all(np.isfinite(row)):
                rows.append((signature, text_hash(r), text_hash(h), int(row.shape[0]), row.tobytes(), now))
        self._insert(rows)


def open_cache(cache: "StatisticsCache | str | Path | bool | None") -> StatisticsCache | None:
    """Turn the accepted ``cache=`` arguments into a cache: ``None``/``False`` -> no cache, ``True`` -> the
    default file, a path -> that file, a :class:`StatisticsCache` -> itself."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return StatisticsCache()
    if isinstance(cache, StatisticsCache):
        return cache
    return StatisticsCache(cache)
