"""Volumes -> CT-CLIP embeddings (+ label-head logits), one safetensors file per split, resumable.

For every split of a CT-RATE-layout dataset, each case is read, preprocessed (CT-CLIP pipeline) and encoded;
its 512-d latent is written at once to ``<out>/<split>.parts/<case_id>.npy`` so a killed run loses nothing.
A re-run skips every case already in ``<split>.safetensors`` or in the parts folder. With ``slab_tokens`` the
case's slab tokens (``(t, dim)``: the mean over (h, w) of the quantised CT-ViT tokens, one per axial slab) are
written the same way to ``<split>.slab-parts/`` and stored as the ``slab_tokens`` tensor of the split file; a case
done without them (an earlier run without the option) is encoded again, so a re-run with the option completes a
folder embedded without it. A re-run without the option keeps the slab tokens of a split file that has them for
every case (nothing already computed is dropped). Cases that fail (missing
or corrupt volume, missing metadata ...) are recorded in ``<split>.manifest.json`` with their error, and the
run goes on. At the end each split's embeddings are assembled, in dataset order, with the logits of the label
head (given, or fitted on the train split's labels) into the :mod:`radeval.data.embeddings` file format.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from radeval_models.ctclip.config import CTViTConfig
from radeval_models.ctclip.encoder import CTClipImageEncoder, load_ctclip_image_weights
from radeval_models.ctclip.extra_phantoms import ExtraPhantoms, draw_extra_phantoms
from radeval_models.ctclip.label_head import LabelHead, LabelHeadTrainConfig, label_report, train_label_head
from radeval_models.ctclip.pretrain import (EncoderPretrainConfig, load_pretrained, pretrain_encoder, pretrain_key,
                                            save_pretrained)
from radeval.data.ctrate import CTRateDataset
from radeval.data.embeddings import EmbeddingSet, load_embeddings, save_embeddings
from radeval.data.labels import CTRATE_LABELS
from radeval.data.preprocess import PreprocessConfig, preprocess_array
from radeval.data.volume_io import read_volume
from radeval.errors import InputError
from radeval.paths import atomic_write_text, file_sha256

ENCODER_PRESETS = ("ctclip", "small")


@dataclass(frozen=True)
class EmbedConfig:
    """Settings of :func:`embed_dataset`.

    Attributes:
        encoder: ``"ctclip"`` (released size, input 240 x 480 x 480) or ``"small"`` (phantom/demo size).
        checkpoint: a CT-CLIP checkpoint (``visual_transformer.*`` + ``to_visual_latent``); ``None`` keeps a
            seeded random initialisation (recorded in the provenance as untrained).
        label_head: a directory written by :meth:`LabelHead.save`, or CT-CLIP's released classifier file
            ``CT_LiPro_v2.pt`` (the paper's CT-RATE priors, see :mod:`radeval_models.ctclip.classfine`); ``None`` fits one
            on the train split (the phantom/demo head).
        splits: splits to embed (default: all present).
        batch_size: volumes per encoder call.
        workers: data-loading processes (reading + preprocessing run there).
        seed: random initialisation of an encoder without checkpoint, and head training.
        head_training: settings for fitting the head.
        labels: the label set of the head (its width): the 18 CT-RATE labels, or the 21 INSPECT ones; a given
            ``label_head`` must have exactly these labels.
        split_file: a ``case_id,split`` file that re-splits the dataset (INSPECT has no official split).
        slab_tokens: also store each case's CT-CLIP slab tokens (``(t, dim)``; 24 x 512 at the released size) as
            the ``slab_tokens`` tensor (for ``ct2rep`` and other slab-token generators).
        pretrain: a short label-supervised pretraining of an encoder *without* checkpoint on the train split's
            volumes and labels before embedding (:mod:`radeval_models.ctclip.pretrain`; a demo-only
            reconstruction, cached in ``$RADEVAL_HOME/encoders``); ``epochs=0`` (default) keeps the random encoder.
        pretrain_extra: extra phantom volumes the pretraining also sees (never the dataset's; see
            :mod:`radeval_models.ctclip.extra_phantoms`); ``None`` (default): the train split alone.
    """

    encoder: str = "ctclip"
    checkpoint: Path | None = None
    label_head: Path | None = None
    splits: tuple[str, ...] | None = None
    batch_size: int = 1
    workers: int = 0
    seed: int = 0
    head_training: LabelHeadTrainConfig = field(default_factory=LabelHeadTrainConfig)
    labels: tuple[str, ...] = CTRATE_LABELS
    split_file: Path | None = None
    slab_tokens: bool = False
    pretrain: EncoderPretrainConfig = field(default_factory=EncoderPretrainConfig)
    pretrain_extra: ExtraPhantoms | None = None

    def __post_init__(self) -> None:
        if self.pretrain.epochs and self.checkpoint is not None:
            raise InputError("encoder pretraining applies to an encoder without checkpoint; drop one of the two")
        if self.pretrain_extra is not None and not self.pretrain.epochs:
            raise InputError("extra pretraining phantoms feed the encoder pretraining only; set pretrain epochs > 0")
        if self.encoder not in ENCODER_PRESETS:
            raise InputError(f"encoder={self.encoder!r}; expected one of {ENCODER_PRESETS}")
        if self.batch_size < 1 or self.workers < 0:
            raise InputError(f"batch_size must be >= 1 and workers >= 0 (got {self.batch_size}, {self.workers})")

    @property
    def encoder_config(self) -> CTViTConfig:
        """The CT-ViT size of the preset."""
        return CTViTConfig.ctclip() if self.encoder == "ctclip" else CTViTConfig.small()

    @property
    def preprocess(self) -> PreprocessConfig:
        """The preprocessing that produces this encoder's input size."""
        return PreprocessConfig() if self.encoder == "ctclip" else PreprocessConfig.small()


@dataclass
class SplitResult:
    """What happened to one split: counts, failures ``{case_id: error}`` and the output file."""

    split: str
    path: Path
    n_cases: int
    n_embedded: int
    n_skipped: int
    failures: dict[str, str]


class _CaseVolumes(Dataset):
    """Reads and preprocesses one case per item; errors are returned, not raised, so the batch goes on."""

    def __init__(self, dataset: CTRateDataset, case_ids: Sequence[str], preprocess: PreprocessConfig) -> None:
        self.dataset = dataset
        self.case_ids = list(case_ids)
        self.preprocess = preprocess

    def __len__(self) -> int:
        return len(self.case_ids)

    def __getitem__(self, i: int) -> tuple[str, np.ndarray | None, str | None]:
        cid = self.case_ids[i]
        try:
            path = self.dataset.volume_path(cid)
            slope, intercept = self.dataset.rescale(cid)
            spacing = self.dataset.spacing(cid)
            volume = read_volume(path)
            array = preprocess_array(volume.array, spacing, slope=slope, intercept=intercept,
                                     config=self.preprocess, source=f"case {cid!r} ({path})")
            return cid, array, None
        except InputError as exc:
            return cid, None, str(exc)
        except Exception as exc:  # a worker must report, not die: the rest of the split goes on
            return cid, None, f"case {cid!r}: {type(exc).__name__}: {exc}"


def _collate(items: list[tuple[str, np.ndarray | None, str | None]]):
    return items


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)


