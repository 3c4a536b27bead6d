"""label_f1_macro / label_f1_micro: sklearn parity on the same decisions, the statistics contract, options."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from radeval.data.labels import CTRATE_LABELS
from radeval.errors import InputError, UnknownNameError
from radeval.labeling.base import LabelTable
from radeval.labeling.rule_based import RuleBasedLabeler
from radeval.labeling.specs import GroundTruthReference, RulesSpec, TransformerSpec
from radeval.metrics import get_metric
from radeval.metrics.label_f1 import (
    LabelF1, compare_label_tables, example_f1, f1_from_counts, label_counts, label_f1_report,
)
from radeval.metrics.scoring import score

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def biased_classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny local classifier whose head says "present" for labels 0, 2, 4 ... on any report."""
    spec = importlib.util.spec_from_file_location("tiny_classifier_fixture", FIXTURES / "tiny_classifier.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    bias = [4.0 if i % 2 == 0 else -4.0 for i in range(18)]
    return module.build_tiny_classifier(tmp_path_factory.mktemp("label_f1_clf") / "model", bias=bias)


REFS = [
    "Calcific atheromatous plaques are observed in the aorta and coronary arteries. No pleural effusion.",
    "Heart contour and size are normal. Pericardial effusion-thickening was not observed.",
    "Bilateral pleural effusion and consolidation in the right lower lobe.",
    "Centrilobular emphysema. A 4 mm nodule in the right upper lobe. Possible small pleural effusion.",
    "",
    "Cardiomegaly. Sliding type hiatal hernia is observed.",
]
HYPS = [
    "Atherosclerotic calcifications are observed in the wall of the thoracic aorta. Pleural effusion was not observed.",
    "Heart contour and size are normal.",
    "Bilateral pleural effusion. No consolidation was detected.",
    "Emphysema is observed. No nodule was detected.",
    "Cardiomegaly.",
    "",
]


def _random_decisions(seed: int, n: int = 120, k: int = 18) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    prevalence = rng.uniform(0.0, 0.4, size=k)
    prevalence[:2] = 0.0                                        # labels never positive on the reference side
    ref = (rng.random((n, k)) < prevalence).astype(np.int8)
    hyp = np.where(rng.random((n, k)) < 0.8, ref, 1 - ref).astype(np.int8)
    hyp[:, 0] = 0                                               # label 0: no positive on either side
    return ref, hyp


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_parity_with_sklearn(seed: int, zero_division: float) -> None:
    ref, hyp = _random_decisions(seed)
    stats = label_counts(ref, hyp)
    total = stats.sum(axis=0)
    for average in ("macro", "micro"):
        ours = f1_from_counts(total, average=average, zero_division=zero_division)
        theirs = f1_score(ref, hyp, average=average, zero_division=zero_division)
        assert np.isclose(ours, theirs, rtol=0, atol=1e-12), (average, ours, theirs)
    report = label_f1_report(stats, CTRATE_LABELS, zero_division=zero_division)
    np.testing.assert_allclose(report.per_label["f1"], f1_score(ref, hyp, average=None, zero_division=zero_division))
    np.testing.assert_allclose(report.per_label["precision"],
                               precision_score(ref, hyp, average=None, zero_division=zero_division))
    np.testing.assert_allclose(report.per_label["recall"],
                               recall_score(ref, hyp, average=None, zero_division=zero_division))
    assert np.isclose(report.micro["precision"],
                      precision_score(ref, hyp, average="micro", zero_division=zero_division))
    assert np.isclose(report.micro["recall"], recall_score(ref, hyp, average="micro", zero_division=zero_division))
    assert np.isclose(report.weighted_f1, f1_score(ref, hyp, average="weighted", zero_division=zero_division))
    assert report.per_label["support"].tolist() == ref.sum(axis=0).tolist()
    per_sample = [f1_score(ref[i:i + 1], hyp[i:i + 1], average="samples", zero_division=1.0) for i in range(len(ref))]
    np.testing.assert_allclose(example_f1(stats), per_sample)
    assert np.isclose(np.mean(per_sample), f1_score(ref, hyp, average="samples", zero_division=1.0))


def test_metric_matches_sklearn_on_labeler_decisions() -> None:
    labeler = RuleBasedLabeler()
    ref, hyp = labeler.decide(REFS), labeler.decide(HYPS)
    for name, average in (("label_f1_macro", "macro"), ("label_f1_micro", "micro")):
        metric = get_metric(name)
        assert np.isclose(metric.corpus_score(REFS, HYPS), f1_score(ref, hyp, average=average, zero_division=0))
    per = get_metric("label_f1_macro").sample_scores(get_metric("label_f1_macro").statistics(REFS, HYPS))
    np.testing.assert_allclose(per, [f1_score(ref[i:i + 1], hyp[i:i + 1], average="samples", zero_division=1)
                                     for i in range(len(REFS))])


def test_statistics_contract() -> None:
    metric = LabelF1(average="macro")
    refs, hyps = REFS * 4, HYPS[::-1] * 4
    stats = metric.statistics(refs, hyps)
    assert stats.shape == (24, 54) and stats.dtype == np.float64
    total = metric.aggregate(stats.sum(axis=0))
    assert isinstance(total, float) and np.isclose(total, metric.corpus_score(refs, hyps))
    half = np.concatenate([metric.statistics(refs[:7], hyps[:7]), metric.statistics(refs[7:], hyps[7:])])
    np.testing.assert_array_equal(half, stats)
    perm = np.random.default_rng(1).permutation(24)
    np.testing.assert_array_equal(metric.statistics([refs[i] for i in perm], [hyps[i] for i in perm]), stats[perm])
    idx = np.random.default_rng(2).integers(0, 24, size=(50, 24))
    resampled = stats[idx].sum(axis=1)                          # (B, 3L) bootstrap sums
    vec = metric.aggregate(resampled)
    assert vec.shape == (50,)
    np.testing.assert_allclose(vec, [metric.aggregate(r) for r in resampled])


def test_shared_statistics_and_signatures() -> None:
    macro, micro = get_metric("label_f1_macro"), get_metric("label_f1_micro")
    assert macro.statistics_key == micro.statistics_key
    assert macro.signature == "label_f1_macro|labeler:rules|unc:positive|labels:ct-rate|zd:0|ref:text|v:0.1.0"
    assert get_metric("label_f1_macro", uncertain="ignore").statistics_key != macro.statistics_key
    result = score({str(i): r for i, r in enumerate(REFS)},
                   {str(i): h for i, h in enumerate(HYPS)}, metrics=["label_f1_macro", "label_f1_micro"])
    assert set(result.corpus["metric"]) == {"label_f1_macro", "label_f1_micro"}
    np.testing.assert_array_equal(result.statistics["label_f1_macro"], result.statistics["label_f1_micro"])
    assert all("labeler:rules" in s for s in result.corpus["signature"])


def test_empty_reports_are_all_negative() -> None:
    metric = LabelF1(average="micro")
    stats = metric.statistics(["", "Cardiomegaly."], ["Cardiomegaly.", ""])
    assert stats.sum() == 2                                    # one FP and one FN, nothing else
    assert metric.sample_scores(metric.statistics([""], [""])).tolist() == [1.0]
    assert metric.corpus_score([""], [""]) == 0.0
    assert LabelF1(average="micro", zero_division=1).corpus_score([""], [""]) == 1.0


def test_ignore_mode_masks_uncertain_cells() -> None:
    two = ["Pleural effusion", "Cardiomegaly"]
    metric = LabelF1(average="micro", labeler=RulesSpec(uncertain="ignore", labels=two))
    stats = metric.statistics(["Possible pleural effusion. Cardiomegaly."], ["No pleural effusion. Cardiomegaly."])
    assert stats.tolist() == [[0, 1, 0, 0, 0, 0]]              # the uncertain effusion counts nowhere
    assert LabelF1(average="micro", labeler=RulesSpec(labels=two)).statistics(
        ["Possible pleural effusion. Cardiomegaly."], ["No pleural effusion. Cardiomegaly."]).tolist() == \
        [[0, 1, 0, 0, 1, 0]]


def test_ground_truth_mode(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text(
        "VolumeName," + ",".join(CTRATE_LABELS) + "\n"
        + "a.nii.gz," + ",".join("1" if n == "Emphysema" else "0" for n in CTRATE_LABELS) + "\n"
        + "b.nii.gz," + ",".join("1" if n == "Cardiomegaly" else "0" for n in CTRATE_LABELS) + "\n")
    (tmp_path / "reports.csv").write_text("VolumeName,Findings_EN\na.nii.gz,Report A.\nb.nii.gz,Report B.\n")
    metric = get_metric("label_f1_micro", ground_truth=str(tmp_path / "labels.csv"),
                        ground_truth_reports=str(tmp_path / "reports.csv"))
    assert metric.corpus_score(["Report A.", "Report B."], ["Emphysema.", "No cardiomegaly."]) == pytest.approx(2 / 3)
    assert "ref:gt-labels.csv-" in metric.signature
    with pytest.raises(InputError, match="is not a report of"):
        metric.statistics(["Report C."], ["x"])
    with pytest.raises(InputError, match="together"):
        get_metric("label_f1_macro", ground_truth=str(tmp_path / "labels.csv"))
    typed = LabelF1(average="micro", reference=GroundTruthReference(str(tmp_path / "labels.csv"),
                                                                    str(tmp_path / "reports.csv")))
    assert typed.signature == metric.signature


def test_tuned_thresholds_are_a_separate_metric(biased_classifier_dir: Path, tmp_path: Path) -> None:
    from radeval.labeling.thresholds import Thresholds

    Thresholds(CTRATE_LABELS, tuple([0.4] * 18), "val").save(tmp_path / "t.json")
    plain = get_metric("label_f1_macro", labeler="transformer", model=str(biased_classifier_dir))
    tuned = get_metric("label_f1_macro_tuned", model=str(biased_classifier_dir), threshold=str(tmp_path / "t.json"))
    assert plain.name == "label_f1_macro" and tuned.name == "label_f1_macro_tuned"
    assert get_metric("label_f1_micro_tuned", model=str(biased_classifier_dir),
                      threshold=str(tmp_path / "t.json")).name == "label_f1_micro_tuned"
    with pytest.raises(InputError, match="use label_f1_macro_tuned"):
        get_metric("label_f1_macro", labeler="transformer", model=str(biased_classifier_dir),
                   threshold=str(tmp_path / "t.json"))
    with pytest.raises(InputError, match="needs per-label thresholds"):
        get_metric("label_f1_micro_tuned", model=str(biased_classifier_dir))
    result = score({"a": "a report"}, {"a": "another report"}, metrics=[tuned])
    assert list(result.corpus["metric"]) == ["label_f1_macro_tuned"]
    assert "labeler:transformer|model:model|thr:0.5" in plain.signature
    assert LabelF1(labeler=TransformerSpec(model=str(biased_classifier_dir))).signature == plain.signature
    assert LabelF1(labeler=TransformerSpec(model=biased_classifier_dir, threshold=str(tmp_path / "t.json")),
                   tuned=True).signature == tuned.signature
    assert "thr:tuned-" in tuned.signature and tuned.signature.startswith("label_f1_macro_tuned|")
    # the head says "present" for labels 0, 2, 4 ... on any non-empty report
    assert plain.corpus_score(["a report"], ["another report"]) == pytest.approx(9 / 18)


def test_compare_label_tables_by_id() -> None:
    ref = LabelTable(("x.nii.gz", "y.nii.gz"), ("Emphysema", "Atelectasis"), np.array([[1, 0], [1, 1]], np.int8), "gt")
    hyp = LabelTable(("y", "x"), ("Emphysema", "Atelectasis"), np.array([[1, 0], [1, 1]], np.int8), "rules")
    rep = compare_label_tables(ref, hyp)
    assert rep.per_label["f1"].tolist() == [1.0, 0.0] and rep.n == 2
    assert "Atelectasis" in rep.to_text() and "macro" in rep.to_text()


def test_bad_options() -> None:
    with pytest.raises(InputError, match="average"):
        LabelF1(average="weighted")
    with pytest.raises(InputError, match="zero_division"):
        LabelF1(zero_division=0.5)
    with pytest.raises(InputError, match="transformer labeler"):
        get_metric("label_f1_macro", model="x")
    with pytest.raises(InputError, match="rule-based labeler only"):
        get_metric("label_f1_macro", labeler="transformer", uncertain="ignore")
    with pytest.raises(UnknownNameError, match="Cardiomegaly"):
        get_metric("label_f1_macro", labels=["Cardiomegally"])
    with pytest.raises(UnknownNameError, match="back-end"):
        get_metric("label_f1_micro", labeler="chexbert")
    with pytest.raises(InputError, match="3 references but 2 hypotheses"):
        get_metric("label_f1_micro").statistics(["a", "b", "c"], ["a", "b"])
    with pytest.raises(InputError, match="3L columns"):
        f1_from_counts(np.ones(4), average="macro")


def test_inspect_label_f1_signature_flags_the_rexkg_approximation() -> None:
    from radeval.metrics.label_f1 import LabelF1

    sig = LabelF1(average="macro", labeler=RulesSpec(labels="inspect")).signature
    assert "labels:inspect|entities:approx-rexkg|" in sig
    assert "approx-rexkg" not in LabelF1(average="macro", labeler=RulesSpec(labels="ct-rate")).signature
    refs = ["Acute pulmonary embolism in the left lower lobe.", "No pulmonary embolism. Small pleural effusion."]
    hyps = ["Pulmonary embolism in the left lower lobe.", "Small pleural effusion, no embolism."]
    m = LabelF1(average="micro", labeler=RulesSpec(labels="inspect"))
    assert m.corpus_score(refs, hyps) == pytest.approx(1.0)
    assert m.statistics(refs, hyps).shape == (2, 3 * 21)


def test_tuned_metric_refuses_references_its_thresholds_were_fitted_on(biased_classifier_dir: Path,
                                                                       tmp_path: Path) -> None:
    """Ker-VLJEPA's 0.448 tunes thresholds on the evaluation set; the tuned metric refuses to repeat that."""
    from radeval.labeling.thresholds import Thresholds, text_fingerprint

    validation = ["Emphysema.", "No effusion."]
    fitted = Thresholds(CTRATE_LABELS, tuple([0.4] * 18), "val", tuple(text_fingerprint(t) for t in validation))
    fitted.save(tmp_path / "fitted.json")
    tuned = get_metric("label_f1_macro_tuned", model=str(biased_classifier_dir), threshold=str(tmp_path / "fitted.json"))
    assert "fit:" not in tuned.signature  # a recorded fitting set is checked at scoring time instead
    assert tuned.corpus_score(["Nodule in the left lung."], ["a report"]) >= 0.0  # another split: scored
    with pytest.raises(InputError, match=r"fitted on 1 of these 2 reference reports \(rows \[1\]\).*leakage"):
        tuned.statistics(["Nodule in the left lung.", " No effusion. "], ["a", "b"])
    Thresholds(CTRATE_LABELS, tuple([0.4] * 18), "val").save(tmp_path / "bare.json")  # no record of its reports
    bare = get_metric("label_f1_macro_tuned", model=str(biased_classifier_dir), threshold=str(tmp_path / "bare.json"))
    assert "|fit:UNVERIFIED|" in bare.signature
    assert Thresholds.load(tmp_path / "fitted.json").fitted_on == fitted.fitted_on
