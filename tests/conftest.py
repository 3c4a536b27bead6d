"""Test-wide settings: offline, hermetic, one private RADEVAL_HOME per session."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterator

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _register_uninstalled_generators() -> None:
    """Register the ``radeval.models`` entry points of this checkout's pyproject.toml that the installed metadata
    lacks (a venv installed from an older checkout), lazily as ``module:attr`` strings, as the entry points would."""
    import tomllib
    from pathlib import Path

    from radeval.registry import generators

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["entry-points"]["radeval.models"]
    known = set(generators.names())
    for name, target in declared.items():
        if name not in known:
            generators.register(name, obj=target)


_register_uninstalled_generators()


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets a RADEVAL_HOME of its own unless it sets one."""
    if "RADEVAL_HOME_SHARED" not in os.environ:
        monkeypatch.setenv("RADEVAL_HOME", str(tmp_path_factory.mktemp("radeval_home")))


@pytest.fixture(autouse=True)
def _java_needs_marker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test that starts Java (METEOR 1.5) must carry ``@pytest.mark.java``, so ``-m "not java"`` really skips them.

    Unmarked tests see a ``java`` on PATH that runs the real one but leaves a trace (also for subprocesses); the test
    then fails at teardown, naming the missing marker.
    """
    real = shutil.which("java")
    if real is None or request.node.get_closest_marker("java") is not None:
        yield
        return
    shim_dir = tmp_path_factory.mktemp("java_shim")
    trace = shim_dir / "java-was-started"
    shim = shim_dir / "java"
    shim.write_text(f'#!/bin/sh\n: > {shlex.quote(str(trace))}\nexec {shlex.quote(real)} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    yield
    if trace.exists():
        pytest.fail(f"{request.node.nodeid} starts Java (METEOR) but has no @pytest.mark.java", pytrace=False)
