"""Stage 1 of a benchmark: the evaluation references (and the CT dataset behind model systems).

This module owns the suite's ``dataset`` section (:class:`DatasetSpec`): which keys exist, which dataset kinds
they apply to, and what a valid value is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radeval.bench.manifest import content_hash
from radeval.data.labels import LABEL_SETS
from radeval.errors import InputError
from radeval.io import REXRANK_REFERENCE, read_reports
from radeval.schema import (Choice, Context, FilePath, Flag, Integer, IntTriple, Number, Problems, Text, key,
                            parse_section, section_mapping)

if TYPE_CHECKING:
    from radeval.bench.suite import Suite

#: Dataset kinds: a references file (``jsonl``, ``csv``, ``rexrank``), a CT-RATE-layout folder (``ctrate``) or
#: a synthetic CT-RATE dataset generated into the run's work dir (``phantom``).
DATASET_KINDS: tuple[str, ...] = ("jsonl", "csv", "rexrank", "ctrate", "phantom")

#: Kinds that read a references file (no volumes: registry models cannot run on them).
REFERENCE_KINDS: tuple[str, ...] = ("jsonl", "csv", "rexrank")

_ANY = DATASET_KINDS
_CT = ("ctrate", "phantom")


@dataclass(frozen=True)
class DatasetSpec:
    """The ``dataset`` section: where the evaluation cases (and, for model systems, training data) come from.

    Each key applies to some kinds only (``kinds`` in its metadata); giving it for another kind is a
    validation error, never silently ignored.

    Attributes:
        kind: one of :data:`DATASET_KINDS`.
        references: the references file (``jsonl``/``csv``/``rexrank``).
        root: the CT-RATE-layout folder (``ctrate``).
        split / train_split: evaluation and training split inside the folder (``ctrate``/``phantom``).
        n / seed / shape: size, seed and volume shape ``[D, H, W]`` of a ``phantom`` dataset.
        negation_rate: of a ``phantom`` dataset: how often a negative finding gets its own sentence (default 0.7;
            lower writes shorter reports).
        valid_fraction: of a ``phantom`` dataset: share of patients in the evaluation split (default 0.25).
        textured_findings: of a ``phantom`` dataset: give the lung-density findings patch-scale structure
            (``make_phantom_dataset(textured=True)``; a phantom design choice so a patch-normalising encoder can
            see them; default false: the plain phantom).
        id_field / text_field: columns of the references file.
        limit: evaluate the first ``limit`` cases only.
        label_set: the abnormality label set of the reports (``ct-rate`` or ``inspect``), passed to the
            label head, V-3's prior width and the label F1 stages.
        split_file: a train/test split file (``radeval data inspect-split``) read instead of the layout's
            own split folders (``ctrate``/``phantom``).
    """

    kind: str = key("", Choice(DATASET_KINDS))
    references: Path | None = key(None, FilePath("file"))
    root: Path | None = key(None, FilePath("dir"))
    split: str = key("valid", Text())
    train_split: str = key("train", Text())
    n: int = key(48, Integer(low=1))
    seed: int = key(0, Integer())
    shape: tuple[int, int, int] | None = key(None, IntTriple())
    negation_rate: float | None = key(None, Number(low=0.0, high=1.0))
    valid_fraction: float | None = key(None, Number(low=0.0, high=1.0, open_bounds=True))
    textured_findings: bool = key(False, Flag())
    id_field: str | None = key(None, Text())
    text_field: str | None = key(None, Text())
    limit: int | None = key(None, Integer(low=1))
    label_set: str = key("ct-rate", Choice(tuple(LABEL_SETS)))
    split_file: Path | None = key(None, FilePath("file"))

    #: Which kinds each key applies to (``kind`` and the rest of the keys not listed apply to all).
    KINDS_OF_KEY = {"references": REFERENCE_KINDS, "id_field": REFERENCE_KINDS, "text_field": REFERENCE_KINDS,
                    "root": ("ctrate",), "split": _CT, "train_split": _CT, "n": ("phantom",),
                    "seed": ("phantom",), "shape": ("phantom",), "negation_rate": ("phantom",),
                    "valid_fraction": ("phantom",), "textured_findings": ("phantom",), "split_file": _CT}

    @classmethod
    def from_section(cls, raw: Any, problems: Problems, context: Context, where: str = "dataset") -> DatasetSpec:
        """Parse and check the ``dataset`` section; every problem goes to ``problems`` with its YAML path.

        Example:
            >>> p = Problems("s.yaml")
            >>> spec = DatasetSpec.from_section({"kind": "jsonl", "references": "r.jsonl", "n": 3}, p,
            ...                                 Context(Path("/data"), check_files=False))
            >>> spec.references, p.items
            (PosixPath('/data/r.jsonl'), ["dataset.n: applies to kind phantom, not 'jsonl'"])
        """
        values = parse_section(cls, raw, problems, where, context)
        kind = values.get("kind")
        given = section_mapping(Problems(""), where, raw)
        if "kind" not in given:
            problems.add(where, "missing 'kind'")
        if kind is not None:
            for name, kinds in cls.KINDS_OF_KEY.items():
                if given.get(name) is not None and kind not in kinds:
                    problems.add(f"{where}.{name}", f"applies to kind {', '.join(kinds)}, not {kind!r}")
                    values.pop(name, None)
            if kind in REFERENCE_KINDS and "references" not in given:
                problems.add(where, f"kind {kind!r} needs 'references' (a file)")
            if kind == "ctrate" and "root" not in given:
                problems.add(where, "kind 'ctrate' needs 'root' (the CT-RATE folder)")
        return cls(**{"kind": str(given.get("kind")), **values})


@dataclass(frozen=True)
class BenchDataset:
    """The resolved dataset of a suite.

    Attributes:
        references: case id -> reference report of the evaluation split, in case order.
        root: a CT-RATE-layout folder (phantom or real) when the suite has one, else ``None``.
        eval_split / train_split: split names inside ``root``.
        labels: case id -> {label: 0/1} of the evaluation split, when known (for stratified reader studies).
        label_set: the suite's ``dataset.label_set`` (``ct-rate`` or ``inspect``), for the label stages.
        notes: lines shown under the leaderboard (e.g. "phantom data: synthetic volumes").
        beyond_limit: ids of the split left out by ``dataset.limit``; a predictions file may cover them
            (they are not scored), which is not a misalignment.
        layout: how ``root`` is read (``label_names``, ``split_file``), from the suite's dataset section.
    """

    references: dict[str, str]
    root: Path | None = None
    eval_split: str = "valid"
    train_split: str = "train"
    labels: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    beyond_limit: frozenset[str] = frozenset()
    label_set: str = "ct-rate"
    layout: dict = field(default_factory=dict)


def _ctrate(root: Path, suite: Suite, notes: list[str]) -> BenchDataset:
    from radeval.data.ctrate import CTRateDataset

    from radeval.bench.label_set import label_names

    layout = {"label_names": label_names(suite.dataset.label_set), "split_file": suite.dataset.split_file}
    ds = CTRateDataset(root, **layout)
    if suite.dataset.label_set.lower() == "inspect":
        notes = [*notes, "Label set: INSPECT, the RAD3D-Prefix paper's 21 entities (its Table 6); the paper extracts "
                         "them with ReXKG, our labels and label F1 approximate that extraction."]
    if suite.dataset.split_file is not None:
        notes = [*notes, f"Split: {ds.split_source} (evaluation part '{suite.dataset.split}')."]
    split = suite.dataset.split
    cases = ds.cases(split)
    beyond: frozenset[str] = frozenset()
    if suite.dataset.limit:
        beyond = frozenset(c.id for c in cases[suite.dataset.limit:])
        if beyond:
            notes = [*notes, f"dataset.limit: the first {suite.dataset.limit} of {len(cases)} cases are evaluated."]
        cases = cases[: suite.dataset.limit]
    if not cases:
        raise InputError(f"{root}: split {split!r} has no cases")
    labels = {c.id: dict(c.metadata.get("labels", {})) for c in cases}
    return BenchDataset({c.id: c.reference for c in cases}, root, split, suite.dataset.train_split, labels, notes,
                        beyond, label_set=suite.dataset.label_set, layout=layout)


def phantom_options(spec: DatasetSpec) -> dict[str, Any]:
    """The keyword options of :func:`radeval.data.phantom.make_phantom_dataset` a ``phantom`` dataset section gives
    (everything but ``n`` and ``seed``): the suite's dataset, and the extra pretraining phantoms of
    ``embed.pretrain_extra_phantoms``, are drawn with these.

    Example:
        >>> phantom_options(DatasetSpec(kind="phantom", negation_rate=0.1, textured_findings=True))
        {'labels': 'ct-rate', 'negation_rate': 0.1, 'textured': True}
    """
    options: dict[str, Any] = {"labels": spec.label_set.lower()}
    if spec.shape:
        options["shape"] = tuple(spec.shape)
    if spec.negation_rate is not None:
        options["negation_rate"] = spec.negation_rate
    if spec.valid_fraction is not None:
        options["valid_fraction"] = spec.valid_fraction
    if spec.textured_findings:
        options["textured"] = True
    return options


def resolve_dataset(suite: Suite, work: Path, *, quiet: bool = False) -> BenchDataset:
    """Load (or, for ``phantom``, generate once and cache) the suite's dataset."""
    spec = suite.dataset
    if spec.kind in {"jsonl", "csv", "rexrank"}:
        assert spec.references is not None  # guaranteed by suite validation
        refs = read_reports(spec.references, format=spec.kind, id_field=spec.id_field,
                            text_field=spec.text_field or (REXRANK_REFERENCE if spec.kind == "rexrank" else None),
                            name="references")
        items = list(refs.items())
        ref_notes = ([f"references: ReXrank's official 'Findings: {{findings}} Impression: {{impression}}' text "
                      f"(ref:{refs.convention})."] if refs.convention else [])
        if spec.limit and len(items) > spec.limit:
            note = f"dataset.limit: the first {spec.limit} of {len(items)} cases are evaluated."
            return BenchDataset(dict(items[: spec.limit]), notes=[*ref_notes, note],
                                beyond_limit=frozenset(k for k, _ in items[spec.limit:]), label_set=spec.label_set)
        return BenchDataset(dict(items), notes=ref_notes, label_set=spec.label_set)
    if spec.kind == "ctrate":
        assert spec.root is not None
        return _ctrate(spec.root, suite, [])
    if spec.kind == "phantom":
        from radeval.data.phantom import TEXTURED_VERSION, make_phantom_dataset

        key = content_hash({"n": spec.n, "seed": spec.seed, "shape": spec.shape,
                            **({"labels": spec.label_set.lower()} if spec.label_set.lower() != "ct-rate" else {}),
                            **({"negation_rate": spec.negation_rate} if spec.negation_rate is not None else {}),
                            **({"valid_fraction": spec.valid_fraction} if spec.valid_fraction is not None else {}),
                            **({"textured": TEXTURED_VERSION} if spec.textured_findings else {})})
        root = work / f"phantom-{key}"
        done = root / ".complete"
        if not done.exists():
            make_phantom_dataset(root, n=spec.n, seed=spec.seed, **phantom_options(spec))
            done.write_text("ok\n")
        note = (f"Phantom CT-RATE data (n={spec.n}, seed={spec.seed}): synthetic volumes and template-written "
                "reports; numbers demonstrate the pipeline, they say nothing about clinical performance.")
        return _ctrate(root, suite, [note])
    raise InputError(f"unknown dataset kind {spec.kind!r}")
