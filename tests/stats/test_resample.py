"""The shared resample matrices: sacreBLEU-identical draws, chunk equivalence, count matrices, sums."""

from __future__ import annotations

import numpy as np
import pytest

from radeval.stats.resample import (
    CHUNK_BYTES, bootstrap_indices, chunk_rows, counts_from_indices, exact_in_float32, iter_bootstrap_counts,
    iter_bootstrap_indices, iter_swap_masks, make_rng, resampled_sums, swap_masks,
)


def test_r0_vectors(vectors):
    assert bootstrap_indices(5, 2, seed=12345).tolist() == vectors["R0"]["choice_5_2x5"]
    assert swap_masks(5, 2, seed=12345).astype(int).tolist() == vectors["R0"]["bool_5_2x5"]


@pytest.mark.parametrize("n", [7, 12, 3039])
@pytest.mark.parametrize("rows", [1, 3, 32, 100, 1000])
def test_bootstrap_chunks_equal_one_draw(n, rows):
    full = np.random.default_rng(12345).choice(n, size=(1000, n), replace=True)
    chunks = list(iter_bootstrap_indices(n, 1000, make_rng(12345), rows=rows))
    assert sum(c.shape[0] for c in chunks) == 1000
    assert all(c.shape[0] <= rows for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), full)


@pytest.mark.parametrize("n", [5, 12, 301])
@pytest.mark.parametrize("rows", [1, 32, 50, 96, 4000])
def test_swap_mask_chunks_equal_one_draw(n, rows):
    full = np.random.default_rng(12345).integers(2, size=(1000, n), dtype=bool)
    chunks = list(iter_swap_masks(n, 1000, make_rng(12345), rows=rows))
    assert all(c.shape[0] % 32 == 0 for c in chunks[:-1])  # whole 32-bit words per chunk
    np.testing.assert_array_equal(np.concatenate(chunks), full)


def test_masks_then_indices_continue_one_stream():
    # sacreBLEU's AR confidence draws bootstrap indices from the same generator after the masks
    rng = np.random.default_rng(99)
    masks = rng.integers(2, size=(300, 17), dtype=bool)
    idx = rng.choice(17, size=(200, 17), replace=True)
    ours = make_rng(99)
    np.testing.assert_array_equal(np.concatenate(list(iter_swap_masks(17, 300, ours, rows=64))), masks)
    np.testing.assert_array_equal(np.concatenate(list(iter_bootstrap_indices(17, 200, ours, rows=33))), idx)


def test_counts_from_indices_counts_every_draw():
    idx = np.random.default_rng(0).choice(9, size=(50, 9))
    w = counts_from_indices(idx, 9)
    assert w.dtype == np.float64 and w.shape == (50, 9)
    expected = np.stack([np.bincount(row, minlength=9) for row in idx])
    np.testing.assert_array_equal(w, expected)
    np.testing.assert_array_equal(w.sum(axis=1), np.full(50, 9.0))


def test_resampled_sums_equal_indexed_sums():
    stats = np.random.default_rng(1).integers(0, 20, size=(40, 6)).astype(np.float64)
    idx = bootstrap_indices(40, 300, seed=5)
    sums = resampled_sums(stats, iter_bootstrap_counts(40, 300, make_rng(5), rows=64))
    np.testing.assert_array_equal(sums, stats[idx].sum(axis=1))


def test_chunk_rows_bounds_memory():
    for n in (10, 3039, 100_000):
        rows = chunk_rows(n)
        assert rows % 32 == 0 and rows >= 32
        if rows > 32:
            assert rows * n * 8 <= CHUNK_BYTES
    assert chunk_rows(100_000) * 100_000 * 8 <= 2 * CHUNK_BYTES


def test_no_seed_draws_fresh_entropy():
    a = bootstrap_indices(50, 3, seed=None)
    b = bootstrap_indices(50, 3, seed=None)
    assert not np.array_equal(a, b)
    # 0 is a real seed (sacreBLEU would silently treat it as "unseeded")
    np.testing.assert_array_equal(bootstrap_indices(50, 3, seed=0), bootstrap_indices(50, 3, seed=0))


def test_float32_path_is_exact_and_only_for_safe_columns():
    rng = np.random.default_rng(2)
    n = 500
    ints = rng.integers(0, 60, size=(n, 3)).astype(np.float64)
    big = np.full((n, 1), 40_000.0)                  # n × 40,000 > 2**24: must stay float64
    floats = rng.random((n, 2))
    cols = np.hstack([ints, big, floats])
    assert exact_in_float32(cols, n).tolist() == [True, True, True, False, False, False]
    idx = bootstrap_indices(n, 200, seed=3)
    sums = resampled_sums(cols, iter_bootstrap_counts(n, 200, make_rng(3)))
    np.testing.assert_array_equal(sums[:, :4], cols[idx].sum(axis=1)[:, :4])
    np.testing.assert_allclose(sums[:, 4:], cols[idx].sum(axis=1)[:, 4:], rtol=1e-13)
    w64 = counts_from_indices(idx, n)
    np.testing.assert_array_equal(sums[:, 4:], w64 @ floats)  # float columns: a float64 product
