"""Typed labeler settings: each back end validates its own options, and the flat CLI/suite spelling converts at the
edge to the same labeler, so metric signatures stay byte-identical."""

from __future__ import annotations

import pytest

from radeval.errors import InputError, UnknownNameError
from radeval.labeling import get_labeler
from radeval.labeling.specs import (
    GroundTruthReference, PooledClassifierSpec, RulesSpec, TextReference, TransformerSpec, labeler_spec_from_options,
    reference_from_options,
)
from radeval.metrics import get_metric
from radeval.metrics.label_f1 import LabelF1

# Signatures of the flat-option spelling, recorded from the code before the typed specs (commit 2237e59).
BEFORE = [
    ("label_f1_macro", {}, "label_f1_macro|labeler:rules|unc:positive|labels:ct-rate|zd:0|ref:text|v:0.1.0"),
    ("label_f1_micro", {}, "label_f1_micro|labeler:rules|unc:positive|labels:ct-rate|zd:0|ref:text|v:0.1.0"),
    ("label_f1_macro", {"uncertain": "ignore"},
     "label_f1_macro|labeler:rules|unc:ignore|labels:ct-rate|zd:0|ref:text|v:0.1.0"),
    ("label_f1_macro", {"uncertain": "negative", "labels": "inspect"},
     "label_f1_macro|labeler:rules|unc:negative|labels:inspect|entities:approx-rexkg|zd:0|ref:text|v:0.1.0"),
    ("label_f1_micro", {"labels": ["Pleural effusion", "Cardiomegaly"], "zero_division": 1},
     "label_f1_micro|labeler:rules|unc:positive|labels:custom2|zd:1|ref:text|v:0.1.0"),
    ("label_f1_macro", {"labeler": "rules", "progress": True},
     "label_f1_macro|labeler:rules|unc:positive|labels:ct-rate|zd:0|ref:text|v:0.1.0"),
    ("label_f1_micro", {"labeler": "transformer"},
     "label_f1_micro|labeler:transformer|model:IAMJB/RadBERT-CT|thr:0.5|maxlen:512|labels:ct-rate|zd:0|ref:text|"
     "v:0.1.0"),
    ("label_f1_macro", {"labeler": "transformer", "threshold": 0.3, "max_length": 256, "batch_size": 4,
                        "device": "cpu"},
     "label_f1_macro|labeler:transformer|model:IAMJB/RadBERT-CT|thr:0.3|maxlen:256|labels:ct-rate|zd:0|ref:text|"
     "v:0.1.0"),
    ("label_f1_macro", {"labeler": "transformer", "model": "org/some-model", "labels": "inspect"},
     "label_f1_macro|labeler:transformer|model:org/some-model|thr:0.5|maxlen:512|labels:inspect|entities:approx-rexkg|zd:0|ref:text|"
     "v:0.1.0"),
]


@pytest.mark.parametrize(("name", "options", "signature"), BEFORE)
def test_flat_options_keep_their_signatures(name: str, options: dict, signature: str) -> None:
    assert get_metric(name, **options).signature == signature
    opts = dict(options)
    zero_division = opts.pop("zero_division", 0)
    typed = LabelF1(average=name.rsplit("_", 1)[1], labeler=labeler_spec_from_options(opts),
                    zero_division=zero_division)
    assert typed.signature == signature


def test_typed_specs_give_the_same_signatures_as_the_flat_spelling() -> None:
    assert LabelF1(labeler=RulesSpec(uncertain="ignore")).signature == BEFORE[2][2]
    assert LabelF1(average="micro", labeler=TransformerSpec()).signature == BEFORE[6][2]
    assert LabelF1(labeler=TransformerSpec(model="org/some-model", labels="inspect")).signature == BEFORE[8][2]


def test_pooled_classifier_spec_builds_the_transformer_labeler_with_its_head_options(tmp_path) -> None:
    spec = labeler_spec_from_options({"labeler": "transformer", "model": str(tmp_path / "clf.pth"),
                                      "base_model": "org/encoder", "checkpoint_labels": "ct-rate"})
    assert isinstance(spec, PooledClassifierSpec)
    direct = get_labeler("transformer", model=str(tmp_path / "clf.pth"), base_model="org/encoder",
                         checkpoint_labels="ct-rate")
    assert spec.build().signature == direct.signature
    assert "|base:org/encoder|" in LabelF1(labeler=spec).signature


@pytest.mark.parametrize(("make", "option"), [
    (lambda: RulesSpec(uncertain="maybe"), "uncertain"),
    (lambda: RulesSpec(progress="yes"), "progress"),
    (lambda: RulesSpec(labels=3), "labels"),
    (lambda: TransformerSpec(threshold=1.5), "threshold"),
    (lambda: TransformerSpec(threshold=0), "threshold"),
    (lambda: TransformerSpec(batch_size=0), "batch_size"),
    (lambda: TransformerSpec(max_length=2.5), "max_length"),
    (lambda: TransformerSpec(model=""), "model"),
    (lambda: TransformerSpec(device=""), "device"),
    (lambda: PooledClassifierSpec(model="clf.pth"), "base_model"),
    (lambda: GroundTruthReference(labels_csv="", reports="r.csv"), "labels_csv"),
    (lambda: GroundTruthReference(labels_csv="l.csv", reports="r.csv", id_field=""), "id_field"),
])
def test_each_back_end_names_its_bad_option(make, option: str) -> None:
    with pytest.raises(InputError, match=rf"\b{option}="):
        make()


def test_edge_conversion_rejects_options_of_another_back_end() -> None:
    with pytest.raises(InputError, match="apply to the transformer labeler"):
        labeler_spec_from_options({"threshold": 0.3})
    with pytest.raises(InputError, match="rule-based labeler only"):
        labeler_spec_from_options({"labeler": "transformer", "uncertain": "ignore"})
    with pytest.raises(InputError, match="unknown labeler option"):
        labeler_spec_from_options({"labeler": "transformer", "thresold": 0.3})
    with pytest.raises(UnknownNameError, match="did you mean: 'transformer'"):
        labeler_spec_from_options({"labeler": "transformers"})
    with pytest.raises(InputError, match="ground_truth"):
        labeler_spec_from_options({"labeler": "ground-truth"})
    assert reference_from_options({}) == TextReference()
    with pytest.raises(InputError, match="together"):
        reference_from_options({"ground_truth_reports": "r.csv"})
    assert reference_from_options({"ground_truth": "l.csv", "ground_truth_reports": "r.csv",
                                   "ground_truth_id_field": "id"}) == GroundTruthReference("l.csv", "r.csv", "id")


def test_label_f1_takes_specs_not_flat_strings() -> None:
    with pytest.raises(InputError, match="from_options"):
        LabelF1(labeler="transformer")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="reference="):
        LabelF1(reference="labels.csv")  # type: ignore[arg-type]
    assert RulesSpec(labels=["Emphysema"]).labels == ("Emphysema",)  # frozen and hashable
    assert hash(TransformerSpec()) == hash(TransformerSpec())
