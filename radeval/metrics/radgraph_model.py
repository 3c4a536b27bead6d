"""Batched RadGraph inference for the published DyGIE checkpoints (radgraph, radgraph-xl, modern-radgraph-xl).

The ``radgraph`` 0.1.18 package runs one report per forward pass, and its vendored AllenNLP calls
tokenizer methods that transformers 5 removed (``encode_plus``, ``build_inputs_with_special_tokens``).
This module reads the same checkpoint folder (``config.json``, ``vocabulary/``, ``weights.th``, as
extracted from ``StanfordAIMI/RRG_scorers/<type>.tar.gz``) and runs the same network on many
reports at once:

1. **Tokens:** the report is pre-tokenised as upstream does (:func:`preprocess_report`); the whole
   report is one "sentence".
2. **Encoder:** each word is split into word pieces on its own; a report's pieces are cut into
   segments of ``max_length - 2`` pieces, each wrapped in the tokenizer's special tokens (AllenNLP's
   "fold", so long reports are folded, never truncated); every segment of every report in the batch
   goes through the transformer in one call. A word is the mean of its pieces (zero if it has none).
3. **Spans:** every span of at most ``max_span_width`` words, embedded as
   ``[first word; last word; width embedding]``.
4. **NER:** feed-forward + linear scores per span, with a fixed 0 for the null label; argmax.
5. **Relations:** a mention scorer keeps the ``ceil(spans_per_word * n_words)`` best spans (in span
   order); every ordered pair ``[a; b; a*b]`` is scored, the two mention scores are added, a 0 null
   score is prepended, argmax.

Padding is masked everywhere, and each report keeps exactly its own top-k spans, so a batch gives
the same annotations as one report at a time (checked against the ``radgraph`` package in the tests).

Example (offline, with a checkpoint folder ``ckpt``)::

    model = RadGraphModel.from_directory(ckpt, model_type="radgraph-xl")
    model.annotate(["No pleural effusion."])[0]["entities"]
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Published checkpoint types (``StanfordAIMI/RRG_scorers/<type>.tar.gz``).
MODEL_TYPES = ("radgraph", "radgraph-xl", "modern-radgraph-xl")
TARBALL_REPO = "StanfordAIMI/RRG_scorers"

_V1_SPLIT = re.compile(r"(?<! )(?=[/,:.!?()])|(?<=[/,:.!?()])(?! )")
_WORDPUNCT = re.compile(r"\w+|[^\w\s]+")
#: Largest span-pair tensor (floats) built at once; beyond it relations are scored per report in row chunks.
PAIR_BUDGET = 1 << 25


def preprocess_report(text: str, model_type: str) -> list[str]:
    """Split a report into the word tokens the RadGraph model reads, as ``radgraph`` 0.1.18 does.

    * A falsy report becomes the single word ``None``.
    * ``radgraph`` (v1): a space is put before and after each of ``/ , : . ! ? ( )`` (upstream's
      character class ``[/,-,:,.,!?()]`` holds no hyphen: ``,-,`` is the range from ``,`` to ``,``),
      then the text is split on whitespace.
    * XL models: escaped and real newlines become spaces, ``\\"`` becomes two backquotes,
      whitespace is collapsed, the text is split into word and punctuation runs (NLTK's
      ``wordpunct_tokenize`` rule ``\\w+|[^\\w\\s]+``) and ``). %. .' %, %)`` are split again.

    Example:
        >>> preprocess_report("No effusion/edema (mild).", "radgraph")
        ['No', 'effusion', '/', 'edema', '(', 'mild', ')', '.']
        >>> preprocess_report("Size 5.2%.", "radgraph-xl")
        ['Size', '5', '.', '2', '%', '.']
    """
    if not text:
        text = "None"
    if model_type == "radgraph":
        return _V1_SPLIT.sub(" ", text).split()
    t = text.replace("\\n", "  ").replace("\\f", "  ").replace("\\u2122", "      ")
    t = t.replace("\n", " ").replace('\\"', "``")
    t = " ".join(_WORDPUNCT.findall(re.sub(r"\s+", " ", t)))
    for joined, split in ((").", ") ."), ("%.", "% ."), (".'", ". '"), ("%,", "% ,"), ("%)", "% )")):
        t = t.replace(joined, split)
    return t.split()


def _read_labels(path: Path) -> list[str]:
    """An AllenNLP non-padded vocabulary file: one label per line, index = line number."""
    lines = re.split(r"\n|\r\n", path.read_text(encoding="utf-8"))
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return [line.replace("@@NEWLINE@@", "\n") for line in lines]


@dataclass(frozen=True)
class CheckpointConfig:
    """What the network needs from a checkpoint's ``config.json`` and ``vocabulary/``."""

    encoder: str
    max_length: int | None
    max_span_width: int
    spans_per_word: float
    ner_labels: tuple[str, ...]
    relation_labels: tuple[str, ...]
    namespace: str

    @classmethod
    def read(cls, directory: Path, model_type: str) -> CheckpointConfig:
        """Read and check ``config.json`` + ``vocabulary/`` (raises ``ValueError`` naming the field)."""
        try:
            cfg = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            model = cfg["model"]
            bert = model["embedder"]["token_embedders"]["bert"]
            modules = model["modules"]
            weights = model.get("loss_weights", {})
        except (OSError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"{directory}: not a RadGraph checkpoint ({type(exc).__name__}: {exc})") from None
        if modules.get("coref", {}).get("coref_prop", 0):
            raise ValueError(f"{directory}: coreference propagation (coref_prop > 0) is not supported")
        if weights.get("ner", 1.0) <= 0 or weights.get("relation", 1.0) <= 0:
            raise ValueError(f"{directory}: the checkpoint must predict entities and relations")
        vocab = directory / "vocabulary"
        namespaces = sorted(p.name[: -len("__ner_labels.txt")] for p in vocab.glob("*__ner_labels.txt"))
        namespace = model_type if model_type in namespaces else (namespaces[0] if len(namespaces) == 1 else None)
        if namespace is None:
            raise ValueError(f"{directory}: no NER label vocabulary for {model_type!r} (found {namespaces})")
        ner = _read_labels(vocab / f"{namespace}__ner_labels.txt")
        if not ner or ner[0] != "":
            raise ValueError(f"{directory}: the NER vocabulary must start with the empty null label")
        return cls(
            encoder=str(bert["model_name"]),
            max_length=bert.get("max_length"),
            max_span_width=int(model["max_span_width"]),
            spans_per_word=float(modules["relation"]["spans_per_word"]),
            ner_labels=tuple(ner),
            relation_labels=tuple(_read_labels(vocab / f"{namespace}__relation_labels.txt")),
            namespace=namespace,
        )


