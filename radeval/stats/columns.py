"""Stack many ``(N, k)`` statistics blocks into one de-duplicated ``(N, C)`` column matrix.

Every resample of every system and metric is then one matrix product ``W @ columns``. Identical
columns are stored once: BLEU-1..4 share their counts, and every mean metric's count column
(all ones) is the same vector, so the product stays narrow.

Example:
    >>> pack = ColumnPack()
    >>> a = pack.add(np.array([[1.0, 1.0], [2.0, 1.0]]))
    >>> b = pack.add(np.array([[5.0, 1.0], [6.0, 1.0]]))
    >>> pack.matrix().shape, a.tolist(), b.tolist()
    ((2, 3), [0, 1], [2, 1])
"""

from __future__ import annotations

import numpy as np


class ColumnPack:
    """Collects statistics blocks column by column, storing each distinct column once."""

    def __init__(self) -> None:
        self._columns: list[np.ndarray] = []
        self._index: dict[bytes, int] = {}
        self._n: int | None = None

    def add(self, block: np.ndarray) -> np.ndarray:
        """Add a block of per-case statistics.

        Args:
            block: ``(N, ...)`` array; every trailing position is one column.

        Returns:
            integer positions of the block's columns in :meth:`matrix`, shaped like ``block.shape[1:]``.

        Raises:
            ValueError: if ``N`` differs from the blocks added before.
        """
        arr = np.asarray(block, dtype=np.float64)
        n = arr.shape[0]
        if self._n is None:
            self._n = n
        elif n != self._n:
            raise ValueError(f"column block has {n} rows, expected {self._n}")
        flat = np.ascontiguousarray(arr.reshape(n, -1).T)
        out = np.empty(flat.shape[0], dtype=np.int64)
        for j, col in enumerate(flat):
            key = col.tobytes()
            pos = self._index.get(key)
            if pos is None:
                pos = len(self._columns)
                self._index[key] = pos
                self._columns.append(col)
            out[j] = pos
        return out.reshape(arr.shape[1:])

    def matrix(self) -> np.ndarray:
        """The ``(N, C)`` float64 matrix of distinct columns."""
        if not self._columns:
            return np.zeros((self._n or 0, 0), dtype=np.float64)
        return np.ascontiguousarray(np.stack(self._columns, axis=1))

    def __len__(self) -> int:
        return len(self._columns)
