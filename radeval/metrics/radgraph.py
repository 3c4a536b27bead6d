"""RadGraph-F1 metrics: ``radgraph_simple``, ``radgraph_partial``, ``radgraph_complete``, ``radgraph_er``.

All four read the same annotations, so for one checkpoint they share one :attr:`statistics_key`
and the model runs once per report. A sample's statistics row is
``[simple, partial, complete, entity_relation, 1]``; each member aggregates its own column over the
count, i.e. the corpus score is the mean of per-report F1 (zeros included), as upstream reports.

* ``radgraph_simple`` / ``radgraph_partial`` / ``radgraph_complete``: the reward levels of the
  ``radgraph`` package (default checkpoint ``radgraph-xl``, the package default).
* ``radgraph_er``: (entity F1 + relation F1) / 2, the number RadCliQ and ReXrank call "RadGraph";
  default checkpoint ``radgraph`` (v1), as they use. Not comparable with the other three.

Rules (upstream): a pair whose reference or hypothesis is the empty string scores 0 on every level
and is not annotated (for ``radgraph_er`` this is our rule: RadEval annotates the word "None" instead); if either annotation has no entities the three reward levels are 0. Long
reports are folded into encoder-length segments (never truncated): ``long:fold`` in the signature.
A report the model fails on gives a NaN row and an entry in :attr:`last_errors`; the rest of the
batch is scored.

Example (needs the checkpoint offline, see ``radeval fetch radgraph_partial``)::

    m = radgraph_partial()
    m.corpus_score(["No effusion."], ["No pleural effusion."])
"""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from radeval.errors import InputError
from radeval.metrics.base import Metric, check_pairs
from radeval.metrics.radgraph_model import MODEL_TYPES, TARBALL_REPO, RadGraphModel
from radeval.metrics.radgraph_rewards import CASE_MODES, entity_relation_f1, graph_rewards
from radeval.weights import local_weights_tag

#: Column of each member in the shared statistics row (the last column is the count).
LEVELS: dict[str, int] = {"simple": 0, "partial": 1, "complete": 2, "er": 3}


