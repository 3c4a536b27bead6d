"""Batched, KV-cached greedy decoding from input embeddings, and the file-level ``generate_reports`` API.

:func:`greedy_decode` runs one prefill over the whole (left-padded) batch of conditioning embeddings, then one token
per step for every row still running, reusing the key/value cache. Rows that emit a stop id are dropped from the
batch and from the cache, so the cost of a step shrinks as reports finish, and no step is run after the last token.
On CPU the intra-op thread count of the steps is chosen by timing them (:class:`ThreadChooser`): on a shared machine
one thread is often several times faster than two. The decoder yields exactly what Hugging Face
``generate(do_sample=False)`` yields for each row on its own (``tests/models/test_generation.py`` checks this).

:func:`generate_reports` is what ``radeval generate`` calls: it loads a saved generator, decodes an embedding file
batch by batch, appends finished batches to ``<out>.partial.jsonl`` (so a killed run resumes where it stopped) and
finally writes ``<out>`` in the embedding file's case order. Under ``accelerate launch`` each process decodes its
share of the batches and the main process writes the file. Decoding settings (beams, penalties; see
:mod:`radeval_models.beam_search`) override the generator's defaults and are part of the partial file's fingerprint,
so a run with other settings never resumes from (or mixes with) another's reports.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from radeval.data.embeddings import EmbeddingSet, load_embeddings
from radeval.errors import InputError
from radeval.io import write_reports
from radeval.registry import GenerationBatch


class ThreadChooser:
    """Picks the intra-op thread count for cached decode steps by timing the steps themselves.

    A cached decode step of a small model is a few hundred small matrix products. On a CPU shared with other jobs,
    each of them waits at an OpenMP barrier for a descheduled worker thread, and two threads can be many times slower
    than one (measured on the 2-core benchmark machine under load: SmolLM2-135M, batch 8, about 0.12 s per step on
    one thread and 1.2 s on two). On an idle machine more threads may win. So a probe round runs one real step with
    each candidate and keeps the fastest. The state lives per process (the load is the machine's, not the call's):
    probe rounds repeat after ``min_interval`` steps, the interval doubles each time a probe confirms the choice (up
    to ``max_interval``) and falls back to ``min_interval`` when the choice changes, so a bad candidate costs little
    once the choice is settled. The prefill runs with the current choice.
    """

    _states: dict[tuple[int, ...], dict[str, int]] = {}

    def __init__(self, candidates: Sequence[int], *, min_interval: int = 64, max_interval: int = 4096) -> None:
        """Args: candidates: thread counts to try (deduplicated, in order; the first is the initial choice);
        min_interval / max_interval: bounds of the number of steps between probe rounds."""
        self.candidates = tuple(dict.fromkeys(c for c in candidates if c >= 1)) or (1,)
        self.min_interval, self.max_interval = min_interval, max_interval
        self.state = ThreadChooser._states.setdefault(
            self.candidates, {"choice": self.candidates[0], "interval": min_interval, "until_probe": 0})
        self._probe: dict[int, float] = {}  # the probe round in progress: candidate -> step seconds

    @property
    def choice(self) -> int:
        """The thread count currently judged fastest."""
        return self.state["choice"]

    def threads_for_step(self) -> int:
        """The thread count to run the next step with."""
        if len(self.candidates) > 1 and self.state["until_probe"] <= 0:
            return self.candidates[len(self._probe)]
        return self.choice

    def record(self, threads: int, seconds: float) -> None:
        """Account one step that ran with ``threads`` for ``seconds``; settle the choice at the end of a probe."""
        state = self.state
        if len(self.candidates) == 1 or state["until_probe"] > 0:
            state["until_probe"] -= 1
            return
        self._probe[threads] = seconds
        if len(self._probe) < len(self.candidates):
            return
        best = min(self._probe, key=self._probe.__getitem__)
        interval = min(state["interval"] * 2, self.max_interval) if best == state["choice"] else self.min_interval
        state.update(choice=best, interval=interval, until_probe=interval)
        self._probe = {}


def _set_threads(n: int) -> None:
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def greedy_decode(lm: Any, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor | None = None, *,
                  stop_ids: Sequence[int], max_new_tokens: int,
                  forward_kwargs: Mapping[str, torch.Tensor] | None = None,
                  num_threads: int | None = None) -> list[list[int]]:
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
        num_threads: intra-op CPU threads for this call. ``None`` (default) on CPU: chosen by timing the decode
            steps between torch's current setting and one thread (:class:`ThreadChooser`); the setting is restored
            on return. Ignored off CPU.

    Returns:
        The generated token ids of each row, without the stop id.
    """
    device = inputs_embeds.device
    saved_threads = torch.get_num_threads()
    if device.type != "cpu":
        chooser = None
    elif num_threads is not None:
        chooser = ThreadChooser([num_threads])
    else:
        chooser = ThreadChooser([saved_threads, 1])
    try:
        with torch.inference_mode():
            return _greedy_decode(lm, inputs_embeds, attention_mask, stop_ids=stop_ids,
                                  max_new_tokens=max_new_tokens, forward_kwargs=forward_kwargs, chooser=chooser)
    finally:
        _set_threads(saved_threads)


