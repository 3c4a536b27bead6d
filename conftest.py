"""Settings for the docstring examples that ``--doctest-modules`` collects from radeval/, models/ and reader_study/.

They run like the tests (``tests/conftest.py``): offline (no Hugging Face hub), and with a private RADEVAL_HOME,
so an example that scores never reads or writes the user's cache.
"""

from __future__ import annotations

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _private_doctest_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A docstring example gets a RADEVAL_HOME of its own and runs in a temporary working directory."""
    if not isinstance(request.node, pytest.DoctestItem):
        return
    monkeypatch.setenv("RADEVAL_HOME", str(tmp_path_factory.mktemp("doctest_home")))
    monkeypatch.chdir(tmp_path_factory.mktemp("doctest_cwd"))
