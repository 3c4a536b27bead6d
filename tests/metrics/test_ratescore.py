"""RaTEScore: the formula's pinned vector, BIO decoding rules, alignment fix, batching, on tiny local models."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from radeval.errors import InputError, MissingWeightsError
from radeval.metrics import get_metric
from radeval.metrics.ratescore import (MATRIX_LONG, NEG_WEIGHT_LONG, TYPES, Affinity, RaTEScore, directional_score,
                                       rate_score)
from radeval.metrics.ratescore_ner import RateModels, ReportEntities, decode_bio, report_sentences
from radeval.metrics.scoring import score

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

REFS = [
    "No pleural effusion or pneumothorax. The heart size is normal.",
    "There is a 5 mm nodule in the right lower lobe. No mediastinal lymphadenopathy.",
    "Mild centrilobular emphysema in the upper lobes.",
    "Stable small left pleural effusion.",
]
HYPS = [
    "No pneumothorax or pleural effusion. Heart size is normal.",
    "Large right pleural effusion with compressive atelectasis.",
    "Emphysema in the upper lobes.",
    "Lungs clear.",
]


def _tiny() -> ModuleType:
    spec = importlib.util.spec_from_file_location("radgraph_tiny_fixture_rate", FIXTURES / "radgraph_tiny.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    rt = _tiny()
    root = tmp_path_factory.mktemp("ratescore_tiny")
    return {"ner": rt.build_tiny_rate_ner(root / "ner"), "emb": rt.build_tiny_bert(root / "emb", seed=5)}


def metric(models: dict[str, Path], **kw: object) -> RaTEScore:
    return RaTEScore(ner_model=models["ner"], embed_model=models["emb"], **kw)  # type: ignore[arg-type]


# -- the formula -----------------------------------------------------------------------------------
FORMULA_REF = ReportEntities(("a", "b", "c"), ("ABNORMALITY", "ANATOMY", "DISEASE"),
                             np.array([[1.0, 0, 0], [0, 2, 0], [0.6, 0.8, 0]]), 1)
FORMULA_HYP = ReportEntities(("d", "e"), ("NON-ABNORMALITY", "ANATOMY"), np.array([[0.8, 0.6, 0], [0, 0.28, 0.96]]), 1)


@pytest.mark.parametrize(("matrix", "p", "r", "f"), [
    ("long", 0.7845886100254585, 0.6785555979563642, 0.7277300357972531),
    ("short", 0.40678406502042386, 0.28003900345851584, 0.33171688435976476),
])
def test_formula_vector(matrix: str, p: float, r: float, f: float) -> None:
    aff = Affinity.load(matrix)
    got_p = directional_score(FORMULA_REF.embeddings, FORMULA_HYP.embeddings, FORMULA_REF.types, FORMULA_HYP.types, aff)
    got_r = directional_score(FORMULA_HYP.embeddings, FORMULA_REF.embeddings, FORMULA_HYP.types, FORMULA_REF.types, aff)
    assert got_p == pytest.approx(p, rel=1e-6)
    assert got_r == pytest.approx(r, rel=1e-6)
    assert rate_score(FORMULA_REF, FORMULA_HYP, aff) == pytest.approx(f, rel=1e-6)


def test_empty_side_scores_half() -> None:
    empty = ReportEntities((), (), np.zeros((0, 3)), 1)
    assert rate_score(empty, FORMULA_HYP, Affinity.load("long")) == 0.5
    assert rate_score(FORMULA_REF, empty, Affinity.load("long")) == 0.5


def test_affinity_json_round_trip_and_errors(tmp_path: Path) -> None:
    table = {f"{q.lower()}_{m.lower()}": MATRIX_LONG[i][j] for i, q in enumerate(TYPES) for j, m in enumerate(TYPES)}
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps({**table, "neg_weight": NEG_WEIGHT_LONG}))
    custom = Affinity.load(path)
    assert custom.weights == Affinity.load("long").weights and custom.neg_weight == NEG_WEIGHT_LONG
    del table["anatomy_disease"]
    path.write_text(json.dumps({**table, "neg_weight": 0.5}))
    with pytest.raises(InputError, match="matrix.json.*lacks the pairs"):
        Affinity.load(path)
    with pytest.raises(InputError, match="cannot read affinity matrix"):
        Affinity.load(tmp_path / "absent.json")


# -- decoding and sentences ------------------------------------------------------------------------
@pytest.mark.parametrize(("tokens", "labels", "expected"), [
    (["[CLS]", "a", "b", "[SEP]"], ["O", "B-X", "B-Y", "O"], [(1, 1, "X"), (2, 2, "Y")]),
    (["[CLS]", "a", "b", "[SEP]"], ["O", "B-Y", "I-Y", "I-Y"], [(1, 2, "Y")]),  # open at the end -> len - 2
    (["[CLS]", "a", "b", "c", "[SEP]"], ["O", "B-X", "B-Y", "I-Y", "I-Y"], [(1, 1, "X")]),  # stale end: Y lost
    (["[CLS]", "a", "[SEP]"], ["O", "B-X", "B-Y"], [(1, 1, "X")]),  # the [SEP] label is looked at
    (["[CLS]", "a", "b", "c", "[SEP]"], ["O", "B-X", "I-X", "B-Y", "O"], [(1, 2, "X"), (3, 3, "Y")]),
    (["[CLS]", "a", "b", "[SEP]"], ["O", "I-X", "O", "O"], []),  # I without an open span
])
def test_bio_decoding_follows_upstream_rules(tokens: list[str], labels: list[str],
                                             expected: list[tuple[int, int, str]]) -> None:
    assert decode_bio(tokens, labels) == expected


def test_sentence_filter() -> None:
    assert report_sentences("1. Lungs clear.  Ok") == ["Lungs clear."]
    assert report_sentences("") == [] and report_sentences("  \n ") == []


# -- end to end on tiny models ---------------------------------------------------------------------
def test_alignment_fix_keeps_one_slot_per_report(models: dict[str, Path]) -> None:
    m = metric(models, batch_size=8)
    refs = ["", "ok", REFS[0], REFS[1]]
    hyps = [HYPS[0], HYPS[1], "1.", HYPS[1]]
    stats = m.statistics(refs, hyps)
    assert stats.shape == (4, 2)
    assert stats[:3, 0].tolist() == [0.5, 0.5, 0.5]
    assert sorted(m.last_flags) == [0, 1, 2] and "hypothesis has no sentence" in m.last_flags[2]
    alone = metric(models).statistics([REFS[1]], [HYPS[1]])
    assert stats[3, 0] == pytest.approx(alone[0, 0], abs=1e-6)  # later pairs are not shifted


def test_batched_equals_one_report_at_a_time(models: dict[str, Path]) -> None:
    one = metric(models, batch_size=1).statistics(REFS, HYPS)
    many = metric(models, batch_size=16).statistics(REFS, HYPS)
    np.testing.assert_allclose(many, one, atol=1e-6)
    assert len(set(np.round(one[:, 0], 6))) > 1  # the tiny models give varied scores
    ents = RateModels(models["ner"], models["emb"], batch_size=1).entities(REFS)
    assert all(len(e.texts) > 0 for e in ents)
    identical = metric(models).statistics(REFS, REFS)
    np.testing.assert_allclose(identical[:, 0], 1.0, atol=1e-6)


def test_long_sentences_are_truncated_not_failed(models: dict[str, Path]) -> None:
    m = metric(models)
    long_ref = "pleural effusion " * 400 + "."
    stats = m.statistics([long_ref, REFS[0]], [HYPS[0], HYPS[0]])
    assert np.isfinite(stats).all() and not m.last_errors
    assert "trunc:512/30" in m.signature


def test_unknown_entity_type_fails_only_its_pair(models: dict[str, Path], tmp_path: Path) -> None:
    # A tagger with a sixth entity type the affinity matrix does not know: pairs that meet it fail
    # with a named reason, the rest of the batch is scored.
    from transformers import AutoModelForTokenClassification

    ner = AutoModelForTokenClassification.from_pretrained(str(models["ner"]))
    labels = [ner.config.id2label[i] for i in range(ner.config.num_labels)]
    labels[1], labels[2] = "B-DEVICE", "I-DEVICE"  # replaces B-/I-ABNORMALITY
    ner.config.id2label = dict(enumerate(labels))
    ner.config.label2id = {lab: i for i, lab in enumerate(labels)}
    shutil.copytree(models["ner"], tmp_path / "ner6")  # tokenizer files; config and weights replaced below
    ner.save_pretrained(tmp_path / "ner6")
    m = RaTEScore(ner_model=tmp_path / "ner6", embed_model=models["emb"])
    stats = m.statistics(REFS, HYPS)
    ents = m.models().entities(REFS + HYPS)
    has_device = [("DEVICE" in ents[i].types) or ("DEVICE" in ents[i + len(REFS)].types) for i in range(len(REFS))]
    assert any(has_device) and not all(has_device)
    for i, bad in enumerate(has_device):
        assert np.isnan(stats[i, 0]) == bad
        assert (i in m.last_errors) == bad
    assert "DEVICE" in next(iter(m.last_errors.values()))
    result = score(dict(enumerate(REFS)), dict(enumerate(HYPS)), metrics=[m])  # type: ignore[arg-type]
    assert len(result.failures) == sum(has_device)
    assert result.corpus.loc[0, "n"] == len(REFS) - sum(has_device)


def test_registry_name_and_missing_weights() -> None:
    m = get_metric("ratescore")
    assert m.name == "ratescore" and "split:punkt-en" in m.signature and "affinity:long" in m.signature
    with pytest.raises(MissingWeightsError, match="radeval fetch ratescore"):
        m.statistics(["No effusion."], ["No effusion."])


def test_score_cli(models: dict[str, Path], tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    for name, texts in (("refs", REFS), ("hyps", HYPS)):
        (tmp_path / f"{name}.jsonl").write_text(
            "".join(json.dumps({"id": f"c{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    env = dict(os.environ, RADEVAL_HOME=str(tmp_path / "home"), PYTHONPATH=str(root), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "radeval.cli.main", "score", "--refs", str(tmp_path / "refs.jsonl"),
                           "--hyps", str(tmp_path / "hyps.jsonl"), "--metrics", "ratescore",
                           "--metric-option", f"ratescore.ner_model={models['ner']}",
                           "--metric-option", f"ratescore.embed_model={models['emb']}", "--json"],
                          capture_output=True, text=True, env=env, cwd=str(root), timeout=600)
    assert proc.returncode == 0, proc.stderr
    expected = metric(models).corpus_score(REFS, HYPS)
    assert json.loads(proc.stdout)["ratescore"] == pytest.approx(expected, abs=1e-6)
