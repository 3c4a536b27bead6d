"""The reader-study packet of a benchmark (written once per set of inputs; a re-run keeps it).

The packet goes to ``<output>/reader_study/packet/`` and the unblinding key to
``<output>/reader_study/key/study_key.json`` — outside the packet folder, so the folder can be handed to
clinicians as is. Item ids and orders come from a secret blinding seed kept in the key, so the packet is
not regenerated on a re-run with unchanged inputs (that would hand out a second, differently blinded packet).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path

from radeval.bench.dataset import BenchDataset
from radeval.bench.manifest import content_hash
from radeval.bench.suite import Suite
from radeval_reader_study.suite import SuiteInputs
from radeval.errors import InputError
from radeval.paths import atomic_write_text
from radeval.types import Case


#: The ``reader_study`` keys of the packet's input stamp before ``stratify_by``/``rubric`` existed; the newer keys
#: join the stamp only when set, so an unchanged suite keeps its packet.
_STAMP_KEYS = ("n", "readers", "seed", "systems", "show_reference", "formats")


def _cases(dataset: BenchDataset, stratify_by: tuple[str, ...] | None) -> list[Case]:
    """The evaluation cases; with ``stratify_by``, each case's labels are also top-level metadata fields."""
    cases = []
    for cid, text in dataset.references.items():
        labels = dataset.labels.get(cid, {})
        meta: dict[str, object] = {"labels": labels}
        if stratify_by:
            missing = [f for f in stratify_by if f not in labels]
            if missing:
                raise InputError(f"reader_study.stratify_by: case {cid!r} has no label {missing[0]!r} "
                                 f"(labels: {', '.join(sorted(labels)) or 'none'})")
            meta.update(labels)
        cases.append(Case(cid, text, meta))
    return cases


def write_reader_packet(suite: Suite, dataset: BenchDataset, predictions: Mapping[str, Mapping[str, str]],
                        out: Path) -> list[Path]:
    """Export the suite's reader-study packet; returns the files written (or kept)."""
    from radeval_reader_study.export import export_packet
    from radeval_reader_study.rubric import load_rubric

    spec = suite.reader_study
    assert spec is not None
    names = list(spec.systems or [s.name for s in suite.systems])
    systems = {name: dict(predictions[name]) for name in names}
    root = out / "reader_study"
    packet_dir, key_path, stamp = root / "packet", root / "key" / "study_key.json", root / "key" / "inputs.sha"
    stamped = {k: v for k, v in asdict(spec).items() if k in _STAMP_KEYS or v is not None}
    inputs = content_hash({"spec": stamped, "refs": dataset.references, "systems": systems})
    if stamp.exists() and stamp.read_text().strip() == inputs and key_path.exists() and packet_dir.is_dir():
        return sorted(p for p in packet_dir.rglob("*") if p.is_file()) + [key_path]
    if stamp.exists() and key_path.exists():
        # The inputs changed (e.g. an edited predictions file): a new packet is exported, but the earlier
        # packet and its unblinding key may already be with the readers, so they are kept, not replaced.
        old = stamp.read_text().strip() or "unknown"
        archive = root / f"superseded-{old}"
        n = 1
        while archive.exists():
            n += 1
            archive = root / f"superseded-{old}-{n}"
        archive.mkdir(parents=True)
        if packet_dir.is_dir():
            packet_dir.rename(archive / "packet")
        key_path.parent.rename(archive / "key")
        warnings.warn(f"reader-study inputs changed: the earlier packet and its key were moved to {archive}",
                      stacklevel=2)
    cases = _cases(dataset, spec.stratify_by)
    baseline = suite.baseline if suite.baseline in systems else None
    result = export_packet(cases, systems, n=min(spec.n, len(cases)),
                           readers=list(spec.readers) if isinstance(spec.readers, tuple) else spec.readers,
                           seed=spec.seed, out_dir=packet_dir, key_path=key_path, show_reference=spec.show_reference,
                           formats=spec.formats, baseline=baseline, overwrite=True,
                           rubric=load_rubric(spec.rubric) if spec.rubric is not None else None,
                           stratify_by=list(spec.stratify_by) if spec.stratify_by else None)
    atomic_write_text(stamp, inputs + "\n")
    return list(result.files) + [result.key_path]


def export_inputs(path: str | Path, *, quiet: bool = False) -> SuiteInputs:
    """The inputs of ``radeval reader-study export --suite`` for a full benchmark suite.

    The suite is validated as ``radeval bench`` validates it; the references come from its dataset and the
    systems' reports from the benchmark's stages (cached by content: after ``radeval bench`` has run, nothing
    is embedded, trained or generated again; before, those stages run now).

    Args:
        path: the suite YAML.
        quiet: no progress bars.

    Returns:
        :class:`radeval_reader_study.suite.SuiteInputs` of the systems the ``reader_study`` section shows.

    Raises:
        InputError: every validation problem of the suite, or a stage's error.
    """
    from radeval.bench.dataset import resolve_dataset
    from radeval.bench.manifest import Manifest
    from radeval.bench.suite import load_suite
    from radeval.bench.systems import resolve_predictions
    from radeval_reader_study.suite import ReaderStudySpec, SuiteInputs

    suite = load_suite(path, for_export=True)
    spec = suite.reader_study or ReaderStudySpec()
    shown = replace(suite, systems=tuple(s for s in suite.systems if spec.systems is None or s.name in spec.systems))
    work = suite.output_dir / ".work"
    work.mkdir(parents=True, exist_ok=True)
    dataset = resolve_dataset(shown, work, quiet=quiet)
    predictions = resolve_predictions(shown, dataset, work, Manifest(suite=suite.name, suite_hash=""), quiet=quiet)
    return SuiteInputs(references=_cases(dataset, spec.stratify_by),
                       systems={s.name: predictions[s.name] for s in shown.systems}, baseline=suite.baseline,
                       spec=spec)
