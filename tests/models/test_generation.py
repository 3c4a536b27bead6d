"""Batched KV-cached greedy decoding equals Hugging Face ``generate`` run case by case."""

from __future__ import annotations

from pathlib import Path

import torch

from radeval_models.generation import ThreadChooser, greedy_decode, left_pad
from radeval_models.llm import load_llm, stop_token_ids


def test_batched_greedy_equals_hf_generate_per_row(tiny_llama: Path) -> None:
    lm, tok = load_llm(str(tiny_llama))
    lm.eval()
    torch.manual_seed(3)
    embed = lm.get_input_embeddings()
    prompts = ["Case A:\n", "Case C:\n", "Case", "Case G:\nHiatal"]
    seqs = [embed(torch.tensor(tok(p, add_special_tokens=False)["input_ids"])).detach() for p in prompts]
    seqs.append(torch.randn(5, lm.config.hidden_size))  # a soft prompt, as a mapper would give
    stops = stop_token_ids(tok, lm.config)
    embeds, mask = left_pad(seqs)
    ours = greedy_decode(lm, embeds, mask, stop_ids=stops, max_new_tokens=24)
    for seq, got in zip(seqs, ours):
        ref = lm.generate(inputs_embeds=seq[None], attention_mask=torch.ones(1, seq.shape[0], dtype=torch.long),
                          do_sample=False, max_new_tokens=24, eos_token_id=stops, pad_token_id=tok.pad_token_id)
        ref_ids = ref[0].tolist()
        cut = next((i for i, t in enumerate(ref_ids) if t in stops), len(ref_ids))
        assert got == ref_ids[:cut]
    assert any(len(o) < 24 for o in ours)  # some rows stopped on EOS before the cap
    assert tok.decode(ours[0]) == "No pleural effusion."


def test_stops_at_max_new_tokens(tiny_llama: Path) -> None:
    lm, tok = load_llm(str(tiny_llama))
    out = greedy_decode(lm, torch.randn(2, 3, lm.config.hidden_size), stop_ids=[tok.eos_token_id], max_new_tokens=4)
    assert all(len(row) <= 4 for row in out)


def test_thread_chooser_keeps_the_faster_candidate_and_backs_off() -> None:
    ThreadChooser._states.pop((7, 1), None)
    chooser = ThreadChooser([7, 1], min_interval=2, max_interval=8)
    assert chooser.choice == 7
    assert chooser.threads_for_step() == 7  # a probe round first: one step per candidate
    chooser.record(7, 1.0)
    assert chooser.threads_for_step() == 1
    chooser.record(1, 0.1)
    assert chooser.choice == 1
    assert chooser.threads_for_step() == 1
    for _ in range(2):  # min_interval steps with the choice, then the next probe
        chooser.record(chooser.threads_for_step(), 0.1)
    assert chooser.threads_for_step() == 7
    chooser.record(7, 2.0)
    chooser.record(chooser.threads_for_step(), 0.1)
    assert chooser.choice == 1 and chooser.state["interval"] == 4  # confirmed: the interval doubles
    again = ThreadChooser([7, 1], min_interval=2, max_interval=8)  # the state is per process
    assert again.choice == 1 and again.state["until_probe"] == 4
    ThreadChooser._states.pop((7, 1), None)


def test_thread_setting_restored_and_outputs_unchanged(tiny_llama: Path) -> None:
    lm, tok = load_llm(str(tiny_llama))
    lm.eval()
    torch.manual_seed(0)
    embeds = torch.randn(3, 4, lm.config.hidden_size)
    before = torch.get_num_threads()
    auto = greedy_decode(lm, embeds, stop_ids=[tok.eos_token_id], max_new_tokens=8)
    one = greedy_decode(lm, embeds, stop_ids=[tok.eos_token_id], max_new_tokens=8, num_threads=1)
    assert auto == one
    assert torch.get_num_threads() == before
