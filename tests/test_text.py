"""Text normalisation modes, including the R2Gen report cleaner's exact behaviour."""

from __future__ import annotations

import pytest

from radeval.errors import InputError
from radeval.text import NORMALIZATIONS, check_normalization, clean_r2gen, normalize, normalize_all, split_punctuation


def test_none_is_the_identity_and_the_default() -> None:
    text = "  No acute\tprocess.\n"
    assert normalize(text) == text
    assert normalize_all([text, ""], "none") == [text, ""]


def test_lower_and_punctuation_splitting() -> None:
    assert normalize("No Acute Process.", "lower") == "no acute process."
    assert split_punctuation("5-mm nodule (RLL),  stable.") == "5 - mm nodule ( RLL ) , stable ."
    assert normalize("Size: 2x3 cm; stable…", "punct") == "Size : 2x3 cm ; stable …"
    assert normalize("No Effusion.", "lower+punct") == "no effusion ."
    assert normalize("...", "punct") == ". . ."
    assert normalize("", "lower+punct") == ""


@pytest.mark.parametrize(("raw", "expected"), [
    ("1. No effusion.\n2. Heart size is normal.", "no effusion . heart size is normal ."),
    ("Heart size is normal.  No pleural effusion, no pneumothorax.",
     "heart size is normal . no pleural effusion no pneumothorax ."),
    ("No effusion.. Heart normal.", "no effusion . heart normal ."),
    # the regex range ':-[' deletes : ; < = > ? @ and [ -- but keeps the hyphen
    ("Mass <5 mm @ level T4 = stable; size: 2x3 cm [prior]",
     "mass 5 mm  level t4  stable size 2x3 cm prior ."),
    ("Ground-glass opacity {new} (RUL) & 50% + ^ * !", "ground-glass opacity new rul  50     ."),
    ('Left/right "apical" \'cap\' a\\b', "leftright apical cap ab ."),
    ("Tube ____ in place.", "tube  in place ."),
    ("", " ."),
    ("   ", " ."),
    # a leading "3. " has no space before it, so it is not a list marker and "3" becomes a sentence
    ("3. Stable nodule. 4. No change.", "3 . stable nodule . no change ."),
])
def test_r2gen_mimic_cleaner(raw: str, expected: str) -> None:
    assert clean_r2gen(raw) == expected
    assert normalize(raw, "r2gen") == expected


def test_r2gen_iu_variant_keeps_newlines_and_underscores() -> None:
    assert clean_r2gen("No effusion.\nHeart normal.", variant="iu") == "no effusion\nheart normal ."
    assert clean_r2gen("No effusion.\nHeart normal.", variant="mimic") == "no effusion . heart normal ."
    assert normalize("Tube __ ok.", "r2gen_iu") == "tube  ok ."


def test_replace_passes_are_bounded_like_r2gen() -> None:
    # nine dots: 8 passes of '..' -> '.' leave a single dot, so the sentences still split
    assert clean_r2gen("a" + "." * 9 + " b.") == "a . b ."
    # 300 underscores shrink to 3 after 7 halving passes (not to one); all are deleted afterwards anyway
    assert clean_r2gen("x " + "_" * 300 + " y") == "x  y ."


def test_unknown_modes_are_rejected_with_the_list() -> None:
    with pytest.raises(InputError, match="unknown normalisation 'stem'.*none, lower, punct"):
        normalize("x", "stem")
    with pytest.raises(InputError, match="unknown variant 'cxr'"):
        clean_r2gen("x", variant="cxr")
    assert check_normalization("r2gen") == "r2gen"
    assert set(NORMALIZATIONS) == {"none", "lower", "punct", "lower+punct", "r2gen", "r2gen_iu"}
