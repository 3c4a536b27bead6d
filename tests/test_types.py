"""Core types: Case, Predictions, text checks, alignment by case id."""

from __future__ import annotations

import pytest

from radeval.errors import AlignmentError, InputError
from radeval.types import Case, Predictions, align, as_mapping, check_text


def test_check_text_accepts_empty_and_rejects_missing() -> None:
    assert check_text("", case_id="a", field_name="text") == ""
    with pytest.raises(InputError, match="case 'a' in f.jsonl:3: field 'text' is missing"):
        check_text(None, case_id="a", field_name="text", source="f.jsonl:3")
    with pytest.raises(InputError, match="case 'b': field 'findings' is missing"):
        check_text(float("nan"), case_id="b", field_name="findings")
    with pytest.raises(InputError, match="must be text, got bytes"):
        check_text(b"x", case_id="c", field_name="text")


def test_predictions_mapping() -> None:
    p = Predictions({"b": "y", "a": "x"}, name="sys")
    assert list(p) == ["b", "a"] and p["a"] == "x" and len(p) == 2
    assert repr(p) == "Predictions(name='sys', n=2)"
    assert list(Predictions([(1, "x"), (2, "y")])) == ["1", "2"]  # ids become strings


def test_predictions_reject_duplicates_and_missing_text() -> None:
    with pytest.raises(AlignmentError, match="sys: duplicate case ids: 'a'") as exc:
        Predictions([("a", "x"), ("b", "y"), ("a", "z")], name="sys")
    assert exc.value.duplicates == ["a"]
    with pytest.raises(AlignmentError, match="duplicate case ids: '1'"):
        Predictions([(1, "x"), ("1", "y")])
    with pytest.raises(InputError, match="case 'b'.*missing"):
        Predictions([("a", "x"), ("b", None)])  # type: ignore[list-item]


def test_align_is_by_id_never_by_position() -> None:
    ids, refs, hyps = align({"a": "r1", "b": "r2"}, {"b": "h2", "a": "h1"})
    assert (ids, refs, hyps) == (["a", "b"], ["r1", "r2"], ["h1", "h2"])


def test_align_lists_missing_and_extra_ids() -> None:
    with pytest.raises(AlignmentError) as exc:
        align({"a": "1", "b": "2", "c": "3"}, {"a": "1", "d": "4"}, ref_name="refs.jsonl", hyp_name="sysA")
    message = str(exc.value)
    assert "2 case id(s) of refs.jsonl missing from sysA: 'b', 'c'" in message
    assert "1 case id(s) in sysA not in refs.jsonl: 'd'" in message
    assert exc.value.missing == ["b", "c"] and exc.value.extra == ["d"]


def test_align_preview_is_bounded() -> None:
    refs = {str(i): "x" for i in range(25)}
    with pytest.raises(AlignmentError, match=r"\(\+15 more\)"):
        align(refs, {})


def test_as_mapping_accepts_the_documented_containers() -> None:
    assert as_mapping(["x", "y"], name="refs") == {"0": "x", "1": "y"}
    assert as_mapping({"a": "x"}, name="refs") == {"a": "x"}
    assert as_mapping([Case("c1", "x"), Case("c2", "y")], name="refs") == {"c1": "x", "c2": "y"}
    p = Predictions({"a": "x"})
    assert as_mapping(p, name="hyps") == {"a": "x"}
    with pytest.raises(InputError, match="refs: expected a list or mapping of reports, got a single string"):
        as_mapping("a report", name="refs")
    with pytest.raises(InputError, match="case '1'.*missing"):
        as_mapping(["x", None], name="hyps")  # type: ignore[list-item]
    with pytest.raises(AlignmentError, match="duplicate case ids: 'c1'"):
        as_mapping([Case("c1", "x"), Case("c1", "y")], name="refs")


def test_case_is_frozen() -> None:
    c = Case("c1", "No effusion.", {"split": "valid"})
    with pytest.raises(AttributeError):
        c.id = "c2"  # type: ignore[misc]


def test_missing_text_in_an_in_memory_system_names_the_system() -> None:
    with pytest.raises(InputError, match="case 'b' in sysB: field 'text' is missing"):
        Predictions({"a": "x", "b": None}, name="sysB")  # type: ignore[dict-item]
    with pytest.raises(InputError, match="case 'b' in f.jsonl:2"):  # a file location wins over the name
        Predictions({"b": None}, name="sysB", source="f.jsonl:2")  # type: ignore[dict-item]


def test_pandas_series_is_aligned_by_its_index_not_by_position() -> None:
    pd = pytest.importorskip("pandas")
    hyps = pd.Series({"b": "h2", "a": "h1"})
    assert as_mapping(hyps, name="sys") == {"b": "h2", "a": "h1"}
    assert align({"a": "r1", "b": "r2"}, as_mapping(hyps, name="sys")) == (["a", "b"], ["r1", "r2"], ["h1", "h2"])
    with pytest.raises(InputError, match="case 'b' in sys: field 'text' is missing"):
        as_mapping(pd.Series({"a": "x", "b": None}), name="sys")
