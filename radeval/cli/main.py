"""Entry point of the ``radeval`` command: builds the subcommand parsers and dispatches.

Each subcommand lives in its own module ``radeval.cli.<module>`` exposing
``register(subparsers)``, which adds its parser and sets ``handler=run``. Modules import only the
standard library at top level; heavy imports happen inside ``run`` so ``radeval --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from radeval.errors import RadevalError
from radeval.version import __version__

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "score", "compare", "label", "fetch", "data", "embed", "classifier", "train", "generate", "models", "bench",
    "reader_study",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every subcommand registered)."""
    parser = argparse.ArgumentParser(
        prog="radeval",
        description="Evaluate 3D CT report generators: metrics, significance, leaderboards, reader studies.",
    )
    parser.add_argument("--version", action="version", version=f"radeval-ct {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        module_name = f"radeval.cli.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # subcommand not built in this checkout
                continue
            raise
        module.register(sub)
    return parser


def _utf8_streams() -> None:
    """Tables contain Δ, ▲ and ×: under an ASCII locale, write UTF-8 instead of failing mid-output."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding not in {"utf8", "utf16", "utf32"} and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 1 partial failure, 2 bad input)."""
    _utf8_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        code = args.handler(args)
    except RadevalError as exc:
        print(f"radeval {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
