"""Issue 17 item 5: one bad case never sinks a run; the failure is named and the other metrics finish."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pytest

from radeval.metrics.base import Metric
from radeval.metrics.scoring import score

REFS = {"a": "No pleural effusion.", "b": "Heart size is normal.", "c": "Small nodule in the left lung."}
HYPS = {"a": "No effusion.", "b": "Heart size normal.", "c": "Nodule in the left lung."}


class _Fragile(Metric):
    """A real metric (word-overlap ratio) whose statistics() raises when any hypothesis holds 'boom'."""

    name: ClassVar[str] = "fragile"
    higher_is_better: ClassVar[bool] = True
    kind: ClassVar[str] = "mean"
    cacheable: ClassVar[bool] = False

    def settings(self) -> dict[str, str]:
        return {}

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        if any("boom" in h for h in hyps):
            raise RuntimeError("segfault-like failure on a hostile input")
        return np.array([[len(set(r.split()) & set(h.split())) / max(len(set(r.split())), 1), 1.0]
                         for r, h in zip(refs, hyps)])

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        out = np.asarray(stats)[..., 0] / np.asarray(stats)[..., 1]
        return float(out) if out.ndim == 0 else out


def test_a_metric_raising_on_one_case_fails_that_case_only() -> None:
    hyps = dict(HYPS, b="boom")
    result = score(REFS, hyps, metrics=[_Fragile(), "rougeL"], cache=None)
    assert [(f.metric, f.case_id) for f in result.failures] == [("fragile", "b")]
    assert "RuntimeError" in result.failures[0].reason
    per = result.per_sample
    assert np.isnan(per.loc["b", "fragile"]) and np.isfinite(per.loc[["a", "c"], "fragile"]).all()
    assert np.isfinite(per["rougeL"]).all()
    corpus = result.corpus.set_index("metric")
    assert corpus.loc["fragile", "n"] == 2 and corpus.loc["fragile", "n_failed"] == 1


def test_every_case_failing_still_lets_the_other_metrics_finish(tmp_path) -> None:
    hyps = {k: "boom" for k in HYPS}
    result = score(REFS, hyps, metrics=[_Fragile(), "bleu1"], cache=str(tmp_path / "c.sqlite"))
    assert sorted(f.case_id for f in result.failures) == ["a", "b", "c"]
    assert np.isfinite(result.as_dict()["bleu1"])


@pytest.mark.java
@pytest.mark.skipif(shutil.which("java") is None, reason="METEOR needs Java")
def test_meteor_on_a_200000_word_report_fails_that_case_only() -> None:
    from radeval.metrics.meteor import Meteor

    huge = " ".join(["effusion"] * 200_000)
    refs = dict(REFS, huge="Small effusion.")
    hyps = dict(HYPS, huge=huge)
    with Meteor() as meteor:
        result = score(refs, hyps, metrics=[meteor, "bleu4"], cache=None)
        assert [(f.metric, f.case_id) for f in result.failures] == [("meteor", "huge")]
        assert "200000 words" in result.failures[0].reason and "max_words" in result.failures[0].reason
        alone = score(REFS, HYPS, metrics=[meteor], cache=None).as_dict()["meteor"]
        assert result.as_dict()["meteor"] == pytest.approx(alone)  # the JVM kept serving the other cases
    assert np.isfinite(result.as_dict()["bleu4"])
