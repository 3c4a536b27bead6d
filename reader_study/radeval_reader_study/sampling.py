"""Seeded choice of the cases a reader study shows, optionally stratified by a label.

Stratified sampling allocates ``n`` across strata in proportion to their size (largest remainder,
ties broken by the seeded generator), then samples without replacement inside each stratum. The
returned ids keep the order of the input, so the sample depends only on ``(ids, strata, n, seed)``.

Example:
    >>> ids = [f"c{i}" for i in range(10)]
    >>> sample_cases(ids, n=3, seed=1) == sample_cases(ids, n=3, seed=1)
    True
    >>> strata = {i: ("pos" if int(i[1:]) < 2 else "neg") for i in ids}
    >>> picked = sample_cases(ids, n=5, seed=0, strata=strata)
    >>> sum(strata[i] == "pos" for i in picked)
    1
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence

from radeval.errors import InputError


def allocate(sizes: Mapping[Hashable, int], n: int, rng: random.Random) -> dict[Hashable, int]:
    """Split ``n`` across groups in proportion to ``sizes`` (largest-remainder rounding)."""
    total = sum(sizes.values())
    exact = {g: n * s / total for g, s in sizes.items()}
    quota = {g: int(e) for g, e in exact.items()}
    left = n - sum(quota.values())
    groups = list(sizes)
    tiebreak = {g: rng.random() for g in groups}
    for g in sorted(groups, key=lambda g: (-(exact[g] - quota[g]), tiebreak[g]))[:left]:
        quota[g] += 1
    return quota


def sample_cases(ids: Sequence[str], *, n: int, seed: int,
                 strata: Mapping[str, Hashable] | None = None) -> list[str]:
    """Pick ``n`` case ids at random (reproducibly), optionally stratified.

    Args:
        ids: the eligible case ids (unique).
        n: how many to pick; ``n == len(ids)`` takes every case.
        seed: the generator's seed.
        strata: case id -> stratum (any hashable value); every id needs one.

    Returns:
        the picked ids in the order of ``ids``.

    Raises:
        InputError: ``n`` outside ``1..len(ids)`` or an id without a stratum.
    """
    if n < 1 or n > len(ids):
        raise InputError(f"cannot sample n={n} cases from {len(ids)} eligible case(s)")
    rng = random.Random(seed)
    if strata is None:
        chosen = set(rng.sample(list(ids), n))
        return [i for i in ids if i in chosen]
    missing = [i for i in ids if i not in strata]
    if missing:
        raise InputError(f"{len(missing)} case(s) have no stratum value, e.g. {missing[:5]}")
    groups: dict[Hashable, list[str]] = {}
    for i in ids:
        groups.setdefault(strata[i], []).append(i)
    quota = allocate({g: len(members) for g, members in groups.items()}, n, rng)
    chosen = set()
    for g, members in groups.items():
        chosen.update(rng.sample(members, quota[g]))
    return [i for i in ids if i in chosen]
