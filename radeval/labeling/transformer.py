"""Back-end 1: a transformers sequence-classification checkpoint as a multi-label report labeler.

The checkpoint is a folder ``from_pretrained`` can read (``config.json``, weights, tokenizer), given
as a local path or a hub id resolved offline by :func:`radeval.weights.resolve` (never downloaded
here; ``radeval fetch`` does that). The default is :data:`DEFAULT_MODEL`, the RadBERT CT labeler
RadEval uses for ``f1radbert_ct`` (18 CT-RATE labels, sigmoid, threshold 0.5).

The checkpoint may also be a single PyTorch state-dict *file* (CT-CLIP's ``RadBertClassifier.pth``):
an encoder plus a linear head on the pooled output (:mod:`radeval.labeling.pooled_classifier`).
Then ``base_model`` names the encoder's config and tokenizer (e.g. ``zzxslp/RadBERT-RoBERTa-4m``)
and ``checkpoint_labels`` the head's outputs in order (default: the CT-RATE 18 for an 18-output
head, the INSPECT 21 for a 21-output head).

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

from radeval.data.labels import CTRATE_LABELS, INSPECT_LABELS
from radeval.errors import InputError, MissingDependencyError
from radeval.labeling.base import ReportLabeler, check_texts, resolve_labels
from radeval.labeling.thresholds import Thresholds, apply_thresholds

#: Hub id of the default checkpoint (RadBERT fine-tuned on CT-RATE labels).
DEFAULT_MODEL = "IAMJB/RadBERT-CT"
_GENERIC_LABEL = re.compile(r"^LABEL_\d+$")


def _head_names(names: str | Sequence[str]) -> tuple[str, ...]:
    """A state-dict head's output names: a label-set name, or any distinct non-empty names (a head may
    have outputs our label sets lack, e.g. CT-CLIP's 20-output 'Tree in bud', 'Thymic remnant')."""
    if isinstance(names, str):
        return resolve_labels(names)
    out = tuple(str(n).strip() for n in names)
    if not out or any(not n for n in out) or len(set(out)) != len(out):
        raise InputError(f"checkpoint_labels={list(names)!r}: expected distinct, non-empty label names")
    return out


def _short_name(model: str) -> str:
    """A model id as given, or the folder/file name of a local path (for signatures)."""
    local = Path(model).expanduser()
    return local.resolve().name if local.exists() else model


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
        base_model: for a state-dict file checkpoint: hub id or folder of the encoder's config and
            tokenizer.
        checkpoint_labels: for a state-dict file checkpoint: the head's label names in output order.

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
                 max_length: int = 512, device: str = "cpu", progress: bool = False,
                 base_model: str | os.PathLike[str] | None = None,
                 checkpoint_labels: str | Sequence[str] | None = None) -> None:
        super().__init__(labels)
        self.model_name = os.fspath(model)
        if isinstance(threshold, (str, os.PathLike)):
            threshold = Thresholds.load(threshold)
        if isinstance(threshold, Thresholds):
            self.thresholds: np.ndarray | float = threshold.for_labels(self.labels)
            self.threshold_tag = threshold.tag
            self.fitted_thresholds: Thresholds | None = threshold
        else:
            value = float(threshold)
            if not 0.0 < value <= 1.0:
                raise InputError(f"threshold={threshold!r}: expected a probability in (0, 1]")
            self.thresholds = value
            self.threshold_tag = f"{value:g}"
            self.fitted_thresholds = None
        if int(batch_size) < 1:
            raise InputError(f"batch_size={batch_size!r}: expected a positive integer")
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.device = device
        self.progress = progress
        self.base_model = os.fspath(base_model) if base_model is not None else None
        self.checkpoint_labels = _head_names(checkpoint_labels) if checkpoint_labels is not None else None
        self._loaded: tuple[Any, Any, list[int]] | None = None

    @property
    def tuned(self) -> bool:
        """Whether per-label (tuned) thresholds are in use."""
        return not isinstance(self.thresholds, float)

    def settings(self) -> dict[str, str]:
        out = {"model": _short_name(self.model_name)}
        if self.base_model is not None:
            out["base"] = _short_name(self.base_model)
        out.update({"thr": self.threshold_tag, "maxlen": str(self.max_length)})
        if self.fitted_thresholds is not None and not self.fitted_thresholds.fitted_on:
            out["fit"] = "UNVERIFIED"  # no record of the fitting reports: tuning on the scored set can't be excluded
        return out

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
        if path.is_file():
            from radeval.labeling.pooled_classifier import load_pooled_classifier

            if self.base_model is None:
                raise InputError(f"{path} is a state-dict file; pass base_model=<hub id or folder of its "
                                 f"encoder> (e.g. zzxslp/RadBERT-RoBERTa-4m) for the config and tokenizer")
            base = resolve(self.base_model)
            tokenizer = AutoTokenizer.from_pretrained(str(base))
            model = load_pooled_classifier(path, base)
            id2label = self._state_dict_labels(model.classifier.out_features, path)
        else:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModelForSequenceClassification.from_pretrained(str(path))
            id2label = dict(model.config.id2label)
        model.eval().to(self.device)
        columns = self._columns(id2label, path)
        self._loaded = (tokenizer, model, columns)
        return self._loaded

    def _state_dict_labels(self, n_out: int, path: Path) -> dict[int, str]:
        """Output names of a state-dict head: ``checkpoint_labels`` or the label set of that size."""
        names = self.checkpoint_labels
        if names is None:
            by_size = {len(CTRATE_LABELS): CTRATE_LABELS, len(INSPECT_LABELS): INSPECT_LABELS}
            if n_out not in by_size:
                raise InputError(f"{path}: the head has {n_out} outputs; pass checkpoint_labels=[...] naming them")
            names = by_size[n_out]
        if len(names) != n_out:
            raise InputError(f"{path}: the head has {n_out} outputs but {len(names)} checkpoint_labels were given")
        return dict(enumerate(names))

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
