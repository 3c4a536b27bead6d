"""R2GenGPT: visual-mapper size on LLaMA-3.2-1B, prompt layout, overfitting a frozen LLM, LoRA, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from radeval_models.r2gengpt import PROMPT, R2GenGPT, R2GenGPTConfig
from radeval_models.train import train_generator
from radeval.data.embeddings import load_embeddings
from radeval.registry import GenerationBatch

LLAMA_1B = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "llama-3.2-1b.json"


def test_mapper_parameters_on_llama_1b() -> None:
    model = R2GenGPT.for_meta(llm_config=LLAMA_1B)
    counts = model.parameter_counts()
    assert counts.trainable == 1_054_720
    assert counts.total == 1_235_814_400 + 1_054_720


def test_lora_adds_trainable_adapters_only() -> None:
    model = R2GenGPT.for_meta({"lora_r": 16}, llm_config=LLAMA_1B)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all("lora_" in n or n.startswith("mapper.") for n in trainable)
    # r=16 on q_proj (2048->2048) and v_proj (2048->512) of 16 layers
    assert model.parameter_counts().trainable == 1_054_720 + 16 * 16 * ((2048 + 2048) + (2048 + 512))


def test_original_generation_settings_are_the_defaults() -> None:
    cfg = R2GenGPTConfig()
    assert (cfg.num_beams, cfg.repetition_penalty, cfg.length_penalty) == (3, 2.0, 2.0)
    assert "<ImageHere>" in cfg.prompt and "chest CT volume" in PROMPT


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path, phantom_files: dict[str, Path]) -> Path:
    out = tmp_path_factory.mktemp("r2g") / "run"
    # one LayerNorm'd token inside a long prompt barely moves a 2-layer LLM, so the adapters are switched on
    train_generator("r2gengpt", {"llm": str(tiny_llama), "max_new_tokens": 40, "lora_r": 8},
                    phantom_files["embeddings"], phantom_files["reports"], out,
                    {"epochs": 60, "lr": 1e-2, "batch_size": 8}, quiet=True)
    return out


def test_collate_masks_padding_and_appends_eos(tiny_llama: Path) -> None:
    import torch

    model = R2GenGPT.from_config({"llm": str(tiny_llama)})
    batch = model.collate(["No pleural effusion.", "Normal chest CT. Small nodule."], torch.zeros(2, 512))
    eos = model.tokenizer.eos_token_id
    lengths = batch["attention_mask"].sum(1).tolist()
    assert [batch["input_ids"][i, n - 1].item() for i, n in enumerate(lengths)] == [eos, eos]
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()


def test_overfits_with_greedy_decoding(trained: Path, phantom_files: dict[str, Path],
                                       phantom_reports: dict[str, str]) -> None:
    data = load_embeddings(phantom_files["embeddings"])
    model = R2GenGPT.from_pretrained(trained, num_beams=1, repetition_penalty=1.0)
    assert model.generate(GenerationBatch(data.case_ids, data.embeddings)) == list(phantom_reports.values())


def test_beam_search_with_original_penalties_runs_and_round_trips(trained: Path, tmp_path: Path,
                                                                  phantom_files: dict[str, Path]) -> None:
    data = load_embeddings(phantom_files["embeddings"])
    batch = GenerationBatch(data.case_ids[:3], data.embeddings[:3])
    model = R2GenGPT.from_pretrained(trained)
    texts = model.generate(batch)
    assert len(texts) == 3 and all(isinstance(t, str) and t for t in texts)
    model.save_pretrained(tmp_path / "copy")
    assert R2GenGPT.from_pretrained(tmp_path / "copy").generate(batch) == texts


def test_lora_model_saves_and_loads(tmp_path: Path, tiny_llama: Path, phantom_files: dict[str, Path]) -> None:
    out = tmp_path / "lora"
    train_generator("r2gengpt", {"llm": str(tiny_llama), "lora_r": 4, "num_beams": 1, "repetition_penalty": 1.0,
                                 "max_new_tokens": 12}, phantom_files["embeddings"], phantom_files["reports"], out,
                    {"epochs": 2, "lr": 1e-2, "batch_size": 8}, quiet=True)
    model = R2GenGPT.from_pretrained(out)
    assert any("lora_" in k for k in model.trainable_state())
    data = load_embeddings(phantom_files["embeddings"])
    batch = GenerationBatch(data.case_ids[:2], data.embeddings[:2])
    model.save_pretrained(tmp_path / "copy")
    assert R2GenGPT.from_pretrained(tmp_path / "copy").generate(batch) == model.generate(batch)


def _hf_beam_reference(model: R2GenGPT, conditioning, settings) -> list[list[int]]:
    """What the previous implementation returned: HF ``generate`` on the prompt context with the same settings."""
    import torch

    from radeval_models.llm import stop_token_ids

    stops = stop_token_ids(model.tokenizer, model.lm.config)
    with torch.no_grad():
        context = model._context(conditioning)
        out = model.lm.generate(inputs_embeds=context, attention_mask=torch.ones(context.shape[:2], dtype=torch.long),
                                do_sample=False, num_beams=settings.num_beams,
                                repetition_penalty=settings.repetition_penalty,
                                length_penalty=settings.length_penalty, min_new_tokens=settings.min_new_tokens,
                                max_new_tokens=settings.max_new_tokens, eos_token_id=stops,
                                pad_token_id=model.tokenizer.pad_token_id)
    rows = out.tolist()
    return [row[:next((i for i, t in enumerate(row) if t in stops), len(row))] for row in rows]


@pytest.mark.parametrize("decoding", [None, {"num_beams": 4, "min_new_tokens": 3}, {"length_penalty": -1.0},
                                      {"num_beams": 1}])
def test_published_beam_search_equals_hf_generate(trained: Path, phantom_files: dict[str, Path], decoding) -> None:
    """The defaults (3 beams, repetition 2.0, length 2.0) and overrides, batched, equal HF generate token for token."""
    import torch

    data = load_embeddings(phantom_files["embeddings"])
    model = R2GenGPT.from_pretrained(trained)
    settings = model.decode_settings(decoding)
    if decoding is None:
        assert (settings.num_beams, settings.repetition_penalty, settings.length_penalty) == (3, 2.0, 2.0)
    cond = model.conditioning(data.case_ids, data.embeddings)
    with torch.no_grad():
        ours = model.decode(cond, settings)
    assert ours == _hf_beam_reference(model, cond, settings)
    texts = model.generate(GenerationBatch(data.case_ids, data.embeddings), decoding=decoding)
    assert texts == [model.tokenizer.decode(r, skip_special_tokens=True).strip() for r in ours]


def test_generate_cli_takes_decoding_options(trained: Path, phantom_files: dict[str, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from radeval.cli.main import main
    from radeval.io import read_reports
    from radeval_models.generation import generate_reports

    out = tmp_path / "beam4.jsonl"
    assert main(["generate", "--model", str(trained), "--embeddings", str(phantom_files["embeddings"]),
                 "--out", str(out), "--num-beams", "4", "--repetition-penalty", "1.5", "--length-penalty", "1.0",
                 "--min-new-tokens", "2", "--early-stopping", "never", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "num_beams=4" in printed and "repetition_penalty=1.5" in printed and "early_stopping=never" in printed
    ref = tmp_path / "ref.jsonl"
    summary = generate_reports(trained, phantom_files["embeddings"], ref, quiet=True,
                               decoding={"num_beams": 4, "repetition_penalty": 1.5, "length_penalty": 1.0,
                                         "min_new_tokens": 2, "early_stopping": "never"})
    assert summary.decoding == {"num_beams": 4, "max_new_tokens": 40, "min_new_tokens": 2, "repetition_penalty": 1.5,
                                "length_penalty": 1.0, "early_stopping": "never"}
    assert dict(read_reports(out)) == dict(read_reports(ref))
    with pytest.raises(SystemExit):
        main(["generate", "--model", str(trained), "--embeddings", str(phantom_files["embeddings"]),
              "--out", str(tmp_path / "x.jsonl"), "--early-stopping", "maybe"])


def test_partial_results_of_other_decoding_settings_are_not_resumed(trained: Path, phantom_files: dict[str, Path],
                                                                    tmp_path: Path) -> None:
    import json

    from radeval.errors import InputError
    from radeval_models.generation import _model_identity, generate_reports

    model = R2GenGPT.from_pretrained(trained)
    beam4 = model.decode_settings({"num_beams": 4}).as_dict()
    out = tmp_path / "preds.jsonl"
    partial = tmp_path / "preds.jsonl.partial.jsonl"
    first = load_embeddings(phantom_files["embeddings"]).case_ids[0]
    header = {"radeval_partial": {"model": _model_identity(trained, {}, beam4)}}
    partial.write_text(json.dumps(header) + "\n" + json.dumps({"id": first, "text": "kept from the first run"}) + "\n")
    with pytest.raises(InputError, match="other settings"):  # the default decoding (3 beams) is another run
        generate_reports(trained, phantom_files["embeddings"], out, quiet=True)
    summary = generate_reports(trained, phantom_files["embeddings"], out, quiet=True, decoding={"num_beams": 4})
    assert summary.n_generated == summary.n_cases - 1  # same settings: the finished case is resumed
    assert summary.decoding == beam4


def test_a_generator_without_token_decoding_refuses_decoding_settings(phantom_files: dict[str, Path],
                                                                      tmp_path: Path) -> None:
    import numpy as np

    from radeval.errors import InputError
    from radeval_models.beam_search import DecodeSettings
    from radeval_models.dummy import NearestNeighbourGenerator
    from radeval_models.generation import generate_reports

    data = load_embeddings(phantom_files["embeddings"])
    nn = NearestNeighbourGenerator.fit(data.case_ids, np.asarray(data.embeddings), ["r"] * len(data))
    with pytest.raises(InputError, match=r"'dummy' decodes no tokens: decoding settings \['num_beams'\]"):
        generate_reports(nn, data, tmp_path / "a.jsonl", quiet=True, decoding={"num_beams": 3})
    summary = generate_reports(nn, data, tmp_path / "b.jsonl", quiet=True, decoding=DecodeSettings())
    assert summary.decoding is None and summary.n_generated == len(data)


def test_saved_decoding_reads_the_effective_settings_without_loading(trained: Path, phantom_files: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    """What the bench records in its manifest for a system, cached or not."""
    import numpy as np

    from radeval.errors import InputError
    from radeval_models.dummy import NearestNeighbourGenerator
    from radeval_models.generation import saved_decoding

    assert saved_decoding(trained) == {"num_beams": 3, "max_new_tokens": 40, "min_new_tokens": 0,
                                       "repetition_penalty": 2.0, "length_penalty": 2.0, "early_stopping": False}
    assert saved_decoding(trained, {"num_beams": 1, "max_new_tokens": 8})["max_new_tokens"] == 8
    with pytest.raises(InputError, match="r2gengpt decoding: decoding setting num_beams=0"):
        saved_decoding(trained, {"num_beams": 0})
    data = load_embeddings(phantom_files["embeddings"])
    NearestNeighbourGenerator.fit(data.case_ids, np.asarray(data.embeddings), ["r"] * len(data)).save_pretrained(
        tmp_path / "nn")
    assert saved_decoding(tmp_path / "nn") is None
    with pytest.raises(InputError, match="decodes no tokens"):
        saved_decoding(tmp_path / "nn", {"length_penalty": 2.0})


def test_prompt_is_upstreams_with_the_ct_wording_only() -> None:
    """Upstream's string (wang-zhanyu/R2GenGPT @ 386cffc, as recorded in the project's reference notes); ours
    replaces "chest xray image" by "chest CT volume" and nothing else."""
    from radeval_models.r2gengpt import ORIGINAL_PROMPT

    assert ORIGINAL_PROMPT == ("Human: <Img><ImageHere></Img> Generate a comprehensive and detailed diagnosis report "
                               "for this chest xray image. \nAssistant:")
    assert PROMPT.replace("chest CT volume", "chest xray image") == ORIGINAL_PROMPT and PROMPT != ORIGINAL_PROMPT
    cfg = R2GenGPTConfig()
    assert (cfg.prompt, cfg.num_beams, cfg.repetition_penalty, cfg.length_penalty) == (PROMPT, 3, 2.0, 2.0)


def test_trains_as_the_paper_suite_configures_it(tmp_path: Path, tiny_llama: Path,
                                                 phantom_files: dict[str, Path]) -> None:
    """benchmarks/ctrate.yaml's R2GenGPT training settings (AdamW, cosine annealing to lr_min, no clipping, held-out
    cases and the best 0.5 * BLEU-4 + 0.5 * CIDEr) run end to end with beam-3 decoding on the held-out cases."""
    import json

    import yaml

    suite = yaml.safe_load((Path(__file__).resolve().parents[2] / "benchmarks" / "ctrate.yaml").read_text())
    train = next(s for s in suite["systems"] if s["name"] == "r2gengpt-llama32-1b-instruct")["train"]
    train = {**train, "epochs": 2, "batch_size": 3, "validation_fraction": 0.25}
    out = tmp_path / "run"
    train_generator("r2gengpt", {"llm": str(tiny_llama), "max_new_tokens": 6}, phantom_files["embeddings"],
                    phantom_files["reports"], out, train, quiet=True)
    log = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [round(r["lr"], 10) for r in log if r["event"] == "step"][::2] == [1e-4, round(1e-6 + (1e-4 - 1e-6) / 2, 10)]
    validations = [r for r in log if r["event"] == "validation"]
    assert len(validations) == 2 and all(0 <= v["score"] for v in validations)
    selected = json.loads((out / "config.json").read_text())["training"]["selected"]
    assert selected["score"] == max(v["score"] for v in validations)
