"""The rank-group rule on systems whose differences are known by construction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from radeval.errors import InputError
from radeval.metrics import get_metric
from radeval.metrics.base import mean_statistics
from radeval.stats.ranking import RANK_RULE, rank_groups, rank_systems
from radeval.stats.signature import SignificanceSettings


def _pairs(rows):
    return pd.DataFrame(rows, columns=["system_a", "system_b", "metric", "p_corrected"])


def test_leader_rule_is_not_chained():
    # b ~ a, c ~ b, but c is significantly worse than the leader a: c opens group 2 (tested vs a, not b)
    pairs = _pairs([("a", "b", "m", 0.5), ("b", "c", "m", 0.6), ("a", "c", "m", 0.01), ("c", "d", "m", 0.9),
                    ("a", "d", "m", 0.001), ("b", "d", "m", 0.001)])
    r = rank_groups({"d": 0.1, "c": 0.5, "b": 0.6, "a": 0.7}, pairs, metric="m", higher_is_better=True, alpha=0.05)
    assert r.order == ("a", "b", "c", "d")
    assert r.groups == {"a": 1, "b": 1, "c": 2, "d": 2}
    assert r.leaders == {"a": "a", "b": "a", "c": "c", "d": "c"}
    assert r.compared_with == {"b": "a", "c": "a", "d": "c"}
    assert r.p_compared["c"] == 0.01 and r.n_groups == 2 and r.rule == RANK_RULE


def test_direction_ties_and_missing_scores():
    pairs = _pairs([("x", "y", "err", 0.001), ("x", "z", "err", 0.001), ("y", "z", "err", 1.0)])
    # lower is better: y and z tie (suite order keeps z first), x is significantly worse
    r = rank_groups({"x": 0.5, "z": 0.2, "y": 0.2, "w": float("nan")}, pairs, metric="err",
                    higher_is_better=False, alpha=0.05)
    assert r.order == ("z", "y", "x", "w")
    assert r.groups == {"z": 1, "y": 1, "x": 2}
    assert "w" not in r.groups
    # a "significant" pair whose candidate is not worse (equal score) never opens a group
    tie = rank_groups({"p": 0.3, "q": 0.3}, _pairs([("p", "q", "m", 0.0)]), metric="m", higher_is_better=True,
                      alpha=0.05)
    assert tie.groups == {"p": 1, "q": 1}


def test_other_metrics_and_alpha_are_respected():
    pairs = _pairs([("a", "b", "m", 0.03), ("a", "b", "other", 0.9)])
    assert rank_groups({"a": 1.0, "b": 0.0}, pairs, metric="m", higher_is_better=True, alpha=0.05).groups["b"] == 2
    assert rank_groups({"a": 1.0, "b": 0.0}, pairs, metric="m", higher_is_better=True, alpha=0.01).groups["b"] == 1
    assert rank_groups({"a": 1.0, "b": 0.0}, pairs, metric="other", higher_is_better=True,
                       alpha=0.05).groups["b"] == 1


def test_missing_pair_is_named():
    with pytest.raises(InputError, match="'a' vs 'c'"):
        rank_groups({"a": 1.0, "b": 0.9, "c": 0.1}, _pairs([("a", "b", "m", 0.5)]), metric="m",
                    higher_is_better=True, alpha=0.05)


def _constructed(n: int = 60, seed: int = 3):
    """Per-sample scores: good and good_copy identical (zero difference), poor = good − 0.5 everywhere
    (a large difference), poor_plus = poor + noise of sd 0.05 whose mean is 0.001 (a difference no test
    can find in 60 cases)."""
    rng = np.random.default_rng(seed)
    good = rng.uniform(0.6, 1.0, n)
    noise = rng.normal(0.0, 0.05, n)
    noise += 0.001 - noise.mean()
    per_sample = {"poor": good - 0.5, "good": good, "poor_plus": good - 0.5 + noise, "good_copy": good.copy()}
    names = list(per_sample)
    stats = np.stack([mean_statistics(per_sample[s]) for s in names])
    return names, stats


@pytest.mark.parametrize("mode", ["baseline", "all-pairs"])
@pytest.mark.parametrize("test", ["bootstrap", "ar"])
def test_constructed_systems(mode, test):
    from radeval.stats.compare import compare_statistics

    names, stats = _constructed()
    metric = get_metric("rougeL_coco")  # a mean metric: statistics are [score, 1] per sample
    settings = SignificanceSettings.build(test=test, resamples=400, seed=7, correction="holm", mode=mode)
    run = compare_statistics({metric.name: stats}, {metric.name: metric}, names, baseline="poor", mode=mode,
                             test=test, resamples=400, seed=7, correction="holm")
    scores = run.table.set_index("system")["score"].to_dict()
    r = rank_systems(scores, metric=metric, mode=mode, pairs=run.pairs, statistics=stats, systems=names,
                     settings=settings)
    assert r.order[:2] == ("good", "good_copy")  # equal scores: suite order
    assert r.groups == {"good": 1, "good_copy": 1, "poor_plus": 2, "poor": 2}
    assert r.p_compared["good_copy"] > 0.05  # zero difference
    assert r.compared_with["poor_plus"] == "good" and r.p_compared["poor_plus"] < 0.05  # opens group 2
    assert r.compared_with["poor"] == "poor_plus" and r.p_compared["poor"] > 0.05  # joins it
    assert ("all pairs" in r.family) and (("run's own" in r.family) == (mode == "all-pairs"))


def test_baseline_mode_family_is_all_pairs_of_the_metric():
    names, stats = _constructed()
    metric = get_metric("rougeL_coco")
    settings = SignificanceSettings.build(resamples=200, seed=1)
    r = rank_systems({s: float(stats[i, :, 0].mean()) for i, s in enumerate(names)}, metric=metric,
                     mode="baseline", pairs=None, statistics=stats, systems=names, settings=settings)
    assert "6 pairs" in r.family and r.groups["poor"] == 2
    assert not math.isnan(r.p_compared["poor"])
    with pytest.raises(InputError):
        rank_systems({}, metric=metric, mode="baseline", pairs=None, statistics=None, systems=names,
                     settings=settings)
