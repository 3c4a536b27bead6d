"""Read a benchmark suite's reference and prediction files for a reader study.

Only these keys of the suite YAML are read (paths are relative to the YAML file's folder):

* ``references`` or ``reference`` (top level), or ``dataset.references`` / ``dataset.reference`` —
  the reference report file (JSONL / CSV / ReXrank JSON, as :func:`radeval.io.read_cases`).
* ``systems`` — either a mapping ``name: path`` / ``name: {predictions: path}``, or a list of
  ``{name: ..., predictions: path}``. A system without a prediction file (a registry model that has
  not generated yet) is an error naming it.
* ``baseline`` (optional) — the comparison system.
* ``reader_study`` (optional mapping) — defaults for the export: ``n``, ``readers``, ``seed``,
  ``stratify_by``, ``show_reference``, ``formats``, ``rubric`` (a YAML path), ``out``, ``key``.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "refs.jsonl").write_text('{"id": "a", "text": "Normal."}\\n')
    >>> _ = (d / "sys.jsonl").write_text('{"id": "a", "text": "Normal."}\\n')
    >>> _ = (d / "s.yaml").write_text("references: refs.jsonl\\nsystems:\\n  base: sys.jsonl\\n")
    >>> inputs = read_suite_inputs(d / "s.yaml")
    >>> [c.id for c in inputs.references], list(inputs.systems)
    (['a'], ['base'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radeval.errors import InputError
from radeval.io import read_cases, read_reports
from radeval.types import Case, Predictions

#: Keys of the ``reader_study`` section that :func:`read_suite_inputs` passes on.
READER_STUDY_KEYS = ("n", "readers", "seed", "stratify_by", "show_reference", "formats", "rubric", "out", "key")


@dataclass(frozen=True)
class SuiteInputs:
    """What a reader-study export needs from a suite."""

    references: list[Case]
    systems: dict[str, Predictions]
    baseline: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def _path(base: Path, value: Any, where: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: expected a file path, got {value!r}")
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def read_suite_inputs(path: str | Path) -> SuiteInputs:
    """Read references, prediction files and reader-study settings from a suite YAML.

    Raises:
        InputError: unreadable YAML, a missing key or file, a system without predictions (named).
    """
    import yaml

    p = Path(path)
    try:
        suite = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: suite file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: invalid YAML ({exc})") from None
    if not isinstance(suite, Mapping):
        raise InputError(f"{p}: a suite must be a mapping")
    base = p.parent
    dataset = suite.get("dataset") if isinstance(suite.get("dataset"), Mapping) else {}
    ref_value = suite.get("references", suite.get("reference", dataset.get("references", dataset.get("reference"))))
    if ref_value is None:
        raise InputError(f"{p}: no 'references' (or 'dataset: references') file")
    references = read_cases(_path(base, ref_value, f"{p}: references"))
    raw = suite.get("systems")
    entries: list[tuple[str, Any]]
    if isinstance(raw, Mapping):
        entries = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        entries = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, Mapping) or "name" not in entry:
                raise InputError(f"{p}: systems[{i}] needs a 'name'")
            entries.append((str(entry["name"]), entry))
    else:
        raise InputError(f"{p}: 'systems' must be a mapping or a list")
    systems: dict[str, Predictions] = {}
    for name, spec in entries:
        value = spec.get("predictions", spec.get("file")) if isinstance(spec, Mapping) else spec
        if value is None:
            raise InputError(f"{p}: system {name!r} has no prediction file ('predictions:'); generate its "
                             "reports first (radeval generate) and point the suite at them")
        systems[name] = read_reports(_path(base, value, f"{p}: system {name!r}"), name=name)
    settings = dict(suite.get("reader_study") or {})
    unknown = sorted(set(settings) - set(READER_STUDY_KEYS))
    if unknown:
        raise InputError(f"{p}: reader_study: unknown key(s) {', '.join(unknown)}; "
                         f"known: {', '.join(READER_STUDY_KEYS)}")
    for key in ("rubric", "out", "key"):
        if key in settings:
            settings[key] = _path(base, settings[key], f"{p}: reader_study.{key}")
    baseline = suite.get("baseline")
    return SuiteInputs(references=references, systems=systems, baseline=None if baseline is None else str(baseline),
                       settings=settings)
