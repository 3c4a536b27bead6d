"""Analysis: hand-computed means and differences, scipy Wilcoxon, statsmodels Holm, an independent bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

from radeval.errors import InputError
from radeval_reader_study.analysis import analyze
from radeval_reader_study.ingestion import ingest
from radeval_reader_study.rubric import default_rubric

RUBRIC = default_rubric()


def _table() -> pd.DataFrame:
    """4 cases x 2 systems x 2 readers; technical_quality equal to clinical_accuracy minus nothing fancy."""
    ca = {  # (case, system) -> (reader1, reader2)
        ("c1", "base"): (3, 3), ("c1", "new"): (4, 5),
        ("c2", "base"): (2, 3), ("c2", "new"): (3, 3),
        ("c3", "base"): (4, 4), ("c3", "new"): (4, 5),
        ("c4", "base"): (1, 2), ("c4", "new"): (3, 2),
    }
    rows = []
    for (case, system), scores in ca.items():
        for reader, s in zip(("r1", "r2"), scores, strict=True):
            rows.append({"case_id": case, "system": system, "reader": reader, "criterion": "clinical_accuracy",
                         "score": s, "item_id": f"{case}-{system}"})
            rows.append({"case_id": case, "system": system, "reader": reader, "criterion": "technical_quality",
                         "score": 4, "item_id": f"{case}-{system}"})
    return pd.DataFrame(rows)


def test_hand_computed_means_and_differences() -> None:
    a = analyze(_table(), rubric=RUBRIC, resamples=2000, seed=1)
    s = a.summary.set_index(["system", "criterion"])
    # per-case means: base 3, 2.5, 4, 1.5 -> 2.75 ; new 4.5, 3, 4.5, 2.5 -> 3.625
    assert s.loc[("base", "clinical_accuracy"), "mean"] == pytest.approx(2.75)
    assert s.loc[("new", "clinical_accuracy"), "mean"] == pytest.approx(3.625)
    assert s.loc[("new", "clinical_accuracy"), "diff_pct"] == pytest.approx(100 * 0.875 / 2.75)
    assert np.isnan(s.loc[("base", "clinical_accuracy"), "diff_pct"])
    assert s.loc[("new", "technical_quality"), "diff_pct"] == 0.0
    assert s.loc[("new", "clinical_accuracy"), "n_cases"] == 4 and s.loc[("new", "clinical_accuracy"), "n_ratings"] == 8
    c = a.comparisons.set_index("criterion").loc["clinical_accuracy"]
    ref = wilcoxon([1.5, 0.5, 0.5, 1.0], zero_method="wilcox")
    assert c["mean_diff"] == pytest.approx(0.875) and c["n_pairs"] == 4
    assert c["statistic"] == pytest.approx(ref.statistic) and c["p_value"] == pytest.approx(ref.pvalue)
    tq = a.comparisons.set_index("criterion").loc["technical_quality"]
    assert tq["p_value"] == 1.0  # every difference is zero
    assert a.baseline == "base" and a.systems == ("base", "new")


def test_paired_comparison_uses_only_the_cases_both_systems_have() -> None:
    # the baseline was rated on c1-c3 only, the new system on c2-c4: the comparison is on c2 and c3
    df = _table()
    df = df[~(((df["system"] == "base") & (df["case_id"] == "c4")) | ((df["system"] == "new") & (df["case_id"] == "c1")))]
    c = analyze(df, rubric=RUBRIC, resamples=200).comparisons.set_index("criterion").loc["clinical_accuracy"]
    # c2: new 3 vs base 2.5, c3: new 4.5 vs base 4 -> mean difference 0.5 on a baseline mean of 3.25
    assert c["n_pairs"] == 2
    assert c["mean_diff"] == pytest.approx(0.5)
    assert c["diff_pct"] == pytest.approx(100 * 0.5 / 3.25)


def test_icc_interval_follows_the_confidence_level() -> None:
    from radeval_reader_study.agreement import icc_2_1
    from radeval_reader_study.report import to_markdown

    a80 = analyze(_table(), rubric=RUBRIC, resamples=100, confidence=0.8)
    a95 = analyze(_table(), rubric=RUBRIC, resamples=100, confidence=0.95)
    row80 = a80.agreement.set_index(["criterion", "scope"]).loc[("clinical_accuracy", "all")]
    row95 = a95.agreement.set_index(["criterion", "scope"]).loc[("clinical_accuracy", "all")]
    wide = _table().query("criterion == 'clinical_accuracy'").pivot(index="item_id", columns="reader", values="score")
    expected = icc_2_1(wide.to_numpy(), confidence=0.8)
    assert (row80["icc_low"], row80["icc_high"]) == pytest.approx((expected.ci_low, expected.ci_high))
    assert row95["icc_low"] < row80["icc_low"] and row80["icc_high"] < row95["icc_high"]
    assert "ICC(2,1) [80% CI]" in to_markdown(a80)


def test_bootstrap_ci_matches_an_independent_loop() -> None:
    df = _table()
    a = analyze(df, rubric=RUBRIC, resamples=500, seed=3)
    case_means = (df[df["criterion"] == "clinical_accuracy"].groupby(["case_id", "system"])["score"].mean()
                  .unstack())
    idx = np.random.default_rng(3).choice(4, size=(500, 4), replace=True)
    boot_new = case_means["new"].to_numpy()[idx].mean(axis=1)
    boot_base = case_means["base"].to_numpy()[idx].mean(axis=1)
    s = a.summary.set_index(["system", "criterion"])
    lo, hi = np.percentile(boot_new, [2.5, 97.5])
    assert s.loc[("new", "clinical_accuracy"), ["ci_low", "ci_high"]].tolist() == pytest.approx([lo, hi])
    pct = 100 * (boot_new - boot_base) / boot_base
    assert s.loc[("new", "clinical_accuracy"), ["diff_pct_low", "diff_pct_high"]].tolist() == pytest.approx(
        np.percentile(pct, [2.5, 97.5]).tolist())
    again = analyze(df, rubric=RUBRIC, resamples=500, seed=3)
    pd.testing.assert_frame_equal(a.summary, again.summary)


def test_holm_over_the_family_matches_statsmodels(exported, write_form_csv) -> None:
    from statsmodels.stats.multitest import multipletests

    files = [write_form_csv(exported.key_path, r) for r in ("reader1", "reader2")]
    a = analyze(ingest(exported.key_path, files), resamples=1000)
    assert len(a.comparisons) == 4  # (v2, v3) x 2 criteria
    expected = multipletests(a.comparisons["p_value"], method="holm")[1]
    assert a.comparisons["p_holm"].to_numpy() == pytest.approx(expected)
    v3 = a.comparisons[(a.comparisons["system"] == "v3")]
    assert (v3["p_holm"] < 0.05).all() and (v3["diff_pct"] > 20).all()  # the planted effect is found


def test_agreement_table_uses_the_reference_formulas(exported, write_form_csv) -> None:
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    files = [write_form_csv(exported.key_path, r) for r in ("reader1", "reader2")]
    result = ingest(exported.key_path, files)
    a = analyze(result, resamples=200)
    ag = a.agreement.set_index(["criterion", "scope"])
    assert set(ag.index.get_level_values("scope")) == {"all", "baseline", "v2", "v3"}
    r = result.ratings[result.ratings["criterion"] == "clinical_accuracy"].pivot(index="item_id", columns="reader",
                                                                                  values="score")
    row = ag.loc[("clinical_accuracy", "all")]
    assert row["n_items"] == 36 and row["n_complete"] == 36 and row["n_readers"] == 2
    assert row["kappa_quadratic"] == pytest.approx(cohen_kappa_score(r["reader1"], r["reader2"], weights="quadratic",
                                                                     labels=[1, 2, 3, 4, 5]))
    assert row["alpha_ordinal"] == pytest.approx(krippendorff.alpha(
        reliability_data=r.to_numpy().T.astype(float), level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5]))
    assert -1 <= row["icc_2_1"] <= 1


def test_partial_study_is_analysable(exported, write_form_csv) -> None:
    from radeval_reader_study.key import read_key

    key = read_key(exported.key_path)
    half = list(key.orders["reader2"][:18])
    files = [write_form_csv(exported.key_path, "reader1"), write_form_csv(exported.key_path, "reader2", items=half)]
    result = ingest(exported.key_path, files)
    assert not result.complete
    a = analyze(result, resamples=200)
    assert a.summary["n_cases"].eq(12).all()  # reader1 rated every case
    ag = a.agreement.set_index(["criterion", "scope"]).loc[("clinical_accuracy", "all")]
    assert ag["n_items"] == 36 and ag["n_complete"] == 18
    assert a.coverage is not None and a.coverage.set_index("reader").loc["reader2", "fraction"] == 0.5


def test_three_readers_have_no_kappa_but_alpha_and_icc() -> None:
    df = _table()
    extra = df[df["reader"] == "r1"].assign(reader="r3")
    a = analyze(pd.concat([df, extra]), rubric=RUBRIC, resamples=100)
    row = a.agreement.set_index(["criterion", "scope"]).loc[("clinical_accuracy", "all")]
    assert np.isnan(row["kappa_quadratic"]) and row["n_readers"] == 3
    assert not np.isnan(row["alpha_ordinal"]) and not np.isnan(row["icc_2_1"])


@pytest.mark.parametrize("change, message", [
    (lambda d: d.drop(columns="reader"), "lacks column(s) reader"),
    (lambda d: d.assign(score=d["score"].where(d.index != 0, 9)), "score 9 is not on the scale"),
    (lambda d: pd.concat([d, d.iloc[:1]]), "more than one clinical_accuracy score"),
    (lambda d: d.iloc[0:0], "no usable ratings"),
])
def test_bad_tables(change, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        analyze(change(_table()), rubric=RUBRIC)


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="baseline 'nope'"):
        analyze(_table(), rubric=RUBRIC, baseline="nope")
    with pytest.raises(InputError, match="pass rubric="):
        analyze(_table())
    with pytest.raises(InputError, match="not in systems"):
        analyze(_table(), rubric=RUBRIC, systems=["base"])


def _three_systems() -> pd.DataFrame:
    """3 cases x (baseline, v2, v3) x 2 readers x 2 criteria, with hand-picked scores."""
    scores = {  # (case, system) -> (clinical r1, clinical r2, technical r1, technical r2)
        ("c1", "baseline"): (3, 3, 5, 4), ("c1", "v2"): (3, 4, 3, 3), ("c1", "v3"): (4, 4, 4, 3),
        ("c2", "baseline"): (2, 3, 4, 4), ("c2", "v2"): (3, 3, 3, 2), ("c2", "v3"): (3, 4, 3, 3),
        ("c3", "baseline"): (4, 3, 5, 5), ("c3", "v2"): (4, 4, 2, 3), ("c3", "v3"): (4, 4, 3, 4),
    }
    rows = []
    for (case, system), (c1, c2, t1, t2) in scores.items():
        for reader, ca, tq in (("r1", c1, t1), ("r2", c2, t2)):
            rows.append({"case_id": case, "system": system, "reader": reader, "criterion": "clinical_accuracy",
                         "score": ca})
            rows.append({"case_id": case, "system": system, "reader": reader, "criterion": "technical_quality",
                         "score": tq})
    return pd.DataFrame(rows)


def test_v3_vs_baseline_and_v3_vs_v2_with_the_papers_percentages_beside_ours() -> None:
    from radeval_reader_study.analysis import PAPER_READER_STUDY

    df = _three_systems()
    a = analyze(df, rubric=RUBRIC, resamples=200, baseline="baseline",
                paper_roles={"v3": "v3", "v2": "v2", "baseline": "baseline"})
    pairs = set(zip(a.comparisons["system"], a.comparisons["baseline"]))
    assert pairs == {("v3", "baseline"), ("v3", "v2")}
    means = df.groupby(["system", "criterion"])["score"].mean()  # every case rated by both readers
    v3_base = 100 * (means["v3", "clinical_accuracy"] - means["baseline", "clinical_accuracy"]) / \
        means["baseline", "clinical_accuracy"]
    v3_v2_tq = 100 * (means["v3", "technical_quality"] - means["v2", "technical_quality"]) / \
        means["v2", "technical_quality"]
    paper = a.paper.set_index(["system", "reference", "criterion"])
    assert paper.loc[("v3", "baseline", "clinical_accuracy"), "diff_pct"] == pytest.approx(v3_base)
    assert paper.loc[("v3", "v2", "technical_quality"), "diff_pct"] == pytest.approx(v3_v2_tq)
    # the paper's quoted figures (RAD3D-Prefix paper, §4.6 and supplementary reader study)
    assert paper.loc[("v3", "baseline", "clinical_accuracy"), "paper_diff_pct"] == 9.8
    assert paper.loc[("v3", "v2", "clinical_accuracy"), "paper_diff_pct"] == 3.7
    assert paper.loc[("v3", "v2", "technical_quality"), "paper_diff_pct"] == 9.4
    assert len(PAPER_READER_STUDY) == 3
    # Holm over the 4 comparisons (2 pairs x 2 criteria), Wilcoxon on the per-case means
    from statsmodels.stats.multitest import multipletests

    assert a.comparisons["p_holm"].to_numpy() == pytest.approx(multipletests(a.comparisons["p_value"],
                                                                             method="holm")[1])
    from radeval_reader_study.report import to_markdown

    md = to_markdown(a)
    assert "## Paired comparisons" in md and "v3 vs v2" in md and "+9.8%" in md and "+3.7%" in md


def test_explicit_pairs_and_bad_pairs() -> None:
    df = _three_systems()
    a = analyze(df, rubric=RUBRIC, resamples=50, pairs=[("v2", "v3")])
    assert set(a.comparisons["system"]) == {"v2"} and set(a.comparisons["baseline"]) == {"v3"}
    assert a.paper is None
    with pytest.raises(InputError, match="pair .*'v4'"):
        analyze(df, rubric=RUBRIC, resamples=50, pairs=[("v4", "v2")])
    with pytest.raises(InputError, match="role.*v2"):
        analyze(df, rubric=RUBRIC, resamples=50, paper_roles={"v3": "v3", "baseline": "baseline"})
