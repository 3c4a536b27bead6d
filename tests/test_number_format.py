"""radeval.number_format: the one home of number and missing-value formatting (bytes the outputs rely on)."""

from __future__ import annotations

import numpy as np
import pytest

from radeval import number_format as nf
from radeval.leaderboard.table import format_number, format_p


def test_markers_and_edges() -> None:
    for missing in (None, float("nan"), np.float64("nan"), np.float32("nan")):
        assert nf.fixed(missing) == "—" and nf.p_value(missing) == "—" and nf.percent(missing) == "n/a"
        assert nf.interval(0.1, missing, missing=nf.MISSING_HYPHEN) == "-"
    assert nf.p_value(1e-4) == "0.0001" and nf.p_value(0.99999e-4) == "<0.0001"
    assert nf.fixed(0.0, signed=True) == "+0.0000" and nf.fixed(-1e-9) == "-0.0000"
    assert nf.interval(-0.1, 0.2, signed=True) == "[-0.1000, +0.2000]"
    assert nf.percent(-3.75) == "-3.8%" and nf.percent(0.04, 2, signed=False) == "0.04%"
    with pytest.raises(ValueError, match="style"):
        nf.p_value(0.5, style="sci")  # type: ignore[arg-type]


def test_leaderboard_helpers_delegate() -> None:
    assert format_number(float("nan")) == "—" and format_number(0.5, 2) == "0.50"
    assert format_p(0.00001) == "<0.0001" and format_p(0.5) == "0.5000"
