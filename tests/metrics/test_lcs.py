"""Bit-parallel LCS length against a plain dynamic programme and pycocoevalcap's my_lcs."""

from __future__ import annotations

import random

from pycocoevalcap.rouge.rouge import my_lcs

from radeval.metrics.lcs import lcs_length


def dp_lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def test_random_sequences_match_the_dynamic_programme() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        a = [rng.choice("abcdef") for _ in range(rng.randint(0, 40))]
        b = [rng.choice("abcdefg") for _ in range(rng.randint(0, 40))]
        expected = dp_lcs(a, b)
        assert lcs_length(a, b) == expected == lcs_length(b, a)
        if a and b:
            assert my_lcs(a, b) == expected


def test_long_sequences_beyond_one_machine_word() -> None:
    rng = random.Random(3)
    a = [rng.choice(["no", "effusion", "heart", "normal", "."]) for _ in range(700)]
    b = [rng.choice(["no", "effusion", "heart", "size", "."]) for _ in range(300)]
    assert lcs_length(a, b) == dp_lcs(a, b)


def test_special_cases() -> None:
    assert lcs_length([], []) == 0
    assert lcs_length(["", ""], [""]) == 1  # empty tokens are ordinary tokens
    assert lcs_length(list("abc"), list("abc")) == 3
    assert lcs_length(list("abc"), list("xyz")) == 0
