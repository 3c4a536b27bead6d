"""The suite's ``metrics`` section: metric names (or ``{name, options}``), checked against the metric registry.

Each metric is built once while the suite is validated (cheap: no weights are loaded), so an unknown option
fails before anything runs; a metric whose weights or dependency are missing is not a validation problem
(the run reports it as "not available offline", never drops it silently).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from radeval.schema import Problems


@dataclass(frozen=True)
class MetricSpec:
    """One entry of ``metrics``: a registered metric name and its keyword options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


def _check_options(problems: Problems, where: str, name: str, options: dict[str, Any]) -> None:
    from radeval.errors import MissingDependencyError, MissingWeightsError
    from radeval.metrics import get_metric

    try:
        get_metric(name, **options)
    except (MissingWeightsError, MissingDependencyError):
        pass  # reported as "not available offline" by the run, never dropped
    except (TypeError, ValueError) as exc:  # InputError is a ValueError
        problems.add(where, f"invalid options {options!r}: {exc}")


def parse_metrics(raw: Any, problems: Problems, where: str = "metrics") -> tuple[MetricSpec, ...]:
    """Parse the ``metrics`` list; unknown names, duplicates and bad options go to ``problems``.

    Args:
        raw: the list as the YAML holds it (names, or ``{name: ..., options: {...}}``).
        problems: the suite's collector.
        where: the section's YAML path.

    Returns:
        the metrics, in order.

    Example:
        >>> p = Problems("s.yaml")
        >>> [m.name for m in parse_metrics(["bleu4", "rogueL", {"name": "rougeL"}], p)]
        ['bleu4', 'rogueL', 'rougeL']
        >>> p.items
        ["metrics[1]: unknown metric 'rogueL' (did you mean 'rougeL', 'rouge2'?)"]
    """
    from radeval.metrics import available_metrics

    if not isinstance(raw, list) or not raw:
        problems.add(where, "expected a non-empty list of metric names")
        return ()
    known = sorted(available_metrics())
    out: list[MetricSpec] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if isinstance(item, str):
            name, options = item, {}
        elif isinstance(item, Mapping) and "name" in item:
            problems.unknown_keys(at, item, ("name", "options"))
            if item.get("options") is not None and not isinstance(item.get("options"), Mapping):
                problems.add(f"{at}.options", f"expected a mapping, got {type(item['options']).__name__}")
                continue
            name, options = str(item["name"]), dict(item.get("options") or {})
        else:
            problems.add(at, "expected a metric name or {name: ..., options: {...}}")
            continue
        if name in seen:
            problems.add(at, f"duplicate metric {name!r} (also {where}[{seen[name]}]); each metric can be listed once")
            continue
        seen[name] = i
        if name not in known:
            close = difflib.get_close_matches(name, known, n=2)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            problems.add(at, f"unknown metric {name!r}{hint}")
        else:
            _check_options(problems, f"{at} ({name})", name, options)
        out.append(MetricSpec(name, options))
    return tuple(out)


__all__ = ["MetricSpec", "parse_metrics"]
