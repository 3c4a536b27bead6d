"""ColumnPack: stacking statistics blocks with identical columns stored once."""

from __future__ import annotations

import numpy as np
import pytest

from radeval.stats.columns import ColumnPack


def test_duplicate_columns_are_stored_once_and_positions_map_back():
    rng = np.random.default_rng(0)
    a = rng.random((30, 2, 3))                       # (N, K, k) block
    b = np.concatenate([a[:, :, :2], np.ones((30, 2, 1))], axis=2)
    pack = ColumnPack()
    pa, pb = pack.add(a), pack.add(b)
    assert pa.shape == (2, 3) and pb.shape == (2, 3)
    assert len(pack) == 6 + 1                        # b repeats a's first two columns; ones are new
    m = pack.matrix()
    np.testing.assert_array_equal(m[:, pa], a)
    np.testing.assert_array_equal(m[:, pb], b)


def test_row_count_must_agree():
    pack = ColumnPack()
    pack.add(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="3 rows, expected 5"):
        pack.add(np.zeros((3, 2)))


def test_empty_pack():
    assert ColumnPack().matrix().shape == (0, 0)
