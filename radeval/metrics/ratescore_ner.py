"""RaTEScore's two models, batched: the entity tagger (RaTE-NER) and the synonym encoder (BioLORD).

Upstream (``ratescore`` 0.6.0) tags one sentence per forward pass by default and embeds one report's
entities per pass. Here every sentence of every report in a batch goes through the tagger together
and every entity of every report through the encoder together; each sentence is decoded on its own
unpadded length, so the result equals upstream's batch size 1.

Pipeline per report:

1. sentences (:func:`radeval.metrics.sentence_split.split_sentences`), each stripped and dropped if it
   has no words or fewer than 3 characters;
2. the tagger reads each sentence (``max_length`` 512, truncated) and takes the argmax label per
   token; :func:`decode_bio` turns labels into ``(entity text, type)`` pairs;
3. each entity text is encoded (``max_length`` 30, truncated) and represented by the **[CLS] last
   hidden state** (no pooling, no normalisation here).

A report with no valid sentence keeps its slot with an empty entity list (upstream drops it and
misaligns every later report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radeval.metrics.sentence_split import split_sentences

#: Upstream's fixed lengths.
NER_MAX_LENGTH = 512
ENTITY_MAX_LENGTH = 30
NER_MODEL = "Angelakeke/RaTE-NER-Deberta"
EMBED_MODEL = "FremyCompany/BioLORD-2023-C"


def report_sentences(text: str) -> list[str]:
    """The sentences upstream keeps: stripped, with at least one word and at least 3 characters."""
    return [s for s in (x.strip() for x in split_sentences(text)) if s.split() and len(s) >= 3]


def decode_bio(tokens: Sequence[str], labels: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entity spans ``(first token, last token, type)`` from per-token labels, by upstream's rules.

    ``[CLS]``/``[SEP]`` are skipped; a labelled token looks at the *next* label: B→I opens a span,
    B→B and B→O emit a one-token span, I→B and I→O close the open span (I→B then reopens at the
    I token with its type). A span still open at the end, with no end recorded, closes at
    ``len(tokens) - 2``. ``labels`` is as long as ``tokens`` (one sentence, no padding).

    Example:
        >>> decode_bio(["[CLS]", "small", "effusion", "[SEP]"], ["O", "B-ABNORMALITY", "I-ABNORMALITY", "O"])
        [(1, 2, 'ABNORMALITY')]
    """
    spans: list[tuple[int, int, str]] = []
    start: int | None = None
    end: int | None = None
    etype: str | None = None
    n = len(labels)
    for i, (token, label) in enumerate(zip(tokens, labels[:len(tokens)])):
        if token in ("[CLS]", "[SEP]") or label == "O" or i >= n - 1:
            continue
        nxt = labels[i + 1]
        if label.startswith("B-"):
            if nxt.startswith("I-"):
                start, etype = i, label[2:]
            elif nxt.startswith("B-"):
                start = end = i
                spans.append((start, end, label[2:]))
                start, etype = i, label[2:]
            elif nxt.startswith("O"):
                spans.append((i, i, label[2:]))
                start = end = etype = None
        elif label.startswith("I-"):
            if nxt.startswith("B-"):
                end = i
                if start is not None:
                    spans.append((start, end, etype or ""))
                start, etype = i, label[2:]
            elif nxt.startswith("O"):
                end = i
                if start is not None:
                    spans.append((start, end, etype or ""))
                start = end = etype = None
    if start is not None and end is None:
        spans.append((start, len(tokens) - 2, etype or ""))
    return spans


@dataclass(frozen=True)
class ReportEntities:
    """One report's entities: texts, types (upper case) and their embeddings ``(n, d)`` (a torch tensor)."""

    texts: tuple[str, ...]
    types: tuple[str, ...]
    embeddings: Any
    n_sentences: int


