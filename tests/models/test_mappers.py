"""Mapper shapes and parameter counts against the reference decomposition (built on the meta device)."""

from __future__ import annotations

import pytest
import torch

from radeval_models.mappers import LinearMapper, ProjectionNormMapper, TransformerMapper


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("input_dim", "expected"), [(512, 279_093_248), (530, 279_461_888)])
def test_transformer_mapper_matches_paper_counts(input_dim: int, expected: int) -> None:
    with torch.device("meta"):
        mapper = TransformerMapper(input_dim, 2048, prefix_length=10, clip_length=10, num_layers=8, num_heads=8)
    assert _count(mapper) == expected


@pytest.mark.parametrize(("layers", "expected530", "expected512"), [
    (2, 78_036_992, 77_668_352), (4, 145_178_624, 144_809_984), (16, 548_028_416, 547_659_776)])
def test_depth_ablation_sizes(layers: int, expected530: int, expected512: int) -> None:
    with torch.device("meta"):
        assert _count(TransformerMapper(530, 2048, num_layers=layers)) == expected530
        assert _count(TransformerMapper(512, 2048, num_layers=layers)) == expected512


@pytest.mark.parametrize(("length", "expected"), [(2, 270_745_600), (5, 274_014_208), (7, 276_193_280),
                                                  (14, 283_820_032)])
def test_prefix_length_ablation_sizes(length: int, expected: int) -> None:
    with torch.device("meta"):
        assert _count(TransformerMapper(530, 2048, prefix_length=length, clip_length=length)) == expected


def test_linear_and_projection_counts() -> None:
    with torch.device("meta"):
        assert _count(LinearMapper(530, 2048, prefix_length=10)) == 10_874_880
        assert _count(ProjectionNormMapper(512, 2048)) == 1_054_720


def test_output_is_the_constant_positions_and_depends_on_input() -> None:
    torch.manual_seed(0)
    mapper = TransformerMapper(16, 32, prefix_length=3, clip_length=5, num_layers=2, num_heads=4)
    x = torch.randn(2, 16)
    out = mapper(x)
    assert out.shape == (2, 3, 32)
    assert not torch.allclose(out[0], out[1])  # the input reaches the constants through attention
    assert torch.allclose(mapper(x[:1]), out[:1], atol=1e-6)  # rows are independent


def test_heads_must_divide_width() -> None:
    with pytest.raises(ValueError, match="not divisible"):
        TransformerMapper(8, 30, num_heads=8)
