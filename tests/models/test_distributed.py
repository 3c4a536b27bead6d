"""``accelerate launch --num_processes 2`` on CPU (gloo): training and generation match the one-process run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

SCRIPT = '''
import sys
import torch
torch.set_num_threads(1)
from radeval_models.generation import generate_reports
from radeval_models.train import train_generator
llm, emb, rep, out, mapper = sys.argv[1:6]
train_generator("rad3d-prefix-v2", {"llm": llm, **eval(mapper)}, emb, rep, out,
                {"epochs": 3, "lr": 1e-2, "batch_size": 4, "seed": 5}, quiet=True)
generate_reports(out, emb, out + "/preds.jsonl", batch_size=3, quiet=True)
from accelerate import PartialState
state = PartialState()
open(f"{out}/rank{state.process_index}-of-{state.num_processes}", "w").close()
'''


@pytest.mark.slow
def test_two_process_run_equals_single_process(tmp_path: Path, tiny_llama: Path, phantom_files: dict[str, Path],
                                               tiny_mapper: dict[str, int], one_and_two_processes) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    args = [str(tiny_llama), str(phantom_files["embeddings"]), str(phantom_files["reports"])]
    single, multi = one_and_two_processes(script, args, [repr(tiny_mapper)], tmp_path, port=29533)
    a, b = load_file(str(single / "model.safetensors")), load_file(str(multi / "model.safetensors"))
    assert a.keys() == b.keys()
    # same step up to float summation order (gloo all-reduce vs one local sum); Adam's normalisation turns
    # ~1e-7 gradient differences on near-zero gradients into ~1e-5 weight differences after a few steps
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst < 1e-3
    assert (single / "preds.jsonl").read_text() == (multi / "preds.jsonl").read_text()
    losses = [[json.loads(x)["loss"] for x in (d / "metrics.jsonl").read_text().splitlines()] for d in (single, multi)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
