from __future__ import annotations

import pytest

from radeval_reader_study.formatting import normalise_report


@pytest.mark.parametrize("raw", [
    "No effusion.\nHeart normal.",
    "  No  effusion.\r\nHeart\tnormal.  ",
    "No\u00a0effusion.\rHeart normal.\n\n",
    "\ufeffNo effusion.\u200b\nHeart  normal.",
    "No effusion. \n Heart normal.",
])
def test_whitespace_variants_render_identically(raw: str) -> None:
    assert normalise_report(raw) == "No effusion.\nHeart normal."


def test_paragraphs_kept_but_blank_runs_collapsed() -> None:
    assert normalise_report("A.\n\n\n\n B.") == "A.\n\nB."


def test_visible_content_is_untouched() -> None:
    weird = "Lungs </s> clear ## [SEP] <unk> é"
    assert normalise_report(weird) == weird
    assert normalise_report("e\u0301") == "\u00e9"  # NFC


def test_control_characters_become_a_visible_marker() -> None:
    assert normalise_report("a\x00b\x1bc") == "a\ufffdb\ufffdc"
