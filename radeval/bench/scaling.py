"""The scaling study of a suite: each variant trained on each LLM, metric vs LLM parameters.

This reproduces the paper's frozen-vs-fine-tuned figure (V-1 vs V-2 across LLM sizes). Every (variant, LLM)
model goes through the same cached train/generate steps as the suite's systems, is scored with the suite's
cache, and gets a bootstrap CI from the shared-index engine. Outputs: ``scaling.csv`` and ``scaling.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from radeval.bench.dataset import BenchDataset
from radeval.bench.manifest import Manifest
from radeval.bench.system_spec import SystemSpec, check_model_settings, train_keys
from radeval.cache import StatisticsCache
from radeval.csv_safe import frame_to_csv
from radeval.metrics.scoring import build_metrics, compute_statistics
from radeval.paths import atomic_write_text
from radeval.schema import Context, Names, Problems, Table, Text, key, parse_section, section_mapping

if TYPE_CHECKING:
    from radeval.bench.suite import Suite


@dataclass(frozen=True)
class ScalingSpec:
    """The suite's ``scaling`` section: variants × LLMs, plotted as metric vs LLM parameters.

    Attributes:
        variants: registry generator names.
        llms: LLM specs (embedded name, local folder, hub id or ``.gguf``), set as each model's ``config.llm``.
        metric: the metric plotted (a registered metric name).
        train / config: training settings and generator settings shared by every (variant, LLM) model.
    """

    variants: tuple[str, ...] = key((), Names())
    llms: tuple[str, ...] = key((), Names())
    metric: str = key("", Text())
    train: dict[str, Any] = key(None, Table(), default_factory=dict)
    config: dict[str, Any] = key(None, Table(), default_factory=dict)

    @classmethod
    def from_section(cls, raw: Any, problems: Problems, context: Context, where: str = "scaling") -> ScalingSpec:
        """Parse the ``scaling`` section: required keys, model names, their ``config``/``train`` keys, the metric."""
        from radeval.metrics import available_metrics
        from radeval.registry import generators

        values = parse_section(cls, raw, problems, where, context)
        given = section_mapping(Problems(""), where, raw)
        for name in ("variants", "llms", "metric"):
            if not given.get(name):
                problems.add(where, f"missing {name!r}")
        known = set(generators.names())
        for variant in values.get("variants", ()):
            if variant not in known:
                problems.add(f"{where}.variants", f"unknown model {variant!r}")
            else:
                check_model_settings(problems, where, variant, config=values.get("config", {}), train=None)
        if "train" in values:
            problems.unknown_keys(f"{where}.train", values["train"], train_keys())
        metric = values.get("metric")
        if metric and metric not in available_metrics():
            problems.add(f"{where}.metric", f"unknown metric {metric!r}")
        return cls(**values)


def llm_parameters(spec: str) -> int:
    """Total parameters of an LLM, counted on the meta device from its config (no weights loaded)."""
    from radeval_models.llm import llm_from_config, load_llm_config

    model = llm_from_config(load_llm_config(spec), device="meta")
    return int(sum(p.numel() for p in model.parameters()))


def _same_system(suite: Suite, system: SystemSpec) -> SystemSpec | None:
    """A system of the suite trained exactly like ``system`` (same model, config and training settings), if any."""
    for other in suite.systems:
        if (other.kind == "train" and other.model == system.model and dict(other.config) == dict(system.config)
                and dict(other.train or {}) == dict(system.train or {}) and not other.generate):
            return other
    return None


def _human_count(n: float) -> str:
    """``134515008 -> "135M"``, ``1.24e9 -> "1.2B"``.

    Example:
        >>> _human_count(134_515_008), _human_count(1_235_814_400), _human_count(950)
        ('135M', '1.2B', '950')
    """
    if n >= 1e9:
        return f"{n / 1e9:.2g}B" if n < 1e10 else f"{n / 1e9:.0f}B"
    if n >= 1e6:
        return f"{n / 1e6:.0f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}k"
    return f"{n:.0f}"


def _plot(table: pd.DataFrame, metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for variant, sub in table.groupby("variant", sort=False):
        sub = sub.sort_values("llm_parameters")
        x = sub["llm_parameters"].to_numpy(dtype=float)
        y = sub["score"].to_numpy(dtype=float)
        # distances to the interval's ends, clipped at 0: a percentile CI need not contain the point estimate
        err = np.clip(np.vstack([y - sub["ci_low"].to_numpy(dtype=float),
                                 sub["ci_high"].to_numpy(dtype=float) - y]), 0, None)
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=str(variant))
        for xi, yi, name in zip(x, y, sub["llm"]):
            ax.annotate(str(name), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xscale("log")
    # Sizes often span less than a decade: matplotlib's log-scale minor labels then overlap ("1.4x10^8 1.6x10^8 ..."),
    # so the ticks are the LLM sizes themselves, labelled in millions/billions.
    sizes = sorted({float(v) for v in table["llm_parameters"]})
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xticks(sizes, [_human_count(v) for v in sizes])
    ax.set_xlim(sizes[0] / 1.25, sizes[-1] * 1.6)  # room for the point labels
    ax.set_xlabel("LLM parameters")
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def run_scaling(suite: Suite, dataset: BenchDataset, work: Path, manifest: Manifest, cache: StatisticsCache,
                out: Path, *, quiet: bool = False) -> list[Path]:
    """Train/generate/score every (variant, LLM) of ``suite.scaling``; write ``scaling.csv`` and ``scaling.png``."""
    from radeval.bench.pipeline import model_inputs, model_predictions
    from radeval.stats.compare import compare_statistics

    spec = suite.scaling
    assert spec is not None
    metric = build_metrics([spec.metric])[0]
    ids = list(dataset.references)
    refs = [dataset.references[i] for i in ids]
    rows, arrays, names = [], [], []
    for llm in spec.llms:
        params = llm_parameters(llm)
        for variant in spec.variants:
            system = SystemSpec(name=f"{variant}@{llm}", model=variant, train=dict(spec.train),
                                config={**spec.config, "llm": llm})
            trained = _same_system(suite, system) or system  # a suite system with these settings is reused
            preds = model_predictions(trained, model_inputs(suite, dataset, work, manifest, quiet=quiet), work,
                                      manifest, quiet=quiet)
            stats, _ = compute_statistics([metric], refs, [preds[i] for i in ids], cache=cache)
            arrays.append(stats[metric.name])
            names.append(system.name)
            rows.append({"variant": variant, "llm": llm, "llm_parameters": params, "system": system.name})
    sig = suite.significance  # the intervals only: a bootstrap with the suite's resamples (AR: its CI resamples)
    resamples = sig.resamples if sig.test == "bootstrap" else (sig.ci_resamples or None)
    result = compare_statistics({metric.name: np.stack(arrays)}, {metric.name: metric}, names, baseline=names[0],
                                resamples=resamples, seed=sig.seed, ci=sig.ci, correction="none", case_ids=ids)
    scores = result.table.set_index("system")
    table = pd.DataFrame(rows)
    for col in ("score", "ci_low", "ci_high"):
        table[col] = [float(scores.loc[s, col]) for s in table["system"]]
    table["metric"] = metric.name
    table["metric_signature"] = metric.signature
    atomic_write_text(out / "scaling.csv", frame_to_csv(table))
    _plot(table, metric.name, out / "scaling.png")
    return [out / "scaling.csv", out / "scaling.png"]
