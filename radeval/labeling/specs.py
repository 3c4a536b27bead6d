"""Typed settings of the report labelers and of the reference-label source of label F1.

A *labeler spec* is a small frozen dataclass holding one back end's options; it validates them when it is
made (naming the bad option) and builds the labeler on demand (:meth:`LabelerSpec.build`), so a bad setting
fails before any model loads. :class:`~radeval.metrics.label_f1.LabelF1` takes one spec for the labeler of the
hypothesis (and reference) reports and one *reference source*: the reference reports' text, labelled by the
same labeler (:class:`TextReference`), or a ground-truth labels CSV (:class:`GroundTruthReference`).

* :class:`RulesSpec` — the offline rule-based lexicon labeler (``"rules"``).
* :class:`TransformerSpec` — a transformers sequence-classification checkpoint (``"transformer"``; the RadBERT
  CT labeler by default).
* :class:`PooledClassifierSpec` — a state-dict file checkpoint (CT-CLIP's ``RadBertClassifier.pth``): encoder
  config/tokenizer from ``base_model``, head names ``checkpoint_labels``. It is the ``"transformer"`` back end
  with those two options, so its signatures are the transformer labeler's.

The flat ``key=value`` spelling of the CLI and suites (``--metric-option label_f1_macro.labeler=transformer``,
``...uncertain=ignore``) is converted at the edge by :func:`labeler_spec_from_options` and
:func:`reference_from_options`.

Example:
    >>> RulesSpec(uncertain="ignore", labels=("Emphysema", "Atelectasis")).build().signature
    'rules|unc:ignore|labels:custom2|v:0.1.0'
    >>> spec = labeler_spec_from_options({"labeler": "transformer", "threshold": 0.3})
    >>> type(spec).__name__, spec.model, spec.threshold, spec.batch_size
    ('TransformerSpec', 'IAMJB/RadBERT-CT', 0.3, 16)
    >>> RulesSpec(uncertain="maybe")
    Traceback (most recent call last):
    ...
    radeval.errors.InputError: rules labeler: uncertain='maybe': expected one of positive, negative, ignore
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from radeval.errors import InputError, UnknownNameError
from radeval.labeling.base import ReportLabeler
from radeval.labeling.rule_based import UNCERTAIN_MODES
from radeval.labeling.transformer import DEFAULT_MODEL


def _labels(value: str | Sequence[str], where: str) -> str | tuple[str, ...]:
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value)
    raise InputError(f"{where}: labels={value!r}: expected a label-set name or a list of label names")


def _flag(value: Any, name: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{where}: {name}={value!r}: expected true or false")
    return value


@dataclass(frozen=True)
class LabelerSpec:
    """Options every labeler takes.

    Attributes:
        labels: ``"ct-rate"`` (18 labels), ``"inspect"`` (21) or label names.
        progress: show the labeler's progress bar (does not change the numbers).
    """

    backend: ClassVar[str] = ""
    labels: str | tuple[str, ...] = "ct-rate"
    progress: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _labels(self.labels, self.where))
        _flag(self.progress, "progress", self.where)

    @property
    def where(self) -> str:
        """How error messages name this back end."""
        return f"{self.backend} labeler"

    def build(self) -> ReportLabeler:
        """The labeler these settings describe (loads nothing before its first use).

        Raises:
            UnknownNameError: an unknown label name.
            InputError: a setting the back end rejects.
        """
        from radeval.labeling import get_labeler

        return get_labeler(self.backend, **self.labeler_options())

    def labeler_options(self) -> dict[str, Any]:
        """Keyword options of the back end's labeler class."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class RulesSpec(LabelerSpec):
    """The rule-based lexicon labeler (:class:`~radeval.labeling.rule_based.RuleBasedLabeler`).

    Attributes:
        uncertain: uncertain findings count as ``"positive"`` (default), ``"negative"``, or are left out
            (``"ignore"``).

    Raises:
        InputError: a bad option value, naming it.
    """

    backend: ClassVar[str] = "rules"
    uncertain: str = "positive"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.uncertain not in UNCERTAIN_MODES:
            raise InputError(f"{self.where}: uncertain={self.uncertain!r}: expected one of "
                             f"{', '.join(UNCERTAIN_MODES)}")


