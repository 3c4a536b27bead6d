"""``radeval embed --slab-tokens`` / suite ``embed: {slab_tokens: true}``: slab tokens stored beside the latent and
the logits, resumably; a suite whose generator reads slab tokens fails validation without them; an end-to-end
phantom suite trains and evaluates ``ct2rep`` on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from radeval.bench.suite import load_suite
from radeval.cli.main import main
from radeval.data.ctrate import CTRateDataset
from radeval.data.embeddings import load_embeddings
from radeval.errors import InputError
from radeval_models.ctclip.config import CTViTConfig


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from radeval.data.phantom import make_phantom_dataset

    return make_phantom_dataset(tmp_path_factory.mktemp("slab_phantom"), n=8, seed=5, shape=(32, 32, 24))


@pytest.fixture(autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _embed(root: Path, out: Path, *extra: str, split: str = "train") -> int:
    return main(["embed", str(root), "--out", str(out), "--encoder", "small", "--threads", "1", "--quiet",
                 "--splits", split, *extra])


def _slab_shape() -> tuple[int, int]:
    cfg = CTViTConfig.small()
    return cfg.frames // cfg.temporal_patch_size, cfg.dim


def test_slab_tokens_are_stored_beside_latent_and_logits(phantom: Path, tmp_path: Path) -> None:
    assert _embed(phantom, tmp_path / "plain") == 0
    assert _embed(phantom, tmp_path / "slabs", "--slab-tokens") == 0
    plain = load_embeddings(tmp_path / "plain" / "train.safetensors")
    slabs = load_embeddings(tmp_path / "slabs" / "train.safetensors")
    assert plain.slab_tokens is None and "slab_tokens" not in plain.provenance
    assert slabs.slab_tokens is not None and slabs.slab_tokens.shape == (len(slabs), *_slab_shape())
    assert slabs.case_ids == plain.case_ids == CTRateDataset(phantom).case_ids("train")
    np.testing.assert_allclose(slabs.embeddings, plain.embeddings, atol=1e-6)  # the latent is unchanged
    assert slabs.logits is not None and slabs.logits.shape == plain.logits.shape
    assert "slab" in slabs.provenance["slab_tokens"]
    assert not (tmp_path / "slabs" / "train.slab-parts").exists()
    # distinct cases have distinct slab tokens (not a constant fill)
    assert np.unique(slabs.slab_tokens.reshape(len(slabs), -1), axis=0).shape[0] == len(slabs)


def test_resume_after_a_kill_keeps_done_parts_and_recomputes_the_rest(phantom: Path, tmp_path: Path) -> None:
    """State of a run killed midway: case a has both parts (sentinels: kept, not recomputed), case b has its slab
    part only (the latent part is written last: recomputed), case c has a truncated slab part and a latent part
    (recomputed), case d's slab part is a temporary file (removed, recomputed)."""
    fresh = tmp_path / "fresh"
    assert _embed(phantom, fresh, "--slab-tokens") == 0
    ref = load_embeddings(fresh / "train.safetensors")
    a, b, c, d = ref.case_ids[:4]
    out = tmp_path / "killed"
    latent_parts, slab_parts = out / "train.parts", out / "train.slab-parts"
    latent_parts.mkdir(parents=True)
    slab_parts.mkdir()
    t, dim = _slab_shape()
    sentinel_latent = np.zeros(512, np.float32)
    sentinel_latent[3] = 1.0
    sentinel_slabs = np.full((t, dim), 0.25, np.float32)
    np.save(latent_parts / f"{a}.npy", sentinel_latent)
    np.save(slab_parts / f"{a}.npy", sentinel_slabs)
    np.save(slab_parts / f"{b}.npy", sentinel_slabs)
    np.save(latent_parts / f"{c}.npy", sentinel_latent)
    (slab_parts / f"{c}.npy").write_bytes(b"\x93NUMPY")
    (slab_parts / f".{d}.tmp.npy").write_bytes(b"")
    assert _embed(phantom, out, "--slab-tokens") == 0
    got = load_embeddings(out / "train.safetensors")
    assert got.case_ids == ref.case_ids
    i = got.index()
    np.testing.assert_array_equal(got.embeddings[i[a]], sentinel_latent)
    np.testing.assert_array_equal(got.slab_tokens[i[a]], sentinel_slabs)
    for case in (b, c, d, *ref.case_ids[4:]):
        np.testing.assert_allclose(got.slab_tokens[i[case]], ref.slab_tokens[i[case]], atol=1e-5)
        np.testing.assert_allclose(got.embeddings[i[case]], ref.embeddings[i[case]], atol=1e-5)
    manifest = json.loads((out / "train.manifest.json").read_text())
    assert manifest["n_skipped_already_done"] == 1