def build_encoder(config: EmbedConfig) -> tuple[CTClipImageEncoder, str]:
    """The encoder of ``config`` (weights loaded, eval mode) and a provenance string for its weights."""
    torch.manual_seed(config.seed)
    encoder = CTClipImageEncoder(config.encoder_config)
    if config.checkpoint is not None:
        load_ctclip_image_weights(encoder, config.checkpoint)
        weights = Path(config.checkpoint).name
    else:
        weights = f"untrained-random-init(seed={config.seed})"
    return encoder.eval(), weights


def _check_same_run(out_dir: Path, identity: dict[str, str]) -> None:
    """Refuse to resume into a folder embedded with another encoder, weights or preprocessing."""
    marker = out_dir / "embed_run.json"
    if marker.is_file():
        previous = json.loads(marker.read_text(encoding="utf-8"))
        if previous != identity:
            raise InputError(f"{out_dir} holds embeddings from another run ({previous}); this run is {identity}. "
                             "Use a new output folder.")
    else:
        atomic_write_text(marker, json.dumps(identity, indent=1))


def _parts_dir(out: Path, split: str) -> Path:
    return out / f"{split}.parts"


def _load_done(out: Path, split: str, dim: int | None = None) -> dict[str, np.ndarray]:
    done: dict[str, np.ndarray] = {}
    final = out / f"{split}.safetensors"
    if final.is_file():
        existing = load_embeddings(final)
        done.update({cid: existing.embeddings[i] for i, cid in enumerate(existing.case_ids)})
    parts = _parts_dir(out, split)
    if parts.is_dir():
        for f in parts.glob("*.npy"):
            if f.name.startswith("."):  # a temporary file left by a kill inside _save_part
                f.unlink(missing_ok=True)
                continue
            try:
                latent = np.load(f)
            except (OSError, ValueError, EOFError):  # a part cut short by a kill: recompute it
                f.unlink(missing_ok=True)
                continue
            if latent.ndim != 1 or (dim is not None and latent.shape[0] != dim):
                f.unlink(missing_ok=True)
                continue
            done[f.stem] = latent
    return done


