"""Layering: reader_study is floor 3 (radeval floors 1-2 only), and its light entry points stay light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import radeval_reader_study

PACKAGE = Path(radeval_reader_study.__file__).resolve().parent
FORBIDDEN = ("radeval_models", "radeval.bench", "radeval.leaderboard", "radeval.cli")


def test_reader_study_never_imports_upper_floors() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"


def test_export_and_cli_import_nothing_heavy() -> None:
    code = ("import sys, radeval_reader_study, radeval_reader_study.export, radeval_reader_study.ingestion, "
            "radeval.cli.reader_study\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'openpyxl', 'matplotlib', 'scipy', 'sklearn', 'torch', 'radeval_models', 'krippendorff'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_lower_floors_never_import_reader_study() -> None:
    import radeval

    root = Path(radeval.__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("cli/", "bench/", "leaderboard/")):
            continue  # floor 4 may
        text = path.read_text(encoding="utf-8")
        assert "import radeval_reader_study" not in text and "from radeval_reader_study" not in text, rel


def test_lazy_ingest_is_the_function_not_the_submodule() -> None:
    # `radeval_reader_study.ingest` is the function; its module is `radeval_reader_study.ingestion`, so importing the module
    # (directly, or through radeval_reader_study.analysis) cannot rebind the package attribute to a module
    code = ("import radeval_reader_study\n"
            "a = radeval_reader_study.ingest; b = radeval_reader_study.ingest\n"
            "from radeval_reader_study import analyze, ingest\n"
            "import radeval_reader_study.ingestion\n"
            "from radeval_reader_study.ingestion import parse_score\n"
            "print(all(callable(f) and f.__name__ == 'ingest' for f in (a, b, ingest, radeval_reader_study.ingest)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
