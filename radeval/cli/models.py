"""``radeval models``: list the registered report generators; count a generator's parameters without weights."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radeval.cli.train import add_setting_arguments, generator_settings


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand with ``list`` and ``params``."""
    p = sub.add_parser("models", help="list generators, count their parameters",
                       description="Registered report generators (bundled and plug-ins).")
    actions = p.add_subparsers(dest="models_action", metavar="ACTION")
    lst = actions.add_parser("list", help="registered generator names")
    lst.add_argument("--json", action="store_true", help="print a JSON list")
    params = actions.add_parser("params", help="trainable and total parameters, built on the meta device",
                                description="Builds the generator from an HF config file with no weights.")
    params.add_argument("name", help="registry name, e.g. rad3d-prefix-v3")
    params.add_argument("--llm-config", type=Path, required=True, help="HF config.json of the LLM")
    add_setting_arguments(params)
    params.add_argument("--json", action="store_true", help='print {"trainable": int, "total": int}')
    p.set_defaults(handler=run, _parser=p)


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval models``."""
    from radeval.errors import InputError
    from radeval.registry import generators, trainable_generator

    if args.models_action == "list":
        names = generators.names()
        print(json.dumps(names) if args.json else "\n".join(names))
        return 0
    if args.models_action == "params":
        cls = trainable_generator(args.name)
        if cls.training != "loop":  # only gradient-trained generators (GeneratorModel) have parameters to count
            raise InputError(f"generator {args.name!r} learns in one fit() call: it has no parameters to count")
        settings = generator_settings(args)
        counts = cls.for_meta(settings, llm_config=args.llm_config).parameter_counts()
        if args.json:
            print(json.dumps(counts.as_dict()))
        else:
            print(f"{args.name}: {counts.trainable:,} trainable / {counts.total:,} total parameters")
        return 0
    args._parser.print_help()
    return 2
