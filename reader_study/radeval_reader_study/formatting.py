"""One display form for every report, so that layout never tells systems apart.

Every report (each system's and the reference) goes through :func:`normalise_report` before it is
shown. The rule changes whitespace and invisible characters only; words, punctuation and visible
symbols stay exactly as the system wrote them, because "strange symbols or artifacts" are part of
what readers rate.

* Unicode NFC; ``\\r\\n`` and ``\\r`` become ``\\n``.
* Zero-width characters and the byte-order mark are removed.
* Tabs and Unicode space characters (no-break space, thin space ...) become a plain space.
* Other control characters become U+FFFD (visible, the same for every system).
* Runs of spaces collapse to one; spaces at the start and end of each line are removed.
* Runs of blank lines collapse to one blank line; leading and trailing blank lines are removed.

Example:
    >>> normalise_report("  No  effusion.\\r\\n\\r\\n\\r\\nHeart\\tnormal. ")
    'No effusion.\\n\\nHeart normal.'
"""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except the newline
_BLANK_RUNS = re.compile(r"\n{3,}")


def _visible_controls(text: str) -> str:
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" and ch != "\n" else ch for ch in text)


def normalise_report(text: str) -> str:
    """The display form of a report (see the module docstring for the rules)."""
    out = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    out = _ZERO_WIDTH.sub("", out)
    out = _SPACES.sub(" ", out)  # tabs, NBSP, thin spaces ... -> one space (before controls are marked)
    out = _visible_controls(out)
    out = "\n".join(line.strip(" ") for line in out.split("\n"))
    out = _BLANK_RUNS.sub("\n\n", out)
    return out.strip("\n")
