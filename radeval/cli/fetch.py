"""``radeval fetch``: pre-download the weights model-based metrics need, for later offline runs.

Examples::

    radeval fetch bertscore green          # every weight these metrics need
    radeval fetch FremyCompany/BioLORD-2023-C
    radeval fetch --list                   # what each metric needs and whether it is here
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fetch`` subcommand."""
    p = sub.add_parser(
        "fetch", help="download the weights of model-based metrics into $RADEVAL_HOME/models",
        description="Download every weight a metric needs (or one hub model id) into one cache folder "
                    "($RADEVAL_HOME/models), so metrics later run offline.",
    )
    p.add_argument("names", nargs="*", metavar="METRIC|MODEL_ID",
                   help="metric names (bertscore, green, ratescore ...) or hub model ids (org/name)")
    p.add_argument("--list", action="store_true",
                   help="list each metric's weights and where they are available offline, then exit")
    p.add_argument("--force", action="store_true", help="download again even if a completed copy exists")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval fetch``; exit code 0 when everything asked for is local, 1 otherwise."""
    from radeval.errors import InputError, MissingDependencyError, MissingWeightsError
    from radeval.weights import fetch_spec, known_metrics, models_root, specs_for_name, status, weights_for

    if args.list:
        print(f"# weights folder: {models_root()}")
        for metric in known_metrics():
            for spec in weights_for(metric):
                files = f" [{', '.join(spec.files)}]" if spec.files else ""
                print(f"{metric}\t{spec.model_id}{files}\t{status(spec)}")
        return 0
    if not args.names:
        raise InputError("name at least one metric or model id, or use --list")
    specs = {}
    for name in args.names:  # validate every name before downloading anything
        for spec in specs_for_name(name):
            specs.setdefault((spec.model_id, spec.files, spec.revision), spec)
    failed = 0
    for spec in specs.values():
        try:
            path = fetch_spec(spec, force=args.force)
        except (MissingWeightsError, MissingDependencyError) as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        print(f"{spec.model_id}\t{path}")
    return 1 if failed else 0
