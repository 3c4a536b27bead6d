"""CT2Rep's word vocabulary: R2Gen-style report cleaning, a whitespace split, a frequency threshold, id 0 for bos/eos/pad.

Facts (CT2Rep @ 9e85082, the R2Gen lineage): the vocabulary is built from the training reports only; a word is kept
when it occurs at least ``threshold`` times; ``<unk>`` is added; the kept words are sorted and numbered from 1;
id 0 is at once the start token, the end token and the padding; a training sequence is ``[0] + ids + [0]``, cut to
``max_seq_length`` ids *after* the two zeros are added (a long report loses its end token, as upstream); decoding
stops at the first 0 and joins the words with single spaces.

The cleaning rules are a reconstruction of "R2Gen-style" cleaning from its description (lower case; newlines and
runs of spaces, dots and underscores collapsed; list markers such as ``"2. "`` dropped; the text split into
sentences at ``". "``; punctuation removed inside each sentence; sentences joined by ``" . "`` and ended by
``" ."``), not a copy of the upstream function.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from radeval.errors import InputError
from radeval.paths import atomic_write_text

UNK = "<unk>"
#: The id of the start, end and padding token.
BOS_EOS_PAD = 0
FILE_NAME = "vocabulary.json"
FORMAT = "radeval-ct2rep-vocabulary/1"

_LIST_MARKER = re.compile(r"(?:(?<=\s)|^)\d{1,2}\.\s")
_PUNCTUATION = re.compile(r"[.,?;*!%^&_+():\-\[\]{}\"'/\\]")


def clean_report(text: str) -> str:
    """A report in CT2Rep's cleaned word form (see the module docstring).

    Example:
        >>> clean_report("1. No pleural effusion.\\n2. Nodule (5 mm) in the RUL.")
        'no pleural effusion . nodule 5 mm in the rul .'
        >>> clean_report("  ")
        ''
    """
    t = text.replace("\r", " ").replace("\n", " ")
    t = re.sub(r"_{2,}", "_", t)
    t = re.sub(r"\.{2,}", ".", t)
    t = re.sub(r"\s{2,}", " ", t)
    t = _LIST_MARKER.sub("", t).strip().lower()
    sentences = [" ".join(_PUNCTUATION.sub("", s).split()) for s in t.split(". ")]
    kept = [s for s in sentences if s]
    return " . ".join(kept) + " ." if kept else ""


class WordVocabulary:
    """The word tokenizer of a CT2Rep model (saved beside its weights as ``vocabulary.json``).

    Args:
        words: the kept words in id order (id ``i + 1`` is ``words[i]``); must contain ``<unk>``.
        threshold: the minimum count the words were kept at (recorded, not re-applied).

    Example:
        >>> vocab = WordVocabulary.from_reports(["No effusion.", "No nodule."], threshold=2)
        >>> vocab.words, len(vocab)
        (['.', '<unk>', 'no'], 3)
        >>> vocab.encode("No effusion."), vocab.decode([3, 2, 1, 0, 3])
        ([3, 2, 1], 'no <unk> .')
    """

    pad_token_id = BOS_EOS_PAD
    bos_token_id = BOS_EOS_PAD
    eos_token_id = BOS_EOS_PAD

    def __init__(self, words: Sequence[str], *, threshold: int) -> None:
        self.words = list(words)
        if UNK not in self.words or len(set(self.words)) != len(self.words) or any(not w or " " in w
                                                                                   for w in self.words):
            raise InputError("a CT2Rep vocabulary needs distinct, non-empty, space-free words including '<unk>'")
        self.threshold = threshold
        self._ids = {w: i + 1 for i, w in enumerate(self.words)}

    @classmethod
    def from_reports(cls, reports: Iterable[str], *, threshold: int) -> "WordVocabulary":
        """Count the cleaned words of the training reports and keep those with ``count >= threshold`` (+ ``<unk>``).

        Raises:
            InputError: ``threshold`` below 1.
        """
        if threshold < 1:
            raise InputError(f"threshold must be >= 1, got {threshold}")
        counts = Counter(w for r in reports for w in clean_report(r).split())
        kept = {w for w, n in counts.items() if n >= threshold} | {UNK}
        return cls(sorted(kept), threshold=threshold)

    def __len__(self) -> int:
        """``V``: the number of words (``<unk>`` included, the 0 token not)."""
        return len(self.words)

    def encode(self, text: str) -> list[int]:
        """The ids of the cleaned words of ``text`` (unknown words -> ``<unk>``), without the 0 tokens."""
        unk = self._ids[UNK]
        return [self._ids.get(w, unk) for w in clean_report(text).split()]

    def sequence(self, text: str, max_length: int) -> list[int]:
        """The training sequence ``[0] + ids + [0]``, cut to ``max_length`` ids."""
        return ([BOS_EOS_PAD] + self.encode(text) + [BOS_EOS_PAD])[:max_length]

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """The words of ``ids`` up to the first 0, joined by spaces (``skip_special_tokens``: kept for the
        tokenizer interface; the 0 token is never written)."""
        out = []
        for i in ids:
            i = int(i)
            if i == BOS_EOS_PAD:
                break
            if not 1 <= i <= len(self.words):
                raise InputError(f"token id {i} is outside the vocabulary (1..{len(self.words)})")
            out.append(self.words[i - 1])
        return " ".join(out)

    def save(self, directory: str | Path) -> Path:
        """Write ``directory/vocabulary.json``."""
        path = Path(directory) / FILE_NAME
        atomic_write_text(path, json.dumps({"format": FORMAT, "threshold": self.threshold, "words": self.words},
                                           ensure_ascii=False, indent=0) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> "WordVocabulary":
        """Read ``directory/vocabulary.json``.

        Raises:
            InputError: a missing or malformed file, naming it.
        """
        path = Path(directory) / FILE_NAME
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: not found (a ct2rep model directory holds its word vocabulary)") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(body, dict) or body.get("format") != FORMAT or not isinstance(body.get("words"), list):
            raise InputError(f"{path}: not a {FORMAT} file")
        return cls(body["words"], threshold=int(body.get("threshold", 1)))
