"""ROUGE-L, pycocoevalcap convention (beta = 1.2): parity with pycocoevalcap's Rouge."""

from __future__ import annotations

import numpy as np
import pytest
from pycocoevalcap.rouge.rouge import Rouge

from radeval.metrics import get_metric
from radeval.metrics.rouge_coco import CocoRougeL, coco_rouge_l


def coco_rouge(refs: list[str], hyps: list[str]) -> tuple[float, np.ndarray]:
    gts = {str(i): [r] for i, r in enumerate(refs)}
    res = {str(i): [h] for i, h in enumerate(hyps)}
    return Rouge().compute_score(gts, res)


def test_parity_with_pycocoevalcap(lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    expected, expected_per = coco_rouge(refs, hyps)
    m = CocoRougeL()
    stats = m.statistics(refs, hyps)
    assert abs(m.aggregate(stats.sum(axis=0)) - expected) <= 1e-9
    np.testing.assert_allclose(m.sample_scores(stats), expected_per, rtol=0, atol=1e-12)


def test_edge_cases_one_by_one(edge_cases) -> None:
    for cid, ref, hyp in edge_cases:
        expected, _ = coco_rouge([ref], [hyp])
        assert coco_rouge_l(ref, hyp) == pytest.approx(expected, abs=1e-12), cid
    # split(" ") quirks: an empty text is one empty token, a double space adds an empty token
    assert coco_rouge_l("", "") == 1.0
    assert coco_rouge_l("no  effusion", "no effusion") == pytest.approx(0.7722, abs=1e-4)


@pytest.mark.parametrize("vid", ["A", "B", "C", "D", "E"])
def test_sheet_vectors(lexical_vectors, vid) -> None:
    v = lexical_vectors["vectors"][vid]
    m = get_metric("rougeL_coco")
    stats = m.statistics(v["refs"], v["hyps"])
    assert m.aggregate(stats.sum(axis=0)) == pytest.approx(v["rougeL_coco"], abs=1e-12)
    if "rougeL_coco_per_sample" in v:
        np.testing.assert_allclose(m.sample_scores(stats), v["rougeL_coco_per_sample"], rtol=0, atol=1e-12)


def test_contract(check_metric, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    check_metric(CocoRougeL(), refs, hyps)


def test_signature_and_normalisation() -> None:
    m = CocoRougeL()
    assert m.signature.startswith("rougeL_coco|conv:coco|tok:space|case:keep|beta:1.2|norm:none|v:")
    refs, hyps = ["No acute cardiopulmonary process."], ["no acute cardiopulmonary process"]
    assert m.corpus_score(refs, hyps) == 0.5
    # lowered and split: 4 of 5 reference tokens matched, P = 1, R = 0.8
    assert CocoRougeL(normalize="lower+punct").corpus_score(refs, hyps) == pytest.approx(2.44 * 0.8 / (0.8 + 1.44))
    assert "norm:lower+punct" in CocoRougeL(normalize="lower+punct").signature