def _greedy_decode(lm: Any, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor | None, *,
                   stop_ids: Sequence[int], max_new_tokens: int, forward_kwargs: Mapping[str, torch.Tensor] | None,
                   chooser: ThreadChooser | None) -> list[list[int]]:
    """The body of :func:`greedy_decode` (inside ``inference_mode``); ``chooser`` is ``None`` off CPU."""
    batch, length = inputs_embeds.shape[:2]
    device = inputs_embeds.device
    padded = attention_mask is not None and not bool(attention_mask.all())
    # Without padding the mask is dropped (the plain causal fast path). With padding, the mask of every step is a
    # prefix of one buffer allocated up front instead of a torch.cat per step.
    mask_buffer = None
    if padded:
        mask_buffer = torch.ones(batch, length + max_new_tokens, dtype=torch.long, device=device)
        mask_buffer[:, :length] = attention_mask
        position_ids = (mask_buffer[:, :length].cumsum(-1) - 1).clamp(min=0)
    else:
        position_ids = torch.arange(length, device=device).expand(batch, -1)
    extra = dict(forward_kwargs or {})
    # A PEFT wrapper passes keyword arguments through to the model it wraps, whose forward names them.
    accepted = _forward_parameters(type(lm.get_base_model() if hasattr(lm, "get_base_model") else lm))
    prefill_kwargs = {**extra, "logits_to_keep": 1} if "logits_to_keep" in accepted else extra
    cache_keyword = "cache" if "cache" in accepted else "past_key_values"  # renamed in transformers 5.x
    stop_set = set(stop_ids)
    outputs: list[list[int]] = [[] for _ in range(batch)]
    active = list(range(batch))  # original row of each running row
    if chooser is not None:
        _set_threads(chooser.choice)
    out = lm(inputs_embeds=inputs_embeds, attention_mask=mask_buffer[:, :length] if padded else None,
             position_ids=position_ids, use_cache=True, **prefill_kwargs)
    cache = _returned_cache(out)
    next_pos = position_ids[:, -1:] + 1
    tokens = out.logits[:, -1].argmax(-1)
    for step in range(max_new_tokens):
        token_list = tokens.tolist()
        keep = [i for i, token in enumerate(token_list) if token not in stop_set]
        for i in keep:
            outputs[active[i]].append(token_list[i])
        if not keep or step == max_new_tokens - 1:
            break
        if len(keep) < len(active):  # compact the batch: finished rows leave the cache
            index = torch.tensor(keep, device=device)
            active = [active[i] for i in keep]
            tokens, next_pos = tokens[index], next_pos[index]
            if mask_buffer is not None:
                mask_buffer = mask_buffer[index]
            cache.reorder_cache(index)
            extra = {k: v[index] for k, v in extra.items()}
        mask = mask_buffer[:, :length + step + 1] if mask_buffer is not None else None
        threads = chooser.threads_for_step() if chooser is not None else 0
        if chooser is not None:
            _set_threads(threads)
        start = time.perf_counter()
        out = lm(input_ids=tokens[:, None], attention_mask=mask, position_ids=next_pos, use_cache=True,
                 **{cache_keyword: cache}, **extra)
        tokens = out.logits[:, -1].argmax(-1)
        if chooser is not None:
            chooser.record(threads, time.perf_counter() - start)
        cache = _returned_cache(out)
        next_pos = next_pos + 1
    return outputs


@functools.lru_cache(maxsize=None)
def _forward_parameters(cls: type) -> frozenset[str]:
    """Names of the keyword arguments a model class's ``forward`` declares (they differ across transformers versions)."""
    import inspect

    return frozenset(inspect.signature(cls.forward).parameters)