def _slab_parts_dir(out: Path, split: str) -> Path:
    return out / f"{split}.slab-parts"


def _load_done_slabs(out: Path, split: str) -> dict[str, np.ndarray]:
    """Slab tokens already computed for a split: from ``<split>.safetensors`` (when it has them) and the slab parts
    (a part cut short by a kill, or not ``(t, dim)``, is deleted and recomputed)."""
    done: dict[str, np.ndarray] = {}
    final = out / f"{split}.safetensors"
    if final.is_file():
        existing = load_embeddings(final)
        if existing.slab_tokens is not None:
            done.update({cid: existing.slab_tokens[i] for i, cid in enumerate(existing.case_ids)})
    parts = _slab_parts_dir(out, split)
    if parts.is_dir():
        for f in parts.glob("*.npy"):
            if f.name.startswith("."):
                f.unlink(missing_ok=True)
                continue
            try:
                slabs = np.load(f)
            except (OSError, ValueError, EOFError):
                f.unlink(missing_ok=True)
                continue
            if slabs.ndim != 2:
                f.unlink(missing_ok=True)
                continue
            done[f.stem] = slabs
    return done


def _save_part(parts: Path, case_id: str, latent: np.ndarray) -> None:
    """One case's array as ``<parts>/<case_id>.npy`` (float32), written under a temporary name and swapped in."""
    parts.mkdir(parents=True, exist_ok=True)
    tmp = parts / f".{case_id}.tmp.npy"
    np.save(tmp, latent.astype(np.float32))
    tmp.replace(parts / f"{case_id}.npy")


def embed_split(dataset: CTRateDataset, split: str, out: str | Path, encoder: CTClipImageEncoder, *,
                config: EmbedConfig, progress: bool = True,
                slabs: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], dict[str, str], int]:
    """Embed the cases of one split not yet done; returns (all latents by case id, failures, n skipped).

    ``slabs`` (filled in place) receives the slab tokens of every case that has them (those computed before, and,
    with ``config.slab_tokens``, those computed now).
    """
    from tqdm import tqdm

    out_dir = Path(out)
    case_ids = dataset.case_ids(split)
    done = _load_done(out_dir, split, encoder.config.dim_latent)
    slabs_done = _load_done_slabs(out_dir, split)
    want = (encoder.config.dim,)
    slabs_done = {c: v for c, v in slabs_done.items() if v.shape[1:] == want}
    if slabs is not None:
        slabs.update(slabs_done)
    classifier = _finetuned(config)
    todo = [c for c in case_ids if c not in done or (config.slab_tokens and c not in slabs_done)]
    if classifier is not None:  # a fine-tuned last layer reads the pooled features: its logits are made here
        todo = [c for c in case_ids if c in todo or not (_logits_dir(out_dir, split) / f"{c}.npy").is_file()]
    captured: list[torch.Tensor] = []
    hook = (encoder.to_visual_latent.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
            if classifier is not None else None)
    failures: dict[str, str] = {}
    loader = DataLoader(_CaseVolumes(dataset, todo, config.preprocess), batch_size=config.batch_size,
                        num_workers=config.workers, collate_fn=_collate,
                        worker_init_fn=_worker_init if config.workers else None)
    bar = tqdm(total=len(todo), desc=f"embed {split}", disable=not progress, unit="vol")
    for batch in loader:
        good = [(cid, arr) for cid, arr, err in batch if err is None]
        failures.update({cid: err for cid, _arr, err in batch if err is not None})
        if good:
            captured.clear()
            with torch.no_grad():
                encoding = encoder(torch.from_numpy(np.stack([a for _, a in good])), return_slabs=config.slab_tokens)
            latents = encoding.latent.numpy()
            logits = classifier.logits(captured[0].numpy()) if classifier is not None else None
            for i, ((cid, _), latent) in enumerate(zip(good, latents)):
                if logits is not None:
                    _save_part(_logits_dir(out_dir, split), cid, logits[i])
                if encoding.slabs is not None:  # before the latent: a case with a latent part is then complete
                    _save_part(_slab_parts_dir(out_dir, split), cid, encoding.slabs[i].numpy())
                    if slabs is not None:
                        slabs[cid] = encoding.slabs[i].numpy().astype(np.float32)
                _save_part(_parts_dir(out_dir, split), cid, latent)
                done[cid] = latent
        bar.update(len(batch))
    bar.close()
    if hook is not None:
        hook.remove()
    return done, failures, len(case_ids) - len(todo)


