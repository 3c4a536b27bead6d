"""The rating rubric as data: criteria (with sub-items) and the ordinal scale, overridable by YAML.

The default follows the RAD3D-Prefix paper's reader study (supplementary material): a double-blind study in
which two clinicians rate anonymised reports of the compared systems on two criteria, each on a five-point
scale whose points are named Very Poor, Poor, Acceptable, Good and Excellent.

* **Clinical accuracy** — what the paper asks readers to weigh: whether findings are correctly called
  present or absent, whether findings are invented (false positives), whether the errors would matter for
  diagnosis or management, and whether findings sit at the right anatomical site.
* **Technical & linguistic quality** — repetition or redundancy, sentences left incomplete or cut off,
  and stray symbols or generation artifacts (the paper's examples: "#", "?", "Question").

The sub-item wording below is ours; the criteria, their sub-items and the scale are the paper's.

A YAML override has the shape::

    scale:            # ordered integer points with labels (at least two, consecutive)
      1: Very Poor
      2: Poor
      3: Acceptable
      4: Good
      5: Excellent
    criteria:
      - id: clinical_accuracy          # lower-case identifier, <= 26 characters (a REDCap field name)
        name: Clinical accuracy
        description: ...
        items: [..., ...]

Either key may be omitted; the default is kept for it.

Example:
    >>> r = default_rubric()
    >>> [c.id for c in r.criteria], r.minimum, r.maximum
    (['clinical_accuracy', 'technical_quality'], 1, 5)
    >>> r.label(5)
    'Excellent'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radeval.errors import InputError

#: A criterion id doubles as a CSV column and a REDCap variable name.
CRITERION_ID = re.compile(r"^[a-z][a-z0-9_]{0,25}$")

#: Field names the rating files use themselves; a criterion may not take them.
RESERVED_IDS = frozenset({"item_id", "reader", "packet_sha256", "comment", "saved_at", "record_id",
                          "case_number", "reference_report", "generated_report", "criterion", "score"})


@dataclass(frozen=True)
class Criterion:
    """One rated dimension.

    Attributes:
        id: machine name (column / REDCap variable).
        name: the heading shown to readers.
        description: one sentence shown under the heading.
        items: the sub-items a reader should consider.
    """

    id: str
    name: str
    description: str = ""
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rubric:
    """Criteria plus the ordinal scale ``(value, label)`` shared by every criterion."""

    criteria: tuple[Criterion, ...]
    scale: tuple[tuple[int, str], ...]

    def __post_init__(self) -> None:
        _check(self)

    @property
    def minimum(self) -> int:
        """Lowest scale value."""
        return self.scale[0][0]

    @property
    def maximum(self) -> int:
        """Highest scale value."""
        return self.scale[-1][0]

    @property
    def values(self) -> tuple[int, ...]:
        """Every scale value, ascending."""
        return tuple(v for v, _ in self.scale)

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        """The criteria's ids in rubric order."""
        return tuple(c.id for c in self.criteria)

    def label(self, value: int) -> str:
        """The label of one scale value."""
        for v, lab in self.scale:
            if v == value:
                return lab
        raise InputError(f"{value!r} is not on the scale {self.minimum}-{self.maximum}")

    def criterion(self, criterion_id: str) -> Criterion:
        """Look a criterion up by id."""
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise InputError(f"unknown criterion {criterion_id!r}; rubric has {', '.join(self.criterion_ids)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON/YAML), the inverse of :func:`rubric_from_dict`."""
        return {
            "scale": {str(v): lab for v, lab in self.scale},
            "criteria": [{"id": c.id, "name": c.name, "description": c.description, "items": list(c.items)}
                         for c in self.criteria],
        }


def _check(rubric: Rubric) -> None:
    if not rubric.criteria:
        raise InputError("rubric: at least one criterion is required")
    seen: set[str] = set()
    for c in rubric.criteria:
        if not CRITERION_ID.match(c.id):
            raise InputError(f"rubric: criterion id {c.id!r} must match {CRITERION_ID.pattern} "
                             "(lower-case letters, digits, underscores; it becomes a column name)")
        if c.id in RESERVED_IDS:
            raise InputError(f"rubric: criterion id {c.id!r} is reserved for a rating-file field")
        if c.id in seen:
            raise InputError(f"rubric: duplicate criterion id {c.id!r}")
        if not c.name.strip():
            raise InputError(f"rubric: criterion {c.id!r} has an empty name")
        seen.add(c.id)
    values = [v for v, _ in rubric.scale]
    if len(values) < 2:
        raise InputError("rubric: the scale needs at least two points")
    if values != list(range(values[0], values[0] + len(values))):
        raise InputError(f"rubric: scale values must be consecutive ascending integers, got {values}")


DEFAULT_SCALE: tuple[tuple[int, str], ...] = (
    (1, "Very Poor"), (2, "Poor"), (3, "Acceptable"), (4, "Good"), (5, "Excellent"),
)

DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="clinical_accuracy",
        name="Clinical accuracy",
        description="How faithfully does the report describe what this scan shows?",
        items=(
            "Each finding is called present or absent as the scan (reference) shows it",
            "Nothing is reported that is not there (no invented, false-positive findings)",
            "How much any error would change the diagnosis or the patient's management",
            "Findings are placed at the right anatomical site",
        ),
    ),
    Criterion(
        id="technical_quality",
        name="Technical & linguistic quality",
        description="How well is the report written, whatever its clinical content?",
        items=(
            "Nothing is said twice or padded with redundant text",
            "Every sentence is complete; none is cut off",
            "No stray symbols or generation artifacts (for example '#', '?' or 'Question')",
        ),
    ),
)


