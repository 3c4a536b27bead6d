"""RAD3D-Prefix: parameter counts on LLaMA-3.2-1B (meta device), overfitting on a frozen LLM, save/load, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from radeval_models.rad3d_prefix import Rad3dPrefixLinear, Rad3dPrefixV1, Rad3dPrefixV2, Rad3dPrefixV3
from radeval_models.train import train_generator
from radeval.data.embeddings import load_embeddings
from radeval.errors import InputError
from radeval.registry import GenerationBatch, get_generator

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs"
LLAMA_1B = CONFIGS / "llama-3.2-1b.json"


@pytest.mark.parametrize(("cls", "trainable"), [(Rad3dPrefixV2, 279_093_248), (Rad3dPrefixV3, 279_461_888),
                                                (Rad3dPrefixV1, 1_514_907_648), (Rad3dPrefixLinear, 10_874_880)])
def test_trainable_parameters_on_llama_1b(cls: type, trainable: int) -> None:
    counts = cls.for_meta(llm_config=LLAMA_1B).parameter_counts()
    assert counts.trainable == trainable
    llm_total = 1_235_814_400
    assert counts.total == llm_total + (trainable if not cls.train_llm else trainable - llm_total)


def test_registry_names_resolve_to_variants() -> None:
    assert get_generator("rad3d-prefix-v3") is Rad3dPrefixV3
    assert get_generator("rad3d-prefix-linear") is Rad3dPrefixLinear


@pytest.fixture(scope="module")
def trained_v3(tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path, phantom_files: dict[str, Path],
               tiny_mapper: dict[str, int]) -> tuple[Path, dict[str, torch.Tensor]]:
    """A V-3 model overfitted on the eight phantom cases, and the frozen LLM weights before training."""
    from radeval_models.llm import load_llm

    before = {k: v.clone() for k, v in load_llm(str(tiny_llama))[0].state_dict().items()}
    out = tmp_path_factory.mktemp("v3") / "run"
    train_generator("rad3d-prefix-v3", {"llm": str(tiny_llama), **tiny_mapper}, phantom_files["embeddings"],
                    phantom_files["reports"], out, {"epochs": 30, "lr": 1e-2, "batch_size": 8}, quiet=True)
    return out, before


def _generate(model_dir: Path, files: dict[str, Path]) -> list[str]:
    data = load_embeddings(files["embeddings"])
    model = Rad3dPrefixV3.from_pretrained(model_dir)
    return model.generate(GenerationBatch(data.case_ids, data.embeddings, data.logits))


def test_v3_reproduces_training_reports(trained_v3: tuple[Path, dict], phantom_files: dict[str, Path],
                                        phantom_reports: dict[str, str]) -> None:
    assert _generate(trained_v3[0], phantom_files) == list(phantom_reports.values())


def test_prefix_conditions_the_frozen_llm(trained_v3: tuple[Path, dict], phantom_files: dict[str, Path]) -> None:
    data = load_embeddings(phantom_files["embeddings"])
    model = Rad3dPrefixV3.from_pretrained(trained_v3[0])
    swapped = model.generate(GenerationBatch(data.case_ids[:2], data.embeddings[[1, 0]], data.logits[[1, 0]]))
    original = model.generate(GenerationBatch(data.case_ids[:2], data.embeddings[:2], data.logits[:2]))
    assert swapped == original[::-1] and original[0] != original[1]


def test_frozen_llm_is_bit_identical_after_training(trained_v3: tuple[Path, dict]) -> None:
    model = Rad3dPrefixV3.from_pretrained(trained_v3[0])
    after = model.lm.state_dict()
    assert set(after) == set(trained_v3[1])
    assert all(torch.equal(after[k], v) for k, v in trained_v3[1].items())
    assert all(not p.requires_grad for p in model.lm.parameters())
    assert {k.split(".")[0] for k in model.trainable_state()} == {"mapper"}


def test_save_load_round_trip_gives_identical_generations(trained_v3: tuple[Path, dict], tmp_path: Path,
                                                          phantom_files: dict[str, Path]) -> None:
    model = Rad3dPrefixV3.from_pretrained(trained_v3[0])
    model.save_pretrained(tmp_path / "copy")
    assert _generate(tmp_path / "copy", phantom_files) == _generate(trained_v3[0], phantom_files)
    assert not any(p.suffix in {".bin", ".pt", ".pkl"} for p in (tmp_path / "copy").iterdir())


def test_bad_inputs_name_the_problem(trained_v3: tuple[Path, dict], phantom_files: dict[str, Path]) -> None:
    data = load_embeddings(phantom_files["embeddings"])
    model = Rad3dPrefixV3.from_pretrained(trained_v3[0])
    ids = data.case_ids[:2]
    with pytest.raises(InputError, match="dimension 256.*512"):
        model.generate(GenerationBatch(ids, data.embeddings[:2, :256], data.logits[:2], extra={"source": "x.st"}))
    with pytest.raises(InputError, match=r"diagnostic logits.*phantom_000"):
        model.generate(GenerationBatch(ids, data.embeddings[:2], None))
    bad = data.embeddings[:2].copy()
    bad[1, 3] = np.nan
    with pytest.raises(InputError, match="non-finite embeddings.*phantom_001"):
        model.generate(GenerationBatch(ids, bad, data.logits[:2]))
    with pytest.raises(InputError, match="checkpoint of model 'rad3d-prefix-v3'.*'rad3d-prefix-v2'"):
        Rad3dPrefixV2.from_pretrained(trained_v3[0])


def test_v1_trains_the_llm_and_saves_it(tmp_path: Path, tiny_llama: Path, phantom_files: dict[str, Path],
                                        tiny_mapper: dict[str, int]) -> None:
    out = tmp_path / "v1"
    train_generator("rad3d-prefix-v1", {"llm": str(tiny_llama), **tiny_mapper}, phantom_files["embeddings"],
                    phantom_files["reports"], out, {"epochs": 2, "lr": 1e-3, "batch_size": 4}, quiet=True)
    model = Rad3dPrefixV1.from_pretrained(out)
    assert any(k.startswith("lm.") for k in model.trainable_state())
    assert (out / "llm" / "config.json").is_file()
    data = load_embeddings(phantom_files["embeddings"])
    batch = GenerationBatch(data.case_ids[:3], data.embeddings[:3])
    model.save_pretrained(tmp_path / "copy")
    assert Rad3dPrefixV1.from_pretrained(tmp_path / "copy").generate(batch) == model.generate(batch)


# -- diagnostic priors: sigmoid probabilities by default (the paper's Table 5 shows confidences in [0, 1]) --------

def test_prior_mode_is_probability_by_default_and_logit_on_request(tiny_llama: Path) -> None:
    from radeval_models.rad3d_prefix import Rad3dPrefixConfig

    assert Rad3dPrefixConfig().prior == "probability"
    with pytest.raises(InputError, match="prior='softmax'"):
        Rad3dPrefixConfig(prior="softmax")
    logits = np.array([[-2.0, 0.0, 3.0] + [0.0] * 15], dtype=np.float32)
    emb = np.zeros((1, 512), dtype=np.float32)
    prob = Rad3dPrefixV3.from_config({"llm": str(tiny_llama), "num_layers": 1})
    raw = Rad3dPrefixV3.from_config({"llm": str(tiny_llama), "num_layers": 1, "prior": "logit"})
    got_prob = prob.conditioning(["c1"], emb, logits).numpy()[0, 512:]
    got_raw = raw.conditioning(["c1"], emb, logits).numpy()[0, 512:]
    np.testing.assert_allclose(got_prob, 1 / (1 + np.exp(-logits[0])), rtol=1e-6)
    np.testing.assert_array_equal(got_raw, logits[0])
    assert ((got_prob >= 0) & (got_prob <= 1)).all()
    # V-2 takes no priors at all
    v2 = Rad3dPrefixV2.from_config({"llm": str(tiny_llama), "num_layers": 1})
    assert v2.conditioning(["c1"], emb, None).shape == (1, 512)


def test_saved_prior_mode_round_trips_and_old_checkpoints_load_as_logit(trained_v3: tuple[Path, dict],
                                                                        tmp_path: Path) -> None:
    import json
    import shutil

    model_dir = trained_v3[0]
    assert Rad3dPrefixV3.from_pretrained(model_dir).config.prior == "probability"
    old = tmp_path / "old"
    shutil.copytree(model_dir, old)
    cfg_file = old / "config.json"
    body = json.loads(cfg_file.read_text())
    body["config"].pop("prior")
    cfg_file.write_text(json.dumps(body))
    assert Rad3dPrefixV3.from_pretrained(old).config.prior == "logit"


def test_prior_width_check_against_a_label_set() -> None:
    from radeval_models.generator import check_prior_width, prior_width
    from radeval.data.labels import CTRATE_LABELS, INSPECT_LABELS

    assert prior_width(Rad3dPrefixV3, {}) == 18 and prior_width(Rad3dPrefixV2, {"n_logits": 21}) is None
    assert check_prior_width(CTRATE_LABELS, Rad3dPrefixV3, {}) is None
    assert check_prior_width(INSPECT_LABELS, Rad3dPrefixV3, {"n_logits": 21}) is None
    assert "18 diagnostic priors" in check_prior_width(INSPECT_LABELS, Rad3dPrefixLinear, {})
    assert check_prior_width(INSPECT_LABELS, Rad3dPrefixV2, {}) is None


def test_beam_search_on_request_equals_hf_generate(trained_v3: tuple[Path, dict],
                                                   phantom_files: dict[str, Path]) -> None:
    from radeval_models.llm import stop_token_ids

    data = load_embeddings(phantom_files["embeddings"])
    model = Rad3dPrefixV3.from_pretrained(trained_v3[0])
    assert model.decode_settings().is_plain_greedy  # the default stays greedy
    cond = model.conditioning(data.case_ids, data.embeddings, data.logits)
    stops = stop_token_ids(model.tokenizer, model.lm.config)
    settings = model.decode_settings({"num_beams": 3, "repetition_penalty": 2.0, "length_penalty": 2.0})
    with torch.no_grad():
        ours = model.decode(cond, settings)
        prefix = model.prefix(cond)
        ref = model.lm.generate(inputs_embeds=prefix, attention_mask=torch.ones(prefix.shape[:2], dtype=torch.long),
                                do_sample=False, num_beams=3, repetition_penalty=2.0, length_penalty=2.0,
                                max_new_tokens=settings.max_new_tokens, eos_token_id=stops,
                                pad_token_id=model.tokenizer.pad_token_id)
    assert ours == [r[:next((i for i, t in enumerate(r) if t in stops), len(r))] for r in ref.tolist()]
