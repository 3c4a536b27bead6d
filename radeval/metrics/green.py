"""GREEN: an LLM judge counts clinically significant errors and matched findings; score ``m / (m + Σe)``.

Faithful to the GREEN reference implementation (Stanford-AIMI/GREEN @ d72c195, green_score 0.0.12):

* **prompt** — ``green_prompt.txt`` (package data) is GREEN's judge prompt template byte for byte
  (from ``green_score/utils.py`` ``make_prompt``; MIT licence). Each report is split on whitespace,
  cut to its first 300 words and re-joined with single spaces before it is put into the template;
* **judge** — greedy decoding, chat-wrapped, ``max_length`` 2048 for prompt plus answer
  (:mod:`radeval.metrics.green_judges`: a local transformers model or an OpenAI-compatible endpoint);
* **parsing and score** — :func:`parse_green_output` (0 when there are no matched findings);
* **corpus** — mean, standard deviation (``ddof=0``), per-category error counts and accuracies
  (:meth:`Green.details`, :meth:`Green.summary`).

Judges other than the released GREEN checkpoints are labelled **GREEN-style** (signature
``label:GREEN-style``), and their markdown-bold headers are unwrapped before parsing.

Per-sample failures (judge timeout, HTTP 500 after retries, an answer with no GREEN sections, an empty
reference) give a NaN row and an entry in ``last_errors``; the rest of the corpus is scored. Judge
answers are stored (SQLite, keyed by judge settings and report hashes), so :meth:`Green.details`,
:meth:`Green.summary` or a re-parse never call the judge twice for the same pair.

Example:
    >>> g = Green(judge="http://127.0.0.1:8000/v1", model="my-llm")
    >>> g.label
    'GREEN-style (judge = my-llm)'
    >>> make_prompt("No effusion.", "Small   effusion.").count("Small effusion.")
    1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from radeval.errors import InputError
from radeval.metrics.base import MeanMetric, check_pairs
from radeval.metrics.green_judges import (
    DEFAULT_JUDGE, JudgeReply, LocalJudge, OpenAICompletionsJudge, is_green_checkpoint, make_judge,
)
from radeval.metrics.green_parse import (
    MATCHED, PARSERS, SUB_CATEGORIES, GreenParse, clean_judge_output, green_from_counts, parse_green_output,
)
from radeval.metrics.green_store import JudgeOutputStore

#: Words kept from each report before prompting (GREEN's truncation).
MAX_WORDS = 300
#: Which upstream prompt the template reproduces (part of the signature).
PROMPT_VERSION = "green-d72c195"


@lru_cache(maxsize=1)
def prompt_template() -> str:
    """GREEN's judge prompt template with ``{text1}`` (reference) and ``{text2}`` (candidate)."""
    return resources.files("radeval.metrics").joinpath("green_prompt.txt").read_bytes().decode("utf-8")


def truncate_words(report: str, max_words: int = MAX_WORDS) -> str:
    """The first ``max_words`` whitespace-separated words of ``report``, joined by single spaces."""
    return " ".join(report.split()[:max_words])


def make_prompt(reference: str, candidate: str, *, max_words: int = MAX_WORDS) -> str:
    """The GREEN judge prompt for one pair (both reports truncated to ``max_words`` words).

    The placeholders are filled in one pass, so a report that happens to contain ``{text2}`` is
    left as written.
    """
    template = prompt_template()
    head, rest = template.split("{text1}", 1)
    middle, tail = rest.split("{text2}", 1)
    return head + truncate_words(reference, max_words) + middle + truncate_words(candidate, max_words) + tail


