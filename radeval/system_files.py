"""``NAME=FILE`` system arguments (``radeval compare --hyps``), including paths that contain ``=``.

Rules, in order:

1. no ``=``: the file's stem names the system (``runs/v2.jsonl`` -> ``v2``);
2. the text before the first ``=`` is not a system name (empty, or holds a path separator,
   e.g. ``runs/lr=1e-4/preds.jsonl``): the whole argument is a path;
3. the whole argument is an existing file and the part after the first ``=`` is not
   (``preds_lr=1e-4.jsonl``): the whole argument is a path;
4. otherwise ``NAME=FILE``, split at the first ``=`` only, so ``v2=runs/lr=1e-4/p.jsonl`` works.

Write ``NAME=PATH`` to be explicit whenever a path holds ``=``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from radeval.errors import InputError


def parse_system_file(item: str) -> tuple[str, Path]:
    """One ``NAME=FILE`` (or bare ``FILE``) argument -> ``(name, path)``; see the module docstring.

    Example:
        >>> parse_system_file("v2=runs/lr=1e-4/p.jsonl")
        ('v2', PosixPath('runs/lr=1e-4/p.jsonl'))
        >>> parse_system_file("runs/lr=1e-4/p.jsonl")
        ('p', PosixPath('runs/lr=1e-4/p.jsonl'))
    """
    name, sep, file = item.partition("=")
    whole_is_path = (not sep or not name or "/" in name or "\\" in name
                     or (Path(item).is_file() and not Path(file).is_file()))
    if whole_is_path:
        name, file = Path(item).stem, item
    if not name or not file:
        raise InputError(f"--hyps {item!r}: expected NAME=FILE")
    return name, Path(file)


def parse_system_files(items: Iterable[str], *, minimum: int = 1) -> list[tuple[str, Path]]:
    """Several system arguments; names must be distinct.

    Raises:
        InputError: a malformed argument, a name given twice, or fewer than ``minimum`` systems.
    """
    out: list[tuple[str, Path]] = []
    for item in items:
        name, path = parse_system_file(item)
        if any(name == seen for seen, _ in out):
            raise InputError(f"--hyps: system name {name!r} given twice")
        out.append((name, path))
    if len(out) < minimum:
        words = {1: "one system is", 2: "two systems are"}.get(minimum, f"{minimum} systems are")
        raise InputError(f"--hyps: at least {words} needed, got {len(out)}")
    return out
