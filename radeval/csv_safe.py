"""The one CSV-writing path: every CSV radeval writes goes through :func:`rows_to_csv` or :func:`frame_to_csv`.

A spreadsheet (Excel, LibreOffice, Google Sheets) executes a cell that starts with ``=``, ``+``, ``-``
or ``@`` as a formula, and a leading tab or carriage return can hide such a character from a
reviewer. Following the OWASP "CSV Injection" guidance, a *text* cell starting with one of
:data:`TRIGGERS` is written with a single quote in front (``'=HYPERLINK(...)``), which spreadsheets
show as text.

Rules (a reconstruction where OWASP is silent):

* Numbers written as numbers (``int``/``float``/numpy scalars, e.g. ``-0.5``) stay numbers.
* A text cell that is a plain decimal number (``"-1"``, ``"+2.5"``, ``"-3e-2"``; e.g. a case id
  ``"-1"``) is left as it is: a spreadsheet reads it as that number, never as a formula, and the
  file still reads back to the same id. Anything else starting with a trigger (``"-1+1"``,
  ``"-cmd|' /C calc'!A0"``) is neutralised.
* Column headings and the index are cells like any other.
* So that radeval's own readers get the original text back, a text cell that already starts with
  quotes followed by a trigger (``"'=x"``) gets one more quote, and :func:`restore_cell` (used by
  radeval's CSV readers) removes exactly one quote from a cell of the form ``'+<trigger>...``.
  Writing then reading is the identity on every text.
* The csv module quotes a cell only for the characters of the line terminator: with ``"\n"`` a cell holding a
  bare carriage return would be written unquoted and read back as two rows. A file with such a cell is
  therefore written with ``"\r\n"`` line ends (RFC 4180's), which quotes it; other files keep ``"\n"``.
* Callers that must emit a trigger on purpose (REDCap's ``@READONLY`` action tags in a data
  dictionary) pass those columns in ``raw_columns``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any

#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_QUOTED_TRIGGER = re.compile(r"'+[=+\-@\t\r]")


def _needs_quote(value: str) -> bool:
    if value.startswith(TRIGGERS):
        return not _PLAIN_NUMBER.fullmatch(value)
    return _QUOTED_TRIGGER.match(value) is not None and not _PLAIN_NUMBER.fullmatch(value.lstrip("'"))


def safe_cell(value: Any) -> Any:
    """Neutralise one cell: a text cell starting with a trigger gets a leading ``'``; others pass through.

    Example:
        >>> safe_cell("=1+1"), safe_cell("-1"), safe_cell(-0.5), safe_cell("\\t=A1")
        ("'=1+1", '-1', -0.5, "'\\t=A1")
    """
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def restore_cell(value: Any) -> Any:
    """Undo :func:`safe_cell` on a cell read back from a CSV radeval wrote (drops one quote before a trigger).

    Example:
        >>> restore_cell("'=1+1"), restore_cell("''=x"), restore_cell("'quoted'"), restore_cell("'-1")
        ('=1+1', "'=x", "'quoted'", "'-1")
    """
    if isinstance(value, str) and _QUOTED_TRIGGER.match(value) and _needs_quote(value[1:]):
        return value[1:]
    return value


def rows_to_csv(rows: Iterable[Sequence[Any]], *, delimiter: str = ",", lineterminator: str = "\n",
                raw_columns: Collection[int] = ()) -> str:
    """CSV text of ``rows`` (the first row is usually the header), every text cell neutralised.

    Args:
        rows: lists of cells.
        delimiter: ``","`` or ``"\\t"``.
        lineterminator: ``"\\n"`` or ``"\\r\\n"`` (REDCap).
        raw_columns: positions written verbatim (REDCap action tags); every other cell goes through
            :func:`safe_cell`.

    Returns:
        The CSV text.

    Example:
        >>> rows_to_csv([["id", "score"], ["=cmd", -0.5]])
        "id,score\\n'=cmd,-0.5\\n"
    """
    raw = set(raw_columns)
    cooked = [[cell if i in raw else safe_cell(cell) for i, cell in enumerate(row)] for row in rows]
    if any(isinstance(c, str) and "\r" in c for row in cooked for c in row):
        lineterminator = "\r\n"  # see the module docstring: makes the csv module quote a cell holding "\r"
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator).writerows(cooked)
    return buf.getvalue()


def frame_to_csv(frame: Any, *, index: bool = False, delimiter: str = ",", float_format: str | None = None) -> str:
    """CSV text of a pandas DataFrame with every text cell (headings and index too) neutralised.

    Numeric columns keep their dtype and are written by pandas as numbers.

    Example:
        >>> import pandas as pd
        >>> frame_to_csv(pd.DataFrame({"system": ["@evil"], "bleu": [-0.5]}))
        "system,bleu\\n'@evil,-0.5\\n"
    """
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    if index:
        if isinstance(out.index, pd.MultiIndex):
            out.index = pd.MultiIndex.from_tuples([tuple(safe_cell(v) for v in t) for t in out.index],
                                                  names=[safe_cell(n) for n in out.index.names])
        else:
            out.index = pd.Index([safe_cell(v) for v in out.index], name=safe_cell(out.index.name),
                                 dtype=out.index.dtype if out.index.dtype != object else object)
    texts = [*(v for col in out.columns if out[col].dtype == object for v in out[col]), *out.columns,
             *(out.index.to_flat_index() if index else [])]
    has_cr = any("\r" in str(v) for v in texts if isinstance(v, (str, tuple)))
    return out.to_csv(index=index, sep=delimiter, lineterminator="\r\n" if has_cr else "\n",
                      float_format=float_format)
