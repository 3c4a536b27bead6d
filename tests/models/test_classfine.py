"""CT-CLIP's released classifier head (ClassFine, CT_LiPro_v2.pt): key mapping, the embed step, offline failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from radeval_models.ctclip.classfine import CLASSFINE_FILE, CLASSFINE_REPO, load_classfine_head
from radeval.data.labels import CTRATE_LABELS
from radeval.errors import InputError, MissingWeightsError


def _classfine_file(path: Path, *, prefix: str = "", seed: int = 0) -> tuple[Path, torch.Tensor, torch.Tensor]:
    """A state dict laid out like CT-CLIP's ImageLatentsClassifier save (CLIP under trained_model.*)."""
    g = torch.Generator().manual_seed(seed)
    weight, bias = torch.randn(18, 512, generator=g), torch.randn(18, generator=g)
    state = {f"{prefix}trained_model.temperature": torch.tensor(1.0),
             f"{prefix}trained_model.to_visual_latent.weight": torch.randn(512, 64, generator=g),
             f"{prefix}classifier.weight": weight, f"{prefix}classifier.bias": bias}
    torch.save(state, path)
    return path, weight, bias


def test_key_mapping_and_logits(tmp_path: Path) -> None:
    path, weight, bias = _classfine_file(tmp_path / "CT_LiPro_v2.pt")
    head = load_classfine_head(path)
    assert head.label_names == list(CTRATE_LABELS) and not head.training
    z = np.random.default_rng(0).normal(size=(5, 512)).astype(np.float32)
    want = np.maximum(z, 0) @ weight.numpy().T + bias.numpy()  # Linear(ReLU(z)); dropout is off in eval
    np.testing.assert_allclose(head.logits(z), want, rtol=1e-5, atol=1e-5)
    dp, w2, b2 = _classfine_file(tmp_path / "dp.pt", prefix="module.", seed=1)  # a DataParallel save
    np.testing.assert_allclose(load_classfine_head(dp).logits(z), np.maximum(z, 0) @ w2.numpy().T + b2.numpy(),
                               rtol=1e-5, atol=1e-5)


def test_offline_missing_file_names_what_to_download(tmp_path: Path) -> None:
    with pytest.raises(MissingWeightsError) as info:
        load_classfine_head(tmp_path / "CT_LiPro_v2.pt")
    message = str(info.value)
    assert CLASSFINE_REPO in message and CLASSFINE_FILE in message and "--repo-type dataset" in message


def test_wrong_checkpoints_are_refused(tmp_path: Path) -> None:
    torch.save({"visual_transformer.x": torch.zeros(2)}, tmp_path / "clip.pt")
    with pytest.raises(InputError, match="no classifier.weight, classifier.bias"):
        load_classfine_head(tmp_path / "clip.pt")
    torch.save({"classifier.weight": torch.zeros(21, 512), "classifier.bias": torch.zeros(21)}, tmp_path / "21.pt")
    with pytest.raises(InputError, match=r"\(21, 512\).*expected \(18, 512\)"):
        load_classfine_head(tmp_path / "21.pt")


def test_embed_uses_the_released_head_for_the_priors(tmp_path: Path) -> None:
    from radeval_models.ctclip.embed import EmbedConfig, embed_dataset
    from radeval.data.embeddings import load_embeddings
    from radeval.data.phantom import make_phantom_dataset

    root = make_phantom_dataset(tmp_path / "ph", n=4, seed=0, shape=(32, 32, 24))
    path, weight, bias = _classfine_file(tmp_path / "CT_LiPro_v2.pt")
    results = embed_dataset(root, tmp_path / "emb", EmbedConfig(encoder="small", label_head=path), progress=False)
    data = load_embeddings(results["valid"].path)
    want = np.maximum(data.embeddings, 0) @ weight.numpy().T + bias.numpy()
    np.testing.assert_allclose(data.logits, want, rtol=1e-4, atol=1e-4)
    assert data.label_names == list(CTRATE_LABELS)
    assert "CT_LiPro_v2.pt" in data.provenance["label_head"]
    # an INSPECT dataset cannot use the 18-label CT-RATE head
    ins = make_phantom_dataset(tmp_path / "ins", n=4, seed=0, shape=(32, 32, 24), labels="inspect")
    from radeval.data.labels import INSPECT_LABELS

    with pytest.raises(InputError, match="18 labels.*21"):
        embed_dataset(ins, tmp_path / "emb2", EmbedConfig(encoder="small", label_head=path, labels=INSPECT_LABELS),
                      progress=False)