def _encoder_config(directory: Path) -> Any:
    """The encoder's config, without running remote code.

    Checkpoints whose config names a custom BERT variant (CXR-BERT's ``cxr-bert`` with ``auto_map``)
    are read as plain BERT configs: the variant only adds heads on top of an unchanged BERT encoder.
    """
    from transformers import AutoConfig, BertConfig

    try:
        return AutoConfig.from_pretrained(str(directory), trust_remote_code=False)
    except (ValueError, KeyError) as exc:
        raw = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if "bert" not in str(raw.get("model_type", "")).lower():
            raise ValueError(f"{directory}: cannot read the encoder config ({exc})") from None
        raw.pop("auto_map", None)
        raw["model_type"] = "bert"
        return BertConfig.from_dict(raw)


def _feedforward(state: dict[str, Any], prefix: str) -> Any:
    """An AllenNLP FeedForward (Linear + ReLU per layer) from ``<prefix>_linear_layers.<i>``."""
    import torch

    layers = []
    i = 0
    while f"{prefix}_linear_layers.{i}.weight" in state:
        w = state[f"{prefix}_linear_layers.{i}.weight"]
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data.copy_(w)
        lin.bias.data.copy_(state[f"{prefix}_linear_layers.{i}.bias"])
        layers += [lin, torch.nn.ReLU()]
        i += 1
    if not layers:
        raise ValueError(f"weights.th has no feed-forward layers under {prefix!r}")
    return torch.nn.Sequential(*layers)


def _linear(state: dict[str, Any], prefix: str) -> Any:
    import torch

    w = state[f"{prefix}weight"]
    lin = torch.nn.Linear(w.shape[1], w.shape[0])
    lin.weight.data.copy_(w)
    lin.bias.data.copy_(state[f"{prefix}bias"])
    return lin