@dataclass(frozen=True)
class GreenSummary:
    """Corpus view of GREEN on one system.

    Attributes:
        mean: mean GREEN over the scored samples.
        std: standard deviation (``ddof=0``, as GREEN reports it).
        n: samples scored; n_failed: samples with no score (see ``failures``).
        accuracy: per error category, the fraction of scored samples with 0 significant errors of it.
        mean_errors / total_errors: per category, mean and sum of significant error counts.
        mean_matched: mean matched findings.
        label: ``GREEN`` or ``GREEN-style (judge = ...)``; signature: the metric signature.
        failures: row index -> reason; warnings: row index -> what the parser could not read.
    """

    mean: float
    std: float
    n: int
    n_failed: int
    accuracy: dict[str, float]
    mean_errors: dict[str, float]
    total_errors: dict[str, int]
    mean_matched: float
    label: str
    signature: str
    failures: dict[int, str] = field(default_factory=dict)
    warnings: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"label": self.label, "signature": self.signature, "mean": self.mean, "std": self.std,
                "n": self.n, "n_failed": self.n_failed, "accuracy": self.accuracy,
                "mean_errors": self.mean_errors, "total_errors": self.total_errors,
                "mean_matched": self.mean_matched,
                "failures": {str(k): v for k, v in self.failures.items()},
                "warnings": {str(k): v for k, v in self.warnings.items()}}