def _pretrained(encoder: CTClipImageEncoder, dataset: CTRateDataset, cfg: EmbedConfig, *, progress: bool) -> str:
    """Pretrain ``encoder`` on the train split (or load the cached result); returns the weights' provenance.

    Raises:
        InputError: no train split with labels, or no readable train volume.
    """
    from radeval.paths import file_sha256 as sha

    if "train" not in dataset.splits or not dataset.has_labels("train"):
        raise InputError("embed.pretrain needs a train split with labels (the encoder is pretrained on it)")
    labels = dataset.labels("train")
    ids = [c for c in dataset.case_ids("train") if c in labels.index]
    rows = labels.loc[ids, list(cfg.labels)].to_numpy().astype(int)
    volumes: list[np.ndarray] = []
    cases: list[tuple[str, str, list[int]]] = []
    reader = _CaseVolumes(dataset, ids, cfg.preprocess)
    kept: list[int] = []
    for i, cid in enumerate(ids):
        try:
            path = dataset.volume_path(cid)
            digest = sha(path)
        except (InputError, OSError):  # a missing volume is reported by the embedding pass; skip it here
            continue
        cases.append((cid, digest, rows[i].tolist()))
        kept.append(i)
    extra = cfg.pretrain_extra
    extra_settings = extra.to_dict() if extra is not None else None
    key = pretrain_key(encoder_config=cfg.encoder_config.to_dict(), preprocess=cfg.preprocess.signature,
                       config=cfg.pretrain, init_seed=cfg.seed, cases=cases, extra=extra_settings)
    extra_note = f" + {extra.n} extra phantom volumes (seed {extra.seed})" if extra is not None else ""
    provenance = (f"demo-pretrained(seed={cfg.seed}, {cfg.pretrain.epochs} epochs on {len(cases)} train "
                  f"volumes{extra_note}, key={key})")
    if load_pretrained(encoder, key):
        return provenance
    good: list[int] = []
    for j, i in enumerate(kept):
        _cid, array, err = reader[i]
        if err is None and array is not None:
            volumes.append(array)
            good.append(j)
    if not volumes:
        raise InputError("embed.pretrain: no readable train volume to pretrain the encoder on")
    x, y = np.stack(volumes), rows[[kept[j] for j in good]]
    if extra is not None:
        extra_x, extra_y = _extra_volumes(extra, cfg)
        x, y = np.concatenate([x, extra_x]), np.concatenate([y, extra_y])
    history = pretrain_encoder(encoder, x, y, config=cfg.pretrain, progress=progress)
    save_pretrained(encoder, key, {"provenance": provenance, "config": cfg.pretrain.to_dict(),
                                   "n_volumes": len(x), "n_train_volumes": len(volumes),
                                   "extra": extra_settings, "epoch_loss": history})
    return provenance


