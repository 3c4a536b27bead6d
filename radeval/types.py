"""Core data types: a case (id, reference report, metadata) and a system's predictions (id -> text)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from radeval.errors import AlignmentError, InputError


@dataclass(frozen=True)
class Case:
    """One evaluation case.

    Attributes:
        id: unique case id (for CT-RATE, the VolumeName without extension).
        reference: the reference report text (the findings section by default).
        metadata: anything else known about the case (labels, split, patient id ...).
    """

    id: str
    reference: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


def check_text(value: Any, *, case_id: str, field_name: str, source: str = "") -> str:
    """Return ``value`` as a report string or raise an :class:`InputError` naming the case.

    ``None`` and NaN are rejected (they usually mean a missing CSV cell, not an empty report);
    the empty string is a legal report and is scored by each metric's own rule.

    Example:
        >>> check_text("No effusion.", case_id="a", field_name="text")
        'No effusion.'
    """
    where = f" in {source}" if source else ""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise InputError(f"case {case_id!r}{where}: field {field_name!r} is missing (None/NaN)")
    if not isinstance(value, str):
        raise InputError(
            f"case {case_id!r}{where}: field {field_name!r} must be text, got {type(value).__name__}"
        )
    return value


class Predictions(Mapping[str, str]):
    """A system's outputs: an ordered, duplicate-free mapping case id -> generated text.

    Args:
        items: pairs ``(case_id, text)`` or a mapping.
        name: the system's name (used in error messages and tables).
        source: where the predictions came from (a file path), for error messages.
        convention: how the texts were assembled from the file, when that is a choice (recorded in signatures).

    Raises:
        AlignmentError: if a case id occurs twice.
        InputError: if a text is ``None``/NaN or not a string.

    Example:
        >>> p = Predictions([("a", "x"), ("b", "y")], name="sys")
        >>> list(p), p["b"]
        (['a', 'b'], 'y')
    """

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str], *, name: str = "",
                 source: str = "", convention: str = "") -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        counts = Counter(str(k) for k, _ in pairs)
        dups = sorted(k for k, c in counts.items() if c > 1)
        label = name or source or "predictions"
        if dups:
            raise AlignmentError(f"{label}: duplicate case ids: {_preview(dups)}", duplicates=dups)
        self._data: dict[str, str] = {}
        for key, text in pairs:
            cid = str(key)
            # without a file, the system's name is the only pointer to where the bad text came from
            self._data[cid] = check_text(text, case_id=cid, field_name="text", source=source or name)
        self.name = name
        self.source = source
        #: how the texts were built from the file when that is a choice (e.g. ``rexrank-findings+impression``);
        #: :func:`radeval.metrics.scoring.score` records it in the signature as ``ref:<convention>``
        self.convention = convention

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Predictions(name={self.name!r}, n={len(self)})"


def _preview(ids: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return f"{shown}{more}"


def _code_points(text: str) -> str:
    return " ".join(f"U+{ord(ch):04X}" for ch in text)


def _check_unicode_twins(missing: list[str], extra: list[str], ref_name: str, hyp_name: str) -> None:
    """Ids on the two sides that differ only by Unicode normalisation get an error showing the code points."""
    import unicodedata

    by_form = {unicodedata.normalize("NFKC", k): k for k in extra}
    twins = [(m, by_form[unicodedata.normalize("NFKC", m)]) for m in missing
             if unicodedata.normalize("NFKC", m) in by_form]
    if twins:
        shown = "; ".join(f"{ref_name} {a!r} [{_code_points(a)}] vs {hyp_name} {b!r} [{_code_points(b)}]"
                          for a, b in twins[:3])
        raise AlignmentError(f"{len(twins)} case id(s) differ only by Unicode normalisation (the same visible "
                             f"text, different code points): {shown}; normalise the ids of one file (e.g. NFC)",
                             missing=missing, extra=extra)


def align(references: Mapping[str, str], hypotheses: Mapping[str, str], *,
          ref_name: str = "references", hyp_name: str = "hypotheses") -> tuple[list[str], list[str], list[str]]:
    """Align two id -> text mappings by case id, in the references' order.

    Never zips by position: every id must be on both sides exactly once.

    Returns:
        ``(ids, refs, hyps)`` as three parallel lists.

    Raises:
        AlignmentError: listing the missing and the extra ids.

    Example:
        >>> align({"a": "r1", "b": "r2"}, {"b": "h2", "a": "h1"})
        (['a', 'b'], ['r1', 'r2'], ['h1', 'h2'])
    """
    missing = [k for k in references if k not in hypotheses]
    extra = [k for k in hypotheses if k not in references]
    if missing or extra:
        _check_unicode_twins(missing, extra, ref_name, hyp_name)
        parts = []
        if missing:
            parts.append(f"{len(missing)} case id(s) of {ref_name} missing from {hyp_name}: {_preview(missing)}")
        if extra:
            parts.append(f"{len(extra)} case id(s) in {hyp_name} not in {ref_name}: {_preview(extra)}")
        raise AlignmentError("; ".join(parts), missing=missing, extra=extra)
    ids = list(references)
    return ids, [references[i] for i in ids], [hypotheses[i] for i in ids]


def as_mapping(texts: Mapping[str, str] | Sequence[str] | Iterable[Case], *, name: str) -> dict[str, str]:
    """Normalise the accepted text containers to an ordered ``{case_id: text}`` dict.

    A plain sequence of strings gets positional ids ``"0", "1", ...``; a sequence of :class:`Case`
    uses each case's id and reference; a mapping-like object with ``keys()``/``items()`` (a pandas
    Series) uses its keys (the Series index) as case ids.

    Raises:
        AlignmentError: duplicate ids.
        InputError: a text that is missing or not a string.
    """
    if isinstance(texts, Predictions):
        return dict(texts.items())
    if isinstance(texts, Mapping):
        return dict(Predictions(texts, name=name).items())
    if isinstance(texts, str):
        raise InputError(f"{name}: expected a list or mapping of reports, got a single string")
    if callable(getattr(texts, "keys", None)) and callable(getattr(texts, "items", None)):
        # mapping-like but not a Mapping (a pandas Series indexed by case id): its keys are the ids;
        # iterating it would yield the values only and align them by position
        return dict(Predictions(list(texts.items()), name=name).items())
    seq = list(texts)
    if seq and all(isinstance(c, Case) for c in seq):
        return dict(Predictions([(c.id, c.reference) for c in seq], name=name).items())
    return dict(Predictions([(str(i), t) for i, t in enumerate(seq)], name=name).items())