def checkpoint_dir(model_type: str, checkpoint: str | Path | None = None, *, metric: str | None = None) -> Path:
    """The extracted checkpoint folder for ``model_type``, found or unpacked without any network.

    Args:
        model_type: ``radgraph``, ``radgraph-xl`` or ``modern-radgraph-xl``.
        checkpoint: an extracted folder (with ``config.json``), a ``<type>.tar.gz`` file, or a folder
            holding that tarball; default: ``StanfordAIMI/RRG_scorers`` resolved offline.
        metric: the metric asking (named in the fetch command of the error message).

    Raises:
        MissingWeightsError: the tarball is not available offline (names the fetch command).
        InputError: ``checkpoint`` holds neither a checkpoint nor the tarball.
    """
    from radeval.paths import radeval_home
    from radeval.weights import resolve

    if model_type not in MODEL_TYPES:
        raise InputError(f"model_type must be one of {MODEL_TYPES}, got {model_type!r}")
    metric = metric or ("radgraph_er" if model_type == "radgraph" else "radgraph_partial")
    source = resolve(checkpoint if checkpoint is not None else TARBALL_REPO, metric=metric)
    if source.is_dir() and (source / "config.json").exists():
        return source
    if source.is_dir() and (source / model_type / "config.json").exists():
        return source / model_type
    tarball = source if source.is_file() else source / f"{model_type}.tar.gz"
    if not tarball.is_file():
        if checkpoint is None:
            from radeval.errors import MissingWeightsError

            how = (f"Run `radeval fetch {metric}` on a machine with network access, or pass"
                   if model_type != "modern-radgraph-xl" else "Download it and pass")
            raise MissingWeightsError(
                f"RadGraph checkpoint {TARBALL_REPO}/{model_type}.tar.gz is not available offline (looked in "
                f"{source}). {how} checkpoint=<extracted folder or tarball>.")
        raise InputError(f"{source} holds neither a RadGraph checkpoint nor {model_type}.tar.gz")
    target = radeval_home() / "radgraph" / model_type
    if checkpoint is not None:  # a user's tarball gets its own folder: never the published one's, nor another's
        import hashlib

        info = tarball.resolve().stat()
        digest = hashlib.sha256(f"{tarball.resolve()}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()
        target = target.with_name(f"{model_type}-{digest[:16]}")
    if (target / "config.json").exists():
        return target
    tmp = target.with_name(f".{model_type}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(tarball, "r:gz") as tar:
        tar.extractall(tmp, filter="data")
    found = [p.parent for p in tmp.rglob("config.json")]
    if len(found) != 1:
        raise InputError(f"{tarball}: expected one config.json inside, found {len(found)}")
    shutil.rmtree(target, ignore_errors=True)
    found[0].rename(target)
    shutil.rmtree(tmp, ignore_errors=True)
    return target


class RadGraphF1(Metric):
    """One member of the RadGraph-F1 family (mean metric over reports).

    Args:
        level: ``simple``, ``partial``, ``complete`` or ``er`` ((entity F1 + relation F1)/2).
        model_type: the checkpoint; default ``radgraph-xl`` (``radgraph`` v1 for ``er``).
        checkpoint: a local checkpoint folder or tarball instead of the published one.
        encoder: a local encoder folder (config + tokenizer) instead of the one ``config.json`` names.
        case: ``upstream`` (radgraph 0.1.18 casing) or ``lower`` (all tokens lowercased).
        batch_size: reports per forward pass.
        device: torch device.
        progress: show a progress bar (``None``: only on a terminal); does not change the numbers.
    """

    kind: ClassVar[str] = "mean"
    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "clinical"

    def __init__(self, level: str = "partial", *, model_type: str | None = None,
                 checkpoint: str | Path | None = None, encoder: str | Path | None = None,
                 case: str = "upstream", batch_size: int = 16, device: str = "cpu",
                 progress: bool | None = None) -> None:
        if level not in LEVELS:
            raise InputError(f"level must be one of {tuple(LEVELS)}, got {level!r}")
        model_type = model_type or ("radgraph" if level == "er" else "radgraph-xl")
        if model_type not in MODEL_TYPES:
            raise InputError(f"model_type must be one of {MODEL_TYPES}, got {model_type!r}")
        if case not in CASE_MODES:
            raise InputError(f"case must be one of {CASE_MODES}, got {case!r}")
        self.level = level
        self.name = f"radgraph_{level}"  # type: ignore[misc]
        self.model_type = model_type
        self.checkpoint = checkpoint
        self.encoder = encoder
        self.case = case
        self.batch_size = batch_size
        self.device = device
        self.progress = progress
        self.last_errors: dict[int, str] = {}
        self._model: RadGraphModel | None = None

    # -- identity ------------------------------------------------------------------------------
    def _shared_settings(self) -> dict[str, str]:
        ckpt = self.model_type if self.checkpoint is None else f"{self.model_type}@{local_weights_tag(self.checkpoint)}"
        return {"model": ckpt, "case": self.case, "tok": "radgraph-0.1.18", "long": "fold", "empty": "0"}

    def settings(self) -> dict[str, str]:
        return {"level": self.level, **self._shared_settings()}

    @property
    def statistics_key(self) -> str:
        parts = ["radgraph"] + [f"{k}:{v}" for k, v in self._shared_settings().items()]
        return "|".join(parts)

    # -- model ---------------------------------------------------------------------------------
    def model(self) -> RadGraphModel:
        """The loaded checkpoint (loaded on first use)."""
        if self._model is None:
            # the fetch command named in errors must fetch this model type's tarball
            fetches_v1 = self.name == "radgraph_er"
            metric = self.name if fetches_v1 == (self.model_type == "radgraph") else None
            self._model = RadGraphModel(checkpoint_dir(self.model_type, self.checkpoint, metric=metric),
                                        model_type=self.model_type,
                                        encoder=self.encoder, batch_size=self.batch_size, device=self.device)
        return self._model

    def annotate(self, reports: Sequence[str]) -> tuple[list[dict[str, Any] | None], dict[int, str]]:
        """Annotations of ``reports`` (each distinct text once); failures as ``{index: reason}``.

        A batch that raises is retried one report at a time, so one bad report does not sink the rest.
        """
        from tqdm.auto import tqdm

        model = self.model()
        unique = list(dict.fromkeys(reports))
        found: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        bar = tqdm(total=len(unique), desc="RadGraph", unit="report",
                   disable=None if self.progress is None else not self.progress)
        for start in range(0, len(unique), model.batch_size):
            chunk = unique[start:start + model.batch_size]
            try:
                found.update(zip(chunk, model.annotate(chunk), strict=True))
            except Exception:  # noqa: BLE001 - isolate the failing report below
                for text in chunk:
                    try:
                        found[text] = model.annotate([text])[0]
                    except Exception as exc:  # noqa: BLE001 - reported per sample
                        errors[text] = f"RadGraph inference failed: {type(exc).__name__}: {exc}"
            bar.update(len(chunk))
        bar.close()
        out = [found.get(t) for t in reports]
        return out, {i: errors[t] for i, t in enumerate(reports) if t in errors}

    # -- the contract --------------------------------------------------------------------------
    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """Rows ``[simple, partial, complete, entity_relation, 1]`` per pair (NaN row = failed)."""
        check_pairs(refs, hyps, metric=self.name)
        self.last_errors = {}
        stats = np.zeros((len(refs), len(LEVELS) + 1), dtype=np.float64)
        stats[:, -1] = 1.0
        live = [i for i in range(len(refs)) if len(refs[i]) > 0 and len(hyps[i]) > 0]
        if not live:
            return stats
        texts = [hyps[i] for i in live] + [refs[i] for i in live]
        annotations, errors = self.annotate(texts)
        for k, i in enumerate(live):
            hyp_ann, ref_ann = annotations[k], annotations[k + len(live)]
            if hyp_ann is None or ref_ann is None:
                side = "hypothesis" if hyp_ann is None else "reference"
                self.last_errors[i] = errors.get(k if hyp_ann is None else k + len(live), f"{side} not annotated")
                stats[i, :] = np.nan
                continue
            simple, partial, complete = graph_rewards(hyp_ann, ref_ann, case=self.case)
            ent, rel = entity_relation_f1(hyp_ann, ref_ann)
            stats[i, :4] = (simple, partial, complete, (ent + rel) / 2)
        return stats

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        s = np.asarray(stats, dtype=np.float64)
        col, count = s[..., LEVELS[self.level]], s[..., -1]
        out = np.where(count > 0, col / np.where(count > 0, count, 1.0), 0.0)
        return float(out) if out.ndim == 0 else out


def radgraph_simple(**options: Any) -> RadGraphF1:
    """RadGraph-F1, simple level (entities only)."""
    return RadGraphF1("simple", **options)


def radgraph_partial(**options: Any) -> RadGraphF1:
    """RadGraph-F1, partial level (entities + whether they have relations); the most quoted figure."""
    return RadGraphF1("partial", **options)


def radgraph_complete(**options: Any) -> RadGraphF1:
    """RadGraph-F1, complete level (entities + every relation with its target)."""
    return RadGraphF1("complete", **options)


def radgraph_er(**options: Any) -> RadGraphF1:
    """(entity F1 + relation F1) / 2 on RadGraph v1 annotations: RadCliQ's / ReXrank's "RadGraph"."""
    return RadGraphF1("er", **options)


__all__ = ["LEVELS", "RadGraphF1", "checkpoint_dir", "radgraph_complete", "radgraph_er", "radgraph_partial",
           "radgraph_simple"]
