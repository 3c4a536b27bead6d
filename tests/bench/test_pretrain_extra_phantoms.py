"""``embed.pretrain_extra_phantoms`` (issue 15 item 3): validated against the dataset, keyed only when on, and drawn
with the suite dataset's own phantom options and a disjoint seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from radeval.bench.embed import PRETRAIN_EXTRA_SEED_OFFSET, EmbedSpec
from radeval.bench.suite import parse_suite
from radeval.errors import InputError


def _suite(dataset: dict, embed: dict) -> dict:
    return {"name": "t", "dataset": dataset, "embed": embed,
            "systems": [{"name": "baseline", "model": "baseline"}, {"name": "other", "model": "baseline"}],
            "baseline": "baseline", "metrics": ["bleu4"]}


PHANTOM = {"kind": "phantom", "n": 12, "seed": 3, "negation_rate": 0.1, "textured_findings": True}


def test_extra_phantoms_reach_the_pretraining_with_the_dataset_options_and_another_seed(tmp_path: Path) -> None:
    from radeval.bench.pipeline import _extra_phantoms

    suite = parse_suite(_suite(PHANTOM, {"pretrain_epochs": 2, "pretrain_extra_phantoms": 40}), base_dir=tmp_path)
    extra = _extra_phantoms(suite)
    assert extra is not None and extra.n == 40
    assert extra.seed == 3 + PRETRAIN_EXTRA_SEED_OFFSET != suite.dataset.seed
    assert dict(extra.options) == {"labels": "ct-rate", "negation_rate": 0.1, "textured": True}
    none = parse_suite(_suite(PHANTOM, {"pretrain_epochs": 2}), base_dir=tmp_path)
    assert _extra_phantoms(none) is None


def test_embedding_cache_key_names_extra_phantoms_only_when_on() -> None:
    """Suites without extra phantoms keep the embedding cache key they had before the option existed."""
    assert "pretrain_extra_phantoms" not in EmbedSpec(pretrain_epochs=20).cache_settings()
    assert EmbedSpec(pretrain_epochs=20, pretrain_extra_phantoms=250).cache_settings()["pretrain_extra_phantoms"] == 250
    assert (EmbedSpec(pretrain_epochs=20).cache_settings()
            == {k: v for k, v in EmbedSpec(pretrain_epochs=20, pretrain_extra_phantoms=5).cache_settings().items()
                if k != "pretrain_extra_phantoms"})


@pytest.mark.parametrize("dataset, embed, message", [
    ({"kind": "ctrate", "root": "."}, {"pretrain_epochs": 2, "pretrain_extra_phantoms": 8},
     r"embed.pretrain_extra_phantoms: extra pretraining phantoms are drawn like a phantom dataset; dataset kind is "
     r"'ctrate'"),
    (PHANTOM, {"pretrain_extra_phantoms": 8}, r"embed.pretrain_extra_phantoms: .*set embed.pretrain_epochs > 0"),
    ({**PHANTOM, "seed": PRETRAIN_EXTRA_SEED_OFFSET}, {"pretrain_epochs": 2, "pretrain_extra_phantoms": 8},
     r"dataset.seed: 1000003: with embed.pretrain_extra_phantoms the dataset seed must be below"),
    (PHANTOM, {"pretrain_epochs": 2, "pretrain_extra_phantoms": -1}, r"embed.pretrain_extra_phantoms"),
])
def test_extra_phantoms_need_a_phantom_dataset_and_pretraining(tmp_path: Path, dataset: dict, embed: dict,
                                                              message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_suite(_suite(dataset, embed), base_dir=tmp_path)