class RadGraphModel:
    """A RadGraph checkpoint ready for batched inference on CPU or GPU.

    Args:
        directory: the extracted checkpoint folder (``config.json``, ``vocabulary/``, ``weights.th``).
        model_type: ``radgraph``, ``radgraph-xl`` or ``modern-radgraph-xl`` (chooses the tokenisation).
        encoder: local folder with the encoder's config and tokenizer; default: the
            ``model_name`` in ``config.json``, resolved offline through :func:`radeval.weights.resolve`.
        batch_size: reports per forward pass.
        device: a torch device string.

    Raises:
        ValueError: an unknown model type or a malformed checkpoint (naming the file).
        MissingWeightsError: the encoder named in ``config.json`` is not available offline.
    """

    def __init__(self, directory: str | Path, *, model_type: str = "radgraph-xl", encoder: str | Path | None = None,
                 batch_size: int = 16, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        if model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {MODEL_TYPES}, got {model_type!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.directory = Path(directory)
        self.model_type = model_type
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.config = CheckpointConfig.read(self.directory, model_type)
        if encoder is None:
            from radeval.weights import resolve

            encoder = resolve(self.config.encoder)
        self.tokenizer = AutoTokenizer.from_pretrained(str(encoder), trust_remote_code=False)
        state = torch.load(self.directory / "weights.th", map_location="cpu", weights_only=True)
        prefix = "_embedder.token_embedder_bert._matched_embedder.transformer_model."
        enc_state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not enc_state:
            raise ValueError(f"{self.directory / 'weights.th'}: no encoder weights under {prefix!r}")
        self.encoder = AutoModel.from_config(_encoder_config(Path(str(encoder))))
        try:
            result = self.encoder.load_state_dict(enc_state, strict=False)
        except RuntimeError as exc:  # shape mismatches
            raise ValueError(f"{self.directory / 'weights.th'}: encoder weights do not fit {encoder}: {exc}") from None
        missing = [k for k in result.missing_keys if not k.endswith(("position_ids", "token_type_ids"))]
        if missing:
            raise ValueError(f"{self.directory / 'weights.th'}: encoder weights do not fit {encoder} "
                             f"(missing {missing[:5]})")
        # Unexpected keys are heads outside the base model (e.g. CXR-BERT's projection); the
        # embedder only reads the last hidden state, so they never change the output.
        ns_ner = f"{self.config.namespace}__ner_labels"
        ns_rel = f"{self.config.namespace}__relation_labels"
        self.width_embedding = torch.nn.Embedding.from_pretrained(
            state["_endpoint_span_extractor._span_width_embedding.weight"])
        self.ner_ffn = _feedforward(state, f"_ner._ner_scorers.{ns_ner}.0._module.")
        self.ner_out = _linear(state, f"_ner._ner_scorers.{ns_ner}.1._module.")
        self.mention_ffn = _feedforward(state, f"_relation._mention_pruners.{ns_rel}._scorer.0._module.")
        self.mention_out = _linear(state, f"_relation._mention_pruners.{ns_rel}._scorer.1._module.")
        self.relation_ffn = _feedforward(state, f"_relation._relation_feedforwards.{ns_rel}.")
        self.relation_out = _linear(state, f"_relation._relation_scorers.{ns_rel}.")
        if self.ner_out.out_features != len(self.config.ner_labels) - 1:
            raise ValueError(f"{self.directory}: {self.ner_out.out_features} NER outputs for "
                             f"{len(self.config.ner_labels) - 1} labels")
        if self.relation_out.out_features != len(self.config.relation_labels):
            raise ValueError(f"{self.directory}: {self.relation_out.out_features} relation outputs for "
                             f"{len(self.config.relation_labels)} labels")
        self._modules = torch.nn.ModuleList([self.encoder, self.width_embedding, self.ner_ffn, self.ner_out,
                                             self.mention_ffn, self.mention_out, self.relation_ffn,
                                             self.relation_out]).to(self.device).eval()
        self._specials = self._special_tokens()
        self._pieces: dict[str, list[int]] = {}

    # -- tokenisation ----------------------------------------------------------------------------
    def _special_tokens(self) -> tuple[list[int], list[int]]:
        """The ids the tokenizer puts before and after a single sequence ([CLS] / [SEP] for BERT)."""
        plain = self.tokenizer("a", add_special_tokens=False)["input_ids"]
        full = self.tokenizer("a", add_special_tokens=True)["input_ids"]
        for i in range(len(full) - len(plain) + 1):
            if full[i:i + len(plain)] == plain:
                return list(full[:i]), list(full[i + len(plain):])
        raise ValueError(f"cannot locate the special tokens of tokenizer {type(self.tokenizer).__name__}")

    def _word_pieces(self, word: str) -> list[int]:
        ids = self._pieces.get(word)
        if ids is None:
            ids = list(self.tokenizer(word, add_special_tokens=False)["input_ids"])
            self._pieces[word] = ids
        return ids

    # -- inference -------------------------------------------------------------------------------
    def annotate(self, reports: Sequence[str], *, progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
        """One annotation per report, in input order (the ``radgraph`` package's schema).

        Args:
            reports: report texts (an empty one is read as the word ``None``, as upstream does).
            progress: called with the number of reports finished after each batch.
        """
        words = [preprocess_report(r, self.model_type) for r in reports]
        out: list[dict[str, Any] | None] = [None] * len(reports)
        order = sorted(range(len(reports)), key=lambda i: len(words[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            for i, ann in zip(idx, self._annotate_batch([words[i] for i in idx]), strict=True):
                out[i] = ann
            if progress is not None:
                progress(len(idx))
        return [a for a in out if a is not None]

    def _annotate_batch(self, batch: list[list[str]]) -> list[dict[str, Any]]:
        import torch

        results: list[dict[str, Any]] = [{"text": " ".join(w), "entities": {}} for w in batch]
        live = [i for i, w in enumerate(batch) if w]
        if not live:
            return results
        with torch.inference_mode():
            word_emb, n_words = self._embed_words([batch[i] for i in live])
            ner, rel = self._heads(word_emb, n_words)
        for k, i in enumerate(live):
            results[i]["entities"] = _entities(batch[i], ner[k], rel[k])
        return results

    def _embed_words(self, batch: list[list[str]]) -> tuple[Any, list[int]]:
        """Word vectors ``(B, max words, H)``: mean of each word's pieces over folded segments."""
        import torch

        before, after = self._specials
        step = (self.config.max_length - len(before) - len(after)) if self.config.max_length else None
        segments: list[list[int]] = []
        owners: list[tuple[int, int]] = []  # (report, first piece index of the segment)
        offsets: list[list[tuple[int, int] | None]] = []
        for b, report in enumerate(batch):
            pieces: list[int] = []
            spans: list[tuple[int, int] | None] = []
            for word in report:
                ids = self._word_pieces(word)
                spans.append((len(pieces), len(pieces) + len(ids)) if ids else None)
                pieces.extend(ids)
            offsets.append(spans)
            size = step or max(len(pieces), 1)
            for s in range(0, max(len(pieces), 1), size):
                segments.append(before + pieces[s:s + size] + after)
                owners.append((b, s))
        width = max(len(s) for s in segments)
        ids = torch.full((len(segments), width), self.tokenizer.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros((len(segments), width), dtype=torch.long)
        for r, seg in enumerate(segments):
            ids[r, :len(seg)] = torch.tensor(seg)
            mask[r, :len(seg)] = 1
        hidden = self.encoder(input_ids=ids.to(self.device), attention_mask=mask.to(self.device))[0]
        n_pieces = [max((o[1] for o in spans if o is not None), default=0) for spans in offsets]
        piece_vecs = [hidden.new_zeros((max(n, 1), hidden.shape[-1])) for n in n_pieces]
        for r, (b, s) in enumerate(owners):
            inner = len(segments[r]) - len(before) - len(after)
            if inner > 0:
                piece_vecs[b][s:s + inner] = hidden[r, len(before):len(before) + inner]
        n_words = [len(r) for r in batch]
        out = hidden.new_zeros((len(batch), max(n_words), hidden.shape[-1]))
        for b, spans in enumerate(offsets):
            for w, span in enumerate(spans):
                if span is not None:
                    out[b, w] = piece_vecs[b][span[0]:span[1]].mean(dim=0)
        return out, n_words

    def _heads(self, words: Any, n_words: list[int]) -> tuple[list[list[tuple[int, int, str]]],
                                                             list[list[tuple[int, int, int, int, str]]]]:
        """NER and relation predictions per report, as sentence-relative word offsets."""
        import torch

        w_max = self.config.max_span_width
        spans = [_candidate_spans(n, w_max) for n in n_words]
        n_spans = max(len(s) for s in spans)
        idx = torch.zeros((len(spans), n_spans, 2), dtype=torch.long)
        span_mask = torch.zeros((len(spans), n_spans), dtype=torch.bool)
        for b, sp in enumerate(spans):
            idx[b, :len(sp)] = torch.tensor(sp)
            span_mask[b, :len(sp)] = True
        idx, span_mask = idx.to(words.device), span_mask.to(words.device)
        rows = torch.arange(len(spans), device=words.device).unsqueeze(1)
        starts, ends = idx[..., 0], idx[..., 1]
        emb = torch.cat([words[rows, starts], words[rows, ends], self.width_embedding(ends - starts)], dim=-1)

        ner_scores = self.ner_out(self.ner_ffn(emb))
        ner_scores = ner_scores.masked_fill(~span_mask.unsqueeze(-1), -1e20)
        ner_scores = torch.cat([ner_scores.new_zeros(ner_scores.shape[:-1] + (1,)), ner_scores], dim=-1)
        ner_labels = ner_scores.argmax(dim=-1).cpu()

        mention = self.mention_out(self.mention_ffn(emb)).squeeze(-1).masked_fill(~span_mask, -1e20)
        keep = [math.ceil(n * self.config.spans_per_word) for n in n_words]
        k_max = max(max(keep), 1)
        _, top = mention.topk(k_max, dim=1)
        ranks = torch.arange(k_max, device=top.device).unsqueeze(0)
        keep_t = torch.tensor(keep, device=top.device).unsqueeze(1)
        top = torch.where(ranks < keep_t, top, top.max(dim=1, keepdim=True).values)
        top, _ = torch.sort(top, dim=1)
        top_emb = emb[rows, top]
        top_mention = mention[rows, top]
        if len(spans) * k_max * k_max * 3 * top_emb.shape[-1] <= PAIR_BUDGET:
            rel_labels = self._relation_labels(top_emb, top_mention).cpu()
        else:  # long reports: one report at a time, rows in chunks, so memory stays bounded
            rel_labels = torch.full((len(spans), k_max, k_max), -1, dtype=torch.long)
            for bi, k in enumerate(keep):
                step = max(1, PAIR_BUDGET // max(1, k * 3 * top_emb.shape[-1]))
                for r0 in range(0, k, step):
                    rel_labels[bi, r0:min(r0 + step, k), :k] = self._relation_labels(
                        top_emb[bi:bi + 1, :k], top_mention[bi:bi + 1, :k], rows=slice(r0, r0 + step))[0].cpu()
        top = top.cpu()

        ner_out: list[list[tuple[int, int, str]]] = []
        rel_out: list[list[tuple[int, int, int, int, str]]] = []
        names, relation_names = self.config.ner_labels, self.config.relation_labels
        for bi, sp in enumerate(spans):
            ner_out.append([(s, e, names[label]) for (s, e), label in zip(sp, ner_labels[bi].tolist()) if label != 0])
            k = keep[bi]
            chosen = [sp[j] for j in top[bi, :k].tolist()]
            labels = rel_labels[bi, :k, :k].tolist()
            rel_out.append([(*chosen[i], *chosen[j], relation_names[label])
                            for i, row in enumerate(labels) for j, label in enumerate(row) if label >= 0])
        return ner_out, rel_out

    def _relation_labels(self, top_emb: Any, top_mention: Any, rows: slice = slice(None)) -> Any:
        """Relation label index (-1 = none) for every ordered pair ``(i in rows, j)`` of kept spans."""
        import torch

        a = top_emb[:, rows].unsqueeze(2).expand(-1, -1, top_emb.shape[1], -1)
        b = top_emb.unsqueeze(1).expand(-1, a.shape[1], -1, -1)
        scores = self.relation_out(self.relation_ffn(torch.cat([a, b, a * b], dim=-1)))
        scores = scores + top_mention[:, rows].unsqueeze(2).unsqueeze(-1) + top_mention.unsqueeze(1).unsqueeze(-1)
        scores = torch.cat([scores.new_zeros(scores.shape[:-1] + (1,)), scores], dim=-1)
        return scores.argmax(dim=-1) - 1


@functools.lru_cache(maxsize=1024)
def _candidate_spans(n_words: int, max_width: int) -> tuple[tuple[int, int], ...]:
    """Every (start, end) word span of at most ``max_width`` words, in DyGIE's enumeration order."""
    return tuple((s, e) for s in range(n_words) for e in range(s, min(s + max_width, n_words)))


def _entities(words: list[str], ner: list[tuple[int, int, str]],
              relations: list[tuple[int, int, int, int, str]]) -> dict[str, dict[str, Any]]:
    """Entities keyed ``"1"..``, in prediction order, with relations pointing at entity keys.

    A relation whose object span is not a predicted entity is dropped, as upstream does.
    """
    key_of: dict[tuple[int, int], str] = {}
    for n, (s, e, _) in enumerate(ner):
        key_of.setdefault((s, e), str(n + 1))
    by_subject: dict[tuple[int, int], list[list[str]]] = {}
    for s1, e1, s2, e2, rel_label in relations:
        target = key_of.get((s2, e2))
        if target is not None:
            by_subject.setdefault((s1, e1), []).append([rel_label, target])
    out: dict[str, dict[str, Any]] = {}
    for n, (s, e, label) in enumerate(ner):
        out[str(n + 1)] = {"tokens": " ".join(words[s:e + 1]), "label": label, "start_ix": s, "end_ix": e,
                           "relations": list(by_subject.get((s, e), []))}
    return out
