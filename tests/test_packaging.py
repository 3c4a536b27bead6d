"""The built wheel installs under unique import names and lives beside another project's ``models`` package.

The repository keeps its top-level folders ``radeval/``, ``models/`` and ``reader_study/``; the last two hold the
packages ``radeval_models`` and ``radeval_reader_study``, so installing radeval-ct never claims (or overwrites)
the generic names ``models`` and ``reader_study``. This test builds the wheel, installs it with ``--no-deps``
into a fresh virtual environment that already holds a dummy package called ``models``, and checks both are
intact. The fresh environment borrows the running environment's third-party packages (numpy, torch ...)
through a ``.pth`` line placed *after* its own site-packages, so nothing is downloaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

CHECK = """
import json, sys
import models
import radeval, radeval_models, radeval_reader_study
from radeval.registry import get_generator
cls = get_generator("dummy")
print(json.dumps({
    "dummy_models": getattr(models, "WHO", None),
    "radeval": radeval.__file__, "radeval_models": radeval_models.__file__,
    "radeval_reader_study": radeval_reader_study.__file__, "generator_module": sys.modules[cls.__module__].__file__,
}))
"""


def _site_packages(env: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)}))


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_wheel_installs_beside_a_package_named_models(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
         "-q", "-w", wheels, ROOT)
    (wheel,) = wheels.glob("radeval_ct-*.whl")

    dummy = tmp_path / "dummy-models"
    (dummy / "models").mkdir(parents=True)
    (dummy / "models" / "__init__.py").write_text('WHO = "another project"\n', encoding="utf-8")
    (dummy / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "dummy-models"\nversion = "1.0"\n'
        '[tool.setuptools]\npackages = ["models"]\n', encoding="utf-8")

    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    py = env / "bin" / "python"
    site = _site_packages(env)
    # third-party dependencies come from the running environment, after the fresh site-packages
    (site / "zz_borrowed.pth").write_text(str(_site_packages(Path(sys.prefix))) + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
           "-q", "--target", site]
    _run(*pip, dummy)
    _run(*pip, wheel)

    installed = {p.name for p in site.iterdir()}
    assert {"radeval", "radeval_models", "radeval_reader_study", "models"} <= installed
    assert "reader_study" not in installed
    assert (site / "models" / "__init__.py").read_text(encoding="utf-8") == 'WHO = "another project"\n'

    out = json.loads(_run(py, "-c", CHECK, cwd=tmp_path).stdout)
    assert out["dummy_models"] == "another project"
    for name in ("radeval", "radeval_models", "radeval_reader_study", "generator_module"):
        assert Path(out[name]).is_relative_to(site), (name, out[name])
