"""Generation and training speed of the report generators on SmolLM2-135M (CPU), against Hugging Face in the same run.

1. Decoding: our batched, KV-cached greedy decoder (``radeval_models.generation.greedy_decode``, all cases in one batch, and
   one case at a time) versus Hugging Face ``generate`` (greedy, KV cache, one case at a time, with torch's thread
   setting and with one thread), from the same conditioning embeddings, interleaved in the same run. Prints tokens/s
   of each, the ratios, and whether the generated token ids are identical to HF's.
2. Beam search: our batched beam search (``radeval_models.lm_decoder.decode_lm``, all cases x beams in one forward
   per step) versus Hugging Face ``generate`` (one case at a time and the whole batch), with R2GenGPT's published
   settings (3 beams, repetition penalty 2.0, length penalty 2.0) by default. Prints tokens/s, the ratio, and
   whether the token ids are identical to HF's per-case ``generate``.
3. Training: time per optimizer step and peak resident memory of RAD3D-Prefix V-2 (frozen LLM) versus V-1 (LLM
   trained too), each in its own subprocess so the peaks do not mix; and V-2 under bf16 autocast (the training
   loop's ``mixed_precision: bf16``) against the float32 V-2 of the same run, with the ratio.

Usage::

    .venv/bin/python benchmarks/perf/generation.py [--cases 8] [--max-new-tokens 64] [--train-steps 3]
        [--beams 3] [--no-greedy] [--no-beam] [--no-training]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from typing import Any

PROMPTS = [
    "Write the findings of a normal chest CT report.",
    "Describe a chest CT with a small nodule in the right upper lobe.",
    "List three findings of emphysema on chest CT.",
    "Describe cardiomegaly on a chest CT scan.",
    "Write a chest CT report with a left pleural effusion.",
    "Summarise a chest CT showing consolidation in the left lower lobe.",
    "Describe ground glass opacities on chest CT.",
    "Write findings for a hiatal hernia seen on CT.",
]


def _conditioning(lm: Any, tok: Any, n: int) -> list[Any]:
    """Chat-formatted prompt embeddings, standing in for mapped image prefixes."""
    embed = lm.get_input_embeddings()
    out = []
    for i in range(n):
        text = tok.apply_chat_template([{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}], tokenize=False,
                                       add_generation_prompt=True)
        ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"][0]
        out.append(embed(ids).detach())
    return out


def bench_decoding(cases: int, max_new_tokens: int, rounds: int) -> dict[str, Any]:
    """Our decoder at batch ``cases`` and batch 1 vs HF generate at batch 1 (torch's thread setting and one thread)."""
    import torch

    from radeval_models.generation import ThreadChooser, greedy_decode, left_pad
    from radeval_models.llm import load_llm, stop_token_ids

    lm, tok = load_llm("smollm2")
    lm.eval()
    stops = stop_token_ids(tok, lm.config)
    seqs = _conditioning(lm, tok, cases)
    default_threads = torch.get_num_threads()

    def run_hf(threads: int) -> list[list[int]]:
        torch.set_num_threads(threads)
        rows = []
        try:
            for seq in seqs:
                mask = torch.ones(1, seq.shape[0], dtype=torch.long)
                row = lm.generate(inputs_embeds=seq[None], attention_mask=mask, do_sample=False,
                                  max_new_tokens=max_new_tokens, eos_token_id=stops,
                                  pad_token_id=tok.pad_token_id)[0].tolist()
                rows.append(row[: next((i for i, t in enumerate(row) if t in stops), len(row))])
        finally:
            torch.set_num_threads(default_threads)
        return rows

    def run_ours_batch1() -> list[list[int]]:
        return [greedy_decode(lm, seq[None], stop_ids=stops, max_new_tokens=max_new_tokens)[0] for seq in seqs]

    embeds, mask = left_pad(seqs)
    runs: dict[str, Any] = {
        f"hf_b1_t{default_threads}": lambda: run_hf(default_threads),
        "hf_b1_t1": lambda: run_hf(1),
        "ours_b1": run_ours_batch1,
        f"ours_b{cases}": lambda: greedy_decode(lm, embeds, mask, stop_ids=stops, max_new_tokens=max_new_tokens),
    }
    if default_threads == 1:
        del runs["hf_b1_t1"]
    times: dict[str, list[float]] = {name: [] for name in runs}
    rows: dict[str, list[list[int]]] = {}
    with torch.no_grad():
        greedy_decode(lm, seqs[0][None], stop_ids=stops, max_new_tokens=4)  # warm-up (and a first thread probe)
        for _ in range(rounds):  # interleave the runs, keep each one's best time (other jobs share the CPU)
            for name, run in runs.items():
                start = time.perf_counter()
                rows[name] = run()
                times[name].append(time.perf_counter() - start)
    reference = rows[f"hf_b1_t{default_threads}"]
    result: dict[str, Any] = {"cases": cases, "max_new_tokens": max_new_tokens, "threads": default_threads,
                              "rounds": rounds, "runs": {}}
    for name in runs:
        tokens, seconds = sum(map(len, rows[name])), min(times[name])
        result["runs"][name] = {"tokens": tokens, "seconds": seconds, "tok_s": tokens / seconds,
                                "identical_rows": sum(a == b for a, b in zip(rows[name], reference))}
    chooser_state = ThreadChooser._states.get(tuple(dict.fromkeys([default_threads, 1])))
    result["chosen_threads"] = chooser_state["choice"] if chooser_state else default_threads
    r = result["runs"]
    best_hf = max(v["tok_s"] for k, v in r.items() if k.startswith("hf_"))
    result["speedup_batched_vs_best_hf"] = r[f"ours_b{cases}"]["tok_s"] / best_hf
    result["speedup_batched_vs_hf_default"] = r[f"ours_b{cases}"]["tok_s"] / r[f"hf_b1_t{default_threads}"]["tok_s"]
    result["speedup_b1_vs_best_hf"] = r["ours_b1"]["tok_s"] / best_hf
    return result


def bench_beam(cases: int, max_new_tokens: int, rounds: int, beams: int, repetition_penalty: float,
               length_penalty: float) -> dict[str, Any]:
    """Our batched beam search at batch ``cases`` vs HF ``generate`` (batch 1 per case, and the padded batch)."""
    import torch

    from radeval_models.beam_search import DecodeSettings
    from radeval_models.generation import left_pad
    from radeval_models.lm_decoder import decode_lm
    from radeval_models.llm import load_llm, stop_token_ids

    lm, tok = load_llm("smollm2")
    lm.eval()
    stops = stop_token_ids(tok, lm.config)
    seqs = _conditioning(lm, tok, cases)
    settings = DecodeSettings(num_beams=beams, repetition_penalty=repetition_penalty, length_penalty=length_penalty,
                              max_new_tokens=max_new_tokens)

    def cut(row: list[int]) -> list[int]:
        return row[: next((i for i, t in enumerate(row) if t in stops), len(row))]

    def hf(embeds: Any, mask: Any) -> list[list[int]]:
        out = lm.generate(inputs_embeds=embeds, attention_mask=mask, do_sample=False, num_beams=beams,
                          repetition_penalty=repetition_penalty, length_penalty=length_penalty,
                          max_new_tokens=max_new_tokens, eos_token_id=stops, pad_token_id=tok.pad_token_id)
        return [cut(r) for r in out.tolist()]

    embeds, mask = left_pad(seqs)
    runs: dict[str, Any] = {
        "hf_b1": lambda: [hf(s[None], torch.ones(1, s.shape[0], dtype=torch.long))[0] for s in seqs],
        f"hf_b{cases}": lambda: hf(embeds, mask),
        f"ours_b{cases}": lambda: decode_lm(lm, embeds, mask, settings=settings, stop_ids=stops),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    rows: dict[str, list[list[int]]] = {}
    with torch.no_grad():
        for _ in range(rounds):
            for name, run in runs.items():
                start = time.perf_counter()
                rows[name] = run()
                times[name].append(time.perf_counter() - start)
    result: dict[str, Any] = {"cases": cases, "beams": beams, "repetition_penalty": repetition_penalty,
                              "length_penalty": length_penalty, "max_new_tokens": max_new_tokens,
                              "threads": torch.get_num_threads(), "rounds": rounds, "runs": {}}
    for name in runs:
        tokens, seconds = sum(map(len, rows[name])), min(times[name])
        result["runs"][name] = {"tokens": tokens, "seconds": seconds, "tok_s": tokens / seconds,
                                "identical_rows": sum(a == b for a, b in zip(rows[name], rows["hf_b1"]))}
    r = result["runs"]
    result["ratio_vs_hf_b1"] = r["hf_b1"]["seconds"] / r[f"ours_b{cases}"]["seconds"]
    result["ratio_vs_hf_batched"] = r[f"hf_b{cases}"]["seconds"] / r[f"ours_b{cases}"]["seconds"]
    return result


def _train_child(name: str, steps: int, batch: int) -> None:
    """Run in a subprocess: load the generator, then time ``steps`` optimizer steps; print JSON."""
    import numpy as np
    import torch

    from radeval_models.rad3d_prefix import Rad3dPrefixV1, Rad3dPrefixV2

    cls = {"v1": Rad3dPrefixV1, "v2": Rad3dPrefixV2, "v2-bf16": Rad3dPrefixV2}[name]
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if name.endswith("-bf16")
                else contextlib.nullcontext())  # as radeval_models.train_epoch.autocast_context does
    torch.manual_seed(0)
    model = cls.from_config({"llm": "smollm2", "num_layers": 2, "prefix_length": 10, "clip_length": 10})
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    rng = np.random.default_rng(0)
    texts = [PROMPTS[i % len(PROMPTS)] + " No pleural effusion. Heart size normal." for i in range(batch)]
    cond = torch.from_numpy(rng.normal(size=(batch, 512)).astype(np.float32))
    model.train()
    times = []
    for _ in range(steps + 1):  # the first step (allocation, warm-up) is reported apart
        t0 = time.perf_counter()
        with autocast:
            out = model(**model.collate(texts, cond))
        (out["loss_sum"] / out["n_tokens"]).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = model.parameter_counts()
    print(json.dumps({"variant": name, "trainable": counts.trainable, "step_seconds_first": times[0],
                      "step_seconds_rest": min(times[1:]), "rss_after_load_mb": rss_loaded,
                      "peak_rss_mb": peak, "training_overhead_mb": peak - rss_loaded}))


def bench_training(steps: int, batch: int) -> list[dict[str, Any]]:
    """V-2 vs V-1 (and V-2 under bf16 autocast) step time and peak memory, one subprocess each."""
    rows = []
    for variant in ("v2", "v1", "v2-bf16"):
        done = subprocess.run([sys.executable, __file__, "--child", variant, "--train-steps", str(steps),
                               "--batch", str(batch)], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def main() -> None:
    """Run both benchmarks and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved timing rounds (best of)")
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--no-training", action="store_true", help="decoding benchmarks only")
    parser.add_argument("--no-greedy", action="store_true", help="skip the greedy decoding benchmark")
    parser.add_argument("--no-beam", action="store_true", help="skip the beam-search benchmark")
    parser.add_argument("--beams", type=int, default=3)
    parser.add_argument("--repetition-penalty", type=float, default=2.0)
    parser.add_argument("--length-penalty", type=float, default=2.0)
    parser.add_argument("--child", choices=["v1", "v2", "v2-bf16"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _train_child(args.child, args.train_steps, args.batch)
        return
    if not args.no_greedy:
        dec = bench_decoding(args.cases, args.max_new_tokens, args.rounds)
        labels = {f"hf_b1_t{dec['threads']}": f"HF generate, batch 1, {dec['threads']} threads",
                  "hf_b1_t1": "HF generate, batch 1, 1 thread",
                  "ours_b1": "ours, batch 1",
                  f"ours_b{dec['cases']}": f"ours, batch {dec['cases']}"}
        print(f"decoding, SmolLM2-135M, {dec['cases']} cases, <= {dec['max_new_tokens']} new tokens, torch threads "
              f"{dec['threads']} (ours chose {dec['chosen_threads']}), best of {dec['rounds']} interleaved rounds")
        for name, run in dec["runs"].items():
            print(f"  {labels[name]:<32}: {run['tokens']:5d} tokens in {run['seconds']:7.2f} s = "
                  f"{run['tok_s']:7.1f} tok/s  (identical to HF for {run['identical_rows']}/{dec['cases']} cases)")
        print(f"  speed-up, ours batch {dec['cases']} vs the faster HF batch 1: "
              f"{dec['speedup_batched_vs_best_hf']:.2f}x; "
              f"vs HF at torch's default threads: {dec['speedup_batched_vs_hf_default']:.2f}x; "
              f"ours batch 1 vs the faster HF batch 1: {dec['speedup_b1_vs_best_hf']:.2f}x")
    if not args.no_beam:
        beam = bench_beam(args.cases, args.max_new_tokens, args.rounds, args.beams, args.repetition_penalty,
                          args.length_penalty)
        labels = {"hf_b1": "HF generate, batch 1", f"hf_b{beam['cases']}": f"HF generate, batch {beam['cases']}",
                  f"ours_b{beam['cases']}": f"ours, batch {beam['cases']}"}
        print(f"beam search, SmolLM2-135M, {beam['cases']} cases x {beam['beams']} beams, repetition penalty "
              f"{beam['repetition_penalty']}, length penalty {beam['length_penalty']}, <= {beam['max_new_tokens']} new "
              f"tokens, torch threads {beam['threads']}, best of {beam['rounds']} interleaved rounds")
        for name, run in beam["runs"].items():
            print(f"  {labels[name]:<32}: {run['tokens']:5d} tokens in {run['seconds']:7.2f} s = "
                  f"{run['tok_s']:7.1f} tok/s  (identical to HF batch 1 for {run['identical_rows']}/{beam['cases']})")
        print(f"  ratio (HF time / ours): vs HF batch 1 {beam['ratio_vs_hf_b1']:.2f}x; "
              f"vs HF batched {beam['ratio_vs_hf_batched']:.2f}x")
    rows = [] if args.no_training else bench_training(args.train_steps, args.batch)
    for row in rows:
        print(f"training {row['variant']}: {row['trainable']:,} trainable; best step {row['step_seconds_rest']:.2f} s "
              f"(first {row['step_seconds_first']:.2f} s); peak RSS {row['peak_rss_mb']:.0f} MB, "
              f"+{row['training_overhead_mb']:.0f} MB over the loaded model")
    best = {row["variant"]: row["step_seconds_rest"] for row in rows}
    if "v2" in best and "v2-bf16" in best:
        print(f"  bf16 autocast speed-up of a V-2 step (float32 / bf16, batch {args.batch}): "
              f"{best['v2'] / best['v2-bf16']:.2f}x")


if __name__ == "__main__":
    main()
