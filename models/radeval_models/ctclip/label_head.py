"""The ClassFine-style label head: ``logits = Linear(512, L)(Dropout(ReLU(latent)))`` on the frozen CT-CLIP latent.

Trained with class-weighted BCE (``pos_weight``), its raw logits are the diagnostic priors of RAD3D-Prefix V-3
and are stored next to the embeddings by ``radeval embed``. :func:`label_report` gives per-label AUROC / F1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from radeval.data.labels import CTRATE_LABELS, CTRATE_POS_WEIGHT
from radeval.errors import InputError

POS_WEIGHT_MODES = ("from-data", "ctrate", "none")


class LabelHead(nn.Module):
    """Linear multi-label classifier on a latent: ``classifier(dropout(relu(z)))``.

    Args:
        label_names: the output labels, in logit order.
        dim: latent size (512 for CT-CLIP).
        dropout: dropout before the linear layer (CT-LiPro: 0.3; off in eval mode).

    Example:
        >>> head = LabelHead(["a", "b"], dim=4).eval()
        >>> head(torch.zeros(3, 4)).shape
        torch.Size([3, 2])
    """

    def __init__(self, label_names: Sequence[str] = CTRATE_LABELS, *, dim: int = 512, dropout: float = 0.3) -> None:
        super().__init__()
        if not label_names:
            raise InputError("a label head needs at least one label name")
        self.label_names = list(label_names)
        self.dim = dim
        self.dropout_p = dropout
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(dim, len(self.label_names))

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        if latent.shape[-1] != self.dim:
            raise InputError(f"label head expects {self.dim}-d latents, got {tuple(latent.shape)}")
        return self.classifier(self.dropout(self.relu(latent)))

    @torch.no_grad()
    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """Raw logits (eval mode) for an ``(n, dim)`` array, as float32 ``(n, L)``."""
        was_training = self.training
        self.eval()
        out = self(torch.as_tensor(np.asarray(embeddings, dtype=np.float32))).numpy()
        self.train(was_training)
        return out

    def save(self, directory: str | Path) -> Path:
        """Write ``label_head.safetensors`` and ``label_head.json`` (label names, dim, dropout) into ``directory``."""
        from safetensors.torch import save_file

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(out / "label_head.safetensors"))
        meta = {"label_names": self.label_names, "dim": self.dim, "dropout": self.dropout_p}
        (out / "label_head.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> "LabelHead":
        """Inverse of :meth:`save`.

        Raises:
            InputError: missing or inconsistent files (naming them).
        """
        from safetensors.torch import load_file

        d = Path(directory)
        cfg_path, weights = d / "label_head.json", d / "label_head.safetensors"
        for path in (cfg_path, weights):
            if not path.is_file():
                raise InputError(f"{path}: label head file not found")
        try:
            meta = json.loads(cfg_path.read_text(encoding="utf-8"))
            head = cls(meta["label_names"], dim=int(meta["dim"]), dropout=float(meta.get("dropout", 0.3)))
            head.load_state_dict(load_file(str(weights)), strict=True)
        except (KeyError, ValueError, RuntimeError) as exc:
            raise InputError(f"{d}: cannot load label head ({exc})") from None
        return head.eval()


@dataclass(frozen=True)
class LabelHeadTrainConfig:
    """Training settings. The defaults suit small sets (phantom); :meth:`ct_lipro` gives CT-LiPro's.

    Attributes:
        epochs, batch_size, lr, weight_decay, grad_clip: AdamW with a cosine learning-rate schedule.
        warmup_steps: linear warm-up steps.
        dropout: dropout of the head.
        pos_weight: ``"from-data"`` (negatives / positives per label of the training set, clipped to
            [1, 50]), ``"ctrate"`` (CT-LiPro's published weights; 18 labels only) or ``"none"``.
        seed: initialisation and shuffling.
    """

    epochs: int = 300
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    warmup_steps: int = 0
    dropout: float = 0.3
    pos_weight: str = "from-data"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.pos_weight not in POS_WEIGHT_MODES:
            raise InputError(f"pos_weight={self.pos_weight!r}; expected one of {POS_WEIGHT_MODES}")

    @classmethod
    def ct_lipro(cls) -> "LabelHeadTrainConfig":
        """CT-LiPro (ClassFine): AdamW lr 1e-5, wd 0.1, 10 epochs, batch 8, 10k warm-up, clip 1.0, CT-RATE weights."""
        return cls(epochs=10, batch_size=8, lr=1e-5, weight_decay=0.1, grad_clip=1.0, warmup_steps=10_000,
                   dropout=0.3, pos_weight="ctrate")

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


def pos_weight_from_data(labels: np.ndarray) -> torch.Tensor:
    """BCE ``pos_weight`` per label: negatives / positives of ``labels`` (``(n, L)`` 0/1), clipped to [1, 50].

    Example:
        >>> pos_weight_from_data(np.array([[1, 0], [0, 0], [0, 1], [0, 1]])).tolist()
        [3.0, 1.0]
    """
    pos = labels.sum(axis=0)
    neg = labels.shape[0] - pos
    return torch.tensor(np.clip(neg / np.maximum(pos, 1), 1.0, 50.0), dtype=torch.float32)


def _pos_weight(labels: np.ndarray, mode: str, label_names: Sequence[str]) -> torch.Tensor | None:
    if mode == "none":
        return None
    if mode == "ctrate":
        if list(label_names) != list(CTRATE_LABELS):
            raise InputError("pos_weight='ctrate' needs the 18 CT-RATE labels in CT-CLIP order")
        return torch.tensor(CTRATE_POS_WEIGHT, dtype=torch.float32)
    return pos_weight_from_data(labels)


def train_label_head(embeddings: np.ndarray, labels: np.ndarray, *, label_names: Sequence[str] = CTRATE_LABELS,
                     config: LabelHeadTrainConfig | None = None, progress: bool = False) -> LabelHead:
    """Fit a :class:`LabelHead` on frozen embeddings with class-weighted BCE.

    Args:
        embeddings: ``(n, dim)`` latents (row-aligned with ``labels``).
        labels: ``(n, L)`` 0/1 targets in ``label_names`` order.
        label_names: the label names (defines L).
        config: :class:`LabelHeadTrainConfig`.
        progress: tqdm bar over epochs.

    Returns:
        The trained head, in eval mode.

    Raises:
        InputError: shape mismatches, non-binary labels or non-finite embeddings (with both sizes).
    """
    cfg = config or LabelHeadTrainConfig()
    x = np.asarray(embeddings, dtype=np.float32)
    y = np.asarray(labels, dtype=np.float32)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise InputError(f"embeddings {x.shape} and labels {y.shape} must be (n, dim) and (n, L) with the same n")
    if y.shape[1] != len(label_names):
        raise InputError(f"labels have {y.shape[1]} columns but {len(label_names)} label names were given")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("labels must be 0/1")
    if not np.isfinite(x).all():
        raise InputError("embeddings contain NaN or infinite values")
    torch.manual_seed(cfg.seed)
    head = LabelHead(label_names, dim=x.shape[1], dropout=cfg.dropout)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=_pos_weight(y, cfg.pos_weight, label_names))
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(x) / cfg.batch_size))
    total = cfg.epochs * steps_per_epoch

    def schedule(step: int) -> float:
        if cfg.warmup_steps and step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        progress_frac = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress_frac)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    gen = torch.Generator().manual_seed(cfg.seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    from tqdm import tqdm

    head.train()
    for _ in tqdm(range(cfg.epochs), desc="label head", disable=not progress):
        order = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            loss = loss_fn(head(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(head.parameters(), cfg.grad_clip)
            opt.step()
            sched.step()
    return head.eval()


def label_report(labels: np.ndarray, scores: np.ndarray, *, label_names: Sequence[str] = CTRATE_LABELS,
                 threshold: float = 0.0) -> pd.DataFrame:
    """Per-label AUROC, F1, precision and recall of logits (or probabilities) against 0/1 labels.

    Args:
        labels: ``(n, L)`` 0/1.
        scores: ``(n, L)`` logits (default ``threshold=0`` = probability 0.5) or probabilities (pass 0.5).
        label_names: row names.
        threshold: a score above it counts as positive for F1/precision/recall.

    Returns:
        One row per label (``label, n_pos, n_neg, auroc, f1, precision, recall``) plus a ``macro`` row; AUROC
        is NaN for a label with only one class present (and left out of the macro mean).

    Example:
        >>> y = np.array([[1], [0], [1], [0]]); s = np.array([[2.0], [-1.0], [0.5], [0.7]])
        >>> label_report(y, s, label_names=["x"]).loc[0, ["auroc", "f1"]].round(3).tolist()
        [0.75, 0.8]
    """
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 2 or y.shape[1] != len(label_names):
        raise InputError(f"labels {y.shape} and scores {s.shape} must both be (n, {len(label_names)})")
    rows = []
    for j, name in enumerate(label_names):
        yj, sj = y[:, j].astype(int), s[:, j]
        pred = (sj > threshold).astype(int)
        both = 0 < yj.sum() < len(yj)
        rows.append({
            "label": name, "n_pos": int(yj.sum()), "n_neg": int(len(yj) - yj.sum()),
            "auroc": float(roc_auc_score(yj, sj)) if both else float("nan"),
            "f1": float(f1_score(yj, pred, zero_division=0)),
            "precision": float(precision_score(yj, pred, zero_division=0)),
            "recall": float(recall_score(yj, pred, zero_division=0)),
        })
    frame = pd.DataFrame(rows)
    macro = {"label": "macro", "n_pos": int(frame.n_pos.sum()), "n_neg": int(frame.n_neg.sum()),
             **{k: float(np.nanmean(frame[k])) if frame[k].notna().any() else float("nan")
                for k in ("auroc", "f1", "precision", "recall")}}
    return pd.concat([frame, pd.DataFrame([macro])], ignore_index=True)