def default_rubric() -> Rubric:
    """The paper's two-criterion, 1–5 rubric."""
    return Rubric(criteria=DEFAULT_CRITERIA, scale=DEFAULT_SCALE)


def _parse_scale(raw: Any, where: str) -> tuple[tuple[int, str], ...]:
    pairs: list[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        pairs = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, Mapping) or "value" not in entry or "label" not in entry:
                raise InputError(f"{where}: scale[{i}] must be a mapping with 'value' and 'label'")
            pairs.append((entry["value"], entry["label"]))
    else:
        raise InputError(f"{where}: 'scale' must map values to labels")
    out = []
    for value, label in pairs:
        try:
            number = int(str(value))
        except ValueError:
            raise InputError(f"{where}: scale value {value!r} is not an integer") from None
        out.append((number, str(label)))
    return tuple(sorted(out))


def rubric_from_dict(data: Mapping[str, Any], *, where: str = "rubric") -> Rubric:
    """Build a rubric from plain data; missing ``scale``/``criteria`` keep the defaults.

    Raises:
        InputError: naming the offending key or criterion.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a mapping with 'scale' and/or 'criteria'")
    unknown = sorted(set(data) - {"scale", "criteria"})
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; expected 'scale', 'criteria'")
    scale = _parse_scale(data["scale"], where) if "scale" in data else DEFAULT_SCALE
    criteria = DEFAULT_CRITERIA
    if "criteria" in data:
        raw = data["criteria"]
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise InputError(f"{where}: 'criteria' must be a list")
        built = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, Mapping) or "id" not in entry:
                raise InputError(f"{where}: criteria[{i}] must be a mapping with at least an 'id'")
            items = entry.get("items") or ()
            if isinstance(items, str) or not isinstance(items, Sequence):
                raise InputError(f"{where}: criteria[{i}] ({entry['id']!r}): 'items' must be a list of strings")
            built.append(Criterion(id=str(entry["id"]), name=str(entry.get("name") or entry["id"]),
                                   description=str(entry.get("description") or ""),
                                   items=tuple(str(x) for x in items)))
        criteria = tuple(built)
    return Rubric(criteria=criteria, scale=scale)


def load_rubric(path: str | Path | None = None) -> Rubric:
    """The default rubric, or the one in a YAML file (see the module docstring for its shape).

    Raises:
        InputError: unreadable file, invalid YAML or an invalid rubric (naming the file).
    """
    if path is None:
        return default_rubric()
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: rubric file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: invalid YAML ({exc})") from None
    return rubric_from_dict(data or {}, where=str(p))
