"""Our batched beam search (and penalised greedy decoding) equals Hugging Face ``generate`` token for token.

The models are real transformers models with tiny random configs (LLaMA; GPT-2 cross-attending to encoder states),
the trained tiny LLaMA of the fixtures and the shipped SmolLM2. The reference is always HF ``generate`` with the same
settings, run on each case alone (unpadded), and also batched where HF's batched semantics are sound.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from radeval_models.beam_search import DecodeSettings, IncrementalDecoder, beam_search, greedy_search
from radeval_models.generation import greedy_decode, left_pad
from radeval_models.lm_decoder import CausalLMDecoder, decode_lm
from radeval.errors import InputError

EOS = [3, 7]  # two stop ids: HF then keeps 3 x num_beams candidates per step
FREQUENT = [20, 38]  # the two tokens random_llama picks most often: many candidates of a step end the report
MAX_NEW = 12


def _cut(ids: list[int], stops: list[int]) -> list[int]:
    return ids[:next((i for i, t in enumerate(ids) if t in stops), len(ids))]


def _hf(lm, embeds: torch.Tensor, mask: torch.Tensor | None, settings: DecodeSettings, stops: list[int],
        **kwargs) -> list[list[int]]:
    """HF ``generate`` with the same settings, cut before the first stop id."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = lm.generate(inputs_embeds=embeds, attention_mask=mask, do_sample=False, num_beams=settings.num_beams,
                          repetition_penalty=settings.repetition_penalty, length_penalty=settings.length_penalty,
                          early_stopping=settings.early_stopping, min_new_tokens=settings.min_new_tokens,
                          max_new_tokens=settings.max_new_tokens, eos_token_id=stops, pad_token_id=0, **kwargs)
    return [_cut(row, stops) for row in out.tolist()]


