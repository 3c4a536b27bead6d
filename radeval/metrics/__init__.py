"""Metrics: per-sample sufficient statistics + a pure aggregate, each with a signature.

Built-in metrics are registered lazily (``"module:factory"``), so ``radeval score --help`` or
listing names imports no model code. Third parties register with
:func:`radeval.registry.register_metric` or the ``radeval.metrics`` entry-point group.

Example:
    >>> from radeval.metrics import get_metric
    >>> m = get_metric("bleu4")
    >>> m.name, m.higher_is_better
    ('bleu4', True)
"""

from __future__ import annotations

import re
from typing import Any

from radeval.errors import InputError
from radeval.metrics.base import MeanMetric, Metric, check_pairs, mean_statistics
from radeval.registry import metrics as _registry

#: name -> lazy factory. Lexical metrics need no weights; the rest are model-based.
BUILTIN_METRICS: dict[str, str] = {
    "bleu1": "radeval.metrics.bleu:bleu1",
    "bleu2": "radeval.metrics.bleu:bleu2",
    "bleu3": "radeval.metrics.bleu:bleu3",
    "bleu4": "radeval.metrics.bleu:bleu4",
    "avg_bleu": "radeval.metrics.bleu:avg_bleu",
    "bleu_sacre": "radeval.metrics.bleu_sacre:SacreBleu",
    "meteor": "radeval.metrics.meteor:Meteor",
    "rouge1": "radeval.metrics.rouge:rouge1",
    "rouge2": "radeval.metrics.rouge:rouge2",
    "rougeL": "radeval.metrics.rouge:rougeL",
    "avg_rouge12": "radeval.metrics.rouge:avg_rouge12",
    "rougeL_coco": "radeval.metrics.rouge_coco:CocoRougeL",
    "cider": "radeval.metrics.cider:CiderD",
    "bertscore": "radeval.metrics.bertscore:bertscore_radeval",
    "bertscore_roberta": "radeval.metrics.bertscore:bertscore_roberta",
    "bertscore_minilm": "radeval.metrics.bertscore:bertscore_minilm",
    "green": "radeval.metrics.green:Green",
    "radgraph_simple": "radeval.metrics.radgraph:radgraph_simple",
    "radgraph_partial": "radeval.metrics.radgraph:radgraph_partial",
    "radgraph_complete": "radeval.metrics.radgraph:radgraph_complete",
    "radgraph_er": "radeval.metrics.radgraph:radgraph_er",
    "ratescore": "radeval.metrics.ratescore:RaTEScore",
    "label_f1_macro": "radeval.metrics.label_f1:label_f1_macro",
    "label_f1_micro": "radeval.metrics.label_f1:label_f1_micro",
    "label_f1_macro_tuned": "radeval.metrics.label_f1:label_f1_macro_tuned",
    "label_f1_micro_tuned": "radeval.metrics.label_f1:label_f1_micro_tuned",
    "distinct_share": "radeval.metrics.output_diagnostics:DistinctShare",
    "empty_share": "radeval.metrics.output_diagnostics:EmptyShare",
    "loop_share": "radeval.metrics.output_diagnostics:LoopShare",
    "length_ratio": "radeval.metrics.output_diagnostics:LengthRatio",
}

#: What ``radeval score`` computes when no ``--metrics`` are given: everything lexical.
LEXICAL_METRICS: tuple[str, ...] = (
    "bleu1", "bleu2", "bleu3", "bleu4", "avg_bleu", "bleu_sacre", "meteor",
    "rouge1", "rouge2", "avg_rouge12", "rougeL", "rougeL_coco", "cider",
)
DEFAULT_METRICS = LEXICAL_METRICS

for _name, _target in BUILTIN_METRICS.items():
    _registry.register(_name, obj=_target)


def available_metrics() -> list[str]:
    """Names of every registered metric (built-in and plug-in)."""
    return _registry.names()


class MetricOptionError(InputError, TypeError):
    """An option a metric does not take, or a value it refuses; names the metric, the option and the valid ones.

    An :class:`InputError` (clean CLI message, exit 2) that is also a ``TypeError`` (what Python raises for
    an unexpected keyword argument), so code catching either keeps working.
    """


def metric_option_names(name: str) -> list[str]:
    """The keyword options the metric registered as ``name`` accepts (from its factory's signature).

    A factory that forwards ``**options`` to a class (``bleu4`` -> ``CocoBleu(4, **options)``) is followed to
    that class through its return annotation; parameters without a default (fixed by the factory) are left out.

    Example:
        >>> "tokenize" in metric_option_names("bleu_sacre")
        True
    """
    import inspect
    import typing

    factory = _registry.get(name)
    target: Any = factory
    sig = inspect.signature(factory)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        try:
            returned = typing.get_type_hints(factory).get("return")
        except Exception:  # unresolvable annotation: no more to learn
            returned = None
        if inspect.isclass(returned):
            target, sig = returned, inspect.signature(returned)
    del target
    return [p.name for p in sig.parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty]


def get_metric(name: str, **options: Any) -> Metric:
    """Build the metric registered as ``name`` with keyword ``options``.

    Raises:
        UnknownNameError: unknown name (with close matches).
        MetricOptionError: an option the metric does not take, or a value it refuses; the message names the
            metric, the option and the valid options.
    """
    factory = _registry.get(name)
    try:
        metric = factory(**options)
    except TypeError as exc:
        valid = ", ".join(metric_option_names(name)) or "none"
        unknown = re.search(r"unexpected keyword argument '([^']+)'", str(exc))
        if unknown:  # the usual case: a typo; say it plainly instead of Python's call-signature wording
            raise MetricOptionError(f"metric {name!r}: unknown option {unknown.group(1)!r}; "
                                    f"valid options: {valid}") from None
        raise MetricOptionError(f"metric {name!r}: {exc} (valid options: {valid})") from None
    return metric


__all__ = [
    "BUILTIN_METRICS", "DEFAULT_METRICS", "LEXICAL_METRICS", "MeanMetric", "Metric",
    "MetricOptionError", "available_metrics", "check_pairs", "get_metric", "metric_option_names",
    "mean_statistics",
]
