"""Shared fixtures of the reader-study tests: a small synthetic study, its packet, and a rater."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from radeval.types import Case
from radeval_reader_study.export import ExportResult, export_packet
from radeval_reader_study.key import StudyKey, read_key

SYSTEMS = ("baseline", "v2", "v3")


@dataclass
class StudyInputs:
    """References (with a label) and three systems' reports."""

    cases: list[Case]
    systems: dict[str, dict[str, str]]


def make_inputs(n_cases: int = 30) -> StudyInputs:
    """Cases ``case000...`` with an ``effusion`` label on every third case; systems differ in wording."""
    cases = [Case(f"case{i:03d}", f"Reference findings {i}.\nNo pleural effusion.",
                  {"effusion": int(i % 3 == 0)}) for i in range(n_cases)]
    systems = {
        "baseline": {c.id: f"Findings {i}. Lungs clear." for i, c in enumerate(cases)},
        "v2": {c.id: f"Findings  {i}.\r\nLungs clear.  " for i, c in enumerate(cases)},
        "v3": {c.id: f"  Findings {i}.\tLungs are clear and there is no effusion." for i, c in enumerate(cases)},
    }
    return StudyInputs(cases, systems)


@pytest.fixture
def study_inputs() -> StudyInputs:
    return make_inputs()


@pytest.fixture
def exported(tmp_path: Path, study_inputs: StudyInputs) -> ExportResult:
    """A 12-case, 2-reader packet in every format with a fixed blinding seed."""
    return export_packet(study_inputs.cases, study_inputs.systems, n=12, readers=2, seed=7,
                         out_dir=tmp_path / "packet", key_path=tmp_path / "key.json", blinding_seed=11)


ScoreRule = Callable[[str, str, str, str], int]  # (reader, system, case_id, criterion) -> score


def planted_score(reader: str, system: str, case_id: str, criterion: str) -> int:
    """A deterministic rating with a real system effect and reader noise (for end-to-end tests)."""
    base = {"baseline": 3, "v2": 3, "v3": 4}[system]
    rnd = random.Random(f"{reader}|{system}|{case_id}|{criterion}")
    return max(1, min(5, base + rnd.choice([-1, 0, 0, 0, 1])))


def form_csv(key: StudyKey, reader: str, rule: ScoreRule = planted_score, *, items: list[str] | None = None) -> str:
    """The CSV the HTML form would save for ``reader`` under ``rule``."""
    crits = list(key.rubric.criterion_ids)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["packet_sha256", "reader", "item_id", *crits, "comment", "saved_at"])
    for item in items if items is not None else key.orders[reader]:
        o = key.items[item]
        w.writerow([key.packet_sha256, reader, item, *(rule(reader, o.system, o.case_id, c) for c in crits),
                    "", "2026-01-01T00:00:00Z"])
    return buf.getvalue()


@pytest.fixture
def write_form_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a form CSV for one reader and return its path."""

    def write(key_path: Path, reader: str, rule: ScoreRule = planted_score, *, name: str | None = None,
              items: list[str] | None = None) -> Path:
        key = read_key(key_path)
        path = tmp_path / (name or f"{reader}.csv")
        path.write_text(form_csv(key, reader, rule, items=items), encoding="utf-8")
        return path

    return write


@pytest.fixture
def score_rule() -> ScoreRule:
    """The planted rating rule (see :func:`planted_score`)."""
    return planted_score
