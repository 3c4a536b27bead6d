"""compare / compare_statistics: alignment, bad input, modes, corrections, outputs, plot."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import radeval
from radeval.errors import AlignmentError, InputError
from radeval.metrics.base import mean_statistics
from radeval.stats.compare import (JSON_KEYS, PAIR_COLUMNS, TABLE_COLUMNS, compare, compare_statistics,
                                   failed_case_mask)
from radeval.stats.signature import SignificanceSettings
from radeval.stats.correction import adjust_pvalues


def _texts(values) -> dict[str, str]:
    return {f"case{i}": repr(float(v)) for i, v in enumerate(values)}


@pytest.fixture
def three_systems():
    rng = np.random.default_rng(5)
    base = rng.random(80)
    return {"base": base, "same": base + rng.normal(0, 0.02, 80), "better": base + 0.08 + rng.normal(0, 0.02, 80)}


def _refs(n: int) -> dict[str, str]:
    return {f"case{i}": "reference" for i in range(n)}


def test_compare_from_reports_equals_statistics_path(three_systems, parsed_metric):
    systems = {name: _texts(v) for name, v in three_systems.items()}
    res = compare(_refs(80), systems, metrics=[parsed_metric], resamples=500)
    stats = np.stack([mean_statistics(v) for v in three_systems.values()])
    direct = compare_statistics({"parsed": stats}, {"parsed": parsed_metric}, list(three_systems), resamples=500)
    pd.testing.assert_frame_equal(res.table, direct.table, check_exact=True)
    assert list(res.table.columns) == list(TABLE_COLUMNS)
    assert list(res.pairs.columns) == list(PAIR_COLUMNS)
    assert res.baseline == "base" and res.systems == ("base", "same", "better")


def test_alignment_is_by_case_id(three_systems, parsed_metric):
    systems = {name: _texts(v) for name, v in three_systems.items()}
    shuffled = dict(reversed(list(systems["better"].items())))
    one = compare(_refs(80), systems, metrics=[parsed_metric], resamples=300)
    two = compare(_refs(80), {**systems, "better": shuffled}, metrics=[parsed_metric], resamples=300)
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)


def test_lazy_top_level_name():
    assert radeval.compare is compare


def test_different_case_sets_fail_before_scoring(three_systems, parsed_metric):
    systems = {name: _texts(v) for name, v in three_systems.items()}
    del systems["same"]["case3"]
    systems["better"]["extra"] = "0.5"
    with pytest.raises(AlignmentError) as err:
        compare(_refs(80), systems, metrics=[parsed_metric], resamples=300)
    msg = str(err.value)
    assert "system 'same'" in msg and "'case3'" in msg and "system 'better'" in msg and "'extra'" in msg
    assert parsed_metric.calls == 0  # nothing was computed on a wrong alignment


def test_unknown_baseline_fails_before_scoring(three_systems, parsed_metric):
    systems = {name: _texts(v) for name, v in three_systems.items()}
    with pytest.raises(InputError, match="baseline 'nobody' is not one of the systems"):
        compare(_refs(80), systems, metrics=[parsed_metric], baseline="nobody")
    assert parsed_metric.calls == 0


def test_positional_lists_must_have_equal_length(parsed_metric):
    with pytest.raises(AlignmentError, match="system 'b': 2 hypotheses for 3 references"):
        compare(["r", "r", "r"], {"a": ["0.1", "0.2", "0.3"], "b": ["0.1", "0.2"]}, metrics=[parsed_metric])


def test_nan_statistics_name_metric_system_and_case(parsed_metric):
    a = np.linspace(0, 1, 20)
    b = a.copy()
    b[7] = np.nan
    stats = np.stack([mean_statistics(a), mean_statistics(b)])
    ids = [f"id{i}" for i in range(20)]
    with pytest.raises(InputError, match=r"metric 'm', system 'y'.*case 'id7'"):
        compare_statistics({"m": stats}, {"m": parsed_metric}, ["x", "y"], case_ids=ids)


def test_failed_cases_are_left_out_of_that_metric_for_every_system(parsed_metric):
    """The failed-case policy (FAILED_CASE_POLICY): compare leaves a case out for all systems, and says so."""
    a = np.linspace(0, 1, 20)
    b = a[::-1].copy()
    res = compare(_refs(20), {"x": _texts(a), "y": {**_texts(b), "case7": "nan"}}, metrics=[parsed_metric],
                  resamples=300)
    assert res.excluded == {"parsed": ("case7",)}
    keep = [i for i in range(20) if i != 7]
    without = compare({f"case{i}": _refs(20)[f"case{i}"] for i in keep},
                      {"x": {f"case{i}": _texts(a)[f"case{i}"] for i in keep},
                       "y": {f"case{i}": _texts(b)[f"case{i}"] for i in keep}}, metrics=[parsed_metric],
                      resamples=300)
    pd.testing.assert_frame_equal(res.table, without.table)
    pd.testing.assert_frame_equal(res.pairs, without.pairs)
    stats = np.stack([mean_statistics(a), mean_statistics(b)])
    stats[1, 7] = np.nan
    masked = compare_statistics({"m": stats}, {"m": parsed_metric}, ["x", "y"], resamples=300,
                                failed={"m": failed_case_mask(stats)}, case_ids=[f"case{i}" for i in range(20)])
    assert masked.excluded == {"m": ("case7",)}
    assert masked.table["score"].tolist() == pytest.approx(without.table["score"].tolist(), rel=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"resamples": 99}, "at least 100 bootstrap resamples"),
    ({"test": "ar", "resamples": 50}, "at least 100 randomization trials"),
    ({"baseline": "nobody"}, "baseline 'nobody' is not one of the systems"),
    ({"test": "permutation"}, "test='permutation' is not supported"),
    ({"ci": "student"}, "ci='student' is not supported"),
    ({"correction": "sidak"}, "correction='sidak' is not supported"),
    ({"pvalue": "ar-ge"}, "pvalue='ar-ge' is not supported"),
    ({"confidence": 1.2}, "confidence=1.2"),
    ({"seed": -1}, "seed=-1"),
])
def test_bad_options(parsed_metric, kwargs, message):
    stats = np.stack([mean_statistics(np.linspace(0, 1, 30))] * 2)
    with pytest.raises(InputError, match=message):
        compare_statistics({"m": stats}, {"m": parsed_metric}, ["x", "y"], **kwargs)


def test_one_system_is_refused(parsed_metric):
    stats = np.stack([mean_statistics(np.linspace(0, 1, 30))])
    with pytest.raises(InputError, match="at least 2 systems, got 1"):
        compare_statistics({"m": stats}, {"m": parsed_metric}, ["x"])
    with pytest.raises(InputError, match="at least 2 systems, got 1"):
        compare(_refs(3), {"x": ["0.1", "0.2", "0.3"]}, metrics=[parsed_metric])


def test_shape_mismatch_is_refused(parsed_metric):
    stats = np.stack([mean_statistics(np.linspace(0, 1, 30))] * 3)
    with pytest.raises(InputError, match=r"shape \(K=2 systems"):
        compare_statistics({"m": stats}, {"m": parsed_metric}, ["x", "y"])


def test_correction_runs_over_systems_times_metrics(three_systems, parsed_metric):
    stats = np.stack([mean_statistics(v) for v in three_systems.values()])
    other = np.stack([mean_statistics(v[::-1] ** 2) for v in three_systems.values()])
    res = compare_statistics({"m": stats, "m2": other}, {"m": parsed_metric, "m2": parsed_metric},
                             list(three_systems), resamples=1000, correction="holm")
    tested = res.table[res.table.system != "base"]
    assert len(tested) == 4  # 2 systems × 2 metrics
    np.testing.assert_array_equal(tested.p_corrected.to_numpy(),
                                  adjust_pvalues(tested.p.to_numpy(), "holm")[[0, 1, 2, 3]])
    base_rows = res.table[res.table.system == "base"]
    assert (base_rows.delta == 0).all() and base_rows.p.isna().all() and base_rows.p_corrected.isna().all()
    better = res.table[(res.table.system == "better") & (res.table.metric == "m")].iloc[0]
    same = res.table[(res.table.system == "same") & (res.table.metric == "m")].iloc[0]
    assert better.significant and better.p < 0.01
    assert not same.significant
    assert "family:systems×metrics" in res.signature and "correction:holm" in res.signature


def test_all_pairs_mode(three_systems, parsed_metric):
    stats = np.stack([mean_statistics(v) for v in three_systems.values()])
    res = compare_statistics({"m": stats}, {"m": parsed_metric}, list(three_systems), mode="all-pairs",
                             baseline="better", resamples=800, correction="bh")
    assert len(res.pairs) == 3
    np.testing.assert_array_equal(res.pairs.p_corrected.to_numpy(), adjust_pvalues(res.pairs.p.to_numpy(), "bh"))
    # pairs with the baseline are oriented (baseline, system), so the table reads them directly
    for row in res.table[res.table.system != "better"].itertuples():
        pair = res.pairs[(res.pairs.system_a == "better") & (res.pairs.system_b == row.system)].iloc[0]
        assert (row.delta, row.p, row.p_corrected) == (pair.delta, pair.p, pair.p_corrected)
    no_base = compare_statistics({"m": stats}, {"m": parsed_metric}, list(three_systems), mode="all-pairs",
                                 resamples=800)
    assert no_base.baseline is None and no_base.table.p.isna().all() and len(no_base.pairs) == 3
    assert "family:pairs×metrics" in no_base.signature
    text = no_base.format_table()
    assert "all pairs (delta = b - a):" in text and text.count("\nbase  ") >= 2


def test_json_records_and_text_table(three_systems, parsed_metric):
    stats = np.stack([mean_statistics(v) for v in three_systems.values()])
    res = compare_statistics({"m": stats}, {"m": parsed_metric}, list(three_systems), resamples=300)
    records = res.to_json_records()
    assert [tuple(r) for r in records] == [JSON_KEYS] * 3
    assert records[0]["p"] is None and records[0]["delta"] == 0.0
    assert all(isinstance(r["score"], float) for r in records)
    text = res.format_table()
    assert "better" in text and res.signature in text and "* better" in text


def test_resample_matrices_are_exposed(three_systems, parsed_metric):
    stats = np.stack([mean_statistics(v) for v in three_systems.values()])
    res = compare_statistics({"m": stats}, {"m": parsed_metric}, list(three_systems), resamples=300)
    assert res.resamples["m"].shape == (300, 3)
    np.testing.assert_allclose(np.sort(res.resamples["m"], axis=0).mean(axis=0), res.table.bootstrap_mean, rtol=0)
    ar = compare_statistics({"m": stats}, {"m": parsed_metric}, list(three_systems), test="ar", resamples=500,
                            ci_resamples=0)
    assert ar.null_distribution["m"].shape == (500, 2) and ar.resamples == {}
    assert ar.table.ci_low.isna().all()


def test_bca_interval_contains_the_score(sacre_bleu, synthetic_corpus):
    refs, base, system = synthetic_corpus
    res = compare(refs, {"base": base, "sys": system}, metrics=[sacre_bleu], resamples=1000, ci="bca")
    for row in res.table.itertuples():
        assert row.ci_low < row.score < row.ci_high
    assert res.table.delta_ci_low.iloc[1] > 0
    assert "ci:bca" in res.signature


def test_mean_and_corpus_metrics_together(synthetic_corpus):
    refs, base, system = synthetic_corpus
    names = ["bleu_sacre", "bleu4", "rougeL", "cider"]
    res = compare(refs, {"base": base, "sys": system}, metrics=names, resamples=500)
    assert set(res.table.metric) == set(names)
    direct = radeval.score(refs, system, metrics=names).as_dict()
    for metric, value in direct.items():
        got = res.table[(res.table.system == "sys") & (res.table.metric == metric)].score.iloc[0]
        assert got == pytest.approx(value, rel=1e-12)
    assert (res.table[res.table.system == "sys"].p < 0.01).all()


@pytest.mark.java
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="needs a Java runtime (METEOR 1.5 jar)")
def test_meteor_corpus_metric(synthetic_corpus):
    refs, base, system = (x[:40] for x in synthetic_corpus)
    res = compare(refs, {"base": base, "sys": system}, metrics=["meteor"], resamples=300)
    direct = radeval.score(refs, system, metrics=["meteor"]).as_dict()["meteor"]
    row = res.table.iloc[1]
    assert row.score == pytest.approx(direct, rel=1e-12)
    assert row.ci_low < row.score < row.ci_high and row.delta > 0


def test_system_names_that_clash_as_strings_are_refused(parsed_metric):
    refs = _refs(3)
    with pytest.raises(InputError, match=r"duplicate system names: \['1'\]"):
        compare(refs, {1: ["0.1", "0.2", "0.3"], "1": ["0.4", "0.5", "0.6"], "x": ["0.1", "0.2", "0.3"]},
                metrics=[parsed_metric])


def test_settings_object_and_family_wide_correction_over_case_groups(three_systems, parsed_metric):
    """Metrics with different failed cases are tested on their own cases, then corrected as one family."""
    stats = np.stack([mean_statistics(v) for v in three_systems.values()])
    holed = stats.copy()
    holed[2, 3] = np.nan
    settings = SignificanceSettings.build(resamples=400, correction="holm")
    res = compare_statistics({"m": stats, "m2": holed}, {"m": parsed_metric, "m2": parsed_metric},
                             list(three_systems), settings=settings, failed={"m2": failed_case_mask(holed)})
    assert res.signature == settings.signature and res.excluded == {"m2": ("#3",)}
    # each group alone, uncorrected, from a fresh generator with the same seed
    alone_m = compare_statistics({"m": stats}, {"m": parsed_metric}, list(three_systems), resamples=400,
                                 correction="none")
    keep = [i for i in range(80) if i != 3]
    alone_m2 = compare_statistics({"m2": holed[:, keep]}, {"m2": parsed_metric}, list(three_systems),
                                  resamples=400, correction="none")
    raw = pd.concat([alone_m.pairs, alone_m2.pairs], ignore_index=True)
    assert res.pairs["p"].tolist() == raw["p"].tolist()
    assert res.pairs["delta_ci_low"].tolist() == raw["delta_ci_low"].tolist()
    np.testing.assert_allclose(res.pairs["p_corrected"], adjust_pvalues(raw["p"].to_numpy(), "holm"))
    with pytest.raises(InputError, match="either settings= or the options"):
        compare_statistics({"m": stats}, {"m": parsed_metric}, list(three_systems), settings=settings, resamples=500)
    with pytest.raises(InputError, match="every one of the 80 cases failed"):
        compare_statistics({"m": stats}, {"m": parsed_metric}, list(three_systems), settings=settings,
                           failed={"m": np.ones(80, dtype=bool)})