@dataclass(frozen=True)
class TransformerSpec(LabelerSpec):
    """A transformers sequence-classification checkpoint (:class:`~radeval.labeling.transformer.TransformerLabeler`).

    Attributes:
        model: hub id (resolved offline) or local folder.
        threshold: one probability threshold in (0, 1], or the path of a per-label thresholds JSON (tuned
            thresholds: the ``label_f1_*_tuned`` metrics only).
        batch_size: reports per forward pass (>= 1).
        max_length: tokens per report before truncation (>= 1).
        device: torch device, e.g. ``"cpu"``.

    Raises:
        InputError: a bad option value, naming it.
    """

    backend: ClassVar[str] = "transformer"
    model: str = DEFAULT_MODEL
    threshold: float | str = 0.5
    batch_size: int = 16
    max_length: int = 512
    device: str = "cpu"

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.model, os.PathLike):
            object.__setattr__(self, "model", os.fspath(self.model))
        if not isinstance(self.model, str) or not self.model.strip():
            raise InputError(f"{self.where}: model={self.model!r}: expected a hub id or a local path")
        threshold = self.threshold
        if isinstance(threshold, os.PathLike):
            object.__setattr__(self, "threshold", os.fspath(threshold))
        elif isinstance(threshold, bool) or not isinstance(threshold, (int, float, str)):
            raise InputError(f"{self.where}: threshold={threshold!r}: expected a probability in (0, 1] or the "
                             f"path of a thresholds JSON")
        elif not isinstance(threshold, str):
            if not 0.0 < float(threshold) <= 1.0:
                raise InputError(f"{self.where}: threshold={threshold!r}: expected a probability in (0, 1]")
            object.__setattr__(self, "threshold", float(threshold))
        for name in ("batch_size", "max_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{self.where}: {name}={value!r}: expected a positive integer")
        if not isinstance(self.device, str) or not self.device:
            raise InputError(f"{self.where}: device={self.device!r}: expected a torch device name such as 'cpu'")

    @property
    def tuned(self) -> bool:
        """Whether the threshold is a per-label thresholds file (tuned thresholds)."""
        return isinstance(self.threshold, str)


@dataclass(frozen=True)
class PooledClassifierSpec(TransformerSpec):
    """A state-dict file checkpoint: an encoder plus a linear head on its pooled output.

    ``model`` is the ``.pth`` file (CT-CLIP's ``RadBertClassifier.pth``).

    Attributes:
        base_model: hub id or folder of the encoder's config and tokenizer (required).
        checkpoint_labels: the head's output names in order, or a label-set name (default: the CT-RATE 18 for an
            18-output head, the INSPECT 21 for a 21-output head).

    Raises:
        InputError: a bad option value, naming it.
    """

    base_model: str = ""
    checkpoint_labels: str | tuple[str, ...] | None = None

    @property
    def where(self) -> str:
        return "pooled-classifier (transformer) labeler"

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.base_model, os.PathLike):
            object.__setattr__(self, "base_model", os.fspath(self.base_model))
        if not isinstance(self.base_model, str) or not self.base_model.strip():
            raise InputError(f"{self.where}: base_model={self.base_model!r}: expected the hub id or folder of the "
                             f"encoder's config and tokenizer")
        names = self.checkpoint_labels
        if names is not None and not isinstance(names, str):
            if not isinstance(names, Sequence):
                raise InputError(f"{self.where}: checkpoint_labels={names!r}: expected label names")
            object.__setattr__(self, "checkpoint_labels", tuple(str(n) for n in names))

    def labeler_options(self) -> dict[str, Any]:
        out = super().labeler_options()
        if out["checkpoint_labels"] is None:
            del out["checkpoint_labels"]
        return out


@dataclass(frozen=True)
class TextReference:
    """Reference decisions come from labelling the reference reports with the hypothesis labeler (default)."""

    def build(self, labels: Sequence[str]) -> ReportLabeler | None:
        """``None``: no separate reference labeler."""
        return None


