"""INSPECT priors: fine-tune CT-CLIP's last layer plus a classification layer with class-weighted BCE (resumable).

The RAD3D-Prefix paper (§3.2, §4.5) keeps CT-CLIP frozen for CT-RATE but, for the out-of-domain INSPECT, fine-tunes
"the last layer" of the CT-CLIP image encoder and adds a classification layer, trained with binary cross-entropy
weighted per class; the classifier's 21 outputs are V-3's priors. Our reading [reconstruction: the paper names
neither the layer nor the optimiser]:

* the last layer is ``to_visual_latent``, the bias-free Linear(294,912 -> 512) that ends CT-CLIP's image side
  (everything before it stays frozen);
* the classification layer is the ClassFine head, ``Linear(512, L)(Dropout(ReLU(l2norm(latent))))``;
* the BCE ``pos_weight`` of each label is negatives / positives of the training split (clipped to [1, 50]);
* AdamW, constant learning rate, seeded shuffling.

Because only the last layer trains, each volume's frozen input to it (the depth-mean of the quantised tokens,
flattened) is computed once and cached per case under ``<out>/features/``; a killed run keeps them. Training saves
``<out>/state.pt`` after every epoch (weights, optimiser, RNG, epoch), so a re-run resumes after the last finished
epoch and ends with the same weights as an uninterrupted run. The result is ``<out>/classifier/``: the label head
(:meth:`LabelHead.save`) plus ``projection.safetensors`` (the fine-tuned last layer); ``radeval embed --label-head``
and a suite's ``embed.label_head`` take that folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from radeval_models.ctclip.attention import l2norm
from radeval_models.ctclip.label_head import LabelHead, pos_weight_from_data
from radeval.errors import InputError
from radeval.paths import atomic_write_text

PROJECTION_FILE = "projection.safetensors"


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of :func:`finetune_classifier`.

    Attributes:
        epochs, batch_size, lr, weight_decay, grad_clip: AdamW optimisation.
        dropout: dropout before the classification layer.
        seed: initialisation and shuffling.
    """

    epochs: int = 10
    batch_size: int = 8
    lr: float = 1e-4
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    dropout: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise InputError(f"epochs, batch_size and lr must be positive (got {self.epochs}, {self.batch_size}, "
                             f"{self.lr})")


class FinetunedClassifier(nn.Module):
    """``head(l2norm(projection(pooled)))``: CT-CLIP's last layer (fine-tuned) and a ClassFine-style head.

    Example:
        >>> clf = FinetunedClassifier(nn.Linear(8, 4, bias=False), LabelHead(["a", "b", "c"], dim=4)).eval()
        >>> clf(torch.zeros(2, 8)).shape
        torch.Size([2, 3])
    """

    def __init__(self, projection: nn.Linear, head: LabelHead) -> None:
        super().__init__()
        self.projection = projection
        self.head = head

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.head(l2norm(self.projection(pooled)))

    def save(self, directory: str | Path) -> Path:
        """Write the head (``label_head.*``) and the projection (``projection.safetensors``) into ``directory``."""
        from safetensors.torch import save_file

        out = self.head.save(directory)
        save_file({"weight": self.projection.weight.detach().contiguous()}, str(out / PROJECTION_FILE))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> "FinetunedClassifier":
        """Inverse of :meth:`save`.

        Raises:
            InputError: a missing or inconsistent file (naming it).
        """
        from safetensors.torch import load_file

        d = Path(directory)
        if not (d / PROJECTION_FILE).is_file():
            raise InputError(f"{d / PROJECTION_FILE}: not a fine-tuned classifier folder")
        head = LabelHead.load(d)
        weight = load_file(str(d / PROJECTION_FILE))["weight"]
        if weight.shape[0] != head.dim:
            raise InputError(f"{d}: projection {tuple(weight.shape)} does not feed a {head.dim}-d head")
        projection = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        projection.weight.data.copy_(weight)
        return cls(projection, head).eval()

    @torch.no_grad()
    def logits(self, pooled: np.ndarray) -> np.ndarray:
        """Raw logits (eval mode) of ``(n, dim_image)`` pooled features, float32 ``(n, L)``."""
        self.eval()
        return self(torch.as_tensor(np.asarray(pooled, dtype=np.float32))).numpy()


