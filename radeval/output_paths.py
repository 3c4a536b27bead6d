"""Guards on output paths, checked before any work: an output never overwrites an input.

Every command that writes a file (``score --out``, ``compare --out/--out-json``, ``label --out``)
or a folder (``bench`` ``output_dir``) calls one of these first, so a wrong path is a clean
:class:`~radeval.errors.InputError` instead of lost inputs or a traceback after minutes of work.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from radeval.errors import InputError


def _resolved(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().resolve(strict=False)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file (after resolving symlinks and ``..``; hard links too when both exist)."""
    ra, rb = _resolved(a), _resolved(b)
    if ra == rb:
        return True
    try:
        return os.path.samefile(ra, rb)
    except OSError:
        return False


def _under_a_file(path: Path) -> Path | None:
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def check_output_file(out: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str] | None],
                      option: str = "--out") -> Path:
    """Refuse an output file that is a folder, sits under a file, or is one of the inputs.

    Args:
        out: the output file.
        inputs: every input path of the command (``None`` entries are skipped).
        option: the option name, for the message.

    Returns:
        ``out`` as a :class:`Path`.

    Raises:
        InputError: naming the option, the path and the input it would overwrite.

    Example:
        >>> check_output_file("scores.csv", inputs=["refs.jsonl"]).name
        'scores.csv'
    """
    path = Path(out).expanduser()
    if path.is_dir():
        raise InputError(f"{option} {out}: is a folder; give a file name")
    blocker = _under_a_file(_resolved(path))
    if blocker is not None:
        raise InputError(f"{option} {out}: cannot be written, {blocker} is a file, not a folder")
    for item in inputs:
        if item is not None and same_file(path, item):
            raise InputError(f"{option} {out}: is the input file {item}; writing it would overwrite that input. "
                             "Choose another output path")
    return path


def check_output_dir(out_dir: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str] | None],
                     written: Iterable[str] = (), option: str = "output_dir") -> Path:
    """Refuse an output folder that is a file, sits under a file, or would replace an input.

    Args:
        out_dir: the output folder.
        inputs: every input path (``None`` skipped).
        written: the names the run writes at the top of the folder; an input at (or under) one of them
            would be replaced. An input that *is* the folder, or contains it, is refused too.
        option: the option or suite key, for the message.

    Raises:
        InputError: naming the option, the folder and the input.
    """
    path = Path(out_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {out_dir}: is a file, not a folder")
    blocker = _under_a_file(_resolved(path))
    if blocker is not None:
        raise InputError(f"{option} {out_dir}: cannot be created, {blocker} is a file, not a folder")
    root = _resolved(path)
    targets = [root / name for name in written]
    for item in inputs:
        if item is None:
            continue
        resolved = _resolved(item)
        if resolved == root:
            raise InputError(f"{option} {out_dir}: is the input {item}")
        for target in targets:
            if resolved == target or target in resolved.parents or same_file(resolved, target):
                raise InputError(f"{option} {out_dir}: the run writes {target.name} there, which is the input "
                                 f"{item}; choose another output folder")
    return path


def check_outputs(outputs: dict[str, str | os.PathLike[str] | None], *,
                  inputs: Iterable[str | os.PathLike[str] | None]) -> None:
    """:func:`check_output_file` for several output options at once; two options naming one file are refused too.

    Args:
        outputs: option name -> output file (``None`` skipped), e.g. ``{"--out": ..., "--out-json": ...}``.
        inputs: every input path of the command.

    Raises:
        InputError: the first problem found.

    Example:
        >>> check_outputs({"--out": "a.csv", "--out-json": None}, inputs=["refs.jsonl"])
    """
    inputs = [i for i in inputs if i is not None]
    given = [(opt, path) for opt, path in outputs.items() if path is not None]
    for opt, path in given:
        check_output_file(path, inputs=inputs, option=opt)
    for i, (opt_a, a) in enumerate(given):
        for opt_b, b in given[i + 1:]:
            if same_file(a, b):
                raise InputError(f"{opt_a} and {opt_b} name the same file {a}; give each its own path")
