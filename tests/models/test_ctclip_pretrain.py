"""The demo-only label-supervised pretraining of the small CT-ViT: it learns, it is cached by content, it is keyed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from radeval_models.ctclip import pretrain as pretrain_module
from radeval_models.ctclip.config import CTViTConfig
from radeval_models.ctclip.embed import EmbedConfig, embed_dataset
from radeval_models.ctclip.encoder import CTClipImageEncoder
from radeval_models.ctclip.label_head import LabelHeadTrainConfig
from radeval_models.ctclip.pretrain import EncoderPretrainConfig, pretrain_encoder, pretrain_key, pretrained_dir
from radeval.data.embeddings import load_embeddings
from radeval.errors import InputError

TINY = CTViTConfig(dim=16, codebook_size=32, image_size=16, frames=8, patch_size=8, temporal_patch_size=4,
                   spatial_depth=1, temporal_depth=1, heads=2, dim_head=8, dim_latent=16)


def _bright_cube_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise volumes; label 1 = a bright 4x8x8 block in the first patch, label 2 = in the last one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, size=(n, 1, 8, 16, 16)).astype(np.float32)
    y = rng.integers(0, 2, size=(n, 2))
    x[y[:, 0] == 1, :, :4, :8, :8] += rng.normal(0, 1.0, size=(int(y[:, 0].sum()), 1, 4, 8, 8)).astype(np.float32)
    x[y[:, 1] == 1, :, 4:, 8:, 8:] += rng.normal(0, 1.0, size=(int(y[:, 1].sum()), 1, 4, 8, 8)).astype(np.float32)
    return x, y


def test_pretraining_lowers_the_loss_and_changes_only_the_embedding_path() -> None:
    torch.manual_seed(0)
    enc = CTClipImageEncoder(TINY)
    decoder_before = enc.visual_transformer.to_pixels[0].weight.clone()
    latent_before = enc.to_visual_latent.weight.clone()
    x, y = _bright_cube_data(32, 0)
    history = pretrain_encoder(enc, x, y, config=EncoderPretrainConfig(epochs=12, batch_size=8, lr=3e-3))
    assert len(history) == 12 and history[-1] < 0.8 * history[0]
    assert not enc.training
    assert torch.equal(enc.visual_transformer.to_pixels[0].weight, decoder_before)  # not on the embedding path
    assert not torch.equal(enc.to_visual_latent.weight, latent_before)
    with pytest.raises(InputError, match="same n > 0"):
        pretrain_encoder(enc, x[:3], y, config=EncoderPretrainConfig(epochs=1))


@pytest.mark.parametrize("n, epochs", [(8, 1), (24, 2), (40, 2), (80, 1)])
def test_short_pretraining_runs(n: int, epochs: int) -> None:
    """1 to 10 optimizer steps (a small suite with few pretraining epochs; 10 steps made the 10% warm-up zero steps
    long): the schedule must not divide by zero."""
    torch.manual_seed(0)
    x, y = _bright_cube_data(n, 1)
    history = pretrain_encoder(CTClipImageEncoder(TINY), x, y, config=EncoderPretrainConfig(epochs=epochs, batch_size=8))
    assert len(history) == epochs and all(np.isfinite(history))


def test_key_follows_labels_volumes_and_settings() -> None:
    base = dict(encoder_config=TINY.to_dict(), preprocess="p", config=EncoderPretrainConfig(epochs=2), init_seed=0,
                cases=[("a", "h1", [0, 1]), ("b", "h2", [1, 0])])
    key = pretrain_key(**base)
    assert key == pretrain_key(**base)
    assert key != pretrain_key(**{**base, "cases": [("a", "h1", [0, 1]), ("b", "h2", [1, 1])]})  # a label
    assert key != pretrain_key(**{**base, "cases": [("a", "h1", [0, 1]), ("b", "h3", [1, 0])]})  # a volume
    assert key != pretrain_key(**{**base, "config": EncoderPretrainConfig(epochs=3)})
    assert key != pretrain_key(**{**base, "init_seed": 1})


def test_embedding_with_pretraining_is_cached_in_radeval_home(tmp_path: Path, monkeypatch) -> None:
    from radeval.data.phantom import make_phantom_dataset

    monkeypatch.setenv("RADEVAL_HOME", str(tmp_path / "home"))
    root = make_phantom_dataset(tmp_path / "ph", n=10, seed=3)
    head = LabelHeadTrainConfig(epochs=3)
    cfg = EmbedConfig(encoder="small", batch_size=4, head_training=head,
                      pretrain=EncoderPretrainConfig(epochs=1, batch_size=4))
    embed_dataset(root, tmp_path / "e1", cfg, progress=False)
    first = load_embeddings(tmp_path / "e1" / "valid.safetensors")
    assert first.provenance["weights"].startswith("demo-pretrained(seed=0, 1 epochs on ")
    cached = list((tmp_path / "home" / "encoders").glob("ctvit-pretrained-*/encoder.safetensors"))
    assert len(cached) == 1

    def must_not_train(*_a, **_k):
        raise AssertionError("the cached pretraining was not reused")

    monkeypatch.setattr("radeval_models.ctclip.embed.pretrain_encoder", must_not_train)
    embed_dataset(root, tmp_path / "e2", cfg, progress=False)
    again = load_embeddings(tmp_path / "e2" / "valid.safetensors")
    np.testing.assert_array_equal(first.embeddings, again.embeddings)

    plain = EmbedConfig(encoder="small", batch_size=4, head_training=head)
    embed_dataset(root, tmp_path / "e3", plain, progress=False)
    random_init = load_embeddings(tmp_path / "e3" / "valid.safetensors")
    assert random_init.provenance["weights"] == "untrained-random-init(seed=0)"
    assert not np.allclose(first.embeddings, random_init.embeddings)
    assert pretrained_dir("x").parent == tmp_path / "home" / "encoders"
    assert pretrain_module.LATENT_SCALE > 1


def test_pretraining_refuses_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="without checkpoint"):
        EmbedConfig(encoder="small", checkpoint=tmp_path / "w.pt", pretrain=EncoderPretrainConfig(epochs=1))


def test_suite_cache_key_names_pretraining_only_when_on() -> None:
    """Suites without pretraining keep their cached embeddings; a pretrained encoder gets its own embeddings."""
    from radeval.bench.embed import EmbedSpec

    assert "pretrain_epochs" not in EmbedSpec().cache_settings()
    assert EmbedSpec(pretrain_epochs=20).cache_settings()["pretrain_epochs"] == 20


def test_key_names_extra_phantoms_only_when_given() -> None:
    """Without extra volumes the key is the one pretrainings had before the option; with them it follows their
    count, seed and phantom options."""
    from radeval_models.ctclip.extra_phantoms import ExtraPhantoms

    base = dict(encoder_config=TINY.to_dict(), preprocess="p", config=EncoderPretrainConfig(epochs=2), init_seed=0,
                cases=[("a", "h1", [0, 1])])
    extra = ExtraPhantoms(n=8, seed=1_000_003, options={"textured": True, "shape": (16, 16, 12)})
    key = pretrain_key(**base, extra=extra.to_dict())
    assert pretrain_key(**base) == pretrain_key(**base, extra=None) != key
    assert key == pretrain_key(**base, extra=ExtraPhantoms(n=8, seed=1_000_003,
                                                           options={"shape": [16, 16, 12], "textured": True}).to_dict())
    for changed in (ExtraPhantoms(n=9, seed=extra.seed, options=extra.options),
                    ExtraPhantoms(n=8, seed=4, options=extra.options),
                    ExtraPhantoms(n=8, seed=extra.seed, options={"shape": (16, 16, 12)})):
        assert pretrain_key(**base, extra=changed.to_dict()) != key


def test_extra_phantom_settings_are_checked() -> None:
    from radeval_models.ctclip.extra_phantoms import ExtraPhantoms

    with pytest.raises(InputError, match="n=1"):
        ExtraPhantoms(n=1, seed=0)
    with pytest.raises(InputError, match=r"unknown phantom option\(s\) \['colour'\]"):
        ExtraPhantoms(n=4, seed=0, options={"colour": 1})
    with pytest.raises(InputError, match="set pretrain epochs > 0"):
        EmbedConfig(encoder="small", pretrain_extra=ExtraPhantoms(n=4, seed=0))
    with pytest.raises(InputError, match="pooled_head >= 0"):
        EncoderPretrainConfig(epochs=1, pooled_head=-1.0)


def test_pooled_head_trains_the_tokens_position_invariantly() -> None:
    """The throw-away pooled head (max over token positions) adds a loss: with it the encoder ends elsewhere than
    with the latent head alone, and ``pooled_head=0`` is the latent-head-only recipe."""
    x, y = _bright_cube_data(16, 2)
    weights = {}
    for w in (0.0, 1.0):
        torch.manual_seed(0)
        enc = CTClipImageEncoder(TINY)
        pretrain_encoder(enc, x, y, config=EncoderPretrainConfig(epochs=2, batch_size=8, pooled_head=w))
        weights[w] = enc.visual_transformer.to_patch_emb[2].weight.detach().clone()
    assert not torch.equal(weights[0.0], weights[1.0])


def test_extra_phantoms_feed_the_pretraining_and_no_evaluation_volume_is_read(tmp_path: Path, monkeypatch) -> None:
    """The pretraining reads the train split and the freshly drawn extra phantoms (in a temporary folder, deleted
    afterwards): never a volume of the evaluation split. Its cache entry records the extra set."""
    import json

    from radeval_models.ctclip import embed as embed_module
    from radeval_models.ctclip.extra_phantoms import ExtraPhantoms
    from radeval.data.ctrate import CTRateDataset
    from radeval.data.phantom import make_phantom_dataset

    monkeypatch.setenv("RADEVAL_HOME", str(tmp_path / "home"))
    root = make_phantom_dataset(tmp_path / "ph", n=8, seed=3, textured=True)
    extra = ExtraPhantoms(n=4, seed=3 + 1_000_003, options={"textured": True})
    cfg = EmbedConfig(encoder="small", batch_size=4, pretrain=EncoderPretrainConfig(epochs=1, batch_size=4),
                      pretrain_extra=extra)
    read: list[Path] = []
    real_read = embed_module.read_volume

    def recording_read(path, *a, **k):
        read.append(Path(path))
        return real_read(path, *a, **k)

    monkeypatch.setattr(embed_module, "read_volume", recording_read)
    dataset = CTRateDataset(root)
    enc = CTClipImageEncoder(CTViTConfig.small())
    provenance = embed_module._pretrained(enc, dataset, cfg, progress=False)
    assert "+ 4 extra phantom volumes (seed 1000006)" in provenance
    train = {dataset.volume_path(c) for c in dataset.case_ids("train")}
    valid = {dataset.volume_path(c) for c in dataset.case_ids("valid")}
    assert valid and not valid & set(read)
    from_dataset = [p for p in read if p.is_relative_to(root)]
    extra_read = [p for p in read if not p.is_relative_to(root)]
    assert set(from_dataset) == train and len(extra_read) == 4
    assert not any(p.exists() for p in extra_read)  # the temporary extra set is gone
    meta = json.loads(next((tmp_path / "home" / "encoders").glob("*/pretrain.json")).read_text())
    assert meta["n_volumes"] == len(train) + 4 and meta["extra"]["seed"] == 1000006
    # a second encoder loads the cached weights without drawing the extra phantoms again
    monkeypatch.setattr(embed_module, "draw_extra_phantoms", lambda *a, **k: pytest.fail("extra set redrawn"))
    again = CTClipImageEncoder(CTViTConfig.small())
    assert embed_module._pretrained(again, dataset, cfg, progress=False) == provenance
    for a, b in zip(enc.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_extra_phantom_chunks_do_not_depend_on_the_number_of_processes() -> None:
    """The extra set is drawn chunk by chunk (seed + j each); drawn in one process or in two, the volumes and labels
    are the same, in chunk order, and the chunk layout is part of the cache key."""
    from radeval_models.ctclip import embed as embed_module
    from radeval_models.ctclip.extra_phantoms import ExtraPhantoms

    extra = ExtraPhantoms(n=9, seed=11, options={"shape": (16, 16, 12)}, chunk_size=4)
    assert extra.chunks() == [(3, 11), (3, 12), (3, 13)]
    assert ExtraPhantoms(n=5, seed=0, chunk_size=4).chunks() == [(3, 0), (2, 1)]
    assert extra.to_dict() != ExtraPhantoms(n=9, seed=11, options={"shape": (16, 16, 12)}, chunk_size=5).to_dict()
    cfg = EmbedConfig(encoder="small", pretrain=EncoderPretrainConfig(epochs=1), pretrain_extra=extra)
    x1, y1 = embed_module._extra_volumes(extra, cfg, workers=1)
    x2, y2 = embed_module._extra_volumes(extra, cfg, workers=2)
    assert x1.shape == (9, 1, 48, 64, 64) and y1.shape == (9, len(cfg.labels))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    # chunk j is the phantom set drawn with seed + j: the first chunk's volumes differ from the second's
    assert not np.array_equal(x1[:3], x1[3:6])
    with pytest.raises(InputError, match="chunk_size=3"):
        ExtraPhantoms(n=9, seed=0, chunk_size=3)