@pytest.fixture(scope="module")
def random_llama():
    """A 2-layer LLaMA with wide random weights (peaked, varied distributions; the stop ids come up early)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, initializer_range=0.5, max_position_embeddings=128)
    return LlamaForCausalLM(cfg).eval()


@pytest.fixture(scope="module")
def cross_gpt2():
    """A 2-layer GPT-2 with cross-attention (the baseline's architecture), random weights."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(1)
    cfg = GPT2Config(vocab_size=64, n_embd=32, n_layer=2, n_head=4, n_positions=64, add_cross_attention=True,
                     initializer_range=0.3, bos_token_id=63, eos_token_id=3)
    return GPT2LMHeadModel(cfg).eval()


SETTINGS = [  # (num_beams, repetition_penalty, length_penalty, early_stopping, min_new_tokens)
    (1, 2.0, 1.0, False, 0),
    (1, 1.0, 1.0, False, 4),
    (3, 1.0, 1.0, False, 0),
    (3, 2.0, 2.0, False, 0),  # R2GenGPT's published setting
    (4, 2.0, 2.0, False, 3),
    (4, 1.0, -0.5, True, 0),
    (3, 2.0, 1.0, "never", 0),
    (4, 1.0, 2.0, "never", 2),
]


@pytest.mark.parametrize("beams,rep,lp,early,min_new", SETTINGS)
@pytest.mark.parametrize("lengths", [(3,), (3, 5, 2, 4, 5)])
@pytest.mark.parametrize("stops", [EOS, FREQUENT])
def test_llama_equals_hf_generate_per_case(random_llama, beams: int, rep: float, lp: float, early, min_new: int,
                                           lengths: tuple[int, ...], stops: list[int]) -> None:
    torch.manual_seed(sum(lengths) + beams)
    seqs = [torch.randn(n, 32) for n in lengths]
    embeds, mask = left_pad(seqs)
    settings = DecodeSettings(num_beams=beams, repetition_penalty=rep, length_penalty=lp, early_stopping=early,
                              min_new_tokens=min_new, max_new_tokens=MAX_NEW)
    ours = decode_lm(random_llama, embeds, mask, settings=settings, stop_ids=stops)
    for seq, got in zip(seqs, ours):
        assert got == _hf(random_llama, seq[None], torch.ones(1, len(seq), dtype=torch.long), settings, stops)[0]
    assert all(len(row) >= min_new for row in ours)


@pytest.mark.parametrize("stops,beams,early,min_new", [([20, 38], 3, False, 2), ([20, 38, 10], 3, "never", 0),
                                                      ([20, 38, 10], 3, False, 0), ([20, 38], 1, False, 3)])
def test_minimum_length_and_stopping_rules_where_they_change_the_result(random_llama, stops: list[int], beams: int,
                                                                        early, min_new: int) -> None:
    """Inputs on which an off-by-one minimum length or "never" handled as False would change the reports (found by
    mutating the implementation); three stop ids make HF keep 4 x num_beams candidates per step."""
    torch.manual_seed(0)
    seqs = [torch.randn(n, 32) for n in (3, 5, 2, 4, 5, 3)]
    embeds, mask = left_pad(seqs)
    settings = DecodeSettings(num_beams=beams, early_stopping=early, min_new_tokens=min_new, max_new_tokens=16)
    ours = decode_lm(random_llama, embeds, mask, settings=settings, stop_ids=stops)
    for seq, got in zip(seqs, ours):
        assert got == _hf(random_llama, seq[None], torch.ones(1, len(seq), dtype=torch.long), settings, stops)[0]


def test_beams_that_stop_early_and_batched_hf_equality(random_llama) -> None:
    """Left-padded batches without repetition penalty equal HF's batched call too; some cases end on EOS early."""
    torch.manual_seed(5)
    seqs = [torch.randn(n, 32) for n in (2, 6, 3, 4, 5, 1)]
    embeds, mask = left_pad(seqs)
    lengths = []
    for beams in (1, 3, 4):
        settings = DecodeSettings(num_beams=beams, length_penalty=2.0, max_new_tokens=MAX_NEW)
        ours = decode_lm(random_llama, embeds, mask, settings=settings, stop_ids=EOS)
        assert ours == _hf(random_llama, embeds, mask, settings, EOS)
        lengths += [len(row) for row in ours]
    assert min(lengths) < MAX_NEW // 2 and max(lengths) == MAX_NEW  # early EOS and the length cap both occur


def test_unpadded_batch_with_repetition_penalty_equals_batched_hf(random_llama) -> None:
    torch.manual_seed(6)
    embeds = torch.randn(5, 4, 32)
    for beams in (1, 3):
        settings = DecodeSettings(num_beams=beams, repetition_penalty=2.0, length_penalty=2.0, max_new_tokens=MAX_NEW)
        ours = decode_lm(random_llama, embeds, settings=settings, stop_ids=EOS)
        assert ours == _hf(random_llama, embeds, torch.ones(5, 4, dtype=torch.long), settings, EOS)


def test_left_padding_does_not_exempt_tokens_from_the_repetition_penalty(random_llama) -> None:
    """HF's batched call exempts the first n_pad generated tokens of a left-padded row from the penalty (it counts the
    padding as prompt); we decode every row as HF decodes it alone. This test shows the two differ on this batch, so
    the per-case parity above is not vacuous for padded rows."""
    torch.manual_seed(5)
    seqs = [torch.randn(n, 32) for n in (2, 6, 3, 4)]
    embeds, mask = left_pad(seqs)
    settings = DecodeSettings(num_beams=1, repetition_penalty=2.0, max_new_tokens=MAX_NEW)
    ours = decode_lm(random_llama, embeds, mask, settings=settings, stop_ids=EOS)
    alone = [_hf(random_llama, s[None], torch.ones(1, len(s), dtype=torch.long), settings, EOS)[0] for s in seqs]
    assert ours == alone
    assert _hf(random_llama, embeds, mask, settings, EOS) != alone


@pytest.mark.parametrize("beams,rep,lp", [(1, 2.0, 1.0), (3, 1.0, 1.0), (3, 2.0, 2.0), (4, 2.0, 0.5)])
@pytest.mark.parametrize("batch", [1, 4])
def test_gpt2_cross_attention_equals_hf_generate(cross_gpt2, beams: int, rep: float, lp: float, batch: int) -> None:
    """Each beam cross-attends to its own case's encoder states (the baseline's decoding)."""
    torch.manual_seed(batch + beams)
    enc = torch.randn(batch, 1, 32)
    start = cross_gpt2.get_input_embeddings()(torch.full((batch, 1), 63)).detach()
    settings = DecodeSettings(num_beams=beams, repetition_penalty=rep, length_penalty=lp, max_new_tokens=MAX_NEW)
    ours = decode_lm(cross_gpt2, start, settings=settings, stop_ids=[3], forward_kwargs={"encoder_hidden_states": enc})
    ref = _hf(cross_gpt2, start, torch.ones(batch, 1, dtype=torch.long), settings, [3], encoder_hidden_states=enc)
    assert ours == ref


def test_trained_llama_beam_search_equals_hf(tiny_llama: Path) -> None:
    """A model that has learnt to end reports with EOS: beams finish at different lengths."""
    from radeval_models.llm import load_llm, stop_token_ids

    lm, tok = load_llm(str(tiny_llama))
    lm.eval()
    embed = lm.get_input_embeddings()
    prompts = ["Case A:\n", "Case C:\n", "Case", "Case G:\nHiatal"]
    seqs = [embed(torch.tensor(tok(p, add_special_tokens=False)["input_ids"])).detach() for p in prompts]
    stops = stop_token_ids(tok, lm.config)
    embeds, mask = left_pad(seqs)
    for beams, rep, lp in [(3, 2.0, 2.0), (4, 1.0, 1.0)]:
        settings = DecodeSettings(num_beams=beams, repetition_penalty=rep, length_penalty=lp, max_new_tokens=24)
        ours = decode_lm(lm, embeds, mask, settings=settings, stop_ids=stops)
        for seq, got in zip(seqs, ours):
            assert got == _hf(lm, seq[None], torch.ones(1, len(seq), dtype=torch.long), settings, stops)[0]
        assert any(len(row) < 24 for row in ours)


def test_smollm2_beam_search_equals_hf(smollm2: Path) -> None:
    from radeval_models.llm import load_llm, stop_token_ids

    lm, tok = load_llm(str(smollm2))
    lm.eval()
    embed = lm.get_input_embeddings()
    texts = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
             for q in ("Name one finding of emphysema on chest CT.", "What is a pleural effusion?")]
    seqs = [embed(tok(t, add_special_tokens=False, return_tensors="pt")["input_ids"][0]).detach() for t in texts]
    stops = stop_token_ids(tok, lm.config)
    embeds, mask = left_pad(seqs)
    settings = DecodeSettings(num_beams=3, repetition_penalty=2.0, length_penalty=2.0, max_new_tokens=10)
    ours = decode_lm(lm, embeds, mask, settings=settings, stop_ids=stops)
    for seq, got in zip(seqs, ours):
        assert got == _hf(lm, seq[None], torch.ones(1, len(seq), dtype=torch.long), settings, stops)[0]


