"""Optional text normalisation applied before a lexical metric tokenises.

By default radeval scores text exactly as given (mode ``"none"``). Papers often score text that was
first lowercased, split at punctuation, or passed through the R2Gen report cleaner; those are
explicit modes here and each metric records the mode in its signature (``norm:<mode>``).

Modes:
    ``none``        the text unchanged (default).
    ``lower``       ``str.lower()``.
    ``punct``       every punctuation character becomes its own token (spaces inserted around it),
                    whitespace runs collapse to one space; case kept.
    ``lower+punct`` both of the above.
    ``r2gen``       the R2Gen / CT2Rep MIMIC-CXR cleaner (see :func:`clean_r2gen`).
    ``r2gen_iu``    the R2Gen IU X-Ray cleaner (see :func:`clean_r2gen`).

Example:
    >>> normalize("No acute process.", "lower+punct")
    'no acute process .'
    >>> normalize("1. No effusion.\\n2. Heart size is normal.", "r2gen")
    'no effusion . heart size is normal .'
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable, Sequence

from radeval.errors import InputError

#: Every accepted normalisation mode.
NORMALIZATIONS: tuple[str, ...] = ("none", "lower", "punct", "lower+punct", "r2gen", "r2gen_iu")

# Characters the R2Gen sentence cleaner deletes. Its regex class contains ``:-\[``, which is a range,
# so the set is: . , ? ; * ! % ^ & _ + ( ) ] { } plus every code point from ':' to '[' inclusive
# (: ; < = > ? @ A-Z [). The hyphen itself is *not* in the set.
_R2GEN_DELETED = frozenset(".,?;*!%^&_+()]{}" + "".join(chr(c) for c in range(ord(":"), ord("[") + 1)))
_R2GEN_DELETE_TABLE = {ord(c): None for c in _R2GEN_DELETED}
# Characters removed before that regex runs.
_R2GEN_QUOTES_TABLE = {ord(c): None for c in "\"/\\'"}

# Numbered-list markers the cleaner removes, in the order it removes them.
_R2GEN_LIST_MARKERS: tuple[tuple[str, str], ...] = (
    ("1. ", ""), (". 2. ", ". "), (". 3. ", ". "), (". 4. ", ". "), (". 5. ", ". "),
    (" 2. ", ". "), (" 3. ", ". "), (" 4. ", ". "), (" 5. ", ". "),
)


def _replace_passes(text: str, old: str, new: str, passes: int) -> str:
    """Apply ``str.replace(old, new)`` exactly ``passes`` times (not to a fixed point)."""
    for _ in range(passes):
        text = text.replace(old, new)
    return text


def _r2gen_sentence(sentence: str) -> str:
    """The R2Gen per-sentence cleaner: drop quotes/slashes, strip, lowercase, delete punctuation."""
    return sentence.translate(_R2GEN_QUOTES_TABLE).strip().lower().translate(_R2GEN_DELETE_TABLE)


def clean_r2gen(text: str, *, variant: str = "mimic") -> str:
    """Clean a report the way R2Gen (and CT2Rep, R2GenGPT) do before training and scoring.

    The MIMIC-CXR variant (used by CT2Rep for CT-RATE) first turns newlines into spaces and shrinks
    runs of ``_``, double spaces and ``..`` with a fixed number of replace passes (7, 6 and 8); the
    IU X-Ray variant only does 3 ``..`` passes. Both then delete numbered-list markers
    (``"1. "``, ``" 2. "`` ...), strip, lowercase, split into sentences at ``". "``, clean each
    sentence (remove ``" / \\ '``, then the punctuation set described in the module source, which
    keeps hyphens), and join the sentences with ``" . "`` plus a final ``" ."``. Spaces left behind
    by deleted punctuation are kept, as in R2Gen. An empty report becomes ``" ."``.

    Args:
        text: the report.
        variant: ``"mimic"`` (default) or ``"iu"``.

    Returns:
        The cleaned report.

    Raises:
        InputError: unknown variant.

    Example:
        >>> clean_r2gen("Heart size is normal.  No pleural effusion, no pneumothorax.")
        'heart size is normal . no pleural effusion no pneumothorax .'
    """
    if variant == "mimic":
        text = text.replace("\n", " ")
        text = _replace_passes(text, "__", "_", 7)
        text = _replace_passes(text, "  ", " ", 6)
        text = _replace_passes(text, "..", ".", 8)
    elif variant == "iu":
        text = _replace_passes(text, "..", ".", 3)
    else:
        raise InputError(f"clean_r2gen: unknown variant {variant!r}; expected 'mimic' or 'iu'")
    for old, new in _R2GEN_LIST_MARKERS:
        text = text.replace(old, new)
    sentences = text.strip().lower().split(". ")
    return " . ".join(_r2gen_sentence(s) for s in sentences) + " ."


def _is_punctuation(char: str) -> bool:
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def split_punctuation(text: str) -> str:
    """Put spaces around every punctuation character and collapse whitespace to single spaces.

    ASCII punctuation and every Unicode ``P*`` character count as punctuation.

    Example:
        >>> split_punctuation("5-mm nodule (RLL),  stable.")
        '5 - mm nodule ( RLL ) , stable .'
    """
    out = [f" {c} " if _is_punctuation(c) else c for c in text]
    return " ".join("".join(out).split())


_MODES: dict[str, Callable[[str], str]] = {
    "none": lambda t: t,
    "lower": str.lower,
    "punct": split_punctuation,
    "lower+punct": lambda t: split_punctuation(t.lower()),
    "r2gen": lambda t: clean_r2gen(t, variant="mimic"),
    "r2gen_iu": lambda t: clean_r2gen(t, variant="iu"),
}


def check_normalization(mode: str) -> str:
    """Return ``mode`` if it is a known normalisation, else raise :class:`InputError` listing the modes.

    Example:
        >>> check_normalization("lower")
        'lower'
    """
    if mode not in _MODES:
        raise InputError(f"unknown normalisation {mode!r}; expected one of {', '.join(NORMALIZATIONS)}")
    return mode


def normalize(text: str, mode: str = "none") -> str:
    """Normalise one text.

    Args:
        text: the report.
        mode: one of :data:`NORMALIZATIONS`.

    Returns:
        The normalised text.

    Raises:
        InputError: unknown mode.
    """
    return _MODES[check_normalization(mode)](text)


def normalize_all(texts: Sequence[str], mode: str = "none") -> list[str]:
    """Normalise every text of a sequence (the identity for ``"none"``, without copying strings)."""
    fn = _MODES[check_normalization(mode)]
    return list(texts) if mode == "none" else [fn(t) for t in texts]
