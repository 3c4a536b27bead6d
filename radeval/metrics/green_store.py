"""SQLite store of GREEN judge outputs, keyed by (judge key, hash(reference), hash(hypothesis)).

The judge is the expensive part of GREEN; its text answers are kept so that the per-category error
counts, the corpus summary, or a re-parse with other parser settings never need the judge again.
Outputs are committed as they arrive, so a killed run keeps every answer it received. WAL mode lets
several processes read while one writes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from radeval.cache import PairStore, text_hash
from radeval.paths import radeval_home

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judge_outputs (
    judge    TEXT NOT NULL,
    ref_hash TEXT NOT NULL,
    hyp_hash TEXT NOT NULL,
    output   TEXT NOT NULL,
    created  REAL NOT NULL,
    PRIMARY KEY (judge, ref_hash, hyp_hash)
) WITHOUT ROWID
"""


def default_store_path() -> Path:
    """``$RADEVAL_HOME/green_judge_outputs.sqlite``."""
    return radeval_home() / "green_judge_outputs.sqlite"


class JudgeOutputStore(PairStore):
    """Judge answers by (judge key, reference, hypothesis).

    Args:
        path: the SQLite file (created if missing); default :func:`default_store_path`.

    Example:
        >>> import tempfile
        >>> s = JudgeOutputStore(tempfile.mkdtemp() + "/g.sqlite")
        >>> s.put("judge-a", ["ref"], ["hyp"], ["[Matched Findings]:\\n1. x"])
        >>> s.get("judge-a", ["ref", "ref"], ["hyp", "other"])
        ['[Matched Findings]:\\n1. x', None]
    """

    TABLE = "judge_outputs"
    KEY_COLUMN = "judge"
    SCHEMA = _SCHEMA

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(path if path is not None else default_store_path())

    def get(self, judge: str, refs: Sequence[str], hyps: Sequence[str]) -> list[str | None]:
        """The stored output for each pair, ``None`` where there is none."""
        con = self._connection()
        out: list[str | None] = []
        for ref, hyp in zip(refs, hyps, strict=True):
            row = con.execute("SELECT output FROM judge_outputs WHERE judge=? AND ref_hash=? AND hyp_hash=?",
                              (judge, text_hash(ref), text_hash(hyp))).fetchone()
            out.append(None if row is None else str(row[0]))
        return out

    def put(self, judge: str, refs: Sequence[str], hyps: Sequence[str], outputs: Sequence[str]) -> None:
        """Store one output per pair and commit."""
        now = time.time()
        self._insert([(judge, text_hash(r), text_hash(h), o, now) for r, h, o in zip(refs, hyps, outputs, strict=True)])


__all__ = ["JudgeOutputStore", "default_store_path"]
