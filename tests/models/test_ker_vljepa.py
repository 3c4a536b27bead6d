"""``ker-vljepa``: zone compression, whitening, warm bridge, EWC, the four-phase curriculum through the shared loop
(each phase trains exactly its parameters, resume inside a phase), training that learns, parameter counts and the
2-process run.

Slab tokens of the phantom cases are a test fixture: seeded N(0, 1) arrays, (6, 16) per case, not derived from
anything (the model must learn to tell the eight cases apart from them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from radeval.data.embeddings import EmbeddingSet, load_embeddings, save_embeddings
from radeval.errors import InputError
from radeval.metrics.output_diagnostics import degenerate_flags, diagnostic_values
from radeval_models.generation import generate_reports
from radeval_models.ker_vljepa import CARD, KerVLJepa, KerVLJepaConfig
from radeval_models.train import train_generator
from radeval_models.zone_compression import ZoneCompressor

from .conftest import CASE_IDS, REPORTS

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs"
#: Tiny settings for the 64-wide test LLaMA (phase epochs are set per test).
TINY = {"n_zones": 3, "zone_heads": 2, "pca_components": 4, "lora_r": 4, "xattn_heads": 2, "max_new_tokens": 24,
        "ewc_fisher_cases": 8, "findings_lr_scale": 1.0, "ewc_strength": 1.0}
#: 4 + 2 + 1 + 2 epochs, 2 steps each (batch 4 of 8 cases): phases at steps [0,2) [2,4) [4,8) [8,12)
SHORT = {**TINY, "warmup_epochs": 1, "align_epochs": 1, "generate_epochs": 2, "findings_epochs": 2}
SHORT_TRAIN = {"epochs": 6, "lr": 1e-2, "batch_size": 4, "seed": 0, "keep_checkpoints": 10}


@pytest.fixture(scope="module")
def slab_files(tmp_path_factory: pytest.TempPathFactory, phantom_reports: dict[str, str]) -> dict[str, Path]:
    """The eight phantom cases with 64-d latents and (6, 16) slab tokens; a copy without slab tokens."""
    from radeval.io import write_reports

    root = tmp_path_factory.mktemp("kervl")
    rng = np.random.default_rng(11)
    n = len(CASE_IDS)
    emb = rng.normal(size=(n, 64)).astype(np.float32)
    slabs = rng.normal(size=(n, 6, 16)).astype(np.float32)
    save_embeddings(root / "train.safetensors", EmbeddingSet(CASE_IDS, emb, slab_tokens=slabs))
    save_embeddings(root / "no_slabs.safetensors", EmbeddingSet(CASE_IDS, emb))
    write_reports(root / "train.jsonl", phantom_reports)
    return {"embeddings": root / "train.safetensors", "no_slabs": root / "no_slabs.safetensors",
            "reports": root / "train.jsonl"}


def _weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_file(str(directory / "model.safetensors"))


def _model(tiny_llama: Path, **overrides: object) -> KerVLJepa:
    return KerVLJepa.from_config({"llm": str(tiny_llama), "embedding_dim": 64, "n_slabs": 6, "slab_dim": 16,
                                  **SHORT, **overrides})


def _conditioning(model: KerVLJepa, files: dict[str, Path]) -> torch.Tensor:
    data = load_embeddings(files["embeddings"])
    return model.conditioning(data.case_ids, data.embeddings, None, slab_tokens=data.slab_tokens)


# ---- components ---------------------------------------------------------------------------------------------

def test_zone_queries_attend_only_inside_their_zone() -> None:
    torch.manual_seed(0)
    comp = ZoneCompressor(n_slabs=7, n_zones=3, dim=8, num_heads=2)
    weights = comp.attention_weights(torch.randn(2, 7, 8))
    zones = [[0, 1, 2], [3, 4], [5, 6]]  # floor(s * 3 / 7)
    for k, inside in enumerate(zones):
        outside = [s for s in range(7) if s not in inside]
        assert torch.all(weights[:, k, outside] == 0)
        assert torch.allclose(weights[:, k, inside].sum(-1), torch.ones(2))
    assert comp(torch.randn(2, 7, 8)).shape == (2, 3, 8)


def test_more_zones_than_slabs_is_refused(tiny_llama: Path) -> None:
    with pytest.raises(InputError, match="n_zones must be between 1 and n_slabs"):
        _model(tiny_llama, n_zones=7)


def test_whitening_gives_unit_covariance_and_inverts(tiny_llama: Path) -> None:
    model = _model(tiny_llama)
    model.fit_training_data(REPORTS, torch.zeros(0))
    reps = model.text_representations(model.findings.texts(REPORTS))
    z = model.whitening(reps).double()
    assert torch.allclose(z.mean(0), torch.zeros(4, dtype=torch.float64), atol=1e-4)
    assert torch.allclose(torch.cov(z.T), torch.eye(4, dtype=torch.float64), atol=1e-3)
    a, mu = model.whitening.unwhiten_affine()
    # projecting onto the retained components and back is the identity on them
    back = z.float() @ a.T + mu
    assert torch.allclose(model.whitening(back), z.float(), atol=1e-4)


def test_too_few_texts_for_the_components_is_refused(tiny_llama: Path) -> None:
    model = _model(tiny_llama, pca_components=8)
    with pytest.raises(InputError, match="needs at least 9 training texts"):
        model.fit_training_data(REPORTS, torch.zeros(0))


def test_positive_findings_targets_keep_positive_sentences_only() -> None:
    from radeval_models.positive_findings import PositiveFindings

    pf = PositiveFindings()
    assert pf.text("Hiatal hernia. No lymphadenopathy.") == "Hiatal hernia."
    assert pf.text("No pleural effusion.") == "No acute abnormality."
    assert pf.label_vector("Cardiomegaly with pericardial effusion.").sum() == 2


def test_warm_bridge_is_the_centred_unwhitened_latent_prediction(tiny_llama: Path) -> None:
    model = _model(tiny_llama)
    model.fit_training_data(REPORTS, torch.zeros(0))
    model.warm_bridge()
    zones = torch.randn(3, 2, 16)
    a, _ = model.whitening.unwhiten_affine()
    expected = model.latent_prediction(zones).detach()  # mean zone token -> whitened latent
    mean_bridge = model.bridge(zones).mean(1).detach()  # the bridge is linear, so the mean commutes
    assert torch.allclose(mean_bridge, expected @ a.T, atol=1e-5)


def test_ewc_penalty_is_zero_at_the_anchor_and_grows_away(tiny_llama: Path, slab_files: dict[str, Path]) -> None:
    model = _model(tiny_llama, ewc_strength=3.0)
    model.fit_training_data(REPORTS, torch.zeros(0))
    assert float(model.ewc_penalty()) == 0.0  # no anchor yet
    model.set_ewc_anchor(REPORTS, _conditioning(model, slab_files))
    fisher = [getattr(model.ewc, f"fisher_{i}") for i in range(model.ewc.n)]
    assert sum(float(f.sum()) for f in fisher) > 0
    assert float(model.ewc_penalty()) == 0.0
    torch.manual_seed(1)
    direction = [torch.randn_like(p) for p in model._lora]
    anchor = [p.detach().clone() for p in model._lora]
    values = []
    for t in (0.25, 0.5, 1.0, 2.0):
        with torch.no_grad():
            for p, a, d in zip(model._lora, anchor, direction):
                p.copy_(a + t * d)
        values.append(float(model.ewc_penalty()))
        # lambda / 2 * sum F (t d)^2, written out
        assert values[-1] == pytest.approx(0.5 * 3.0 * t * t * sum(float((f * d * d).sum())
                                                                  for f, d in zip(fisher, direction)), rel=1e-5)
    assert values == sorted(values) and values[0] > 0


# ---- parameter counts ---------------------------------------------------------------------------------------

def _expected_trainable(*, h: int, layers: int, kv_width: int, d: int = 512, k: int = 8, labels: int = 18,
                        c: int = 256, r: int = 8, xattn_layers: int = 3) -> int:
    # queries + zone PE, LayerNorm, bias-free MHA, bias-free pre-norm layer (MHA, 2 MLP matrices, 2 weight-only LNs)
    compressor = 2 * k * d + 2 * d + 4 * d * d + (4 * d * d + 4 * d * d + 2 * d)
    heads = (d * labels + labels) + (d * c + c) + (d * h + h)  # label head, align head, bridge
    xattn = xattn_layers * (2 * h + 4 * h * h + 1)  # LayerNorm, bias-free MHA, gate
    lora = layers * r * ((h + h) + (h + kv_width))  # q_proj and v_proj adapters
    return compressor + heads + xattn + lora


def test_parameter_counts_on_llama_3_2_3b() -> None:
    model = KerVLJepa.for_meta({}, llm_config=CONFIGS / "llama-3.2-3b.json")
    assert model.xattn_at == (7, 14, 21)
    counts = model.parameter_counts()
    assert counts.trainable == _expected_trainable(h=3072, layers=28, kv_width=8 * 128)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all(n.startswith(("compressor.", "label_head.", "align_head.", "bridge.", "xattn.")) or "lora_" in n
               for n in trainable)


def test_parameter_counts_on_llama_3_2_1b() -> None:
    model = KerVLJepa.for_meta({"n_zones": 24}, llm_config=CONFIGS / "llama-3.2-1b.json")
    assert model.xattn_at == (4, 8, 12)
    assert model.parameter_counts().trainable == _expected_trainable(h=2048, layers=16, kv_width=8 * 64, k=24)


# ---- the curriculum through the shared loop -----------------------------------------------------------------

def test_each_phase_trains_exactly_its_parameters(tmp_path: Path, tiny_llama: Path,
                                                  slab_files: dict[str, Path]) -> None:
    from accelerate.utils import set_seed

    settings = {"llm": str(tiny_llama), **SHORT}
    run = tmp_path / "run"
    train_generator("ker-vljepa", settings, slab_files["embeddings"], slab_files["reports"], run,
                    {**SHORT_TRAIN, "weight_decay": 0.0}, quiet=True)
    set_seed(SHORT_TRAIN["seed"])  # the loop's initialisation, rebuilt
    fresh = KerVLJepa.from_config({**settings, "embedding_dim": 64, "n_slabs": 6, "slab_dim": 16})
    before = {n: p.detach().clone() for n, p in fresh.named_parameters() if p.requires_grad}
    lora = {n for n in before if "lora_" in n}
    groups = {"compressor": {n for n in before if n.startswith("compressor.")},
              "label_head": {n for n in before if n.startswith("label_head.")},
              "align_head": {n for n in before if n.startswith("align_head.")},
              "bridge": {n for n in before if n.startswith("bridge.")},
              "xattn": {n for n in before if n.startswith("xattn.")}}
    expected = {"warmup": groups["compressor"] | groups["label_head"],
                "align": groups["compressor"] | groups["align_head"],
                "generate": groups["compressor"] | groups["bridge"] | groups["xattn"] | groups["align_head"]
                | groups["label_head"] | lora,
                "findings": lora}
    # phase ends: epoch 1 (warmup), 2 (align), 4 (generate), 6 (findings)
    ends = {"warmup": 1, "align": 2, "generate": 4, "findings": 6}
    previous = before
    for phase, epoch in ends.items():
        state = _weights(run / "checkpoints" / f"epoch-{epoch:03d}")
        changed = {n for n in before if not torch.equal(state[n], previous[n])}
        if phase == "generate":  # the warm bridge changes the bridge at the phase's first step whatever it trains
            assert groups["bridge"] <= changed
        assert changed == expected[phase], (phase, sorted(changed ^ expected[phase])[:6])
        previous = state
    steps = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    phases = [s["phase"] for s in steps if s["event"] == "step"]
    assert phases == ["warmup"] * 2 + ["align"] * 2 + ["generate"] * 4 + ["findings"] * 4
    assert [s["lr"] for s in steps if s["event"] == "step"] == [1e-2] * 12


def test_resume_inside_a_phase_equals_uninterrupted(tmp_path: Path, tiny_llama: Path,
                                                    slab_files: dict[str, Path]) -> None:
    settings = {"llm": str(tiny_llama), **SHORT, "findings_lr_scale": 0.5}
    args = (slab_files["embeddings"], slab_files["reports"])
    full = train_generator("ker-vljepa", settings, *args, tmp_path / "full", SHORT_TRAIN, quiet=True)
    # stop inside "generate" (steps 4..7) mid-epoch, then inside "findings" (steps 8..11), then finish
    first = train_generator("ker-vljepa", settings, *args, tmp_path / "split", {**SHORT_TRAIN, "max_steps": 5},
                            quiet=True)
    second = train_generator("ker-vljepa", settings, *args, tmp_path / "split", {**SHORT_TRAIN, "max_steps": 9},
                             quiet=True)
    third = train_generator("ker-vljepa", settings, *args, tmp_path / "split", SHORT_TRAIN, quiet=True)
    assert (first.steps, second.steps, third.steps) == (5, 9, full.steps) == (5, 9, 12)
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "split")
    assert a.keys() == b.keys() and any(k.startswith("ewc.") for k in a)
    worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    assert worst < 1e-6, worst
    logs = [[json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]
            for d in (tmp_path / "full", tmp_path / "split")]
    steps = [[(s["step"], s["phase"], s["lr"]) for s in log if s["event"] == "step"] for log in logs]
    assert steps[0] == steps[1]
    assert steps[0][-1] == (12, "findings", 5e-3)


def test_epochs_other_than_the_curriculum_are_refused(tmp_path: Path, tiny_llama: Path,
                                                      slab_files: dict[str, Path]) -> None:
    with pytest.raises(InputError, match=r"curriculum declares 12 step\(s\) .*i\.e\. 6 epoch"):
        train_generator("ker-vljepa", {"llm": str(tiny_llama), **SHORT}, slab_files["embeddings"],
                        slab_files["reports"], tmp_path / "run", {**SHORT_TRAIN, "epochs": 5}, quiet=True)


def test_phases_in_steps_run_a_curriculum_cut_by_max_steps(tmp_path: Path, tiny_llama: Path,
                                                           slab_files: dict[str, Path]) -> None:
    settings = {"llm": str(tiny_llama), **TINY, "phase_unit": "steps", "warmup_epochs": 1, "align_epochs": 1,
                "generate_epochs": 2, "findings_epochs": 1}
    run = tmp_path / "run"
    result = train_generator("ker-vljepa", settings, slab_files["embeddings"], slab_files["reports"], run,
                             {**SHORT_TRAIN, "epochs": 3, "max_steps": 5}, quiet=True)
    assert result.steps == 5
    steps = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [s["phase"] for s in steps if s["event"] == "step"] == ["warmup", "align", "generate", "generate",
                                                                   "findings"]
    with pytest.raises(InputError, match="max_steps: 4; make the run as long as the curriculum"):
        train_generator("ker-vljepa", settings, slab_files["embeddings"], slab_files["reports"], tmp_path / "b",
                        {**SHORT_TRAIN, "epochs": 3, "max_steps": 4}, quiet=True)


def test_missing_slab_tokens_name_the_embed_option(tmp_path: Path, tiny_llama: Path,
                                                   slab_files: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="--slab-tokens"):
        train_generator("ker-vljepa", {"llm": str(tiny_llama), **SHORT}, slab_files["no_slabs"],
                        slab_files["reports"], tmp_path / "run", SHORT_TRAIN, quiet=True)


# ---- training that learns -----------------------------------------------------------------------------------

#: 2 + 2 + 30 + 10 epochs of 2 steps: enough for the tiny LLaMA to tell the eight cases apart
LEARN = {**TINY, "warmup_epochs": 2, "align_epochs": 2, "generate_epochs": 30, "findings_epochs": 10}
LEARN_TRAIN = {"epochs": 44, "lr": 1e-2, "batch_size": 4, "seed": 0}


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path, slab_files: dict[str, Path]) -> Path:
    torch.set_num_threads(1)  # module fixtures set up before the function-scoped one-thread fixture; the seed test
    out = tmp_path_factory.mktemp("kervl-learn") / "run"  # compares bit for bit with a run made on one thread
    train_generator("ker-vljepa", {"llm": str(tiny_llama), **LEARN}, slab_files["embeddings"],
                    slab_files["reports"], out, LEARN_TRAIN, quiet=True)
    generate_reports(out, slab_files["embeddings"], out / "preds.jsonl", quiet=True)
    return out


def _phase_losses(run: Path) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for line in (run / "metrics.jsonl").read_text().splitlines():
        step = json.loads(line)
        if step["event"] == "step":
            out.setdefault(step["phase"], []).append(step["loss"])
    return out


def test_training_learns_the_cases(learned: Path, phantom_reports: dict[str, str]) -> None:
    losses = _phase_losses(learned)
    for phase, values in losses.items():  # every phase lowers its own objective
        assert np.mean(values[-2:]) < np.mean(values[:2]), (phase, values)
    hyps = {json.loads(x)["id"]: json.loads(x)["text"] for x in (learned / "preds.jsonl").read_text().splitlines()}
    exact = sum(hyps[c] == phantom_reports[c] for c in CASE_IDS)
    assert exact >= 6, hyps
    values = diagnostic_values([phantom_reports[c] for c in CASE_IDS], [hyps[c] for c in CASE_IDS])
    assert degenerate_flags({"ker-vljepa": values}) == {}, values


def test_same_seed_gives_identical_model_and_reports(learned: Path, tmp_path: Path, tiny_llama: Path,
                                                     slab_files: dict[str, Path]) -> None:
    again = tmp_path / "again"
    train_generator("ker-vljepa", {"llm": str(tiny_llama), **LEARN}, slab_files["embeddings"],
                    slab_files["reports"], again, LEARN_TRAIN, quiet=True)
    a, b = _weights(learned), _weights(again)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    generate_reports(again, slab_files["embeddings"], again / "preds.jsonl", quiet=True)
    assert (again / "preds.jsonl").read_text() == (learned / "preds.jsonl").read_text()


def test_batched_decoding_equals_one_row_at_a_time(learned: Path, slab_files: dict[str, Path]) -> None:
    """Rows that stop early leave the batch with their visual tokens (the cross-attention memory)."""
    model = KerVLJepa.from_pretrained(learned)
    cond = _conditioning(model, slab_files)
    with torch.no_grad():
        batched = model.decode(cond)
        single = [model.decode(cond[i:i + 1])[0] for i in range(len(cond))]
    assert batched == single
    assert len({len(r) for r in batched}) > 1  # different lengths: the batch was compacted along the way
    from radeval_models.beam_search import DecodeSettings

    beams = DecodeSettings(num_beams=3, max_new_tokens=24)
    with torch.no_grad():  # beam search: the visual tokens follow beam expansion and reordering
        assert model.decode(cond, beams) == [model.decode(cond[i:i + 1], beams)[0] for i in range(len(cond))]


def test_saved_model_keeps_whitening_and_anchor(learned: Path) -> None:
    model = KerVLJepa.from_pretrained(learned)
    assert bool(model.whitening.fitted) and bool(model.ewc.ready)
    state = _weights(learned)
    assert torch.equal(model.whitening.components, state["whitening.components"])


# ---- model card ---------------------------------------------------------------------------------------------

def test_card_states_each_component_and_the_deviation(capsys: pytest.CaptureFixture[str]) -> None:
    from radeval.cli.main import main

    assert KerVLJepa.card == CARD
    assert main(["models", "show", "ker-vljepa"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# ker-vljepa") and "| component | status | value | source / reason |" in out
    rows = [line for line in CARD.splitlines() if line.startswith("| ") and not line.startswith("| component")]
    assert len(rows) >= 15
    assert all(("as published" in r) or ("reconstructed" in r) or ("as in review" in r) for r in rows)
    assert "Ker-VLJEPA-*style*" in CARD and "language-supervised" in CARD and "0.429" in CARD
    assert KerVLJepaConfig().n_zones <= KerVLJepaConfig().n_slabs


def test_shipped_ctrate_system_is_the_published_decoder_with_a_consistent_curriculum() -> None:
    from radeval.bench.suite import load_suite
    from radeval_models.train_config import TrainConfig

    suite = load_suite(Path(__file__).resolve().parents[2] / "benchmarks" / "ctrate.yaml", check_files=False)
    assert suite.embed.slab_tokens
    system = next(s for s in suite.systems if s.model == "ker-vljepa")
    cfg = KerVLJepa.parse_config(dict(system.config))
    assert cfg.llm == "meta-llama/Llama-3.2-3B-Instruct" and cfg.n_zones <= cfg.n_slabs == 24
    train = TrainConfig.from_mapping(system.train)
    assert train.epochs == cfg.warmup_epochs + cfg.align_epochs + cfg.generate_epochs + cfg.findings_epochs
    assert train.lr * cfg.findings_lr_scale == pytest.approx(5e-7)
    model = KerVLJepa.for_meta(dict(system.config), llm_config=CONFIGS / "llama-3.2-3b.json")
    assert model.parameter_counts().trainable == _expected_trainable(h=3072, layers=28, kv_width=8 * 128)


# ---- distributed --------------------------------------------------------------------------------------------

SCRIPT = '''
import sys
import torch
torch.set_num_threads(1)
from radeval.registry import generators
if "ker-vljepa" not in generators:
    generators.register("ker-vljepa", obj="radeval_models.ker_vljepa:KerVLJepa")
from radeval_models.generation import generate_reports
from radeval_models.train import train_generator
llm, emb, rep, out, settings, train = sys.argv[1:7]
train_generator("ker-vljepa", {"llm": llm, **eval(settings)}, emb, rep, out, eval(train), quiet=True)
generate_reports(out, emb, out + "/preds.jsonl", batch_size=3, quiet=True)
from accelerate import PartialState
state = PartialState()
open(f"{out}/rank{state.process_index}-of-{state.num_processes}", "w").close()
'''


@pytest.mark.slow
def test_two_process_run_equals_single_process(tmp_path: Path, tiny_llama: Path, slab_files: dict[str, Path],
                                               one_and_two_processes) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    train = {**SHORT_TRAIN, "keep_checkpoints": 1}
    args = [str(tiny_llama), str(slab_files["embeddings"]), str(slab_files["reports"])]
    single, multi = one_and_two_processes(script, args, [repr(SHORT), repr(train)], tmp_path, port=29541)
    a, b = _weights(single), _weights(multi)
    assert a.keys() == b.keys()
    worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    assert worst < 1e-3  # float summation order only (see tests/models/test_distributed.py)
    assert (single / "preds.jsonl").read_text() == (multi / "preds.jsonl").read_text()
    losses = [[(json.loads(x)["phase"], json.loads(x)["loss"]) for x in (d / "metrics.jsonl").read_text().splitlines()
               if json.loads(x)["event"] == "step"] for d in (single, multi)]
    assert [p for p, _ in losses[0]] == [p for p, _ in losses[1]]
    assert [v for _, v in losses[0]] == pytest.approx([v for _, v in losses[1]], rel=1e-4)
