"""The per-split embedding file: case ids, image embeddings and diagnostic logits in one safetensors file.

Layout (``<split>.safetensors``):

* tensor ``embeddings``: float32 ``(n, d)`` — the L2-normalised CT-CLIP latent (d = 512) or any embedding;
* tensor ``logits`` (optional): float32 ``(n, L)`` — raw label-head logits in ``label_names`` order;
* tensor ``slab_tokens`` (optional): float32 ``(n, S, D)`` — CT-CLIP slab tokens (S axial slabs of D features each),
  read by generators that attend over the volume (CT2Rep, Ker-VLJEPA);
* metadata (strings): ``case_ids`` (JSON list), ``label_names`` (JSON list), ``provenance`` (JSON object:
  encoder checkpoint, preprocessing variant, versions), ``format`` = ``radeval-embeddings/1``.

``radeval embed`` writes it; ``radeval train`` / ``generate`` read it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from radeval.errors import InputError

FORMAT = "radeval-embeddings/1"


@dataclass
class EmbeddingSet:
    """Embeddings (and optional logits and slab tokens) of one split, row-aligned with ``case_ids``."""

    case_ids: list[str]
    embeddings: np.ndarray
    logits: np.ndarray | None = None
    label_names: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    slab_tokens: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32)
        if self.embeddings.ndim != 2 or self.embeddings.shape[0] != len(self.case_ids):
            raise InputError(
                f"embeddings must be (n_cases, dim) with n_cases = {len(self.case_ids)}, got {self.embeddings.shape}")
        if len(set(self.case_ids)) != len(self.case_ids):
            dups = sorted({c for c in self.case_ids if self.case_ids.count(c) > 1})
            raise InputError(f"duplicate case ids in embedding set: {dups[:10]}")
        if self.logits is not None:
            self.logits = np.asarray(self.logits, dtype=np.float32)
            if self.logits.ndim != 2 or self.logits.shape[0] != len(self.case_ids):
                raise InputError(f"logits must be (n_cases, n_labels) with n_cases = {len(self.case_ids)}, "
                                 f"got {self.logits.shape}")
            if self.label_names and len(self.label_names) != self.logits.shape[1]:
                raise InputError(f"{len(self.label_names)} label names but logits have {self.logits.shape[1]} columns")
        bad = np.where(~np.isfinite(self.embeddings).all(axis=1))[0]
        if bad.size:
            raise InputError(f"non-finite embeddings for case(s) {[self.case_ids[i] for i in bad[:10]]}")
        if self.slab_tokens is not None:
            self.slab_tokens = np.asarray(self.slab_tokens, dtype=np.float32)
            if self.slab_tokens.ndim != 3 or self.slab_tokens.shape[0] != len(self.case_ids):
                raise InputError(f"slab_tokens must be (n_cases, n_slabs, dim) with n_cases = {len(self.case_ids)}, "
                                 f"got {self.slab_tokens.shape}")
            bad = np.where(~np.isfinite(self.slab_tokens).all(axis=(1, 2)))[0]
            if bad.size:
                raise InputError(f"non-finite slab tokens for case(s) {[self.case_ids[i] for i in bad[:10]]}")

    def __len__(self) -> int:
        return len(self.case_ids)

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.embeddings.shape[1])

    def index(self) -> dict[str, int]:
        """case id -> row."""
        return {c: i for i, c in enumerate(self.case_ids)}

    def subset(self, case_ids: Sequence[str]) -> "EmbeddingSet":
        """Rows for ``case_ids`` in that order; raises naming the ids that are absent."""
        idx = self.index()
        missing = [c for c in case_ids if c not in idx]
        if missing:
            raise InputError(f"{len(missing)} case id(s) have no embedding: {missing[:10]}")
        rows = [idx[c] for c in case_ids]
        return EmbeddingSet(list(case_ids), self.embeddings[rows],
                            None if self.logits is None else self.logits[rows], list(self.label_names),
                            dict(self.provenance), None if self.slab_tokens is None else self.slab_tokens[rows])


def save_embeddings(path: str | Path, data: EmbeddingSet) -> None:
    """Write ``data`` to a safetensors file (atomically)."""
    from safetensors.numpy import save_file

    tensors = {"embeddings": np.ascontiguousarray(data.embeddings, dtype=np.float32)}
    if data.logits is not None:
        tensors["logits"] = np.ascontiguousarray(data.logits, dtype=np.float32)
    if data.slab_tokens is not None:
        tensors["slab_tokens"] = np.ascontiguousarray(data.slab_tokens, dtype=np.float32)
    meta = {"format": FORMAT, "case_ids": json.dumps(list(data.case_ids)),
            "label_names": json.dumps(list(data.label_names)), "provenance": json.dumps(data.provenance)}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(target)


def load_embeddings(path: str | Path) -> EmbeddingSet:
    """Read a file written by :func:`save_embeddings`.

    Raises:
        InputError: missing/corrupt file or wrong layout, naming the file.
    """
    from safetensors import safe_open

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: embedding file not found")
    try:
        with safe_open(str(p), framework="numpy") as fh:
            meta: Mapping[str, str] = fh.metadata() or {}
            keys = set(fh.keys())
            if "embeddings" not in keys:
                raise InputError(f"{p}: no 'embeddings' tensor (found {sorted(keys)})")
            emb = fh.get_tensor("embeddings")
            logits = fh.get_tensor("logits") if "logits" in keys else None
            slabs = fh.get_tensor("slab_tokens") if "slab_tokens" in keys else None
    except InputError:
        raise
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise InputError(f"{p}: not a readable safetensors embedding file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise InputError(f"{p}: format {meta.get('format')!r}, expected {FORMAT!r}")
    try:
        return EmbeddingSet(json.loads(meta["case_ids"]), emb, logits, json.loads(meta.get("label_names", "[]")),
                            json.loads(meta.get("provenance", "{}")), slabs)
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from None
