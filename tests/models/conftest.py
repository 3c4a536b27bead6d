"""Fixtures of the generator tests: phantom-style training cases and small local language models."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPORTS = [
    "No pleural effusion.",
    "Small nodule in the right upper lobe.",
    "Cardiomegaly with pericardial effusion.",
    "Emphysema in both upper lobes.",
    "Consolidation in the left lower lobe.",
    "Normal chest CT.",
    "Hiatal hernia. No lymphadenopathy.",
    "Bilateral ground glass opacities.",
]
CASE_IDS = [f"phantom_{i:03d}" for i in range(len(REPORTS))]
N_LABELS = 18


def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = os.environ.get("RADEVAL_HOME_SHARED")
    return Path(shared) if shared else tmp_path_factory.getbasetemp() / "radeval_home_shared"


@pytest.fixture(scope="session")
def phantom_reports() -> dict[str, str]:
    """Eight short, distinct findings, keyed by case id."""
    return dict(zip(CASE_IDS, REPORTS))


@pytest.fixture(scope="session")
def phantom_files(tmp_path_factory: pytest.TempPathFactory, phantom_reports: dict[str, str]) -> dict[str, Path]:
    """``embeddings`` (512-d unit vectors + 18 logits) and ``reports`` (JSONL) of the eight cases."""
    from radeval.data.embeddings import EmbeddingSet, save_embeddings
    from radeval.io import write_reports

    root = tmp_path_factory.mktemp("phantom")
    rng = np.random.default_rng(7)
    emb = rng.normal(size=(len(CASE_IDS), 512)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    logits = rng.normal(size=(len(CASE_IDS), N_LABELS)).astype(np.float32)
    save_embeddings(root / "train.safetensors", EmbeddingSet(CASE_IDS, emb, logits))
    write_reports(root / "train.jsonl", phantom_reports)
    return {"embeddings": root / "train.safetensors", "reports": root / "train.jsonl", "root": root}


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer LLaMA with a 400-token BPE, pretrained as a plain LM on "Case X:\\n<report>", as a local directory."""
    from radeval_models.tiny_llm import write_tiny_llama

    previous = os.environ.get("RADEVAL_HOME")
    os.environ["RADEVAL_HOME"] = str(_session_home(tmp_path_factory))
    try:
        texts = [f"Case {chr(65 + i)}:\n{r}" for i, r in enumerate(REPORTS)]
        return write_tiny_llama(tmp_path_factory.mktemp("tiny") / "llama", texts=texts, vocab_size=400, steps=200)
    finally:
        if previous is None:
            os.environ.pop("RADEVAL_HOME", None)
        else:
            os.environ["RADEVAL_HOME"] = previous


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2-135M-Instruct converted from the packaged GGUF once per session (or per RADEVAL_HOME_SHARED)."""
    from radeval_models.llm import smollm2_dir

    return smollm2_dir(cache_dir=_session_home(tmp_path_factory) / "llm")


@pytest.fixture(scope="session")
def gemma3_270m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gemma-3-270M assembled from its 4 part packages and converted once per session (or per RADEVAL_HOME_SHARED)."""
    from radeval_models.llm import gemma3_270m_dir

    return gemma3_270m_dir(cache_dir=_session_home(tmp_path_factory) / "llm")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    """Tests share two cores with other jobs: one torch thread each avoids oversubscription."""
    import torch

    torch.set_num_threads(1)


#: Small mapper settings that train in seconds on the tiny LLaMA.
TINY_MAPPER = {"num_layers": 1, "prefix_length": 4, "clip_length": 4, "num_heads": 4}


@pytest.fixture(scope="session")
def tiny_mapper() -> dict[str, int]:
    """Transformer-mapper settings for the tiny LLaMA (width 64)."""
    return dict(TINY_MAPPER)


@pytest.fixture
def one_and_two_processes():
    """Runs a script once in this interpreter and once under ``accelerate launch`` with two CPU processes (gloo).

    Returns ``run(script, before, after, out_root, *, port) -> (single, multi)``: the script is called as
    ``script *before <out> *after`` with ``<out>`` = ``out_root/single`` and ``out_root/multi``; the two-process run
    must succeed and leave one ``rank<i>-of-2`` marker per process. Skips when the launcher is missing.
    """
    import shutil
    import subprocess
    import sys

    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if launcher is None:
        pytest.skip("the accelerate launcher is not installed next to this interpreter")

    def run(script: Path, before: list[str], after: list[str], out_root: Path, *, port: int) -> tuple[Path, Path]:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        single, multi = out_root / "single", out_root / "multi"
        subprocess.run([sys.executable, str(script), *before, str(single), *after], check=True, env=env,
                       timeout=600, capture_output=True)
        # `launch --cpu` uses the single-process launcher unless mpirun is set up; the torchrun-based launcher
        # (--multi_gpu) with Accelerator(cpu=True) on a machine without GPUs gives MULTI_CPU over gloo.
        done = subprocess.run([launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                               "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(port),
                               str(script), *before, str(multi), *after], env=env, timeout=600,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        assert sorted(p.name for p in multi.glob("rank*")) == ["rank0-of-2", "rank1-of-2"]
        return single, multi

    return run
