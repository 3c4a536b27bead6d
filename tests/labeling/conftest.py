"""Fixtures of the labeler tests: a tiny locally built sequence-classification checkpoint, phantom data."""

from __future__ import annotations

from pathlib import Path

import pytest

from radeval.data.labels import CTRATE_LABELS

#: Sentences the tiny tokenizer's WordPiece vocabulary is trained on.
TOKENIZER_CORPUS = [
    "No pleural effusion was detected.", "Heart contour and size are normal.",
    "Pericardial effusion-thickening was not observed.", "Calcific atheromatous plaques in the aorta.",
    "Centrilobular emphysema in both lungs.", "Subsegmental atelectasis in the left lower lobe.",
    "A 4 mm nodule in the right upper lobe.", "Ground-glass opacities and consolidation.",
    "Bronchiectasis and peribronchial thickening.", "Interlobular septal thickening, mosaic attenuation.",
    "Sliding hiatal hernia. Mediastinal lymphadenopathy. Cardiomegaly. Pacemaker.",
]


def build_tiny_classifier(folder: Path, *, labels: tuple[str, ...] = CTRATE_LABELS, named: bool = True,
                          bias: list[float] | None = None, seed: int = 0) -> Path:
    """Save a random 2-layer BERT multi-label classifier with its own WordPiece tokenizer to ``folder``.

    Args:
        labels: output labels (``id2label`` names when ``named``, else generic ``LABEL_<i>``).
        bias: when given, the classifier weights are zeroed and its bias set to this vector, so the
            logits (and decisions) of every report are known exactly.
    """
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(TOKENIZER_CORPUS, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=128)
    id2label = {i: (name if named else f"LABEL_{i}") for i, name in enumerate(labels)}
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=128, num_labels=len(labels),
                        initializer_range=0.5,
                        id2label=id2label, label2id={v: k for k, v in id2label.items()},
                        problem_type="multi_label_classification")
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config).eval()
    if bias is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(torch.tensor(bias, dtype=torch.float32))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny 18-label classifier with named outputs."""
    return build_tiny_classifier(tmp_path_factory.mktemp("tiny_clf") / "model")


@pytest.fixture(scope="session")
def biased_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny classifier whose logits are +4 for labels 0, 2, 4 ... and -4 for the others, for any text."""
    bias = [4.0 if i % 2 == 0 else -4.0 for i in range(len(CTRATE_LABELS))]
    return build_tiny_classifier(tmp_path_factory.mktemp("biased_clf") / "model", bias=bias)


@pytest.fixture(scope="session")
def phantom_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small phantom CT-RATE dataset (tiny volumes; the reports and labels CSVs are what we use)."""
    from radeval.data.phantom import make_phantom_dataset

    return make_phantom_dataset(tmp_path_factory.mktemp("phantom"), n=240, seed=11, shape=(8, 8, 8))
