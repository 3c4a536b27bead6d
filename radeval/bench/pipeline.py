"""Registry-model systems inside a benchmark: embed volumes, train, generate — each step cached.

Work products live under ``<output>/.work``, keyed by a content hash of everything that determines them:

* ``embeddings-<hash>/`` — :func:`radeval_models.ctclip.embed.embed_dataset` output (resumable case by case);
* ``models/<system>-<hash>/`` — :func:`radeval_models.train.train_generator` output (resumes from its last epoch
  checkpoint after a kill);
* ``predictions/<system>-<hash>.jsonl`` — :func:`radeval_models.generation.generate_reports` output (resumes from
  its ``.partial.jsonl``).

A step whose marker file exists is skipped, so an unchanged re-run trains and generates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from radeval.bench.dataset import BenchDataset
from radeval.bench.manifest import Manifest, content_hash
from radeval.bench.suite import Suite, SystemSpec
from radeval.bench.system_spec import DECODING_KEYS
from radeval.data.embeddings import load_embeddings
from radeval.errors import InputError
from radeval.io import read_reports, write_reports
from radeval.paths import file_sha256
from radeval.types import Predictions

DONE = ".complete"


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (short)."""
    return file_sha256(path)[:16]


def ensure_embeddings(suite: Suite, dataset: BenchDataset, work: Path, manifest: Manifest, *,
                      quiet: bool = False) -> Path:
    """Embeddings + logits of every split of the dataset (cached; resumable)."""
    from radeval_models.ctclip.embed import EmbedConfig, embed_dataset
    from radeval_models.ctclip.label_head import LabelHeadTrainConfig
    from radeval_models.ctclip.pretrain import EncoderPretrainConfig

    assert dataset.root is not None
    from radeval.bench.label_set import label_names

    spec = suite.embed
    labels = label_names(suite.dataset.label_set)
    split_file = suite.dataset.split_file
    key = content_hash({"root": str(dataset.root.resolve()), "embed": spec.cache_settings(), "labels": list(labels),
                        "split_file": file_digest(split_file) if split_file else None})
    out = work / f"embeddings-{key}"
    if (out / DONE).exists():
        manifest.cached["embeddings"] = True
        record_label_head(out, manifest)
        return out
    manifest.cached["embeddings"] = False
    config = EmbedConfig(encoder=spec.encoder, checkpoint=spec.checkpoint, batch_size=spec.batch_size,
                         label_head=spec.label_head,
                         head_training=LabelHeadTrainConfig(epochs=spec.label_head_epochs), labels=labels,
                         split_file=split_file, slab_tokens=spec.slab_tokens,
                         pretrain=EncoderPretrainConfig(epochs=spec.pretrain_epochs),
                         pretrain_extra=_extra_phantoms(suite))
    results = embed_dataset(dataset.root, out, config, progress=not quiet)
    failed = {s: r.failures for s, r in results.items() if r.failures}
    if failed:
        manifest.extra.setdefault("embedding_failures", {}).update(failed)
    (out / DONE).write_text("ok\n")
    record_label_head(out, manifest)
    return out


def _extra_phantoms(suite: Suite):  # -> radeval_models.ctclip.extra_phantoms.ExtraPhantoms | None
    """The extra pretraining phantoms of ``embed.pretrain_extra_phantoms`` (``None`` when 0): drawn with the suite
    dataset's own phantom options and its seed + :data:`radeval.bench.embed.PRETRAIN_EXTRA_SEED_OFFSET`."""
    n = suite.embed.pretrain_extra_phantoms
    if not n:
        return None
    from radeval_models.ctclip.extra_phantoms import ExtraPhantoms

    from radeval.bench.dataset import phantom_options
    from radeval.bench.embed import PRETRAIN_EXTRA_SEED_OFFSET

    if suite.dataset.kind != "phantom":  # suite validation refuses this; a hand-built Suite must not slip through
        raise InputError(f"embed.pretrain_extra_phantoms needs a phantom dataset, not {suite.dataset.kind!r}")
    return ExtraPhantoms(n=n, seed=suite.dataset.seed + PRETRAIN_EXTRA_SEED_OFFSET,
                         options=phantom_options(suite.dataset))


def record_label_head(emb_dir: Path, manifest: Manifest) -> None:
    """Put the fitted label head's held-out report (per label and macro AUROC) into the manifest, if there is one."""
    import pandas as pd

    from radeval.bench.run_facts import label_head_facts

    report = emb_dir / "label_head" / "valid_report.csv"
    if report.is_file():
        rows = pd.read_csv(report).to_dict("records")
        manifest.extra["label_head"] = {**label_head_facts(rows), "per_label": rows}


def _train_reports(dataset: BenchDataset, work: Path) -> Path:
    from radeval.data.ctrate import CTRateDataset

    assert dataset.root is not None
    cases = CTRateDataset(dataset.root, **dataset.layout).cases(dataset.train_split)
    path = work / f"train-reports-{content_hash([(c.id, c.reference) for c in cases])}.jsonl"
    if not path.exists():
        write_reports(path, {c.id: c.reference for c in cases})
    return path


