"""Batched, KV-cached greedy decoding from input embeddings, and the file-level ``generate_reports`` API.

:func:`greedy_decode` runs one prefill over the whole (left-padded) batch of conditioning embeddings, then one token
per step for every row still running, reusing the key/value cache. Rows that emit a stop id are dropped from the
batch and from the cache, so the cost of a step shrinks as reports finish. It yields exactly what Hugging Face
``generate(do_sample=False)`` yields for each row on its own (``tests/models/test_generation.py`` checks this).

:func:`generate_reports` is what ``radeval generate`` calls: it loads a saved generator, decodes an embedding file
batch by batch, appends finished batches to ``<out>.partial.jsonl`` (so a killed run resumes where it stopped) and
finally writes ``<out>`` in the embedding file's case order. Under ``accelerate launch`` each process decodes its
share of the batches and the main process writes the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from radeval.data.embeddings import EmbeddingSet, load_embeddings
from radeval.errors import InputError
from radeval.io import write_reports
from radeval.registry import GenerationBatch


@torch.no_grad()
def greedy_decode(lm: Any, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor | None = None, *,
                  stop_ids: Sequence[int], max_new_tokens: int,
                  forward_kwargs: Mapping[str, torch.Tensor] | None = None) -> list[list[int]]:
    """Greedy decoding of a batch, one prefill then cached single-token steps.

    Args:
        lm: a Hugging Face causal LM (anything accepting ``inputs_embeds``, ``attention_mask``, ``position_ids``,
            ``past_key_values``).
        inputs_embeds: ``(batch, length, hidden)`` conditioning embeddings, **left**-padded.
        attention_mask: ``(batch, length)``, 1 for real positions (default: all ones).
        stop_ids: token ids that end a row; the stop id itself is not returned.
        max_new_tokens: hard cap on generated tokens per row.
        forward_kwargs: per-row tensors passed to every forward call (e.g. ``encoder_hidden_states``); their first
            dimension is the batch and they are compacted along with the cache.

    Returns:
        The generated token ids of each row, without the stop id.
    """
    batch, length = inputs_embeds.shape[:2]
    device = inputs_embeds.device
    if attention_mask is None:
        attention_mask = torch.ones(batch, length, dtype=torch.long, device=device)
    attention_mask = attention_mask.to(device=device, dtype=torch.long)
    extra = {k: v for k, v in (forward_kwargs or {}).items()}
    stops = torch.tensor(sorted(set(stop_ids)), device=device)
    outputs: list[list[int]] = [[] for _ in range(batch)]
    active = torch.arange(batch, device=device)  # original row of each running row
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    if _accepts_logits_to_keep(lm):  # the prefill needs the last position's logits only
        extra_prefill = {**extra, "logits_to_keep": 1}
    else:
        extra_prefill = extra
    padded = not bool(attention_mask.all())  # without padding the mask is dropped: the plain causal fast path
    out = lm(inputs_embeds=inputs_embeds, attention_mask=attention_mask if padded else None,
             position_ids=position_ids, use_cache=True, **extra_prefill)
    cache = out.past_key_values
    next_pos = position_ids[:, -1:] + 1
    logits = out.logits[:, -1]
    for _ in range(max_new_tokens):
        tokens = logits.argmax(-1)
        done = torch.isin(tokens, stops)
        for row, token, finished in zip(active.tolist(), tokens.tolist(), done.tolist()):
            if not finished:
                outputs[row].append(token)
        keep = (~done).nonzero(as_tuple=True)[0]
        if keep.numel() == 0:
            break
        if keep.numel() < active.numel():  # compact the batch: finished rows leave the cache
            active, tokens = active[keep], tokens[keep]
            attention_mask, next_pos = attention_mask[keep], next_pos[keep]
            cache.reorder_cache(keep)
            extra = {k: v[keep] for k, v in extra.items()}
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones(attention_mask.shape[0], 1)], dim=1)
        out = lm(input_ids=tokens[:, None], attention_mask=attention_mask if padded else None,
                 position_ids=next_pos, past_key_values=cache, use_cache=True, **extra)
        cache = out.past_key_values
        next_pos = next_pos + 1
        logits = out.logits[:, -1]
    return outputs


def _accepts_logits_to_keep(lm: Any) -> bool:
    import inspect

    return "logits_to_keep" in inspect.signature(type(lm).forward).parameters


def left_pad(sequences: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ``(length_i, hidden)`` embedding sequences, left-padded with zeros; returns (embeds, attention mask)."""
    longest = max(s.shape[0] for s in sequences)
    hidden = sequences[0].shape[-1]
    embeds = sequences[0].new_zeros(len(sequences), longest, hidden)
    mask = torch.zeros(len(sequences), longest, dtype=torch.long, device=sequences[0].device)
    for i, seq in enumerate(sequences):
        embeds[i, longest - seq.shape[0]:] = seq
        mask[i, longest - seq.shape[0]:] = 1
    return embeds, mask


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_reports` did: cases written, cases decoded in this run, and the output path."""

    n_cases: int
    n_generated: int
    out_path: Path


def _read_partial(path: Path) -> dict[str, str]:
    done: dict[str, str] = {}
    if not path.is_file():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a kill: that batch is simply decoded again
            continue
        if isinstance(obj, dict) and isinstance(obj.get("id"), str) and isinstance(obj.get("text"), str):
            done[obj["id"]] = obj["text"]
    return done


def generate_reports(model: Any, embeddings: EmbeddingSet | str | Path, out_path: str | Path, *,
                     batch_size: int = 8, resume: bool = True, quiet: bool = False,
                     **load_kwargs: Any) -> GenerationSummary:
    """Generate one report per case of an embedding file and write them as JSONL (``id``, ``text``).

    Args:
        model: a loaded generator or the directory of a saved one.
        embeddings: an :class:`EmbeddingSet` or the path of an embedding file.
        out_path: the JSONL file to write (in the embedding file's case order).
        batch_size: cases decoded together.
        resume: keep the finished cases of ``<out>.partial.jsonl`` from an interrupted run.
        quiet: no progress bar.
        **load_kwargs: passed to ``from_pretrained`` when ``model`` is a directory (e.g. ``llm=``).

    Returns:
        A :class:`GenerationSummary`.

    Raises:
        InputError: unreadable model directory or embedding file, mismatched embeddings (naming the file/case).
    """
    from tqdm.auto import tqdm

    from models.checkpoint import load_generator

    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    source = str(embeddings) if not isinstance(embeddings, EmbeddingSet) else "embeddings"
    data = embeddings if isinstance(embeddings, EmbeddingSet) else load_embeddings(embeddings)
    generator = load_generator(model, **load_kwargs) if isinstance(model, (str, Path)) else model
    state = _distributed_state()
    out = Path(out_path)
    partial = out.with_name(out.name + ".partial.jsonl")
    done = _read_partial(partial) if resume else {}
    if state.is_main and not resume and partial.exists():
        partial.unlink()
    todo = [i for i, cid in enumerate(data.case_ids) if cid not in done]
    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    mine = batches[state.rank::state.world]
    results: dict[str, str] = {}
    bar = tqdm(total=sum(len(b) for b in mine), disable=quiet or not state.is_main, desc="generate", unit="case")
    for rows in mine:
        batch = GenerationBatch([data.case_ids[i] for i in rows], data.embeddings[rows],
                                None if data.logits is None else data.logits[rows], extra={"source": source})
        texts = generator.generate(batch)
        new = dict(zip(batch.case_ids, texts))
        results.update(new)
        if state.world == 1:
            with open(partial, "a", encoding="utf-8") as fh:
                fh.write("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in new.items()))
        bar.update(len(rows))
    bar.close()
    if state.world > 1:
        results = state.gather(results)
    if state.is_main:
        merged = {**done, **results}
        write_reports(out, [(cid, merged[cid]) for cid in data.case_ids])
        if partial.exists():
            partial.unlink()
    state.barrier()
    return GenerationSummary(len(data), len(results), out)


@dataclass(frozen=True)
class _DistributedState:
    rank: int
    world: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def gather(self, results: dict[str, str]) -> dict[str, str]:
        from accelerate.utils import gather_object

        merged: dict[str, str] = {}
        for part in gather_object([results]):
            merged.update(part)
        return merged

    def barrier(self) -> None:
        if self.world > 1:
            from accelerate import PartialState

            PartialState().wait_for_everyone()


def _distributed_state() -> _DistributedState:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from accelerate import PartialState

        st = PartialState()
        return _DistributedState(st.process_index, st.num_processes)
    return _DistributedState(0, 1)
