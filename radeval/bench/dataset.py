"""Stage 1 of a benchmark: the evaluation references (and the CT dataset behind model systems)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from radeval.bench.manifest import content_hash
from radeval.bench.suite import Suite
from radeval.errors import InputError
from radeval.io import read_reports


@dataclass
class BenchDataset:
    """The resolved dataset of a suite.

    Attributes:
        references: case id -> reference report of the evaluation split, in case order.
        root: a CT-RATE-layout folder (phantom or real) when the suite has one, else ``None``.
        eval_split / train_split: split names inside ``root``.
        labels: case id -> {label: 0/1} of the evaluation split, when known (for stratified reader studies).
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
                        beyond, layout)


def resolve_dataset(suite: Suite, work: Path, *, quiet: bool = False) -> BenchDataset:
    """Load (or, for ``phantom``, generate once and cache) the suite's dataset."""
    spec = suite.dataset
    if spec.kind in {"jsonl", "csv", "rexrank"}:
        assert spec.references is not None  # guaranteed by suite validation
        refs = read_reports(spec.references, format=spec.kind, id_field=spec.id_field,
                            text_field=spec.text_field or ("section_findings" if spec.kind == "rexrank" else None),
                            name="references")
        items = list(refs.items())
        if spec.limit and len(items) > spec.limit:
            note = f"dataset.limit: the first {spec.limit} of {len(items)} cases are evaluated."
            return BenchDataset(dict(items[: spec.limit]), notes=[note],
                                beyond_limit=frozenset(k for k, _ in items[spec.limit:]))
        return BenchDataset(dict(items))
    if spec.kind == "ctrate":
        assert spec.root is not None
        return _ctrate(spec.root, suite, [])
    if spec.kind == "phantom":
        from radeval.data.phantom import make_phantom_dataset

        key = content_hash({"n": spec.n, "seed": spec.seed, "shape": spec.shape,
                            **({"labels": spec.label_set.lower()} if spec.label_set.lower() != "ct-rate" else {})})
        root = work / f"phantom-{key}"
        done = root / ".complete"
        if not done.exists():
            kwargs = {"shape": spec.shape} if spec.shape else {}
            make_phantom_dataset(root, n=spec.n, seed=spec.seed, labels=spec.label_set.lower(), **kwargs)
            done.write_text("ok\n")
        note = (f"Phantom CT-RATE data (n={spec.n}, seed={spec.seed}): synthetic volumes and template-written "
                "reports; numbers demonstrate the pipeline, they say nothing about clinical performance.")
        return _ctrate(root, suite, [note])
    raise InputError(f"unknown dataset kind {spec.kind!r}")