def _model_dir(system: SystemSpec, train_emb: Path, reports: Path, work: Path, manifest: Manifest, *,
               quiet: bool) -> Path:
    from radeval_models.train import train_generator

    from radeval_models.generator import prior_settings
    from radeval.registry import generators

    priors = prior_settings(generators.get(str(system.model)), dict(system.config))
    if priors is not None:  # the run manifest says how each system's diagnostic priors enter it
        manifest.extra.setdefault("diagnostic_priors", {})[system.name] = priors
    if system.checkpoint is not None:
        return system.checkpoint
    train_cfg = dict(system.train or {})
    key = content_hash({"model": system.model, "config": system.config, "train": train_cfg,
                        "embeddings": file_digest(train_emb), "reports": file_digest(reports)})
    out = work / "models" / f"{system.name}-{key}"
    if (out / DONE).exists():
        manifest.cached[f"train:{system.name}"] = True
        return out
    manifest.cached[f"train:{system.name}"] = False
    with manifest.stage(f"train:{system.name}"):
        train_generator(str(system.model), dict(system.config), train_emb, reports, out, train_cfg, quiet=quiet)
    (out / DONE).write_text("ok\n")
    return out


def _predictions(system: SystemSpec, model_dir: Path, eval_emb: Path, case_ids: list[str], work: Path,
                 manifest: Manifest, *, quiet: bool) -> Predictions:
    from radeval_models.generation import generate_reports, saved_decoding

    data = load_embeddings(eval_emb)
    missing = [c for c in case_ids if c not in set(data.case_ids)]
    if missing:
        raise InputError(f"system {system.name!r}: {len(missing)} evaluation case(s) have no embedding "
                         f"(see {eval_emb.with_suffix('').with_suffix('')}.manifest.json): {missing[:10]}")
    subset = data.subset(case_ids)
    gen = dict(system.generate)
    decoding = {k: gen[k] for k in DECODING_KEYS if gen.get(k) is not None}
    effective = saved_decoding(model_dir, decoding)
    if effective is not None:  # the run manifest says how each system's reports were decoded
        manifest.extra.setdefault("decoding", {})[system.name] = effective
    key = content_hash({"model": _model_identity(system, model_dir), "model_marker": _marker_time(model_dir),
                        "embeddings": file_digest(eval_emb), "cases": case_ids, "generate": gen})
    path = work / "predictions" / f"{system.name}-{key}.jsonl"
    if path.exists():
        manifest.cached[f"generate:{system.name}"] = True
    else:
        manifest.cached[f"generate:{system.name}"] = False
        path.parent.mkdir(parents=True, exist_ok=True)
        with manifest.stage(f"generate:{system.name}"):
            generate_reports(model_dir, subset, path, batch_size=int(gen.get("batch_size", 8)), resume=True,
                             quiet=quiet, decoding=decoding)
    return read_reports(path, name=system.name)


def _model_identity(system: SystemSpec, model_dir: Path) -> str:
    """What the predictions of a model are keyed by.

    A ``checkpoint:`` system is named by the checkpoint's content (:func:`radeval.weights.local_weights_tag`: file
    names, sizes, first/last 64 KiB), so a checkpoint overwritten in place never serves the reports of the old one.
    A model trained here lives in a folder named by the hash of everything that determined it, so its path is
    already a content key (kept as is: cached predictions of trained systems stay valid).
    """
    from radeval.weights import local_weights_tag

    return local_weights_tag(model_dir) if system.checkpoint is not None else str(model_dir.resolve())


def _marker_time(model_dir: Path) -> Any:
    marker = model_dir / DONE
    return marker.read_text() if marker.exists() else None


@dataclass(frozen=True)
class ModelInputs:
    """The embedding files and training reports shared by every model system of a run."""

    train_embeddings: Path
    eval_embeddings: Path
    train_reports: Path
    case_ids: list[str]
    findings_lm: str | None = None  # the built stand-in report LLM's spec, when a system uses ``llm: findings-lm``


def model_inputs(suite: Suite, dataset: BenchDataset, work: Path, manifest: Manifest, *,
                 quiet: bool = False) -> ModelInputs:
    """Embed the dataset (cached) and collect the training reports."""
    from radeval.data.ctrate import normalize_split

    emb_dir = ensure_embeddings(suite, dataset, work, manifest, quiet=quiet)
    train_emb = emb_dir / f"{normalize_split(dataset.train_split)}.safetensors"
    eval_emb = emb_dir / f"{normalize_split(dataset.eval_split)}.safetensors"
    for p in (train_emb, eval_emb):
        if not p.is_file():
            raise InputError(f"{p}: embedding file missing after the embed stage")
    from radeval.bench.findings_lm import ensure_findings_lm

    return ModelInputs(train_emb, eval_emb, _train_reports(dataset, work), list(dataset.references),
                       findings_lm=ensure_findings_lm(suite, manifest, quiet=quiet))


def model_predictions(system: SystemSpec, inputs: ModelInputs, work: Path, manifest: Manifest, *,
                      quiet: bool = False) -> Predictions:
    """Train (or load) one registry-model system and generate its evaluation reports (both cached).

    A system with ``llm: findings-lm`` is trained on the built stand-in (its spec, and so its key, replaces it).
    """
    from radeval.bench.findings_lm import with_llm

    system = with_llm(system, inputs.findings_lm)
    model_dir = _model_dir(system, inputs.train_embeddings, inputs.train_reports, work, manifest, quiet=quiet)
    return _predictions(system, model_dir, inputs.eval_embeddings, inputs.case_ids, work, manifest, quiet=quiet)


def run_model_systems(suite: Suite, dataset: BenchDataset, work: Path, manifest: Manifest, *,
                      quiet: bool = False) -> dict[str, Predictions]:
    """Predictions of every registry-model system of ``suite`` on the evaluation cases."""
    inputs = model_inputs(suite, dataset, work, manifest, quiet=quiet)
    systems = [s for s in suite.systems if s.kind != "predictions"]
    return {system.name: model_predictions(system, inputs, work, manifest, quiet=quiet)
            for system in tqdm(systems, desc="models", disable=quiet, unit="system")}
