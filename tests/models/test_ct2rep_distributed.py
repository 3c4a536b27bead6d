"""``ct2rep`` under ``accelerate launch --num_processes 2`` on CPU (gloo): training and generation equal the
one-process run (as ``test_distributed.py`` checks for the LLM generators), with dropout off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from .conftest import CASE_IDS, REPORTS
from .test_ct2rep import SMALL, TRAIN

SCRIPT = '''
import sys
import torch
torch.set_num_threads(1)
from radeval.registry import generators
if "ct2rep" not in generators.names():  # a venv installed from a checkout without the entry point
    generators.register("ct2rep", obj="radeval_models.ct2rep:Ct2Rep")
from radeval_models.generation import generate_reports
from radeval_models.train import train_generator
emb, rep, out, settings, train = sys.argv[1:6]
train_generator("ct2rep", eval(settings), emb, rep, out, eval(train), quiet=True)
generate_reports(out, emb, out + "/preds.jsonl", batch_size=3, quiet=True)
from accelerate import PartialState
state = PartialState()
open(f"{out}/rank{state.process_index}-of-{state.num_processes}", "w").close()
'''


@pytest.mark.slow
def test_two_process_run_equals_single_process(tmp_path: Path, one_and_two_processes) -> None:
    from radeval.data.embeddings import EmbeddingSet, save_embeddings
    from radeval.io import write_reports

    rng = np.random.default_rng(2)
    n = len(CASE_IDS)
    save_embeddings(tmp_path / "train.safetensors",
                    EmbeddingSet(CASE_IDS, rng.normal(size=(n, 64)).astype(np.float32),
                                 slab_tokens=rng.normal(size=(n, 6, 16)).astype(np.float32)))
    write_reports(tmp_path / "train.jsonl", dict(zip(CASE_IDS, REPORTS)))
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    # dropout 0: each process draws the dropout masks of its own share of the batch from its own RNG stream, so
    # with dropout the runs are equal in distribution only (as for every generator trained with dropout)
    settings = {**SMALL, "num_beams": 3}
    train = {**TRAIN, "epochs": 4}
    args = [str(tmp_path / "train.safetensors"), str(tmp_path / "train.jsonl")]
    single, multi = one_and_two_processes(script, args, [repr(settings), repr(train)], tmp_path, port=29541)
    assert (single / "vocabulary.json").read_text() == (multi / "vocabulary.json").read_text()
    a, b = load_file(str(single / "model.safetensors")), load_file(str(multi / "model.safetensors"))
    assert a.keys() == b.keys()
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst < 1e-3
    assert (single / "preds.jsonl").read_text() == (multi / "preds.jsonl").read_text()
    losses = [[json.loads(x)["loss"] for x in (d / "metrics.jsonl").read_text().splitlines()] for d in (single, multi)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
