"""Suite files: the YAML schema of a benchmark, composed from sections that their owners parse.

A suite names a dataset, the systems to compare (prediction files, registry models with a checkpoint,
or registry models to train), the metrics, the baseline, the significance settings, an optional
reader-study packet, an optional scaling study, published results to show and the output directory.

Each section is parsed and checked by the module that uses it, into its own frozen dataclass:

* ``dataset`` — :meth:`radeval.bench.dataset.DatasetSpec.from_section`;
* ``embed`` — :meth:`radeval.bench.embed.EmbedSpec.from_section`;
* ``findings_lm`` — :meth:`radeval.bench.findings_lm.FindingsLMSpec.from_section` (the demo's stand-in report LLM);
* ``systems`` — :func:`radeval.bench.system_spec.parse_systems` (:class:`~radeval.bench.system_spec.SystemSpec`);
* ``metrics`` — :func:`radeval.metrics.metric_spec.parse_metrics` (:class:`~radeval.metrics.metric_spec.MetricSpec`);
* ``significance`` — :meth:`radeval.stats.signature.SignificanceSettings.from_section`;
* ``reader_study`` — :meth:`radeval_reader_study.suite.ReaderStudySpec.from_section`;
* ``scaling`` — :meth:`radeval.bench.scaling.ScalingSpec.from_section`;
* ``literature`` — a key of :data:`radeval.leaderboard.literature.LITERATURE`.

This module only composes them and checks what spans sections (the baseline is a system, registry models need
a CT dataset, ...). All problems of all sections land in one :class:`radeval.schema.Problems`, so
:func:`load_suite` reports *every* problem (unknown keys with close matches, missing files, unknown metric or
model names, unknown ``train``/``config`` keys of a model) in one error, each with its YAML path, before
anything is embedded, trained or scored.

Minimal example::

    name: my-comparison
    output_dir: runs/my-comparison
    dataset: {kind: jsonl, references: refs.jsonl}
    systems:
      - {name: baseline, predictions: baseline.jsonl}
      - {name: ours, predictions: ours.jsonl}
    metrics: [bleu4, rougeL, cider]
    baseline: baseline
    rank_by: rougeL      # optional primary metric: rows ranked by it, with rank groups from the paired tests
    significance: {test: bootstrap, resamples: 5000, seed: 12345, correction: holm,
                   comparisons: [[ours, baseline]]}   # optional listed pairs [system, reference]

A system may say how closely it follows its source: ``fidelity: reproduced | reconstructed`` with a
``fidelity_note`` (shown in the leaderboard and the manifest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radeval.bench.dataset import DATASET_KINDS, REFERENCE_KINDS, DatasetSpec
from radeval.bench.embed import EmbedSpec
from radeval.bench.findings_lm import FINDINGS_LM, FindingsLMSpec, uses_findings_lm
from radeval.bench.scaling import ScalingSpec
from radeval.bench.system_spec import SystemSpec, parse_systems
from radeval.errors import InputError
from radeval.metrics.metric_spec import MetricSpec, parse_metrics
from radeval.schema import Context, Problems
from radeval.stats.signature import SignificanceSettings
from radeval_reader_study.suite import ReaderStudySpec, load_yaml_mapping

#: Top-level keys of a suite.
TOP_KEYS: tuple[str, ...] = ("name", "description", "output_dir", "dataset", "systems", "metrics", "baseline",
                             "significance", "reader_study", "embed", "scaling", "literature", "rank_by",
                             "findings_lm")


@dataclass(frozen=True)
class Suite:
    """A validated benchmark suite."""

    name: str
    path: Path | None
    output_dir: Path
    dataset: DatasetSpec
    systems: tuple[SystemSpec, ...]
    metrics: tuple[MetricSpec, ...]
    baseline: str | None
    significance: SignificanceSettings
    reader_study: ReaderStudySpec | None = None
    embed: EmbedSpec = field(default_factory=EmbedSpec)
    scaling: ScalingSpec | None = None
    literature: str | None = None
    description: str = ""
    rank_by: str | None = None  # primary metric: leaderboard rows ranked by it, with rank groups
    findings_lm: FindingsLMSpec | None = None  # the stand-in report LLM of systems with ``llm: findings-lm``

    def system(self, name: str) -> SystemSpec:
        """The system called ``name``."""
        for s in self.systems:
            if s.name == name:
                return s
        raise KeyError(name)


def _literature(problems: Problems, value: Any) -> str | None:
    from radeval.leaderboard.literature import LITERATURE

    if value is not None and value not in LITERATURE:
        problems.add("literature", f"{value!r} is not one of {', '.join(LITERATURE)}")
        return None
    return None if value is None else str(value)


def _bind_label_set(problems: Problems, parts: Mapping[str, Any]) -> tuple[MetricSpec, ...]:
    """``dataset.label_set`` against the systems' prior widths; label-F1 metrics get the suite's labels."""
    from radeval.bench.label_set import apply_label_set
    from radeval.registry import generators

    return apply_label_set(problems, parts["dataset"].label_set, parts["systems"], parts["metrics"],
                           set(generators.names()))


def _cross_checks(problems: Problems, suite: Mapping[str, Any], *, for_export: bool) -> None:
    """What spans sections: the baseline and reader-study systems exist, models have a CT dataset."""
    names = [s.name for s in suite["systems"]]
    baseline, significance = suite["baseline"], suite["significance"]
    if baseline is not None and baseline not in names:
        problems.add("baseline", f"{baseline!r} is not one of the systems ({', '.join(sorted(names))})")
    if significance.mode == "baseline" and baseline is None and names:
        problems.add("baseline", "mode 'baseline' needs a 'baseline' system")
    for i, pair in enumerate(significance.comparisons):
        for s in pair:
            if s not in names:
                problems.add(f"significance.comparisons[{i}]", f"{s!r} is not one of the systems "
                                                              f"({', '.join(sorted(names))})")
    reader = suite["reader_study"]
    for s in (reader.systems or ()) if reader is not None else ():
        if s not in names:
            problems.add("reader_study.systems", f"{s!r} is not one of the systems")
    if reader is not None and not for_export:
        for key in ("out", "key"):
            if getattr(reader, key) is not None:
                problems.add(f"reader_study.{key}", "applies to `radeval reader-study export`; `radeval bench` "
                                                    "writes the packet and its key under <output_dir>/reader_study/")
    _check_slab_tokens(problems, suite)
    _check_pretrain_extra(problems, suite)
    _check_findings_lm(problems, suite)
    kind = suite["dataset"].kind
    if kind in REFERENCE_KINDS:  # registry models embed volumes: a references file has none
        model_systems = [s.name for s in suite["systems"] if s.kind != "predictions"]
        if model_systems:
            problems.add("systems", f"{', '.join(model_systems)}: registry models need a CT dataset (dataset kind "
                                    f"'ctrate' or 'phantom'), not a references file ({kind})")
        if suite["scaling"] is not None:
            problems.add("scaling", f"the scaling study trains models: it needs a CT dataset, not kind {kind!r}")


def _check_pretrain_extra(problems: Problems, suite: Mapping[str, Any]) -> None:
    """``embed.pretrain_extra_phantoms`` draws phantoms like the suite's dataset and feeds the encoder pretraining:
    it needs a ``phantom`` dataset, ``embed.pretrain_epochs > 0`` and a dataset seed below the extra seed offset."""
    from radeval.bench.embed import PRETRAIN_EXTRA_SEED_OFFSET

    embed, dataset = suite["embed"], suite["dataset"]
    if not embed.pretrain_extra_phantoms:
        return
    where = "embed.pretrain_extra_phantoms"
    if dataset.kind != "phantom":
        problems.add(where, f"extra pretraining phantoms are drawn like a phantom dataset; dataset kind is "
                            f"{dataset.kind!r}, not 'phantom'")
    if not embed.pretrain_epochs:
        problems.add(where, "the extra phantoms feed the encoder pretraining only; set embed.pretrain_epochs > 0")
    if dataset.kind == "phantom" and dataset.seed >= PRETRAIN_EXTRA_SEED_OFFSET:
        problems.add("dataset.seed", f"{dataset.seed}: with embed.pretrain_extra_phantoms the dataset seed must be "
                                     f"below {PRETRAIN_EXTRA_SEED_OFFSET} (the extra phantoms' seed is the dataset's "
                                     f"+ {PRETRAIN_EXTRA_SEED_OFFSET}, so the two never coincide)")


def _check_findings_lm(problems: Problems, suite: Mapping[str, Any]) -> None:
    """``llm: findings-lm`` systems: the stand-in's corpus is drawn like the suite's phantom dataset, so it needs a
    ``phantom`` dataset whose seed stays below the corpus seed offset; a model trained here (not a checkpoint)."""
    from radeval.bench.findings_lm import CORPUS_SEED_OFFSET

    dataset = suite["dataset"]
    scaling = suite.get("scaling")
    if scaling is not None and FINDINGS_LM in scaling.llms:
        problems.add("scaling.llms", f"{FINDINGS_LM!r}: the demo's stand-in report LLM serves the suite's systems; the "
                                     "scaling study compares LLM sizes (name real LLM specs)")
    users = [s for s in suite["systems"] if uses_findings_lm(getattr(s, "config", None))]
    for s in users:
        if s.kind != "train":
            problems.add(f"systems ({s.name})", f"llm: {FINDINGS_LM} is built for systems trained by the suite; "
                                                "a checkpoint names its own LLM")
    if not users:
        if suite.get("findings_lm") is not None:
            problems.add("findings_lm", f"no system uses it (set `llm: {FINDINGS_LM}` in a system's config)")
        return
    if dataset.kind != "phantom":
        problems.add("systems", f"llm: {FINDINGS_LM} (the demo's stand-in report LLM) is pretrained on phantom "
                                f"reports drawn like the dataset; dataset kind is {dataset.kind!r}, not 'phantom'")
    elif dataset.seed >= CORPUS_SEED_OFFSET:
        problems.add("dataset.seed", f"{dataset.seed}: with llm: {FINDINGS_LM} the dataset seed must be below "
                                     f"{CORPUS_SEED_OFFSET} (the stand-in's corpus seed is the dataset's + "
                                     f"{CORPUS_SEED_OFFSET}, so the two never coincide)")


def _check_slab_tokens(problems: Problems, suite: Mapping[str, Any]) -> None:
    """A system whose generator reads CT-CLIP slab tokens needs ``embed: {slab_tokens: true}`` (checked before any
    embedding or training)."""
    if suite["embed"].slab_tokens:
        return
    from radeval.registry import generators

    known = set(generators.names())
    for s in suite["systems"]:
        model = getattr(s, "model", None)
        if model in known and getattr(generators.get(str(model)), "use_slab_tokens", False):
            problems.add(f"systems ({s.name})", f"{model} reads CT-CLIP slab tokens, but the suite embeds without "
                                                "them; set `embed: {slab_tokens: true}` (`radeval embed --slab-tokens`)")


def parse_suite(data: Mapping[str, Any], *, base_dir: Path, source: str = "suite",
                check_files: bool = True, for_export: bool = False) -> Suite:
    """Validate a suite given as a mapping (what the YAML holds).

    Args:
        data: the parsed YAML.
        base_dir: relative paths are resolved against it (the YAML's folder).
        source: name used in error messages (the file path).
        check_files: check that prediction/reference files and checkpoints exist.
        for_export: validate for ``radeval reader-study export`` (which also takes ``reader_study.out``/``key``).

    Returns:
        the :class:`Suite`.

    Raises:
        InputError: listing every problem found, each with its YAML path.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"{source}: a suite must be a YAML mapping, got {type(data).__name__}")
    problems = Problems(source)
    context = Context(base_dir, check_files=check_files)
    problems.unknown_keys("top level", data, TOP_KEYS)
    name = str(data.get("name") or (Path(source).stem if source else "suite"))
    baseline = data.get("baseline")
    parts: dict[str, Any] = {
        "dataset": DatasetSpec.from_section(data.get("dataset"), problems, context),
        "systems": parse_systems(data.get("systems"), problems, context),
        "metrics": parse_metrics(data.get("metrics"), problems),
        "baseline": None if baseline is None else str(baseline),
        "significance": SignificanceSettings.from_section(data.get("significance"), problems),
        "reader_study": (None if data.get("reader_study") is None
                         else ReaderStudySpec.from_section(data.get("reader_study"), problems, context)),
        "embed": EmbedSpec.from_section(data.get("embed"), problems, context),
        "scaling": (None if data.get("scaling") is None
                    else ScalingSpec.from_section(data.get("scaling"), problems, context)),
        "literature": _literature(problems, data.get("literature")),
        "findings_lm": (None if data.get("findings_lm") is None
                        else FindingsLMSpec.from_section(data.get("findings_lm"), problems, context)),
    }
    _cross_checks(problems, parts, for_export=for_export)
    parts["metrics"] = _bind_label_set(problems, parts)
    rank_by = None if data.get("rank_by") is None else str(data["rank_by"])
    metric_names = [m.name for m in parts["metrics"]]
    if rank_by is not None and rank_by not in metric_names:
        problems.add("rank_by", f"{rank_by!r} is not one of the suite's metrics ({', '.join(metric_names)})")
    out = context.resolve(data.get("output_dir") or f"runs/{name}")
    problems.raise_if_any()
    return Suite(name=name, path=Path(source) if source else None, output_dir=out,
                 description=str(data.get("description", "")), rank_by=rank_by, **parts)


