"""CIDEr-D, pycocoevalcap convention: parity with pycocoevalcap's Cider (idf from the scored corpus)."""

from __future__ import annotations

import numpy as np
import pytest
from pycocoevalcap.cider.cider import Cider

from radeval.metrics import get_metric
from radeval.metrics.cider import CiderD


def coco_cider(refs: list[str], hyps: list[str]) -> tuple[float, np.ndarray]:
    gts = {str(i): [r] for i, r in enumerate(refs)}
    res = {str(i): [h] for i, h in enumerate(hyps)}
    return Cider().compute_score(gts, res)


def test_parity_with_pycocoevalcap(lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    expected, expected_per = coco_cider(refs, hyps)
    m = CiderD()
    stats = m.statistics(refs, hyps)
    assert abs(m.aggregate(stats.sum(axis=0)) - expected) <= 1e-9
    np.testing.assert_allclose(m.sample_scores(stats), expected_per, rtol=0, atol=1e-9)


def test_parity_on_subcorpora_of_edge_cases(lexical_pairs, edge_cases) -> None:
    ids, refs, hyps = lexical_pairs
    base_refs, base_hyps = refs[:20], hyps[:20]
    for cid, ref, hyp in edge_cases:
        r, h = base_refs + [ref], base_hyps + [hyp]
        expected, expected_per = coco_cider(r, h)
        got = CiderD().statistics(r, h)
        np.testing.assert_allclose(CiderD().sample_scores(got), expected_per, rtol=0, atol=1e-9, err_msg=cid)


@pytest.mark.parametrize("vid", ["A", "B", "C", "D", "E"])
def test_sheet_vectors(lexical_vectors, vid) -> None:
    v = lexical_vectors["vectors"][vid]
    m = get_metric("cider")
    stats = m.statistics(v["refs"], v["hyps"])
    assert m.aggregate(stats.sum(axis=0)) == pytest.approx(v["cider"], abs=1e-12)
    if "cider_per_sample" in v:
        np.testing.assert_allclose(m.sample_scores(stats), v["cider_per_sample"], rtol=0, atol=1e-12)


def test_single_sample_corpus_scores_zero_even_when_identical() -> None:
    assert CiderD().corpus_score(["no pleural effusion ."], ["no pleural effusion ."]) == 0.0


def test_scores_depend_on_the_corpus() -> None:
    refs = ["no pleural effusion .", "the heart is enlarged .", "the heart is normal . no effusion ."]
    hyps = ["no pleural effusion .", "the heart is big .", "emphysema ."]
    m = CiderD()
    whole = m.sample_scores(m.statistics(refs, hyps))
    part = m.sample_scores(m.statistics(refs[:2], hyps[:2]))
    assert not np.allclose(whole[:2], part)


def test_corpus_with_only_empty_references_scores_zero() -> None:
    # pycocoevalcap fails here (max() of an empty document-frequency table); every vector is empty,
    # so the natural value of the formula is 0 for every sample.
    with pytest.raises(ValueError):
        coco_cider(["", "  "], ["no effusion .", ""])
    assert list(CiderD().sample_values(["", "  "], ["no effusion .", ""])) == [0.0, 0.0]


def test_contract(check_metric, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    # rows depend on the corpus idf, so statistics of the halves differ from rows of the whole
    check_metric(CiderD(), refs, hyps, rows_independent=False)


def test_settings() -> None:
    m = CiderD()
    assert not m.cacheable and m.kind == "mean"
    assert m.signature.startswith("cider|conv:coco|tok:ws|case:keep|n:4|sigma:6.0|idf:corpus|norm:none|v:")
    assert CiderD().statistics([], []).shape == (0, 2)
