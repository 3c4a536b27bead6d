"""The reported-literature section holds the RAD3D-Prefix paper's numbers (Tables 1, 2, 3, 4, 7, 8) under its names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from radeval.leaderboard.literature import LITERATURE_METRICS, NOT_AVAILABLE, literature_for

CELLS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "rad3d_paper_cells.json").read_text())


def _row(dataset: str, system: str, table: str):
    rows = [r for r in literature_for(dataset) if r.system == system and table in r.tables]
    assert len(rows) == 1, (dataset, system, table, [r.system for r in literature_for(dataset)])
    return rows[0]


@pytest.mark.parametrize("cell", CELLS["cells"], ids=lambda c: f"T{c['table']}-{c['dataset']}-{c['metric']}")
def test_cells_equal_the_papers_values(cell: dict) -> None:
    row = _row(cell["dataset"], cell["system"], cell["table"])
    assert row.scores[cell["metric"]] == cell["value"]
    assert "Table" in row.source and cell["table"] in row.source and row.dataset == cell["dataset"]


@pytest.mark.parametrize("cell", CELLS["not_reported"], ids=lambda c: f"{c['system']}-{c['metric']}")
def test_not_available_only_where_the_paper_has_no_number(cell: dict) -> None:
    row = _row(cell["dataset"], cell["system"], cell["table"])
    assert row.display(cell["metric"]) == NOT_AVAILABLE


def test_every_table_and_column_name_is_the_papers() -> None:
    tables = {t for d in ("ct-rate", "inspect") for r in literature_for(d) for t in r.tables}
    assert {"1", "2", "3", "4", "7", "8"} <= tables
    for name in ("Avg. BLEU", "Avg. ROUGE (1-2)", "BERTScore-F1", "GREEN", "F1-RadGraph", "RaTEScore", "BLEU-4",
                 "ROUGE-1", "METEOR", "ROUGE-L"):
        assert name in LITERATURE_METRICS
    for dataset in ("ct-rate", "inspect"):
        for r in literature_for(dataset):
            assert set(r.scores) <= set(LITERATURE_METRICS) and r.scores, r.system
            assert all(0 <= v <= 1 for v in r.scores.values())
    # INSPECT has the paper's rows (Tables 3 and 4), no placeholder
    assert {r.system for r in literature_for("inspect")} >= {"CT2Rep", "RAD3D-Prefix (V-3, LLaMA-3.2-1B)"}
    assert literature_for("mimic") == ()


def test_the_markdown_leaderboard_shows_numbers_and_not_available_cells() -> None:
    import pandas as pd

    from radeval.leaderboard.markdown import leaderboard_markdown
    from radeval.leaderboard.table import COLUMNS, Leaderboard

    board = Leaderboard("t", pd.DataFrame(columns=list(COLUMNS)), (), (), None, "", literature=literature_for("ct-rate"))
    md = leaderboard_markdown(board)
    e3d = next(line for line in md.splitlines() if line.startswith("| E3D-GPT"))
    assert "0.4179" in e3d and NOT_AVAILABLE in e3d and "Table 3" in e3d
    assert "| Avg. BLEU |" in md and "| F1-RadGraph |" in md
