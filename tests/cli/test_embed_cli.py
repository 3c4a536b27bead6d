"""``radeval embed`` on a phantom: output files, resume, failure manifest, workers, run mismatch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from radeval.cli.main import main
from radeval.data.ctrate import CTRateDataset
from radeval.data.embeddings import load_embeddings
from radeval.data.labels import CTRATE_LABELS


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from radeval.data.phantom import make_phantom_dataset

    return make_phantom_dataset(tmp_path_factory.mktemp("embed_phantom"), n=8, seed=3, shape=(32, 32, 24))


@pytest.fixture(autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _embed(root: Path, out: Path, *extra: str) -> int:
    return main(["embed", str(root), "--out", str(out), "--encoder", "small", "--threads", "1", "--quiet", *extra])


def test_writes_one_file_per_split_with_logits(phantom: Path, tmp_path: Path) -> None:
    out = tmp_path / "emb"
    assert _embed(phantom, out) == 0
    ds = CTRateDataset(phantom)
    for split in ds.splits:
        emb = load_embeddings(out / f"{split}.safetensors")
        assert emb.case_ids == ds.case_ids(split)
        assert emb.embeddings.shape == (len(emb), 512)
        assert np.allclose(np.linalg.norm(emb.embeddings, axis=1), 1.0, atol=1e-5)
        assert emb.logits is not None and emb.logits.shape == (len(emb), 18)
        assert emb.label_names == list(CTRATE_LABELS)
        assert emb.provenance["weights"].startswith("untrained") and "clip:before" in emb.provenance["preprocess"]
        manifest = json.loads((out / f"{split}.manifest.json").read_text())
        assert manifest["failures"] == [] and manifest["n_embedded"] == len(emb)
        assert not (out / f"{split}.parts").exists()
    assert (out / "label_head" / "label_head.safetensors").is_file()


def test_resume_skips_done_cases(phantom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "emb"
    assert _embed(phantom, out, "--splits", "train") == 0
    first = load_embeddings(out / "train.safetensors")
    # a part left by a killed run is taken as done, not recomputed
    ds = CTRateDataset(phantom)
    valid_id = ds.case_ids("valid")[0]
    (out / "valid.parts").mkdir()
    sentinel = np.zeros(512, np.float32)
    sentinel[7] = 1.0
    np.save(out / "valid.parts" / f"{valid_id}.npy", sentinel)
    capsys.readouterr()
    assert _embed(phantom, out) == 0
    printed = capsys.readouterr().out
    assert f"train: {len(first)}/{len(first)} embedded ({len(first)} already done)" in printed
    again = load_embeddings(out / "train.safetensors")
    np.testing.assert_array_equal(again.embeddings, first.embeddings)
    valid = load_embeddings(out / "valid.safetensors")
    np.testing.assert_array_equal(valid.embeddings[valid.index()[valid_id]], sentinel)


def test_bad_cases_are_recorded_and_the_rest_finish(phantom: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(shutil.copytree(phantom, tmp_path / "dataset"))
    ds = CTRateDataset(root)
    broken, missing = ds.case_ids("train")[:2]
    path = ds.volume_path(broken)
    path.write_bytes(path.read_bytes()[:200])
    ds.volume_path(missing).unlink()
    out = tmp_path / "emb"
    assert _embed(root, out) == 1
    manifest = json.loads((out / "train.manifest.json").read_text())
    errors = {f["case_id"]: f["error"] for f in manifest["failures"]}
    assert set(errors) == {broken, missing}
    assert "cannot read NIfTI" in errors[broken] and "volume file not found" in errors[missing]
    emb = load_embeddings(out / "train.safetensors")
    assert emb.case_ids == [c for c in ds.case_ids("train") if c not in errors]
    assert broken in capsys.readouterr().err


def test_workers_give_the_same_embeddings(phantom: Path, tmp_path: Path) -> None:
    assert _embed(phantom, tmp_path / "a", "--splits", "valid") == 0
    assert _embed(phantom, tmp_path / "b", "--splits", "valid", "--workers", "2", "--batch-size", "2") == 0
    a = load_embeddings(tmp_path / "a" / "valid.safetensors")
    b = load_embeddings(tmp_path / "b" / "valid.safetensors")
    assert a.case_ids == b.case_ids
    np.testing.assert_allclose(a.embeddings, b.embeddings, atol=1e-5)


def test_refuses_to_mix_runs(phantom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "emb"
    assert _embed(phantom, out, "--splits", "valid") == 0
    assert _embed(phantom, out, "--splits", "valid", "--seed", "1") == 2
    assert "another run" in capsys.readouterr().err


def test_resume_survives_parts_cut_short_by_a_kill(phantom: Path, tmp_path: Path) -> None:
    """A kill inside np.save leaves an empty temporary part (EOFError on np.load) or a truncated one."""
    out = tmp_path / "emb"
    ds = CTRateDataset(phantom)
    first, second = ds.case_ids("valid")[:2]
    parts = out / "valid.parts"
    parts.mkdir(parents=True)
    (parts / f".{first}.tmp.npy").write_bytes(b"")
    (parts / f"{second}.npy").write_bytes(b"")
    assert _embed(phantom, out, "--splits", "valid") == 0
    emb = load_embeddings(out / "valid.safetensors")
    assert emb.case_ids == ds.case_ids("valid")
    fresh = tmp_path / "fresh"
    assert _embed(phantom, fresh, "--splits", "valid") == 0
    np.testing.assert_allclose(emb.embeddings, load_embeddings(fresh / "valid.safetensors").embeddings, atol=1e-5)


def test_refuses_to_mix_checkpoints_with_the_same_file_name(phantom: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from radeval_models.ctclip.config import CTViTConfig
    from radeval_models.ctclip.encoder import CTClipImageEncoder

    paths = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        enc = CTClipImageEncoder(CTViTConfig.small())
        state = {f"visual_transformer.{k}": v for k, v in enc.visual_transformer.state_dict().items()}
        state.update({f"to_visual_latent.{k}": v for k, v in enc.to_visual_latent.state_dict().items()})
        path = tmp_path / f"run{seed}" / "CT-CLIP_v2.pt"
        path.parent.mkdir()
        torch.save(state, path)
        paths.append(path)
    out = tmp_path / "emb"
    assert _embed(phantom, out, "--splits", "valid", "--checkpoint", str(paths[0])) == 0
    assert _embed(phantom, out, "--splits", "valid", "--checkpoint", str(paths[0])) == 0  # same weights: resumes
    capsys.readouterr()
    assert _embed(phantom, out, "--splits", "valid", "--checkpoint", str(paths[1])) == 2
    assert "another run" in capsys.readouterr().err
