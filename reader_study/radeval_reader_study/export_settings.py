"""The settings of one packet export: command-line values over a suite's ``reader_study`` section over defaults.

``radeval reader-study export`` (and any caller with the same inputs) describes what was *given* as
:class:`ExportOptions` (``None`` = not given), and :func:`resolve_export_settings` merges it with a suite's
``reader_study`` mapping into the :class:`ExportSettings` that :func:`radeval_reader_study.export.export_packet` takes.
Precedence, for every setting: the given value, else the suite's, else the default (the paper's protocol:
:data:`DEFAULT_N` cases, :data:`DEFAULT_READERS` readers, seed :data:`DEFAULT_SEED`).

Example:
    >>> s = resolve_export_settings(ExportOptions(out=Path("packet"), n=10), {"n": 50, "readers": "alice, bob"})
    >>> s.n, s.readers, s.seed, str(s.key_path), s.formats
    (10, ('alice', 'bob'), 0, 'packet-key.json', ('html', 'xlsx', 'redcap'))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radeval.errors import InputError

#: Cases sampled by default.
DEFAULT_N = 100
#: Readers by default (a count, or comma-separated reader ids).
DEFAULT_READERS = "2"
#: Seed of the case sample by default.
DEFAULT_SEED = 0
#: Packet formats by default.
DEFAULT_FORMATS: tuple[str, ...] = ("html", "xlsx", "redcap")


def parse_readers(value: int | str | Sequence[str]) -> int | tuple[str, ...]:
    """A reader count (``3``, ``"3"``) or reader ids (``"alice, bob"`` or a list).

    Example:
        >>> parse_readers("3"), parse_readers(" alice,bob ,"), parse_readers(["r1", "r2"])
        (3, ('alice', 'bob'), ('r1', 'r2'))
    """
    if not isinstance(value, (str, int)) and isinstance(value, Sequence):
        return tuple(str(r).strip() for r in value if str(r).strip())
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    return tuple(r.strip() for r in text.split(",") if r.strip())


@dataclass(frozen=True)
class ExportOptions:
    """What the caller gave; ``None`` (or ``False`` for the flags) means "not given"."""

    out: Path | None = None
    key: Path | None = None
    n: int | None = None
    readers: str | int | None = None
    seed: int | None = None
    rubric: Path | None = None
    stratify_by: tuple[str, ...] | None = None
    no_reference: bool = False
    formats: tuple[str, ...] | None = None
    baseline: str | None = None
    blinding_seed: int | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class ExportSettings:
    """Resolved settings of one export (the keyword arguments of ``export_packet`` besides the rubric object).

    Attributes:
        out_dir: the packet folder.
        key_path: the key file (default: ``<out>-key.json`` next to the packet folder).
        n, readers, seed: sample size, reader count or ids, seed of the case sample.
        rubric_path: rubric YAML (``None``: the default rubric).
        stratify_by: metadata fields to stratify the sample by (``None``: no stratification).
        show_reference, formats, baseline, blinding_seed, overwrite: as ``export_packet``.
    """

    out_dir: Path
    key_path: Path
    n: int
    readers: int | tuple[str, ...]
    seed: int
    rubric_path: Path | None
    stratify_by: tuple[str, ...] | None
    show_reference: bool
    formats: tuple[str, ...]
    baseline: str | None
    blinding_seed: int | None
    overwrite: bool


def resolve_export_settings(given: ExportOptions, suite: Mapping[str, Any] | None = None, *,
                            suite_baseline: str | None = None) -> ExportSettings:
    """Merge the given options over a suite's ``reader_study`` section over the defaults.

    Args:
        given: the caller's options.
        suite: the suite's ``reader_study`` mapping (paths already resolved against the suite's folder).
        suite_baseline: the suite's baseline system.

    Raises:
        InputError: no packet folder (neither ``out`` given nor in the suite).
    """
    settings = dict(suite or {})
    out = given.out or settings.get("out")
    if out is None:
        raise InputError("--out (the packet folder) is required")
    out = Path(out)
    key = given.key or settings.get("key") or out.parent / f"{out.name}-key.json"
    stratify = given.stratify_by or settings.get("stratify_by")
    if isinstance(stratify, str):
        stratify = (stratify,)
    rubric = given.rubric or settings.get("rubric")
    return ExportSettings(
        out_dir=out, key_path=Path(key),
        n=given.n if given.n is not None else int(settings.get("n", DEFAULT_N)),
        readers=parse_readers(given.readers if given.readers is not None
                              else settings.get("readers", DEFAULT_READERS)),
        seed=given.seed if given.seed is not None else int(settings.get("seed", DEFAULT_SEED)),
        rubric_path=Path(rubric) if rubric else None,
        stratify_by=tuple(stratify) if stratify else None,
        show_reference=False if given.no_reference else bool(settings.get("show_reference", True)),
        formats=tuple(given.formats or settings.get("formats") or DEFAULT_FORMATS),
        baseline=given.baseline or suite_baseline, blinding_seed=given.blinding_seed, overwrite=given.overwrite)


def strata_from_labels(path: str | Path, id_field: str, fields: Sequence[str], ids: Sequence[str]) -> dict[str, str]:
    """Case id -> stratum (``"field=value; ..."``) from a labels CSV, for every id in ``ids``.

    Raises:
        InputError: an unreadable file, a missing column, duplicate ids or cases without labels (naming them).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "labels.csv")
        >>> _ = open(p, "w").write("id,sex,site\\na,F,1\\nb,M,2\\n")
        >>> strata_from_labels(p, "id", ["sex"], ["b", "a"])
        {'b': 'sex=M', 'a': 'sex=F'}
    """
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read labels ({exc})") from None
    for col in [id_field, *fields]:
        if col not in table.columns:
            raise InputError(f"{path}: no column {col!r} (columns: {', '.join(table.columns)})")
    dup = table[id_field][table[id_field].duplicated()].tolist()
    if dup:
        raise InputError(f"{path}: duplicate case id(s) {dup[:5]}")
    rows = table.set_index(id_field)
    missing = [i for i in ids if i not in rows.index]
    if missing:
        raise InputError(f"{path}: {len(missing)} reference case(s) have no labels, e.g. {missing[:5]}")
    return {i: "; ".join(f"{f}={rows.at[i, f]}" for f in fields) for i in ids}
