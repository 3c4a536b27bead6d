"""The README's main job end to end (issue 15): `benchmarks/demo.yaml`, run as shipped, must not produce a system
flagged for degenerate output, must reach BLEU-4 >= 0.01 for every system, and must report the label head's
held-out macro AUROC, at least 0.75 (item 3: the priors carry signal).

This is the full demo (168 phantom volumes, encoder pretraining, eight trained generators, 42 evaluation cases), not
a shrunken copy: a smaller run trains differently and would not say whether the shipped demo works. Its output
folder and ``$RADEVAL_HOME`` are temporary, so the encoder pretraining and the stand-in report LLM are built afresh.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from radeval.bench.runner import run_suite
from radeval.bench.suite import load_suite
from radeval.leaderboard.diagnostic_flags import board_flags

#: The full demo takes ~10 minutes on 2 cores; CI (25-minute budget) runs it only when this variable is "1".
RUN_ENV = "RADEVAL_DEMO_TEST"

pytestmark = [pytest.mark.slow, pytest.mark.java,
              pytest.mark.skipif(os.environ.get(RUN_ENV) != "1",
                                 reason=f"the full demo run (~10 min); set {RUN_ENV}=1 to run it")]

DEMO = Path(__file__).resolve().parents[2] / "benchmarks" / "demo.yaml"


@pytest.mark.timeout(3600)
def test_shipped_demo_has_no_degenerate_system_and_reports_its_priors(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RADEVAL_HOME", str(tmp_path / "home"))
    suite = load_suite(DEMO)
    suite = dataclasses.replace(suite, output_dir=tmp_path / "demo")
    result = run_suite(suite, quiet=True)
    manifest = json.loads((result.output_dir / "manifest.json").read_text())
    facts = manifest["run_facts"]
    assert facts["n_cases"] >= 40
    head = pd.read_csv(result.output_dir / "label_head.csv")
    assert head["label"].iloc[-1] == "macro"
    assert facts["label_head"]["macro_auroc"] == pytest.approx(head["auroc"].iloc[:-1].dropna().mean())
    assert facts["label_head"]["macro_auroc"] >= 0.75, head.to_dict("records")
    board = pd.read_csv(result.output_dir / "leaderboard.csv")
    bleu4 = board[board["metric"] == "bleu4"].set_index("system")["score"]
    assert set(bleu4.index) == set(result.leaderboard.systems)
    low = {s: round(float(v), 4) for s, v in bleu4.items() if v < 0.01}
    flagged = board_flags(result.leaderboard)
    assert not flagged and not low, {"flagged": flagged, "bleu4 < 0.01": low}
