"""Generation and training speed of the report generators on SmolLM2-135M (CPU), against Hugging Face in the same run.

1. Decoding: our batched, KV-cached greedy decoder (``models.generation.greedy_decode``, all cases in one batch)
   versus Hugging Face ``generate`` (greedy, KV cache, one case at a time), from the same conditioning embeddings.
   Prints tokens/s of both, the ratio, and whether the generated token ids are identical.
2. Training: time per optimizer step and peak resident memory of RAD3D-Prefix V-2 (frozen LLM) versus V-1 (LLM
   trained too), each in its own subprocess so the peaks do not mix.

Usage::

    .venv/bin/python benchmarks/perf/generation.py [--cases 8] [--max-new-tokens 64] [--train-steps 3]
"""

from __future__ import annotations

import argparse
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
    """Our batched decoder vs HF generate at batch 1 on the same inputs."""
    import torch

    from models.generation import greedy_decode, left_pad
    from models.llm import load_llm, stop_token_ids

    lm, tok = load_llm("smollm2")
    lm.eval()
    stops = stop_token_ids(tok, lm.config)
    seqs = _conditioning(lm, tok, cases)
    def run_hf() -> list[list[int]]:
        rows = []
        for seq in seqs:
            mask = torch.ones(1, seq.shape[0], dtype=torch.long)
            row = lm.generate(inputs_embeds=seq[None], attention_mask=mask, do_sample=False,
                              max_new_tokens=max_new_tokens, eos_token_id=stops,
                              pad_token_id=tok.pad_token_id)[0].tolist()
            rows.append(row[: next((i for i, t in enumerate(row) if t in stops), len(row))])
        return rows

    embeds, mask = left_pad(seqs)
    hf_times, our_times = [], []
    with torch.no_grad():
        greedy_decode(lm, seqs[0][None], stop_ids=stops, max_new_tokens=4)  # warm-up
        for _ in range(rounds):  # alternate the two, keep each one's best time (other jobs share the CPU)
            start = time.perf_counter()
            hf_rows = run_hf()
            hf_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            ours = greedy_decode(lm, embeds, mask, stop_ids=stops, max_new_tokens=max_new_tokens)
            our_times.append(time.perf_counter() - start)
    hf_s, ours_s = min(hf_times), min(our_times)
    hf_tokens, our_tokens = sum(map(len, hf_rows)), sum(map(len, ours))
    same = sum(a == b for a, b in zip(ours, hf_rows))
    return {"cases": cases, "max_new_tokens": max_new_tokens, "hf_tokens": hf_tokens, "hf_seconds": hf_s,
            "hf_tok_s": hf_tokens / hf_s, "ours_tokens": our_tokens, "ours_seconds": ours_s,
            "ours_tok_s": our_tokens / ours_s, "speedup": (our_tokens / ours_s) / (hf_tokens / hf_s),
            "identical_rows": same, "threads": torch.get_num_threads(), "rounds": rounds}


def _train_child(name: str, steps: int, batch: int) -> None:
    """Run in a subprocess: load the generator, then time ``steps`` optimizer steps; print JSON."""
    import numpy as np
    import torch

    from models.rad3d_prefix import Rad3dPrefixV1, Rad3dPrefixV2

    cls = {"v1": Rad3dPrefixV1, "v2": Rad3dPrefixV2}[name]
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
    """V-2 vs V-1 step time and peak memory, one subprocess each."""
    rows = []
    for variant in ("v2", "v1"):
        done = subprocess.run([sys.executable, __file__, "--child", variant, "--train-steps", str(steps),
                               "--batch", str(batch)], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def main() -> None:
    """Run both benchmarks and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="alternating timing rounds (best of)")
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--no-training", action="store_true", help="decoding benchmark only")
    parser.add_argument("--child", choices=["v1", "v2"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _train_child(args.child, args.train_steps, args.batch)
        return
    dec = bench_decoding(args.cases, args.max_new_tokens, args.rounds)
    print(f"decoding, SmolLM2-135M, {dec['cases']} cases, <= {dec['max_new_tokens']} new tokens, "
          f"{dec['threads']} threads, best of {dec['rounds']} alternating rounds")
    print(f"  HF generate, batch 1      : {dec['hf_tokens']:5d} tokens in {dec['hf_seconds']:7.2f} s = "
          f"{dec['hf_tok_s']:7.1f} tok/s")
    print(f"  ours, batched + KV cache  : {dec['ours_tokens']:5d} tokens in {dec['ours_seconds']:7.2f} s = "
          f"{dec['ours_tok_s']:7.1f} tok/s")
    print(f"  speed-up {dec['speedup']:.2f}x; identical outputs for {dec['identical_rows']}/{dec['cases']} cases")
    for row in [] if args.no_training else bench_training(args.train_steps, args.batch):
        print(f"training {row['variant']}: {row['trainable']:,} trainable; best step {row['step_seconds_rest']:.2f} s "
              f"(first {row['step_seconds_first']:.2f} s); peak RSS {row['peak_rss_mb']:.0f} MB, "
              f"+{row['training_overhead_mb']:.0f} MB over the loaded model")


if __name__ == "__main__":
    main()