class RateModels:
    """The tagger and the encoder, loaded from local folders (or hub ids resolved offline).

    Args:
        ner_model: tagger id or folder (default ``Angelakeke/RaTE-NER-Deberta``).
        embed_model: encoder id or folder (default ``FremyCompany/BioLORD-2023-C``).
        batch_size: sentences (tagger) and 4× as many entities (encoder) per forward pass.
        device: torch device.

    Raises:
        MissingWeightsError: a model is not available offline (names the ``radeval fetch`` command).
    """

    def __init__(self, ner_model: str | Path = NER_MODEL, embed_model: str | Path = EMBED_MODEL, *,
                 batch_size: int = 32, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModel, AutoModelForTokenClassification, AutoTokenizer

        from radeval.weights import resolve

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        ner_dir = resolve(ner_model, metric="ratescore")
        emb_dir = resolve(embed_model, metric="ratescore")
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.ner_tokenizer = AutoTokenizer.from_pretrained(str(ner_dir), trust_remote_code=False)
        self.ner = AutoModelForTokenClassification.from_pretrained(str(ner_dir), trust_remote_code=False)
        self.ner.eval().to(self.device)
        self.id2label = {int(k): v for k, v in self.ner.config.id2label.items()}
        self.embed_tokenizer = AutoTokenizer.from_pretrained(str(emb_dir), trust_remote_code=False)
        self.embedder = AutoModel.from_pretrained(str(emb_dir), trust_remote_code=False).eval().to(self.device)

    def tag(self, sentences: Sequence[str]) -> list[list[tuple[str, str]]]:
        """``(entity text, TYPE)`` pairs per sentence, tagging ``batch_size`` sentences per pass."""
        import torch

        out: list[list[tuple[str, str]]] = []
        tok = self.ner_tokenizer
        for start in range(0, len(sentences), self.batch_size):
            chunk = list(sentences[start:start + self.batch_size])
            enc = tok(chunk, max_length=NER_MAX_LENGTH, padding=True, truncation=True, return_tensors="pt")
            with torch.inference_mode():
                logits = self.ner(**{k: v.to(self.device) for k, v in enc.items()}).logits
            pred = logits.argmax(dim=-1).cpu()
            lengths = enc["attention_mask"].sum(dim=1).tolist()
            for row, length in enumerate(lengths):
                ids = enc["input_ids"][row, :length].tolist()
                tokens = tok.convert_ids_to_tokens(ids)
                labels = [self.id2label[int(x)] for x in pred[row, :length]]
                out.append([(tok.convert_tokens_to_string(tokens[s:e + 1]), t)
                            for s, e, t in decode_bio(tokens, labels)])
        return out

    def embed(self, texts: Sequence[str]) -> Any:
        """[CLS] last hidden states ``(len(texts), d)`` (float32, on CPU), ``4 * batch_size`` per pass."""
        import torch

        parts = []
        step = 4 * self.batch_size
        for start in range(0, len(texts), step):
            enc = self.embed_tokenizer(list(texts[start:start + step]), truncation=True, padding=True,
                                       return_tensors="pt", max_length=ENTITY_MAX_LENGTH)
            with torch.inference_mode():
                hidden = self.embedder(**{k: v.to(self.device) for k, v in enc.items()}).last_hidden_state
            parts.append(hidden[:, 0, :].float().cpu())
        if not parts:
            return torch.zeros((0, self.embedder.config.hidden_size))
        return torch.cat(parts, dim=0)

    def entities(self, reports: Sequence[str]) -> list[ReportEntities]:
        """Entities of each report, one slot per input report, in input order."""
        sentences = [report_sentences(r) for r in reports]
        flat = [s for group in sentences for s in group]
        tagged = self.tag(flat)
        per_report: list[list[tuple[str, str]]] = []
        pos = 0
        for group in sentences:
            pairs: list[tuple[str, str]] = []
            for _ in group:
                pairs.extend(tagged[pos])
                pos += 1
            per_report.append(pairs)
        vectors = self.embed([text for pairs in per_report for text, _ in pairs])
        out: list[ReportEntities] = []
        pos = 0
        for group, pairs in zip(sentences, per_report, strict=True):
            out.append(ReportEntities(tuple(t for t, _ in pairs), tuple(k for _, k in pairs),
                                      vectors[pos:pos + len(pairs)], len(group)))
            pos += len(pairs)
        return out