def is_finetuned_classifier(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by :meth:`FinetunedClassifier.save`."""
    return (Path(path) / PROJECTION_FILE).is_file()


def pooled_features(encoder: Any, volumes: torch.Tensor) -> torch.Tensor:
    """The frozen input of CT-CLIP's last layer: depth-mean of the quantised tokens, flattened ``(B, dim_image)``."""
    with torch.no_grad():
        tokens = encoder.visual_transformer(volumes)
        return tokens.mean(dim=1).reshape(tokens.shape[0], -1)


def _features(dataset: Any, case_ids: Sequence[str], encoder: Any, preprocess: Any, cache: Path, *,
              progress: bool) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """Pooled features of ``case_ids`` (cached per case); failures are named and skipped."""
    from tqdm import tqdm

    from radeval.data.preprocess import preprocess_array
    from radeval.data.volume_io import read_volume

    cache.mkdir(parents=True, exist_ok=True)
    kept, rows, failures = [], [], {}
    for cid in tqdm(case_ids, desc="features", disable=not progress, unit="vol"):
        f = cache / f"{cid}.npy"
        if f.is_file():
            try:
                rows.append(np.load(f))
                kept.append(cid)
                continue
            except (OSError, ValueError, EOFError):
                f.unlink(missing_ok=True)
        try:
            path = dataset.volume_path(cid)
            slope, intercept = dataset.rescale(cid)
            array = preprocess_array(read_volume(path).array, dataset.spacing(cid), slope=slope, intercept=intercept,
                                     config=preprocess, source=f"case {cid!r} ({path})")
        except InputError as exc:
            failures[cid] = str(exc)
            continue
        feat = pooled_features(encoder, torch.from_numpy(array[None])).numpy()[0].astype(np.float32)
        tmp = cache / f".{cid}.tmp.npy"
        np.save(tmp, feat)
        tmp.replace(f)
        rows.append(feat)
        kept.append(cid)
    return kept, (np.stack(rows) if rows else np.zeros((0, 0), np.float32)), failures


def finetune_classifier(root: str | Path, out: str | Path, *, labels: Sequence[str], encoder: str = "ctclip",
                        checkpoint: str | Path | None = None, split_file: str | Path | None = None,
                        config: FinetuneConfig | None = None, progress: bool = True,
                        stop_after_epoch: int | None = None) -> Path | None:
    """Fine-tune CT-CLIP's last layer + a classification layer on the train split; resumable after a kill.

    Args:
        root: a CT-RATE-layout folder (INSPECT prepared in that layout, or its phantom).
        out: the run folder (features cache, ``state.pt``, ``run.json``, ``classifier/``).
        labels: the label set (21 INSPECT labels for the paper's INSPECT priors).
        encoder: ``"ctclip"`` or ``"small"`` (:class:`radeval_models.ctclip.embed.EmbedConfig` presets).
        checkpoint: the CT-CLIP checkpoint to start from (``None``: a seeded random encoder, for tests/demo).
        split_file: a ``case_id,split`` file re-splitting the folder (``radeval data inspect-split``).
        config: :class:`FinetuneConfig`.
        progress: tqdm bars.
        stop_after_epoch: end this call after that epoch (state saved, no classifier written yet), e.g. to
            split a long run over time-limited jobs; the next call resumes.

    Returns:
        The ``classifier/`` folder (``None`` when stopped early by ``stop_after_epoch``).

    Raises:
        InputError: no labelled train cases, or a run folder made with other settings.
    """
    from radeval_models.ctclip.embed import EmbedConfig, build_encoder
    from radeval.data.ctrate import CTRateDataset

    cfg = config or FinetuneConfig()
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    embed_cfg = EmbedConfig(encoder=encoder, checkpoint=Path(checkpoint) if checkpoint else None, seed=cfg.seed,
                            labels=tuple(labels))
    identity = {"labels": list(labels), "encoder": encoder, "checkpoint": str(checkpoint) if checkpoint else None,
                "split_file": str(split_file) if split_file else None, "config": asdict(cfg)}
    run_file = out_dir / "run.json"
    if run_file.is_file() and json.loads(run_file.read_text(encoding="utf-8")) != identity:
        raise InputError(f"{out_dir} holds a fine-tuning run with other settings "
                         f"({run_file.read_text(encoding='utf-8')}); use a new folder")
    atomic_write_text(run_file, json.dumps(identity, indent=1))

    dataset = CTRateDataset(root, label_names=labels, split_file=split_file)
    if "train" not in dataset.splits or not dataset.has_labels("train"):
        raise InputError(f"{root}: no labelled train split to fine-tune the classifier on")
    enc, _weights = build_encoder(embed_cfg)
    table = dataset.labels("train")
    ids = [c for c in dataset.case_ids("train") if c in table.index]
    ids, x, failures = _features(dataset, ids, enc, embed_cfg.preprocess, out_dir / "features", progress=progress)
    if failures:
        atomic_write_text(out_dir / "failures.json", json.dumps(failures, indent=1))
    if len(ids) < 2:
        raise InputError(f"{root}: fewer than 2 readable labelled train volumes ({len(failures)} failed)")
    y = table.loc[ids, list(labels)].to_numpy().astype(np.float32)

    torch.manual_seed(cfg.seed)
    projection = nn.Linear(enc.config.dim_image, enc.config.dim_latent, bias=False)
    projection.weight.data.copy_(enc.to_visual_latent.weight.data)
    model = FinetunedClassifier(projection, LabelHead(labels, dim=enc.config.dim_latent, dropout=cfg.dropout))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    start = 0
    state_file = out_dir / "state.pt"
    if state_file.is_file():
        state = torch.load(str(state_file), map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        start = int(state["epoch"])
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight_from_data(y))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    from tqdm import tqdm

    for epoch in tqdm(range(start, cfg.epochs), desc="fine-tune", disable=not progress, initial=start,
                      total=cfg.epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            loss = loss_fn(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
        tmp = out_dir / ".state.tmp.pt"
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                    "torch_rng": torch.get_rng_state(), "epoch": epoch + 1}, str(tmp))
        tmp.replace(state_file)
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch and epoch + 1 < cfg.epochs:
            return None  # type: ignore[return-value]
    return model.eval().save(out_dir / "classifier")
