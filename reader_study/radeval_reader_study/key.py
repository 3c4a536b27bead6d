"""The unblinding key: item id -> (system, case), plus what is needed to validate and analyse ratings.

The key is a JSON file kept *outside* the packet folder (only the study coordinator holds it). It
records the packet hash, the SHA-256 of every packet file, the seeds, the rubric, the readers and
each reader's display order, so ratings can be checked and unblinded without the packet itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radeval.errors import InputError
from radeval.paths import atomic_write_text
from radeval_reader_study.packet import ItemOrigin
from radeval_reader_study.rubric import Rubric, rubric_from_dict

#: ``format`` field of a key file.
KEY_FORMAT = "radeval-reader-study-key"


@dataclass(frozen=True)
class StudyKey:
    """Contents of an unblinding key file.

    Attributes:
        packet_sha256: the packet hash (SHA-256 of the packet's ``manifest.json``).
        items: item id -> origin (system, case id).
        readers: reader ids.
        systems: system names in export order; the first is the default baseline.
        case_ids: the sampled cases.
        rubric: the rubric the packet used.
        seed: the case-sampling seed.
        blinding_seed: the seed of ids and orders.
        orders: reader -> item ids in that reader's display order.
        files: packet file (relative path) -> SHA-256.
        strata: case id -> stratum label (empty when not stratified).
        baseline: the system compared against by default.
    """

    packet_sha256: str
    items: Mapping[str, ItemOrigin]
    readers: tuple[str, ...]
    systems: tuple[str, ...]
    case_ids: tuple[str, ...]
    rubric: Rubric
    seed: int
    blinding_seed: int
    orders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    strata: Mapping[str, str] = field(default_factory=dict)
    baseline: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form written to the key file."""
        return {
            "format": KEY_FORMAT,
            "version": 1,
            "packet_sha256": self.packet_sha256,
            "baseline": self.baseline or self.systems[0],
            "systems": list(self.systems),
            "readers": list(self.readers),
            "case_ids": list(self.case_ids),
            "seed": self.seed,
            "blinding_seed": self.blinding_seed,
            "rubric": self.rubric.to_dict(),
            "items": {i: {"system": o.system, "case_id": o.case_id} for i, o in self.items.items()},
            "orders": {r: list(v) for r, v in self.orders.items()},
            "files": dict(self.files),
            "strata": dict(self.strata),
        }


def write_key(path: str | Path, key: StudyKey) -> None:
    """Write ``key`` as JSON (atomically)."""
    atomic_write_text(path, json.dumps(key.to_dict(), ensure_ascii=False, indent=1) + "\n")


def read_key(path: str | Path) -> StudyKey:
    """Read an unblinding key file.

    Raises:
        InputError: missing file, invalid JSON, not a key file, or a missing field (named).
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: key file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not a JSON key file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
        raise InputError(f"{p}: not a reader-study key (expected \"format\": \"{KEY_FORMAT}\")")
    required = ("packet_sha256", "items", "readers", "systems", "case_ids", "rubric", "seed", "blinding_seed")
    missing = [k for k in required if k not in data]
    if missing:
        raise InputError(f"{p}: key file lacks field(s) {', '.join(missing)}")
    items = {}
    for item_id, origin in data["items"].items():
        if not isinstance(origin, dict) or "system" not in origin or "case_id" not in origin:
            raise InputError(f"{p}: item {item_id!r}: expected {{\"system\": ..., \"case_id\": ...}}")
        items[str(item_id)] = ItemOrigin(system=str(origin["system"]), case_id=str(origin["case_id"]))
    return StudyKey(
        packet_sha256=str(data["packet_sha256"]),
        items=items,
        readers=tuple(str(r) for r in data["readers"]),
        systems=tuple(str(s) for s in data["systems"]),
        case_ids=tuple(str(c) for c in data["case_ids"]),
        rubric=rubric_from_dict(data["rubric"], where=f"{p}: rubric"),
        seed=int(data["seed"]),
        blinding_seed=int(data["blinding_seed"]),
        orders={str(r): tuple(v) for r, v in (data.get("orders") or {}).items()},
        files=dict(data.get("files") or {}),
        strata={str(k): str(v) for k, v in (data.get("strata") or {}).items()},
        baseline=str(data.get("baseline") or data["systems"][0]),
    )
