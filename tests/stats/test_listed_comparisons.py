"""Listed comparison pairs (``comparisons``): tested beside the mode's pairs, one correction family, both p-values."""

from __future__ import annotations

import numpy as np
import pytest

from radeval.errors import InputError
from radeval.metrics.base import mean_statistics
from radeval.schema import Problems
from radeval.stats.compare import compare_statistics
from radeval.stats.correction import adjust_pvalues
from radeval.stats.signature import SignificanceSettings


@pytest.fixture
def four_systems() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    base = rng.random(60)
    return {"base": base, "v2": base + 0.03 + rng.normal(0, 0.05, 60), "v3": base + 0.06 + rng.normal(0, 0.05, 60),
            "r2": base + rng.normal(0, 0.05, 60)}


def _run(systems: dict[str, np.ndarray], metric, **options):
    stats = np.stack([mean_statistics(v) for v in systems.values()])
    return compare_statistics({"m": stats}, {"m": metric}, list(systems), resamples=1000, seed=3, **options)


def test_listed_pairs_join_the_baseline_pairs_in_one_family(four_systems, parsed_metric) -> None:
    res = _run(four_systems, parsed_metric, baseline="base", comparisons=[["v3", "v2"], ["v3", "r2"]])
    tested = list(zip(res.pairs["system_a"], res.pairs["system_b"]))
    assert tested == [("base", "v2"), ("base", "v3"), ("base", "r2"), ("v2", "v3"), ("r2", "v3")]
    listed = res.listed_pairs()
    assert list(zip(listed["system_b"], listed["system_a"])) == [("v3", "v2"), ("v3", "r2")]
    v3, v2 = four_systems["v3"].mean(), four_systems["v2"].mean()
    assert listed["delta"].iloc[0] == pytest.approx(v3 - v2, abs=1e-12)  # delta = system - reference
    # one Holm correction over every tested pair (the uncorrected p stays beside it)
    assert np.allclose(res.pairs["p_corrected"], adjust_pvalues(res.pairs["p"].to_numpy(), "holm"))
    assert (res.pairs["p_corrected"] >= res.pairs["p"]).all()
    assert "family:systems×metrics+listed(2)" in res.signature


def test_a_listed_pair_has_the_p_value_of_the_same_pair_tested_alone(four_systems, parsed_metric) -> None:
    """The resample matrix depends on the seed and the cases only, so the pair's uncorrected p is the one of a
    two-system run with the same seed."""
    res = _run(four_systems, parsed_metric, baseline="base", comparisons=[["v3", "v2"]])
    alone = _run({"v2": four_systems["v2"], "v3": four_systems["v3"]}, parsed_metric, baseline="v2")
    assert res.listed_pairs()["p"].iloc[0] == alone.pairs["p"].iloc[0]
    assert res.listed_pairs()["delta_ci_low"].iloc[0] == alone.pairs["delta_ci_low"].iloc[0]


def test_a_pair_listed_against_the_baseline_direction_is_tested_once(four_systems, parsed_metric) -> None:
    plain = _run(four_systems, parsed_metric, baseline="base")
    res = _run(four_systems, parsed_metric, baseline="base", comparisons=[["base", "v3"]])
    assert len(res.pairs) == len(plain.pairs) == 3
    listed = res.listed_pairs()
    assert listed["system_b"].iloc[0] == "base" and listed["delta"].iloc[0] < 0
    row = res.table[(res.table["system"] == "v3")].iloc[0]  # the leaderboard keeps system - baseline
    ref = plain.table[(plain.table["system"] == "v3")].iloc[0]
    assert row["delta"] == pytest.approx(ref["delta"]) and row["p"] == ref["p"]
    assert row["delta_ci_low"] == pytest.approx(ref["delta_ci_low"])


def test_unknown_or_malformed_pairs_are_refused(four_systems, parsed_metric) -> None:
    with pytest.raises(InputError, match=r"unknown system\(s\) \['v9'\]"):
        _run(four_systems, parsed_metric, comparisons=[["v9", "v2"]])
    with pytest.raises(InputError, match="compared with itself"):
        SignificanceSettings.build(comparisons=[["v3", "v3"]])
    problems = Problems("s.yaml")
    SignificanceSettings.from_section({"comparisons": [["v3", "v2"], ["v2", "v3"], "v3"]}, problems)
    assert problems.items == ["significance.comparisons: comparisons[1]: the pair ['v2', 'v3'] is listed twice",
                              "significance.comparisons: comparisons[2]: expected a pair [system, reference], "
                              "got 'v3'"]
    ok = SignificanceSettings.from_section({"comparisons": [["v3", "v2"]]}, Problems("s.yaml"))
    assert ok.comparisons == (("v3", "v2"),)
