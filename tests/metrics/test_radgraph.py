"""RadGraph-F1: batched inference on a tiny checkpoint in the published layout, against the radgraph package."""

from __future__ import annotations

import importlib.util
import json
import shutil
import tarfile
import subprocess
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from radeval.errors import MissingWeightsError
from radeval.metrics import get_metric
from radeval.metrics.radgraph import RadGraphF1, checkpoint_dir
from radeval.metrics.radgraph_model import RadGraphModel, preprocess_report
from radeval.metrics.radgraph_rewards import entity_relation_f1
from radeval.metrics.scoring import score

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

REPORTS = [
    "No pleural effusion or pneumothorax. The heart size is normal.",
    "There is a 5 mm nodule in the right lower lobe.",
    "Mild centrilobular emphysema in the upper lobes.",
    "Large right pleural effusion with compressive atelectasis. " * 3,
    "x",
    "Unchanged small left pleural effusion (stable); no consolidation/edema.",
    "lungs clear",
]


def _tiny() -> ModuleType:
    spec = importlib.util.spec_from_file_location("radgraph_tiny_fixture", FIXTURES / "radgraph_tiny.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny BERT and two DyGIE checkpoints: v1 layout (folded at 16 pieces) and XL layout."""
    rt = _tiny()
    root = tmp_path_factory.mktemp("radgraph_tiny")
    encoder = rt.build_tiny_bert(root / "encoder")
    cache = root / "cache"
    v1 = rt.build_tiny_radgraph(cache / "radgraph", encoder, model_type="radgraph", max_length=16)
    xl = rt.build_tiny_radgraph(cache / "radgraph-xl", encoder, model_type="radgraph-xl", seed=3)
    return {"encoder": encoder, "cache": cache, "radgraph": v1, "radgraph-xl": xl}


def _upstream(tiny: dict[str, Path], model_type: str):  # noqa: ANN202 - the oracle's own type
    rt = _tiny()
    rt.enable_radgraph_oracle()
    radgraph = pytest.importorskip("radgraph")
    return radgraph, tiny["cache"], model_type


@pytest.mark.parametrize("model_type", ["radgraph", "radgraph-xl"])
def test_preprocessing_matches_upstream(model_type: str) -> None:
    utils = pytest.importorskip("radgraph.utils")
    texts = ["No effusion/edema (mild).", "5.2%. Size 3-4 cm, stable.\nNew line\\nescaped", 'He said \\"ok\\".',
             "", "a).b%,c%)d.'e", "R. lower lobe: approx. 3 cm!?"]
    expected = [d["sentences"][0] for d in utils.preprocess_reports(["None" if not t else t for t in texts],
                                                                      model_type)]
    assert [preprocess_report(t, model_type) for t in texts] == expected


@pytest.mark.parametrize("model_type", ["radgraph", "radgraph-xl"])
def test_batched_annotations_equal_upstream_one_at_a_time(tiny: dict[str, Path], model_type: str) -> None:
    radgraph, cache, _ = _upstream(tiny, model_type)
    upstream = radgraph.RadGraph(model_type=model_type, model_cache_dir=str(cache))
    expected = upstream(REPORTS)
    ours = RadGraphModel(tiny[model_type], model_type=model_type, encoder=tiny["encoder"], batch_size=3)
    got = ours.annotate(REPORTS)
    assert len(got) == len(REPORTS)
    for i, ann in enumerate(got):
        assert ann["text"] == expected[str(i)]["text"]
        assert ann["entities"] == expected[str(i)]["entities"], f"report {i}"
    n_entities = sum(len(a["entities"]) for a in got)
    n_relations = sum(len(e["relations"]) for a in got for e in a["entities"].values())
    assert n_entities > 10 and n_relations > 0  # the tiny model predicts a real mix


def test_batch_size_does_not_change_annotations(tiny: dict[str, Path]) -> None:
    one = RadGraphModel(tiny["radgraph"], model_type="radgraph", encoder=tiny["encoder"], batch_size=1)
    many = RadGraphModel(tiny["radgraph"], model_type="radgraph", encoder=tiny["encoder"], batch_size=8)
    assert one.annotate(REPORTS) == many.annotate(REPORTS)


@pytest.mark.parametrize("budget", [4000, 200_000, 2_000_000])
def test_memory_bounded_relation_path_gives_the_same_annotations(tiny: dict[str, Path], budget: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Budgets below the batch's pair tensor force the per-report path: row chunks of a few rows (4,000), or chunks
    # longer than a short report's kept spans while a long report in the same batch is over budget (larger ones).
    from radeval.metrics import radgraph_model

    reports = REPORTS + [" ".join(REPORTS) * 3, "Small effusion.", ""]
    model = RadGraphModel(tiny["radgraph"], model_type="radgraph", encoder=tiny["encoder"], batch_size=len(reports))
    monkeypatch.setattr(radgraph_model, "PAIR_BUDGET", 1 << 40)  # the whole batch's pairs at once
    expected = model.annotate(reports)
    monkeypatch.setattr(radgraph_model, "PAIR_BUDGET", budget)
    assert model.annotate(reports) == expected


def test_custom_bert_variant_encoder_config_is_read_as_bert(tiny: dict[str, Path], tmp_path: Path) -> None:
    # CXR-BERT's config names custom code (model_type "cxr-bert" + auto_map); no remote code is run,
    # the encoder is read as the plain BERT it is built on, and extra head weights are ignored.
    encoder = tmp_path / "cxr"
    shutil.copytree(tiny["encoder"], encoder)
    cfg = json.loads((encoder / "config.json").read_text())
    cfg.update(model_type="cxr-bert", architectures=["CXRBertModel"],
               auto_map={"AutoConfig": "configuration_cxrbert.CXRBertConfig", "AutoModel": "modeling_cxrbert.CXRBertModel"})
    (encoder / "config.json").write_text(json.dumps(cfg))
    plain = RadGraphModel(tiny["radgraph-xl"], model_type="radgraph-xl", encoder=tiny["encoder"])
    variant = RadGraphModel(tiny["radgraph-xl"], model_type="radgraph-xl", encoder=encoder)
    assert variant.annotate(REPORTS[:3]) == plain.annotate(REPORTS[:3])


def test_family_matches_upstream_f1radgraph(tiny: dict[str, Path]) -> None:
    radgraph, cache, _ = _upstream(tiny, "radgraph")
    refs = REPORTS[:4] + ["", "No pneumothorax."]
    hyps = REPORTS[2:] + ["Pleural effusion."]
    f1 = radgraph.F1RadGraph(reward_level="all", model_type="radgraph", model_cache_dir=str(cache))
    _, per_level, hyp_anns, ref_anns = f1(refs=refs, hyps=hyps)
    metrics = [get_metric(f"radgraph_{lvl}", model_type="radgraph", checkpoint=tiny["radgraph"],
                          encoder=tiny["encoder"], batch_size=4) for lvl in ("simple", "partial", "complete", "er")]
    assert len({m.statistics_key for m in metrics}) == 1
    stats = metrics[0].statistics(refs, hyps)
    assert stats.shape == (len(refs), 5) and not metrics[0].last_errors
    for col, m in enumerate(metrics[:3]):
        np.testing.assert_allclose(m.sample_scores(stats), per_level[col], rtol=0, atol=1e-15)
        assert m.aggregate(stats.sum(axis=0)) == pytest.approx(np.mean(per_level[col]), abs=1e-15)
    live = [i for i in range(len(refs)) if refs[i] and hyps[i]]
    er = [0.0] * len(refs)
    for k, i in enumerate(live):
        ent, rel = entity_relation_f1(hyp_anns[k], ref_anns[k])
        er[i] = (ent + rel) / 2
    np.testing.assert_allclose(metrics[3].sample_scores(stats), er, atol=1e-15)
    assert stats[4, :4].tolist() == [0.0, 0.0, 0.0, 0.0]  # empty reference: 0, not annotated


def test_score_engine_runs_the_family_once(tiny: dict[str, Path]) -> None:
    opts = {"model_type": "radgraph-xl", "checkpoint": tiny["radgraph-xl"], "encoder": tiny["encoder"]}
    names = ["radgraph_simple", "radgraph_partial", "radgraph_complete", "radgraph_er"]
    metrics = [get_metric(n, **opts) for n in names]
    calls: list[int] = []
    model = metrics[0].model()
    original = model.annotate

    def counting(reports, **kw):  # noqa: ANN001, ANN202 - a pass-through counter on the real model
        calls.append(len(reports))
        return original(reports, **kw)

    model.annotate = counting  # type: ignore[method-assign]
    result = score({"a": REPORTS[0], "b": REPORTS[1]}, {"a": REPORTS[5], "b": REPORTS[1]}, metrics=metrics)
    assert sum(calls) == 3  # three distinct texts, annotated once for all four metrics
    assert list(result.per_sample.columns) == names
    assert result.per_sample.loc["b"].tolist() == [1.0, 1.0, 1.0, result.per_sample.loc["b", "radgraph_er"]]


def test_one_bad_report_does_not_sink_the_batch(tiny: dict[str, Path], tmp_path: Path) -> None:
    # A checkpoint without folding (max_length null) fails on reports longer than the encoder's
    # 512 positions; the failure is reported for that pair and the others are scored.
    ckpt = tmp_path / "nofold"
    shutil.copytree(tiny["radgraph"], ckpt)
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["model"]["embedder"]["token_embedders"]["bert"]["max_length"] = None
    (ckpt / "config.json").write_text(json.dumps(cfg))
    m = RadGraphF1("partial", model_type="radgraph", checkpoint=ckpt, encoder=tiny["encoder"], batch_size=8)
    long_report = "pleural effusion " * 300
    refs = [REPORTS[0], REPORTS[1], REPORTS[2]]
    hyps = [REPORTS[0], long_report, REPORTS[2]]
    stats = m.statistics(refs, hyps)
    assert np.isnan(stats[1]).all()
    assert list(m.last_errors) == [1] and "RadGraph inference failed" in m.last_errors[1]
    assert stats[0, 1] == 1.0 and stats[2, 1] == 1.0
    folded = RadGraphF1("partial", model_type="radgraph", checkpoint=tiny["radgraph"], encoder=tiny["encoder"])
    assert np.isfinite(folded.statistics(refs, hyps)).all()  # the published config folds long reports


def test_tarball_is_extracted_into_radeval_home(tiny: dict[str, Path], tmp_path: Path) -> None:
    tarball = tmp_path / "radgraph.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for item in tiny["radgraph"].iterdir():
            tar.add(item, arcname=item.name)
    target = checkpoint_dir("radgraph", tarball)
    assert (target / "weights.th").exists() and target.parent.name == "radgraph"
    m = RadGraphF1("simple", model_type="radgraph", checkpoint=tarball, encoder=tiny["encoder"])
    assert m.corpus_score([REPORTS[0]], [REPORTS[0]]) == 1.0


@pytest.mark.parametrize("name", ["radgraph_simple", "radgraph_er"])
def test_missing_weights_name_the_fetch_command(name: str) -> None:
    m = get_metric(name)
    with pytest.raises(MissingWeightsError, match=f"radeval fetch {name}"):
        m.statistics(["No effusion."], ["No effusion."])


def test_bad_options_are_named() -> None:
    with pytest.raises(ValueError, match="level must be one of"):
        RadGraphF1("full")
    with pytest.raises(ValueError, match="model_type must be one of"):
        RadGraphF1("simple", model_type="echograph")
    assert get_metric("radgraph_er").model_type == "radgraph"
    assert "level:er" in get_metric("radgraph_er").signature


def _cli(command: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, RADEVAL_HOME=str(home), PYTHONPATH=str(root), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "radeval.cli.main", command, *args], capture_output=True,
                          text=True, env=env, cwd=str(root), timeout=600)


def test_compare_cli_with_the_family(tiny: dict[str, Path], tmp_path: Path) -> None:
    refs = {f"c{i}": r for i, r in enumerate(REPORTS[:6])}
    systems = {"base": {k: REPORTS[(i + 1) % 6] for i, k in enumerate(refs)}, "good": dict(refs)}
    paths = {}
    for name, texts in [("refs", refs), *systems.items()]:
        paths[name] = tmp_path / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in texts.items()))
    options = []
    for name in ("radgraph_partial", "radgraph_er"):
        options += ["--metric-option", f"{name}.model_type=radgraph", "--metric-option",
                    f"{name}.checkpoint={tiny['radgraph']}", "--metric-option", f"{name}.encoder={tiny['encoder']}"]
    proc = _cli("compare", "--refs", str(paths["refs"]), "--hyps", f"base={paths['base']}", f"good={paths['good']}",
                "--metrics", "radgraph_partial", "radgraph_er", *options, "--resamples", "200", "--json", "--quiet",
                home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    text = json.dumps(records)
    assert "radgraph_partial" in text and "radgraph_er" in text
    score_proc = _cli("score", "--refs", str(paths["refs"]), "--hyps", str(paths["good"]), "--metrics",
                      "radgraph_partial", *options[:6], "--json", home=tmp_path / "home")
    assert score_proc.returncode == 0, score_proc.stderr
    assert json.loads(score_proc.stdout) == {"radgraph_partial": 1.0}


def test_a_user_tarball_never_reuses_another_extraction(tiny: dict[str, Path], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADEVAL_HOME", str(tmp_path / "home"))
    targets = []
    for name in ("a", "b"):
        tarball = tmp_path / name / "radgraph.tar.gz"
        tarball.parent.mkdir()
        with tarfile.open(tarball, "w:gz") as tar:
            for item in tiny["radgraph"].iterdir():
                tar.add(item, arcname=item.name)
            marker = tmp_path / f"{name}.txt"
            marker.write_text(name, encoding="utf-8")
            tar.add(marker, arcname="which.txt")
        targets.append(checkpoint_dir("radgraph", tarball))
    assert [(t / "which.txt").read_text(encoding="utf-8") for t in targets] == ["a", "b"]
    assert not (tmp_path / "home" / "radgraph" / "radgraph").exists()  # the published checkpoint's folder
