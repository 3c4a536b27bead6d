"""Building blocks of the suite schema: a problem collector and typed keys of a section.

Every section of a suite YAML (``dataset``, ``embed``, ``systems``, ``metrics``, ``significance``,
``reader_study``, ``scaling``, ``literature``) is parsed by the module that uses it. Each one reads its part of
the YAML into a frozen dataclass and adds what is wrong to one shared :class:`Problems`, tagging each problem with
its YAML path (``systems[2].train.lr``). So a suite with five mistakes reports all five in one error, before
anything is embedded, trained or scored.

A section dataclass declares its keys as fields made with :func:`key`, each with a parser (:class:`Integer`,
:class:`Number`, :class:`Text`, :class:`Choice`, :class:`FilePath`, :class:`Names`, :class:`Flag`,
:class:`Table`, :class:`IntTriple`). :func:`parse_section` rejects keys that are not fields (naming the closest
one), runs each parser and returns the keyword arguments of the dataclass. Adding a key to a section is
therefore one new field. Checks that involve several keys stay in the section's own ``from_section``.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Embed:
    ...     batch_size: int = key(4, Integer(low=1))
    >>> p = Problems("s.yaml")
    >>> parse_section(Embed, {"batch_size": 0, "batch_sise": 2}, p, "embed", Context(Path(".")))
    {}
    >>> print(*p.items, sep="\\n")
    embed: unknown key 'batch_sise' (did you mean 'batch_size'?); allowed: batch_size
    embed.batch_size: 0 must be >= 1
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radeval.errors import InputError

#: What a parser returns for a value it rejected (the problem is already recorded).
INVALID: Any = object()


class Problems:
    """Every problem of one suite file, each as ``"<yaml path>: <message>"``.

    Args:
        source: the file (or other name) shown in front of the error.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, where: str, message: str) -> None:
        """Record ``message`` at the YAML path ``where`` (``"top level"`` for the file itself); repeats are kept once."""
        item = f"{where}: {message}"
        if item not in self.items:
            self.items.append(item)

    def unknown_keys(self, where: str, given: Mapping[str, Any], allowed: Iterable[str]) -> None:
        """Record every key of ``given`` that is not in ``allowed``, with the closest allowed key."""
        names = sorted(allowed)
        for name in given:
            if name not in names:
                close = difflib.get_close_matches(str(name), names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.add(where, f"unknown key {name!r}{hint}; allowed: {', '.join(names)}")

    def raise_if_any(self) -> None:
        """Raise one error listing every problem.

        Raises:
            InputError: when any problem was recorded.
        """
        if self.items:
            lines = "\n  - ".join(self.items)
            raise InputError(f"{self.source}: {len(self.items)} problem(s) in the suite:\n  - {lines}")


@dataclass(frozen=True)
class Context:
    """What parsers need besides the value: the folder relative paths are resolved against."""

    base_dir: Path
    check_files: bool = True

    def resolve(self, value: Any) -> Path:
        """``value`` as a path; relative ones are taken from :attr:`base_dir`."""
        path = Path(str(value)).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def section_mapping(problems: Problems, where: str, raw: Any) -> dict[str, Any]:
    """``raw`` as a dict (``None`` is an empty section); anything else is a problem."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add(where, f"expected a mapping, got {type(raw).__name__}")
        return {}
    return dict(raw)


def typed_number(problems: Problems, where: str, value: Any, kind: type = int, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False, high_open: bool = False) -> Any:
    """``value`` as ``kind`` (``int`` or ``float``) within the bounds, or ``None`` after recording why not."""
    wanted = "an integer" if kind is int else "a number"
    if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
        problems.add(where, f"expected {wanted}, got {value!r}")
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        problems.add(where, f"expected {wanted}, got {value!r}")
        return None
    if low is not None and (number <= low if low_open else number < low):
        problems.add(where, f"{value!r} must be {'>' if low_open else '>='} {low}")
        return None
    if high is not None and (number >= high if high_open else number > high):
        problems.add(where, f"{value!r} must be {'<' if high_open else '<='} {high}")
        return None
    return number


# -- parsers of single keys -------------------------------------------------------------------------
@dataclass(frozen=True)
class Integer:
    """An integer, optionally with a lower bound."""

    low: int | None = None

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        number = typed_number(problems, where, value, int, low=self.low)
        return INVALID if number is None else number


@dataclass(frozen=True)
class Number:
    """A float, optionally within (open) bounds."""

    low: float | None = None
    high: float | None = None
    open_bounds: bool = False

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        number = typed_number(problems, where, value, float, low=self.low, high=self.high,
                              low_open=self.open_bounds, high_open=self.open_bounds)
        return INVALID if number is None else number


@dataclass(frozen=True)
class Text:
    """A string (YAML scalars such as ``2024`` are taken as their text)."""

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        if isinstance(value, (Mapping, list, tuple, bool)):
            problems.add(where, f"expected text, got {value!r}")
            return INVALID
        return str(value)


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of strings."""

    options: tuple[str, ...]

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        if value not in self.options:
            problems.add(where, f"{value!r} is not one of {', '.join(self.options)}")
            return INVALID
        return str(value)


@dataclass(frozen=True)
class FilePath:
    """A path, resolved against the suite's folder; ``must_exist`` is ``"file"``, ``"dir"``, ``"any"`` or ``""``."""

    must_exist: str = ""

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        if not isinstance(value, str) or not value.strip():
            problems.add(where, f"expected a path, got {value!r}")
            return INVALID
        path = context.resolve(value)
        if context.check_files and self.must_exist:
            found = {"file": path.is_file, "dir": path.is_dir, "any": path.exists}[self.must_exist]()
            if not found:
                kind = {"file": "file", "dir": "folder", "any": "path"}[self.must_exist]
                problems.add(where, f"{kind} not found: {path}")
                return INVALID
        return path


@dataclass(frozen=True)
class Names:
    """A list of strings (a single string is one item, not its characters), optionally from a fixed set."""

    options: tuple[str, ...] | None = None

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            problems.add(where, f"expected a list, got {type(value).__name__}")
            return INVALID
        names = tuple(str(v) for v in value)
        bad = [n for n in names if self.options is not None and n not in self.options]
        for name in bad:
            problems.add(where, f"{name!r} is not one of {', '.join(self.options or ())}")
        return INVALID if bad else names


@dataclass(frozen=True)
class Flag:
    """``true`` or ``false``."""

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        if not isinstance(value, bool):
            problems.add(where, f"expected true or false, got {value!r}")
            return INVALID
        return value


@dataclass(frozen=True)
class Table:
    """A mapping of free-form settings (checked by whoever owns them)."""

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        if not isinstance(value, Mapping):
            problems.add(where, f"expected a mapping, got {type(value).__name__}")
            return INVALID
        return dict(value)


@dataclass(frozen=True)
class IntTriple:
    """Three positive integers, e.g. a volume shape ``[D, H, W]``."""

    def __call__(self, problems: Problems, where: str, value: Any, context: Context) -> Any:
        if not (isinstance(value, (list, tuple)) and len(value) == 3):
            problems.add(where, f"expected three integers [D, H, W], got {value!r}")
            return INVALID
        numbers = [typed_number(problems, where, v, int, low=1) for v in value]
        return INVALID if any(n is None for n in numbers) else tuple(numbers)


def key(default: Any, parse: Any, *, default_factory: Any = None) -> Any:
    """A dataclass field that is also a YAML key of its section, read with ``parse``."""
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata={"parse": parse})
    return dataclasses.field(default=default, metadata={"parse": parse})


