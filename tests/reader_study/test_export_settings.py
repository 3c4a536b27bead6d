"""Command-line values over the suite's reader_study section over the defaults (radeval_reader_study.export_settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from radeval.errors import InputError
from radeval_reader_study.export_settings import (
    DEFAULT_FORMATS, DEFAULT_N, ExportOptions, parse_readers, resolve_export_settings, strata_from_labels,
)


def test_given_values_win_over_the_suite_and_the_suite_over_defaults(tmp_path: Path) -> None:
    suite = {"out": tmp_path / "suite-packet", "n": 40, "readers": 3, "seed": 9, "stratify_by": "sex",
             "show_reference": False, "formats": ["html"], "rubric": tmp_path / "rubric.yaml"}
    s = resolve_export_settings(ExportOptions(), suite, suite_baseline="base")
    assert (s.out_dir, s.key_path) == (tmp_path / "suite-packet", tmp_path / "suite-packet-key.json")
    assert (s.n, s.readers, s.seed, s.stratify_by, s.show_reference, s.formats, s.baseline) == \
        (40, 3, 9, ("sex",), False, ("html",), "base")
    assert s.rubric_path == tmp_path / "rubric.yaml"
    given = ExportOptions(out=tmp_path / "p", key=tmp_path / "k.json", n=5, readers="ann,bob", seed=0,
                          formats=("xlsx",), baseline="v2", blinding_seed=4, overwrite=True)
    s = resolve_export_settings(given, suite, suite_baseline="base")
    assert (s.out_dir, s.key_path, s.n, s.readers, s.seed, s.formats, s.baseline, s.blinding_seed, s.overwrite) == \
        (tmp_path / "p", tmp_path / "k.json", 5, ("ann", "bob"), 0, ("xlsx",), "v2", 4, True)
    d = resolve_export_settings(ExportOptions(out=tmp_path / "p", no_reference=True))
    assert (d.n, d.readers, d.seed, d.formats, d.show_reference, d.rubric_path, d.stratify_by) == \
        (DEFAULT_N, 2, 0, DEFAULT_FORMATS, False, None, None)
    with pytest.raises(InputError, match="--out"):
        resolve_export_settings(ExportOptions(), {})


def test_readers_and_strata(tmp_path: Path) -> None:
    assert parse_readers(2) == 2 and parse_readers("a, b") == ("a", "b")
    labels = tmp_path / "labels.csv"
    labels.write_text("id,sex\na,F\na,M\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate case id"):
        strata_from_labels(labels, "id", ["sex"], ["a"])
    labels.write_text("id,sex\na,F\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'site'"):
        strata_from_labels(labels, "id", ["site"], ["a"])
    with pytest.raises(InputError, match="1 reference case"):
        strata_from_labels(labels, "id", ["sex"], ["a", "b"])
