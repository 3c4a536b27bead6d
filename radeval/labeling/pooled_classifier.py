"""Back-end 1 from a raw PyTorch state dict: an encoder's pooled output followed by one linear layer.

CT-CLIP's report classifier (the one that produced CT-RATE's ``*_predicted_labels.csv``, released as
``models/RadBertClassifier.pth`` in the CT-RATE dataset repository) is not a ``from_pretrained``
folder but a ``torch.save`` of a module holding an encoder (``model.*``, RadBERT-RoBERTa-4m) and a
``classifier`` ``Linear(hidden, n_labels)`` applied to the encoder's ``pooler_output``.
``BertForSequenceClassification`` state dicts (``bert.*`` + ``classifier.*``) have the same
structure (dropout is inactive at inference), so both load here.

The encoder's *architecture and tokenizer* come from a ``from_pretrained`` folder or hub id (the
"base model"); every weight comes from the state dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from radeval.errors import InputError

#: Leading key components that name the encoder inside a state dict.
ENCODER_PREFIXES: tuple[str, ...] = ("model", "bert", "roberta", "encoder")


class PooledLinearClassifier(nn.Module):
    """``logits = Linear(encoder(...).pooler_output)``.

    Args:
        encoder: a transformers base model with a pooler.
        n_outputs: number of labels of the head.
    """

    def __init__(self, encoder: nn.Module, n_outputs: int) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.classifier = nn.Linear(hidden, n_outputs)
        self.config = encoder.config

    def forward(self, **inputs: torch.Tensor) -> Any:
        from transformers.modeling_outputs import SequenceClassifierOutput

        pooled = self.encoder(**inputs).pooler_output
        return SequenceClassifierOutput(logits=self.classifier(pooled))


def _split_state_dict(state: dict[str, torch.Tensor], path: Path) -> tuple[dict[str, torch.Tensor],
                                                                          dict[str, torch.Tensor]]:
    encoder: dict[str, torch.Tensor] = {}
    head: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        first, _, rest = key.partition(".")
        if first == "classifier":
            head[rest] = value
        elif first in ENCODER_PREFIXES:
            encoder[rest] = value
        elif first == "module":  # saved from DataParallel: strip one level and retry
            inner_enc, inner_head = _split_state_dict({rest: value}, path)
            encoder.update(inner_enc)
            head.update(inner_head)
        else:
            raise InputError(f"{path}: unexpected state-dict key {key!r} (expected {ENCODER_PREFIXES} "
                             f"or 'classifier' prefixes)")
    if set(head) != {"weight", "bias"}:
        raise InputError(f"{path}: no linear 'classifier' head (found classifier keys {sorted(head)})")
    return encoder, head


def load_pooled_classifier(checkpoint: Path, base: Path) -> PooledLinearClassifier:
    """Build the encoder from ``base``'s config and load every weight from ``checkpoint``.

    Raises:
        InputError: an unreadable checkpoint, keys that do not fit the encoder (listed), no head.
    """
    from transformers import AutoConfig, AutoModel

    try:
        state = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle errors, truncated files, non-tensor payloads
        raise InputError(f"{checkpoint}: cannot read a PyTorch state dict ({type(exc).__name__}: {exc})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"{checkpoint}: expected a dict of tensors")
    encoder_state, head_state = _split_state_dict(state, checkpoint)
    config = AutoConfig.from_pretrained(str(base))
    encoder = AutoModel.from_config(config)
    if getattr(encoder, "pooler", None) is None:
        raise InputError(f"{base}: the base model has no pooler; a pooled-output classifier needs one")
    model = PooledLinearClassifier(encoder, int(head_state["weight"].shape[0]))
    result = encoder.load_state_dict(encoder_state, strict=False)
    unexpected = [k for k in result.unexpected_keys if not k.endswith("position_ids")]
    missing = [k for k in result.missing_keys if not k.endswith("position_ids")]
    if missing or unexpected:
        raise InputError(f"{checkpoint} does not fit the encoder of {base}: missing {missing[:8]}, "
                         f"unexpected {unexpected[:8]}")
    model.classifier.load_state_dict(head_state)
    return model.eval()
