"""Back-end 1 on tiny locally built sequence-classification checkpoints (no download)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from radeval.data.labels import CTRATE_LABELS
from radeval.errors import InputError, MissingWeightsError
from radeval.labeling import get_labeler
from radeval.labeling.thresholds import Thresholds
from radeval.labeling.transformer import DEFAULT_MODEL, TransformerLabeler

TEXTS = [
    "No pleural effusion was detected. Heart contour and size are normal.",
    "Centrilobular emphysema in both lungs. A 4 mm nodule in the right upper lobe.",
    "",
    "Ground-glass opacities and consolidation in the left lower lobe with bronchiectasis.",
    "Sliding hiatal hernia. Mediastinal lymphadenopathy. Cardiomegaly. Pacemaker.",
]


def _oracle(folder: Path, texts: list[str]) -> np.ndarray:
    """Sigmoid of the checkpoint's logits, one report at a time, straight through transformers."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    out = []
    with torch.no_grad():
        for text in texts:
            enc = tok(text, return_tensors="pt", truncation=True, max_length=512)
            out.append(torch.sigmoid(model(**enc).logits)[0].numpy())
    return np.array(out, dtype=np.float64)


def test_probabilities_match_direct_model_and_batching(tiny_classifier: Path) -> None:
    lab = TransformerLabeler(tiny_classifier, batch_size=2)
    probs = lab.probabilities(TEXTS)
    assert probs.shape == (5, 18)
    assert np.all(probs[2] == 0.0)                                   # empty report: no model call, all negative
    nonempty = [0, 1, 3, 4]
    np.testing.assert_allclose(probs[nonempty], _oracle(tiny_classifier, [TEXTS[i] for i in nonempty]), atol=1e-5)
    one_by_one = TransformerLabeler(tiny_classifier, batch_size=1).probabilities(TEXTS)
    np.testing.assert_allclose(one_by_one, probs, atol=1e-5)
    assert len({tuple(np.round(probs[i], 4)) for i in nonempty}) > 1    # the reports get different outputs
    np.testing.assert_array_equal(lab.decide(TEXTS), (probs >= 0.5).astype(np.int8))


def test_decisions_follow_the_head(biased_classifier: Path) -> None:
    lab = get_labeler("transformer", model=str(biased_classifier))
    out = lab.decide(["Cardiomegaly.", "No pleural effusion.", "   "])
    expected = np.array([1 if i % 2 == 0 else 0 for i in range(18)], dtype=np.int8)
    np.testing.assert_array_equal(out[0], expected)
    np.testing.assert_array_equal(out[1], expected)
    assert out[2].sum() == 0
    table = lab.label({"x": "text", "y": ""})
    assert table.empty_ids == ("y",)
    assert table.signature == "transformer|model:model|thr:0.5|maxlen:512|labels:ct-rate|v:0.1.0"


def test_per_label_thresholds(biased_classifier: Path, tmp_path: Path) -> None:
    values = tuple(0.99 if name == "Medical material" else 0.5 for name in CTRATE_LABELS)
    path = tmp_path / "thr.json"
    Thresholds(CTRATE_LABELS, values, "unit").save(path)
    lab = TransformerLabeler(biased_classifier, threshold=str(path))
    row = lab.decide(["Pacemaker."])[0]
    assert row[0] == 0 and row[2] == 1                      # sigmoid(4) = 0.982 < 0.99
    assert lab.tuned and "thr:tuned-" in lab.signature


def test_labels_are_picked_by_name(tmp_path: Path, classifier_factory: Callable[..., Path]) -> None:
    labels = tuple(reversed(CTRATE_LABELS))
    bias = [3.0 if name == "Emphysema" else -3.0 for name in labels]
    folder = classifier_factory(tmp_path / "rev", labels=labels, bias=bias)
    lab = TransformerLabeler(folder, labels=["Emphysema", "Cardiomegaly"])
    assert lab.decide(["anything"]).tolist() == [[1, 0]]


def test_generic_label_names_need_matching_count(tmp_path: Path, classifier_factory: Callable[..., Path]) -> None:
    folder = classifier_factory(tmp_path / "generic", labels=CTRATE_LABELS[:5], named=False)
    with pytest.raises(InputError, match="5 outputs"):
        TransformerLabeler(folder).decide(["text"])
    ok = TransformerLabeler(folder, labels=list(CTRATE_LABELS[:5]))
    assert ok.decide(["text"]).shape == (1, 5)


