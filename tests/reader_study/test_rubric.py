from __future__ import annotations

from pathlib import Path

import pytest

from radeval.errors import InputError
from radeval_reader_study.rubric import default_rubric, load_rubric, rubric_from_dict


def test_default_rubric_is_the_papers_protocol() -> None:
    r = default_rubric()
    assert r.criterion_ids == ("clinical_accuracy", "technical_quality")
    assert r.values == (1, 2, 3, 4, 5)
    # the paper's scale: 1 = Very Poor | 2 = Poor | 3 = Acceptable | 4 = Good | 5 = Excellent
    assert [r.label(v) for v in r.values] == ["Very Poor", "Poor", "Acceptable", "Good", "Excellent"]
    # the paper's four clinical and three technical sub-criteria, one item each (our wording)
    clinical, technical = r.criterion("clinical_accuracy").items, r.criterion("technical_quality").items
    assert len(clinical) == 4 and len(technical) == 3
    for needle, items in (("present or absent", clinical), ("false-positive", clinical),
                          ("diagnosis or the patient's management", clinical), ("anatomical site", clinical),
                          ("redundant", technical), ("cut off", technical), ("'Question'", technical)):
        assert any(needle in item for item in items), needle
    assert rubric_from_dict(r.to_dict()) == r


def test_yaml_override(tmp_path: Path) -> None:
    p = tmp_path / "rubric.yaml"
    p.write_text("scale: {0: bad, 1: ok, 2: good}\ncriteria:\n  - id: fluency\n    name: Fluency\n"
                 "    items: [no typos]\n", encoding="utf-8")
    r = load_rubric(p)
    assert r.criterion_ids == ("fluency",) and r.values == (0, 1, 2) and r.label(2) == "good"
    only_scale = tmp_path / "scale.yaml"
    only_scale.write_text("scale:\n  - {value: 1, label: low}\n  - {value: 2, label: high}\n", encoding="utf-8")
    r2 = load_rubric(only_scale)
    assert r2.criterion_ids == default_rubric().criterion_ids and r2.maximum == 2


@pytest.mark.parametrize("text, message", [
    ("criteria:\n  - {id: a}\n  - {id: a}\n", "duplicate criterion id 'a'"),
    ("criteria:\n  - {id: Bad-Id}\n", "must match"),
    ("criteria:\n  - {id: reader}\n", "reserved"),
    ("scale: {1: a, 3: b}\n", "consecutive"),
    ("scale: {1: a}\n", "at least two"),
    ("scales: {1: a}\n", "unknown key"),
    ("scale: [1, 2]\n", "scale[0]"),
    ("criteria: [{id: x, items: oops}]\n", "'items' must be a list"),
    (": : :\n", "invalid YAML"),
])
def test_bad_rubric_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "r.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_rubric(p)


def test_missing_rubric_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_rubric(tmp_path / "nope.yaml")
