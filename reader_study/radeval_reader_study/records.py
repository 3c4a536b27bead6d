"""Ratings as read from a file, before validation: one :class:`RawRating` per row, nothing dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RawRating:
    """One row of a rating file, exactly as read.

    Attributes:
        source: where it came from, ``file:row`` (or ``file:Sheet!row``), for messages.
        reader: the reader id the row names (``None`` if the file does not say).
        item_id: the item id the row names (``None``/empty if blank).
        scores: criterion id -> raw cell value (int, float, str or ``None``).
        comment: free-text comment (may be empty).
        packet_sha256: the packet hash the row carries (``None`` if absent).
    """

    source: str
    reader: str | None
    item_id: str | None
    scores: dict[str, Any]
    comment: str = ""
    packet_sha256: str | None = None


@dataclass(frozen=True)
class RatingFile:
    """Every row of one rating file plus what the file says about itself.

    Attributes:
        path: the file.
        format: ``"form-csv"``, ``"form-json"``, ``"xlsx"``, ``"redcap"`` or ``"table"``.
        rows: the rows in file order.
        problems: file-level problems found while reading (e.g. an unknown column), as text.
    """

    path: Path
    format: str
    rows: tuple[RawRating, ...]
    problems: tuple[str, ...] = field(default_factory=tuple)
