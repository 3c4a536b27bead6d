"""CT-ViT encoder: CT-CLIP's parameter layout, strict checkpoint loading, forward shapes and invariants."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from radeval_models.ctclip.attention import PEG, ContinuousPositionBias
from radeval_models.ctclip.config import CTViTConfig
from radeval_models.ctclip.encoder import CTClipImageEncoder, load_ctclip_image_weights
from radeval.errors import InputError


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The CI box shares 2 cores among many jobs; OpenMP spinning makes 2 threads far slower than 1 there."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def ctclip_visual_layout(cfg: CTViTConfig) -> dict[str, tuple[int, ...]]:
    """Key -> shape of CT-CLIP's ``visual_transformer`` state dict, written out from CT-CLIP's module tree."""
    d, h, dh, p, pt, c = cfg.dim, cfg.heads, cfg.dim_head, cfg.patch_size, cfg.temporal_patch_size, cfg.channels
    inner, ff = h * dh, int(4 * (2 / 3) * d)
    keys: dict[str, tuple[int, ...]] = {
        "spatial_rel_pos_bias.net.0.0.weight": (d, 2), "spatial_rel_pos_bias.net.0.0.bias": (d,),
        "spatial_rel_pos_bias.net.1.0.weight": (d, d), "spatial_rel_pos_bias.net.1.0.bias": (d,),
        "spatial_rel_pos_bias.net.2.weight": (h, d), "spatial_rel_pos_bias.net.2.bias": (h,),
        "vq._codebook.initted": (1,), "vq._codebook.cluster_size": (1, cfg.codebook_size),
        "vq._codebook.embed": (1, cfg.codebook_size, d),
        "to_pixels_first_frame.0.weight": (c * p * p, d), "to_pixels_first_frame.0.bias": (c * p * p,),
        "to_pixels.0.weight": (c * pt * p * p, d), "to_pixels.0.bias": (c * pt * p * p,),
    }
    for name, n_in in (("to_patch_emb_first_frame", c * p * p), ("to_patch_emb", c * pt * p * p)):
        keys.update({f"{name}.1.weight": (n_in,), f"{name}.1.bias": (n_in,), f"{name}.2.weight": (d, n_in),
                     f"{name}.2.bias": (d,), f"{name}.3.weight": (d,), f"{name}.3.bias": (d,)})
    for tr, depth in (("enc_spatial_transformer", cfg.spatial_depth), ("enc_temporal_transformer", cfg.temporal_depth),
                      ("dec_spatial_transformer", cfg.spatial_depth), ("dec_temporal_transformer", cfg.temporal_depth)):
        for i in range(depth):
            b = f"{tr}.layers.{i}"
            keys.update({
                f"{b}.0.dsconv.weight": (d, 1, 3, 3, 3), f"{b}.0.dsconv.bias": (d,),
                f"{b}.1.null_kv": (h, 0, dh), f"{b}.1.q_scale": (dh,), f"{b}.1.k_scale": (dh,),
                f"{b}.1.norm.gamma": (d,), f"{b}.1.norm.beta": (d,),
                f"{b}.1.context_norm.gamma": (d,), f"{b}.1.context_norm.beta": (d,),
                f"{b}.1.to_q.weight": (inner, d), f"{b}.1.to_kv.weight": (2 * inner, d), f"{b}.1.to_out.weight": (d, inner),
                f"{b}.3.0.weight": (d,), f"{b}.3.0.bias": (d,), f"{b}.3.1.weight": (2 * ff, d), f"{b}.3.4.weight": (d, ff),
            })
        keys.update({f"{tr}.norm_out.gamma": (d,), f"{tr}.norm_out.beta": (d,)})
    return keys


@pytest.mark.parametrize("cfg", [CTViTConfig.small(), CTViTConfig.ctclip()], ids=["small", "ctclip"])
def test_parameter_layout_is_ctclips(cfg: CTViTConfig) -> None:
    with torch.device("meta"):
        enc = CTClipImageEncoder(cfg)
    mine = {k: tuple(v.shape) for k, v in enc.visual_transformer.state_dict().items()}
    assert mine == ctclip_visual_layout(cfg)
    assert tuple(enc.to_visual_latent.weight.shape) == (cfg.dim_latent, cfg.dim_image)


def test_ctclip_config_numbers() -> None:
    cfg = CTViTConfig.ctclip()
    assert cfg.grid == (24, 24, 24) and cfg.dim_image == 294_912 and cfg.input_shape == (1, 240, 480, 480)


def _ctclip_checkpoint(cfg: CTViTConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    state = {f"visual_transformer.{k}": torch.randn(shape, generator=gen) * 0.05
             for k, shape in ctclip_visual_layout(cfg).items()}
    state["visual_transformer.vq._codebook.initted"] = torch.ones(1)
    state["to_visual_latent.weight"] = torch.randn(cfg.dim_latent, cfg.dim_image, generator=gen) * 0.01
    state["to_text_latent.weight"] = torch.randn(cfg.dim_latent, 768, generator=gen)
    state["text_transformer.embeddings.word_embeddings.weight"] = torch.randn(30, 768, generator=gen)
    state["temperature"] = torch.tensor(1.0)
    state["visual_transformer.vgg.features.0.weight"] = torch.randn(4, 3, 3, 3, generator=gen)
    state["visual_transformer.discr.blocks.0.conv_res.weight"] = torch.randn(4, 1, 1, 1, generator=gen)
    return state


def test_checkpoint_loads_strictly_and_changes_the_output(tmp_path: Path) -> None:
    cfg = CTViTConfig.small()
    state = _ctclip_checkpoint(cfg)
    path = tmp_path / "CT-CLIP_v2.pt"
    torch.save(state, path)
    enc = CTClipImageEncoder(cfg).eval()
    x = torch.randn(1, *cfg.input_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = enc(x).latent
        report = load_ctclip_image_weights(enc, path)
        after = enc(x).latent
    loaded = enc.state_dict()
    for key, value in state.items():
        if key in loaded:
            assert torch.equal(loaded[key], value), key
    assert set(report["ignored"]) == {"to_text_latent.weight", "text_transformer.embeddings.word_embeddings.weight",
                                      "temperature", "visual_transformer.vgg.features.0.weight",
                                      "visual_transformer.discr.blocks.0.conv_res.weight"}
    assert not torch.allclose(before, after)
    assert torch.allclose(after.norm(dim=-1), torch.ones(1))


def test_checkpoint_mismatch_is_reported(tmp_path: Path) -> None:
    cfg = CTViTConfig.small()
    state = _ctclip_checkpoint(cfg)
    del state["visual_transformer.enc_temporal_transformer.layers.1.1.to_q.weight"]
    with pytest.raises(InputError, match="missing 1 key.*enc_temporal_transformer.layers.1.1.to_q.weight"):
        load_ctclip_image_weights(CTClipImageEncoder(cfg), state)
    wrong = _ctclip_checkpoint(cfg)
    wrong["visual_transformer.to_patch_emb.2.weight"] = torch.zeros(3, 3)
    with pytest.raises(InputError, match="do not fit"):
        load_ctclip_image_weights(CTClipImageEncoder(cfg), wrong)
    with pytest.raises(InputError, match="no 'visual_transformer"):
        load_ctclip_image_weights(CTClipImageEncoder(cfg), {"text_transformer.x": torch.zeros(1)})
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match=r"broken\.pt: cannot read checkpoint"):
        load_ctclip_image_weights(CTClipImageEncoder(cfg), bad)


def test_forward_shapes_small() -> None:
    cfg = CTViTConfig.small()
    enc = CTClipImageEncoder(cfg).eval()
    x = torch.randn(2, *cfg.input_shape)
    with torch.no_grad():
        tokens, indices = enc.visual_transformer(x, return_indices=True)
        out = enc(x, return_slabs=True)
        recon = enc.visual_transformer.decode(tokens)
    t, h, w = cfg.grid
    assert tokens.shape == (2, t, h, w, cfg.dim) and indices.shape == (2, t, h, w)
    codebook = enc.visual_transformer.vq._codebook.embed[0]
    assert torch.equal(tokens[0, 0, 0, 0], codebook[indices[0, 0, 0, 0]])
    assert out.latent.shape == (2, 512) and out.slabs.shape == (2, t, cfg.dim)
    assert torch.allclose(out.latent.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert recon.shape == x.shape
    with pytest.raises(InputError, match="expects input"):
        enc(torch.zeros(1, 1, 40, 64, 64))


def test_position_bias_equals_all_pairs_mlp() -> None:
    torch.manual_seed(0)
    cpb = ContinuousPositionBias(dim=16, heads=3)
    h, w = 4, 5
    grid = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")).reshape(2, -1).t()
    rel = (grid[:, None, :] - grid[None, :, :]).float()
    feats = torch.sign(rel) * torch.log(rel.abs() + 1)
    for layer in cpb.net:
        feats = layer(feats)
    assert torch.allclose(cpb(h, w), feats.permute(2, 0, 1), atol=1e-6)


def test_peg_is_causal_along_depth() -> None:
    torch.manual_seed(0)
    peg = PEG(8, causal=True)
    x = torch.randn(1, 5 * 3 * 3, 8)
    y = x.clone()
    y.reshape(1, 5, 3, 3, 8)[:, 3:] += 1.0  # change frames 3 and 4 only
    a, b = peg(x, (1, 5, 3, 3)), peg(y, (1, 5, 3, 3))
    a, b = a.reshape(1, 5, 3, 3, 8), b.reshape(1, 5, 3, 3, 8)
    assert torch.allclose(a[:, :3], b[:, :3]) and not torch.allclose(a[:, 3:], b[:, 3:])


@pytest.mark.slow
def test_full_size_forward_shape() -> None:
    enc = CTClipImageEncoder(CTViTConfig.ctclip()).eval()
    with torch.no_grad():
        out = enc(torch.zeros(1, 1, 240, 480, 480), return_slabs=True)
    assert out.latent.shape == (1, 512) and out.slabs.shape == (1, 24, 512)
