"""How numbers and missing values are written in every output: the one home of that formatting.

Leaderboards (Markdown, HTML), ``significance.md``, the ``radeval compare`` table and JSON, and the reader-study
report all format scores, intervals, p-values and percentages here, so a rule changes in one place. A value is
*missing* when it is ``None`` or NaN; each output names its own marker for that (the ``MISSING_*`` constants) and
keeps it, so files stay byte-identical across releases.

Example:
    >>> fixed(0.123456), fixed(float("nan")), fixed(-0.5, signed=True), fixed(2.0, 2, missing=MISSING_NA)
    ('0.1235', '—', '-0.5000', '2.00')
    >>> p_value(0.00003), p_value(0.04567), p_value(0.04567, style="general"), p_value(None, missing=MISSING_HYPHEN)
    ('<0.0001', '0.0457', '0.04567', '-')
    >>> percent(12.345), percent(float("nan")), percent(0.5, signed=False)
    ('+12.3%', 'n/a', '0.5%')
    >>> interval(0.1, 0.25), interval(0.1, float("nan"), missing=MISSING_HYPHEN)
    ('[0.1000, 0.2500]', '-')
    >>> import numpy as np
    >>> json_number(np.float64("nan")), json_number(np.int64(3)), json_number(np.bool_(True)), json_number("x")
    (None, 3, True, 'x')
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

#: Missing-value marker of leaderboards and ``significance.md``.
MISSING_DASH = "—"
#: Missing-value marker of the ``radeval compare`` text table.
MISSING_HYPHEN = "-"
#: Missing-value marker of the reader-study report.
MISSING_NA = "n/a"
#: p-values below this are written ``<0.0001`` (``style="fixed"``).
P_FLOOR = 1e-4


def is_missing(value: Any) -> bool:
    """``None`` or a NaN (Python or numpy float).

    Example:
        >>> is_missing(None), is_missing(float("nan")), is_missing(np.float32("nan")), is_missing(0.0)
        (True, True, True, False)
    """
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def fixed(value: float | None, digits: int = 4, *, signed: bool = False, missing: str = MISSING_DASH) -> str:
    """Fixed-point text with ``digits`` decimals (``+`` sign with ``signed``); ``missing`` for None/NaN."""
    if is_missing(value):
        return missing
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def interval(low: float | None, high: float | None, digits: int = 4, *, signed: bool = False,
             missing: str = MISSING_DASH) -> str:
    """``[low, high]`` in :func:`fixed` form; ``missing`` alone when either end is missing."""
    if is_missing(low) or is_missing(high):
        return missing
    return f"[{fixed(low, digits, signed=signed)}, {fixed(high, digits, signed=signed)}]"


def p_value(value: float | None, *, style: Literal["fixed", "general"] = "fixed", missing: str = MISSING_DASH) -> str:
    """A p-value: ``"fixed"`` = 4 decimals with ``<0.0001`` below :data:`P_FLOOR`; ``"general"`` = 4 significant
    digits (``{:.4g}``); ``missing`` for None/NaN.

    Raises:
        ValueError: an unknown ``style``.
    """
    if is_missing(value):
        return missing
    if style == "fixed":
        return f"<{P_FLOOR:.4f}" if value < P_FLOOR else f"{value:.4f}"
    if style == "general":
        return f"{value:.4g}"
    raise ValueError(f"style={style!r}: expected 'fixed' or 'general'")


def percent(value: float | None, digits: int = 1, *, signed: bool = True, missing: str = MISSING_NA) -> str:
    """A value already in percent: ``+12.3%`` (``signed``) or ``12.3%``; ``missing`` for None/NaN."""
    if is_missing(value):
        return missing
    return f"{value:+.{digits}f}%" if signed else f"{value:.{digits}f}%"


def json_number(value: Any) -> Any:
    """A JSON-safe scalar: NaN -> ``None``, numpy scalars -> Python numbers/bools; anything else unchanged."""
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