def test_rerun_with_the_option_completes_a_folder_embedded_without(phantom: Path, tmp_path: Path) -> None:
    out = tmp_path / "emb"
    assert _embed(phantom, out, split="valid") == 0
    before = load_embeddings(out / "valid.safetensors")
    assert _embed(phantom, out, "--slab-tokens", split="valid") == 0
    after = load_embeddings(out / "valid.safetensors")
    assert after.slab_tokens is not None and after.slab_tokens.shape[0] == len(before)
    np.testing.assert_allclose(after.embeddings, before.embeddings, atol=1e-6)
    # a later run without the option keeps what was computed
    assert _embed(phantom, out, split="valid") == 0
    kept = load_embeddings(out / "valid.safetensors")
    np.testing.assert_array_equal(kept.slab_tokens, after.slab_tokens)


def _suite(tmp_path: Path, *, root: Path | str = "unused", slab_tokens: bool | None) -> Path:
    embed = {"encoder": "small", "label_head_epochs": 5, "batch_size": 2}
    if slab_tokens is not None:
        embed["slab_tokens"] = slab_tokens
    data = {
        "name": "ct2rep-phantom",
        "output_dir": str(tmp_path / "out"),
        "dataset": {"kind": "ctrate", "root": str(root)},
        "embed": embed,
        "systems": [
            {"name": "nn", "model": "dummy"},
            {"name": "ct2rep", "model": "ct2rep",
             "config": {"d_vf": 32, "d_model": 32, "d_ff": 32, "num_heads": 4, "num_layers": 1, "rm_num_heads": 4,
                        "threshold": 1, "max_seq_length": 40, "num_beams": 1},
             "train": {"epochs": 3, "lr": 1.0e-3, "batch_size": 2, "optimizer": "adam", "amsgrad": True,
                       "lr_schedule": "step", "lr_gamma": 0.8, "grad_clip": 0.1, "grad_clip_mode": "value"}},
        ],
        "metrics": ["avg_bleu", "avg_rouge12"],
        "baseline": "nn",
        "significance": {"resamples": 100, "seed": 1},
    }
    path = tmp_path / f"suite-{slab_tokens}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("flag", [None, False])
def test_suite_without_slab_tokens_fails_validation_naming_the_option(tmp_path: Path, flag: bool | None,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = _suite(tmp_path, slab_tokens=flag)
    with pytest.raises(InputError, match=r"systems \(ct2rep\).*slab_tokens: true"):
        load_suite(path, check_files=False)
    assert main(["bench", str(path), "--validate"]) != 0
    assert "radeval embed --slab-tokens" in capsys.readouterr().err
    load_suite(_suite(tmp_path, slab_tokens=True), check_files=False)  # with the option it validates
    data = yaml.safe_load(path.read_text())
    data["embed"]["slab_tokens"] = "yes"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="embed.slab_tokens: expected true or false"):
        load_suite(path, check_files=False)


@pytest.mark.slow
def test_phantom_suite_trains_and_scores_ct2rep_on_slab_tokens(tmp_path: Path) -> None:
    from radeval.bench.runner import run_suite
    from radeval.data.phantom import make_phantom_dataset

    root = make_phantom_dataset(tmp_path / "ph", n=12, seed=6, shape=(32, 32, 24))
    suite = load_suite(_suite(tmp_path, root=root, slab_tokens=True))
    run_suite(suite, quiet=True)
    board = pd.read_csv(suite.output_dir / "leaderboard.csv")
    assert set(board["system"]) == {"nn", "ct2rep"} and board["score"].notna().all()
    work = suite.output_dir / ".work"
    emb = load_embeddings(next(work.glob("embeddings-*")) / "train.safetensors")
    assert emb.slab_tokens is not None and emb.slab_tokens.shape[1:] == _slab_shape()
    cfg = json.loads((next((work / "models").glob("ct2rep-*")) / "config.json").read_text())["config"]
    assert (cfg["n_slabs"], cfg["slab_dim"]) == _slab_shape()
