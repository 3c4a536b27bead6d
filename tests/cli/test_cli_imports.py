"""The CLI stays light: building the parser imports neither the generators (``models``) nor torch/transformers.

Heavy imports belong inside the subcommand handlers (see ``radeval/cli/main.py``), so ``radeval --help`` and
every ``radeval <command> --help`` answer at once and work without the ``models`` extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("radeval_models", "torch", "transformers")
PROBE = """
import json, sys
{body}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def _imported(body: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", PROBE.format(body=body, heavy=HEAVY)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _help(*argv: str) -> str:
    return (f"from radeval.cli.main import main\n"
            f"import contextlib, io\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        main({list(argv)!r})\n    except SystemExit:\n        pass")


def test_importing_the_cli_imports_nothing_heavy() -> None:
    assert _imported("import radeval.cli.main") == []


def test_top_level_help_imports_nothing_heavy() -> None:
    assert _imported(_help("--help")) == []


@pytest.mark.parametrize("command", ["score", "compare", "label", "fetch", "data", "embed", "train", "generate",
                                     "models", "bench", "reader-study"])
def test_subcommand_help_imports_no_torch(command: str) -> None:
    assert not set(_imported(_help(command, "--help"))) & {"torch", "transformers"}


def test_train_help_shows_the_train_config_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    """The lazily read defaults are still TrainConfig's, in ``radeval train --help`` and in the parsed args."""
    from radeval_models.train_config import TrainConfig
    from radeval.cli.main import build_parser, main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    defaults = TrainConfig()
    assert f"epochs (default: {defaults.epochs})" in text and f"learning rate (default: {defaults.lr})" in text
    args = build_parser().parse_args(["train", "--model", "dummy", "--out", "run", "--epochs", "3"])
    assert args.epochs == 3 and str(args.batch_size) == str(defaults.batch_size)