def _returned_cache(output: Any) -> Any:
    """The KV cache of a forward pass: ``output.cache`` in newer transformers, ``past_key_values`` before."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


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
    """What :func:`generate_reports` did: cases written, cases decoded in this run, the output path, and the effective
    decoding settings (``None`` for a generator without token decoding, such as ``dummy``)."""

    n_cases: int
    n_generated: int
    out_path: Path
    decoding: dict[str, Any] | None = None


PARTIAL_HEADER = "radeval_partial"


def _model_identity(model: Any, load_kwargs: Mapping[str, Any], decoding: Mapping[str, Any] | None = None) -> str:
    """A fingerprint of what produces the texts: the saved generator's files (or the object's class), overrides and
    the effective decoding settings."""
    import hashlib

    from radeval.weights import local_weights_tag

    digest = hashlib.sha256()
    if isinstance(model, (str, Path)) and Path(model).exists():
        digest.update(local_weights_tag(model).encode())  # sampled content: a multi-GB V-1 folder is not read whole
    elif isinstance(model, (str, Path)):
        digest.update(str(model).encode())
    else:
        digest.update(f"{type(model).__module__}.{type(model).__qualname__}".encode())
    digest.update(json.dumps({k: str(v) for k, v in sorted(load_kwargs.items())}).encode())
    if decoding is not None:
        digest.update(json.dumps({"decoding": dict(decoding)}, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _read_partial(path: Path, identity: str | None = None) -> dict[str, str]:
    """The finished cases of a partial file; one written for another model (or other overrides) is refused."""
    done: dict[str, str] = {}
    if not path.is_file():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a kill: that batch is simply decoded again
            continue
        if isinstance(obj, dict) and PARTIAL_HEADER in obj:
            found = obj[PARTIAL_HEADER].get("model") if isinstance(obj[PARTIAL_HEADER], dict) else None
            if identity is not None and found != identity:
                raise InputError(f"{path}: partial results of another model or other settings (fingerprint {found!r}, "
                                 f"this run {identity!r}); delete it or pass --no-resume (resume=False)")
            continue
        if isinstance(obj, dict) and isinstance(obj.get("id"), str) and isinstance(obj.get("text"), str):
            done[obj["id"]] = obj["text"]
    return done


def _start_partial(path: Path, identity: str) -> None:
    """Create the partial file with its header, or end a line cut by a kill so appended records stay parseable."""
    if not path.is_file() or path.stat().st_size == 0:
        path.write_text(json.dumps({PARTIAL_HEADER: {"model": identity}}) + "\n", encoding="utf-8")
        return
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) != b"\n":
            fh.write(b"\n")


def _generate_batch(generator: Any, batch: GenerationBatch, failures: dict[str, str],
                    settings: Any = None) -> dict[str, str]:
    """The texts of a batch; if the generator raises, each case is retried alone so one bad case spares the rest."""
    try:
        texts = generator.generate(batch) if settings is None else generator.generate(batch, decoding=settings)
    except Exception as exc:  # noqa: BLE001 - a plug-in may raise anything; the case ids are reported at the end
        if len(batch) == 1:
            failures[batch.case_ids[0]] = f"{type(exc).__name__}: {exc}"
            return {}
    else:  # a broken contract (not one string per case) is not retried: it would pair texts with the wrong cases
        return dict(zip(batch.case_ids, _checked_texts(texts, batch)))
    out: dict[str, str] = {}
    for i, cid in enumerate(batch.case_ids):
        one = GenerationBatch([cid], batch.embeddings[i:i + 1],
                              None if batch.logits is None else batch.logits[i:i + 1], extra=batch.extra,
                              slab_tokens=None if batch.slab_tokens is None else batch.slab_tokens[i:i + 1])
        out.update(_generate_batch(generator, one, failures, settings))
    return out


def _checked_texts(texts: Any, batch: GenerationBatch) -> list[str]:
    texts = list(texts)
    if len(texts) != len(batch) or not all(isinstance(t, str) for t in texts):
        raise InputError(f"the generator returned {len(texts)} value(s) for {len(batch)} case(s) "
                         f"({list(batch.case_ids[:5])}); expected one string per case")
    return texts


def decoding_settings(generator: Any, decoding: Any = None) -> Any:
    """The effective decoding settings of ``generator`` for the overrides ``decoding`` (checked before any batch).

    Args:
        generator: a loaded generator.
        decoding: ``None``, a mapping of :class:`~radeval_models.beam_search.DecodeSettings` fields overriding the
            generator's defaults, or a complete ``DecodeSettings``.

    Returns:
        A ``DecodeSettings``, or ``None`` for a generator that decodes no tokens (no ``decode_settings``) and got no
        overrides.

    Raises:
        InputError: overrides for a generator that decodes no tokens, an unknown setting or a bad value.
    """
    if hasattr(generator, "decode_settings"):
        return generator.decode_settings(decoding)
    _refuse_decoding(getattr(generator, "name", type(generator).__name__), decoding)
    return None


def _refuse_decoding(name: str, decoding: Any) -> None:
    """Raise if ``decoding`` sets anything for the generator ``name``, which decodes no tokens."""
    from radeval_models.beam_search import DecodeSettings

    if isinstance(decoding, DecodeSettings):
        defaults = DecodeSettings().as_dict()
        given = {k: v for k, v in decoding.as_dict().items() if v is not None and v != defaults[k]}
    else:
        given = {k: v for k, v in dict(decoding or {}).items() if v is not None}
    if given:
        raise InputError(f"report generator {name!r} decodes no tokens: decoding settings {sorted(given)} do not "
                         "apply to it")


def saved_decoding(directory: str | Path, decoding: Any = None) -> dict[str, Any] | None:
    """The effective decoding settings (as a mapping) of the saved generator in ``directory`` for the overrides
    ``decoding``, read from its ``config.json`` without loading weights; ``None`` for a generator that decodes no
    tokens.

    Raises:
        InputError: unreadable checkpoint config, bad settings, or settings for a generator that decodes no tokens.
    """
    from radeval.registry import get_generator
    from radeval_models.checkpoint import read_checkpoint_config

    body = read_checkpoint_config(directory)
    cls = get_generator(str(body.get("model_type")))
    if hasattr(cls, "decode_settings_for"):
        return cls.decode_settings_for(cls.parse_config(body.get("config", {})), decoding).as_dict()
    _refuse_decoding(str(body.get("model_type")), decoding)
    return None


def generate_reports(model: Any, embeddings: EmbeddingSet | str | Path, out_path: str | Path, *,
                     batch_size: int = 8, resume: bool = True, quiet: bool = False,
                     decoding: Any = None, **load_kwargs: Any) -> GenerationSummary:
    """Generate one report per case of an embedding file and write them as JSONL (``id``, ``text``).

    Args:
        model: a loaded generator or the directory of a saved one.
        embeddings: an :class:`EmbeddingSet` or the path of an embedding file.
        out_path: the JSONL file to write (in the embedding file's case order).
        batch_size: cases decoded together.
        resume: keep the finished cases of ``<out>.partial.jsonl`` from an interrupted run.
        quiet: no progress bar.
        decoding: decoding settings: a mapping of :class:`~radeval_models.beam_search.DecodeSettings` fields
            (``num_beams``, ``repetition_penalty``, ``length_penalty``, ``min_new_tokens``, ``max_new_tokens``,
            ``early_stopping``) overriding the generator's defaults, or a complete ``DecodeSettings``; ``None``:
            the defaults. The effective settings enter the partial file's fingerprint and the summary.
        **load_kwargs: passed to ``from_pretrained`` when ``model`` is a directory (e.g. ``llm=``).

    Returns:
        A :class:`GenerationSummary`.

    Raises:
        InputError: unreadable model directory or embedding file, mismatched embeddings (naming the file/case),
            bad decoding settings or settings for a generator that decodes no tokens.
    """
    from tqdm.auto import tqdm

    from radeval_models.checkpoint import load_generator

    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    source = str(embeddings) if not isinstance(embeddings, EmbeddingSet) else "embeddings"
    data = embeddings if isinstance(embeddings, EmbeddingSet) else load_embeddings(embeddings)
    generator = load_generator(model, **load_kwargs) if isinstance(model, (str, Path)) else model
    settings = decoding_settings(generator, decoding)
    settings_dict = settings.as_dict() if settings is not None else None
    state = _distributed_state()
    out = Path(out_path)
    partial = out.with_name(out.name + ".partial.jsonl")
    identity = _model_identity(model, load_kwargs, settings_dict)
    done = _read_partial(partial, identity) if resume else {}
    if state.is_main and not resume and partial.exists():
        partial.unlink()
    if state.world == 1:
        _start_partial(partial, identity)
    todo = [i for i, cid in enumerate(data.case_ids) if cid not in done]
    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    mine = batches[state.rank::state.world]
    results: dict[str, str] = {}
    failures: dict[str, str] = {}
    bar = tqdm(total=sum(len(b) for b in mine), disable=quiet or not state.is_main, desc="generate", unit="case")
    for rows in mine:
        batch = GenerationBatch([data.case_ids[i] for i in rows], data.embeddings[rows],
                                None if data.logits is None else data.logits[rows], extra={"source": source},
                                slab_tokens=None if data.slab_tokens is None else data.slab_tokens[rows])
        new = _generate_batch(generator, batch, failures, settings)
        results.update(new)
        if state.world == 1:
            with open(partial, "a", encoding="utf-8") as fh:
                fh.write("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in new.items()))
        bar.update(len(rows))
    bar.close()
    if state.world > 1:
        results = state.gather(results)
        failures = state.gather(failures)
    if failures:
        from radeval.errors import RadevalError

        state.barrier()
        shown = "; ".join(f"{cid}: {msg}" for cid, msg in list(failures.items())[:5])
        raise RadevalError(f"{source}: generation failed for {len(failures)} case(s) ({shown}); the "
                           f"{len(results) + len(done)} finished report(s) are kept in {partial} and a re-run "
                           f"resumes from there; {out} was not written")
    if state.is_main:
        merged = {**done, **results}
        write_reports(out, [(cid, merged[cid]) for cid in data.case_ids])
        if partial.exists():
            partial.unlink()
    state.barrier()
    return GenerationSummary(len(data), len(results), out, settings_dict)


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
