"""Report labelers: report text -> decisions for the CT-RATE (18) or INSPECT (21) abnormality labels.

Two back-ends share the :class:`ReportLabeler` interface:

* ``"rules"`` (offline default): :class:`~radeval.labeling.rule_based.RuleBasedLabeler`, a
  documented synonym lexicon per label with sentence/clause splitting, negation and configurable
  uncertainty handling.
* ``"transformer"``: :class:`~radeval.labeling.transformer.TransformerLabeler`, a transformers
  sequence-classification checkpoint (the RadBERT CT labeler by hub id, or a local folder).

A third, ``"ground-truth"`` (:class:`~radeval.labeling.ground_truth.GroundTruthLabeler`), reads the
decisions of reference reports from a labels CSV instead of extracting them.

Example:
    >>> lab = get_labeler("rules")
    >>> table = lab.label({"c1": "No pleural effusion. Mild cardiomegaly.", "c2": ""})
    >>> dict(zip(table.labels, table.decisions[0]))["Cardiomegaly"], table.empty_ids
    (np.int8(1), ('c2',))
"""

from __future__ import annotations

import difflib
from typing import Any

from radeval.errors import UnknownNameError
from radeval.labeling.base import MASKED, NEGATIVE, POSITIVE, LabelTable, ReportLabeler, resolve_labels

#: Back-end name -> lazy ``"module:class"``.
BACKENDS: dict[str, str] = {
    "rules": "radeval.labeling.rule_based:RuleBasedLabeler",
    "transformer": "radeval.labeling.transformer:TransformerLabeler",
    "ground-truth": "radeval.labeling.ground_truth:GroundTruthLabeler",
}


def get_labeler(backend: str = "rules", **options: Any) -> ReportLabeler:
    """Build a labeler by back-end name with keyword options.

    Args:
        backend: ``"rules"``, ``"transformer"`` or ``"ground-truth"``.
        **options: the back-end's keyword arguments (``labels``, ``uncertain``; ``model``,
            ``threshold``, ``batch_size`` ...).

    Raises:
        UnknownNameError: an unknown back-end (with close matches).
        TypeError: an option the back-end does not take (naming the back-end).
    """
    if backend not in BACKENDS:
        close = difflib.get_close_matches(backend, list(BACKENDS), n=2)
        hint = f"; did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownNameError(f"unknown labeler back-end {backend!r}{hint} Available: {', '.join(BACKENDS)}")
    import importlib

    module_name, _, attr = BACKENDS[backend].partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    try:
        return cls(**options)
    except TypeError as exc:
        raise TypeError(f"labeler {backend!r}: {exc}") from None


__all__ = ["BACKENDS", "LabelTable", "MASKED", "NEGATIVE", "POSITIVE", "ReportLabeler", "get_labeler",
           "resolve_labels"]
