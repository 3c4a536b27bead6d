"""Phantom report corpora (radeval.data.phantom_corpus): reports and labels of fresh phantoms, as a dataset with the
same seed and report options would write them, one per patient; bad options named."""

from __future__ import annotations

import pytest

from radeval.data.ctrate import CTRateDataset
from radeval.data.labels import CTRATE_LABELS
from radeval.data.phantom import make_phantom_dataset
from radeval.data.phantom_corpus import CorpusReport, phantom_report_corpus
from radeval.errors import InputError


def test_reports_and_labels_are_those_a_dataset_with_the_seed_writes(tmp_path) -> None:
    corpus = phantom_report_corpus(10, seed=11, options={"negation_rate": 0.1, "textured": True})
    root = make_phantom_dataset(tmp_path, n=10, seed=11, shape=(16, 16, 12), recon_rate=0.0, negation_rate=0.1)
    data = CTRateDataset(root)
    expected = [(c.reference, {k: int(v) for k, v in data.labels(s).loc[c.id].items()})
                for s in data.splits for c in data.cases(s)]
    assert [(r.text, dict(r.labels)) for r in corpus] == expected
    assert len(corpus) == 10 and all(list(r.labels) == list(CTRATE_LABELS) for r in corpus)
    assert len({r.text for r in corpus}) == 10  # one report per patient: no second reconstructions


def test_seeds_give_different_corpora_and_the_same_seed_the_same() -> None:
    a, b = phantom_report_corpus(6, seed=1), phantom_report_corpus(6, seed=2)
    assert {r.text for r in a}.isdisjoint({r.text for r in b})
    assert phantom_report_corpus(6, seed=1) == a


def test_positives_follow_the_labels_and_the_text_states_them() -> None:
    from radeval.labeling import get_labeler

    corpus = phantom_report_corpus(30, seed=4, options={"negation_rate": 0.1})
    assert all(r.positives == [k for k in CTRATE_LABELS if r.labels[k]] for r in corpus)
    table = get_labeler("rules").label({str(i): r.text for i, r in enumerate(corpus)})
    column = {name: j for j, name in enumerate(table.labels)}
    agree = sum(int(table.decisions[i, column[k]] == 1) == r.labels[k] for i, r in enumerate(corpus)
                for k in CTRATE_LABELS)
    assert agree / (30 * len(CTRATE_LABELS)) > 0.95  # the rule labeler reads the labels back from the text


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 1, "seed": 0}, r"n=1; at least 2"),
    ({"n": 4, "seed": 0, "options": {"negation_ratio": 0.1}}, r"unknown option\(s\) \['negation_ratio'\]"),
])
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        phantom_report_corpus(**kwargs)


def test_corpus_report_positives_keep_column_order() -> None:
    assert CorpusReport("t", {"B": 1, "A": 1, "C": 0}).positives == ["B", "A"]
