"""The docstring examples run with the tests, and none hides from the doctest collector."""

from __future__ import annotations

import doctest
import importlib
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Folder of the repository -> the importable package it holds (models/ and reader_study/ hold uniquely named
#: packages, so installing radeval-ct never claims the generic top-level names ``models`` / ``reader_study``).
PACKAGES = {"radeval": ROOT / "radeval", "radeval_models": ROOT / "models" / "radeval_models",
            "radeval_reader_study": ROOT / "reader_study" / "radeval_reader_study"}
FOLDERS = ("radeval", "models", "reader_study")
#: Examples allowed to carry ``# doctest: +SKIP``, with the reason (keep this list short).
SKIP_ALLOWED = {
    "radeval/metrics/meteor.py": "starts the METEOR 1.5 jar (Java, ~14 s to load); tests/metrics/test_meteor.py "
                                 "runs the same pair",
}
PROMPT = re.compile(r"^\s*>>> ", re.M)


def _modules() -> list[tuple[Path, str]]:
    out = []
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder.parent).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out.append((path, name))
    return out


def test_pytest_collects_the_packages_doctests() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in config["addopts"].split()
    assert set(FOLDERS) <= set(config["testpaths"])


@pytest.mark.parametrize(("path", "module"), [m for m in _modules() if PROMPT.search(m[0].read_text())],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_every_prompt_is_a_collected_example(path: Path, module: str) -> None:
    """A ``>>>`` line the collector does not run (a comment-only example, a docstring doctest cannot reach) is
    an example nobody checks."""
    source = path.read_text()
    tests = doctest.DocTestFinder().find(importlib.import_module(module))
    examples = [e for t in tests for e in t.examples]
    assert len(examples) == len(PROMPT.findall(source)), (
        f"{path.relative_to(ROOT)}: {len(PROMPT.findall(source))} '>>>' lines but {len(examples)} collected examples")
    skipped = [e.source.strip() for e in examples if e.options.get(doctest.OPTIONFLAGS_BY_NAME["SKIP"])]
    rel = path.relative_to(ROOT).as_posix()
    assert not skipped or rel in SKIP_ALLOWED, f"{rel}: examples marked +SKIP: {skipped}"