def test_plain_greedy_takes_the_fast_path_and_the_generic_path_agrees(random_llama) -> None:
    torch.manual_seed(8)
    embeds, mask = left_pad([torch.randn(n, 32) for n in (4, 2, 3)])
    settings = DecodeSettings(max_new_tokens=MAX_NEW)
    fast = greedy_decode(random_llama, embeds, mask, stop_ids=EOS, max_new_tokens=MAX_NEW)
    assert decode_lm(random_llama, embeds, mask, settings=settings, stop_ids=EOS) == fast
    with torch.inference_mode():
        generic = greedy_search(CausalLMDecoder(random_llama, embeds, mask, max_new_tokens=MAX_NEW), batch_size=3,
                                settings=settings, eos_token_id=EOS)
        one_beam = beam_search(CausalLMDecoder(random_llama, embeds, mask, max_new_tokens=MAX_NEW), batch_size=3,
                               settings=settings, eos_token_id=EOS)
    assert generic == fast
    assert one_beam == fast  # a 1-beam search is greedy when nothing is penalised


def test_decoder_protocol_and_edge_cases(random_llama) -> None:
    dec = CausalLMDecoder(random_llama, torch.randn(2, 3, 32), max_new_tokens=4)
    assert isinstance(dec, IncrementalDecoder)
    with torch.inference_mode():
        assert beam_search(dec, batch_size=0, settings=DecodeSettings(num_beams=2, max_new_tokens=4),
                           eos_token_id=EOS) == []
        out = beam_search(CausalLMDecoder(random_llama, torch.randn(2, 3, 32), max_new_tokens=1), batch_size=2,
                          settings=DecodeSettings(num_beams=3, max_new_tokens=1), eos_token_id=None)
    assert [len(row) for row in out] == [1, 1]
    with pytest.raises(InputError, match="max_new_tokens"):
        beam_search(dec, batch_size=2, settings=DecodeSettings(num_beams=2), eos_token_id=EOS)


@pytest.mark.parametrize("field,value", [("num_beams", 0), ("num_beams", 2.5), ("max_new_tokens", 0),
                                         ("min_new_tokens", -1), ("repetition_penalty", 0.0),
                                         ("length_penalty", float("nan")), ("early_stopping", "sometimes"),
                                         ("num_beams", True)])
def test_settings_are_validated_naming_the_field(field: str, value) -> None:
    with pytest.raises(InputError, match=field):
        DecodeSettings(**{field: value})


def test_settings_from_mapping_names_unknown_keys_and_the_source() -> None:
    assert DecodeSettings.from_mapping({"num_beams": 3, "length_penalty": 2}).length_penalty == 2.0
    with pytest.raises(InputError, match=r"systems\[0\].generate: unknown decoding setting\(s\) \['beams'\]"):
        DecodeSettings.from_mapping({"beams": 3}, source="systems[0].generate")
    with pytest.raises(InputError, match="suite: decoding setting num_beams=0"):
        DecodeSettings.from_mapping({"num_beams": 0}, source="suite")
    assert DecodeSettings(num_beams=2).resolved(40).max_new_tokens == 40
    assert DecodeSettings(max_new_tokens=5).resolved(40).max_new_tokens == 5
    assert DecodeSettings().replace(num_beams=4, length_penalty=None).as_dict()["num_beams"] == 4
