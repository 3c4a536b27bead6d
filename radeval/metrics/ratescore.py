"""RaTEScore (Zhao et al. 2024): entity-aware similarity of two reports, with the upstream fixes we need.

For the entity sets of query report Q and target report T (see :mod:`radeval.metrics.ratescore_ner`):
each query entity i takes its most similar target entity j* (cosine of the [CLS] embeddings),
s_i = that cosine, w_i = A[type_i, type_j*] (affinity matrix, rows = query type) and p_i =
``neg_weight`` when the two types are one of the 8 opposite-polarity pairs, else 1.
S(Q→T) = Σ s·w·p / Σ w (0 if Σ w = 0). P' = S(ref→hyp), R' = S(hyp→ref),
RaTE = 2P'R'/(P'+R') (0 if the sum is 0). If either report has no entity the pair scores **0.5**.
The corpus score is the mean over reports.

Differences from ``ratescore`` 0.6.0, all recorded in the signature:

* sentences are split with Punkt (``split:punkt-en``) instead of medspacy/PyRuSH;
* every report keeps its slot: a report with no valid sentence scores 0.5 and is listed in
  :attr:`RaTEScore.last_flags` (upstream silently drops it and misaligns all later pairs);
* models run batched (the numbers equal upstream's default batch size 1).

Example (needs the two models offline, see ``radeval fetch ratescore``)::

    RaTEScore().corpus_score(["Small left pleural effusion."], ["Left pleural effusion."])
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from radeval.errors import InputError
from radeval.metrics.base import MeanMetric, check_pairs, mean_statistics
from radeval.metrics.ratescore_ner import (EMBED_MODEL, ENTITY_MAX_LENGTH, NER_MAX_LENGTH, NER_MODEL,
                                           RateModels, ReportEntities)
from radeval.metrics.sentence_split import SPLITTER
from radeval.weights import local_weights_tag

TYPES = ("ABNORMALITY", "NON-ABNORMALITY", "DISEASE", "NON-DISEASE", "ANATOMY")

#: ``ratescore`` 0.6.0 ``DEFAULT_MATRIX_LONG`` (rows = query type, columns = matched type, order TYPES).
MATRIX_LONG = (
    (0.4276119164393705, 0.5431049700217344, 0.0034478181112993847, 0.27005425386213877, 0.6240929990607657),
    (0.16546764653692908, 0.0009357166071730684, 0.719397354576018, 0.0927333564267591, 0.018670610691852826),
    (0.8396510075734789, 0.9820689020512646, 0.8460555030578727, 0.3789136708096537, 0.9950209388542061),
    (0.7759420231214385, 0.03860183811876373, 0.10073046076318157, 0.34065681486566446, 0.1839139293714062),
    (0.7487824274337533, 0.02097055139911715, 0.4592143222158069, 0.00013736314126696204, 0.2856134859160784),
)
NEG_WEIGHT_LONG = 0.8716553966489615
#: ``ratescore`` 0.6.0 ``DEFAULT_MATRIX_SHORT``.
MATRIX_SHORT = (
    (0.4070293318365468, 0.9479148658006686, 0.28342529466226446, 0.23875064111146294, 0.6952639610605605),
    (0.1712744286898638, 0.0007887930317199857, 0.00045065329822896076, 0.8555432840895761, 0.4485149671497294),
    (0.8840397619834857, 0.6962283914800402, 0.19018958438059513, 0.943727057946997, 0.9637659445696822),
    (0.9555801066212176, 0.05650711141169969, 0.6072996585919443, 0.3214769399791204, 0.13122106162635216),
    (0.5829759950441763, 0.794672584951181, 0.0006059634829551632, 0.27982942400798977, 0.7709590751917746),
)
NEG_WEIGHT_SHORT = 0.3611577852354489

#: (query type, matched type) pairs of opposite polarity, penalised by ``neg_weight``.
NEGATION_PAIRS = frozenset({
    ("NON-DISEASE", "DISEASE"), ("NON-ABNORMALITY", "ABNORMALITY"), ("DISEASE", "NON-DISEASE"),
    ("ABNORMALITY", "NON-ABNORMALITY"), ("NON-DISEASE", "ABNORMALITY"), ("NON-ABNORMALITY", "DISEASE"),
    ("DISEASE", "NON-ABNORMALITY"), ("ABNORMALITY", "NON-DISEASE"),
})

#: Score of a pair where either side has no entity (upstream rule).
EMPTY_SCORE = 0.5


class Affinity:
    """A type-affinity matrix plus the negation weight.

    Args:
        weights: ``(query type, matched type) -> weight`` for all 25 pairs (upper-case types).
        neg_weight: the opposite-polarity penalty.
        name: ``long``, ``short`` or a file name (goes into the signature).
    """

    def __init__(self, weights: Mapping[tuple[str, str], float], neg_weight: float, name: str) -> None:
        missing = [(q, m) for q in TYPES for m in TYPES if (q, m) not in weights]
        if missing:
            raise InputError(f"affinity matrix {name!r} lacks the pairs {missing[:3]}"
                             f"{' ...' if len(missing) > 3 else ''}")
        self.weights = dict(weights)
        self.neg_weight = float(neg_weight)
        self.name = name

    @classmethod
    def from_table(cls, table: Sequence[Sequence[float]], neg_weight: float, name: str) -> Affinity:
        """From a 5×5 table whose rows and columns follow :data:`TYPES`."""
        return cls({(q, m): float(table[i][j]) for i, q in enumerate(TYPES) for j, m in enumerate(TYPES)},
                   neg_weight, name)

    @classmethod
    def load(cls, spec: str | Path) -> Affinity:
        """``"long"``, ``"short"`` or a JSON file with keys ``"<query>_<matched>"`` and ``"neg_weight"``.

        Raises:
            InputError: an unreadable file or a missing pair/weight (naming the file).
        """
        text = str(spec)
        if text.lower() == "long":
            return cls.from_table(MATRIX_LONG, NEG_WEIGHT_LONG, "long")
        if text.lower() == "short":
            return cls.from_table(MATRIX_SHORT, NEG_WEIGHT_SHORT, "short")
        try:
            raw = json.loads(Path(text).read_text(encoding="utf-8"))
            neg = float(raw.pop("neg_weight"))
            weights = {(k.split("_")[0].upper(), k.split("_")[1].upper()): float(v) for k, v in raw.items()}
        except (OSError, ValueError, KeyError, IndexError, AttributeError) as exc:
            raise InputError(f"cannot read affinity matrix {text!r}: {type(exc).__name__}: {exc}") from None
        return cls(weights, neg, Path(text).name)


def directional_score(query: Any, target: Any, query_types: Sequence[str], target_types: Sequence[str],
                      affinity: Affinity) -> float:
    """S(Q→T): affinity-weighted, negation-penalised mean best-match cosine of the query entities.

    Args:
        query: ``(n, d)`` embeddings (any scale; L2-normalised here), a torch tensor or array.
        target: ``(m, d)`` embeddings, m ≥ 1.
        query_types / target_types: upper-case entity types.
        affinity: weights and negation penalty.

    Raises:
        KeyError: a type pair missing from the affinity matrix (an unknown NER label).
    """
    import torch
    import torch.nn.functional as F

    q = F.normalize(torch.as_tensor(query, dtype=torch.float32), p=2, dim=1)
    t = F.normalize(torch.as_tensor(target, dtype=torch.float32), p=2, dim=1)
    values, indices = (q @ t.T).topk(1, dim=1, largest=True)
    total = 0.0
    weight_sum = 0.0
    for i, (value, j) in enumerate(zip(values[:, 0].tolist(), indices[:, 0].tolist())):
        pair = (query_types[i], target_types[j])
        w = affinity.weights[pair]
        total += value * w * (affinity.neg_weight if pair in NEGATION_PAIRS else 1.0)
        weight_sum += w
    return total / weight_sum if weight_sum != 0 else 0.0


def rate_score(ref: ReportEntities, hyp: ReportEntities, affinity: Affinity) -> float:
    """RaTEScore of one pair from its entities (0.5 if either side has none).

    Example:
        >>> import numpy as np
        >>> ref = ReportEntities(("effusion",), ("ABNORMALITY",), np.array([[1.0, 0.0]]), 1)
        >>> rate_score(ref, ref, Affinity.load("long"))
        1.0
    """
    if len(ref.texts) == 0 or len(hyp.texts) == 0:
        return EMPTY_SCORE
    p = directional_score(ref.embeddings, hyp.embeddings, ref.types, hyp.types, affinity)
    r = directional_score(hyp.embeddings, ref.embeddings, hyp.types, ref.types, affinity)
    return 2 * p * r / (p + r) if p + r != 0 else 0.0


class RaTEScore(MeanMetric):
    """RaTEScore as a mean metric (per-sample ``[score, 1]``).

    Args:
        affinity: ``"long"`` (default), ``"short"`` or a JSON matrix file.
        ner_model: tagger hub id or local folder (default ``Angelakeke/RaTE-NER-Deberta``).
        embed_model: encoder hub id or local folder (default ``FremyCompany/BioLORD-2023-C``).
        batch_size: sentences per tagger pass (entities per encoder pass: 4×).
        device: torch device (upstream defaults to CUDA; we default to CPU).
        progress: show a progress bar (``None``: only on a terminal); does not change the numbers.

    Attributes:
        last_errors: ``{row: reason}`` for pairs that could not be scored (NaN rows).
        last_flags: ``{row: note}`` for pairs scored 0.5 because a report had no valid sentence.
    """

    name: ClassVar[str] = "ratescore"
    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "clinical"

    def __init__(self, *, affinity: str | Path = "long", ner_model: str | Path = NER_MODEL,
                 embed_model: str | Path = EMBED_MODEL, batch_size: int = 32, device: str = "cpu",
                 progress: bool | None = None) -> None:
        self.affinity = Affinity.load(affinity)
        self.ner_model = ner_model
        self.embed_model = embed_model
        self.batch_size = batch_size
        self.device = device
        self.progress = progress
        self.last_errors: dict[int, str] = {}
        self.last_flags: dict[int, str] = {}
        self._models: RateModels | None = None

    def settings(self) -> dict[str, str]:
        def short(m: str | Path) -> str:
            text = str(m)
            return text if text in (NER_MODEL, EMBED_MODEL) else local_weights_tag(text)

        return {"ner": short(self.ner_model), "emb": short(self.embed_model), "affinity": self.affinity.name,
                "split": SPLITTER, "trunc": f"{NER_MAX_LENGTH}/{ENTITY_MAX_LENGTH}", "empty": "0.5"}

    def models(self) -> RateModels:
        """The tagger and encoder (loaded on first use)."""
        if self._models is None:
            self._models = RateModels(self.ner_model, self.embed_model, batch_size=self.batch_size,
                                      device=self.device)
        return self._models

    def _entities(self, texts: Sequence[str]) -> tuple[dict[str, ReportEntities], dict[str, str]]:
        """Entities of each distinct text; a failing batch is retried one report at a time."""
        from tqdm.auto import tqdm

        models = self.models()
        unique = list(dict.fromkeys(texts))
        found: dict[str, ReportEntities] = {}
        errors: dict[str, str] = {}
        step = max(self.batch_size, 1)
        bar = tqdm(total=len(unique), desc="RaTEScore", unit="report",
                   disable=None if self.progress is None else not self.progress)
        for start in range(0, len(unique), step):
            chunk = unique[start:start + step]
            try:
                found.update(zip(chunk, models.entities(chunk), strict=True))
            except Exception:  # noqa: BLE001 - isolate the failing report below
                for text in chunk:
                    try:
                        found[text] = models.entities([text])[0]
                    except Exception as exc:  # noqa: BLE001 - reported per sample
                        errors[text] = f"RaTEScore models failed: {type(exc).__name__}: {exc}"
            bar.update(len(chunk))
        bar.close()
        return found, errors

    def sample_values(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """RaTEScore per pair (NaN where a report could not be processed; see :attr:`last_errors`)."""
        self.last_errors, self.last_flags = {}, {}
        found, errors = self._entities(list(refs) + list(hyps))
        values = np.full(len(refs), np.nan)
        for i, (ref, hyp) in enumerate(zip(refs, hyps, strict=True)):
            bad = [f"{side}: {errors[t]}" for side, t in (("reference", ref), ("hypothesis", hyp)) if t in errors]
            if bad:
                self.last_errors[i] = "; ".join(bad)
                continue
            r, h = found[ref], found[hyp]
            empty = [side for side, e in (("reference", r), ("hypothesis", h)) if e.n_sentences == 0]
            if empty:
                self.last_flags[i] = f"{' and '.join(empty)} has no sentence of >= 3 characters; scored {EMPTY_SCORE}"
            try:
                values[i] = rate_score(r, h, self.affinity)
            except KeyError as exc:
                self.last_errors[i] = f"entity type pair {exc} is not in affinity matrix {self.affinity.name!r}"
        return values

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        check_pairs(refs, hyps, metric=self.name)
        return mean_statistics(self.sample_values(refs, hyps))


__all__ = ["Affinity", "EMPTY_SCORE", "MATRIX_LONG", "MATRIX_SHORT", "NEGATION_PAIRS", "RaTEScore",
           "directional_score", "rate_score"]
