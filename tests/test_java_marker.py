"""The conftest guard that makes Java-starting tests carry the ``java`` marker (see tests/conftest.py)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="needs a Java runtime to guard")


@needs_java
def test_unmarked_test_sees_a_tracing_java(tmp_path) -> None:
    java = shutil.which("java")
    assert java is not None and "java_shim" in java
    # a subprocess resolves the same tracing shim through PATH
    found = subprocess.run(["sh", "-c", "command -v java"], capture_output=True, text=True).stdout.strip()
    assert "java_shim" in found


@needs_java
@pytest.mark.java
def test_marked_test_sees_the_real_java() -> None:
    assert "java_shim" not in shutil.which("java")
