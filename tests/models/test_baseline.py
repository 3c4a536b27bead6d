"""clip-text-decoder baseline: 96,096,000 parameters on distilgpt2, overfitting, save/load, width check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