def _extra_volumes(extra: ExtraPhantoms, cfg: EmbedConfig, *,
                   workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The extra pretraining phantoms, preprocessed like the dataset's volumes, and their labels.

    The chunks of the set (:meth:`ExtraPhantoms.chunks`) are drawn and read in parallel processes (one per usable
    CPU, at most one per chunk; drawing a phantom is single-threaded numpy) and concatenated in chunk order, so the
    result does not depend on the number of processes. One chunk, or one CPU: in this process. ``workers``
    overrides the number of processes.

    Raises:
        InputError: an extra volume that cannot be read (they are freshly drawn: this is a bug, not bad input).
    """
    import os

    jobs = [(extra, j, tuple(cfg.labels), cfg.preprocess) for j in range(len(extra.chunks()))]
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(len(jobs), workers)
    if workers <= 1:
        parts = [_extra_chunk(*job) for job in jobs]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: this process has run torch (OpenMP) and a forked child could deadlock in it
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_worker_init, initargs=(0,)) as pool:  # one torch thread each
            parts = list(pool.map(_extra_chunk, *zip(*jobs)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _extra_chunk(extra: ExtraPhantoms, chunk: int, labels: tuple[str, ...],
                 preprocess: PreprocessConfig) -> tuple[np.ndarray, np.ndarray]:
    """One chunk of the extra set: drawn into a temporary folder (deleted afterwards), every split read and
    preprocessed; returns ``(volumes, labels)``."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="radeval-extra-phantoms-") as tmp:
        root = draw_extra_phantoms(extra, tmp, chunk)
        data = CTRateDataset(root, label_names=labels)
        volumes: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        for split in data.splits:
            ids = data.case_ids(split)
            split_labels = data.labels(split).loc[ids, list(labels)].to_numpy().astype(int)
            reader = _CaseVolumes(data, ids, preprocess)
            for i in range(len(ids)):
                cid, array, err = reader[i]
                if err is not None or array is None:
                    raise InputError(f"extra pretraining phantom {cid!r} (chunk {chunk}): {err}")
                volumes.append(array)
                rows.append(split_labels[i])
    return np.stack(volumes), np.stack(rows)


def _logits_dir(out: Path, split: str) -> Path:
    return out / f"{split}.logits-parts"


def _finetuned(cfg: EmbedConfig):  # -> FinetunedClassifier | None
    """The fine-tuned classifier (last layer + head) named by ``label_head``, if it is one."""
    if cfg.label_head is None:
        return None
    from radeval_models.ctclip.finetune import FinetunedClassifier, is_finetuned_classifier

    return FinetunedClassifier.load(cfg.label_head) if is_finetuned_classifier(cfg.label_head) else None


def embed_dataset(root: str | Path, out: str | Path, config: EmbedConfig | None = None, *,
                  progress: bool = True) -> dict[str, SplitResult]:
    """Embed every split of a CT-RATE-layout dataset and write ``<out>/<split>.safetensors`` (+ manifest).

    Args:
        root: the CT-RATE (or phantom) folder.
        out: output folder.
        config: :class:`EmbedConfig`.
        progress: tqdm bars.

    Returns:
        ``{split: SplitResult}``.

    Raises:
        InputError: unreadable dataset tables, bad checkpoint/label head, or no train labels to fit a head.
    """
    cfg = config or EmbedConfig()
    dataset = CTRateDataset(root, label_names=cfg.labels, split_file=cfg.split_file)
    splits = tuple(dataset.require_split(s) for s in (cfg.splits or dataset.splits))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    if cfg.label_head is not None:  # a missing or mismatched head fails before any volume is encoded
        _given_head(cfg)
    encoder, weights = build_encoder(cfg)
    if cfg.pretrain.epochs and cfg.checkpoint is None:
        weights = _pretrained(encoder, dataset, cfg, progress=progress)
    identity = {"encoder": cfg.encoder, "weights": weights, "preprocess": cfg.preprocess.signature}
    if cfg.checkpoint is not None:  # two checkpoints may share a file name: tell them apart by content
        identity["weights_sha256"] = file_sha256(cfg.checkpoint)
    if _finetuned(cfg) is not None:  # its logits are made while encoding: a resume must use the same classifier
        from radeval_models.ctclip.finetune import PROJECTION_FILE

        identity["classifier_sha256"] = file_sha256(Path(cfg.label_head) / PROJECTION_FILE)
    _check_same_run(out_dir, identity)

    latents: dict[str, dict[str, np.ndarray]] = {}
    failures: dict[str, dict[str, str]] = {}
    skipped: dict[str, int] = {}
    slabs: dict[str, dict[str, np.ndarray]] = {}
    for split in splits:
        slabs[split] = {}
        latents[split], failures[split], skipped[split] = embed_split(dataset, split, out_dir, encoder, config=cfg,
                                                                      progress=progress, slabs=slabs[split])

    head, head_source = _label_head(cfg, dataset, latents, out_dir)
    finetuned = _finetuned(cfg)
    if finetuned is not None:
        head_source += " (fine-tuned CT-CLIP last layer + classification layer; priors from the pooled features)"
    provenance: dict[str, Any] = {
        "encoder": cfg.encoder, "encoder_config": cfg.encoder_config.to_dict(), "weights": weights,
        "preprocess": cfg.preprocess.signature, "label_head": head_source, "torch": torch.__version__,
    }
    results: dict[str, SplitResult] = {}
    for split in splits:
        order = [c for c in dataset.case_ids(split) if c in latents[split]]
        emb = np.stack([latents[split][c] for c in order]) if order else np.zeros((0, cfg.encoder_config.dim_latent))
        if finetuned is not None and len(order):
            logits = np.stack([np.load(_logits_dir(out_dir, split) / f"{c}.npy") for c in order])
        else:
            logits = head.logits(emb) if (head is not None and len(order)) else None
        path = out_dir / f"{split}.safetensors"
        have_slabs = bool(order) and all(c in slabs[split] for c in order)
        if cfg.slab_tokens and order and not have_slabs:  # cannot happen: every embedded case was given them
            raise InputError(f"{split}: slab tokens missing for {[c for c in order if c not in slabs[split]][:5]}")
        slab_tokens = np.stack([slabs[split][c] for c in order]) if have_slabs else None
        split_provenance = {**provenance, "split": split}
        if slab_tokens is not None:
            split_provenance["slab_tokens"] = ("CT-ViT quantised tokens averaged over (h, w): one token per axial "
                                               f"slab, shape {list(slab_tokens.shape[1:])}")
        save_embeddings(path, EmbeddingSet(order, emb, logits, list(head.label_names) if head else [],
                                           split_provenance, slab_tokens))
        manifest = {"split": split, "file": path.name, "n_cases": len(dataset.case_ids(split)),
                    "n_embedded": len(order), "n_skipped_already_done": skipped[split],
                    "failures": [{"case_id": c, "error": e} for c, e in failures[split].items()],
                    "provenance": provenance}
        atomic_write_text(out_dir / f"{split}.manifest.json", json.dumps(manifest, indent=1))
        shutil.rmtree(_parts_dir(out_dir, split), ignore_errors=True)
        shutil.rmtree(_logits_dir(out_dir, split), ignore_errors=True)
        if cfg.slab_tokens or have_slabs:  # slab parts of a run switched off midway are kept for a later run with it
            shutil.rmtree(_slab_parts_dir(out_dir, split), ignore_errors=True)
        results[split] = SplitResult(split, path, len(dataset.case_ids(split)), len(order), skipped[split],
                                     dict(failures[split]))
    return results


def _given_head(cfg: EmbedConfig) -> LabelHead:
    """The label head named by the config, checked against the dataset's label set."""
    assert cfg.label_head is not None
    if Path(cfg.label_head).suffix in {".pt", ".pth"}:  # CT-CLIP's released ClassFine head (CT_LiPro_v2.pt)
        from radeval_models.ctclip.classfine import load_classfine_head

        loaded = load_classfine_head(cfg.label_head)
    else:
        loaded = LabelHead.load(cfg.label_head)
    if tuple(loaded.label_names) != tuple(cfg.labels):
        raise InputError(f"{cfg.label_head}: the label head has {len(loaded.label_names)} labels "
                         f"({', '.join(loaded.label_names[:3])} ...) but the dataset's label set has "
                         f"{len(cfg.labels)} ({', '.join(cfg.labels[:3])} ...)")
    return loaded


def _label_head(cfg: EmbedConfig, dataset: CTRateDataset, latents: dict[str, dict[str, np.ndarray]],
                out_dir: Path) -> tuple[LabelHead | None, str]:
    if cfg.label_head is not None:
        return _given_head(cfg), str(cfg.label_head)
    if "train" not in latents or not dataset.has_labels("train"):
        return None, "none (no label head given and no train labels to fit one)"
    labels = dataset.labels("train")
    ids = [c for c in dataset.case_ids("train") if c in latents["train"] and c in labels.index]
    if len(ids) < 2:
        return None, "none (fewer than 2 embedded train cases with labels)"
    x = np.stack([latents["train"][c] for c in ids])
    y = labels.loc[ids, list(cfg.labels)].to_numpy()
    head = train_label_head(x, y, label_names=cfg.labels, config=cfg.head_training)
    head_dir = head.save(out_dir / "label_head")
    if "valid" in latents and dataset.has_labels("valid"):
        vlabels = dataset.labels("valid")
        vids = [c for c in dataset.case_ids("valid") if c in latents["valid"] and c in vlabels.index]
        if vids:
            report = label_report(vlabels.loc[vids, list(cfg.labels)].to_numpy(),
                                  head.logits(np.stack([latents["valid"][c] for c in vids])), label_names=cfg.labels)
            atomic_write_text(head_dir / "valid_report.csv", report.to_csv(index=False))
    return head, (f"fitted on train split ({len(ids)} cases), saved to {head_dir.name}/ - a quickly fitted "
                  "demo/phantom head on frozen latents, not the paper's classifier (CT_LiPro_v2.pt for CT-RATE, "
                  "`radeval classifier` for INSPECT)")
