"""Opaque item ids and per-reader orders: the randomness that hides which system wrote what.

Every shown report is an *item* with an id of :data:`ID_LENGTH` characters from :data:`ID_ALPHABET`
(no look-alike characters), drawn uniformly at random, so ids of every system share length and
alphabet. Item order inside a case and case order are shuffled separately for each reader.

This randomness comes from a *blinding seed* that is kept only in the unblinding key; by default it
is drawn from :mod:`secrets`, so knowing the (published) sampling seed does not reveal the order.

Example:
    >>> import random
    >>> ids = new_item_ids(3, random.Random(0))
    >>> len(set(ids)), {len(i) for i in ids}
    (3, {10})
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from typing import TypeVar

#: Characters of item ids: digits and capitals without 0/O, 1/I/L.
ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: Characters per item id (31^10 ≈ 8e14 possible ids).
ID_LENGTH = 10

T = TypeVar("T")


def new_blinding_seed() -> int:
    """A fresh 64-bit seed from the operating system's secure generator."""
    return secrets.randbits(64)


def new_item_ids(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct random ids of the same length and alphabet."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        candidate = "".join(rng.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
        if candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


def shuffled(items: Sequence[T], rng: random.Random) -> list[T]:
    """A shuffled copy of ``items``."""
    out = list(items)
    rng.shuffle(out)
    return out
