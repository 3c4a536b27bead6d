"""The shared resampling matrices: bootstrap indices / counts and randomization swap masks.

One seeded generator draws every matrix once; every system and every metric reuse it. The draws
are made in row chunks so memory stays bounded (N up to 100,000 cases), and the chunks are
*stream-equivalent* to one big draw:

* bootstrap indices: ``np.random.default_rng(seed).choice(N, size=(B, N), replace=True)`` — the
  same call sacreBLEU makes, so with the same seed, N and B the indices are identical to its
  ``--paired-bs`` resamples. Bounded integer draws consume the generator element by element, so
  any row split gives the same concatenation.
* swap masks (approximate randomization): ``rng.integers(2, size=(R, N), dtype=bool)``. numpy
  fills booleans from 32-bit words and drops a word's unused bits at the end of each call, so the
  row split is kept to multiples of 32 rows (every chunk then uses whole words).

A chunk of indices becomes a count matrix ``W`` (``W[b, i]`` = how often case ``i`` was drawn in
resample ``b``) with a ``bincount`` per row; ``W @ stats`` then gives every resample's summed statistics
with one matrix product.

Example:
    >>> bootstrap_indices(5, 2, seed=12345).tolist()
    [[3, 1, 3, 1, 1], [3, 3, 3, 4, 1]]
    >>> swap_masks(5, 2, seed=12345).astype(int).tolist()
    [[1, 0, 1, 1, 1], [0, 0, 1, 1, 0]]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

#: Bytes one chunk's count matrix may take (float64, rows × N).
CHUNK_BYTES = 32 * 2**20

#: Row chunks of swap masks are multiples of this (numpy draws booleans 32 at a time).
MASK_ROW_MULTIPLE = 32


def make_rng(seed: int | None) -> np.random.Generator:
    """The generator every significance test draws from.

    Args:
        seed: an integer seed (``0`` is a real seed here, unlike sacreBLEU), or ``None`` for OS entropy.

    Returns:
        ``np.random.default_rng(seed)`` (PCG64).
    """
    return np.random.default_rng(seed)


def chunk_rows(n: int, *, budget_bytes: int = CHUNK_BYTES, multiple: int = MASK_ROW_MULTIPLE) -> int:
    """Rows per chunk so that a float64 ``rows × n`` matrix stays within ``budget_bytes``.

    Args:
        n: number of cases (columns).
        budget_bytes: memory budget of one chunk.
        multiple: the row count is rounded down to a multiple of this (at least one multiple).

    Returns:
        a positive row count, a multiple of ``multiple``.

    Example:
        >>> chunk_rows(100_000)
        32
        >>> chunk_rows(3039) % 32
        0
    """
    rows = budget_bytes // (8 * max(int(n), 1))
    return max(multiple, (rows // multiple) * multiple)


def _row_splits(total: int, rows: int) -> Iterator[int]:
    done = 0
    while done < total:
        step = min(rows, total - done)
        yield step
        done += step


def iter_bootstrap_indices(n: int, resamples: int, rng: np.random.Generator, *,
                           rows: int | None = None) -> Iterator[np.ndarray]:
    """Yield the bootstrap index matrix in row chunks.

    Concatenating the chunks gives exactly ``rng.choice(n, size=(resamples, n), replace=True)``.

    Args:
        n: number of cases.
        resamples: number of bootstrap resamples B.
        rng: the generator (consumed).
        rows: rows per chunk (default :func:`chunk_rows`).

    Yields:
        int64 arrays of shape ``(rows, n)``.
    """
    for step in _row_splits(resamples, rows or chunk_rows(n)):
        yield rng.choice(n, size=(step, n), replace=True)


def counts_from_indices(indices: np.ndarray, n: int, *, dtype: type = np.float64) -> np.ndarray:
    """Turn a ``(b, n_draws)`` index chunk into a ``(b, n)`` count matrix (a ``bincount`` per row).

    Args:
        indices: integer indices in ``[0, n)``.
        n: number of cases.
        dtype: float type of the result (counts are small integers, exact in float32 too).

    Returns:
        ``W`` with ``W[r, i]`` = number of times case ``i`` occurs in row ``r``.

    Example:
        >>> counts_from_indices(np.array([[3, 1, 3, 1, 1]]), 5).tolist()
        [[0.0, 3.0, 0.0, 2.0, 0.0]]
    """
    idx = np.asarray(indices, dtype=np.int64)
    out = np.empty((idx.shape[0], n), dtype=dtype)
    for row, drawn in enumerate(idx):  # one bincount per row: its n counters stay in cache
        out[row] = np.bincount(drawn, minlength=n)
    return out


def iter_bootstrap_counts(n: int, resamples: int, rng: np.random.Generator, *,
                          rows: int | None = None) -> Iterator[np.ndarray]:
    """Yield bootstrap count matrices ``W`` (float32, exact) chunk by chunk (see :func:`iter_bootstrap_indices`)."""
    for idx in iter_bootstrap_indices(n, resamples, rng, rows=rows):
        yield counts_from_indices(idx, n, dtype=np.float32)


def iter_swap_masks(n: int, trials: int, rng: np.random.Generator, *,
                    rows: int | None = None) -> Iterator[np.ndarray]:
    """Yield the randomization swap masks in row chunks.

    Concatenating the chunks gives exactly ``rng.integers(2, size=(trials, n), dtype=bool)`` (the
    masks sacreBLEU's ``--paired-ar`` draws). ``True`` keeps a case's outputs in place.

    Args:
        n: number of cases.
        trials: number of randomization trials R.
        rng: the generator (consumed).
        rows: rows per chunk; rounded down to a multiple of 32 (default :func:`chunk_rows`).

    Yields:
        boolean arrays of shape ``(rows, n)``.
    """
    step_rows = rows or chunk_rows(n)
    step_rows = max(MASK_ROW_MULTIPLE, (step_rows // MASK_ROW_MULTIPLE) * MASK_ROW_MULTIPLE)
    for step in _row_splits(trials, step_rows):
        yield rng.integers(2, size=(step, n), dtype=bool)


def bootstrap_indices(n: int, resamples: int, *, seed: int | None = 12345) -> np.ndarray:
    """The whole ``(resamples, n)`` index matrix at once (for small problems and tests)."""
    return np.concatenate(list(iter_bootstrap_indices(n, resamples, make_rng(seed))), axis=0)


def swap_masks(n: int, trials: int, *, seed: int | None = 12345) -> np.ndarray:
    """The whole ``(trials, n)`` swap-mask matrix at once (for small problems and tests)."""
    return np.concatenate(list(iter_swap_masks(n, trials, make_rng(seed))), axis=0)


def exact_in_float32(columns: np.ndarray, max_weight_sum: int) -> np.ndarray:
    """Which columns a float32 product computes *exactly*: integer-valued with small partial sums.

    A column of integers whose weighted partial sums stay below ``2**24`` in magnitude is summed
    without rounding in float32 (every product and partial sum is an integer float32 represents), so
    the float32 matrix product returns the same numbers as float64, about twice as fast.

    Args:
        columns: ``(n, c)`` statistics.
        max_weight_sum: the largest row sum of the weight matrices (``n`` for bootstrap counts and
            for swap masks).

    Returns:
        ``(c,)`` boolean mask.
    """
    cols = np.asarray(columns, dtype=np.float64)
    if cols.size == 0:
        return np.zeros(cols.shape[1] if cols.ndim == 2 else 0, dtype=bool)
    integral = np.all(cols == np.round(cols), axis=0)
    bound = np.abs(cols).max(axis=0) * max(int(max_weight_sum), 1)
    return integral & (bound < 2**24)


def resampled_sums(columns: np.ndarray, weights: Iterator[np.ndarray]) -> np.ndarray:
    """Summed statistics of every resample: the stacked products ``W_chunk @ columns``.

    Integer columns with small sums go through a float32 product (exact, see
    :func:`exact_in_float32`); every other column through float64.

    Args:
        columns: ``(n, c)`` per-case statistics (any number of stacked columns).
        weights: chunks of ``(b, n)`` non-negative weight matrices whose rows sum to at most ``n``
            (bootstrap counts or 0/1 swap masks).

    Returns:
        ``(sum of b, c)`` float64.
    """
    cols = np.ascontiguousarray(columns, dtype=np.float64)
    fast = exact_in_float32(cols, cols.shape[0])
    cols32 = np.ascontiguousarray(cols[:, fast], dtype=np.float32)
    cols64 = np.ascontiguousarray(cols[:, ~fast])
    parts = []
    for w in weights:
        out = np.empty((w.shape[0], cols.shape[1]), dtype=np.float64)
        if cols32.shape[1]:
            out[:, fast] = np.asarray(w, dtype=np.float32) @ cols32
        if cols64.shape[1]:
            out[:, ~fast] = np.asarray(w, dtype=np.float64) @ cols64
        parts.append(out)
    if not parts:
        return np.zeros((0, cols.shape[1]), dtype=np.float64)
    return np.concatenate(parts, axis=0)
