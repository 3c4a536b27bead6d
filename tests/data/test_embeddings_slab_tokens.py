"""Slab tokens in the embedding file: round trip, subsetting, validation naming the case."""

from __future__ import annotations

import numpy as np
import pytest

from radeval.data.embeddings import EmbeddingSet, load_embeddings, save_embeddings
from radeval.errors import InputError


def _set(slabs: np.ndarray | None) -> EmbeddingSet:
    rng = np.random.default_rng(0)
    return EmbeddingSet(["a", "b", "c"], rng.normal(size=(3, 4)), rng.normal(size=(3, 2)), ["x", "y"], {"k": 1},
                        slab_tokens=slabs)


def test_round_trip_keeps_slab_tokens(tmp_path):
    slabs = np.arange(3 * 5 * 6, dtype=np.float32).reshape(3, 5, 6)
    save_embeddings(tmp_path / "e.safetensors", _set(slabs))
    back = load_embeddings(tmp_path / "e.safetensors")
    assert back.slab_tokens is not None and back.slab_tokens.dtype == np.float32
    np.testing.assert_array_equal(back.slab_tokens, slabs)
    np.testing.assert_array_equal(back.subset(["c", "a"]).slab_tokens, slabs[[2, 0]])


def test_file_without_slab_tokens_reads_none(tmp_path):
    save_embeddings(tmp_path / "e.safetensors", _set(None))
    back = load_embeddings(tmp_path / "e.safetensors")
    assert back.slab_tokens is None and back.subset(["b"]).slab_tokens is None


def test_wrong_shape_is_refused():
    with pytest.raises(InputError, match="slab_tokens must be"):
        _set(np.zeros((3, 5), dtype=np.float32))
    with pytest.raises(InputError, match="slab_tokens must be"):
        _set(np.zeros((2, 5, 6), dtype=np.float32))


def test_non_finite_slab_tokens_name_the_case():
    slabs = np.zeros((3, 5, 6), dtype=np.float32)
    slabs[1, 2, 3] = np.nan
    with pytest.raises(InputError, match=r"non-finite slab tokens.*'b'"):
        _set(slabs)
