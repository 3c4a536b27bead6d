"""Degenerate-output diagnostics: distinct, empty, looping and mis-sized reports, as metrics with CIs.

A report generator can score a plausible BLEU while writing the same report for every case, nothing at all,
or a token loop (``CX-100-CX-100-…``). These four metrics make that visible on every run (``radeval score``,
``compare``, ``bench``). Like every metric they return per-sample sufficient statistics, so the bootstrap gives
them confidence intervals; their class attribute ``group = "diagnostics"`` keeps them apart from the quality
metrics (they are descriptions of the output, not hypotheses: a benchmark leaves them out of the
multiple-comparison correction).

Tokens here are :data:`TOKEN_PATTERN` matches: runs of word characters or single punctuation characters, so
``CX-100-CX-100`` is ``CX - 100 - CX - 100`` (whitespace tokenisation would see one "word").

========================  ====================================================  ============================
metric                    per-sample statistics -> corpus value                 flagged when (thresholds)
========================  ====================================================  ============================
``distinct_share``        ``[1/m_i, 1]`` -> ``sum / n`` (see below)             ``< 0.5``
``empty_share``           ``[empty_i, 1]`` -> share of reports with no token     ``> 0.1``
``loop_share``            ``[looped_i, tokens_i]`` -> looped / all tokens        ``> 0.1``
``length_ratio``          ``[hyp_tokens_i, ref_tokens_i]`` -> ratio of sums      ``< 0.5`` or ``> 2.0``
========================  ====================================================  ============================

**distinct_share.** ``m_i`` is how many reports of the whole evaluated set are identical to report ``i``
(after collapsing whitespace and case-folding). Summing ``1/m_i`` over the set counts each distinct report once,
so the full-sample value is exactly (number of distinct reports) / n. A bootstrap resample keeps each case's
``1/m_i`` from the full sample and averages them over the resampled cases: it measures how the share of
"distinct-report weight" varies with the case mix, not the distinct share of the resample's own multiset (which
duplicates by construction and would be biased low). Because ``m_i`` depends on the other reports, the metric is
not cacheable per sample, and a subset of cases must be re-scored, not sliced.

**loop_share.** A token is *looped* when it lies inside a tandem repeat: a unit of 1 to :data:`LOOP_MAX_PERIOD`
tokens written at least :data:`LOOP_MIN_COPIES` times back to back (``a b a b a b``: unit ``a b``, 3 copies).
Formally, for a period ``p``, a maximal run of positions ``i..i+r-1`` with ``t[j] == t[j+p]`` covers the span
``i..i+r+p-1`` of ``(r+p)/p`` copies; if ``r + p >= LOOP_MIN_COPIES * p`` every token of that span is looped.
The corpus value is looped tokens / all tokens (empty reports add nothing).

**length_ratio.** Total hypothesis tokens / total reference tokens (a ratio of sums, exact per resample). Neither
direction is "better"; ``higher_is_better`` is ``True`` only to give significance tables a sign convention.

The thresholds are this toolkit's reconstruction (no source prescribes them): loose enough that a healthy
template-like generator passes, tight enough that "the same result regardless of the input" (a baseline in the
RAD3D-Prefix paper) or a decoding loop is flagged.

Example:
    >>> m = DistinctShare()
    >>> float(m.aggregate(m.statistics(["a", "b", "c", "d"], ["x", "x", "y", "z"]).sum(axis=0)))
    0.75
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from radeval.metrics.base import Metric, check_pairs

#: A token: a run of word characters or one non-space, non-word character.
TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
#: Longest repeated unit (tokens) that counts as a loop: a whole sentence written three times back to back is a
#: loop too (issue 15: the demo's R2GenGPT wrote "The chest CT volume is a good representation of the thoracic
#: cavity." — 13 tokens — over and over, which a limit of 8 tokens did not see).
LOOP_MAX_PERIOD = 32
#: Back-to-back copies of a unit that make a loop.
LOOP_MIN_COPIES = 3
#: The group every diagnostic metric declares (see :attr:`radeval.metrics.base.Metric`).
DIAGNOSTICS_GROUP = "diagnostics"


def tokens(text: str) -> list[str]:
    """The diagnostic tokens of a report.

    Example:
        >>> tokens("A_CX-100-CX")
        ['A_CX', '-', '100', '-', 'CX']
    """
    return TOKEN_PATTERN.findall(text)


def looped_mask(toks: Sequence[str], *, max_period: int = LOOP_MAX_PERIOD,
                min_copies: int = LOOP_MIN_COPIES) -> np.ndarray:
    """Boolean mask of the tokens inside a tandem repeat (see the module docstring for the definition).

    Example:
        >>> looped_mask("x a b a b a b y".split()).astype(int).tolist()
        [0, 1, 1, 1, 1, 1, 1, 0]
    """
    n = len(toks)
    mask = np.zeros(n, dtype=bool)
    for p in range(1, max_period + 1):
        i = 0
        while i + p < n:
            if toks[i] != toks[i + p]:
                i += 1
                continue
            j = i
            while j + p < n and toks[j] == toks[j + p]:
                j += 1
            run = j - i  # positions i..j-1 match their successor p tokens on
            if run + p >= min_copies * p:
                mask[i:j + p] = True
            i = j + 1
    return mask


def _normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Diagnostic(Metric):
    group: ClassVar[str] = DIAGNOSTICS_GROUP
    descriptive: ClassVar[bool] = True  # not hypotheses: outside the correction family

    def settings(self) -> dict[str, str]:
        return {"tok": "word-punct"}

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        s = np.asarray(stats, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(s[..., 1] > 0, s[..., 0] / np.where(s[..., 1] > 0, s[..., 1], 1.0), 0.0)
        return float(out) if out.ndim == 0 else out


class DistinctShare(_Diagnostic):
    """Share of distinct reports; statistics ``[1/m_i, 1]`` (exact on the full sample; see the module doc)."""

    name: ClassVar[str] = "distinct_share"
    higher_is_better: ClassVar[bool] = True
    cacheable: ClassVar[bool] = False

    def settings(self) -> dict[str, str]:
        return {"norm": "ws+casefold", "stat": "1/multiplicity"}

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        check_pairs(refs, hyps, metric=self.name)
        keys = [_normalized(h) for h in hyps]
        counts = Counter(keys)
        return np.array([[1.0 / counts[k], 1.0] for k in keys], dtype=np.float64).reshape(-1, 2)


class EmptyShare(_Diagnostic):
    """Share of reports with no token; statistics ``[empty_i, 1]``."""

    name: ClassVar[str] = "empty_share"
    higher_is_better: ClassVar[bool] = False

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        check_pairs(refs, hyps, metric=self.name)
        return np.array([[0.0 if tokens(h) else 1.0, 1.0] for h in hyps], dtype=np.float64).reshape(-1, 2)


class LoopShare(_Diagnostic):
    """Share of hypothesis tokens inside a repeated n-gram loop; statistics ``[looped_i, tokens_i]``."""

    name: ClassVar[str] = "loop_share"
    higher_is_better: ClassVar[bool] = False

    def settings(self) -> dict[str, str]:
        return {"tok": "word-punct", "period": f"1-{LOOP_MAX_PERIOD}", "copies": f">={LOOP_MIN_COPIES}"}

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        check_pairs(refs, hyps, metric=self.name)
        rows = []
        for h in hyps:
            toks = tokens(h)
            rows.append([float(looped_mask(toks).sum()), float(len(toks))])
        return np.array(rows, dtype=np.float64).reshape(-1, 2)


class LengthRatio(_Diagnostic):
    """Hypothesis tokens / reference tokens over the corpus; statistics ``[hyp_tokens_i, ref_tokens_i]``."""

    name: ClassVar[str] = "length_ratio"
    higher_is_better: ClassVar[bool] = True

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        check_pairs(refs, hyps, metric=self.name)
        return np.array([[float(len(tokens(h))), float(len(tokens(r)))] for r, h in zip(refs, hyps)],
                        dtype=np.float64).reshape(-1, 2)


#: The diagnostics every run reports, in display order.
DIAGNOSTIC_METRICS: tuple[str, ...] = ("distinct_share", "empty_share", "loop_share", "length_ratio")


@dataclass(frozen=True)
class Threshold:
    """A flag rule: the corpus value of ``metric`` is bad below ``low`` or above ``high`` (``None``: no bound)."""

    metric: str
    low: float | None
    high: float | None
    meaning: str

    def violated(self, value: float) -> bool:
        """Whether ``value`` is past the threshold (NaN never is)."""
        if value is None or math.isnan(value):
            return False
        return (self.low is not None and value < self.low) or (self.high is not None and value > self.high)

    def describe(self) -> str:
        """The rule as text, e.g. ``distinct_share < 0.5``."""
        parts = ([f"< {self.low:g}"] if self.low is not None else []) + (
            [f"> {self.high:g}"] if self.high is not None else [])
        return f"{self.metric} " + " or ".join(parts)


#: The documented thresholds (a reconstruction; see the module docstring).
THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("distinct_share", 0.5, None, "most reports are copies of another report"),
    Threshold("empty_share", None, 0.1, "more than one report in ten is empty"),
    Threshold("loop_share", None, 0.1, "more than a tenth of the tokens sit in repeated n-gram loops"),
    Threshold("length_ratio", 0.5, 2.0, "reports are less than half or more than twice the reference length"),
)


def degenerate_flags(values: Mapping[str, Mapping[str, float]]) -> dict[str, list[str]]:
    """Systems past a threshold and why.

    Args:
        values: ``{system: {metric: corpus value}}``; diagnostics missing for a system are not judged.

    Returns:
        ``{system: [reason, ...]}`` for flagged systems only, in input order; each reason names the rule and
        the value, e.g. ``"distinct_share = 0.0208 (< 0.5: most reports are copies of another report)"``.

    Example:
        >>> degenerate_flags({"a": {"empty_share": 0.5}, "b": {"empty_share": 0.0}})
        {'a': ['empty_share = 0.5000 (> 0.1: more than one report in ten is empty)']}
    """
    out: dict[str, list[str]] = {}
    for system, scores in values.items():
        reasons = []
        for rule in THRESHOLDS:
            if rule.metric in scores and rule.violated(float(scores[rule.metric])):
                bound = rule.describe()[len(rule.metric) + 1:]
                reasons.append(f"{rule.metric} = {float(scores[rule.metric]):.4f} ({bound}: {rule.meaning})")
        if reasons:
            out[system] = reasons
    return out


def diagnostic_values(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, float]:
    """The four corpus diagnostics of one system (no CIs), e.g. for a terminal summary.

    Example:
        >>> diagnostic_values(["a b", "c d"], ["", ""])["empty_share"]
        1.0
    """
    out = {}
    for metric in (DistinctShare(), EmptyShare(), LoopShare(), LengthRatio()):
        out[metric.name] = metric.corpus_score(refs, hyps)
    return out


def diagnostic_report_lines(refs: Mapping[str, str], systems: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Each system's diagnostics on one line, then one ``warning:`` line per threshold it passes.

    Used by ``radeval compare`` (``radeval bench`` shows the same numbers with CIs in its leaderboard).

    Args:
        refs: case id -> reference.
        systems: system -> case id -> report (aligned to ``refs`` by id).
    """
    from radeval.types import align

    values = {}
    for name, system in systems.items():
        _ids, ref_list, hyp_list = align(refs, system, hyp_name=name)
        values[name] = diagnostic_values(ref_list, hyp_list)
    lines = ["degenerate-output diagnostics:"]
    lines += [f"  {name}: " + ", ".join(f"{m} {vals[m]:.3f}" for m in DIAGNOSTIC_METRICS) for name, vals in values.items()]
    lines += [f"warning: degenerate output: {name}: {reason}"
              for name, reasons in degenerate_flags(values).items() for reason in reasons]
    return lines


__all__ = ["DIAGNOSTICS_GROUP", "DIAGNOSTIC_METRICS", "diagnostic_report_lines", "THRESHOLDS", "DistinctShare", "EmptyShare", "LengthRatio",
           "LoopShare", "Threshold", "degenerate_flags", "diagnostic_values", "looped_mask", "tokens"]
