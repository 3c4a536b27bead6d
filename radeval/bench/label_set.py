"""A suite's ``dataset.label_set`` reaches every consumer: label-head width, V-3 prior width, label-F1 metrics.

Suite validation calls :func:`apply_label_set` once the systems and metrics are parsed. It checks that the label
set is known, that every prior-conditioned generator takes one prior per label (``n_logits``), and gives every
label-F1 metric the suite's labels unless it names its own (which must then be the same set). The embed step
fits its label head on the same labels (:mod:`radeval.bench.pipeline`), and the leaderboard notes the set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from radeval.data.labels import LABEL_SETS
from radeval.schema import Problems


def label_names(label_set: str) -> tuple[str, ...]:
    """The labels of a known set name (``ct-rate`` / ``inspect``); raises ``KeyError`` otherwise."""
    return LABEL_SETS[label_set.lower()]


def apply_label_set(problems: Problems, label_set: str, systems: Sequence[Any], metrics: Sequence[Any],
                    known_models: set[str]) -> tuple[Any, ...]:
    """Validate the label set against the systems and bind it to the label-F1 metrics.

    Args:
        problems: the suite parser's collector.
        label_set: ``dataset.label_set``.
        systems: the parsed ``SystemSpec`` s.
        metrics: the parsed ``MetricSpec`` s.
        known_models: registered generator names (unknown ones are reported elsewhere).

    Returns:
        the metrics, label-F1 ones with ``options["labels"]`` set to the suite's label set.
    """
    if label_set.lower() not in LABEL_SETS:
        problems.add("dataset.label_set", f"{label_set!r} is not one of {', '.join(LABEL_SETS)}")
        return tuple(metrics)
    names = label_names(label_set)
    models_with_priors = [s for s in systems if getattr(s, "model", None) in known_models]
    if models_with_priors:
        from radeval_models.generator import check_prior_width
        from radeval.registry import generators

        for s in models_with_priors:
            problem = check_prior_width(names, generators.get(s.model), dict(s.config))
            if problem:
                problems.add(f"systems ({s.name})", f"{s.model} {problem} (dataset.label_set: {label_set})")
    out = []
    for m in metrics:
        if m.name.startswith("label_f1"):
            given = m.options.get("labels")
            if given is None:
                m = replace(m, options={**m.options, "labels": label_set.lower()})
            elif (given.lower() if isinstance(given, str) else None) != label_set.lower() and \
                    tuple(LABEL_SETS.get(str(given).lower(), given)) != names:
                problems.add(f"metrics ({m.name})", f"options.labels {given!r} differs from dataset.label_set "
                                                    f"{label_set!r}")
        out.append(m)
    return tuple(out)
