"""MRG-LLM (``mrg-llm-prompt``, ``mrg-llm-promptbook``): parameter counts against the hand-derived formula, the model
cards, the context layout, identity initialisation and visual modulation of the prompts, learning on phantom
embeddings, determinism, save/load, resume after ``max_steps``, settings errors, and 2-process training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from radeval.data.embeddings import load_embeddings
from radeval.errors import InputError
from radeval.metrics.output_diagnostics import degenerate_flags, diagnostic_values
from radeval.registry import GenerationBatch, trainable_generator
from radeval_models.mrg_llm import (IMAGE_PLACEHOLDER, PROMPT_PLACEHOLDER, TEMPLATE, MrgLlmPrompt, MrgLlmPromptBook,
                                    MrgLlmPromptConfig)
from radeval_models.train import train_generator

LLAMA_1B = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "llama-3.2-1b.json"
NAMES = ("mrg-llm-prompt", "mrg-llm-promptbook")
#: Small settings for the tiny LLaMA (width 64). With no visual token, the customised prompts are the only way the
#: image reaches the LLM, and with identity initialisation they start equal for every image: recovering eight
#: different reports is only possible once the affine transform (and the bank mixture) depends on the image.
TINY = {"n_prompts": 4, "modulation_hidden": 32, "visual_tokens": 0, "template": PROMPT_PLACEHOLDER,
        "max_new_tokens": 30}
TRAIN = {"epochs": 30, "lr": 1e-2, "batch_size": 8, "seed": 3}


def _settings(name: str, llm: Path, **extra: object) -> dict[str, object]:
    book = {"bank_size": 4} if name.endswith("book") else {}
    return {"llm": str(llm), **TINY, **book, **extra}


def _llama_1b_trainable(*, n: int = 8, m: int = 512, visual: int = 1, bank: int | None = None) -> int:
    """The trainable count derived by hand (E = 512 CT-CLIP latent, H = 2048 Llama-3.2-1B width)."""
    e, h = 512, 2048
    projection = visual * (e + 1) * h + 2 * h if visual else 0  # Linear(E -> visual*H) + one LayerNorm(H)
    trunk = (e + 1) * m
    affine = (m + 1) * 2 * n * h  # (Δγ, β) per prompt token and channel
    prompts = n * h if bank is None else bank * n * h + (m + 1) * bank  # bank + mixture head
    return projection + trunk + affine + prompts


# ---- sizes, cards, registry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "config", "bank"), [
    (MrgLlmPrompt, {}, None),
    (MrgLlmPromptBook, {}, 16),
    (MrgLlmPrompt, {"n_prompts": 10, "modulation_hidden": 256, "visual_tokens": 0, "template": "<PromptHere>"}, None),
    (MrgLlmPromptBook, {"n_prompts": 4, "bank_size": 32, "visual_tokens": 3}, 32),
])
def test_parameter_counts_on_llama_1b_match_the_formula(cls: type, config: dict, bank: int | None) -> None:
    counts = cls.for_meta(config, llm_config=LLAMA_1B).parameter_counts()
    cfg = cls.parse_config(config)
    assert counts.trainable == _llama_1b_trainable(n=cfg.n_prompts, m=cfg.modulation_hidden,
                                                   visual=cfg.visual_tokens, bank=bank)
    assert counts.total == 1_235_814_400 + counts.trainable  # the frozen LLM (tied embeddings once) + ours


def test_default_counts_are_the_documented_figures() -> None:
    assert MrgLlmPrompt.for_meta(llm_config=LLAMA_1B).parameter_counts().trainable == 18_143_744
    assert MrgLlmPromptBook.for_meta(llm_config=LLAMA_1B).parameter_counts().trainable == 18_397_712


def test_models_params_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from radeval.cli.main import main

    assert main(["models", "params", "mrg-llm-prompt", "--llm-config", str(LLAMA_1B), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"trainable": 18_143_744, "total": 1_235_814_400 + 18_143_744}
    assert main(["models", "params", "mrg-llm-promptbook", "--llm-config", str(LLAMA_1B), "--set", "bank_size=8",
                 "--set", "n_prompts=4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trainable"] == _llama_1b_trainable(n=4, bank=8)


@pytest.mark.parametrize("name", NAMES)
def test_registered_with_a_card_marking_reconstructions(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from radeval.cli.main import main

    cls = trainable_generator(name)
    assert cls.training == "loop" and cls.name == name
    assert main(["models", "show", name]) == 0
    card = capsys.readouterr().out
    assert card.startswith(f"# {name}:") and "arXiv 2506.15477" in card
    rows = [line for line in card.splitlines() if line.startswith("| ") and not line.startswith("| component")]
    statuses = {row.split(" | ")[1] for row in rows}
    assert statuses <= {"as published", "reconstructed", "none usable"} and "reconstructed" in statuses
    for setting in ("n_prompts", "modulation_hidden", "modulation_init", "prompt_init", "template", "visual_tokens"):
        assert f"`{setting}`" in card, setting
    assert ("`bank_size`" in card) == name.endswith("book")


def test_entry_points_are_declared_in_pyproject() -> None:
    import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["entry-points"]["radeval.models"]
    assert declared["mrg-llm-prompt"] == "radeval_models.mrg_llm:MrgLlmPrompt"
    assert declared["mrg-llm-promptbook"] == "radeval_models.mrg_llm:MrgLlmPromptBook"


@pytest.mark.parametrize(("bad", "match"), [
    ({"template": "Findings:"}, "must contain <PromptHere> exactly once"),
    ({"template": "<PromptHere> <PromptHere>"}, "exactly once"),
    ({"visual_tokens": 0}, r"no <ImageHere> \(visual_tokens = 0\)"),
    ({"template": "<PromptHere>"}, r"<ImageHere> exactly once \(visual_tokens = 1\)"),
    ({"modulation_init": "zeros"}, "modulation_init='zeros': expected one of identity, default"),
    ({"prompt_init": "text"}, "prompt_init='text'"),
    ({"n_prompts": 0}, "n_prompts must be an integer >= 1"),
    ({"visual_tokens": -1}, "visual_tokens must be an integer >= 0"),
])
def test_impossible_settings_are_input_errors(bad: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        MrgLlmPromptConfig(**bad)


def test_bank_size_belongs_to_the_promptbook_only() -> None:
    with pytest.raises(InputError, match="unknown setting.*bank_size"):
        MrgLlmPrompt.parse_config({"bank_size": 4})
    with pytest.raises(InputError, match="bank_size must be an integer >= 1"):
        MrgLlmPromptBook.parse_config({"bank_size": 0})


# ---- the mechanism on a real (tiny) LLaMA --------------------------------------------------------------------------


def _batch(phantom_files: dict[str, Path], rows: int | None = None) -> tuple[GenerationBatch, torch.Tensor]:
    data = load_embeddings(phantom_files["embeddings"])
    ids, emb = data.case_ids[:rows], data.embeddings[:rows]
    return GenerationBatch(ids, emb), torch.from_numpy(np.asarray(emb, dtype=np.float32))


def test_context_places_visual_tokens_and_prompts_where_the_template_says(tiny_llama: Path,
                                                                          phantom_files: dict[str, Path]) -> None:
    torch.manual_seed(0)
    model = MrgLlmPrompt.from_config({"llm": str(tiny_llama), "n_prompts": 3, "modulation_hidden": 16,
                                      "visual_tokens": 2})
    _, cond = _batch(phantom_files, 2)
    tok = model.tokenizer
    before, middle, after = TEMPLATE.replace(IMAGE_PLACEHOLDER, "|").replace(PROMPT_PLACEHOLDER, "|").split("|")
    n_before, n_middle, n_after = (len(tok(t, add_special_tokens=False)["input_ids"]) for t in (before, middle, after))
    bos = 1 if tok.bos_token_id is not None else 0
    with torch.no_grad():
        ctx = model.context(cond)
        prompts = model.prompt_embeddings(cond)
        embed = model.lm.get_input_embeddings()
    assert ctx.shape == (2, bos + n_before + 2 + n_middle + 3 + n_after, model.hidden_size)
    start = bos + n_before + 2 + n_middle
    assert torch.equal(ctx[:, start:start + 3], prompts)
    visual = ctx[:, bos + n_before:bos + n_before + 2]  # LayerNorm'd tokens: zero mean per token
    assert torch.allclose(visual.mean(-1), torch.zeros(2, 2), atol=1e-5)
    tail_ids = tok(after, add_special_tokens=False)["input_ids"]
    assert torch.equal(ctx[0, -n_after:], embed(torch.tensor(tail_ids)))


@pytest.mark.parametrize("cls", [MrgLlmPrompt, MrgLlmPromptBook])
def test_identity_init_gives_every_image_the_same_prompts_and_default_init_does_not(
        cls: type, tiny_llama: Path, phantom_files: dict[str, Path]) -> None:
    _, cond = _batch(phantom_files, 4)
    extra = {"bank_size": 4} if cls is MrgLlmPromptBook else {}
    torch.manual_seed(0)
    model = cls.from_config({"llm": str(tiny_llama), **TINY, **extra})
    with torch.no_grad():
        prompts = model.prompt_embeddings(cond)
        assert torch.allclose(prompts, prompts[:1].expand_as(prompts))
        if cls is MrgLlmPromptBook:
            weights = model.customiser.mixture(model.customiser.features(cond))
            assert torch.allclose(weights, torch.full((4, 4), 0.25))
            assert torch.allclose(prompts[0], model.customiser.bank.mean(0))  # uniform mix, γ = 1, β = 0
        else:
            assert torch.equal(prompts[0], model.customiser.prompts)
        vocab = model.lm.get_input_embeddings().weight  # prompt_init "vocab": rows of the embedding matrix
        tokens = prompts[0] if cls is MrgLlmPrompt else model.customiser.bank.reshape(-1, model.hidden_size)
        assert all(bool((vocab == row).all(-1).any()) for row in tokens)
    torch.manual_seed(0)
    varied = cls.from_config({"llm": str(tiny_llama), **TINY, **extra, "modulation_init": "default"})
    with torch.no_grad():
        prompts = varied.prompt_embeddings(cond)
    assert not torch.allclose(prompts[0], prompts[1])


@pytest.fixture(scope="module", params=NAMES)
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path,
            phantom_files: dict[str, Path]) -> tuple[str, Path]:
    name = request.param
    out = tmp_path_factory.mktemp(name) / "run"
    train_generator(name, _settings(name, tiny_llama), phantom_files["embeddings"], phantom_files["reports"], out,
                    TRAIN, quiet=True)
    return name, out


def _step_losses(run: Path) -> list[float]:
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in records if r["event"] == "step"]


def test_learns_and_writes_reports_that_depend_on_the_image(trained: tuple[str, Path],
                                                            phantom_files: dict[str, Path],
                                                            phantom_reports: dict[str, str]) -> None:
    name, run = trained
    losses = _step_losses(run)
    assert len(losses) == TRAIN["epochs"] and losses[-1] < 0.1 * losses[0]
    model = trainable_generator(name).from_pretrained(run)
    batch, _ = _batch(phantom_files)
    hyps = model.generate(batch)
    refs = list(phantom_reports.values())
    values = diagnostic_values(refs, hyps)
    assert degenerate_flags({name: values}) == {}, values
    assert values["distinct_share"] == 1.0
    assert sum(h == r for h, r in zip(hyps, refs)) >= 6, hyps  # no visual token: only the prompts carry the image


def test_trained_prompts_depend_on_the_image(trained: tuple[str, Path], phantom_files: dict[str, Path]) -> None:
    name, run = trained
    model = trainable_generator(name).from_pretrained(run)
    _, cond = _batch(phantom_files)
    with torch.no_grad():
        prompts = model.prompt_embeddings(cond)
        gaps = torch.cdist(prompts.flatten(1), prompts.flatten(1))
        scale, shift = model.customiser.scale_shift(model.customiser.features(cond))
    off_diagonal = gaps[~torch.eye(len(cond), dtype=torch.bool)]
    assert float(off_diagonal.min()) > 1e-3  # every pair of images gets its own prompts
    assert float((scale - 1).abs().max()) > 1e-4 and float(shift.abs().max()) > 1e-4  # both halves of the affine map
    if name.endswith("book"):
        with torch.no_grad():
            weights = model.customiser.mixture(model.customiser.features(cond))
        assert torch.allclose(weights.sum(1), torch.ones(len(cond)))
        assert float((weights - weights[:1]).abs().max()) > 1e-4  # the mixture is instance-specific too


def test_same_seed_gives_identical_weights_and_reports(trained: tuple[str, Path], tmp_path: Path, tiny_llama: Path,
                                                       phantom_files: dict[str, Path]) -> None:
    name, run = trained
    again = tmp_path / "again"
    train_generator(name, _settings(name, tiny_llama), phantom_files["embeddings"], phantom_files["reports"], again,
                    TRAIN, quiet=True)
    a, b = load_file(str(run / "model.safetensors")), load_file(str(again / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert _step_losses(run) == _step_losses(again)
    batch, _ = _batch(phantom_files)
    cls = trainable_generator(name)
    assert cls.from_pretrained(run).generate(batch) == cls.from_pretrained(again).generate(batch)


def test_saves_only_the_trainable_tensors_and_round_trips(trained: tuple[str, Path], tmp_path: Path,
                                                          phantom_files: dict[str, Path]) -> None:
    name, run = trained
    cls = trainable_generator(name)
    model = cls.from_pretrained(run)
    saved = load_file(str(run / "model.safetensors"))
    assert not any(k.startswith("lm.") for k in saved)
    assert sum(v.numel() for v in saved.values()) == model.parameter_counts().trainable
    batch, _ = _batch(phantom_files, 3)
    model.save_pretrained(tmp_path / "copy")
    assert cls.from_pretrained(tmp_path / "copy").generate(batch) == model.generate(batch)
    with pytest.raises(InputError, match="config.json"):  # the other form's checkpoint is refused by name
        (MrgLlmPrompt if name.endswith("book") else MrgLlmPromptBook).from_pretrained(run)


@pytest.mark.parametrize("name", NAMES)
def test_resume_after_max_steps_equals_uninterrupted_run(name: str, tmp_path: Path, tiny_llama: Path,
                                                         phantom_files: dict[str, Path]) -> None:
    settings = _settings(name, tiny_llama)
    args = (phantom_files["embeddings"], phantom_files["reports"])
    cfg = {"lr": 1e-2, "batch_size": 2, "epochs": 2, "seed": 1}  # 8 cases: 4 steps per epoch
    full = train_generator(name, settings, *args, tmp_path / "full", {**cfg, "max_steps": 6}, quiet=True)
    first = train_generator(name, settings, *args, tmp_path / "split", {**cfg, "max_steps": 3}, quiet=True)
    second = train_generator(name, settings, *args, tmp_path / "split", {**cfg, "max_steps": 6}, quiet=True)
    assert (first.steps, second.steps, full.steps) == (3, 6, 6)
    a, b = load_file(str(tmp_path / "full" / "model.safetensors")), load_file(str(tmp_path / "split" /
                                                                                   "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert _step_losses(tmp_path / "split") == pytest.approx(_step_losses(tmp_path / "full"), abs=1e-6)


# ---- accelerate launch --num_processes 2 ---------------------------------------------------------------------------

SCRIPT = '''
import sys
import torch
torch.set_num_threads(1)
from radeval.registry import generators
for name, target in (("mrg-llm-prompt", "radeval_models.mrg_llm:MrgLlmPrompt"),
                     ("mrg-llm-promptbook", "radeval_models.mrg_llm:MrgLlmPromptBook")):
    if name not in generators.names():  # a venv installed before these entry points existed
        generators.register(name, obj=target)
from radeval_models.generation import generate_reports
from radeval_models.train import train_generator
emb, rep, out, settings = sys.argv[1], sys.argv[2], sys.argv[3], eval(sys.argv[4])
for name, config in settings.items():
    run = f"{out}/{name}"
    train_generator(name, config, emb, rep, run, {"epochs": 3, "lr": 1e-2, "batch_size": 4, "seed": 5}, quiet=True)
    generate_reports(run, emb, run + "/preds.jsonl", batch_size=3, quiet=True)
from accelerate import PartialState
state = PartialState()
open(f"{out}/rank{state.process_index}-of-{state.num_processes}", "w").close()
'''


@pytest.mark.slow
def test_two_process_run_equals_single_process(tmp_path: Path, tiny_llama: Path,
                                               phantom_files: dict[str, Path], one_and_two_processes) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    # the default template and a visual token here: the distributed run covers the full context layout
    settings = {name: _settings(name, tiny_llama, visual_tokens=1, template=TEMPLATE) for name in NAMES}
    args = [str(phantom_files["embeddings"]), str(phantom_files["reports"])]
    single, multi = one_and_two_processes(script, args, [repr(settings)], tmp_path, port=29541)
    for name in NAMES:
        a = load_file(str(single / name / "model.safetensors"))
        b = load_file(str(multi / name / "model.safetensors"))
        assert a.keys() == b.keys()
        # the same steps up to float summation order (gloo all-reduce vs one local sum), as for the other generators
        assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-3, name
        assert (single / name / "preds.jsonl").read_text() == (multi / name / "preds.jsonl").read_text(), name
        assert _step_losses(single / name) == pytest.approx(_step_losses(multi / name), rel=1e-4), name
