from __future__ import annotations

import random
from collections import Counter

import pytest

from radeval.errors import InputError
from radeval_reader_study.sampling import allocate, sample_cases

IDS = [f"c{i:03d}" for i in range(200)]


def test_seeded_and_in_input_order() -> None:
    a = sample_cases(IDS, n=50, seed=1)
    assert a == sample_cases(IDS, n=50, seed=1)
    assert a != sample_cases(IDS, n=50, seed=2)
    assert len(set(a)) == 50 and a == sorted(a, key=IDS.index)
    assert sample_cases(IDS, n=200, seed=3) == IDS


def test_stratified_sample_keeps_proportions() -> None:
    strata = {i: ("pos" if k < 40 else "neg") for k, i in enumerate(IDS)}  # 20% positive
    picked = sample_cases(IDS, n=50, seed=5, strata=strata)
    assert Counter(strata[i] for i in picked) == {"pos": 10, "neg": 40}


def test_allocation_largest_remainder() -> None:
    quota = allocate({"a": 5, "b": 3, "c": 2}, 4, random.Random(0))  # exact 2.0, 1.2, 0.8
    assert quota == {"a": 2, "b": 1, "c": 1}
    assert sum(allocate({"x": 7, "y": 7, "z": 7}, 10, random.Random(1)).values()) == 10


@pytest.mark.parametrize("n", [0, 201])
def test_impossible_n(n: int) -> None:
    with pytest.raises(InputError, match=f"n={n}"):
        sample_cases(IDS, n=n, seed=0)


def test_case_without_stratum_is_named() -> None:
    with pytest.raises(InputError, match="c000"):
        sample_cases(IDS, n=5, seed=0, strata={i: "x" for i in IDS[1:]})
