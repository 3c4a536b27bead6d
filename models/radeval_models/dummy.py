"""``dummy``: a nearest-neighbour report generator for tests of the rest of the toolkit.

It memorises the training cases; for a new case it returns the report of the training case whose embedding has the
highest cosine similarity. Fitting is instant and needs no torch, so benchmark and CLI tests can train and generate
in milliseconds. It is registered through the ``radeval.models`` entry-point group like the real generators.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from radeval.errors import InputError
from radeval.paths import atomic_write_text
from radeval.registry import GenerationBatch

FORMAT = "radeval-generator/1"


@dataclass
class NearestNeighbourConfig:
    """Settings: ``embedding_dim`` (defaults to the training data's; checked on fit and generate)."""

    embedding_dim: int = 512


class NearestNeighbourGenerator:
    """Returns the report of the most similar training embedding (registry name ``dummy``).

    Example:
        >>> g = NearestNeighbourGenerator.fit(["a", "b"], np.eye(2, dtype="float32"), ["left", "right"])
        >>> g.generate(GenerationBatch(["x"], np.array([[0.1, 0.9]], dtype="float32")))
        ['right']
    """

    name: ClassVar[str] = "dummy"
    config_class: ClassVar[type] = NearestNeighbourConfig
    training: ClassVar[str] = "fit"  # radeval.registry.TrainableGenerator: learnt in one fit() call

    def __init__(self, case_ids: Sequence[str], embeddings: np.ndarray, reports: Sequence[str]) -> None:
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(reports) or len(case_ids) != len(reports):
            raise InputError(f"dummy: {len(case_ids)} ids, {len(reports)} reports and embeddings {emb.shape} differ")
        if len(reports) == 0:
            raise InputError("dummy: no training cases")
        self.case_ids = list(case_ids)
        self.reports = list(reports)
        self.embeddings = emb
        self.config = NearestNeighbourConfig(embedding_dim=int(emb.shape[1]))
        self._unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)

    @classmethod
    def parse_config(cls, values: Any = None, **overrides: Any) -> NearestNeighbourConfig:
        """A :class:`NearestNeighbourConfig` from a mapping (or one), naming unknown settings."""
        from dataclasses import asdict

        given = asdict(values) if isinstance(values, NearestNeighbourConfig) else dict(values or {})
        merged = {**given, **overrides}
        unknown = sorted(set(merged) - {"embedding_dim"})
        if unknown:
            raise InputError(f"dummy: unknown setting(s) {unknown} for NearestNeighbourConfig; known: "
                             f"['embedding_dim']")
        return NearestNeighbourConfig(**merged)

    @classmethod
    def fit(cls, case_ids: Sequence[str], embeddings: np.ndarray, reports: Sequence[str],
            config: Any = None) -> "NearestNeighbourGenerator":
        """Memorise the training cases.

        Raises:
            InputError: ``config.embedding_dim`` (if given) differs from the embeddings' dimension.
        """
        from dataclasses import asdict

        model = cls(case_ids, embeddings, reports)
        given = asdict(config) if isinstance(config, NearestNeighbourConfig) else dict(config or {})
        wanted = cls.parse_config(given).embedding_dim
        if "embedding_dim" in given and wanted != model.config.embedding_dim:
            raise InputError(f"dummy: embedding_dim={wanted}, but the training embeddings are "
                             f"{model.config.embedding_dim}-d")
        return model

    def generate(self, batch: GenerationBatch) -> list[str]:
        """The nearest training report for each case of ``batch``."""
        emb = np.asarray(batch.embeddings, dtype=np.float32)
        source = batch.extra.get("source", "batch")
        if emb.ndim != 2 or emb.shape[1] != self.config.embedding_dim:
            raise InputError(f"{source}: embeddings of shape {emb.shape}, dummy expects dimension "
                             f"{self.config.embedding_dim}")
        bad = np.where(~np.isfinite(emb).all(axis=1))[0]
        if bad.size:
            raise InputError(f"{source}: non-finite embeddings for case(s) {[batch.case_ids[i] for i in bad[:10]]}")
        unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        return [self.reports[i] for i in (unit @ self._unit.T).argmax(axis=1)]

    def save_pretrained(self, directory: str | Path, **_: Any) -> Path:
        """``config.json`` (ids, reports) + ``model.safetensors`` (embeddings)."""
        from safetensors.numpy import save_file

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        save_file({"embeddings": np.ascontiguousarray(self.embeddings)}, str(out / "model.safetensors"))
        body = {"format": FORMAT, "model_type": self.name, "config": {"embedding_dim": self.config.embedding_dim},
                "case_ids": self.case_ids, "reports": self.reports}
        atomic_write_text(out / "config.json", json.dumps(body, indent=1) + "\n")
        return out

    @classmethod
    def from_pretrained(cls, directory: str | Path, **_: Any) -> "NearestNeighbourGenerator":
        """Load a directory written by :meth:`save_pretrained`."""
        from safetensors.numpy import load_file

        from radeval_models.checkpoint import read_checkpoint_config

        body = read_checkpoint_config(directory, expected_type=cls.name)
        emb = load_file(str(Path(directory) / "model.safetensors"))["embeddings"]
        return cls(body["case_ids"], emb, body["reports"])
