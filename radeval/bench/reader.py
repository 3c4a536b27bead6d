"""The reader-study packet of a benchmark (written once per set of inputs; a re-run keeps it).

The packet goes to ``<output>/reader_study/packet/`` and the unblinding key to
``<output>/reader_study/key/study_key.json`` — outside the packet folder, so the folder can be handed to
clinicians as is. Item ids and orders come from a secret blinding seed kept in the key, so the packet is
not regenerated on a re-run with unchanged inputs (that would hand out a second, differently blinded packet).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from radeval.bench.dataset import BenchDataset
from radeval.bench.manifest import content_hash
from radeval.bench.suite import Suite
from radeval.paths import atomic_write_text
from radeval.types import Case


def write_reader_packet(suite: Suite, dataset: BenchDataset, predictions: Mapping[str, Mapping[str, str]],
                        out: Path) -> list[Path]:
    """Export the suite's reader-study packet; returns the files written (or kept)."""
    from reader_study.export import export_packet

    spec = suite.reader_study
    assert spec is not None
    names = list(spec.systems or [s.name for s in suite.systems])
    systems = {name: dict(predictions[name]) for name in names}
    root = out / "reader_study"
    packet_dir, key_path, stamp = root / "packet", root / "key" / "study_key.json", root / "key" / "inputs.sha"
    inputs = content_hash({"spec": asdict(spec), "refs": dataset.references, "systems": systems})
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
    cases = [Case(cid, text, {"labels": dataset.labels.get(cid, {})}) for cid, text in dataset.references.items()]
    baseline = suite.baseline if suite.baseline in systems else None
    result = export_packet(cases, systems, n=min(spec.n, len(cases)), readers=spec.readers, seed=spec.seed,
                           out_dir=packet_dir, key_path=key_path, show_reference=spec.show_reference,
                           formats=spec.formats, baseline=baseline, overwrite=True)
    atomic_write_text(stamp, inputs + "\n")
    return list(result.files) + [result.key_path]
