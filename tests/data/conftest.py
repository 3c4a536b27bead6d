"""Fixtures for the CT data tests: a small phantom CT-RATE folder and the two real pyradiomics lung CTs."""

from __future__ import annotations

import os
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
    """Where ``scripts/install.sh`` (``scripts/fetch_test_data.py``) puts the real CTs."""
    return Path(os.environ.get("RADEVAL_TEST_DATA") or Path.home() / ".cache" / "radeval-test-data").expanduser()


@pytest.fixture(scope="session")
def pyradiomics_lungs() -> dict[str, Path]:
    """``{"lung1": path, "lung2": path}``: NRRD chest CTs from the pyradiomics 3.0.1 sdist.

    ``scripts/install.sh`` fetches the sdist once into ``$RADEVAL_TEST_DATA`` (default
    ``~/.cache/radeval-test-data``) and extracts the two images; this fixture only reads them (or extracts them
    from an sdist already there) and never touches the network. Without them the test is skipped, saying so.
    """
    cache = _test_data_dir()
    out = {name: cache / "pyradiomics-3.0.1" / "data" / f"{name}_image.nrrd" for name in ("lung1", "lung2")}
    if all(p.is_file() for p in out.values()):
        return out
    sdist = cache / PYRADIOMICS_SDIST
    if not sdist.is_file():
        pytest.skip(f"the real lung CTs (pyradiomics 3.0.1 sdist) are not in {cache}: run scripts/install.sh, "
                    f"which fetches them once (tests never download)")
    with tarfile.open(sdist, "r:gz") as tar:
        for member in LUNG_MEMBERS:
            tar.extract(tar.getmember(member), cache, filter="data")
    return out
