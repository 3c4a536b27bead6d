"""The shared training loop: resume equals an uninterrupted run, optimizer state only for trainable weights,
metrics log, a killed run resumes, the dummy generator trains through the same entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from radeval_models.train import train_generator
from radeval.errors import InputError, UnknownNameError

TRAIN = {"lr": 1e-2, "batch_size": 4}


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "model.safetensors"))


def test_resume_equals_uninterrupted_run(tmp_path: Path, tiny_llama: Path, phantom_files: dict[str, Path],
                                         tiny_mapper: dict[str, int]) -> None:
    settings = {"llm": str(tiny_llama), **tiny_mapper}
    args = (phantom_files["embeddings"], phantom_files["reports"])
    full = train_generator("rad3d-prefix-v2", settings, *args, tmp_path / "full", {**TRAIN, "epochs": 4}, quiet=True)
    first = train_generator("rad3d-prefix-v2", settings, *args, tmp_path / "split", {**TRAIN, "epochs": 2}, quiet=True)
    second = train_generator("rad3d-prefix-v2", settings, *args, tmp_path / "split", {**TRAIN, "epochs": 4}, quiet=True)
    assert (first.epochs_done, second.resumed_from_epoch, second.steps) == (2, 2, full.steps)
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "split")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    steps = [json.loads(x) for x in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps if s["event"] == "step"] == list(range(1, full.steps + 1))


def test_optimizer_state_covers_trainable_parameters_only(tmp_path: Path, tiny_llama: Path,
                                                          phantom_files: dict[str, Path],
                                                          tiny_mapper: dict[str, int]) -> None:
    run = tmp_path / "run"
    result = train_generator("rad3d-prefix-v3", {"llm": str(tiny_llama), **tiny_mapper}, phantom_files["embeddings"],
                             phantom_files["reports"], run, {**TRAIN, "epochs": 1}, quiet=True)
    ckpt = run / "checkpoints" / "epoch-001"
    state = load_file(str(ckpt / "optimizer.safetensors"))
    n_trainable = len(_weights(run))
    assert len({k.split(".")[0] for k in state}) == n_trainable
    assert sum(v.numel() for k, v in state.items() if k.endswith("exp_avg")) == result.parameters.trainable
    assert result.parameters.trainable < result.parameters.total


def test_missing_reports_and_unknown_model(tmp_path: Path, phantom_files: dict[str, Path]) -> None:
    reports = tmp_path / "few.jsonl"
    reports.write_text('{"id": "phantom_000", "text": "x"}\n')
    with pytest.raises(InputError, match=r"7 case\(s\) of .*train.safetensors have no report.*phantom_001"):
        train_generator("dummy", {}, phantom_files["embeddings"], reports, tmp_path / "r")
    with pytest.raises(UnknownNameError, match="did you mean: 'rad3d-prefix-v3'"):
        train_generator("rad3d-prefix-v4", {}, phantom_files["embeddings"], phantom_files["reports"], tmp_path / "r")


def test_dummy_generator_trains_and_generates(tmp_path: Path, phantom_files: dict[str, Path],
                                              phantom_reports: dict[str, str]) -> None:
    from radeval_models.generation import generate_reports
    from radeval.io import read_reports

    train_generator("dummy", {}, phantom_files["embeddings"], phantom_files["reports"], tmp_path / "nn")
    generate_reports(tmp_path / "nn", phantom_files["embeddings"], tmp_path / "preds.jsonl", quiet=True)
    assert dict(read_reports(tmp_path / "preds.jsonl")) == phantom_reports


def _logged_step_after(run: Path, epoch: int) -> bool:
    """Whether ``metrics.jsonl`` holds an optimizer step of an epoch after ``epoch`` (1-based)."""
    path = run / "metrics.jsonl"
    if not path.is_file():
        return False
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # the line being written
            continue
        if record.get("event") == "step" and record.get("epoch", 0) > epoch:
            return True
    return False


def test_killed_run_resumes_from_last_checkpoint(tmp_path: Path, tiny_llama: Path, phantom_files: dict[str, Path],
                                                 tiny_mapper: dict[str, int]) -> None:
    run = tmp_path / "run"
    script = (f"from radeval_models.train import train_generator\n"
              f"train_generator('rad3d-prefix-v2', {{'llm': {str(tiny_llama)!r}, **{tiny_mapper!r}}}, "
              f"{str(phantom_files['embeddings'])!r}, {str(phantom_files['reports'])!r}, {str(run)!r}, "
              f"{{'epochs': 400, 'lr': 1e-3, 'batch_size': 4}}, quiet=True)\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.DEVNULL)
    try:  # kill once a checkpoint exists and a step of a later epoch is logged (mid-epoch, after a save)
        deadline = time.monotonic() + 300
        while not list((run / "checkpoints").glob("epoch-*")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        first = min((int(p.name.split("-")[1]) for p in (run / "checkpoints").glob("epoch-*")), default=0)
        while not _logged_step_after(run, first) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "training ended before it could be killed"
    finally:
        proc.kill()
        proc.wait()
    done = sorted((run / "checkpoints").glob("epoch-*"))
    assert done, "no checkpoint was written before the kill"
    epoch = int(done[-1].name.split("-")[1])
    result = train_generator("rad3d-prefix-v2", {"llm": str(tiny_llama), **tiny_mapper}, phantom_files["embeddings"],
                             phantom_files["reports"], run, {"epochs": epoch + 1, "lr": 1e-3, "batch_size": 4},
                             quiet=True)
    assert result.resumed_from_epoch == epoch and result.epochs_done == epoch + 1


def test_resume_after_max_steps_mid_epoch_does_not_skip_batches(tmp_path: Path, tiny_llama: Path,
                                                                 phantom_files: dict[str, Path],
                                                                 tiny_mapper: dict[str, int]) -> None:
    settings = {"llm": str(tiny_llama), **tiny_mapper}
    args = (phantom_files["embeddings"], phantom_files["reports"])
    cfg = {"lr": 1e-2, "batch_size": 2, "epochs": 2}  # 8 cases: 4 steps per epoch
    full = train_generator("rad3d-prefix-v2", settings, *args, tmp_path / "full", {**cfg, "max_steps": 6}, quiet=True)
    train_generator("rad3d-prefix-v2", settings, *args, tmp_path / "split", {**cfg, "max_steps": 1}, quiet=True)
    second = train_generator("rad3d-prefix-v2", settings, *args, tmp_path / "split", {**cfg, "max_steps": 6},
                             quiet=True)
    assert second.steps == full.steps == 6
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "split")
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    logs = [json.loads(x) for x in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["event"], r["epoch"], r["step"]) for r in logs] == [
        (r["event"], r["epoch"], r["step"])
        for r in map(json.loads, (tmp_path / "full" / "metrics.jsonl").read_text().splitlines())]


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"grad_accum": 0}, {"epochs": -1}, {"lr": -1.0},
                                 {"max_steps": -2}])
def test_impossible_train_settings_are_input_errors(tmp_path: Path, phantom_files: dict[str, Path],
                                                    bad: dict[str, object]) -> None:
    with pytest.raises(InputError, match=next(iter(bad))):
        train_generator("rad3d-prefix-v2", {"llm": "unused"}, phantom_files["embeddings"], phantom_files["reports"],
                        tmp_path / "r", bad, quiet=True)


def test_resume_with_other_model_settings_is_refused(tmp_path: Path, tiny_llama: Path, phantom_files: dict[str, Path],
                                                     tiny_mapper: dict[str, int]) -> None:
    args = (phantom_files["embeddings"], phantom_files["reports"])
    run = tmp_path / "run"
    train_generator("rad3d-prefix-v2", {"llm": str(tiny_llama), **tiny_mapper}, *args, run, {**TRAIN, "epochs": 1},
                    quiet=True)
    with pytest.raises(InputError, match="num_layers=1, now 2"):
        train_generator("rad3d-prefix-v2", {"llm": str(tiny_llama), **tiny_mapper, "num_layers": 2}, *args, run,
                        {**TRAIN, "epochs": 2}, quiet=True)


@pytest.mark.parametrize(("change", "message"), [
    ({"batch_size": 2}, "batch_size was 4 in the checkpoint, now 2"),
    ({"seed": 1}, "seed was 0 in the checkpoint, now 1"),
    ({"lr": 1e-3}, "lr was 0.01 in the checkpoint, now 0.001"),
    ({"grad_accum": 2}, "grad_accum was 1 in the checkpoint, now 2"),
])
def test_resume_with_changed_trajectory_setting_is_refused(tmp_path: Path, tiny_llama: Path,
                                                           phantom_files: dict[str, Path],
                                                           tiny_mapper: dict[str, int], change: dict[str, object],
                                                           message: str) -> None:
    args = ("rad3d-prefix-v2", {"llm": str(tiny_llama), **tiny_mapper}, phantom_files["embeddings"],
            phantom_files["reports"], tmp_path / "run")
    train_generator(*args, {**TRAIN, "epochs": 1}, quiet=True)
    with pytest.raises(InputError, match=f"cannot resume the run in .*run: {message}; .*another output directory"):
        train_generator(*args, {**TRAIN, "epochs": 2, **change}, quiet=True)
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["epoch-001"]  # nothing lost


def test_resume_may_extend_epochs_and_reads_checkpoints_that_recorded_quiet(tmp_path: Path, tiny_llama: Path,
                                                                            phantom_files: dict[str, Path],
                                                                            tiny_mapper: dict[str, int]) -> None:
    args = ("rad3d-prefix-v2", {"llm": str(tiny_llama), **tiny_mapper}, phantom_files["embeddings"],
            phantom_files["reports"], tmp_path / "run")
    train_generator(*args, {**TRAIN, "epochs": 1}, quiet=True)
    state_path = tmp_path / "run" / "checkpoints" / "epoch-001" / "training_state.json"
    state = json.loads(state_path.read_text())
    assert "quiet" not in state["train_config"]  # display options are never recorded
    state["train_config"]["quiet"] = True  # as checkpoints written before they left TrainConfig
    state_path.write_text(json.dumps(state))
    result = train_generator(*args, {**TRAIN, "epochs": 2, "keep_checkpoints": 2}, quiet=False)
    assert (result.resumed_from_epoch, result.epochs_done) == (1, 2)
    final = json.loads((tmp_path / "run" / "config.json").read_text())
    assert "quiet" not in final["training"]["train_config"]


def test_quiet_is_a_display_option_not_a_train_setting(tmp_path: Path, phantom_files: dict[str, Path]) -> None:
    from radeval_models.train_config import TrainConfig, train_config_fields

    assert "quiet" not in train_config_fields()
    with pytest.raises(InputError, match="'quiet' is a display option"):
        train_generator("dummy", {}, phantom_files["embeddings"], phantom_files["reports"], tmp_path / "r",
                        {"quiet": True})
    with pytest.raises(InputError, match=r"unknown training setting\(s\) \['epoch'\]"):
        TrainConfig.from_mapping({"epoch": 3})


def test_generators_without_training_interface_are_refused_by_name(tmp_path: Path,
                                                                   phantom_files: dict[str, Path]) -> None:
    from radeval.registry import generators

    class Frozen:  # a ReportGenerator plug-in with no training contract
        name = "frozen-plugin"

        def generate(self, batch):
            return ["x"] * len(batch)

        def save_pretrained(self, directory):
            pass

        @classmethod
        def from_pretrained(cls, directory, **kwargs):
            return cls()

        @classmethod
        def fit(cls, *args):  # a fit() alone no longer makes a generator trainable
            raise AssertionError("not called")

    generators.register("frozen-plugin", obj=Frozen)
    try:
        with pytest.raises(InputError, match="'frozen-plugin' cannot be trained here: it is not a TrainableGenerator "
                                             r"\(missing config_class, training, parse_config\)"):
            train_generator("frozen-plugin", {}, phantom_files["embeddings"], phantom_files["reports"], tmp_path / "r")
    finally:
        generators._entries.pop("frozen-plugin", None)


def test_dummy_checks_its_settings(tmp_path: Path, phantom_files: dict[str, Path]) -> None:
    args = (phantom_files["embeddings"], phantom_files["reports"], tmp_path / "r")
    with pytest.raises(InputError, match=r"dummy: unknown setting\(s\) \['k'\]"):
        train_generator("dummy", {"k": 3}, *args)
    with pytest.raises(InputError, match="dummy: embedding_dim=16, but the training embeddings are 512-d"):
        train_generator("dummy", {"embedding_dim": 16}, *args)
    with pytest.raises(InputError, match=r"'dummy' learns in one fit\(\) call: the training setting\(s\) \['epochs'\]"):
        train_generator("dummy", {}, *args, {"epochs": 3})


def test_runs_with_different_precisions_follow_each_other_in_one_process(tmp_path: Path, tiny_llama: Path,
                                                                         phantom_files: dict[str, Path],
                                                                         tiny_mapper: dict[str, int]) -> None:
    """A suite trains its systems one after the other in one process; a bf16 system followed by a float32 one used
    to fail with Accelerate's "AcceleratorState has already been initialized" (the demo's ct2rep after bf16 systems).
    A fresh interpreter, so no earlier test has set Accelerate's process-wide state."""
    runs = {mode: tmp_path / mode for mode in ("bf16", "no", "bf16-again")}
    script = "".join(
        f"r = train_generator('rad3d-prefix-v2', {{'llm': {str(tiny_llama)!r}, **{tiny_mapper!r}}}, "
        f"{str(phantom_files['embeddings'])!r}, {str(phantom_files['reports'])!r}, {str(run)!r}, "
        f"{{'epochs': 1, 'lr': 1e-2, 'batch_size': 4, 'mixed_precision': {mode.split('-')[0]!r}}}, quiet=True)\n"
        f"print(repr(r.last_loss))\n" for mode, run in runs.items())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", "from radeval_models.train import train_generator\n" + script],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    bf16, fp32, bf16_again = (float(v) for v in out.stdout.split())
    assert bf16 == bf16_again  # deterministic under autocast
    assert bf16 != fp32  # the bf16 run really ran under autocast
