"""INSPECT priors: CT-CLIP's last layer + a classification layer fine-tuned with class-weighted BCE; resume; embed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from radeval_models.ctclip.finetune import FinetuneConfig, FinetunedClassifier, finetune_classifier
from radeval.cli.main import main
from radeval.data.labels import INSPECT_LABELS
from radeval.data.phantom import make_phantom_dataset
from radeval.errors import InputError

CFG = FinetuneConfig(epochs=4, batch_size=4, lr=1e-3, seed=0)


@pytest.fixture(scope="module")
def inspect_root(tmp_path_factory) -> Path:
    return make_phantom_dataset(tmp_path_factory.mktemp("ins"), n=12, seed=2, shape=(32, 32, 24), labels="inspect")


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return {**load_file(str(folder / "label_head.safetensors")), **load_file(str(folder / "projection.safetensors"))}


def test_resume_after_a_stop_ends_with_the_uninterrupted_weights(inspect_root: Path, tmp_path: Path) -> None:
    full = finetune_classifier(inspect_root, tmp_path / "full", labels=INSPECT_LABELS, encoder="small", config=CFG,
                               progress=False)
    assert finetune_classifier(inspect_root, tmp_path / "split", labels=INSPECT_LABELS, encoder="small", config=CFG,
                               progress=False, stop_after_epoch=2) is None
    assert torch.load(str(tmp_path / "split" / "state.pt"), weights_only=False)["epoch"] == 2
    resumed = finetune_classifier(inspect_root, tmp_path / "split", labels=INSPECT_LABELS, encoder="small",
                                  config=CFG, progress=False)
    a, b = _weights(full), _weights(resumed)
    assert set(a) == set(b)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    # the last layer moved away from the encoder's, and the head has the 21 INSPECT outputs
    from radeval_models.ctclip.embed import EmbedConfig, build_encoder

    start = build_encoder(EmbedConfig(encoder="small", seed=0))[0].to_visual_latent.weight
    assert not torch.equal(a["weight"], start)
    clf = FinetunedClassifier.load(full)
    assert clf.head.label_names == list(INSPECT_LABELS)
    with pytest.raises(InputError, match="other settings"):
        finetune_classifier(inspect_root, tmp_path / "full", labels=INSPECT_LABELS, encoder="small",
                            config=FinetuneConfig(epochs=5), progress=False)


def test_cli_and_embed_use_the_finetuned_classifier(inspect_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "clf"
    assert main(["classifier", str(inspect_root), "--out", str(out), "--encoder", "small", "--epochs", "2",
                 "--batch-size", "4", "--quiet"]) == 0
    folder = out / "classifier"
    emb_dir = tmp_path / "emb"
    assert main(["embed", str(inspect_root), "--out", str(emb_dir), "--encoder", "small", "--labels", "inspect",
                 "--label-head", str(folder), "--quiet"]) == 0
    from radeval_models.ctclip.embed import EmbedConfig, build_encoder
    from radeval_models.ctclip.finetune import pooled_features
    from radeval.data.ctrate import CTRateDataset
    from radeval.data.embeddings import load_embeddings
    from radeval.data.preprocess import PreprocessConfig, preprocess_array
    from radeval.data.volume_io import read_volume

    data = load_embeddings(emb_dir / "valid.safetensors")
    assert data.logits.shape == (len(data.case_ids), 21) and data.label_names == list(INSPECT_LABELS)
    assert "fine-tuned CT-CLIP last layer" in data.provenance["label_head"]
    # the stored priors are the classifier on the frozen pooled features (not the head on the original latent)
    ds = CTRateDataset(inspect_root, label_names=INSPECT_LABELS)
    cid = data.case_ids[0]
    slope, intercept = ds.rescale(cid)
    arr = preprocess_array(read_volume(ds.volume_path(cid)).array, ds.spacing(cid), slope=slope, intercept=intercept,
                           config=PreprocessConfig.small())
    encoder = build_encoder(EmbedConfig(encoder="small", seed=0))[0]
    want = FinetunedClassifier.load(folder).logits(pooled_features(encoder, torch.from_numpy(arr[None])).numpy())
    np.testing.assert_allclose(data.logits[0], want[0], rtol=1e-4, atol=1e-4)
