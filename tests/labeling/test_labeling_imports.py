"""Layering: the labeler sits on floor 2 (never imports models/), and importing it loads nothing heavy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import radeval.labeling

PACKAGE = Path(radeval.labeling.__file__).resolve().parent


def test_labeling_never_imports_upper_floors() -> None:
    forbidden = ("radeval_models", "radeval_reader_study", "radeval.bench", "radeval.leaderboard", "radeval.cli")
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_import_loads_no_torch_or_transformers() -> None:
    code = ("import sys, radeval.labeling, radeval.labeling.transformer, radeval.metrics.label_f1, radeval.cli.label\n"
            "heavy = {'torch', 'transformers', 'radeval_models', 'sklearn'}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
