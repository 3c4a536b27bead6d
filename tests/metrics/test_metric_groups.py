"""Every built-in metric names the leaderboard group it is shown under."""

from __future__ import annotations

import importlib

import pytest

from radeval.metrics import BUILTIN_METRICS
from radeval.metrics.base import METRIC_GROUPS, Metric

EXPECTED = {"bleu": "lexical", "meteor": "lexical", "rouge": "lexical", "cider": "lexical",
            "bertscore": "semantic", "green": "clinical", "radgraph": "clinical", "ratescore": "clinical",
            "label_f1": "clinical", "avg_bleu": "lexical", "avg_rouge": "lexical", "distinct_share": "diagnostics",
            "empty_share": "diagnostics", "loop_share": "diagnostics", "length_ratio": "diagnostics"}


@pytest.mark.parametrize("name", sorted(BUILTIN_METRICS))
def test_builtin_metric_group(name):
    module = BUILTIN_METRICS[name].split(":")[0]
    mod = importlib.import_module(module)
    classes = [v for v in vars(mod).values()
               if isinstance(v, type) and issubclass(v, Metric) and v.__module__ == module and "group" in vars(v)]
    assert classes, f"{module} defines no Metric subclass with its own group"
    family = next(k for k in sorted(EXPECTED, key=len, reverse=True) if name.startswith(k))
    for cls in classes:
        assert cls.group in METRIC_GROUPS
        assert cls.group == EXPECTED[family], (name, cls.__name__, cls.group)

def test_default_group_is_other():
    assert Metric.group == "other" and "other" in METRIC_GROUPS
