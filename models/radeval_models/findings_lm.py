"""The offline demo's stand-in report LLM: a small LLaMA pretrained to write a phantom report from a findings list.

DEMO-ONLY RECONSTRUCTION (issue 15 item 2), not part of any paper. The frozen-LLM methods (RAD3D-Prefix V-2/V-3,
MRG-LLM) and the LoRA-adapted ones (R2GenGPT, Ker-VLJEPA) rely on an LLM that already writes radiology text and
follows its context; the image side only has to steer it. The one LLM shipped offline, SmolLM2-135M-Instruct, knows
neither the phantom report corpus nor how to be steered by a few prefix vectors inside the demo's 10-minute,
2-core budget: every SmolLM2 system looped or copied one report (benchmarks/RESULTS.md). A small LLaMA trained on
the phantom reports alone does not help either: the phantom findings are drawn independently, so such a model
learns that nothing earlier in a report predicts a finding and has no pathway a prefix could use (V-3 with the
*true* labels as priors still wrote 2-13 distinct reports of 42).

So the stand-in is pretrained the way an instruction-following radiology LLM would have learned to write from
context: on ``Findings: <positive labels>.\\n<report>`` texts (:func:`findings_header`), drawn from fresh phantoms
with a seed disjoint from every evaluated dataset's (:func:`radeval.data.phantom_corpus.phantom_report_corpus`).
The generators then use it exactly as their papers use an LLM: frozen behind a learned prefix (V-2/V-3, MRG-LLM) or
adapted with LoRA (R2GenGPT, Ker-VLJEPA); no generator ever sees a findings header, only image-derived inputs.

Built once per configuration and cached as a plain HF model directory ``$RADEVAL_HOME/llm/findings-lm-<key>``;
its LLM spec is that folder's name (``findings-lm-<key>``, resolved by :mod:`radeval_models.llm`).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from radeval.errors import InputError
from radeval.paths import radeval_home

#: Bumped when the training texts or the procedure change (part of the cache key).
FORMAT_VERSION = 1

#: LLM specs of built stand-ins: ``findings-lm-`` + a 20-hex-digit key.
SPEC_PATTERN = re.compile(r"^findings-lm-[0-9a-f]{20}$")

#: The file written beside the weights: settings, corpus size, loss curve, provenance.
META_FILE = "findings_lm.json"


@dataclass(frozen=True)
class FindingsLMConfig:
    """How the stand-in report LLM is built.

    Attributes:
        reports: corpus size (phantom reports, one per patient).
        corpus_seed: phantom seed of the corpus; must differ from every evaluated dataset's seed (the bench uses
            the dataset seed + :data:`radeval.bench.findings_lm.CORPUS_SEED_OFFSET`).
        corpus_options: phantom options shaping the reports (``labels``, ``negation_rate``, ``prevalence``).
        hidden_size: model width.
        num_layers: decoder layers.
        num_heads: attention heads (key/value heads: half).
        vocab_size: byte-level BPE vocabulary trained on the corpus.
        steps: AdamW steps.
        batch_size: texts per step.
        lr: peak learning rate (linear warm-up over a tenth of the steps, at most 50, then cosine to 0).
        seed: weight initialisation and shuffling seed.
    """

    reports: int = 2000
    corpus_seed: int = 2_000_003
    corpus_options: Mapping[str, Any] = field(default_factory=dict)
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 2
    vocab_size: int = 1000
    steps: int = 400
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("hidden_size", "num_layers", "num_heads", "steps", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"findings LM: {name}={getattr(self, name)} must be >= 1")
        if self.reports < 2:
            raise InputError(f"findings LM: reports={self.reports}; at least 2")
        if self.hidden_size % self.num_heads:
            raise InputError(f"findings LM: hidden_size={self.hidden_size} is not a multiple of "
                             f"num_heads={self.num_heads}")
        if self.vocab_size < 300:
            raise InputError(f"findings LM: vocab_size={self.vocab_size}; at least 300 (256 bytes + merges)")
        if not self.lr > 0:
            raise InputError(f"findings LM: lr={self.lr} must be > 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (what keys the cache)."""
        out = asdict(self)
        out["corpus_options"] = {k: (list(v) if isinstance(v, tuple) else v)
                                 for k, v in sorted(dict(self.corpus_options).items())}
        return out

    @property
    def warmup(self) -> int:
        """Warm-up steps: a tenth of the steps, at most 50."""
        return min(50, max(1, self.steps // 10))


def findings_header(positives: Sequence[str]) -> str:
    """The context line the stand-in learns to write a report from: the positive labels, lower case, in order.

    Example:
        >>> findings_header(["Emphysema", "Lung nodule"]), findings_header([])
        ('Findings: emphysema, lung nodule.\\n', 'Findings: none.\\n')
    """
    listed = ", ".join(p.lower() for p in positives) if positives else "none"
    return f"Findings: {listed}.\n"


def findings_lm_key(config: FindingsLMConfig) -> str:
    """Content key of a build: settings + :data:`FORMAT_VERSION` (20 hex digits).

    Example:
        >>> findings_lm_key(FindingsLMConfig()) == findings_lm_key(FindingsLMConfig()), len(findings_lm_key(FindingsLMConfig()))
        (True, 20)
    """
    import hashlib

    blob = json.dumps({"format": FORMAT_VERSION, "config": config.to_dict()}, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:20]


def findings_lm_spec(config: FindingsLMConfig) -> str:
    """The LLM spec of the stand-in built from ``config``: ``findings-lm-<key>``."""
    return f"findings-lm-{findings_lm_key(config)}"


def _folder(spec: str) -> Path:
    """``$RADEVAL_HOME/llm/<spec>`` (built or not)."""
    return radeval_home() / "llm" / spec


def is_built(spec: str) -> bool:
    """Whether the stand-in of ``spec`` is complete on this machine (its build record is written into the staging
    folder last and the folder renamed into place, so a present record means every file is there)."""
    return (_folder(spec) / META_FILE).is_file()


def built_llm_dir(spec: str) -> Path:
    """Where the stand-in of ``spec`` lives: ``$RADEVAL_HOME/llm/<spec>``.

    Raises:
        InputError: ``spec`` is not a stand-in spec, or it was never built on this machine.
    """
    if not SPEC_PATTERN.match(spec):
        raise InputError(f"{spec!r} is not a stand-in report LLM spec (findings-lm-<20 hex digits>)")
    path = _folder(spec)
    if not is_built(spec):
        raise InputError(f"LLM {spec!r}: the stand-in report LLM is built by a suite's findings_lm section "
                         f"(`radeval bench`) and is not in {path.parent}; run the suite that built it")
    return path


def build_findings_lm(config: FindingsLMConfig, *, progress: bool = False) -> str:
    """Build the stand-in (or find it cached) and return its LLM spec.

    The folder is written under a temporary name and renamed when complete, so an interrupted build is redone,
    never half-used.

    Args:
        config: :class:`FindingsLMConfig`.
        progress: show a progress bar over the training steps.
    """
    import torch
    from transformers import LlamaForCausalLM

    from radeval.data.phantom_corpus import phantom_report_corpus
    from radeval_models.lm_pretrain import pretrain_causal_lm
    from radeval_models.tiny_llm import small_llama_config, train_bpe_tokenizer

    spec = findings_lm_spec(config)
    if is_built(spec):
        return spec
    target = _folder(spec)
    corpus = phantom_report_corpus(config.reports, config.corpus_seed, options=config.corpus_options)
    texts = [findings_header(r.positives) + r.text for r in corpus]
    tokenizer = train_bpe_tokenizer(texts, config.vocab_size)
    torch.manual_seed(config.seed)
    model = LlamaForCausalLM(small_llama_config(tokenizer, hidden_size=config.hidden_size,
                                                num_layers=config.num_layers, num_heads=config.num_heads))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps, desc="stand-in report LLM", unit="step")

    def on_step(_step: int, loss: float) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")

    losses = pretrain_causal_lm(model, tokenizer, texts, steps=config.steps, lr=config.lr,
                                batch_size=config.batch_size, warmup=config.warmup, seed=config.seed,
                                on_step=on_step)
    if bar is not None:
        bar.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec}-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        tail = losses[-min(20, len(losses)):]
        meta = {"spec": spec, "format": FORMAT_VERSION, "config": config.to_dict(), "n_texts": len(texts),
                "loss_first": losses[0], "loss_last20_mean": sum(tail) / len(tail),
                "parameters": int(sum(p.numel() for p in model.parameters())),
                "provenance": "demo-only stand-in report LLM (radeval_models.findings_lm): a small LLaMA "
                              "pretrained on 'Findings: <labels>.' + phantom report texts of a disjoint seed"}
        (staging / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        if target.exists():  # a concurrent build finished first: keep it
            return spec
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return spec


def findings_lm_meta(spec: str) -> dict[str, Any]:
    """The build record (:data:`META_FILE`) of a built stand-in."""
    return json.loads((built_llm_dir(spec) / META_FILE).read_text(encoding="utf-8"))


__all__ = ["FORMAT_VERSION", "FindingsLMConfig", "META_FILE", "SPEC_PATTERN", "build_findings_lm", "built_llm_dir",
           "findings_header", "findings_lm_key", "findings_lm_meta", "findings_lm_spec", "is_built"]
