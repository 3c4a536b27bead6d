"""``radeval data phantom`` / ``radeval data info`` through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from radeval.cli.main import main
from radeval.data.ctrate import CTRateDataset


def test_phantom_then_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "phantom", "--out", str(tmp_path), "--n", "6", "--seed", "2", "--shape", "24", "24", "16",
                 "--quiet"])
    assert code == 0
    ds = CTRateDataset(tmp_path)
    assert len(ds.cases("train")) + len(ds.cases("valid")) == 6
    assert main(["data", "info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "train:" in out and "valid:" in out and "volume files" in out


def test_info_on_a_wrong_folder_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "info", str(tmp_path)]) == 2
    assert "no CT-RATE reports CSV" in capsys.readouterr().err
