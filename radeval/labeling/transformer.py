"""Back-end 1: a transformers sequence-classification checkpoint as a multi-label report labeler.

The checkpoint is a folder ``from_pretrained`` can read (``config.json``, weights, tokenizer), given
as a local path or a hub id resolved offline by :func:`radeval.weights.resolve` (never downloaded
here; ``radeval fetch`` does that). The default is :data:`DEFAULT_MODEL`, the RadBERT CT labeler
RadEval uses for ``f1radbert_ct`` (18 CT-RATE labels, sigmoid, threshold 0.5).

Label columns: if the checkpoint's ``config.id2label`` holds real label names, columns are picked
by name (so a 21-label head can serve the 18-label set); if it holds the generic ``LABEL_<i>`` names,
the head must have exactly as many outputs as requested labels, taken in the requested order.

Each output is read as an independent probability ``sigmoid(logit)`` (multi-label head).
Decisions are ``p >= threshold``, with one threshold for all labels or one per label
(:class:`~radeval.labeling.thresholds.Thresholds`). Reports are tokenised in batches, truncated
at ``max_length`` tokens; empty reports are all-negative without a model call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from radeval.errors import InputError, MissingDependencyError
from radeval.labeling.base import ReportLabeler, check_texts
from radeval.labeling.thresholds import Thresholds, apply_thresholds

#: Hub id of the default checkpoint (RadBERT fine-tuned on CT-RATE labels).
DEFAULT_MODEL = "IAMJB/RadBERT-CT"
_GENERIC_LABEL = re.compile(r"^LABEL_\d+$")


class TransformerLabeler(ReportLabeler):
    """Multi-label sequence-classification labeler.

    Args:
        model: hub id (resolved offline) or local folder of the checkpoint.
        labels: ``"ct-rate"``, ``"inspect"`` or label names.
        threshold: one probability threshold, or a :class:`Thresholds` / path to a thresholds JSON
            (per-label, e.g. tuned on a validation split).
        batch_size: reports per forward pass.
        max_length: tokens per report (longer reports are truncated).
        device: a torch device string.
        progress: show a tqdm bar over batches.

    Raises:
        InputError: a threshold outside (0, 1], a bad batch size.

    Example:
        >>> lab = TransformerLabeler("/no/such/dir")   # nothing is loaded until the first call
        >>> lab.settings()["thr"]
        '0.5'
    """

    backend: ClassVar[str] = "transformer"

    def __init__(self, model: str | os.PathLike[str] = DEFAULT_MODEL, *, labels: str | Sequence[str] = "ct-rate",
                 threshold: float | Thresholds | str | os.PathLike[str] = 0.5, batch_size: int = 16,
                 max_length: int = 512, device: str = "cpu", progress: bool = False) -> None:
        super().__init__(labels)
        self.model_name = os.fspath(model)
        if isinstance(threshold, (str, os.PathLike)):
            threshold = Thresholds.load(threshold)
        if isinstance(threshold, Thresholds):
            self.thresholds: np.ndarray | float = threshold.for_labels(self.labels)
            self.threshold_tag = threshold.tag
        else:
            value = float(threshold)
            if not 0.0 < value <= 1.0:
                raise InputError(f"threshold={threshold!r}: expected a probability in (0, 1]")
            self.thresholds = value
            self.threshold_tag = f"{value:g}"
        if int(batch_size) < 1:
            raise InputError(f"batch_size={batch_size!r}: expected a positive integer")
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.device = device
        self.progress = progress
        self._loaded: tuple[Any, Any, list[int]] | None = None

    @property
    def tuned(self) -> bool:
        """Whether per-label (tuned) thresholds are in use."""
        return not isinstance(self.thresholds, float)

    def settings(self) -> dict[str, str]:
        name = self.model_name
        if Path(name).expanduser().exists():
            name = Path(name).expanduser().resolve().name
        return {"model": name, "thr": self.threshold_tag, "maxlen": str(self.max_length)}

    # -- loading ---------------------------------------------------------------------------------
    def _load(self) -> tuple[Any, Any, list[int]]:
        if self._loaded is not None:
            return self._loaded
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise MissingDependencyError(
                f"the transformer labeler needs torch and transformers ({exc.name} is missing); "
                "install them with: pip install 'radeval-ct[metrics]'") from None
        from radeval.weights import resolve

        path = resolve(self.model_name, metric="label_f1_macro" if self.model_name == DEFAULT_MODEL else None)
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForSequenceClassification.from_pretrained(str(path))
        model.eval().to(self.device)
        columns = self._columns(dict(model.config.id2label), path)
        self._loaded = (tokenizer, model, columns)
        return self._loaded

    def _columns(self, id2label: dict[Any, str], path: Path) -> list[int]:
        """Output index of each requested label."""
        names = {int(k): str(v) for k, v in id2label.items()}
        n_out = len(names)
        if all(_GENERIC_LABEL.match(v) for v in names.values()):
            if n_out != len(self.labels):
                raise InputError(f"checkpoint {path} has {n_out} outputs with generic names but "
                                 f"{len(self.labels)} labels were requested; they must match")
            return list(range(n_out))
        by_name = {v.strip().lower(): k for k, v in names.items()}
        missing = [n for n in self.labels if n.lower() not in by_name]
        if missing:
            raise InputError(f"checkpoint {path} has no output for label(s) {missing}; "
                             f"its labels: {[names[k] for k in sorted(names)]}")
        return [by_name[n.lower()] for n in self.labels]

    # -- inference -------------------------------------------------------------------------------
    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, L)`` sigmoid probabilities; empty reports get all zeros without a model call."""
        items = check_texts(texts)
        out = np.zeros((len(items), len(self.labels)), dtype=np.float64)
        todo = [i for i, t in enumerate(items) if t.strip()]
        if not todo:
            return out
        import torch

        tokenizer, model, columns = self._load()
        index = torch.as_tensor(columns, dtype=torch.long)
        from tqdm.auto import tqdm

        starts = range(0, len(todo), self.batch_size)
        with torch.inference_mode():
            for start in tqdm(starts, desc="labelling", unit="batch", disable=not self.progress):
                rows = todo[start:start + self.batch_size]
                batch = tokenizer([items[i] for i in rows], padding=True, truncation=True,
                                  max_length=self.max_length, return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                logits = model(**batch).logits.float().cpu()
                out[rows] = torch.sigmoid(logits.index_select(1, index)).numpy().astype(np.float64)
        return out

    def decide(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, L)`` int8 decisions ``p >= threshold``."""
        return apply_thresholds(self.probabilities(texts), self.thresholds)
