"""RadGraph-F1 rewards on annotations: the simple / partial / complete levels and entity/relation F1.

An *annotation* is what a RadGraph model returns for one report, in the schema of the ``radgraph``
package: ``{"text": str, "entities": {key: {"tokens", "label", "start_ix", "end_ix",
"relations": [[relation_type, target_key], ...]}}}``.

Reward levels (``radgraph`` 0.1.18, ``rewards.py``), each an F1 between two *sets* built per report:

* **simple** (RG_E): ``(tokens, label)`` of every entity;
* **partial** (RG_ER): ``(tokens, label)`` for an entity without relations, ``(tokens, label, True)``
  for an entity with at least one;
* **complete** (RG_bar_ER): ``(tokens, label)`` for an entity without relations, and for every
  relation of an entity that has some, ``(tokens, label, relation_type, target_tokens)``; the bare
  pair of an entity with relations is not added.

P = |H∩R|/|H|, R = |H∩R|/|R| (0 for an empty set), F1 = 2PR/(P+R) (0 when P+R = 0). If either
report has no entities, every level is 0.

Letter case: upstream 0.1.18 lowercases only the tokens inside the *complete* level's relation
tuples (``case="upstream"``, the default and what the package computes). ``case="lower"``
lowercases every token string, which is what the spec's synthetic vector (0.6, 0.6, 0.364) assumes.

The **entity/relation** variant (RadCliQ, ReXrank's "RadGraph" column, RadEval ``radgraph_radcliq``):
entity set ``{(tokens, label)}``, relation set ``{((src tokens, src label), (tgt tokens, tgt label),
relation_type)}`` (relations whose target key is missing are dropped), score
(entity F1 + relation F1) / 2, with F1 = 0 for two empty sets.

Example:
    >>> ann = {"entities": {"1": {"tokens": "effusion", "label": "OBS-DP", "relations": []}}}
    >>> graph_rewards(ann, ann)
    (1.0, 1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The accepted values of the ``case`` option.
CASE_MODES = ("upstream", "lower")

Annotation = Mapping[str, Any]


def _check_case(case: str) -> None:
    if case not in CASE_MODES:
        raise ValueError(f"case must be one of {CASE_MODES}, got {case!r}")


def _entities(annotation: Annotation) -> Mapping[str, Mapping[str, Any]]:
    entities = annotation.get("entities")
    if not isinstance(entities, Mapping):
        raise ValueError("a RadGraph annotation needs an 'entities' mapping")
    return entities


def set_f1(hyp: set, ref: set) -> float:
    """F1 between a hypothesis set and a reference set, with upstream's zero conventions.

    Example:
        >>> set_f1({1, 2}, {2, 3})
        0.5
        >>> set_f1(set(), set())
        0.0
    """
    common = len(hyp & ref)
    precision = common / len(hyp) if hyp else 0.0
    recall = common / len(ref) if ref else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def simple_set(annotation: Annotation, *, case: str = "upstream") -> set:
    """The simple level's set: ``(tokens, label)`` of every entity."""
    _check_case(case)
    low = case == "lower"
    return {(e["tokens"].lower() if low else e["tokens"], e["label"]) for e in _entities(annotation).values()}


def partial_set(annotation: Annotation, *, case: str = "upstream") -> set:
    """The partial level's set: ``(tokens, label)`` or ``(tokens, label, True)`` if it has relations."""
    _check_case(case)
    low = case == "lower"
    out: set = set()
    for e in _entities(annotation).values():
        tokens = e["tokens"].lower() if low else e["tokens"]
        out.add((tokens, e["label"], True) if e["relations"] else (tokens, e["label"]))
    return out


def complete_set(annotation: Annotation, *, case: str = "upstream") -> set:
    """The complete level's set: bare pairs of relation-less entities plus one tuple per relation.

    Raises:
        KeyError: a relation names a target key that is not an entity (upstream fails the same way).
    """
    _check_case(case)
    low = case == "lower"
    entities = _entities(annotation)
    out: set = set()
    for e in entities.values():
        if not e["relations"]:
            out.add((e["tokens"].lower() if low else e["tokens"], e["label"]))
            continue
        for rel_type, target in e["relations"]:
            out.add((e["tokens"].lower(), e["label"], rel_type, entities[target]["tokens"].lower()))
    return out


def graph_rewards(hyp: Annotation, ref: Annotation, *, case: str = "upstream") -> tuple[float, float, float]:
    """``(simple, partial, complete)`` RadGraph-F1 of one hypothesis annotation against its reference.

    Args:
        hyp: the hypothesis report's annotation.
        ref: the reference report's annotation.
        case: ``"upstream"`` (radgraph 0.1.18) or ``"lower"`` (every token string lowercased).

    Returns:
        three F1 values; all 0 if either side has no entities.
    """
    _check_case(case)
    if not _entities(hyp) or not _entities(ref):
        return 0.0, 0.0, 0.0
    return (
        set_f1(simple_set(hyp, case=case), simple_set(ref, case=case)),
        set_f1(partial_set(hyp, case=case), partial_set(ref, case=case)),
        set_f1(complete_set(hyp, case=case), complete_set(ref, case=case)),
    )


def entity_set(annotation: Annotation) -> set:
    """RadCliQ's entity set ``{(tokens, label)}``."""
    return {(e["tokens"], e["label"]) for e in _entities(annotation).values()}


def relation_set(annotation: Annotation) -> set:
    """RadCliQ's relation set ``{((src tokens, src label), (tgt tokens, tgt label), type)}``."""
    entities = _entities(annotation)
    out: set = set()
    for e in entities.values():
        src = (e["tokens"], e["label"])
        for rel_type, target in e.get("relations", []):
            tgt = entities.get(target)
            if tgt:
                out.add((src, (tgt["tokens"], tgt["label"]), rel_type))
    return out


def entity_relation_f1(hyp: Annotation, ref: Annotation) -> tuple[float, float]:
    """``(entity F1, relation F1)`` as RadCliQ computes them (two empty sets give 0).

    Example:
        >>> a = {"entities": {"1": {"tokens": "lobe", "label": "ANAT-DP", "relations": []}}}
        >>> entity_relation_f1(a, a)
        (1.0, 0.0)
    """
    return set_f1(entity_set(hyp), entity_set(ref)), set_f1(relation_set(hyp), relation_set(ref))
