"""Decoding settings and a model-agnostic beam search over a stateful incremental decoder.

Any generator, Hugging Face or not, decodes by implementing :class:`IncrementalDecoder` (``start`` / ``reorder`` /
``step``) and calling :func:`decode_tokens` (or :func:`beam_search` directly). One forward pass per step serves every
case and every beam of the batch (``rows = cases x beams``); cases whose result can no longer change leave the
decoder state through ``reorder``, so later steps shrink.

Semantics are those of Hugging Face ``generate(do_sample=False)`` of the installed transformers (5.x) when the
prompt is given as ``inputs_embeds`` (``tests/models/test_beam_search.py`` checks token-for-token equality):

* ``num_beams == 1``: greedy; the repetition penalty and the minimum length act on the raw logits.
* ``num_beams > 1``: HF's vectorised beam search. Scores are cumulative log-softmax values after the processors
  (repetition penalty, then minimum length, both applied to the log-probabilities, as HF does); the top
  ``max(2, 1 + n_eos) * num_beams`` continuations are kept per case, a continuation ending in EOS (or reaching
  ``max_new_tokens``) becomes a finished hypothesis with score ``sum_logprobs / n_generated ** length_penalty``
  (``n_generated`` counts the EOS), and the search of a case stops per ``early_stopping`` (``False``: HF's default
  heuristic, ``True``: when ``num_beams`` hypotheses are finished, ``"never"``: the canonical bound). The best
  finished hypothesis is returned.
* The repetition penalty covers the tokens generated so far, not the conditioning (there are no prompt token ids:
  HF does the same for ``inputs_embeds``). HF's batched ``generate`` with a *left-padded* ``attention_mask`` also
  exempts the first ``n_pad`` generated tokens of a row from the penalty (its ``prompt_ignore_length`` counts the
  padding as if the prompt were in ``input_ids``); we do not reproduce that artefact: every row is decoded as HF
  decodes it alone, unpadded.
* The returned ids stop before the first EOS (the EOS is not returned).

Example:
    >>> import torch
    >>> class Bigram:  # a toy decoder: the next-token logits depend on the last token only
    ...     table = torch.tensor([[0., 2., 1., -1.], [3., 0., 2., 0.], [1., 0., 0., 2.], [0., 0., 0., 0.]])
    ...     def start(self): self.rows = 1; return self.table[:1].clone()
    ...     def reorder(self, index): self.rows = len(index)
    ...     def step(self, tokens): return self.table[tokens]
    >>> beam_search(Bigram(), batch_size=1, settings=DecodeSettings(num_beams=2, max_new_tokens=5), eos_token_id=0)
    [[1]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

import torch

from radeval.errors import InputError

#: Accepted values of :attr:`DecodeSettings.early_stopping` (as in HF ``GenerationConfig.early_stopping``).
EARLY_STOPPING_MODES: tuple[Any, ...] = (False, True, "never")


@dataclass(frozen=True)
class DecodeSettings:
    """How a generator decodes; the defaults are plain greedy decoding.

    Attributes:
        num_beams: beams per case (1 = greedy).
        max_new_tokens: cap on generated tokens (EOS included); ``None``: the generator's configured value.
        min_new_tokens: EOS is forbidden before this many tokens.
        repetition_penalty: CTRL-style penalty on already generated tokens (1.0 = none); > 1 discourages repeats.
        length_penalty: exponent of the hypothesis length dividing a finished beam's log-probability (beam search
            only; > 0 favours longer reports).
        early_stopping: when a case's beam search ends (beam search only): ``False`` (HF's default heuristic),
            ``True`` (as soon as ``num_beams`` hypotheses are finished) or ``"never"`` (only when no running beam
            can beat the finished ones).

    Raises:
        InputError: a value out of range, naming the field.

    Example:
        >>> DecodeSettings(num_beams=3, repetition_penalty=2.0, length_penalty=2.0).is_plain_greedy
        False
        >>> DecodeSettings().as_dict()["num_beams"]
        1
    """

    num_beams: int = 1
    max_new_tokens: int | None = None
    min_new_tokens: int = 0
    repetition_penalty: float = 1.0
    length_penalty: float = 1.0
    early_stopping: bool | str = False

    def __post_init__(self) -> None:
        def bad(field: str, why: str) -> InputError:
            return InputError(f"decoding setting {field}={getattr(self, field)!r}: {why}")

        if isinstance(self.num_beams, bool) or not isinstance(self.num_beams, int) or self.num_beams < 1:
            raise bad("num_beams", "expected an integer >= 1")
        if self.max_new_tokens is not None and (isinstance(self.max_new_tokens, bool)
                                                or not isinstance(self.max_new_tokens, int)
                                                or self.max_new_tokens < 1):
            raise bad("max_new_tokens", "expected an integer >= 1 (or null for the generator's value)")
        if isinstance(self.min_new_tokens, bool) or not isinstance(self.min_new_tokens, int) or self.min_new_tokens < 0:
            raise bad("min_new_tokens", "expected an integer >= 0")
        for field in ("repetition_penalty", "length_penalty"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise bad(field, "expected a finite number")
            object.__setattr__(self, field, float(value))
        if self.repetition_penalty <= 0:
            raise bad("repetition_penalty", "expected a number > 0")
        if not any(self.early_stopping is m or (isinstance(m, str) and self.early_stopping == m)
                   for m in EARLY_STOPPING_MODES):
            raise bad("early_stopping", "expected true, false or \"never\"")

    @property
    def is_plain_greedy(self) -> bool:
        """True when decoding is greedy with no penalty and no minimum length (the fast greedy path applies)."""
        return self.num_beams == 1 and self.repetition_penalty == 1.0 and self.min_new_tokens == 0

    def resolved(self, max_new_tokens: int) -> DecodeSettings:
        """These settings with ``max_new_tokens`` filled in from the generator's config when it is ``None``."""
        if self.max_new_tokens is not None:
            return self
        return DecodeSettings(**{**asdict(self), "max_new_tokens": int(max_new_tokens)})

    def replace(self, **changes: Any) -> DecodeSettings:
        """A copy with some fields changed (validated); ``None`` values are ignored (an option not given)."""
        return DecodeSettings(**{**asdict(self), **{k: v for k, v in changes.items() if v is not None}})

    def as_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready mapping (for output identities and manifests)."""
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: Any, *, source: str = "decoding settings") -> DecodeSettings:
        """Settings from a mapping (a suite's ``generate:`` keys), naming unknown keys and bad values.

        Raises:
            InputError: not a mapping, an unknown key or a bad value, naming ``source``.
        """
        if not isinstance(values, dict):
            raise InputError(f"{source}: expected a mapping of decoding settings, got {type(values).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"{source}: unknown decoding setting(s) {unknown}; known: {sorted(known)}")
        try:
            return cls(**values)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None


@runtime_checkable
class IncrementalDecoder(Protocol):
    """A stateful autoregressive decoder over a batch of rows (cases, or cases x beams).

    ``start`` encodes the conditioning of ``batch_size`` cases (one row each) and returns the logits of the first new
    token. ``reorder(index)`` replaces the rows of the state by ``state[index]`` (``index`` may repeat rows, drop rows
    or change their count: expansion to beams, beam reordering, dropping finished cases). ``step(tokens)`` appends one
    token to each current row and returns the logits of the next one. Logits are ``(rows, vocab)``, any float dtype.
    """

    def start(self) -> torch.Tensor:
        """``(batch_size, vocab)`` logits of the first generated token."""
        ...

    def reorder(self, index: torch.LongTensor) -> None:
        """Keep/duplicate rows of the state: row ``i`` becomes the old row ``index[i]``."""
        ...

    def step(self, tokens: torch.LongTensor) -> torch.Tensor:
        """Feed ``tokens`` (``(rows,)``, one per row) and return ``(rows, vocab)`` logits of the next token."""
        ...


def _eos_list(eos_token_id: int | Sequence[int] | None) -> list[int]:
    if eos_token_id is None:
        return []
    if isinstance(eos_token_id, int):
        return [eos_token_id]
    return [int(e) for e in eos_token_id]


def _check(settings: DecodeSettings, batch_size: int) -> int:
    if settings.max_new_tokens is None:
        raise InputError("decoding needs max_new_tokens (call settings.resolved(config.max_new_tokens) first)")
    if batch_size < 0:
        raise InputError(f"batch_size must be >= 0, got {batch_size}")
    return settings.max_new_tokens


def apply_repetition_penalty(scores: torch.Tensor, generated: torch.Tensor, penalty: float) -> torch.Tensor:
    """HF's ``RepetitionPenaltyLogitsProcessor``: scores of tokens in ``generated`` are multiplied by ``penalty``
    where negative and divided by it otherwise (once per distinct token).

    Args:
        scores: ``(rows, vocab)`` float scores.
        generated: ``(rows, n)`` token ids generated so far (``n`` may be 0).
        penalty: the repetition penalty (1.0: unchanged).

    Returns:
        The penalised scores (a new tensor; ``scores`` is unchanged).
    """
    if penalty == 1.0 or generated.shape[1] == 0:
        return scores
    picked = torch.gather(scores, 1, generated)
    picked = torch.where(picked < 0, picked * penalty, picked / penalty)
    return scores.scatter(1, generated, picked)


def _forbid(scores: torch.Tensor, token_ids: list[int]) -> torch.Tensor:
    """Scores with the given token ids set to ``-inf`` (HF's minimum-length processors)."""
    vocab = torch.arange(scores.shape[-1], device=scores.device)
    mask = torch.isin(vocab, torch.tensor(token_ids, device=scores.device))
    return torch.where(mask, -math.inf, scores)


def _process(scores: torch.Tensor, generated: torch.Tensor, settings: DecodeSettings, eos: list[int]) -> torch.Tensor:
    """Repetition penalty, then the minimum length, in HF's processor order."""
    scores = apply_repetition_penalty(scores, generated, settings.repetition_penalty)
    if eos and generated.shape[1] < settings.min_new_tokens:
        scores = _forbid(scores, eos)
    return scores


def decode_tokens(decoder: IncrementalDecoder, *, batch_size: int, settings: DecodeSettings,
                  eos_token_id: int | Sequence[int] | None) -> list[list[int]]:
    """Decode ``batch_size`` cases with ``settings``: greedy (``num_beams == 1``) or :func:`beam_search`.

    Args:
        decoder: the model's :class:`IncrementalDecoder`, not started yet.
        batch_size: number of cases (rows of ``decoder.start()``).
        settings: resolved decoding settings (``max_new_tokens`` set).
        eos_token_id: the stop id(s); ``None``: decode to ``max_new_tokens``.

    Returns:
        Per case, the generated token ids before the first EOS.

    Raises:
        InputError: unresolved settings.
    """
    if settings.num_beams > 1:
        return beam_search(decoder, batch_size=batch_size, settings=settings, eos_token_id=eos_token_id)
    return greedy_search(decoder, batch_size=batch_size, settings=settings, eos_token_id=eos_token_id)


def greedy_search(decoder: IncrementalDecoder, *, batch_size: int, settings: DecodeSettings,
                  eos_token_id: int | Sequence[int] | None) -> list[list[int]]:
    """Greedy decoding (HF ``generate(num_beams=1, do_sample=False)``) with repetition penalty and minimum length.

    Rows that emit EOS leave the decoder state; ``settings.num_beams`` is ignored. See :func:`decode_tokens`.
    """
    max_new = _check(settings, batch_size)
    eos = _eos_list(eos_token_id)
    eos_set = set(eos)
    outputs: list[list[int]] = [[] for _ in range(batch_size)]
    if batch_size == 0:
        return outputs
    active = list(range(batch_size))
    logits = decoder.start()
    device = logits.device
    generated = torch.empty(batch_size, 0, dtype=torch.long, device=device)
    for step in range(max_new):
        scores = _process(logits.to(dtype=torch.float32), generated, settings, eos)
        tokens = scores.argmax(-1)
        token_list = tokens.tolist()
        keep = [i for i, token in enumerate(token_list) if token not in eos_set]
        for i in keep:
            outputs[active[i]].append(token_list[i])
        if not keep or step == max_new - 1:
            break
        generated = torch.cat([generated, tokens[:, None]], dim=1)
        if len(keep) < len(active):
            index = torch.tensor(keep, device=device)
            active = [active[i] for i in keep]
            tokens, generated = tokens[index], generated[index]
            decoder.reorder(index)
        logits = decoder.step(tokens)
    return outputs


def beam_search(decoder: IncrementalDecoder, *, batch_size: int, settings: DecodeSettings,
                eos_token_id: int | Sequence[int] | None) -> list[list[int]]:
    """Batched beam search with repetition/length penalties, equal to HF ``generate(num_beams=k, do_sample=False)``.

    All ``cases x num_beams`` running rows go through one ``decoder.step`` per generated position. A case whose
    finished hypotheses can no longer change (per ``settings.early_stopping``) leaves the decoder state.

    Args:
        decoder: the model's :class:`IncrementalDecoder`, not started yet; its state is expanded to
            ``batch_size * num_beams`` rows (row ``c * num_beams + b`` is beam ``b`` of case ``c``) via ``reorder``.
        batch_size: number of cases (rows of ``decoder.start()``).
        settings: resolved decoding settings (``max_new_tokens`` set).
        eos_token_id: the stop id(s); ``None``: every hypothesis runs to ``max_new_tokens``.

    Returns:
        Per case, the token ids of the best finished hypothesis, before its EOS.

    Raises:
        InputError: unresolved settings.
    """
    max_new = _check(settings, batch_size)
    if batch_size == 0:
        return []
    k = settings.num_beams
    eos = _eos_list(eos_token_id)
    length_penalty, early_stopping = settings.length_penalty, settings.early_stopping
    keep_k = max(2, 1 + len(eos)) * k  # HF keeps this many candidates so k unfinished ones always remain
    logits = decoder.start()
    device = logits.device
    eos_tensor = torch.tensor(eos, dtype=torch.long, device=device)
    top_k_mask = torch.arange(keep_k, device=device) < k
    expand = torch.arange(batch_size, device=device).repeat_interleave(k)
    decoder.reorder(expand)
    logits = logits[expand]

    cases = list(range(batch_size))  # original case index of each case still searched
    n = batch_size
    running = torch.zeros(n, k, 0, dtype=torch.long, device=device)  # generated tokens of the running beams
    running_scores = torch.zeros(n, k, dtype=torch.float32, device=device)
    running_scores[:, 1:] = -1e9  # only beam 0 expands at the first step (the beams are copies)
    finished = torch.zeros(n, k, max_new, dtype=torch.long, device=device)
    finished_len = torch.zeros(n, k, dtype=torch.long, device=device)
    finished_scores = torch.full((n, k), -1e9, dtype=torch.float32, device=device)
    is_finished = torch.zeros(n, k, dtype=torch.bool, device=device)
    can_improve = torch.ones(n, 1, dtype=torch.bool, device=device)
    results: dict[int, list[int]] = {}

    for cur_len in range(max_new):
        vocab = logits.shape[-1]
        log_probs = torch.log_softmax(logits.to(dtype=torch.float32), dim=-1)
        log_probs = _process(log_probs, running.reshape(n * k, cur_len), settings, eos)
        log_probs = log_probs.reshape(n, k, vocab) + running_scores[:, :, None]
        top_scores, top_index = torch.topk(log_probs.reshape(n, k * vocab), k=keep_k)
        source_beam = top_index // vocab
        top_tokens = top_index % vocab
        top_running = torch.cat([torch.take_along_dim(running, source_beam[:, :, None], dim=1),
                                 top_tokens[:, :, None]], dim=2)
        hits = torch.isin(top_tokens, eos_tensor) if eos else torch.zeros_like(top_tokens, dtype=torch.bool)
        if cur_len + 1 >= max_new:
            hits = torch.ones_like(hits)

        # the k best unfinished continuations keep running
        running_candidates = top_scores + hits.to(torch.float32) * -1.0e9
        next_index = torch.topk(running_candidates, k=k)[1]
        running = torch.take_along_dim(top_running, next_index[:, :, None], dim=1)
        running_scores = torch.take_along_dim(running_candidates, next_index, dim=1)
        beam_source = torch.take_along_dim(source_beam, next_index, dim=1)

        # finished continuations among the top k join the finished hypotheses if they rank among the k best
        just_finished = hits & top_k_mask[None, :]
        # (HF also masks the candidates of cases whose finished set is frozen; such cases have left the search)
        scored = top_scores / ((cur_len + 1) ** length_penalty)
        scored = scored + (~just_finished) * -1.0e9
        padded = torch.zeros(n, keep_k, max_new, dtype=torch.long, device=device)
        padded[:, :, :cur_len + 1] = top_running
        merged_scores = torch.cat([finished_scores, scored], dim=1)
        best = torch.topk(merged_scores, k=k)[1]
        finished = torch.take_along_dim(torch.cat([finished, padded], dim=1), best[:, :, None], dim=1)
        finished_len = torch.take_along_dim(
            torch.cat([finished_len, torch.full((n, keep_k), cur_len + 1, dtype=torch.long, device=device)], dim=1),
            best, dim=1)
        finished_scores = torch.take_along_dim(merged_scores, best, dim=1)
        is_finished = torch.take_along_dim(torch.cat([is_finished, just_finished], dim=1), best, dim=1)

        # HF's stopping heuristic, evaluated for the next length
        gen_len = cur_len + 1
        hypothetical = max_new if (early_stopping == "never" and length_penalty > 0.0) else gen_len
        best_running = running_scores[:, :1] / (hypothetical ** length_penalty)
        worst_finished = torch.where(is_finished, torch.min(finished_scores, dim=1, keepdim=True)[0], -1.0e9)
        can_improve = can_improve & torch.any(best_running > worst_finished, dim=-1, keepdim=True)

        # a case is done when its finished hypotheses can no longer change: no running beam can beat them, all
        # k are finished under early_stopping=True, every candidate ended, or the length cap is reached
        done = ~can_improve[:, 0] | torch.all(hits, dim=-1)
        if early_stopping is True:
            done = done | torch.all(is_finished, dim=-1)
        if gen_len >= max_new:
            done = torch.ones_like(done)
        done_list = done.tolist()
        for i, is_done in enumerate(done_list):
            if is_done:
                results[cases[i]] = finished[i, 0, :int(finished_len[i, 0])].tolist()
        if all(done_list):
            break
        row_index = (torch.arange(n, device=device)[:, None] * k + beam_source)  # (n, k) rows of the old state
        if any(done_list):
            keep = torch.tensor([i for i, d in enumerate(done_list) if not d], device=device)
            cases = [cases[i] for i in keep.tolist()]
            row_index, running, running_scores = row_index[keep], running[keep], running_scores[keep]
            finished, finished_len, finished_scores = finished[keep], finished_len[keep], finished_scores[keep]
            is_finished, can_improve = is_finished[keep], can_improve[keep]
            n = len(cases)
        decoder.reorder(row_index.reshape(-1))
        logits = decoder.step(running[:, :, -1].reshape(-1))

    eos_set = set(eos)
    out = []
    for case in range(batch_size):
        ids = results[case]
        cut = next((i for i, t in enumerate(ids) if t in eos_set), len(ids))
        out.append(ids[:cut])
    return out
