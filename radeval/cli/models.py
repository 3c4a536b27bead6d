"""``radeval models``: list the registered report generators, print a model card, count parameters without weights."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radeval.cli.train import add_setting_arguments, generator_settings


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand with ``list``, ``show`` and ``params``."""
    p = sub.add_parser("models", help="list generators, count their parameters",
                       description="Registered report generators (bundled and plug-ins).")
    actions = p.add_subparsers(dest="models_action", metavar="ACTION")
    lst = actions.add_parser("list", help="registered generator names")
    lst.add_argument("--json", action="store_true", help="print a JSON list")
    show = actions.add_parser("show", help="print a generator's model card",
                              description="Prints the generator's model card (its `card` attribute, markdown), or its "
                                          "class docstring when it has no card.")
    show.add_argument("name", help="registry name, e.g. ct2rep")
    params = actions.add_parser("params", help="trainable and total parameters, built on the meta device",
                                description="Builds the generator from an HF config file with no weights.")
    params.add_argument("name", help="registry name, e.g. rad3d-prefix-v3")
    params.add_argument("--llm-config", type=Path, help="HF config.json of the LLM (LLM-based generators)")
    params.add_argument("--vocab-size", type=int, metavar="V",
                        help="word-vocabulary size, for generators with a vocabulary of their own (ct2rep)")
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
    if args.models_action == "show":
        print(model_card(generators.get(args.name)))
        return 0
    if args.models_action == "params":
        cls = trainable_generator(args.name)
        if cls.training != "loop":  # only gradient-trained generators (GeneratorModel) have parameters to count
            raise InputError(f"generator {args.name!r} learns in one fit() call: it has no parameters to count")
        settings = generator_settings(args)
        extra = {"vocab_size": args.vocab_size} if args.vocab_size is not None else {}
        counts = cls.for_meta(settings, llm_config=args.llm_config, **extra).parameter_counts()
        if args.json:
            print(json.dumps(counts.as_dict()))
        else:
            print(f"{args.name}: {counts.trainable:,} trainable / {counts.total:,} total parameters")
        return 0
    args._parser.print_help()
    return 2


def model_card(cls: type) -> str:
    """The model card of a generator class: its ``card`` attribute, else its docstring (else a one-line note).

    Example:
        >>> class Plain:
        ...     'A generator without a card.'
        >>> model_card(Plain)
        'A generator without a card.'
    """
    import inspect

    card = getattr(cls, "card", "")
    if isinstance(card, str) and card.strip():
        return card.strip()
    doc = inspect.getdoc(cls)
    return doc.strip() if doc else f"{getattr(cls, '__name__', cls)}: no model card and no docstring"
