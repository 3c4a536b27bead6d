"""The ``reader_study`` section of a suite, and the inputs of ``radeval reader-study export --suite``.

:class:`ReaderStudySpec` is the one schema of the section: ``radeval bench`` (which writes the packet beside
the leaderboard) and ``radeval reader-study export --suite`` both read it. Keys:

* ``n``, ``readers`` (a number, or a list of reader ids), ``seed`` — the case sample and the readers;
* ``systems`` — the systems shown (default: all), ``baseline`` comes from the suite;
* ``stratify_by`` — label/metadata field(s) the case sample is stratified by;
* ``show_reference``, ``formats`` (``html``, ``xlsx``, ``redcap``), ``rubric`` (a YAML file);
* ``out``, ``key`` — packet folder and key file of ``reader-study export`` (``radeval bench`` always writes
  to ``<output_dir>/reader_study/``, so it rejects them rather than ignore them).

:func:`read_suite_inputs` reads a light suite made of prediction files only (paths relative to the YAML's
folder):

* ``references`` or ``reference`` (top level), or ``dataset.references`` / ``dataset.reference``;
* ``systems`` — a mapping ``name: path`` / ``name: {predictions: path}``, or a list of
  ``{name: ..., predictions: path}``;
* ``baseline`` (optional) and ``reader_study`` (the section above).

A full benchmark suite (with ``dataset: {kind: ...}`` and registry-model systems) is read through
:func:`radeval.bench.reader.export_inputs`, which takes the systems' reports from the benchmark's cached stages.

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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from radeval.errors import InputError
from radeval.io import read_cases, read_reports
from radeval.schema import Context, FilePath, Flag, Integer, Names, Problems, key, parse_section, section_keys
from radeval.types import Case, Predictions

#: Packet formats (the same as :data:`radeval_reader_study.export.FORMATS`, kept import-light here).
FORMATS: tuple[str, ...] = ("html", "xlsx", "redcap")


def _readers(problems: Problems, where: str, value: Any, context: Context) -> Any:
    """A number of readers (>= 1) or a list of reader ids (``"a,b"`` is two ids)."""
    from radeval.schema import INVALID

    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            problems.add(where, f"{value!r} must be >= 1")
            return INVALID
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return _readers(problems, where, int(value), context)
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if isinstance(value, (list, tuple)) and value and all(str(v).strip() for v in value):
        return tuple(str(v).strip() for v in value)
    problems.add(where, f"expected a number of readers or a list of reader ids, got {value!r}")
    return INVALID


@dataclass(frozen=True)
class ReaderStudySpec:
    """The ``reader_study`` section (see the module docstring for each key).

    Attributes:
        n: cases sampled.
        readers: number of readers, or their ids.
        seed: seed of the case sample.
        systems: systems shown (``None``: all).
        show_reference: show the reference report beside each candidate.
        formats: packet formats.
        stratify_by: field(s) the sample is stratified by (``None``: a simple random sample).
        rubric: a rubric YAML (``None``: the default rubric).
        out / key: packet folder and key file of ``reader-study export``.
    """

    n: int = key(100, Integer(low=1))
    readers: int | tuple[str, ...] = key(2, _readers)
    seed: int = key(0, Integer())
    systems: tuple[str, ...] | None = key(None, Names())
    show_reference: bool = key(True, Flag())
    formats: tuple[str, ...] = key(FORMATS, Names(FORMATS))
    stratify_by: tuple[str, ...] | None = key(None, Names())
    rubric: Path | None = key(None, FilePath("file"))
    out: Path | None = key(None, FilePath())
    key: Path | None = key(None, FilePath())

    @classmethod
    def from_section(cls, raw: Any, problems: Problems, context: Context,
                     where: str = "reader_study") -> ReaderStudySpec:
        """Parse the section; every problem goes to ``problems`` with its YAML path.

        Example:
            >>> p = Problems("s.yaml")
            >>> ReaderStudySpec.from_section({"n": 12, "readers": "r1,r2", "formats": "html"}, p,
            ...                              Context(Path("."))).readers
            ('r1', 'r2')
        """
        return cls(**parse_section(cls, raw, problems, where, context))

    def given(self) -> dict[str, Any]:
        """The settings that differ from the defaults, by key."""
        default = ReaderStudySpec()
        return {k: v for k, v in asdict(self).items() if v != getattr(default, k)}


#: Keys of the ``reader_study`` section.
READER_STUDY_KEYS: tuple[str, ...] = tuple(section_keys(ReaderStudySpec))


@dataclass(frozen=True)
class SuiteInputs:
    """What a reader-study export needs from a suite.

    Attributes:
        references: the evaluation cases (their metadata holds label fields for stratification).
        systems: the systems' reports, by name.
        baseline: the suite's baseline (``None``: none given).
        spec: the suite's ``reader_study`` section.
    """

    references: list[Case]
    systems: dict[str, Predictions]
    baseline: str | None = None
    spec: ReaderStudySpec = field(default_factory=ReaderStudySpec)

    @property
    def settings(self) -> dict[str, Any]:
        """The ``reader_study`` keys the suite sets (values parsed), for the CLI to merge with its options."""
        return self.spec.given()


def _path(base: Path, value: Any, where: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: expected a file path, got {value!r}")
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """A suite YAML file as a mapping.

    Raises:
        InputError: missing file, invalid YAML (with its line) or not a mapping.
    """
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: suite file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{p}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, Mapping):
        raise InputError(f"{p}: a suite must be a mapping")
    return dict(data)


def read_suite_inputs(path: str | Path) -> SuiteInputs:
    """Read references, prediction files and the reader-study section from a light suite YAML.

    Raises:
        InputError: unreadable YAML, a missing key or file, a system without predictions (named), or
            problems in the ``reader_study`` section (all of them, each with its YAML path).
    """
    p = Path(path)
    suite = load_yaml_mapping(p)
    base = p.parent
    problems = Problems(str(p))
    spec = ReaderStudySpec.from_section(suite.get("reader_study"), problems, Context(base))
    problems.raise_if_any()
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
    shown = set(spec.systems) if spec.systems else None
    systems: dict[str, Predictions] = {}
    for name, entry in entries:
        if shown is not None and name not in shown:
            continue
        value = entry.get("predictions", entry.get("file")) if isinstance(entry, Mapping) else entry
        if value is None:
            raise InputError(f"{p}: system {name!r} has no prediction file ('predictions:'); generate its "
                             "reports first (radeval generate) and point the suite at them")
        systems[name] = read_reports(_path(base, value, f"{p}: system {name!r}"), name=name)
    missing = sorted((shown or set()) - set(systems))
    if missing:
        raise InputError(f"{p}: reader_study.systems: {missing} are not among the systems")
    baseline = suite.get("baseline")
    return SuiteInputs(references=references, systems=systems, baseline=None if baseline is None else str(baseline),
                       spec=spec)


def is_benchmark_suite(data: Mapping[str, Any]) -> bool:
    """Whether a suite mapping is a full ``radeval bench`` suite (a ``dataset`` with a ``kind``)."""
    return isinstance(data.get("dataset"), Mapping) and "kind" in data["dataset"]


__all__ = ["FORMATS", "READER_STUDY_KEYS", "ReaderStudySpec", "SuiteInputs", "is_benchmark_suite",
           "load_yaml_mapping", "read_suite_inputs"]
