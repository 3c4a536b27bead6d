"""Suite files: the YAML schema of a benchmark, loaded into dataclasses and validated before anything runs.

A suite names a dataset, the systems to compare (prediction files, registry models with a checkpoint,
or registry models to train), the metrics, the baseline, the significance settings, an optional
reader-study packet and the output directory. :func:`load_suite` reports *every* problem it finds
(unknown keys with close matches, missing files, unknown metric or model names) in one error.

Minimal example::

    name: my-comparison
    output_dir: runs/my-comparison
    dataset: {kind: jsonl, references: refs.jsonl}
    systems:
      - {name: baseline, predictions: baseline.jsonl}
      - {name: ours, predictions: ours.jsonl}
    metrics: [bleu4, rougeL, cider]
    baseline: baseline
    significance: {test: bootstrap, resamples: 5000, seed: 12345, correction: holm}
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from radeval.errors import InputError

DATASET_KINDS = ("jsonl", "csv", "rexrank", "ctrate", "phantom")
TESTS = ("bootstrap", "ar")
CI_METHODS = ("percentile", "bca", "sacrebleu")
CORRECTIONS = ("holm", "bh", "by", "bonferroni", "none")
MODES = ("baseline", "all-pairs")
READER_FORMATS = ("html", "xlsx", "redcap")


@dataclass(frozen=True)
class DatasetSpec:
    """Where the evaluation cases (and, for model systems, training data) come from.

    ``kind``: ``jsonl``/``csv``/``rexrank`` (a references file), ``ctrate`` (a CT-RATE-layout root),
    ``phantom`` (a synthetic CT-RATE dataset generated into the run's work dir).
    """

    kind: str
    references: Path | None = None
    root: Path | None = None
    split: str = "valid"
    train_split: str = "train"
    n: int = 48
    seed: int = 0
    shape: tuple[int, int, int] | None = None
    id_field: str | None = None
    text_field: str | None = None
    limit: int | None = None
    label_set: str = "ct-rate"
    split_file: Path | None = None


@dataclass(frozen=True)
class MetricSpec:
    """One metric and its options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SystemSpec:
    """One system: a predictions file, or a registry model (checkpoint, or trained here).

    ``config`` holds the generator's settings (e.g. ``llm``, ``prefix_length``, ``num_layers``), ``train``
    the optimisation settings (``epochs``, ``lr``, ``batch_size``, ``max_steps`` ...), ``generate`` the
    decoding settings (``batch_size``).
    """

    name: str
    predictions: Path | None = None
    model: str | None = None
    checkpoint: Path | None = None
    train: dict[str, Any] | None = None
    generate: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``predictions``, ``checkpoint`` or ``train``."""
        if self.predictions is not None:
            return "predictions"
        return "checkpoint" if self.checkpoint is not None else "train"


@dataclass(frozen=True)
class SignificanceSpec:
    """Settings of the paired test (see :mod:`radeval.stats`)."""

    test: str = "bootstrap"
    resamples: int | None = None
    seed: int = 12345
    ci: str = "percentile"
    confidence: float = 0.95
    correction: str = "holm"
    mode: str = "baseline"
    alpha: float = 0.05


@dataclass(frozen=True)
class ReaderStudySpec:
    """A blinded reader-study packet written beside the leaderboard."""

    n: int = 100
    readers: int = 2
    seed: int = 0
    systems: tuple[str, ...] | None = None
    show_reference: bool = True
    formats: tuple[str, ...] = ("html", "xlsx", "redcap")


@dataclass(frozen=True)
class EmbedSpec:
    """How volumes become embeddings/logits for model systems (CT-ViT config or checkpoint)."""

    encoder: str = "small"
    checkpoint: Path | None = None
    label_head_epochs: int = 300
    batch_size: int = 4
    label_head: Path | None = None


@dataclass(frozen=True)
class ScalingSpec:
    """A scaling study: variants × LLMs, plotted as metric vs LLM parameters."""

    variants: tuple[str, ...]
    llms: tuple[str, ...]
    metric: str
    train: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


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
    significance: SignificanceSpec
    reader_study: ReaderStudySpec | None = None
    embed: EmbedSpec = field(default_factory=EmbedSpec)
    scaling: ScalingSpec | None = None
    literature: str | None = None
    description: str = ""

    def system(self, name: str) -> SystemSpec:
        """The system called ``name``."""
        for s in self.systems:
            if s.name == name:
                return s
        raise KeyError(name)


_TOP_KEYS = {"name", "description", "output_dir", "dataset", "systems", "metrics", "baseline", "significance",
             "reader_study", "embed", "scaling", "literature"}
_DATASET_KEYS = {"kind", "references", "root", "split", "train_split", "n", "seed", "shape", "id_field",
                 "text_field", "limit", "label_set", "split_file"}
_SYSTEM_KEYS = {"name", "predictions", "model", "checkpoint", "train", "generate", "config"}
_SIG_KEYS = {"test", "resamples", "seed", "ci", "confidence", "correction", "mode", "alpha"}
_READER_KEYS = {"n", "readers", "seed", "systems", "show_reference", "formats"}
_EMBED_KEYS = {"encoder", "checkpoint", "label_head_epochs", "batch_size", "label_head"}
_SCALING_KEYS = {"variants", "llms", "metric", "train", "config"}


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def keys(self, where: str, given: Mapping[str, Any], allowed: set[str]) -> None:
        for key in given:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.add(where, f"unknown key {key!r}{hint}; allowed: {', '.join(sorted(allowed))}")

    def choice(self, where: str, value: Any, allowed: tuple[str, ...]) -> None:
        if value not in allowed:
            self.add(where, f"{value!r} is not one of {', '.join(allowed)}")

    def raise_if_any(self) -> None:
        if self.items:
            lines = "\n  - ".join(self.items)
            raise InputError(f"{self.source}: {len(self.items)} problem(s) in the suite:\n  - {lines}")


def _path(base: Path, value: Any) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else (base / p)


def _number(problems: _Problems, where: str, value: Any, default: Any, kind: type = int, *,
            low: float | None = None, high: float | None = None, low_open: bool = False,
            high_open: bool = False) -> Any:
    """``value`` as ``kind`` (``int``/``float``) within bounds; a problem (and ``default``) otherwise."""
    if value is None:
        return default
    if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
        problems.add(where, f"expected {'an integer' if kind is int else 'a number'}, got {value!r}")
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        problems.add(where, f"expected {'an integer' if kind is int else 'a number'}, got {value!r}")
        return default
    if low is not None and (number <= low if low_open else number < low):
        problems.add(where, f"{value!r} must be {'>' if low_open else '>='} {low}")
        return default
    if high is not None and (number >= high if high_open else number > high):
        problems.add(where, f"{value!r} must be {'<' if high_open else '<='} {high}")
        return default
    return number


def _names(problems: _Problems, where: str, value: Any) -> tuple[str, ...] | None:
    """A list of strings (a single string is one item, not its characters)."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        problems.add(where, f"expected a list, got {type(value).__name__}")
        return None
    return tuple(str(v) for v in value)


def _check_metric_options(problems: _Problems, where: str, name: str, options: dict[str, Any]) -> None:
    """Build the metric once (cheap: no weights are loaded) so a bad option fails before anything runs."""
    from radeval.errors import MissingDependencyError, MissingWeightsError
    from radeval.metrics import get_metric

    try:
        get_metric(name, **options)
    except (MissingWeightsError, MissingDependencyError):
        pass  # reported as "not available offline" by the run, never dropped
    except (TypeError, ValueError) as exc:  # InputError is a ValueError
        problems.add(where, f"invalid options {options!r}: {exc}")


def _mapping(problems: _Problems, where: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add(where, f"expected a mapping, got {type(value).__name__}")
        return {}
    return dict(value)


def parse_suite(data: Mapping[str, Any], *, base_dir: Path, source: str = "suite",
                check_files: bool = True) -> Suite:
    """Validate a suite given as a mapping (what the YAML holds).

    Args:
        data: the parsed YAML.
        base_dir: relative paths are resolved against it (the YAML's folder).
        source: name used in error messages (the file path).
        check_files: check that prediction/reference files and checkpoints exist.

    Raises:
        InputError: listing every problem found.
    """
    from radeval.metrics import available_metrics
    from radeval.registry import generators

    problems = _Problems(source)
    if not isinstance(data, Mapping):
        raise InputError(f"{source}: a suite must be a YAML mapping, got {type(data).__name__}")
    problems.keys("top level", data, _TOP_KEYS)
    name = str(data.get("name") or (Path(source).stem if source else "suite"))

    ds = _mapping(problems, "dataset", data.get("dataset"))
    problems.keys("dataset", ds, _DATASET_KEYS)
    kind = ds.get("kind")
    if kind is None:
        problems.add("dataset", "missing 'kind'")
    else:
        problems.choice("dataset.kind", kind, DATASET_KINDS)
    refs = _path(base_dir, ds["references"]) if ds.get("references") else None
    root = _path(base_dir, ds["root"]) if ds.get("root") else None
    if kind in {"jsonl", "csv", "rexrank"}:
        if refs is None:
            problems.add("dataset", f"kind {kind!r} needs 'references' (a file)")
        elif check_files and not refs.is_file():
            problems.add("dataset.references", f"file not found: {refs}")
    if kind == "ctrate":
        if root is None:
            problems.add("dataset", "kind 'ctrate' needs 'root' (the CT-RATE folder)")
        elif check_files and not root.is_dir():
            problems.add("dataset.root", f"folder not found: {root}")
    shape = ds.get("shape")
    if shape is not None and not (isinstance(shape, (list, tuple)) and len(shape) == 3):
        problems.add("dataset.shape", f"expected three integers [D, H, W], got {shape!r}")
        shape = None
    dataset = DatasetSpec(
        kind=str(kind), references=refs, root=root, split=str(ds.get("split", "valid")),
        train_split=str(ds.get("train_split", "train")), n=_number(problems, "dataset.n", ds.get("n"), 48, low=1),
        seed=_number(problems, "dataset.seed", ds.get("seed"), 0),
        shape=tuple(_number(problems, "dataset.shape", v, 1, low=1) for v in shape) if shape else None,
        id_field=ds.get("id_field"), text_field=ds.get("text_field"),
        limit=_number(problems, "dataset.limit", ds.get("limit"), None, low=1),
        label_set=str(ds.get("label_set", "ct-rate")),
        split_file=_path(base_dir, ds["split_file"]) if ds.get("split_file") else None,
    )
    if dataset.split_file is not None and check_files and not dataset.split_file.is_file():
        problems.add("dataset.split_file", f"file not found: {dataset.split_file} (make it with radeval data "
                                           "inspect-split)")

    systems: list[SystemSpec] = []
    raw_systems = data.get("systems")
    if not isinstance(raw_systems, list) or not raw_systems:
        problems.add("systems", "expected a non-empty list of systems")
        raw_systems = []
    seen: set[str] = set()
    known_models = set(generators.names())
    for i, raw in enumerate(raw_systems):
        where = f"systems[{i}]"
        entry = _mapping(problems, where, raw)
        problems.keys(where, entry, _SYSTEM_KEYS)
        sname = entry.get("name")
        if sname is None or str(sname).strip() == "":
            problems.add(where, "missing 'name'")
            continue
        sname = str(sname)  # a YAML name such as 2024 is read as a number; the baseline etc. match it as text
        where = f"systems[{i}] ({sname})"
        if sname in seen:
            problems.add(where, "duplicate system name")
        seen.add(sname)
        preds = _path(base_dir, entry["predictions"]) if entry.get("predictions") else None
        model = entry.get("model")
        ckpt = _path(base_dir, entry["checkpoint"]) if entry.get("checkpoint") else None
        train = entry.get("train")
        if preds is None and model is None:
            problems.add(where, "needs 'predictions' (a file) or 'model' (a registry name)")
        if preds is not None and (model or ckpt or train):
            problems.add(where, "'predictions' cannot be combined with 'model'/'checkpoint'/'train'")
        if preds is not None and check_files and not preds.is_file():
            problems.add(where, f"predictions file not found: {preds}")
        if model is not None:
            if model not in known_models:
                close = difflib.get_close_matches(str(model), sorted(known_models), n=2)
                hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
                problems.add(where, f"unknown model {model!r}{hint}; registered: {', '.join(sorted(known_models))}")
            if ckpt is not None and train is not None:
                problems.add(where, "give either 'checkpoint' or 'train', not both")
            if ckpt is not None and check_files and not ckpt.exists():
                problems.add(where, f"checkpoint not found: {ckpt}")
            if train is not None and not isinstance(train, Mapping):
                problems.add(where, "'train' must be a mapping of training options")
            if ckpt is None and train is None:
                train = {}
        if preds is not None and entry.get("config"):
            problems.add(where, "'config' applies to registry models, not to a predictions file")
        systems.append(SystemSpec(str(sname), preds, model, ckpt, dict(train) if isinstance(train, Mapping) else None,
                                  dict(_mapping(problems, f"{where}.generate", entry.get("generate"))),
                                  dict(_mapping(problems, f"{where}.config", entry.get("config")))))
    if len(systems) < 2 and raw_systems:
        problems.add("systems", "a benchmark compares at least two systems")

    metrics: list[MetricSpec] = []
    known_metrics = set(available_metrics())
    raw_metrics = data.get("metrics")
    if not isinstance(raw_metrics, list) or not raw_metrics:
        problems.add("metrics", "expected a non-empty list of metric names")
        raw_metrics = []
    metric_seen: dict[str, int] = {}
    for i, raw in enumerate(raw_metrics):
        if isinstance(raw, str):
            mname, options = raw, {}
        elif isinstance(raw, Mapping) and "name" in raw:
            extra = set(raw) - {"name", "options"}
            if extra:
                problems.add(f"metrics[{i}]", f"unknown key(s) {sorted(extra)}; use {{name: ..., options: {{...}}}}")
            mname, options = str(raw["name"]), dict(raw.get("options") or {})
        else:
            problems.add(f"metrics[{i}]", "expected a metric name or {name: ..., options: {...}}")
            continue
        if mname in metric_seen:
            problems.add(f"metrics[{i}]", f"duplicate metric {mname!r} (also metrics[{metric_seen[mname]}]); "
                                          "each metric can be listed once")
            continue
        metric_seen[mname] = i
        if mname not in known_metrics:
            close = difflib.get_close_matches(mname, sorted(known_metrics), n=2)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            problems.add(f"metrics[{i}]", f"unknown metric {mname!r}{hint}")
        else:
            _check_metric_options(problems, f"metrics[{i}] ({mname})", mname, options)
        metrics.append(MetricSpec(mname, options))

    baseline = data.get("baseline")
    baseline = None if baseline is None else str(baseline)
    if baseline is not None and baseline not in seen:
        problems.add("baseline", f"{baseline!r} is not one of the systems ({', '.join(sorted(seen))})")

    sig = _mapping(problems, "significance", data.get("significance"))
    problems.keys("significance", sig, _SIG_KEYS)
    significance = SignificanceSpec(
        test=str(sig.get("test", "bootstrap")),
        resamples=_number(problems, "significance.resamples", sig.get("resamples"), None),
        seed=_number(problems, "significance.seed", sig.get("seed"), 12345), ci=str(sig.get("ci", "percentile")),
        confidence=_number(problems, "significance.confidence", sig.get("confidence"), 0.95, float,
                           low=0, high=1, low_open=True, high_open=True),
        correction=str(sig.get("correction", "holm")), mode=str(sig.get("mode", "baseline")),
        alpha=_number(problems, "significance.alpha", sig.get("alpha"), 0.05, float,
                      low=0, high=1, low_open=True, high_open=True),
    )
    problems.choice("significance.test", significance.test, TESTS)
    problems.choice("significance.ci", significance.ci, CI_METHODS)
    problems.choice("significance.correction", significance.correction, CORRECTIONS)
    problems.choice("significance.mode", significance.mode, MODES)
    if significance.resamples is not None and significance.resamples < 100:
        problems.add("significance.resamples", f"{significance.resamples} is too few (at least 100)")
    if significance.mode == "baseline" and baseline is None and raw_systems:
        problems.add("baseline", "mode 'baseline' needs a 'baseline' system")

    reader = None
    if data.get("reader_study") is not None:
        rs = _mapping(problems, "reader_study", data.get("reader_study"))
        problems.keys("reader_study", rs, _READER_KEYS)
        rs_systems = _names(problems, "reader_study.systems", rs.get("systems")) or None
        for s in rs_systems or ():
            if s not in seen:
                problems.add("reader_study.systems", f"{s!r} is not one of the systems")
        formats = _names(problems, "reader_study.formats", rs.get("formats"))
        for f in formats or ():
            if f not in READER_FORMATS:
                problems.add("reader_study.formats", f"{f!r} is not one of {', '.join(READER_FORMATS)}")
        reader = ReaderStudySpec(n=_number(problems, "reader_study.n", rs.get("n"), 100, low=1),
                                 readers=_number(problems, "reader_study.readers", rs.get("readers"), 2, low=1),
                                 seed=_number(problems, "reader_study.seed", rs.get("seed"), 0),
                                 systems=rs_systems, show_reference=bool(rs.get("show_reference", True)),
                                 formats=formats or READER_FORMATS)

    em = _mapping(problems, "embed", data.get("embed"))
    problems.keys("embed", em, _EMBED_KEYS)
    embed = EmbedSpec(encoder=str(em.get("encoder", "small")),
                      checkpoint=_path(base_dir, em["checkpoint"]) if em.get("checkpoint") else None,
                      label_head_epochs=_number(problems, "embed.label_head_epochs", em.get("label_head_epochs"), 300,
                                                low=0),
                      batch_size=_number(problems, "embed.batch_size", em.get("batch_size"), 4, low=1),
                      label_head=_path(base_dir, em["label_head"]) if em.get("label_head") else None)

    scaling = None
    if data.get("scaling") is not None:
        sc = _mapping(problems, "scaling", data.get("scaling"))
        problems.keys("scaling", sc, _SCALING_KEYS)
        for key in ("variants", "llms", "metric"):
            if not sc.get(key):
                problems.add("scaling", f"missing {key!r}")
        for v in sc.get("variants") or ():
            if v not in known_models:
                problems.add("scaling.variants", f"unknown model {v!r}")
        scaling = ScalingSpec(tuple(sc.get("variants") or ()), tuple(str(x) for x in sc.get("llms") or ()),
                              str(sc.get("metric", "")), dict(sc.get("train") or {}), dict(sc.get("config") or {}))
        if scaling.metric and scaling.metric not in known_metrics:
            problems.add("scaling.metric", f"unknown metric {scaling.metric!r}")

    from radeval.bench.label_set import apply_label_set  # label set -> prior widths, label-F1 labels

    metrics = list(apply_label_set(problems, dataset.label_set, systems, metrics, known_models))
    literature = data.get("literature")
    if literature is not None and literature not in {"ct-rate", "inspect"}:
        problems.add("literature", f"{literature!r} is not one of ct-rate, inspect")
    if kind in {"jsonl", "csv", "rexrank"}:  # registry models embed volumes: a references file has none
        model_systems = [s.name for s in systems if s.kind != "predictions"]
        if model_systems:
            problems.add("systems", f"{', '.join(model_systems)}: registry models need a CT dataset (dataset kind "
                                    f"'ctrate' or 'phantom'), not a references file ({kind})")
        if scaling is not None:
            problems.add("scaling", f"the scaling study trains models: it needs a CT dataset, not kind {kind!r}")
    out = _path(base_dir, data.get("output_dir") or f"runs/{name}")
    problems.raise_if_any()
    return Suite(name=name, path=Path(source) if source else None, output_dir=out, dataset=dataset,
                 systems=tuple(systems), metrics=tuple(metrics), baseline=baseline, significance=significance,
                 reader_study=reader, embed=embed, scaling=scaling, literature=literature,
                 description=str(data.get("description", "")))


def load_suite(path: str | Path, *, check_files: bool = True, output_dir: str | Path | None = None) -> Suite:
    """Read and validate a suite YAML file.

    Relative paths in the suite are resolved against the YAML file's folder, except ``output_dir`` (default
    ``runs/<name>``), which is resolved against the current directory (so ``runs/…`` lands where the user runs).

    Raises:
        InputError: unreadable YAML (with line) or every validation problem at once.
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: suite file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{p}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if isinstance(data, Mapping) and output_dir is None and data.get("output_dir"):
        output_dir = data["output_dir"]
    suite = parse_suite(data, base_dir=p.parent.resolve(), source=str(p), check_files=check_files)
    out = Path(output_dir).expanduser() if output_dir is not None else Path("runs") / suite.name
    return _replace_output(suite, out if out.is_absolute() else Path.cwd() / out)


def _replace_output(suite: Suite, out: Path) -> Suite:
    from dataclasses import replace

    return replace(suite, output_dir=out)
