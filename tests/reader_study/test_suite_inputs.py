from __future__ import annotations

import json
from pathlib import Path

import pytest

from radeval.errors import InputError
from radeval_reader_study.suite import read_suite_inputs


def _files(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "refs.jsonl", "w", encoding="utf-8") as fh:
        for i in range(4):
            fh.write(json.dumps({"id": f"c{i}", "text": f"Ref {i}.", "effusion": i % 2}) + "\n")
    for name in ("base", "new"):
        with open(tmp_path / "data" / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(4):
                fh.write(json.dumps({"id": f"c{i}", "text": f"{name} {i}."}) + "\n")


def test_mapping_and_list_forms(tmp_path: Path) -> None:
    _files(tmp_path)
    (tmp_path / "r.yaml").write_text("criteria: []\n", encoding="utf-8")  # the rubric file must exist
    (tmp_path / "a.yaml").write_text(
        "dataset:\n  references: data/refs.jsonl\nsystems:\n  base: data/base.jsonl\n"
        "  new: {predictions: data/new.jsonl}\nbaseline: base\n"
        "reader_study: {n: 3, readers: 2, seed: 4, stratify_by: effusion, rubric: r.yaml}\n", encoding="utf-8")
    s = read_suite_inputs(tmp_path / "a.yaml")
    assert [c.id for c in s.references] == ["c0", "c1", "c2", "c3"] and s.references[1].metadata["effusion"] == 1
    assert list(s.systems) == ["base", "new"] and s.systems["new"]["c2"] == "new 2."
    assert s.baseline == "base" and s.settings["n"] == 3 and s.settings["rubric"] == tmp_path / "r.yaml"
    (tmp_path / "b.yaml").write_text(
        "references: data/refs.jsonl\nsystems:\n  - {name: base, predictions: data/base.jsonl}\n", encoding="utf-8")
    assert list(read_suite_inputs(tmp_path / "b.yaml").systems) == ["base"]


@pytest.mark.parametrize("text, message", [
    ("systems: {a: data/base.jsonl}\n", "no 'references'"),
    ("references: data/refs.jsonl\nsystems: {a: {model: rad3d-prefix-v3}}\n", "system 'a' has no prediction file"),
    ("references: data/refs.jsonl\nsystems: 3\n", "'systems' must be"),
    ("references: data/refs.jsonl\nsystems: [{predictions: x}]\n", "systems[0] needs a 'name'"),
    ("references: data/refs.jsonl\nsystems: {a: data/base.jsonl}\nreader_study: {nn: 3}\n", "reader_study: unknown key 'nn'"),
    ("references: data/missing.jsonl\nsystems: {a: data/base.jsonl}\n", "file not found"),
])
def test_bad_suites(tmp_path: Path, text: str, message: str) -> None:
    _files(tmp_path)
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        read_suite_inputs(tmp_path / "s.yaml")
