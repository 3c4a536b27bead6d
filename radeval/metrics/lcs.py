"""Length of the longest common subsequence of two token sequences, bit-parallel.

ROUGE-L (both conventions) needs only the LCS *length*. The classic dynamic programme costs
``len(a) * len(b)`` Python steps; the bit-vector recurrence used here (one machine-word-wide step per
token of ``b`` on a Python integer holding one bit per token of ``a``) gives the same number in
``len(b)`` big-integer operations, which is what lets ROUGE-L run faster than the reference
implementations while returning identical lengths.

Example:
    >>> lcs_length("the heart is big".split(), "the heart is not big".split())
    4
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def lcs_length(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence of ``a`` and ``b`` (tokens compared with ``==``).

    Args:
        a: first token sequence.
        b: second token sequence.

    Returns:
        The LCS length, ``0 <= result <= min(len(a), len(b))``.

    Example:
        >>> lcs_length(["a", "b", "c", "b"], ["b", "c", "a", "b"])
        3
        >>> lcs_length([], ["x"])
        0
    """
    if len(a) < len(b):
        a, b = b, a
    n = len(a)
    if n == 0 or not b:
        return 0
    # match[t]: bit i set where a[i] == t.
    match: dict[Hashable, int] = {}
    for i, token in enumerate(a):
        match[token] = match.get(token, 0) | (1 << i)
    full = (1 << n) - 1
    v = full  # bit i cleared <=> row i of the DP table has gained a match so far
    for token in b:
        m = match.get(token)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return n - v.bit_count()
