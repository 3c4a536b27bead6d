"""METEOR 1.5 jar driven by radeval: parity with pycocoevalcap's Meteor, pooled corpus formula, robustness."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import numpy as np
import pytest

from radeval.errors import MissingDependencyError
from radeval.metrics.meteor import CHUNKS, JAVA_TOOL_OPTIONS, Meteor, MeteorError, meteor_from_stats, sanitize
from radeval.metrics.scoring import score

pytestmark = [pytest.mark.java, pytest.mark.skipif(shutil.which("java") is None, reason="needs a Java runtime")]


def protocol_safe(text: str) -> str:
    """What the pycocoevalcap wrapper needs to stay in step: no line breaks, no ``|||``."""
    return re.sub(r"[\r\n]+", " ", text.replace("|||", ""))


@pytest.fixture(scope="module")
def meteor() -> Iterator[Meteor]:
    m = Meteor()
    yield m
    m.close()


@pytest.fixture(scope="module")
def coco_meteor() -> Iterator[object]:
    from pycocoevalcap.meteor.meteor import Meteor as CocoMeteor

    old = os.environ.get("JAVA_TOOL_OPTIONS")
    os.environ["JAVA_TOOL_OPTIONS"] = JAVA_TOOL_OPTIONS  # same JVM settings as ours
    try:
        oracle = CocoMeteor()
    finally:
        if old is None:
            os.environ.pop("JAVA_TOOL_OPTIONS", None)
        else:
            os.environ["JAVA_TOOL_OPTIONS"] = old
    yield oracle
    del oracle


def coco_scores(oracle, refs: list[str], hyps: list[str]) -> tuple[float, list[float]]:
    gts = {str(i): [protocol_safe(r)] for i, r in enumerate(refs)}
    res = {str(i): [protocol_safe(h)] for i, h in enumerate(hyps)}
    return oracle.compute_score(gts, res)


def test_parity_with_pycocoevalcap(meteor, coco_meteor, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    expected, expected_per = coco_scores(coco_meteor, refs, hyps)
    stats = meteor.statistics(refs, hyps)
    assert meteor.last_errors == {}
    assert abs(meteor.aggregate(stats.sum(axis=0)) - expected) <= 1e-6
    np.testing.assert_allclose(meteor.sample_scores(stats), expected_per, rtol=0, atol=1e-6)


def test_statistics_are_the_jar_numbers(meteor, coco_meteor, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    stats = meteor.statistics(refs[:40], hyps[:40])
    for i in range(40):
        raw = np.array([float(x) for x in coco_meteor._stat(protocol_safe(hyps[i]), [protocol_safe(refs[i])]).split()])
        perfect = raw[21] == raw[0] and raw[22] == raw[1] and raw[CHUNKS] == 1
        if perfect:
            raw[CHUNKS] = 0
        np.testing.assert_array_equal(stats[i], raw)


def test_sheet_segments_and_pooled_corpus(meteor, lexical_vectors) -> None:
    segs = lexical_vectors["meteor_segments"]
    stats = meteor.statistics([s["ref"] for s in segs], [s["hyp"] for s in segs])
    for row, seg in zip(stats, segs):
        expected = np.array(seg["stats"], dtype=float)
        if seg["score"] == 1.0:
            expected[CHUNKS] = 0  # the perfect segment pools with 0 chunks
        np.testing.assert_array_equal(row, expected)
    np.testing.assert_allclose(meteor.sample_scores(stats), [s["score"] for s in segs], rtol=0, atol=1e-15)
    assert meteor.aggregate(stats.sum(axis=0)) == pytest.approx(lexical_vectors["meteor_corpus_all_six"], abs=1e-15)
    assert meteor.aggregate(stats[:2].sum(axis=0)) == pytest.approx(lexical_vectors["meteor_corpus_first_two"],
                                                                     abs=1e-15)
    assert meteor.sample_scores(stats).mean() == pytest.approx(lexical_vectors["meteor_segment_mean_all_six"], abs=1e-5)
    for extra in lexical_vectors["meteor_extra_segments"]:
        row = meteor.statistics([extra["ref"]], [extra["hyp"]])[0]
        prefix = extra["stats_prefix"]
        assert list(row[:len(prefix)]) == prefix
        if "stats_suffix" in extra:
            assert list(row[20:]) == extra["stats_suffix"]
        assert meteor.aggregate(row) == pytest.approx(extra["score"], abs=1e-15)


def test_vector_b(meteor, lexical_vectors) -> None:
    v = lexical_vectors["vectors"]["B"]
    stats = meteor.statistics(v["refs"], v["hyps"])
    assert meteor.aggregate(stats.sum(axis=0)) == pytest.approx(v["meteor"], abs=1e-12)
    np.testing.assert_allclose(meteor.sample_scores(stats), v["meteor_per_sample"], rtol=0, atol=1e-12)


def test_naive_chunk_sum_would_be_wrong(meteor, lexical_vectors) -> None:
    segs = lexical_vectors["meteor_segments"]
    naive = np.array([s["stats"] for s in segs], dtype=float).sum(axis=0)
    assert meteor_from_stats(naive) != pytest.approx(lexical_vectors["meteor_corpus_all_six"], abs=1e-6)


def test_newlines_tabs_and_pipes_do_not_break_the_protocol(meteor) -> None:
    refs = ["the heart is big .", "Heart size is normal.\nNo effusion.", "no effusion ||| heart normal",
            "a 6 mm nodule\r\nin the right lower lobe", "no effusion in the pleura ."]
    hyps = ["the heart is enlarged .", "Heart size\tis normal.\n\nNo\teffusion.", "no ||| effusion |||| heart",
            "a 5 mm\tnodule in the\nright lobe", "no pleural effusion ."]
    together = meteor.statistics(refs, hyps)
    alone = np.concatenate([meteor.statistics([sanitize(r)], [sanitize(h)]) for r, h in zip(refs, hyps)])
    np.testing.assert_array_equal(together, alone)
    assert meteor.sample_scores(together)[0] == pytest.approx(0.3184464413482169, abs=1e-15)
    assert meteor.sample_scores(together)[4] == pytest.approx(0.20618556701030932, abs=1e-15)


def test_whitespace_is_harmless(meteor) -> None:
    stats = meteor.statistics(["no acute process", "no acute process"], ["no  acute   process", "no acute process"])
    assert list(meteor.sample_scores(stats)) == [1.0, 1.0]


def test_contract_and_one_process_for_many_calls(meteor, check_metric, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    meteor.statistics(refs[:3], hyps[:3])
    pid = meteor._process.popen.pid  # type: ignore[union-attr]
    check_metric(meteor, refs[:60], hyps[:60])
    assert meteor._process.popen.pid == pid  # type: ignore[union-attr]


def test_cached_rows_need_no_java(meteor, tmp_path, lexical_pairs) -> None:
    ids, refs, hyps = lexical_pairs
    refs_map = dict(zip(ids[:30], refs[:30]))
    hyps_map = dict(zip(ids[:30], hyps[:30]))
    cache = tmp_path / "cache.sqlite"
    first = score(refs_map, hyps_map, metrics=[meteor], cache=cache).as_dict()
    offline = Meteor(java="/nonexistent/java")
    assert offline.signature == Meteor().signature  # the executable does not change the numbers
    second = score(refs_map, hyps_map, metrics=[offline], cache=cache).as_dict()
    assert second == first


def test_missing_java_is_a_clear_error() -> None:
    m = Meteor(java="/nonexistent/java")
    with pytest.raises(MissingDependencyError, match="Java runtime.*'/nonexistent/java' was not found"):
        m.statistics(["a"], ["a"])


def test_a_jvm_that_cannot_start_is_reported_with_its_stderr() -> None:
    m = Meteor(memory="1k")  # below the JVM's minimum heap: java prints two lines to stdout and exits
    for n in (1, 2, 3):  # fewer, as many and more samples than the JVM's error lines
        with pytest.raises(MeteorError, match=r"Meteor process (exited|stopped).*(heap|initialization of VM)"):
            m.statistics(["a"] * n, ["a"] * n)
    m.close()


def test_close_stops_the_process() -> None:
    m = Meteor()
    m.statistics(["no effusion ."], ["no effusion ."])
    popen = m._process.popen  # type: ignore[union-attr]
    m.close()
    assert popen.poll() is not None
    assert m.statistics([], []).shape == (0, 23)


def test_signature() -> None:
    m = Meteor()
    assert m.cacheable and m.kind == "corpus"
    assert m.signature.startswith("meteor|impl:jar-1.5|lang:en|tok:norm|case:lower|params:0.85_0.2_0.6_0.75|"
                                  "mods:ex_st_sy_pa|w:1.0_0.6_0.8_0.6|norm:none|v:")