def test_named_labels_missing_from_head(tmp_path: Path, classifier_factory: Callable[..., Path]) -> None:
    folder = classifier_factory(tmp_path / "small", labels=CTRATE_LABELS[:3])
    with pytest.raises(InputError, match="no output for label"):
        TransformerLabeler(folder).decide(["text"])


def test_hub_id_resolves_from_radeval_home(biased_classifier: Path) -> None:
    from radeval.weights import model_dir

    target = model_dir(DEFAULT_MODEL)
    shutil.copytree(biased_classifier, target)
    lab = TransformerLabeler()
    assert lab.decide(["Cardiomegaly."])[0, 0] == 1
    assert "model:IAMJB/RadBERT-CT" in lab.signature


def test_missing_weights_name_the_fetch_command() -> None:
    with pytest.raises(MissingWeightsError, match="radeval fetch label_f1_macro"):
        TransformerLabeler().decide(["Cardiomegaly."])
    with pytest.raises(InputError, match="does not exist"):
        TransformerLabeler("./no/such/checkpoint").decide(["Cardiomegaly."])


def test_bad_options() -> None:
    with pytest.raises(InputError, match="threshold"):
        TransformerLabeler(threshold=1.5)
    with pytest.raises(InputError, match="batch_size"):
        TransformerLabeler(batch_size=0)
    with pytest.raises(TypeError, match="transformer"):
        get_labeler("transformer", uncertain="positive")


def _pooled_oracle(encoder, head, tokenizer, texts: list[str]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.array([torch.sigmoid(head(encoder(**tokenizer(t, return_tensors="pt")).pooler_output))[0].numpy()
                         for t in texts], dtype=np.float64)


def test_ctclip_style_state_dict(tiny_classifier: Path, tmp_path: Path) -> None:
    """A ``torch.save`` of {encoder as ``model.*``, ``classifier`` Linear on the pooled output}."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    torch.manual_seed(1)
    config = AutoConfig.from_pretrained(str(tiny_classifier))
    encoder = AutoModel.from_config(config).eval()
    head = torch.nn.Linear(config.hidden_size, 20)
    names = [*CTRATE_LABELS, "Tree in bud", "Thymic remnant"]
    state = {**{f"model.{k}": v for k, v in encoder.state_dict().items()},
             **{f"classifier.{k}": v for k, v in head.state_dict().items()}}
    pth = tmp_path / "RadBertClassifier.pth"
    torch.save(state, pth)
    texts = ["Emphysema in both lungs.", "No pleural effusion."]
    lab = TransformerLabeler(pth, base_model=tiny_classifier, checkpoint_labels=names)
    expected = _pooled_oracle(encoder, head, AutoTokenizer.from_pretrained(str(tiny_classifier)), texts)
    np.testing.assert_allclose(lab.probabilities(texts), expected[:, :18], atol=1e-5)
    assert "model:RadBertClassifier.pth|base:model" in lab.signature
    with pytest.raises(InputError, match="base_model"):
        TransformerLabeler(pth).decide(texts)
    with pytest.raises(InputError, match="20 outputs; pass checkpoint_labels"):
        TransformerLabeler(pth, base_model=tiny_classifier).decide(texts)
    torch.save({"weird.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(InputError, match="unexpected state-dict key 'weird.weight'"):
        TransformerLabeler(tmp_path / "bad.pth", base_model=tiny_classifier).decide(texts)


def test_bert_sequence_classification_state_dict(tiny_classifier: Path, tmp_path: Path) -> None:
    """A plain ``BertForSequenceClassification`` state dict gives the folder checkpoint's probabilities."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_classifier))
    torch.save(model.state_dict(), tmp_path / "clf.pth")
    from_file = TransformerLabeler(tmp_path / "clf.pth", base_model=tiny_classifier).probabilities(TEXTS)
    np.testing.assert_allclose(from_file, TransformerLabeler(tiny_classifier).probabilities(TEXTS), atol=1e-5)


def test_fetch_knows_the_labeler_weights() -> None:
    from radeval.weights import weights_for

    for metric in ("label_f1_macro", "label_f1_micro", "label_f1_macro_tuned", "label_f1_micro_tuned"):
        assert [s.model_id for s in weights_for(metric)] == [DEFAULT_MODEL]
