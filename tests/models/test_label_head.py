"""Label head: learns separable latents, learns phantom labels from the real encode path, saves/loads, reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from radeval_models.ctclip.label_head import LabelHead, LabelHeadTrainConfig, label_report, train_label_head
from radeval.data.labels import CTRATE_LABELS
from radeval.errors import InputError


@pytest.fixture(autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _separable(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    directions = np.random.default_rng(99).normal(size=(18, 512))
    y = (rng.random((n, 18)) < 0.3).astype(np.float32)
    x = rng.normal(size=(n, 512)) * 0.5 + y @ directions
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), y


def test_learns_separable_labels_and_round_trips(tmp_path: Path) -> None:
    xtr, ytr = _separable(300, 0)
    xte, yte = _separable(200, 1)
    head = train_label_head(xtr, ytr, config=LabelHeadTrainConfig(epochs=60))
    report = label_report(yte, head.logits(xte))
    assert list(report.label) == [*CTRATE_LABELS, "macro"]
    assert report.auroc.iloc[-1] > 0.95 and report.f1.iloc[-1] > 0.8
    loaded = LabelHead.load(head.save(tmp_path / "head"))
    np.testing.assert_array_equal(loaded.logits(xte), head.logits(xte))
    assert loaded.label_names == list(CTRATE_LABELS)


def test_ct_lipro_weights_and_errors() -> None:
    cfg = LabelHeadTrainConfig.ct_lipro()
    assert (cfg.lr, cfg.weight_decay, cfg.epochs, cfg.batch_size, cfg.pos_weight) == (1e-5, 0.1, 10, 8, "ctrate")
    x, y = _separable(20, 2)
    with pytest.raises(InputError, match="same n"):
        train_label_head(x[:10], y)
    with pytest.raises(InputError, match="0/1"):
        train_label_head(x, y * 2)
    with pytest.raises(InputError, match="CT-RATE labels"):
        train_label_head(x, y[:, :3], label_names=["a", "b", "c"], config=cfg)
    with pytest.raises(InputError, match="pos_weight"):
        LabelHeadTrainConfig(pos_weight="balanced")
    with pytest.raises(InputError, match="512-d"):
        LabelHead(dim=512)(torch.zeros(2, 64))


def test_report_marks_single_class_labels() -> None:
    y = np.array([[1, 0], [0, 0], [1, 0]])
    s = np.array([[1.0, -1.0], [-1.0, 0.5], [2.0, -2.0]])
    report = label_report(y, s, label_names=["a", "b"])
    assert report.auroc[0] == 1.0 and np.isnan(report.auroc[1])
    assert report.auroc.iloc[-1] == 1.0  # macro over the labels with both classes


def test_learns_phantom_labels_from_image_latents(tmp_path: Path) -> None:
    """Phantom volumes -> CT-CLIP preprocessing (small) -> frozen 512-d latent -> head; held-out AUROC.

    The frozen latent here is a fixed random projection of the standardised, 4x average-pooled preprocessed
    volume, L2-normalised like CT-CLIP's: an image encoder that keeps the density information. (An *untrained*
    CT-ViT does not: its per-patch LayerNorm removes each patch's mean HU.)
    """
    import torch.nn.functional as F

    from radeval.data.ctrate import CTRateDataset
    from radeval.data.phantom import make_phantom_dataset
    from radeval.data.preprocess import PreprocessConfig, preprocess_file

    ds = CTRateDataset(make_phantom_dataset(tmp_path, n=160, seed=5, valid_fraction=0.3))
    projection = torch.randn(16 * 16 * 12, 512, generator=torch.Generator().manual_seed(0)).numpy()
    pooled = {}
    for split in ds.splits:
        cases = ds.cases(split)
        rows = []
        for c in cases:
            slope, intercept = ds.rescale(c.id)
            volume = preprocess_file(ds.volume_path(c.id), slope=slope, intercept=intercept, spacing=ds.spacing(c.id),
                                     config=PreprocessConfig.small())
            rows.append(F.avg_pool3d(torch.from_numpy(volume)[None], 4).reshape(-1).numpy())
        pooled[split] = (np.stack(rows), ds.labels(split).loc[[c.id for c in cases]].to_numpy())
    mean, std = pooled["train"][0].mean(axis=0), pooled["train"][0].std(axis=0) + 0.05
    data = {}
    for split, (x, y) in pooled.items():
        z = ((x - mean) / std) @ projection
        data[split] = (z / np.linalg.norm(z, axis=1, keepdims=True), y)
    head = train_label_head(*data["train"], config=LabelHeadTrainConfig(lr=1e-2, dropout=0.0, weight_decay=0.0))
    report = label_report(data["valid"][1], head.logits(data["valid"][0])).set_index("label")
    print(report.round(3).to_string())
    assert report.loc["macro", "auroc"] > 0.65
    for label in ("Cardiomegaly", "Pleural effusion", "Hiatal hernia"):
        assert report.loc[label, "auroc"] > 0.8, label
