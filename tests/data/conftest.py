"""Fixtures for the CT data tests: a small phantom CT-RATE folder and the two real pyradiomics lung CTs."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

PYRADIOMICS_SDIST = "pyradiomics-3.0.1.tar.gz"
LUNG_MEMBERS = ("pyradiomics-3.0.1/data/lung1_image.nrrd", "pyradiomics-3.0.1/data/lung2_image.nrrd")


@pytest.fixture(scope="session")
def phantom_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-volume phantom (32 x 32 x 24 voxels) in CT-RATE layout; read-only for the tests."""
    from radeval.data.phantom import make_phantom_dataset

    return make_phantom_dataset(tmp_path_factory.mktemp("phantom"), n=12, seed=7, shape=(32, 32, 24))


def _test_data_dir() -> Path:
    base = os.environ.get("RADEVAL_TEST_DATA") or Path.home() / ".cache" / "radeval-test-data"
    path = Path(base).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def pyradiomics_lungs() -> dict[str, Path]:
    """``{"lung1": path, "lung2": path}``: NRRD chest CTs from the pyradiomics 3.0.1 sdist.

    The sdist is fetched once with ``pip download`` into ``$RADEVAL_TEST_DATA`` (default
    ``~/.cache/radeval-test-data``); the test is skipped only when the package registry is unreachable.
    """
    cache = _test_data_dir()
    out = {name: cache / "pyradiomics-3.0.1" / "data" / f"{name}_image.nrrd" for name in ("lung1", "lung2")}
    if all(p.is_file() for p in out.values()):
        return out
    sdist = cache / PYRADIOMICS_SDIST
    if not sdist.is_file():
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-build-isolation", "--no-binary", ":all:",
               "pyradiomics==3.0.1", "-d", str(cache), "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not sdist.is_file():
            pytest.skip(f"package registry unreachable, cannot fetch the pyradiomics 3.0.1 sdist: "
                        f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:] }")
    with tarfile.open(sdist, "r:gz") as tar:
        for member in LUNG_MEMBERS:
            tar.extract(tar.getmember(member), cache, filter="data")
    return out
