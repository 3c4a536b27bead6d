"""Fixtures for the benchmark-runner tests: small prediction-file suites written to tmp dirs."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable

import pytest
import yaml

FINDINGS = [
    "No pleural effusion.", "Heart size is normal.", "Mild centrilobular emphysema in the upper lobes.",
    "There is a 5 mm nodule in the right lower lobe.", "No mediastinal lymphadenopathy.",
    "The airways are patent.", "Small hiatal hernia.", "Degenerative changes of the thoracic spine.",
    "No consolidation.", "Coronary artery calcifications are present.", "Bilateral dependent atelectasis.",
    "The thyroid gland is unremarkable.", "Pericardial effusion was not observed.",
]


def _write_jsonl(path: Path, items: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in items.items()), encoding="utf-8")
    return path


@pytest.fixture
def make_suite(tmp_path: Path) -> Callable[..., Path]:
    """Write refs + three systems (good, medium, poor) and a suite YAML; return the YAML path."""

    def make(n: int = 30, *, metrics: list | None = None, extra: dict | None = None, systems: dict | None = None,
             seed: int = 0, name: str = "tiny") -> Path:
        rng = random.Random(seed)
        refs = {f"case{i:03d}": " ".join(rng.sample(FINDINGS, 4)) for i in range(n)}
        good = dict(refs)
        medium = {k: " ".join(v.split(". ")[:2]) for k, v in refs.items()}
        poor = {k: rng.choice(FINDINGS) for k in refs}
        data_dir = tmp_path / "data"
        data_dir.mkdir(exist_ok=True)
        _write_jsonl(data_dir / "refs.jsonl", refs)
        files = {"poor": poor, "medium": medium, "good": good}
        if systems:
            files.update(systems)
        sys_entries = [{"name": name_, "predictions": str(_write_jsonl(data_dir / f"{i}.jsonl", preds))}
                       for i, (name_, preds) in enumerate(files.items())]
        suite = {
            "name": name,
            "output_dir": str(tmp_path / "out"),
            "dataset": {"kind": "jsonl", "references": str(data_dir / "refs.jsonl")},
            "systems": sys_entries,
            "metrics": metrics or ["bleu4", "rougeL", "cider"],
            "baseline": "poor",
            "significance": {"test": "bootstrap", "resamples": 500, "seed": 12345, "correction": "holm"},
            "literature": "ct-rate",
        }
        suite.update(extra or {})
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
        return path

    return make
