"""``SYSTEM:REFERENCE`` spellings of a paired comparison, as the ``--pairs`` options of ``radeval compare`` and
``radeval reader-study analyze`` take them."""

from __future__ import annotations

from collections.abc import Iterable

from radeval.errors import InputError


def parse_pairs(items: Iterable[str]) -> list[tuple[str, str]]:
    """``SYSTEM:REFERENCE`` strings as ``(system, reference)`` pairs.

    Raises:
        InputError: an item without both names.

    Example:
        >>> parse_pairs(["v3:baseline", "v3:v2"])
        [('v3', 'baseline'), ('v3', 'v2')]
    """
    pairs = []
    for item in items:
        system, sep, reference = item.partition(":")
        if not sep or not system or not reference:
            raise InputError(f"--pairs {item!r}: expected SYSTEM:REFERENCE")
        pairs.append((system, reference))
    return pairs


__all__ = ["parse_pairs"]