@dataclass(frozen=True)
class GroundTruthReference:
    """Reference decisions read from a ground-truth labels CSV, matched to the reference reports by text.

    Attributes:
        labels_csv: the labels CSV (one row per case, one 0/1 column per label).
        reports: the reports file of the same cases.
        id_field: case id column of both files.
        text_field: report text column of ``reports``.

    Raises:
        InputError: an empty path or field name, naming it.
    """

    labels_csv: str
    reports: str
    id_field: str = "VolumeName"
    text_field: str = "Findings_EN"

    def __post_init__(self) -> None:
        for name in ("labels_csv", "reports"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))
            elif not isinstance(value, str) or not value:
                raise InputError(f"ground-truth reference: {name}={value!r}: expected a file path")
        for name in ("id_field", "text_field"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InputError(f"ground-truth reference: {name}={getattr(self, name)!r}: expected a column name")

    def build(self, labels: Sequence[str]) -> ReportLabeler:
        """The ground-truth labeler for ``labels`` (reads both files now).

        Raises:
            InputError: unreadable files, reports without labels (listed).
        """
        from radeval.labeling import get_labeler

        return get_labeler("ground-truth", labels_csv=self.labels_csv, reports=self.reports, labels=list(labels),
                           id_field=self.id_field, text_field=self.text_field)


#: Where reference decisions come from.
ReferenceSource = TextReference | GroundTruthReference

#: Flat option names of each back end (besides ``labeler``), as the CLI and suites spell them.
_RULES_OPTIONS = frozenset({"labels", "uncertain", "progress"})
_TRANSFORMER_OPTIONS = frozenset({"labels", "progress", "model", "threshold", "batch_size", "max_length", "device",
                                  "base_model", "checkpoint_labels"})
#: Flat option names of the reference source.
REFERENCE_OPTIONS: tuple[str, ...] = ("ground_truth", "ground_truth_reports", "ground_truth_id_field",
                                      "ground_truth_text_field")


def labeler_spec_from_options(options: Mapping[str, Any], *, where: str = "label_f1",
                              default_backend: str = "rules") -> LabelerSpec:
    """The labeler spec of flat options (``labeler=transformer``, ``threshold=0.3`` ...); ``None`` values are unset.

    ``base_model``/``checkpoint_labels`` select :class:`PooledClassifierSpec`.

    Raises:
        UnknownNameError: an unknown back end (with close matches).
        InputError: an option of another back end, or a bad value (naming it).
    """
    given = {k: v for k, v in options.items() if v is not None}
    backend = given.pop("labeler", default_backend)
    if backend == "rules":
        unused = sorted(set(given) - _RULES_OPTIONS)
        if unused:
            raise InputError(f"{where}: option(s) {unused} apply to the transformer labeler, not 'rules'")
        return RulesSpec(**given)
    if backend == "transformer":
        if "uncertain" in given:
            raise InputError(f"{where}: option 'uncertain' applies to the rule-based labeler only")
        unknown = sorted(set(given) - _TRANSFORMER_OPTIONS)
        if unknown:
            raise InputError(f"{where}: unknown labeler option(s) {unknown}")
        if "base_model" in given or "checkpoint_labels" in given:
            return PooledClassifierSpec(**given)
        return TransformerSpec(**given)
    from radeval.labeling import BACKENDS, get_labeler

    if backend in BACKENDS:  # "ground-truth" labels references only
        raise InputError(f"{where}: labeler={backend!r} reads reference labels; pass ground_truth=<labels CSV> and "
                         f"ground_truth_reports=<reports file> instead")
    get_labeler(backend)  # raises the UnknownNameError with close matches
    raise UnknownNameError(f"unknown labeler back-end {backend!r}")  # pragma: no cover


def reference_from_options(options: Mapping[str, Any], *, where: str = "label_f1") -> ReferenceSource:
    """The reference source of the flat ``ground_truth*`` options (:data:`REFERENCE_OPTIONS`).

    Raises:
        InputError: ``ground_truth`` without ``ground_truth_reports`` or the reverse, or a bad value.
    """
    csv, reports = options.get("ground_truth"), options.get("ground_truth_reports")
    if csv is None and reports is None:
        return TextReference()
    if csv is None or reports is None:
        raise InputError(f"{where}: ground_truth and ground_truth_reports must be given together")
    extra = {k: options[f"ground_truth_{k}"] for k in ("id_field", "text_field")
             if options.get(f"ground_truth_{k}") is not None}
    return GroundTruthReference(labels_csv=csv, reports=reports, **extra)
