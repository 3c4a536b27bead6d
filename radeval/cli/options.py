"""Argument groups shared by several subcommands: metric lists, metric options, file formats."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from radeval.errors import InputError


class _MetricNames(argparse.Action):
    """``--metrics a b``, ``--metrics a,b`` and ``--metrics a, b`` all give ``[a, b]``."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        setattr(namespace, self.dest, [n.strip() for v in values for n in str(v).split(",") if n.strip()])


def add_metric_arguments(parser: argparse.ArgumentParser) -> None:
    """``--metrics``, ``--metric-option`` and ``--metric-config``."""
    parser.add_argument("--metrics", nargs="+", metavar="NAME", action=_MetricNames,
                        help="metric names, space- or comma-separated (default: every lexical metric); "
                             "see `radeval score --list`")
    parser.add_argument("--metric-option", action="append", default=[], metavar="METRIC.KEY=VALUE",
                        help="per-metric option, e.g. green.judge=http://127.0.0.1:8000/v1 (repeatable)")
    parser.add_argument("--metric-config", type=Path, metavar="YAML",
                        help="YAML file {metric: {option: value}}; --metric-option overrides it")


def add_format_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``--id-field``, ``--text-field`` for report files."""
    parser.add_argument("--format", choices=["jsonl", "csv", "rexrank"],
                        help="file format (default: from the extension)")
    parser.add_argument("--id-field", help="id column/key (default: id; ReXrank: the study key)")
    parser.add_argument("--text-field", help="text column/key (default: text; ReXrank: model_prediction)")
    parser.add_argument("--ref-text-field",
                        help="text column/key of the references file (default: as --text-field; ReXrank: the "
                             "official reference 'Findings: {findings} Impression: {impression}', named "
                             "rexrank-findings+impression, whatever --text-field says)")


def _coerce(value: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


def metric_options(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Merge ``--metric-config`` and ``--metric-option`` into ``{metric: {key: value}}``.

    Raises:
        InputError: a malformed option (naming it) or an unreadable config file.
    """
    out: dict[str, dict[str, Any]] = {}
    if getattr(args, "metric_config", None):
        import yaml

        try:
            loaded = yaml.safe_load(Path(args.metric_config).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"{args.metric_config}: cannot read metric config ({exc})") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
            raise InputError(f"{args.metric_config}: expected a mapping metric -> {{option: value}}")
        out = {str(k): dict(v) for k, v in loaded.items()}
    for item in getattr(args, "metric_option", []) or []:
        key, sep, value = item.partition("=")
        metric, dot, option = key.partition(".")
        if not sep or not dot or not metric or not option:
            raise InputError(f"--metric-option {item!r}: expected METRIC.KEY=VALUE")
        out.setdefault(metric, {})[option] = _coerce(value)
    return out


def read_args_reports(path: Path, args: argparse.Namespace, *, name: str = "", refs: bool = False):
    """Read a report file with the format/field options of ``args``."""
    from radeval.io import read_reports

    text_field = getattr(args, "text_field", None)
    if refs:
        fmt = getattr(args, "format", None)
        rexrank = fmt == "rexrank" or (not fmt and str(path).endswith(".json"))
        # ReXrank files hold the reference sections and the prediction (model_prediction) side by side:
        # --text-field names the prediction's key and must not make the references read it too
        from radeval.io import REXRANK_REFERENCE

        text_field = getattr(args, "ref_text_field", None) or (REXRANK_REFERENCE if rexrank else text_field)
    return read_reports(path, format=getattr(args, "format", None), id_field=getattr(args, "id_field", None),
                        text_field=text_field, name=name)
