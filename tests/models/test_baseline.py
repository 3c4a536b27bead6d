"""clip-text-decoder baseline: 96,096,000 parameters on distilgpt2, overfitting, save/load, width check; the projection
baseline on decoder-only LLMs (LLaMA, BioGPT) and the check that the image reaches the decoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from radeval_models.baseline import ClipTextDecoder
from radeval_models.train import train_generator
from radeval.data.embeddings import load_embeddings
from radeval.errors import InputError
from radeval.registry import GenerationBatch

DISTILGPT2 = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "distilgpt2.json"


def test_distilgpt2_with_cross_attention_has_96_1m_parameters() -> None:
    counts = ClipTextDecoder.for_meta(llm_config=DISTILGPT2).parameter_counts()
    assert counts.trainable == counts.total == 96_096_000


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, phantom_files: dict[str, Path]) -> Path:
    out = tmp_path_factory.mktemp("baseline") / "run"
    train_generator("baseline", {"llm": "gpt2-offline-small", "max_new_tokens": 30}, phantom_files["embeddings"],
                    phantom_files["reports"], out, {"epochs": 40, "lr": 1e-3, "batch_size": 8}, quiet=True)
    return out


def test_overfits_and_round_trips(trained: Path, tmp_path: Path, phantom_files: dict[str, Path],
                                  phantom_reports: dict[str, str]) -> None:
    data = load_embeddings(phantom_files["embeddings"])
    batch = GenerationBatch(data.case_ids, data.embeddings)
    model = ClipTextDecoder.from_pretrained(trained)
    texts = model.generate(batch)
    assert texts == list(phantom_reports.values())
    model.save_pretrained(tmp_path / "copy")
    assert ClipTextDecoder.from_pretrained(tmp_path / "copy").generate(batch) == texts
    assert json.loads((trained / "llm" / "config.json").read_text())["add_cross_attention"] is True


def test_embedding_wider_than_decoder_is_rejected(tmp_path: Path) -> None:
    config = json.loads(DISTILGPT2.read_text())
    config.update(n_embd=256, n_head=4, n_layer=1)
    path = tmp_path / "narrow.json"
    path.write_text(json.dumps(config))
    with pytest.raises(InputError, match="512-d embedding does not fit into the 256-wide decoder"):
        ClipTextDecoder.from_config({"llm": str(path)})


def test_beam_search_cross_attends_per_beam_and_equals_hf_generate(trained: Path,
                                                                   phantom_files: dict[str, Path]) -> None:
    import torch

    data = load_embeddings(phantom_files["embeddings"])
    model = ClipTextDecoder.from_pretrained(trained)
    cond = model.conditioning(data.case_ids, data.embeddings)
    eos = model.tokenizer.eos_token_id
    bos = model.tokenizer.bos_token_id if model.tokenizer.bos_token_id is not None else eos
    for decoding in ({"num_beams": 3, "repetition_penalty": 2.0, "length_penalty": 2.0}, {"num_beams": 4}):
        settings = model.decode_settings(decoding)
        with torch.no_grad():
            ours = model.decode(cond, settings)
            start = model.lm.get_input_embeddings()(torch.full((len(cond), 1), bos))
            ref = model.lm.generate(inputs_embeds=start, attention_mask=torch.ones(len(cond), 1, dtype=torch.long),
                                    encoder_hidden_states=model._encoder_states(cond), do_sample=False,
                                    num_beams=settings.num_beams, repetition_penalty=settings.repetition_penalty,
                                    length_penalty=settings.length_penalty, max_new_tokens=settings.max_new_tokens,
                                    eos_token_id=eos, pad_token_id=eos)
        assert ours == [row[:row.index(eos)] if eos in row else row for row in ref.tolist()]


# -- the baseline over decoder-only LLMs without cross-attention (RAD3D-Prefix §4.1: a conventional projection, the
# -- LLM fine-tuned), and the check that the image reaches the decoder ------------------------------------------------
def _tiny_biogpt(directory: Path) -> Path:
    """A 1-layer BioGPT (``BioGptForCausalLM``, no cross-attention) with a small BPE, saved locally."""
    from transformers import BioGptConfig, BioGptForCausalLM

    from radeval_models.tiny_llm import train_bpe_tokenizer

    tok = train_bpe_tokenizer(["No pleural effusion.", "Small nodule in the right upper lobe."] * 4, 300)
    config = BioGptConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                          num_attention_heads=2, max_position_embeddings=256, bos_token_id=tok.bos_token_id,
                          eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    BioGptForCausalLM(config).save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


def test_on_a_llama_the_baseline_projects_and_fine_tunes(tmp_path: Path, tiny_llama: Path,
                                                         phantom_files: dict[str, Path]) -> None:
    model = ClipTextDecoder.from_config({"llm": str(tiny_llama), "max_new_tokens": 12})
    assert model.mode == "projection" and not getattr(model.lm.config, "add_cross_attention", False)
    counts = model.parameter_counts()
    assert counts.trainable == counts.total  # the LLM is fine-tuned with the projection
    out = tmp_path / "run"
    train_generator("baseline", {"llm": str(tiny_llama), "max_new_tokens": 12}, phantom_files["embeddings"],
                    phantom_files["reports"], out, {"epochs": 2, "lr": 1e-3, "batch_size": 4}, quiet=True)
    data = load_embeddings(phantom_files["embeddings"])
    batch = GenerationBatch(data.case_ids[:3], data.embeddings[:3])
    loaded = ClipTextDecoder.from_pretrained(out)
    assert loaded.mode == "projection" and "projection.weight" in loaded.trainable_state()
    texts = loaded.generate(batch)
    assert len(texts) == 3 and texts == ClipTextDecoder.from_pretrained(out).generate(batch)


def test_on_biogpt_the_baseline_projects(tmp_path: Path, phantom_files: dict[str, Path]) -> None:
    llm = _tiny_biogpt(tmp_path / "biogpt")
    meta = ClipTextDecoder.for_meta(llm_config=llm / "config.json")
    assert meta.mode == "projection"
    model = ClipTextDecoder.from_config({"llm": str(llm), "max_new_tokens": 6})
    assert model.lm.config.model_type == "biogpt" and model.mode == "projection"
    data = load_embeddings(phantom_files["embeddings"])
    assert len(model.generate(GenerationBatch(data.case_ids[:2], data.embeddings[:2]))) == 2


def test_a_decoder_that_ignores_the_image_fails_before_training(tmp_path: Path, tiny_llama: Path,
                                                                 phantom_files: dict[str, Path]) -> None:
    """Forced cross-attention on a LLaMA: the LLaMA silently drops ``encoder_hidden_states``, so the report loss
    does not depend on the image; the check refuses to train (and to generate) such a model."""
    import numpy as np

    from radeval.data.embeddings import EmbeddingSet, save_embeddings

    data = load_embeddings(phantom_files["embeddings"])
    narrow = EmbeddingSet(data.case_ids, np.ascontiguousarray(data.embeddings[:, :32]))  # fits the 64-wide LLaMA
    save_embeddings(tmp_path / "narrow.safetensors", narrow)
    settings = {"llm": str(tiny_llama), "visual_input": "cross-attention", "max_new_tokens": 4, "embedding_dim": 32}
    with pytest.raises(InputError, match="does not depend on the visual input"):
        train_generator("baseline", settings, tmp_path / "narrow.safetensors", phantom_files["reports"],
                        tmp_path / "run", {"epochs": 1, "batch_size": 4}, quiet=True)
    assert not (tmp_path / "run" / "checkpoints").exists()
    blind = ClipTextDecoder.from_config(settings)
    assert blind.mode == "cross-attention"
    with pytest.raises(InputError, match="generate blind"):
        blind.generate(GenerationBatch(narrow.case_ids[:2], narrow.embeddings[:2]))
    seeing = ClipTextDecoder.from_config({**settings, "visual_input": "projection"})
    seeing.check_visual_input(torch.from_numpy(narrow.embeddings[:2]))  # the same LLM with a projection passes


def test_visual_input_setting_is_checked() -> None:
    with pytest.raises(InputError, match="visual_input='adapter': expected one of auto, cross-attention, projection"):
        ClipTextDecoder.parse_config({"visual_input": "adapter"})
