"""The blinded packet's content: what each reader sees, in their order, without any system name.

A :class:`Packet` is built once by :func:`build_packet` and rendered into every format (HTML form,
XLSX, REDCap). Its canonical JSON form, ``manifest.json`` inside the packet folder, is hashed; that
SHA-256 is *the packet hash*, printed into every form and every saved rating file and recorded in
the unblinding key, so ratings from another packet are recognised at ingest.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from radeval_reader_study.blinding import new_item_ids, shuffled
from radeval_reader_study.formatting import normalise_report
from radeval_reader_study.rubric import Rubric

#: ``format`` field of ``manifest.json``.
MANIFEST_FORMAT = "radeval-reader-study-packet"


@dataclass(frozen=True)
class PacketItem:
    """One report to rate: an opaque id and the normalised text."""

    item_id: str
    text: str


@dataclass(frozen=True)
class PacketCase:
    """One case as a reader sees it: its number in that reader's order, the reference, the items."""

    number: int
    reference: str | None
    items: tuple[PacketItem, ...]


@dataclass(frozen=True)
class ReaderPacket:
    """Everything one reader rates, in that reader's order."""

    reader: str
    cases: tuple[PacketCase, ...]

    @property
    def item_ids(self) -> list[str]:
        """Item ids in display order."""
        return [it.item_id for case in self.cases for it in case.items]


@dataclass(frozen=True)
class ItemOrigin:
    """What the key knows about an item: the system that wrote it and its case."""

    system: str
    case_id: str


@dataclass(frozen=True)
class Packet:
    """The whole blinded study plus the (secret) origin of every item."""

    rubric: Rubric
    show_reference: bool
    readers: tuple[ReaderPacket, ...]
    origins: Mapping[str, ItemOrigin]
    case_ids: tuple[str, ...]

    def manifest(self) -> dict[str, Any]:
        """The packet's content as plain data, with no system names and no case ids."""
        return {
            "format": MANIFEST_FORMAT,
            "version": 1,
            "rubric": self.rubric.to_dict(),
            "show_reference": self.show_reference,
            "readers": [
                {"reader": rp.reader,
                 "cases": [{"number": c.number, "reference": c.reference,
                            "items": [{"item_id": it.item_id, "text": it.text} for it in c.items]}
                           for c in rp.cases]}
                for rp in self.readers
            ],
        }

    def manifest_bytes(self) -> bytes:
        """Canonical UTF-8 JSON of :meth:`manifest` (sorted keys)."""
        return (json.dumps(self.manifest(), ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")

    @property
    def sha256(self) -> str:
        """The packet hash: SHA-256 of :meth:`manifest_bytes`."""
        return hashlib.sha256(self.manifest_bytes()).hexdigest()


def build_packet(references: Mapping[str, str], systems: Mapping[str, Mapping[str, str]], *,
                 case_ids: Sequence[str], readers: Sequence[str], rubric: Rubric, show_reference: bool,
                 blinding_seed: int) -> Packet:
    """Assign ids and orders for the sampled cases.

    Args:
        references: case id -> reference report.
        systems: system name -> (case id -> report); each must cover ``case_ids``.
        case_ids: the sampled cases.
        readers: reader ids.
        rubric: the rating rubric.
        show_reference: include the reference report as ground truth.
        blinding_seed: seed of the id/order generator (kept only in the key).
    """
    rng = random.Random(blinding_seed)
    names = list(systems)
    ids = new_item_ids(len(case_ids) * len(names), rng)
    origins: dict[str, ItemOrigin] = {}
    per_case: dict[str, list[PacketItem]] = {}
    k = 0
    for cid in case_ids:
        items = []
        # id assignment walks systems in a shuffled order too, so id draw order says nothing either
        for name in shuffled(names, rng):
            item_id = ids[k]
            k += 1
            origins[item_id] = ItemOrigin(system=name, case_id=cid)
            items.append(PacketItem(item_id, normalise_report(systems[name][cid])))
        per_case[cid] = items
    reader_packets = []
    for reader in readers:
        cases = []
        for number, cid in enumerate(shuffled(case_ids, rng), start=1):
            ref = normalise_report(references[cid]) if show_reference else None
            cases.append(PacketCase(number, ref, tuple(shuffled(per_case[cid], rng))))
        reader_packets.append(ReaderPacket(reader, tuple(cases)))
    return Packet(rubric=rubric, show_reference=show_reference, readers=tuple(reader_packets),
                  origins=origins, case_ids=tuple(case_ids))