def section_keys(cls: type) -> list[str]:
    """The YAML keys of a section dataclass (its fields made with :func:`key`)."""
    return [f.name for f in dataclasses.fields(cls) if "parse" in f.metadata]


def parse_section(cls: type, raw: Any, problems: Problems, where: str, context: Context) -> dict[str, Any]:
    """Keyword arguments of ``cls`` from the YAML mapping ``raw``; problems go to ``problems``.

    A key given as ``null`` keeps its default. Keys that are not fields of ``cls`` and values a parser rejects
    are recorded (and left out of the result).

    Args:
        cls: a section dataclass whose keys were declared with :func:`key`.
        raw: the section as the YAML holds it.
        problems: the collector of the whole suite.
        where: the section's YAML path (``"dataset"``, ``"systems[2]"``).
        context: the suite's folder, and whether files must exist.

    Returns:
        ``{field name: parsed value}`` for every valid key given.
    """
    values = section_mapping(problems, where, raw)
    fields = {f.name: f for f in dataclasses.fields(cls) if "parse" in f.metadata}
    problems.unknown_keys(where, values, fields)
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in fields and value is not None:
            parsed = fields[name].metadata["parse"](problems, f"{where}.{name}", value, context)
            if parsed is not INVALID:
                out[name] = parsed
    return out


__all__ = ["INVALID", "Choice", "Context", "FilePath", "Flag", "IntTriple", "Integer", "Names", "Number",
           "Problems", "Table", "Text", "key", "parse_section", "section_keys", "section_mapping",
           "typed_number"]