class Green(MeanMetric):
    """GREEN (or GREEN-style) score per pair; statistics ``[score, 1]``.

    Args:
        judge: a hub id or local folder (local transformers judge), or an ``http(s)://`` API base of an
            OpenAI-compatible completions server. Default: GREEN-RadLlama2-7b, run locally.
        parser: ``"upstream"`` (GREEN's parser) or ``"radeval"`` (matched count may start any line).
        strip_markdown: unwrap ``**[Header]:**`` before parsing; default: only for GREEN-style judges.
        max_words: words kept per report (GREEN: 300).
        store: where judge answers are kept: ``True`` (``$RADEVAL_HOME/green_judge_outputs.sqlite``),
            a path, or ``False`` (kept in memory for this object only).
        **judge_options: passed to the back-end. Local: ``checkpoint``, ``batch_size`` (8), ``dtype``,
            ``device``, ``max_length`` (2048), ``trust_remote_code``. Endpoint: ``model``, ``tokenizer``,
            ``eos_token``, ``max_length``, ``max_new_tokens``, ``concurrency``, ``timeout``, ``retries``,
            ``backoff``, ``api_key``, ``checkpoint``.

    Raises:
        InputError: a bad option value; TypeError: an option the chosen back-end does not take.
    """

    name: ClassVar[str] = "green"
    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "clinical"

    def __init__(self, *, judge: str = DEFAULT_JUDGE, parser: str = "upstream", strip_markdown: bool | None = None,
                 max_words: int = MAX_WORDS, store: bool | str | Path = True, **judge_options: Any) -> None:
        if parser not in PARSERS:
            raise InputError(f"green: parser must be one of {PARSERS}, got {parser!r}")
        if int(max_words) < 1:
            raise InputError(f"green: max_words must be >= 1, got {max_words}")
        self.judge = make_judge(str(judge), **judge_options)
        self.parser = parser
        self._strip_option = strip_markdown
        self.max_words = int(max_words)
        self._store_option = store
        self._store: JudgeOutputStore | None = None
        self._memory: dict[tuple[str, str], str] = {}
        #: row index -> reason, for rows of the last call that have no score (NaN rows).
        self.last_errors: dict[int, str] = {}
        #: row index -> what the parser could not read in that row's judge output.
        self.last_warnings: dict[int, str] = {}

    # -- identity ----------------------------------------------------------------------------
    @property
    def is_green(self) -> bool:
        """Whether the judge is one of the released GREEN checkpoints."""
        return is_green_checkpoint(self.judge.model_id)

    @property
    def strip_markdown(self) -> bool:
        """Unwrap markdown-bold headers before parsing (default: only for GREEN-style judges)."""
        return (not self.is_green) if self._strip_option is None else bool(self._strip_option)

    @property
    def label(self) -> str:
        """``GREEN`` for the released GREEN judges, else ``GREEN-style (judge = <id>)``."""
        return "GREEN" if self.is_green else f"GREEN-style (judge = {self.judge.model_id})"

    def judge_key(self) -> str:
        """Everything that changes the judge's answers: back-end settings, prompt version, truncation."""
        parts = [f"{k}:{v}" for k, v in self.judge.identity().items()]
        return "|".join(["green-judge", *parts, f"prompt:{PROMPT_VERSION}", f"words:{self.max_words}"])

    def settings(self) -> dict[str, str]:
        out = {"label": "GREEN" if self.is_green else "GREEN-style"}
        out.update(self.judge.identity())
        out.update({"prompt": PROMPT_VERSION, "words": str(self.max_words), "parser": self.parser,
                    "md": "strip" if self.strip_markdown else "keep"})
        return out

    # -- judge answers ---------------------------------------------------------------------------
    def _get_store(self) -> JudgeOutputStore | None:
        if self._store_option is False:
            return None
        if self._store is None:
            path = None if self._store_option is True else Path(self._store_option)
            self._store = JudgeOutputStore(path)
        return self._store

    def judge_outputs(self, refs: Sequence[str], hyps: Sequence[str]) -> tuple[list[str | None], dict[int, str]]:
        """The judge's answer for each pair (from the store when present), and why the others have none.

        Returns:
            ``(outputs, errors)``: one answer or ``None`` per pair; row index -> reason for each ``None``.
        """
        check_pairs(refs, hyps, metric=self.name)
        key = self.judge_key()
        store = self._get_store()
        errors: dict[int, str] = {}
        outputs: list[str | None] = [None] * len(refs)
        candidates = []
        for i, ref in enumerate(refs):
            if not ref.strip():
                errors[i] = "empty reference report"
            else:
                candidates.append(i)
        if store is not None:
            found = store.get(key, [refs[i] for i in candidates], [hyps[i] for i in candidates])
        else:
            found = [self._memory.get((refs[i], hyps[i])) for i in candidates]
        missing: dict[tuple[str, str], list[int]] = {}
        for i, text in zip(candidates, found):
            if text is None:
                missing.setdefault((refs[i], hyps[i]), []).append(i)
            else:
                outputs[i] = text
        if missing:
            pairs = list(missing)
            prompts = [make_prompt(r, h, max_words=self.max_words) for r, h in pairs]

            def on_reply(j: int, reply: JudgeReply) -> None:
                ref, hyp = pairs[j]
                if reply.text is None:
                    for i in missing[pairs[j]]:
                        errors[i] = f"judge gave no answer: {reply.error}"
                    return
                if store is not None:
                    store.put(key, [ref], [hyp], [reply.text])  # committed at once: a killed run keeps it
                else:
                    self._memory[(ref, hyp)] = reply.text
                for i in missing[pairs[j]]:
                    outputs[i] = reply.text

            self.judge.evaluate(prompts, on_reply=on_reply)
        return outputs, errors

    def _parse_all(self, outputs: list[str | None], errors: dict[int, str]) -> list[GreenParse | None]:
        parsed: list[GreenParse | None] = []
        self.last_warnings = {}
        for i, text in enumerate(outputs):
            if text is None:
                parsed.append(None)
                continue
            result = parse_green_output(text, parser=self.parser, strip_markdown=self.strip_markdown)
            if not result.ok:
                preview = " ".join(clean_judge_output(text).split())[:80]
                errors[i] = f"unparseable judge output ({result.problems[0]}): {preview!r}"
                parsed.append(None)
                continue
            if result.problems:
                self.last_warnings[i] = "; ".join(result.problems)
            parsed.append(result)
        self.last_errors = dict(sorted(errors.items()))
        return parsed

    # -- the metric contract ------------------------------------------------------------------------
    def sample_values(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """GREEN per pair (NaN where the pair could not be scored; see ``last_errors``)."""
        outputs, errors = self.judge_outputs(refs, hyps)
        parsed = self._parse_all(outputs, errors)
        return np.array([np.nan if p is None else p.score for p in parsed], dtype=np.float64)

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """``[score, 1]`` per pair; a NaN row for each pair in ``last_errors``."""
        values = self.sample_values(refs, hyps)
        stats = np.stack([values, np.ones_like(values)], axis=1)
        stats[~np.isfinite(values)] = np.nan
        return stats

    # -- views -----------------------------------------------------------------------------------
    def details(self, refs: Sequence[str], hyps: Sequence[str]) -> pd.DataFrame:
        """One row per pair: the reports, the judge's analysis, the score and every count.

        Columns: ``reference, predictions, green_analysis, green_score``, the six significant-error
        categories (GREEN's column names), ``Matched Findings``, the six insignificant-error counts
        (``insignificant (a)`` ...), ``error`` (why a row has no score) and ``warnings``.
        """
        outputs, errors = self.judge_outputs(refs, hyps)
        parsed = self._parse_all(outputs, errors)
        rows = []
        for i, (ref, hyp, text, p) in enumerate(zip(refs, hyps, outputs, parsed)):
            row: dict[str, Any] = {"reference": ref, "predictions": hyp,
                                   "green_analysis": None if text is None else clean_judge_output(text),
                                   "green_score": np.nan if p is None else p.score}
            for c, name in enumerate(SUB_CATEGORIES):
                row[name] = np.nan if p is None else p.significant[c]
            row[MATCHED] = np.nan if p is None else p.matched
            for c, name in enumerate(SUB_CATEGORIES):
                row[f"insignificant {name[:3]}"] = np.nan if p is None else p.insignificant[c]
            row["error"] = self.last_errors.get(i, "")
            row["warnings"] = self.last_warnings.get(i, "")
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self, refs: Sequence[str] | None = None, hyps: Sequence[str] | None = None, *,
                details: pd.DataFrame | None = None) -> GreenSummary:
        """Mean, std (ddof 0), per-category accuracy and error counts, from stored judge answers.

        Pass either ``refs``/``hyps`` or a frame from :meth:`details`.
        """
        if details is None:
            if refs is None or hyps is None:
                raise InputError("green.summary: pass refs and hyps, or details=")
            details = self.details(refs, hyps)
        ok = details["green_score"].notna().to_numpy()
        scored = details[ok]
        scores = scored["green_score"].to_numpy(dtype=np.float64)
        n = int(ok.sum())
        accuracy = {name: float((scored[name] == 0).mean()) if n else float("nan") for name in SUB_CATEGORIES}
        mean_errors = {name: float(scored[name].mean()) if n else float("nan") for name in SUB_CATEGORIES}
        total_errors = {name: int(scored[name].sum()) for name in SUB_CATEGORIES}
        failures = {int(i): str(e) for i, e in details["error"].items() if e}
        warnings = {int(i): str(w) for i, w in details["warnings"].items() if w}
        return GreenSummary(
            mean=float(np.mean(scores)) if n else float("nan"), std=float(np.std(scores)) if n else float("nan"),
            n=n, n_failed=int((~ok).sum()), accuracy=accuracy, mean_errors=mean_errors, total_errors=total_errors,
            mean_matched=float(scored[MATCHED].mean()) if n else float("nan"), label=self.label,
            signature=self.signature, failures=failures, warnings=warnings)


def score_outputs(outputs: Sequence[str], *, parser: str = "upstream", strip_markdown: bool = False) -> pd.DataFrame:
    """Re-score saved judge outputs without the judge: one row per output (score, counts, problems).

    Example:
        >>> score_outputs(["[Matched Findings]:\\n2. a; b\\n", "garbage"])["green_score"].tolist()
        [1.0, nan]
    """
    rows = []
    for text in outputs:
        p = parse_green_output(text, parser=parser, strip_markdown=strip_markdown)
        row: dict[str, Any] = {"green_score": p.score}
        for c, name in enumerate(SUB_CATEGORIES):
            row[name] = p.significant[c]
        row[MATCHED] = p.matched
        row["ok"] = p.ok
        row["problems"] = "; ".join(p.problems)
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = [
    "DEFAULT_JUDGE", "Green", "GreenParse", "GreenSummary", "LocalJudge", "MAX_WORDS", "OpenAICompletionsJudge",
    "PROMPT_VERSION", "SUB_CATEGORIES", "green_from_counts", "make_prompt", "parse_green_output",
    "prompt_template", "score_outputs", "truncate_words",
]