def load_suite(path: str | Path, *, check_files: bool = True, output_dir: str | Path | None = None,
               for_export: bool = False) -> Suite:
    """Read and validate a suite YAML file.

    Relative paths in the suite are resolved against the YAML file's folder, except ``output_dir`` (default
    ``runs/<name>``), which is resolved against the current directory (so ``runs/…`` lands where the user runs).

    Args:
        path: the suite YAML.
        check_files: check that the files and folders the suite names exist.
        output_dir: overrides the suite's ``output_dir``.
        for_export: validate for ``radeval reader-study export --suite``.

    Returns:
        the validated :class:`Suite`.

    Raises:
        InputError: unreadable YAML (with line) or every validation problem at once.
    """
    p = Path(path)
    data = load_yaml_mapping(p)
    if output_dir is None and data.get("output_dir"):
        output_dir = data["output_dir"]
    suite = parse_suite(data, base_dir=p.parent.resolve(), source=str(p), check_files=check_files,
                        for_export=for_export)
    out = Path(output_dir).expanduser() if output_dir is not None else Path("runs") / suite.name
    return _replace_output(suite, out if out.is_absolute() else Path.cwd() / out)


def _replace_output(suite: Suite, out: Path) -> Suite:
    from dataclasses import replace

    return replace(suite, output_dir=out)


__all__ = ["DATASET_KINDS", "TOP_KEYS", "DatasetSpec", "EmbedSpec", "MetricSpec", "ReaderStudySpec", "ScalingSpec",
           "SignificanceSettings", "Suite", "SystemSpec", "load_suite", "parse_suite"]
