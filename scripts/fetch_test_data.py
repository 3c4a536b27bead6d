"""Fetch the real chest CTs the data tests compare against (run by scripts/install.sh, which may use PyPI).

The two lung NRRD volumes ship inside the pyradiomics 3.0.1 *sdist* (BSD-3 code; 512x512x48 and 512x512x61
int16 HU). ``pip download`` fetches the sdist into the test-data folder (``$RADEVAL_TEST_DATA``, default
``~/.cache/radeval-test-data``) and the two images are extracted next to it. The tests only read them
(``tests/data/conftest.py``) and never touch the network. Safe to re-run: it does nothing when both files exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

SDIST = "pyradiomics-3.0.1.tar.gz"
MEMBERS = ("pyradiomics-3.0.1/data/lung1_image.nrrd", "pyradiomics-3.0.1/data/lung2_image.nrrd")


def test_data_dir() -> Path:
    """The folder the fetched files go to (``$RADEVAL_TEST_DATA`` or ``~/.cache/radeval-test-data``)."""
    return Path(os.environ.get("RADEVAL_TEST_DATA") or Path.home() / ".cache" / "radeval-test-data").expanduser()


def main() -> int:
    """Download (once) and extract; returns a process exit code."""
    root = test_data_dir()
    if all((root / m).is_file() for m in MEMBERS):
        return 0
    root.mkdir(parents=True, exist_ok=True)
    sdist = root / SDIST
    if not sdist.is_file():
        # setup.py imports numpy, hence --no-build-isolation (numpy is installed by then).
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
               "--no-build-isolation", "--no-binary", ":all:", "pyradiomics==3.0.1", "-d", str(root)]
        if subprocess.run(cmd).returncode != 0 or not sdist.is_file():
            print(f"could not fetch {SDIST}; the real-CT data tests will be skipped", file=sys.stderr)
            return 1
    with tarfile.open(sdist, "r:gz") as tar:
        for member in MEMBERS:
            tar.extract(tar.getmember(member), root, filter="data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
